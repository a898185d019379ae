//! Batch create and batch cancel on the V2 event-order endpoints.

use super::rest::{Call, error_parts};
use super::{KalshiVenue, LookUp, MAX_BATCH, check_order, check_order_id, v2};
use crate::venue::{OrderAck, OrderRequest, VenueError};

impl KalshiVenue {
    /// `POST /portfolio/events/orders/batched`, in chunks of [`MAX_BATCH`]; an unanswered
    /// batch, or an accepted item whose answer cannot be read, is settled order by order by
    /// look-up, never resent.
    pub(crate) fn batch_create(
        &mut self,
        orders: &[OrderRequest],
    ) -> Vec<Result<OrderAck, VenueError>> {
        let mut out = Vec::with_capacity(orders.len());
        for chunk in orders.chunks(MAX_BATCH) {
            if let Some(e) = chunk.iter().find_map(|o| check_order(o).err()) {
                out.extend(chunk.iter().map(|_| Err(e.clone())));
                continue;
            }
            let body = v2::batch_create_body(chunk);
            let sent = self.rest.send(&Call {
                method: "POST",
                path: v2::BATCHED,
                query: "",
                body: Some(&body),
                items: chunk.len(),
                retry_ambiguous: false,
            });
            let answered = match sent {
                Ok(r) if r.ok() => r.json().and_then(|v| {
                    v2::batch_items(&v, chunk.len(), "POST /portfolio/events/orders/batched")
                }),
                Ok(r) => {
                    let e = r.error();
                    out.extend(chunk.iter().map(|_| Err(e.clone())));
                    continue;
                }
                Err(f) if !f.maybe_sent => {
                    out.extend(chunk.iter().map(|_| Err(f.error.clone())));
                    continue;
                }
                Err(f) => Err(f.error),
            };
            match answered {
                Ok(items) => {
                    for (o, item) in chunk.iter().zip(items) {
                        out.push(match item.get("error").filter(|e| !e.is_null()) {
                            Some(e) => {
                                let (code, reason) = error_parts(&e.to_string());
                                Err(VenueError::Rejected {
                                    endpoint: format!("POST {}", v2::BATCHED),
                                    status: 400,
                                    code,
                                    reason,
                                })
                            }
                            // Booked, but an item we cannot read is no answer: look it up.
                            None => v2::parse_create_answer(&item, &o.client_order_id)
                                .or_else(|e| self.settle_by_look_up(o, &e)),
                        });
                    }
                }
                // No clear answer for the batch: settle every order by look-up, never resend.
                Err(e) => {
                    for o in chunk {
                        out.push(self.settle_by_look_up(o, &e));
                    }
                }
            }
        }
        out
    }

    /// A batched order without a clear answer (`why`): found by look-up, else unresolved
    /// (batches are never resent).
    fn settle_by_look_up(
        &mut self,
        o: &OrderRequest,
        why: &VenueError,
    ) -> Result<OrderAck, VenueError> {
        match self.look_up(&o.ticker, &o.client_order_id) {
            LookUp::Found(ack) => Ok(ack),
            _ => Err(VenueError::Unresolved {
                client_order_id: o.client_order_id.clone(),
                detail: why.to_string(),
            }),
        }
    }

    /// `DELETE /portfolio/events/orders/batched`, in chunks of [`MAX_BATCH`].
    pub(crate) fn batch_cancel(
        &mut self,
        orders: &[(String, String)],
    ) -> Vec<Result<(), VenueError>> {
        let mut out = Vec::with_capacity(orders.len());
        for chunk in orders.chunks(MAX_BATCH) {
            if let Some(e) = chunk.iter().find_map(|(_, id)| check_order_id(id).err()) {
                out.extend(chunk.iter().map(|_| Err(e.clone())));
                continue;
            }
            let ids: Vec<&str> = chunk.iter().map(|(_, id)| id.as_str()).collect();
            let body = v2::batch_cancel_body(&ids);
            let endpoint = format!("DELETE {}", v2::BATCHED);
            let answer = self
                .rest
                .send(&Call {
                    method: "DELETE",
                    path: v2::BATCHED,
                    query: "",
                    body: Some(&body),
                    items: chunk.len(),
                    retry_ambiguous: true,
                })
                .map_err(|f| f.error)
                .and_then(|r| if r.ok() { r.json() } else { Err(r.error()) })
                .and_then(|v| v2::batch_items(&v, chunk.len(), &endpoint));
            match answer {
                Ok(items) => out.extend(items.iter().map(|item| {
                    match item.get("error").filter(|e| !e.is_null()) {
                        None => Ok(()),
                        Some(e) => {
                            let (code, reason) = error_parts(&e.to_string());
                            if code.contains("not_found") {
                                Err(VenueError::NotFound(format!("{endpoint}: {reason}")))
                            } else {
                                Err(VenueError::Rejected {
                                    endpoint: endpoint.clone(),
                                    status: 400,
                                    code,
                                    reason,
                                })
                            }
                        }
                    }
                })),
                Err(e) => out.extend(chunk.iter().map(|_| Err(e.clone()))),
            }
        }
        out
    }
}
