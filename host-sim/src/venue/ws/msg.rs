//! What the WebSocket client surfaces besides book changes: the user's fills and order
//! updates, and market lifecycle events, read tolerantly from their messages.

use kalsim_core::{Contracts, Side};
use serde::Deserialize;
use serde_json::Value;

use crate::wire::market::{self, Msg};

use super::super::{Fill, OrderStatus, VenueError};
use crate::wire::orders::{count_field, parse_fill, proto, status_of, str_field};

/// A `user_order` message (channel `user_orders`): an order of ours was created or changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderUpdate {
    /// Venue order id.
    pub order_id: String,
    /// Client order id.
    pub client_order_id: String,
    /// Market ticker.
    pub ticker: String,
    /// Status now.
    pub status: OrderStatus,
    /// Contracts still working.
    pub remaining: Contracts,
    /// Contracts filled so far.
    pub filled: Contracts,
}

/// A `market_lifecycle_v2` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifecycleEvent {
    /// Market ticker.
    pub ticker: String,
    /// `event_type`: `created`, `activated`, `deactivated`, `close_date_updated`,
    /// `determined`, `settled`, or one this client does not know (kept as given).
    pub event_type: String,
    /// `close_ts` (Unix seconds), when the message carries one.
    pub close_ts: Option<i64>,
    /// The determined result (`result` yes/no), when the message carries one.
    pub result: Option<Side>,
    /// `is_deactivated`, when the message carries it.
    pub is_deactivated: Option<bool>,
}

/// Read a `fill` message body.
pub(crate) fn fill(msg: &Value) -> Result<Fill, VenueError> {
    parse_fill(msg)
}

/// Read a `user_order` message body.
pub(crate) fn order_update(
    msg: &Value,
    warnings: &mut Vec<String>,
) -> Result<OrderUpdate, VenueError> {
    let remaining = count_field(msg, "remaining_count")?.unwrap_or(Contracts::ZERO);
    let filled = count_field(msg, "fill_count")?.unwrap_or(Contracts::ZERO);
    Ok(OrderUpdate {
        order_id: str_field(msg, "order_id")?.to_owned(),
        client_order_id: msg
            .get("client_order_id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        ticker: msg
            .get("ticker")
            .or_else(|| msg.get("market_ticker"))
            .and_then(Value::as_str)
            .ok_or_else(|| proto("user_order without ticker"))?
            .to_owned(),
        status: status_of(
            msg.get("status").and_then(Value::as_str).unwrap_or(""),
            warnings,
        ),
        remaining,
        filled,
    })
}

/// Read a `market_lifecycle_v2` message body with the replay loader's decoder.
pub(crate) fn lifecycle(msg: &Value) -> Result<LifecycleEvent, VenueError> {
    let body = Msg::deserialize(msg).map_err(|e| proto(format!("bad lifecycle: {e}")))?;
    let ticker = body
        .market_ticker
        .as_deref()
        .ok_or_else(|| proto("missing string field \"market_ticker\""))?
        .to_owned();
    let l = market::lifecycle(&body).map_err(|e| proto(format!("{}: {}", e.field, e.kind)))?;
    Ok(LifecycleEvent {
        ticker,
        event_type: l.event_type,
        close_ts: l.close_ts_s,
        result: l.result,
        is_deactivated: l.is_deactivated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_channels_and_lifecycle_read_tolerantly() {
        let mut w = Vec::new();
        let u = order_update(
            &json!({"order_id": "o1", "client_order_id": "c1", "ticker": "T",
                "status": "canceled", "remaining_count_fp": "0.00", "fill_count_fp": 2.0,
                "new_field": [1, 2]}),
            &mut w,
        )
        .unwrap();
        assert_eq!((u.status, u.filled), (OrderStatus::Canceled, Contracts(2)));
        let l = lifecycle(&json!({"market_ticker": "T", "event_type": "determined",
            "result": "yes", "determination_ts": 1_700_000_000}))
        .unwrap();
        assert_eq!(
            (l.event_type.as_str(), l.result),
            ("determined", Some(Side::Yes))
        );
        let l = lifecycle(
            &json!({"market_ticker": "T", "event_type": "close_date_updated",
            "close_ts": "1700000000"}),
        )
        .unwrap();
        assert_eq!(l.close_ts, Some(1_700_000_000));
        assert!(lifecycle(&json!({"event_type": "settled"})).is_err());
    }
}
