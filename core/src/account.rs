//! Kalshi netting, cash, settlement and portfolio value (SPEC §5).
//!
//! Position per market is one signed integer: `+n` YES contracts or `−n` NO contracts. A YES
//! and a NO contract together always pay 100¢, so a purchase of one contract first closes
//! holdings of the other (each closed pair returns `100 − price` to cash) and only the rest
//! opens. Cost basis uses the average-cost method in exact integers: closing `k` of `n` held
//! contracts removes `⌊basis·k/n⌋` (all of it when `k = n`), so the ledger identity
//!
//! `cash = initial_cash + realized_pnl − fees_paid − cost_basis`
//!
//! holds to the cent after every fill, fee and settlement (`realized_pnl` is gross of fees).

use crate::book::{OrderBook, Side};
use crate::units::{Cents, Price};

/// How open positions are valued.
#[repr(u8)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MarkMode {
    /// Liquidation value: YES at the best YES bid, NO at the best NO bid (default).
    #[default]
    Liquidation = 0,
    /// The contract's mid, `(bid + ask) / 2` per contract, total rounded down, from the
    /// data's displayed quotes: the agent's own consumed depth is ignored (SPEC §5).
    Mid = 1,
}

try_from_u8!(MarkMode, u8, core::convert::identity, [Liquidation, Mid]);

/// What one fill did to the position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FillEffect {
    /// Contracts that closed the opposite holding.
    pub closed: u32,
    /// Contracts that opened or grew the holding.
    pub opened: u32,
    /// Realised P&L of the closed part, gross of fees, cents.
    pub realized_cents: i64,
    /// Net cash change of the fill (before fees), cents.
    pub cash_delta_cents: i64,
}

/// The agent's ledger in one market.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    initial_cash: Cents,
    cash: Cents,
    position: i64,
    cost_basis: Cents,
    realized_pnl: Cents,
    fees_paid: Cents,
}

impl Account {
    /// A flat account holding `initial_cash`.
    pub const fn new(initial_cash: Cents) -> Account {
        Account {
            initial_cash,
            cash: initial_cash,
            position: 0,
            cost_basis: Cents(0),
            realized_pnl: Cents(0),
            fees_paid: Cents(0),
        }
    }

    /// Cash at the start of the episode, cents.
    pub const fn initial_cash(&self) -> Cents {
        self.initial_cash
    }
    /// Cash now, cents.
    pub const fn cash(&self) -> Cents {
        self.cash
    }
    /// Signed position: `+n` YES, `−n` NO contracts.
    pub const fn position(&self) -> i64 {
        self.position
    }
    /// Contracts of `side` held (0 when the position is on the other side).
    pub const fn held(&self, side: Side) -> u64 {
        held(self.position, side)
    }
    /// The contract held, if any.
    pub const fn held_side(&self) -> Option<Side> {
        if self.position > 0 {
            Some(Side::Yes)
        } else if self.position < 0 {
            Some(Side::No)
        } else {
            None
        }
    }
    /// Total paid for the open position (average-cost method), cents.
    pub const fn cost_basis(&self) -> Cents {
        self.cost_basis
    }
    /// Realised P&L gross of fees, cents.
    pub const fn realized_pnl(&self) -> Cents {
        self.realized_pnl
    }
    /// Fees charged so far, cents.
    pub const fn fees_paid(&self) -> Cents {
        self.fees_paid
    }

    /// Apply a purchase of `count` contracts of `contract` at `price` (that contract's price),
    /// netting against the opposite holding first (SPEC §5).
    pub fn buy(&mut self, contract: Side, count: u32, price: Price) -> FillEffect {
        let p = price.cents() as i64;
        let opposite_held = self.held(contract.other());
        let closed = (count as u64).min(opposite_held) as u32;
        let opened = count - closed;
        let mut effect = FillEffect {
            closed,
            opened,
            ..FillEffect::default()
        };
        if closed > 0 {
            let basis_removed = if closed as u64 == opposite_held {
                self.cost_basis.0
            } else {
                ((self.cost_basis.0 as i128 * closed as i128) / opposite_held as i128) as i64
            };
            let proceeds = closed as i64 * (100 - p);
            self.cost_basis.0 -= basis_removed;
            self.realized_pnl.0 += proceeds - basis_removed;
            self.cash.0 += proceeds;
            effect.realized_cents = proceeds - basis_removed;
            effect.cash_delta_cents += proceeds;
        }
        if opened > 0 {
            let cost = opened as i64 * p;
            self.cash.0 -= cost;
            self.cost_basis.0 += cost;
            effect.cash_delta_cents -= cost;
        }
        match contract {
            Side::Yes => self.position += count as i64,
            Side::No => self.position -= count as i64,
        }
        effect
    }

    /// Charge a fee to cash.
    pub fn charge_fee(&mut self, fee: Cents) {
        self.cash.0 -= fee.0;
        self.fees_paid.0 += fee.0;
    }

