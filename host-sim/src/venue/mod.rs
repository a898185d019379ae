//! Venues: where orders go. A strategy talks to a [`Venue`] and runs unchanged whether the
//! venue is simulated (a paper or replay venue) or live ([`KalshiVenue`], Kalshi's Trade API
//! v2 with the V2 event-order endpoints of SPEC §12).
//!
//! Prices here are **contract prices** in cents (a NO order at 44¢ carries `price = 44`);
//! [`intent_to_order`] maps a kalsim [`Intent`](kalsim_core::Intent) onto the contract traded
//! and onto the single YES book Kalshi matches on (SPEC §3), and the Kalshi venue sends the
//! YES-book form (`side` bid/ask, `price` in fixed-point dollars).
//!
//! Everything in this module is behind the `live` feature (std, blocking I/O); the loopback
//! test exchange is the `kalsim-exchange` crate (`host-sim/exchange`), never shipped.

use std::fmt;

use kalsim_core::{Cents, Contracts, Price, Side};

pub mod auth;
pub mod kalshi;
pub mod market;
pub mod order;
pub mod paper;
pub mod ratelimit;
pub mod sim;
pub mod ws;

pub use auth::{Credentials, RequestSigner};
pub use kalshi::{Environment, KalshiConfig, KalshiVenue};
pub use market::{MarketInfo, MarketStatus, PriceRange};
pub use order::{
    BookSide, OrderAction, OrderMapping, OrderOptions, OrderRequest, SelfTradePrevention,
    TimeInForce, intent_to_order, signed_count, valid_client_order_id,
};
pub use paper::PaperVenue;
pub use ratelimit::{EndpointCosts, RateLimits, RateTier, RetryPolicy, TokenBudget};
pub use sim::SimVenue;
pub use ws::{BookUpdate, LifecycleEvent, MarketDataClient, MarketDataConfig, OrderUpdate};

/// Lifecycle state of an order as the venue reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Working on the book.
    Resting,
    /// Fully filled (or, for immediate-or-cancel, done: filled what it could).
    Executed,
    /// Cancelled (possibly after partial fills).
    Canceled,
    /// Accepted but not yet on the book.
    Pending,
    /// A status this client does not know (accepted and reported as a warning).
    Unknown,
}

impl OrderStatus {
    /// The wire name (`unknown` for [`OrderStatus::Unknown`]).
    pub const fn name(self) -> &'static str {
        match self {
            OrderStatus::Resting => "resting",
            OrderStatus::Executed => "executed",
            OrderStatus::Canceled => "canceled",
            OrderStatus::Pending => "pending",
            OrderStatus::Unknown => "unknown",
        }
    }

    /// Whether the exchange will not change the order any more.
    pub const fn is_terminal(self) -> bool {
        matches!(self, OrderStatus::Executed | OrderStatus::Canceled)
    }
}

/// The venue's answer to a placed order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderAck {
    /// Venue order id.
    pub order_id: String,
    /// The request's client order id.
    pub client_order_id: String,
    /// Status right after placement.
    pub status: OrderStatus,
    /// Contracts filled on placement.
    pub filled: Contracts,
    /// Contracts still working.
    pub remaining: Contracts,
}

/// An order still working on the book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingOrder {
    /// Venue order id.
    pub order_id: String,
    /// Client order id it was placed with.
    pub client_order_id: String,
    /// Market ticker.
    pub ticker: String,
    /// Contract traded.
    pub contract: Side,
    /// Buy or sell.
    pub action: OrderAction,
    /// Limit price of the contract traded, cents.
    pub price: Price,
    /// Contracts still working.
    pub remaining: Contracts,
}

/// Net position in one market.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PositionInfo {
    /// Market ticker.
    pub ticker: String,
    /// Signed position in whole contracts (+n YES, −n NO, SPEC §5), truncated toward zero when
    /// the venue reports a fractional position (see `position_centi`).
    pub position_contracts: i64,
    /// The exact signed position, centi-contracts (a fractional-trading market may hold
    /// fractions; the core cannot, so such a market is refused for trading).
    pub position_centi: i64,
}

