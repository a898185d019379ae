//! Order intents and pricing (SPEC §3).
//!
//! Every intent becomes **a buy of one contract at a limit in that contract's price**, because
//! Kalshi matches everything on one YES book and a sale of YES at `p` is a purchase of NO at
//! `100 − p` (SPEC §5). The table of SPEC §3, in YES-book terms:
//!
//! | intent | contract traded | YES-book side | YES-book price |
//! |---|---|---|---|
//! | BUY_YES at YES price `p` | YES | bid | `p` |
//! | SELL_YES at YES price `p` | YES | ask | `p` |
//! | BUY_NO at NO price `q` | NO | ask | `100 − q` |
//! | SELL_NO at NO price `q` | NO | bid | `100 − q` |

use core::fmt;

use crate::action::Intent;
use crate::book::{OrderBook, Side};
use crate::units::{Contracts, Price};

/// How a trade action picks its limit price (SPEC §3).
#[repr(u8)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PricingMode {
    /// BUY at the contract's best ask, SELL at its best bid: takes the top level only; the
    /// remainder rests at that price.
    Aggressive = 0,
    /// BUY joins the contract's best bid, SELL its best ask.
    Passive = 1,
    /// The contract's mid, rounded toward the passive side (down for BUY, up for SELL).
    Mid = 2,
    /// A marketable limit with a worst price (default): BUY at the best ask +
    /// `max_slippage_cents`, SELL at the best bid − `max_slippage_cents`, clamped to 1..=99.
    /// The order walks the opposite side level by level up to that limit, so a large size
    /// pays the depth it eats; the remainder is cancelled (immediate-or-cancel) unless
    /// [`SweepRemainder::Rest`].
    #[default]
    Sweep = 3,
}

try_from_u8!(
    PricingMode,
    u8,
    core::convert::identity,
    [Aggressive, Passive, Mid, Sweep]
);

impl PricingMode {
    /// Every mode, in discriminant order.
    pub const ALL: [PricingMode; 4] = [
        PricingMode::Aggressive,
        PricingMode::Passive,
        PricingMode::Mid,
        PricingMode::Sweep,
    ];

    /// Stable snake_case name (the configuration's spelling).
    pub const fn name(self) -> &'static str {
        match self {
            PricingMode::Aggressive => "aggressive",
            PricingMode::Passive => "passive",
            PricingMode::Mid => "mid",
            PricingMode::Sweep => "sweep",
        }
    }
}

/// What happens to the unfilled part of a `sweep` order (SPEC §3).
#[repr(u8)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SweepRemainder {
    /// Immediate-or-cancel: the remainder is cancelled (default).
    #[default]
    Cancel = 0,
    /// The remainder rests at the sweep's limit, good-till-cancelled.
    Rest = 1,
}

try_from_u8!(SweepRemainder, u8, core::convert::identity, [Cancel, Rest]);

impl SweepRemainder {
    /// Stable snake_case name (the configuration's spelling).
    pub const fn name(self) -> &'static str {
        match self {
            SweepRemainder::Cancel => "cancel",
            SweepRemainder::Rest => "rest",
        }
    }
}

/// Default worst-price allowance of a `sweep` order beyond the best price, cents.
pub const DEFAULT_MAX_SLIPPAGE_CENTS: u8 = 2;

/// Whether sells must reduce an existing holding.
#[repr(u8)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SellMode {
    /// SELL_YES needs ≥ size YES held, SELL_NO ≥ size NO held (default).
    #[default]
    ReduceOnly = 0,
    /// Kalshi netting: selling YES when flat opens NO at `100 − p`.
    SellToOpen = 1,
}

try_from_u8!(
    SellMode,
    u8,
    core::convert::identity,
    [ReduceOnly, SellToOpen]
);

/// Which side of the YES book an order sits on.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum YesBookSide {
    /// A YES bid (BUY_YES, SELL_NO).
    Bid = 0,
    /// A YES ask (SELL_YES, BUY_NO).
    Ask = 1,
}

/// A trade intent turned into a concrete order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrderPlan {
    /// The intent that produced it.
    pub intent: Intent,
    /// Size in contracts.
    pub size: Contracts,
    /// Limit in the intent's own contract price (YES price for *_YES, NO price for *_NO).
    pub intent_price: Price,
    /// The contract this order effectively buys (a sale of YES buys NO).
    pub buys: Side,
    /// Limit in the bought contract's price.
    pub buy_limit: Price,
}

