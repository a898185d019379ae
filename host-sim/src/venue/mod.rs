//! Venues: where orders go. A strategy talks to a [`Venue`] and runs unchanged whether the
//! venue is simulated (a paper or replay venue) or live ([`KalshiVenue`], Kalshi's Trade API v2).
//!
//! Prices here are **contract prices** in cents (a NO order at 44¢ carries `price = 44`), as
//! Kalshi's order entry takes them; [`intent_to_order`] maps a kalsim [`Intent`] onto the
//! contract traded and onto the single YES book Kalshi matches on (SPEC §3).
//!
//! Everything in this module is behind the `live` feature (std, blocking I/O); the local test
//! exchange is behind `exchange`.

use std::fmt;

use kalsim_core::{Cents, Contracts, Intent, Price, Side};

pub mod auth;
pub mod fixed;
pub mod kalshi;
mod kalshi_json;
pub mod paper;
pub mod ratelimit;
pub mod sim;
pub mod ws;

#[cfg(any(test, feature = "exchange"))]
pub mod exchange;

pub use auth::{Credentials, RequestSigner};
pub use kalshi::{KalshiConfig, KalshiVenue};
pub use paper::PaperVenue;
pub use ratelimit::{RateLimits, RetryPolicy, TokenBucket};
pub use sim::SimVenue;
pub use ws::{BookUpdate, MarketDataClient, MarketDataConfig};

/// Buy or sell a contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderAction {
    /// Buy the contract.
    Buy,
    /// Sell the contract.
    Sell,
}

impl OrderAction {
    /// Lower-case name as Kalshi spells it (`buy`, `sell`).
    pub const fn name(self) -> &'static str {
        match self {
            OrderAction::Buy => "buy",
            OrderAction::Sell => "sell",
        }
    }
}

/// A side of Kalshi's single YES book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BookSide {
    /// A YES bid (buying YES, or selling NO).
    Bid,
    /// A YES ask (selling YES, or buying NO).
    Ask,
}

/// How one kalsim intent becomes an order (SPEC §3's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderMapping {
    /// The contract traded.
    pub contract: Side,
    /// Buy or sell that contract.
    pub action: OrderAction,
    /// Order size in contracts.
    pub count: Contracts,
    /// Limit price of the contract traded, cents.
    pub contract_price: Price,
    /// Side of the YES book the order sits on.
    pub book_side: BookSide,
    /// The order's price on the YES book, cents (`100 - q` for NO orders).
    pub yes_book_price: Price,
}

/// Map an intent at a **contract** price (YES price for YES intents, NO price for NO intents)
/// onto the order to send. `Hold` sends nothing and maps to `None`.
pub fn intent_to_order(
    intent: Intent,
    count: Contracts,
    contract_price: Price,
) -> Option<OrderMapping> {
    let (contract, action, book_side, yes_book_price) = match intent {
        Intent::Hold => return None,
        Intent::BuyYes => (Side::Yes, OrderAction::Buy, BookSide::Bid, contract_price),
        Intent::SellYes => (Side::Yes, OrderAction::Sell, BookSide::Ask, contract_price),
        Intent::BuyNo => (
            Side::No,
            OrderAction::Buy,
            BookSide::Ask,
            contract_price.complement(),
        ),
        Intent::SellNo => (
            Side::No,
            OrderAction::Sell,
            BookSide::Bid,
            contract_price.complement(),
        ),
    };
    Some(OrderMapping {
        contract,
        action,
        count,
        contract_price,
        book_side,
        yes_book_price,
    })
}

/// A limit order (good-till-cancelled) to place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRequest {
    /// Market ticker.
    pub ticker: String,
    /// The contract traded.
    pub contract: Side,
    /// Buy or sell.
    pub action: OrderAction,
    /// Size in whole contracts.
    pub count: Contracts,
    /// Limit price of the contract traded, cents.
    pub price: Price,
    /// Caller-chosen idempotency key (≤ 64 chars of `[A-Za-z0-9_:+=/-]`); every retry of
    /// this order reuses it, so the venue never books it twice.
    pub client_order_id: String,
}

impl OrderRequest {
    /// The order for `intent` (`None` for `Hold`).
    pub fn from_intent(
        ticker: &str,
        intent: Intent,
        count: Contracts,
        contract_price: Price,
        client_order_id: &str,
    ) -> Option<OrderRequest> {
        let m = intent_to_order(intent, count, contract_price)?;
        Some(OrderRequest {
            ticker: ticker.to_owned(),
            contract: m.contract,
            action: m.action,
            count,
            price: contract_price,
            client_order_id: client_order_id.to_owned(),
        })
    }
}

/// Lifecycle state of an order as the venue reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Working on the book.
    Resting,
    /// Fully filled.
    Executed,
    /// Cancelled (possibly after partial fills).
    Canceled,
    /// Accepted but not yet on the book.
    Pending,
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
    /// Signed position in contracts: `+n` = n YES, `-n` = n NO (SPEC §5).
    pub position_contracts: i64,
}