/// One execution of one of our orders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fill {
    /// Venue fill id (`trade_id` / `fill_id`, unique per fill).
    pub fill_id: String,
    /// Order it belongs to.
    pub order_id: String,
    /// Market ticker.
    pub ticker: String,
    /// Contract traded.
    pub contract: Side,
    /// Buy or sell.
    pub action: OrderAction,
    /// Contracts filled.
    pub count: Contracts,
    /// Fill price of the contract traded, cents.
    pub price: Price,
    /// Whether we took liquidity.
    pub is_taker: bool,
    /// Fee charged on this fill (`fee_cost`), cents, rounded **up** to the next whole cent
    /// when the venue reports a finer fee (Kalshi rounds trade fees to $0.0001).
    pub fee_cents: i64,
    /// The same fee exactly, micro-dollars (1¢ = 10 000); `fee_cents × 10 000` whenever the
    /// fee is a whole number of cents.
    pub fee_micros: i64,
}

impl Fill {
    /// Signed position change, contracts (+YES / −NO).
    pub fn signed_count(&self) -> i64 {
        signed_count(self.contract, self.action, self.count.0)
    }
}

/// Why a venue call failed. HTTP-level errors name the endpoint (`METHOD /path`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VenueError {
    /// The venue kept answering 429 after every retry.
    RateLimited {
        /// `METHOD /path`.
        endpoint: String,
    },
    /// A non-success HTTP answer that is not one of the kinds below (5xx after retries).
    Http {
        /// `METHOD /path`.
        endpoint: String,
        /// HTTP status code.
        status: u16,
        /// The venue's error (code: message), truncated.
        body: String,
    },
    /// 410 Gone: the endpoint is retired (Kalshi's `deprecated_v1_order_endpoint`).
    Deprecated {
        /// `METHOD /path`.
        endpoint: String,
        /// The venue's error (code: message).
        message: String,
    },
    /// No answer within the request timeout (after every retry) on a call that is safe to
    /// repeat; order submissions report [`VenueError::Unresolved`] instead.
    Timeout {
        /// `METHOD /path`.
        endpoint: String,
    },
    /// Credentials missing or refused (401/403), or the key could not be loaded.
    Auth(String),
    /// The venue refused the request (400, 409, 422 and other 4xx with a reason).
    Rejected {
        /// `METHOD /path`.
        endpoint: String,
        /// HTTP status code.
        status: u16,
        /// The venue's error code (`invalid_parameters`, `market_closed`, ...), may be empty.
        code: String,
        /// The venue's message.
        reason: String,
    },
    /// The order or resource does not exist (404).
    NotFound(String),
    /// An order submission got no clear answer and the look-ups could not settle whether it
    /// was booked. It is **not** a rejection: the order may be live; look it up again by its
    /// client order id before sending anything else in that market.
    Unresolved {
        /// The submission's client order id.
        client_order_id: String,
        /// The last failure, for the log.
        detail: String,
    },
    /// Connection failed or dropped.
    Transport(String),
    /// The venue answered something we could not understand.
    Protocol(String),
    /// Bad input from the caller (never sent).
    InvalidRequest(String),
    /// The kill switch stopped the call before it was sent again.
    Aborted(String),
}

impl VenueError {
    /// Whether the error says the market does not accept orders now (closed, paused,
    /// settled): the market stops trading, which is no fault of the connection.
    pub fn is_market_closed(&self) -> bool {
        matches!(self, VenueError::Rejected { code, .. }
            if matches!(code.as_str(), "market_closed" | "market_not_open" | "trading_paused"
                | "market_inactive" | "market_settled"))
    }

    /// Whether the market refused the order because trading there is paused (status
    /// `inactive`), which ends when the exchange reactivates it; a subset of
    /// [`is_market_closed`](Self::is_market_closed).
    pub fn is_market_paused(&self) -> bool {
        matches!(self, VenueError::Rejected { code, .. }
            if matches!(code.as_str(), "trading_paused" | "market_inactive"))
    }
}

impl fmt::Display for VenueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VenueError::RateLimited { endpoint } => {
                write!(
                    f,
                    "{endpoint}: rate limited by the venue (429) after retries"
                )
            }
            VenueError::Http {
                endpoint,
                status,
                body,
            } => write!(f, "{endpoint}: HTTP {status}: {body}"),
            VenueError::Deprecated { endpoint, message } => {
                write!(f, "{endpoint}: endpoint retired (HTTP 410): {message}")
            }
            VenueError::Timeout { endpoint } => write!(f, "{endpoint}: request timed out"),
            VenueError::Auth(m) => write!(f, "authentication failed: {m}"),
            VenueError::Rejected {
                endpoint,
                status,
                code,
                reason,
            } => write!(f, "{endpoint}: rejected (HTTP {status} {code}): {reason}"),
            VenueError::NotFound(m) => write!(f, "not found: {m}"),
            VenueError::Unresolved {
                client_order_id,
                detail,
            } => write!(
                f,
                "order {client_order_id} has no clear answer (it may be live): {detail}"
            ),
            VenueError::Transport(m) => write!(f, "transport error: {m}"),
            VenueError::Protocol(m) => write!(f, "protocol error: {m}"),
            VenueError::InvalidRequest(m) => write!(f, "invalid request: {m}"),
            VenueError::Aborted(m) => write!(f, "aborted by the kill switch: {m}"),
        }
    }
}

