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
