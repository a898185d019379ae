//! Kalshi's wire format, read and written in one place.
//!
//! - [`fixed`]: the fixed-point strings (`"0.5600"` dollars, `"12.50"` contracts), parsed
//!   and formatted without floats;
//! - `market`: market-data messages — order-book snapshot and delta, market lifecycle, the
//!   REST order book — and kalsim's forecast message, decoded by the replay loader and by
//!   the WebSocket client with the same typed decoders;
//! - `orders` (feature `live`): order, fill and position objects of the REST API and the
//!   user channels, read tolerantly (unknown fields and statuses accepted and reported);
//! - `time`: exchange timestamps.
//!
//! A capture recorded by `kalsim record` and a live feed therefore go through the same
//! code: what replay accepts, the live actor accepts, with the same numbers.

pub mod fixed;
pub(crate) mod market;
#[cfg(feature = "live")]
pub(crate) mod orders;
pub(crate) mod time;

/// Market-data message bodies from a `serde_json::Value`, with the decoders the replay loader
/// and the WebSocket client use (for hosts and tools that hold JSON values, such as the
/// loopback exchange).
pub mod market_json {
    use kalsim_core::{OrderBook, Price, Side};
    use serde::Deserialize;
    use serde_json::Value;

    use super::market::{self, Msg, SubCent};
    use crate::data::DataErrorKind;

    /// A book from a snapshot-like body (`yes_dollars_fp` / `yes_dollars` / legacy `yes`,
    /// and the NO side), and the sub-cent levels skipped; the error names the field.
    pub fn book(body: &Value) -> Result<(OrderBook, u64), String> {
        let msg = Msg::deserialize(body).map_err(|e| format!("bad order book: {e}"))?;
        market::book(&msg, "msg", SubCent::Skip).map_err(|e| format!("{}: {}", e.field, e.kind))
    }

    /// An `orderbook_delta` body as `(side, price, signed centi-contracts)`; `None` for a
    /// sub-cent price (a deci-cent market's level, skipped).
    pub fn delta(body: &Value) -> Result<Option<(Side, Price, i64)>, String> {
        let msg = Msg::deserialize(body).map_err(|e| format!("bad delta: {e}"))?;
        match market::delta(&msg) {
            Ok(d) => Ok(Some((d.side, d.price, d.delta_centi))),
            Err(e) if matches!(e.kind, DataErrorKind::SubCentPrice { .. }) => Ok(None),
            Err(e) => Err(format!("{}: {}", e.field, e.kind)),
        }
    }
}
