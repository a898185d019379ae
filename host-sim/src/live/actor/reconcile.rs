//! Reconciliation with the venue and the cancel-everything path of the kill switch.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::{Actor, LiveVenue};
use crate::venue::VenueError;

impl<V: LiveVenue> Actor<V> {
    /// Compare positions, balance and working orders with the venue; log differences; on a
    /// live venue adopt the venue's numbers. Orders in our markets that we do not track are
    /// cancelled (one working order per market). Returns whether it completed.
    pub fn reconcile(&mut self) -> bool {
        let answer = (|| -> Result<_, VenueError> {
            Ok((
                self.venue.positions()?,
                self.venue.balance()?,
                self.venue.working_orders()?,
            ))
        })();
        let (positions, balance, working) = match answer {
            Ok(x) => x,
            Err(e) => {
                self.note(json!({"kind": "reconcile", "error": e.to_string()}));
                self.venue_failed();
                return false;
            }
        };
        let live = self.venue.is_live();
        let venue_pos: HashMap<&str, i64> = positions
            .iter()
            .map(|p| (p.ticker.as_str(), p.position_contracts))
            .collect();
        let mut diffs = Vec::new();
        for m in &mut self.markets {
            let theirs = venue_pos.get(m.ticker.as_str()).copied().unwrap_or(0);
            let ours = if live {
                m.venue_position
            } else {
                m.engine.account().position()
            };
            if ours != theirs {
                diffs.push(json!({"ticker": m.ticker, "field": "position",
                    "ours": ours, "venue": theirs}));
            }
            m.venue_position = theirs;
        }
        let ours_cash = if live {
            self.venue_cash
        } else {
            self.markets
                .iter()
                .map(|m| m.engine.account().cash().0)
                .sum()
        };
        if ours_cash != balance.0 {
            // On a live venue our cash is an estimate between reconciliations.
            diffs.push(
                json!({"field": "balance", "ours": ours_cash, "venue": balance.0,
                "estimated": live}),
            );
        }
        self.venue_cash = balance.0;
        // Working orders: forget ours that are gone, cancel ones we do not track.
        let listed: HashSet<&str> = working.iter().map(|w| w.order_id.as_str()).collect();
        for m in &mut self.markets {
            if let Some(id) = &m.working
                && !listed.contains(id.as_str())
            {
                m.working = None;
                if live {
                    m.engine.cancel_working();
                }
            }
        }
        let mut orphans = Vec::new();
        for w in &working {
            let Some(&i) = self.index.get(&w.ticker) else {
                continue;
            };
            if self.markets[i].working.as_deref() != Some(w.order_id.as_str()) {
                orphans.push((w.ticker.clone(), w.order_id.clone()));
            }
        }
        for (ticker, id) in orphans {
            let r = self.venue.cancel_order(&ticker, &id);
            diffs.push(
                json!({"ticker": ticker, "field": "untracked_order", "order_id": id,
                "cancelled": r.is_ok() || matches!(r, Err(VenueError::NotFound(_)))}),
            );
        }
        // Executions since the previous reconciliation (the first call returns the account's
        // history, which is not ours to log). A failure here only loses the audit line.
        let first = self.report.reconciliations == 0;
        if let Ok(fills) = self.venue.fills()
            && !first
            && !fills.is_empty()
        {
            let list: Vec<Value> = fills
                .iter()
                .filter(|f| self.index.contains_key(&f.ticker))
                .map(|f| {
                    json!({"fill_id": f.fill_id, "order_id": f.order_id, "ticker": f.ticker,
                        "contract": f.contract.name(), "action": f.action.name(),
                        "count": f.count.0, "price": f.price.cents(), "taker": f.is_taker})
                })
                .collect();
            self.note(json!({"kind": "fills", "fills": list}));
        }
        self.report.reconciliations += 1;
        self.report.discrepancies += diffs.len() as u64;
        self.needs_reconcile = false;
        let positions: Value = positions
            .iter()
            .map(|p| (p.ticker.clone(), Value::from(p.position_contracts)))
            .collect::<serde_json::Map<_, _>>()
            .into();
        self.note(json!({"kind": "reconcile", "positions": positions,
            "balance": balance.0, "working_orders": working.len(), "discrepancies": diffs}));
        true
    }

    /// Cancel every working order in our markets (kill switch and end of run).
    pub(super) fn cancel_all(&mut self) {
        let mut targets: Vec<(String, String)> = match self.venue.working_orders() {
            Ok(list) => list
                .into_iter()
                .filter(|w| self.index.contains_key(&w.ticker))
                .map(|w| (w.ticker, w.order_id))
                .collect(),
            Err(_) => Vec::new(),
        };
        for m in &self.markets {
            if let Some(id) = &m.working
                && !targets.iter().any(|(_, o)| o == id)
            {
                targets.push((m.ticker.clone(), id.clone()));
            }
        }
        let mut results = Vec::new();
        for (ticker, id) in targets {
            let r = self.venue.cancel_order(&ticker, &id);
            let ok = r.is_ok();
            if ok {
                self.report.cancelled_on_stop += 1;
            }
            results.push(json!({"ticker": ticker, "order_id": id, "cancelled": ok,
                "error": r.err().map(|e| e.to_string())}));
        }
        for m in &mut self.markets {
            m.working = None;
            m.engine.cancel_working();
        }
        self.note(json!({"kind": "cancel_all", "orders": results}));
    }
}