impl std::error::Error for VenueError {}

/// A place to trade: live (Kalshi), paper or simulated. Blocking; one strategy owns it.
pub trait Venue {
    /// Place a limit order. Retries are idempotent on `client_order_id`.
    fn place_order(&mut self, order: &OrderRequest) -> Result<OrderAck, VenueError>;
    /// Cancel a working order (`ticker` routes the cancel to the market's shard).
    fn cancel_order(&mut self, ticker: &str, order_id: &str) -> Result<(), VenueError>;
    /// Orders still working, all markets.
    fn working_orders(&mut self) -> Result<Vec<WorkingOrder>, VenueError>;
    /// Non-flat positions, all markets.
    fn positions(&mut self) -> Result<Vec<PositionInfo>, VenueError>;
    /// Available cash in cents.
    fn balance(&mut self) -> Result<Cents, VenueError>;
    /// Fills not returned by an earlier call. The first call returns the recent past only
    /// (a live venue: a short look-back, never the account's whole history), for the caller
    /// to mark seen: its starting state comes from the positions and the balance.
    fn fills(&mut self) -> Result<Vec<Fill>, VenueError>;
    /// Whether the last [`fills`](Venue::fills) call was cut short (too many to list) and
    /// may have left fills out: positions and cash must then be taken from the venue.
    /// Cleared by reading it.
    fn fills_truncated(&mut self) -> bool {
        false
    }

    /// Place several orders; one answer per order, in order.
    fn place_orders(&mut self, orders: &[OrderRequest]) -> Vec<Result<OrderAck, VenueError>> {
        orders.iter().map(|o| self.place_order(o)).collect()
    }
    /// Cancel a working order and say how many contracts the cancel took off the book
    /// (`reduced_by`) when the venue reports it.
    fn cancel_order_reduced(
        &mut self,
        ticker: &str,
        order_id: &str,
    ) -> Result<Option<Contracts>, VenueError> {
        self.cancel_order(ticker, order_id).map(|()| None)
    }
    /// Cancel several `(ticker, order_id)`s; one answer per order, in order.
    fn cancel_orders(&mut self, orders: &[(String, String)]) -> Vec<Result<(), VenueError>> {
        orders
            .iter()
            .map(|(t, id)| self.cancel_order(t, id))
            .collect()
    }
    /// The order placed with `client_order_id` in `ticker`, any status, if the venue has it.
    fn find_order(
        &mut self,
        ticker: &str,
        client_order_id: &str,
    ) -> Result<Option<OrderAck>, VenueError> {
        let _ = (ticker, client_order_id);
        Ok(None)
    }
    /// What the venue says about a market (price grid, status). Simulated venues trade every
    /// market on the cent grid.
    fn market_info(&mut self, ticker: &str) -> Result<MarketInfo, VenueError> {
        Ok(MarketInfo::cent_grid(ticker))
    }
    /// Notes about answers that were accepted but not fully understood (unknown statuses or
    /// fields), for the log; each is returned once.
    fn drain_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_display_and_name_the_endpoint() {
        let e = VenueError::Http {
            endpoint: "POST /portfolio/events/orders".into(),
            status: 503,
            body: "busy".into(),
        };
        assert_eq!(
            e.to_string(),
            "POST /portfolio/events/orders: HTTP 503: busy"
        );
        let e = VenueError::Deprecated {
            endpoint: "POST /portfolio/orders".into(),
            message: "deprecated_v1_order_endpoint: gone".into(),
        };
        assert!(e.to_string().contains("410") && e.to_string().contains("/portfolio/orders"));
        let closed = VenueError::Rejected {
            endpoint: "POST /portfolio/events/orders".into(),
            status: 400,
            code: "market_closed".into(),
            reason: "closed".into(),
        };
        assert!(closed.is_market_closed());
        assert!(!closed.is_market_paused());
        assert!(!e.is_market_closed());
        let paused = VenueError::Rejected {
            endpoint: "POST /portfolio/events/orders".into(),
            status: 400,
            code: "trading_paused".into(),
            reason: "paused".into(),
        };
        assert!(paused.is_market_closed() && paused.is_market_paused());
    }
}