    /// Settle the market: the winning contract pays 100¢ each; the position becomes 0.
    /// Returns the payout in cents. No settlement fee.
    pub fn settle(&mut self, result: Side) -> Cents {
        let payout = self.held(result) as i64 * 100;
        self.cash.0 += payout;
        self.realized_pnl.0 += payout - self.cost_basis.0;
        self.cost_basis = Cents(0);
        self.position = 0;
        Cents(payout)
    }

    /// Value of the open position under `marks` (per-contract cents for YES and NO held).
    pub const fn position_value(&self, marks: Marks) -> Cents {
        let (n, mark2) = if self.position > 0 {
            (self.position as u64, marks.yes_x2)
        } else {
            (self.position.unsigned_abs(), marks.no_x2)
        };
        Cents(((n as u128 * mark2 as u128) / 2) as i64)
    }

    /// Portfolio value `cash + mark(position)`, cents.
    pub const fn portfolio_value(&self, marks: Marks) -> Cents {
        Cents(self.cash.0 + self.position_value(marks).0)
    }

    /// Unrealised P&L: position value minus cost basis, cents.
    pub const fn unrealized_pnl(&self, marks: Marks) -> Cents {
        Cents(self.position_value(marks).0 - self.cost_basis.0)
    }

    /// `initial + realized − fees − basis − cash`: zero when the ledger reconciles.
    pub const fn ledger_discrepancy(&self) -> i64 {
        self.initial_cash.0 + self.realized_pnl.0
            - self.fees_paid.0
            - self.cost_basis.0
            - self.cash.0
    }
}

/// Per-contract marks in half-cents (`×2`, so a mid of 42.5¢ is exact).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marks {
    /// Mark of one YES contract × 2, half-cents.
    pub yes_x2: u16,
    /// Mark of one NO contract × 2, half-cents.
    pub no_x2: u16,
}

/// The last valid best bids seen in an episode, the fallback for an empty side (never zero):
/// the tradable bids (after the agent's own consumption, for the liquidation mark and the
/// observation) and the data's quoted bids (overlay ignored, for the mid mark).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastPrices {
    bid: [Price; 2],
    quoted: [Price; 2],
}

impl Default for LastPrices {
    fn default() -> LastPrices {
        LastPrices::UNQUOTED
    }
}

impl LastPrices {
    /// 1¢ on both sides, the start of every episode: a side that has never quoted is valued at
    /// the lowest price a contract can trade at — never zero (SPEC §5), and never above what
    /// the position could be bought for, so buying into a one-sided book cannot raise PV.
    pub const UNQUOTED: LastPrices = LastPrices {
        bid: [Price::MIN, Price::MIN],
        quoted: [Price::MIN, Price::MIN],
    };

    /// 50¢ on both sides. Not used by the engine any more: marking a never-quoted side at 50¢
    /// let a purchase below 50¢ on a one-sided book raise PV on a book that does not move.
    pub const NEUTRAL: LastPrices = LastPrices {
        bid: [Price::new_unchecked(50), Price::new_unchecked(50)],
        quoted: [Price::new_unchecked(50), Price::new_unchecked(50)],
    };

    /// Record the book's current best bids where present.
    pub fn observe(&mut self, book: &OrderBook) {
        if let Some(p) = book.best_bid(Side::Yes) {
            self.bid[0] = p;
        }
        if let Some(p) = book.best_bid(Side::No) {
            self.bid[1] = p;
        }
        if let Some(p) = book.quoted_bid(Side::Yes) {
            self.quoted[0] = p;
        }
        if let Some(p) = book.quoted_bid(Side::No) {
            self.quoted[1] = p;
        }
    }

    /// Best bid of `side`, or the last valid one.
    #[inline]
    pub fn bid(&self, book: &OrderBook, side: Side) -> Price {
        book.best_bid(side).unwrap_or(self.bid[side as usize])
    }

    /// The data's quoted bid of `side` (overlay ignored), or the last valid one.
    #[inline]
    pub fn quoted_bid(&self, book: &OrderBook, side: Side) -> Price {
        book.quoted_bid(side).unwrap_or(self.quoted[side as usize])
    }

    /// The marks under `mode` for the current book with this fallback.
    ///
    /// Liquidation marks at the tradable bids (what the agent could sell into now, its own
    /// consumption included). Mid marks at the midpoint of the **data's** quotes, ignoring
    /// the overlay: the agent's own taking never moves its mid mark (SPEC §5). Both lie
    /// between the tradable bid and the tradable ask, so on a book that does not move no
    /// trade raises PV under either mark.
    #[inline]
    pub fn marks(&self, book: &OrderBook, mode: MarkMode) -> Marks {
        match mode {
            MarkMode::Liquidation => Marks {
                yes_x2: self.bid(book, Side::Yes).cents() as u16 * 2,
                no_x2: self.bid(book, Side::No).cents() as u16 * 2,
            },
            MarkMode::Mid => {
                let yes_bid = self.quoted_bid(book, Side::Yes).cents() as u16;
                let no_bid = self.quoted_bid(book, Side::No).cents() as u16;
                // YES ask = 100 − NO bid, NO ask = 100 − YES bid.
                let m = yes_bid + (100 - no_bid);
                Marks {
                    yes_x2: m,
                    no_x2: 200 - m,
                }
            }
        }
    }
}

