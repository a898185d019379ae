//! The client's settings and what it reports.

use std::time::Duration;

use kalsim_core::{Price, Side};

use super::{Fill, LifecycleEvent, OrderUpdate};

/// Which channels to follow besides `orderbook_delta`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Channels {
    /// The user's `fill` channel.
    pub fills: bool,
    /// The user's `user_orders` channel.
    pub user_orders: bool,
    /// `market_lifecycle_v2` (all markets; the client keeps those it follows).
    pub lifecycle: bool,
    /// Public `trade`s of the followed markets (recording).
    pub trades: bool,
}

impl Channels {
    /// Everything the live actor needs: fills, orders and lifecycle.
    pub const TRADING: Channels = Channels {
        fills: true,
        user_orders: true,
        lifecycle: true,
        trades: false,
    };
}

/// Settings of a [`MarketDataClient`](super::MarketDataClient).
#[derive(Clone, Debug)]
pub struct MarketDataConfig {
    /// WebSocket URL ending in `/trade-api/ws/v2`.
    pub url: String,
    /// Markets to follow.
    pub tickers: Vec<String>,
    /// Timeout for connecting and for the handshake.
    pub connect_timeout: Duration,
    /// Reconnect attempts after a disconnect before giving up.
    pub max_reconnect_attempts: u32,
    /// Pause between reconnect attempts (doubles each time).
    pub reconnect_backoff: Duration,
    /// Extra channels.
    pub channels: Channels,
    /// Keep the text of every data frame (snapshots, deltas, trades, lifecycle) for
    /// [`MarketDataClient::drain_raw`](super::MarketDataClient::drain_raw) (recording).
    pub keep_raw: bool,
}

impl MarketDataConfig {
    /// Settings for `url` and `tickers` with a 10 s connect timeout, 5 reconnect attempts,
    /// book channel only.
    pub fn new(url: impl Into<String>, tickers: Vec<String>) -> MarketDataConfig {
        MarketDataConfig {
            url: url.into(),
            tickers,
            connect_timeout: Duration::from_secs(10),
            max_reconnect_attempts: 5,
            reconnect_backoff: Duration::from_millis(200),
            channels: Channels::default(),
            keep_raw: false,
        }
    }
}

/// What one `next_update` call observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookUpdate {
    /// A snapshot replaced a market's book; it is now in sync.
    Snapshot {
        /// Market ticker.
        ticker: String,
        /// Sequence number of the message.
        seq: u64,
        /// Exchange time of the message (`ts_ms`, or `ts` as RFC 3339), milliseconds.
        ts_ms: Option<i64>,
        /// Sub-cent levels left out of the book (deci-cent markets).
        skipped_sub_cent: u64,
    },
    /// A delta changed one level.
    Delta {
        /// Market ticker.
        ticker: String,
        /// Sequence number of the message.
        seq: u64,
        /// Ladder changed.
        side: Side,
        /// Level price, cents.
        price: Price,
        /// Signed change in centi-contracts.
        delta_centi: i64,
        /// Exchange time of the message (`ts_ms`, or `ts` as RFC 3339), milliseconds.
        ts_ms: Option<i64>,
    },
    /// A delta at a sub-cent price was skipped (the core's book has no such level).
    SubCentSkipped {
        /// Market ticker.
        ticker: String,
    },
    /// A sequence gap: the subscription was retired and fresh snapshots requested.
    Gap {
        /// Subscription id.
        sid: u64,
        /// The seq expected.
        expected: u64,
        /// The seq received.
        seen: u64,
    },
    /// A book message could not be applied; the market resubscribes for a fresh snapshot.
    Resync {
        /// Market ticker.
        ticker: String,
        /// Why.
        reason: String,
    },
    /// The connection dropped and was re-established; snapshots follow.
    Reconnected,
    /// A fill of ours (`fill` channel).
    Fill(Fill),
    /// An order of ours changed (`user_orders` channel).
    Order(OrderUpdate),
    /// A followed market's lifecycle changed (`market_lifecycle_v2`).
    Lifecycle(LifecycleEvent),
    /// A message that could not be read (kept for the log; the stream goes on).
    Unparsed {
        /// The message `type`.
        kind: String,
        /// Why.
        error: String,
    },
}