impl OrderPlan {
    /// Plan an order for `intent` (not HOLD) of `size` at `intent_price` in the intent's contract.
    pub const fn new(intent: Intent, size: Contracts, intent_price: Price) -> OrderPlan {
        let (buys, buy_limit) = match intent {
            Intent::BuyYes | Intent::Hold => (Side::Yes, intent_price),
            Intent::SellYes => (Side::No, intent_price.complement()),
            Intent::BuyNo => (Side::No, intent_price),
            Intent::SellNo => (Side::Yes, intent_price.complement()),
        };
        OrderPlan {
            intent,
            size,
            intent_price,
            buys,
            buy_limit,
        }
    }

    /// The side of the YES book this order sits on.
    pub const fn yes_book_side(&self) -> YesBookSide {
        match self.buys {
            Side::Yes => YesBookSide::Bid,
            Side::No => YesBookSide::Ask,
        }
    }

    /// The order's limit expressed as a YES-book price.
    pub const fn yes_book_price(&self) -> Price {
        match self.buys {
            Side::Yes => self.buy_limit,
            Side::No => self.buy_limit.complement(),
        }
    }

    /// Signed change of position if the whole order fills (+YES / −NO), contracts.
    pub const fn signed_size(&self) -> i64 {
        match self.buys {
            Side::Yes => self.size.0 as i64,
            Side::No => -(self.size.0 as i64),
        }
    }
}

/// The contract an intent names (YES for *_YES, NO for *_NO).
pub const fn intent_contract(intent: Intent) -> Side {
    match intent {
        Intent::BuyNo | Intent::SellNo => Side::No,
        _ => Side::Yes,
    }
}

/// Why no limit price exists for an intent right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoPrice;

impl fmt::Display for NoPrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no price to trade at (the book side this order needs is empty)")
    }
}

/// The limit price, in the intent's own contract, under a pricing mode. `max_slippage_cents`
/// is the `sweep` mode's allowance beyond the best price (ignored by the other modes).
#[inline]
pub fn intent_price(
    book: &OrderBook,
    intent: Intent,
    mode: PricingMode,
    max_slippage_cents: u8,
) -> Result<Price, NoPrice> {
    let contract = intent_contract(intent);
    let bid = book.best_bid(contract);
    let ask = book.best_ask(contract);
    let sell = intent.is_sell();
    match mode {
        PricingMode::Aggressive => if sell { bid } else { ask }.ok_or(NoPrice),
        PricingMode::Sweep => {
            let slip = max_slippage_cents.min(98);
            if sell {
                let b = bid.ok_or(NoPrice)?.cents();
                Ok(Price::new_unchecked(b.saturating_sub(slip).max(1)))
            } else {
                let a = ask.ok_or(NoPrice)?.cents();
                Ok(Price::new_unchecked(a.saturating_add(slip).min(99)))
            }
        }
        PricingMode::Passive => if sell { ask } else { bid }.ok_or(NoPrice),
        PricingMode::Mid => {
            let (b, a) = (bid.ok_or(NoPrice)?, ask.ok_or(NoPrice)?);
            let sum = b.cents() as u16 + a.cents() as u16;
            let mid = if sell { sum.div_ceil(2) } else { sum / 2 };
            Price::new(mid as u8).map_err(|_| NoPrice)
        }
    }
}

