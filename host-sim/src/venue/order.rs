//! Orders as kalsim sends them: the intent mapping of SPEC §3 and the V2 order-entry options
//! of SPEC §12 (time in force, expiry, post-only, reduce-only, self-trade prevention,
//! cancel-on-pause).

use kalsim_core::{Contracts, Intent, Price, Side};

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

impl BookSide {
    /// The V2 wire value (`bid`, `ask`).
    pub const fn name(self) -> &'static str {
        match self {
            BookSide::Bid => "bid",
            BookSide::Ask => "ask",
        }
    }

    /// The side named `s` on the wire.
    pub fn from_name(s: &str) -> Option<BookSide> {
        match s {
            "bid" => Some(BookSide::Bid),
            "ask" => Some(BookSide::Ask),
            _ => None,
        }
    }
}

/// How long an order stays on the book (V2 `time_in_force`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeInForce {
    /// Rests until cancelled, or until `expiration_time` when one is given (Kalshi's
    /// good-till-time is `good_till_canceled` plus an expiry).
    GoodTillCanceled,
    /// Takes what it can at once; the rest is cancelled.
    ImmediateOrCancel,
    /// All at once or nothing.
    FillOrKill,
}

impl TimeInForce {
    /// The V2 wire value.
    pub const fn name(self) -> &'static str {
        match self {
            TimeInForce::GoodTillCanceled => "good_till_canceled",
            TimeInForce::ImmediateOrCancel => "immediate_or_cancel",
            TimeInForce::FillOrKill => "fill_or_kill",
        }
    }

    /// The value named `s` on the wire.
    pub fn from_name(s: &str) -> Option<TimeInForce> {
        match s {
            "good_till_canceled" => Some(TimeInForce::GoodTillCanceled),
            "immediate_or_cancel" => Some(TimeInForce::ImmediateOrCancel),
            "fill_or_kill" => Some(TimeInForce::FillOrKill),
            _ => None,
        }
    }
}

/// What the exchange does when an order would trade against one of the member's own
/// (V2 `self_trade_prevention_type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SelfTradePrevention {
    /// Cancel the incoming (taker) order at the cross; fills already matched stand.
    #[default]
    TakerAtCross,
    /// Cancel the resting (maker) order and keep matching.
    Maker,
}

impl SelfTradePrevention {
    /// The V2 wire value.
    pub const fn name(self) -> &'static str {
        match self {
            SelfTradePrevention::TakerAtCross => "taker_at_cross",
            SelfTradePrevention::Maker => "maker",
        }
    }

    /// The value named `s` on the wire.
    pub fn from_name(s: &str) -> Option<SelfTradePrevention> {
        match s {
            "taker_at_cross" => Some(SelfTradePrevention::TakerAtCross),
            "maker" => Some(SelfTradePrevention::Maker),
            _ => None,
        }
    }
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

/// The (contract, action) a YES-book side trades: a bid buys YES, an ask sells YES. Orders
/// read back from the exchange are expressed this way (the NO form is equivalent, SPEC §3).
pub const fn book_side_trade(side: BookSide) -> (Side, OrderAction) {
    match side {
        BookSide::Bid => (Side::Yes, OrderAction::Buy),
        BookSide::Ask => (Side::Yes, OrderAction::Sell),
    }
}

/// The V2 order-entry options of one order (SPEC §12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderOptions {
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// Unix time, seconds, at which a resting order expires (only with
    /// [`TimeInForce::GoodTillCanceled`]).
    pub expiration_time_s: Option<u64>,
    /// Refuse the order rather than let it take liquidity (passive pricing).
    pub post_only: bool,
    /// The order may only reduce the position (reduce-only sells, so netting can never flip
    /// the position).
    pub reduce_only: bool,
    /// Self-trade prevention.
    pub self_trade_prevention: SelfTradePrevention,
    /// The exchange cancels the order if trading pauses.
    pub cancel_order_on_pause: bool,
}