/// Contracts of `side` held at the signed `position` (`+n` YES, `−n` NO).
pub const fn held(position: i64, side: Side) -> u64 {
    match side {
        Side::Yes if position > 0 => position as u64,
        Side::No if position < 0 => position.unsigned_abs(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(c: u8) -> Price {
        Price::new(c).unwrap()
    }

    #[test]
    fn buy_yes_then_buy_no_closes_for_spread() {
        let mut a = Account::new(Cents(100_000));
        // Buy 10 YES at 45, then buy 10 NO at 60 (= selling YES at 40).
        a.buy(Side::Yes, 10, p(45));
        assert_eq!(
            (a.cash(), a.position(), a.cost_basis()),
            (Cents(99_550), 10, Cents(450))
        );
        let e = a.buy(Side::No, 10, p(60));
        assert_eq!((e.closed, e.opened), (10, 0));
        // Closing returns 100 − 60 = 40 each: the round trip costs the 5¢ spread, not 100¢.
        assert_eq!(
            (a.cash(), a.position(), a.cost_basis()),
            (Cents(99_950), 0, Cents(0))
        );
        assert_eq!(a.realized_pnl(), Cents(-50));
        assert_eq!(a.ledger_discrepancy(), 0);
    }

    #[test]
    fn selling_to_open_costs_complement() {
        let mut a = Account::new(Cents(10_000));
        // SELL YES 5 at 70 when flat ≡ BUY NO 5 at 30.
        a.buy(Side::No, 5, p(70).complement());
        assert_eq!((a.cash(), a.position()), (Cents(9_850), -5));
    }

    #[test]
    fn partial_close_and_flip() {
        let mut a = Account::new(Cents(10_000));
        a.buy(Side::Yes, 3, p(33));
        a.buy(Side::Yes, 4, p(34));
        // Basis 99 + 136 = 235 over 7.
        let e = a.buy(Side::No, 2, p(60));
        assert_eq!(e.closed, 2);
        assert_eq!(a.cost_basis(), Cents(235 - 67));
        let e = a.buy(Side::No, 9, p(60));
        assert_eq!((e.closed, e.opened), (5, 4));
        assert_eq!((a.position(), a.cost_basis()), (-4, Cents(240)));
        a.charge_fee(Cents(7));
        assert_eq!(a.ledger_discrepancy(), 0);
    }

    #[test]
    fn settlement_both_ways() {
        let mut a = Account::new(Cents(1_000));
        a.buy(Side::Yes, 10, p(40));
        assert_eq!(a.settle(Side::Yes), Cents(1_000));
        assert_eq!(
            (a.cash(), a.position(), a.realized_pnl()),
            (Cents(1_600), 0, Cents(600))
        );
        let mut b = Account::new(Cents(1_000));
        b.buy(Side::Yes, 10, p(40));
        assert_eq!(b.settle(Side::No), Cents(0));
        assert_eq!((b.cash(), b.realized_pnl()), (Cents(600), Cents(-400)));
        let mut c = Account::new(Cents(1_000));
        c.buy(Side::No, 10, p(30));
        assert_eq!(c.settle(Side::No), Cents(1_000));
        assert_eq!(c.cash(), Cents(1_700));
        assert_eq!(c.ledger_discrepancy(), 0);
    }

    #[test]
    fn marks_and_fallback_never_zero() {
        let mut book = OrderBook::new();
        book.apply_snapshot(
            &[(p(40), crate::CentiContracts(500))],
            &[(p(55), crate::CentiContracts(500))],
        )
        .unwrap();
        let mut last = LastPrices::default();
        last.observe(&book);
        let mut a = Account::new(Cents(0));
        a.buy(Side::Yes, 10, p(45));
        let liq = last.marks(&book, MarkMode::Liquidation);
        assert_eq!(a.position_value(liq), Cents(400));
        let mid = last.marks(&book, MarkMode::Mid);
        assert_eq!(a.position_value(mid), Cents(425)); // (40 + 45) / 2 × 10
        // The YES side empties: the last valid bid marks it.
        book.apply_delta(Side::Yes, p(40), -500).unwrap();
        assert_eq!(
            a.position_value(last.marks(&book, MarkMode::Liquidation)),
            Cents(400)
        );
    }
}