/// [`intent_price`] of the four trade intents ([`Intent::TRADES`] order), `None` where there is
/// no price; the mode is matched once for all four (the action mask's hot path).
#[inline]
pub fn intent_prices(
    book: &OrderBook,
    mode: PricingMode,
    max_slippage_cents: u8,
) -> [Option<Price>; 4] {
    #[inline(always)]
    fn all(book: &OrderBook, mode: PricingMode, slip: u8) -> [Option<Price>; 4] {
        let price = |i: Intent| intent_price(book, i, mode, slip).ok();
        let [a, b, c, d] = Intent::TRADES;
        [price(a), price(b), price(c), price(d)]
    }
    match mode {
        PricingMode::Aggressive => all(book, PricingMode::Aggressive, max_slippage_cents),
        PricingMode::Sweep => all(book, PricingMode::Sweep, max_slippage_cents),
        PricingMode::Passive => all(book, PricingMode::Passive, max_slippage_cents),
        PricingMode::Mid => all(book, PricingMode::Mid, max_slippage_cents),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::CentiContracts;

    fn p(c: u8) -> Price {
        Price::new(c).unwrap()
    }

    fn book() -> OrderBook {
        let mut b = OrderBook::new();
        // YES bid 40, NO bid 55 → YES ask 45, NO ask 60.
        b.apply_snapshot(
            &[(p(40), CentiContracts(1_000))],
            &[(p(55), CentiContracts(1_000))],
        )
        .unwrap();
        b
    }

    #[test]
    fn spec_table_yes_book_terms() {
        let q = Contracts(10);
        let o = OrderPlan::new(Intent::BuyYes, q, p(45));
        assert_eq!(
            (o.yes_book_side(), o.yes_book_price(), o.buys),
            (YesBookSide::Bid, p(45), Side::Yes)
        );
        let o = OrderPlan::new(Intent::SellYes, q, p(40));
        assert_eq!(
            (o.yes_book_side(), o.yes_book_price(), o.buys),
            (YesBookSide::Ask, p(40), Side::No)
        );
        assert_eq!(o.buy_limit, p(60));
        let o = OrderPlan::new(Intent::BuyNo, q, p(60));
        assert_eq!(
            (o.yes_book_side(), o.yes_book_price(), o.buys),
            (YesBookSide::Ask, p(40), Side::No)
        );
        let o = OrderPlan::new(Intent::SellNo, q, p(55));
        assert_eq!(
            (o.yes_book_side(), o.yes_book_price(), o.buys),
            (YesBookSide::Bid, p(45), Side::Yes)
        );
        assert_eq!(o.signed_size(), 10);
    }

    #[test]
    fn pricing_modes() {
        let b = book();
        use Intent::*;
        use PricingMode::*;
        let ip = |i, m| intent_price(&b, i, m, 2);
        assert_eq!(ip(BuyYes, Aggressive), Ok(p(45)));
        assert_eq!(ip(SellYes, Aggressive), Ok(p(40)));
        assert_eq!(ip(BuyNo, Aggressive), Ok(p(60)));
        assert_eq!(ip(SellNo, Aggressive), Ok(p(55)));
        assert_eq!(ip(BuyYes, Passive), Ok(p(40)));
        assert_eq!(ip(SellYes, Passive), Ok(p(45)));
        // YES mid 42.5: BUY rounds down, SELL up.
        assert_eq!(ip(BuyYes, Mid), Ok(p(42)));
        assert_eq!(ip(SellYes, Mid), Ok(p(43)));
        assert_eq!(ip(BuyNo, Mid), Ok(p(57)));
        // Sweep: the best price plus / minus the slippage allowance.
        assert_eq!(ip(BuyYes, Sweep), Ok(p(47)));
        assert_eq!(ip(SellYes, Sweep), Ok(p(38)));
        assert_eq!(ip(BuyNo, Sweep), Ok(p(62)));
        assert_eq!(ip(SellNo, Sweep), Ok(p(53)));
        assert_eq!(intent_price(&b, BuyYes, Sweep, 0), Ok(p(45)));
        assert_eq!(
            intent_price(&OrderBook::new(), BuyYes, Aggressive, 2),
            Err(NoPrice)
        );
        assert_eq!(
            intent_price(&OrderBook::new(), SellNo, Sweep, 2),
            Err(NoPrice)
        );
        for m in PricingMode::ALL {
            assert_eq!(PricingMode::try_from(m as u8), Ok(m));
        }
    }

    #[test]
    fn sweep_limits_clamp_to_the_price_range() {
        let mut b = OrderBook::new();
        // YES bid 2, NO bid 2 → YES ask 98, NO ask 98.
        b.apply_snapshot(
            &[(p(2), CentiContracts(1_000))],
            &[(p(2), CentiContracts(1_000))],
        )
        .unwrap();
        assert_eq!(
            intent_price(&b, Intent::BuyYes, PricingMode::Sweep, 5),
            Ok(p(99))
        );
        assert_eq!(
            intent_price(&b, Intent::SellYes, PricingMode::Sweep, 5),
            Ok(p(1))
        );
        assert_eq!(
            intent_price(&b, Intent::BuyNo, PricingMode::Sweep, 255),
            Ok(p(99))
        );
    }
}