impl Default for OrderOptions {
    /// Good-till-cancelled without expiry, taker-at-cross, cancelled on pause.
    fn default() -> OrderOptions {
        OrderOptions {
            time_in_force: TimeInForce::GoodTillCanceled,
            expiration_time_s: None,
            post_only: false,
            reduce_only: false,
            self_trade_prevention: SelfTradePrevention::TakerAtCross,
            cancel_order_on_pause: true,
        }
    }
}

/// A limit order to place.
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
    /// Time in force, expiry and flags.
    pub options: OrderOptions,
}

impl OrderRequest {
    /// The order for `intent` (`None` for `Hold`) with default options.
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
            options: OrderOptions::default(),
        })
    }

    /// The same order with `options`.
    pub fn with_options(mut self, options: OrderOptions) -> OrderRequest {
        self.options = options;
        self
    }

    /// Side of the YES book (SPEC §3).
    pub fn book_side(&self) -> BookSide {
        match (self.contract, self.action) {
            (Side::Yes, OrderAction::Buy) | (Side::No, OrderAction::Sell) => BookSide::Bid,
            _ => BookSide::Ask,
        }
    }

    /// Limit on the YES book, cents (`100 - q` for NO orders).
    pub fn yes_book_price(&self) -> Price {
        match self.contract {
            Side::Yes => self.price,
            Side::No => self.price.complement(),
        }
    }
}

/// Whether `id` is a valid Kalshi client order id (1..=64 chars of `[A-Za-z0-9_:+=/-]`).
pub fn valid_client_order_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_:+=/-".contains(&b))
}

/// Signed position change (+YES / −NO contracts) of `count` contracts of `contract` bought or
/// sold.
pub const fn signed_count(contract: Side, action: OrderAction, count: u32) -> i64 {
    let n = count as i64;
    match (contract, action) {
        (Side::Yes, OrderAction::Buy) | (Side::No, OrderAction::Sell) => n,
        _ => -n,
    }
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
        let cases = [
            (
                Intent::BuyYes,
                56,
                Side::Yes,
                OrderAction::Buy,
                BookSide::Bid,
                56,
            ),
            (
                Intent::SellYes,
                56,
                Side::Yes,
                OrderAction::Sell,
                BookSide::Ask,
                56,
            ),
            (
                Intent::BuyNo,
                44,
                Side::No,
                OrderAction::Buy,
                BookSide::Ask,
                56,
            ),
            (
                Intent::SellNo,
                44,
                Side::No,
                OrderAction::Sell,
                BookSide::Bid,
                56,
            ),
        ];
        for (intent, px, contract, action, side, yes) in cases {
            let m = intent_to_order(intent, n, p(px)).unwrap();
            assert_eq!(
                (m.contract, m.action, m.book_side, m.yes_book_price),
                (contract, action, side, p(yes))
            );
            let r = OrderRequest::from_intent("T", intent, n, p(px), "c").unwrap();
            assert_eq!((r.book_side(), r.yes_book_price()), (side, p(yes)));
        }
        assert!(intent_to_order(Intent::Hold, n, p(50)).is_none());
    }

    #[test]
    fn wire_names_round_trip() {
        for t in [
            TimeInForce::GoodTillCanceled,
            TimeInForce::ImmediateOrCancel,
            TimeInForce::FillOrKill,
        ] {
            assert_eq!(TimeInForce::from_name(t.name()), Some(t));
        }
        for s in [
            SelfTradePrevention::TakerAtCross,
            SelfTradePrevention::Maker,
        ] {
            assert_eq!(SelfTradePrevention::from_name(s.name()), Some(s));
        }
        assert_eq!(BookSide::from_name("ask"), Some(BookSide::Ask));
        assert_eq!(TimeInForce::from_name("gtt"), None);
    }

    #[test]
    fn client_order_ids_validated() {
        assert!(valid_client_order_id("run-1:ep3/step=42_a+b"));
        assert!(!valid_client_order_id(""));
        assert!(!valid_client_order_id("has space"));
        assert!(!valid_client_order_id(&"x".repeat(65)));
    }
}