/// One execution of one of our orders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fill {
    /// Venue fill id (unique per fill).
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
}

/// Why a venue call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VenueError {
    /// The venue kept answering 429 after every retry.
    RateLimited,
    /// A non-success HTTP answer that is not one of the kinds below.
    Http {
        /// HTTP status code.
        status: u16,
        /// Response body (the venue's error JSON), truncated.
        body: String,
    },
    /// No answer within the request timeout (after every retry).
    Timeout,
    /// Credentials missing or refused (401/403), or the key could not be loaded.
    Auth(String),
    /// The venue refused the order or cancel (4xx with a reason).
    Rejected {
        /// The venue's reason.
        reason: String,
    },
    /// The order or resource does not exist.
    NotFound(String),
    /// Connection failed or dropped.
    Transport(String),
    /// The venue answered something we could not understand.
    Protocol(String),
    /// Bad input from the caller (never sent).
    InvalidRequest(String),
}

impl fmt::Display for VenueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VenueError::RateLimited => write!(f, "rate limited by the venue (429) after retries"),
            VenueError::Http { status, body } => write!(f, "HTTP {status}: {body}"),
            VenueError::Timeout => write!(f, "request timed out"),
            VenueError::Auth(m) => write!(f, "authentication failed: {m}"),
            VenueError::Rejected { reason } => write!(f, "rejected by the venue: {reason}"),
            VenueError::NotFound(m) => write!(f, "not found: {m}"),
            VenueError::Transport(m) => write!(f, "transport error: {m}"),
            VenueError::Protocol(m) => write!(f, "protocol error: {m}"),
            VenueError::InvalidRequest(m) => write!(f, "invalid request: {m}"),
        }
    }
}

impl std::error::Error for VenueError {}

/// A place to trade: live (Kalshi), paper or simulated. Blocking; one strategy owns it.
pub trait Venue {
    /// Place a limit order. Retries are idempotent on `client_order_id`.
    fn place_order(&mut self, order: &OrderRequest) -> Result<OrderAck, VenueError>;
    /// Cancel a working order.
    fn cancel_order(&mut self, ticker: &str, order_id: &str) -> Result<(), VenueError>;
    /// Orders still working, all markets.
    fn working_orders(&mut self) -> Result<Vec<WorkingOrder>, VenueError>;
    /// Non-flat positions, all markets.
    fn positions(&mut self) -> Result<Vec<PositionInfo>, VenueError>;
    /// Available cash in cents.
    fn balance(&mut self) -> Result<Cents, VenueError>;
    /// Fills not returned by an earlier call (the first call returns the account's history).
    fn fills(&mut self) -> Result<Vec<Fill>, VenueError>;
}

/// Whether `id` is a valid Kalshi client order id (1..=64 chars of `[A-Za-z0-9_:+=/-]`).
pub fn valid_client_order_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_:+=/-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(c: u8) -> Price {
        Price::new(c).unwrap()
    }

    #[test]
    fn intents_map_per_spec_table() {
        let n = Contracts(10);
        let m = intent_to_order(Intent::BuyYes, n, p(56)).unwrap();
        assert_eq!(
            (m.contract, m.action, m.book_side, m.yes_book_price),
            (Side::Yes, OrderAction::Buy, BookSide::Bid, p(56))
        );
        let m = intent_to_order(Intent::SellYes, n, p(56)).unwrap();
        assert_eq!(
            (m.contract, m.action, m.book_side, m.yes_book_price),
            (Side::Yes, OrderAction::Sell, BookSide::Ask, p(56))
        );
        let m = intent_to_order(Intent::BuyNo, n, p(44)).unwrap();
        assert_eq!(
            (m.contract, m.action, m.book_side, m.yes_book_price),
            (Side::No, OrderAction::Buy, BookSide::Ask, p(56))
        );
        let m = intent_to_order(Intent::SellNo, n, p(44)).unwrap();
        assert_eq!(
            (m.contract, m.action, m.book_side, m.yes_book_price),
            (Side::No, OrderAction::Sell, BookSide::Bid, p(56))
        );
        assert_eq!(m.contract_price, p(44));
        assert_eq!(m.count, n);
        assert!(intent_to_order(Intent::Hold, n, p(50)).is_none());
    }

    #[test]
    fn client_order_ids_validated() {
        assert!(valid_client_order_id("run-1:ep3/step=42_a+b"));
        assert!(!valid_client_order_id(""));
        assert!(!valid_client_order_id("has space"));
        assert!(!valid_client_order_id(&"x".repeat(65)));
    }

    #[test]
    fn errors_display() {
        let e = VenueError::Http {
            status: 503,
            body: "busy".into(),
        };
        assert_eq!(e.to_string(), "HTTP 503: busy");
        assert!(VenueError::RateLimited.to_string().contains("429"));
    }
}
