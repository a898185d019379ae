//! Position limits and the action mask (SPEC §6).
//!
//! An order that **increases** exposure — one that opens contracts: its size exceeds the
//! opposite holding it closes, counting the whole order as filled (its unfilled part may fill
//! later while it rests) — must satisfy, in order:
//!
//! 1. `|position| ≤ max_position_per_market`;
//! 2. position value `|position| × price of the contract held ≤ max_position_value`;
//! 3. the same value `≤ max_portfolio_fraction × PV`;
//! 4. cash after the order's cost and its worst-case taker fee `≥ min_cash_buffer`.
//!
//! An order that only reduces exposure (closes at most what is held) passes 2–4 (it releases
//! cash). An order that goes through zero (`+10` → `−10`) opens a new position and is checked
//! like any other opening order, even though `|position|` does not grow. Reduce-only sells also
//! need the holdings. The first rule broken is returned as a typed [`LimitViolation`].
//! (The plan's sketch checked the order's value and ignored direction; this is the corrected rule.)

use core::fmt;

use crate::book::Side;
use crate::fees::FeeSchedule;
use crate::units::{Bps, Cents, Price};

/// The four limits, with the plan's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Largest |position| in one market, contracts (default 500).
    pub max_position_per_market: u32,
    /// Largest position value, cents (default 50 000 = $500).
    pub max_position_value: Cents,
    /// Largest position value as a fraction of portfolio value, bps (default 2 500 = 25 %).
    pub max_portfolio_fraction: Bps,
    /// Cash that must remain after an exposure-increasing order, cents (default 5 000 = $50).
    pub min_cash_buffer: Cents,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::PLAN
    }
}

/// Why an order may not be placed: the first rule it breaks.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitViolation {
    /// Rule 1: |position| would exceed `max_position_per_market`.
    PositionLimit = 1,
    /// Rule 2: position value would exceed `max_position_value`.
    PositionValue = 2,
    /// Rule 3: position value would exceed `max_portfolio_fraction × PV`.
    PortfolioFraction = 3,
    /// Rule 4: cash after cost and worst-case fee would fall below `min_cash_buffer`.
    CashBuffer = 4,
    /// A reduce-only sell without enough of the contract held.
    InsufficientHoldings = 5,
    /// No price to trade at: the book side the order needs is empty.
    NoPrice = 6,
    /// Arithmetic beyond the representable range (unreachable from valid configuration).
    Overflow = 7,
}

impl LimitViolation {
    /// The rule of a numeric code (1..=7, as `self as u8`).
    pub const fn from_code(code: u8) -> Option<LimitViolation> {
        Some(match code {
            1 => LimitViolation::PositionLimit,
            2 => LimitViolation::PositionValue,
            3 => LimitViolation::PortfolioFraction,
            4 => LimitViolation::CashBuffer,
            5 => LimitViolation::InsufficientHoldings,
            6 => LimitViolation::NoPrice,
            7 => LimitViolation::Overflow,
            _ => return None,
        })
    }

    /// Stable snake_case name (used in `info.invalid_action`).
    pub const fn name(self) -> &'static str {
        match self {
            LimitViolation::PositionLimit => "position_limit",
            LimitViolation::PositionValue => "position_value",
            LimitViolation::PortfolioFraction => "portfolio_fraction",
            LimitViolation::CashBuffer => "cash_buffer",
            LimitViolation::InsufficientHoldings => "insufficient_holdings",
            LimitViolation::NoPrice => "no_price",
            LimitViolation::Overflow => "overflow",
        }
    }
}

impl fmt::Display for LimitViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitViolation::PositionLimit => "position would exceed max_position_per_market",
            LimitViolation::PositionValue => "position value would exceed max_position_value",
            LimitViolation::PortfolioFraction => {
                "position value would exceed max_portfolio_fraction of portfolio value"
            }
            LimitViolation::CashBuffer => {
                "cash after cost and worst-case fee would fall below min_cash_buffer"
            }
            LimitViolation::InsufficientHoldings => {
                "reduce-only sell without enough contracts held"
            }
            LimitViolation::NoPrice => "no price to trade at",
            LimitViolation::Overflow => "arithmetic overflow",
        })
    }
}

impl core::error::Error for LimitViolation {}

/// [`Limits`] prepared against one account state ([`Limits::prepare`]): the same four rules,
/// in the same order, for any number of orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreparedLimits {
    position: i64,
    cash: i64,
    max_position_per_market: u64,
    max_position_value: i64,
    /// `max_portfolio_fraction` of the portfolio value, cents.
    fraction_cap: i64,
    min_cash_buffer: i64,
}

impl PreparedLimits {
    /// The signed position (`+n` YES, `−n` NO) the limits were prepared for.
    pub const fn position(&self) -> i64 {
        self.position
    }

    /// [`Limits::check`] against the prepared state.
    #[inline]
    pub fn check(
        &self,
        contract: Side,
        size: u32,
        limit: Price,
        fees: &FeeSchedule,
    ) -> Result<(), LimitViolation> {
        let signed = match contract {
            Side::Yes => size as i64,
            Side::No => -(size as i64),
        };
        let new_position = self
            .position
            .checked_add(signed)
            .ok_or(LimitViolation::Overflow)?;
        let new_abs = new_position.unsigned_abs();
        // Closing part returns 100 − p each; opening part costs p each.
        let opposite_held = match contract {
            Side::Yes if self.position < 0 => self.position.unsigned_abs(),
            Side::No if self.position > 0 => self.position as u64,
            _ => 0,
        };
        if size as u64 <= opposite_held {
            // Only reduces exposure. An order that goes through zero is not "only reducing"
            // even when |position| does not grow: it opens the other contract.
            return Ok(());
        }
        if new_abs > self.max_position_per_market {
            return Err(LimitViolation::PositionLimit);
        }
        // Increasing exposure ends holding `contract`, valued at this order's price.
        let value = new_abs as i64 * limit.cents() as i64;
        if value > self.max_position_value {
            return Err(LimitViolation::PositionValue);
        }
        if value > self.fraction_cap {
            return Err(LimitViolation::PortfolioFraction);
        }
        let closing = (size as u64).min(opposite_held) as i64;
        let opening = size as i64 - closing;
        let p = limit.cents() as i64;
        let cost = opening * p - closing * (100 - p);
        // Worst case over how the order fills: the part taken now pays at most the taker fee
        // of the whole order; the part that rests pays the maker fee at `limit` on each later
        // fill, each rounded up to a whole cent (at most one fill event per contract).
        let mut fee = fees.worst_case_taker(size, limit).0;
        if fees.maker_fees {
            let weight = crate::fees::level_weight(size, limit);
            fee += fees.maker_from_weight(weight).0 + size as i64;
        }
        let cash_after = self.cash - cost - fee;
        if cash_after < self.min_cash_buffer {
            return Err(LimitViolation::CashBuffer);
        }
        Ok(())
    }
}

/// The account state an order is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exposure {
    /// Signed position now (+YES / −NO), contracts.
    pub position: i64,
    /// Cash now, cents.
    pub cash: Cents,
    /// Portfolio value now, cents.
    pub portfolio_value: Cents,
}

impl Limits {
    /// The plan's defaults: 500 contracts, $500, 25 %, $50.
    pub const PLAN: Limits = Limits {
        max_position_per_market: 500,
        max_position_value: Cents(50_000),
        max_portfolio_fraction: Bps(2_500),
        min_cash_buffer: Cents(5_000),
    };

    /// Check a purchase of `size` contracts of `contract` at limit `limit` (that contract's
    /// price) against the four rules. Reduce-only holdings are checked by the caller.
    #[inline]
    pub fn check(
        &self,
        exposure: Exposure,
        contract: Side,
        size: u32,
        limit: Price,
        fees: &FeeSchedule,
    ) -> Result<(), LimitViolation> {
        self.prepare(exposure).check(contract, size, limit, fees)
    }

    /// The rules with the terms that depend only on the account state worked out once (the
    /// action mask checks up to 20 orders against one state).
    #[inline]
    pub const fn prepare(&self, exposure: Exposure) -> PreparedLimits {
        PreparedLimits {
            position: exposure.position,
            cash: exposure.cash.0,
            max_position_per_market: self.max_position_per_market as u64,
            max_position_value: self.max_position_value.0,
            fraction_cap: self
                .max_portfolio_fraction
                .apply_floor(exposure.portfolio_value)
                .0,
            min_cash_buffer: self.min_cash_buffer.0,
        }
    }

    /// The plan-style convenience: may an order of `size` contracts be placed? `size > 0` buys
    /// YES, `size < 0` buys NO, at `price` (the bought contract's price). Portfolio value is
    /// estimated as `cash + |position| × price of the contract held` (this order's price for the
    /// same contract, its complement for the other), with Kalshi's taker fees.
    pub fn validate_order(
        &self,
        size: i64,
        position: i64,
        cash: Cents,
        price: Price,
    ) -> Result<(), LimitViolation> {
        if size == 0 {
            return Ok(());
        }
        let contract = if size > 0 { Side::Yes } else { Side::No };
        let count = u32::try_from(size.unsigned_abs()).map_err(|_| LimitViolation::Overflow)?;
        let held_price = if (position > 0) == (size > 0) {
            price.cents()
        } else {
            price.complement().cents()
        };
        let held_value = (position.unsigned_abs() as i64)
            .checked_mul(held_price as i64)
            .ok_or(LimitViolation::Overflow)?;
        let portfolio_value = Cents(
            cash.0
                .checked_add(held_value)
                .ok_or(LimitViolation::Overflow)?,
        );
        self.check(
            Exposure {
                position,
                cash,
                portfolio_value,
            },
            contract,
            count,
            price,
            &FeeSchedule::KALSHI,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(c: u8) -> Price {
        Price::new(c).unwrap()
    }

    fn flat(cash: i64) -> Exposure {
        Exposure {
            position: 0,
            cash: Cents(cash),
            portfolio_value: Cents(cash),
        }
    }

    #[test]
    fn each_rule_fires_first_in_order() {
        let l = Limits::PLAN;
        let f = FeeSchedule::KALSHI;
        let rich = flat(10_000_000);
        assert_eq!(
            l.check(rich, Side::Yes, 501, p(1), &f),
            Err(LimitViolation::PositionLimit)
        );
        // With the plan's defaults rule 2 never binds before rule 1: 500 × 99¢ = $495 ≤ $500.
        assert_eq!(l.check(rich, Side::Yes, 500, p(99), &f), Ok(()));
        let tight = Limits {
            max_position_value: Cents(10_000),
            ..Limits::PLAN
        };
        assert_eq!(
            tight.check(rich, Side::Yes, 200, p(60), &f),
            Err(LimitViolation::PositionValue)
        );
        // $1 000 account: 25 % = $250; 100 × 30¢ = $30 fine, 100 × 50¢ … fine, 500 × 60¢ = $300 too much.
        assert_eq!(
            l.check(flat(100_000), Side::Yes, 500, p(60), &f),
            Err(LimitViolation::PortfolioFraction)
        );
        assert_eq!(l.check(flat(100_000), Side::Yes, 100, p(50), &f), Ok(()));
        // $60 account: 10 × 50¢ = $5 plus fee leaves < $50? 6 000 − 500 − 18 = 5 482 ≥ 5 000: ok.
        let small = Exposure {
            position: 0,
            cash: Cents(6_000),
            portfolio_value: Cents(100_000),
        };
        assert_eq!(l.check(small, Side::Yes, 10, p(50), &f), Ok(()));
        assert_eq!(
            l.check(small, Side::Yes, 20, p(50), &f),
            Err(LimitViolation::CashBuffer)
        );
    }

    #[test]
    fn reducing_orders_always_pass_rules_two_to_four() {
        let l = Limits::PLAN;
        let broke = Exposure {
            position: 400,
            cash: Cents(0),
            portfolio_value: Cents(1),
        };
        assert_eq!(
            l.check(broke, Side::No, 100, p(99), &FeeSchedule::KALSHI),
            Ok(())
        );
        assert_eq!(
            l.check(broke, Side::No, 400, p(99), &FeeSchedule::KALSHI),
            Ok(())
        );
        // Going through zero opens NO: checked like any opening order, even to the same size.
        assert_eq!(
            l.check(broke, Side::No, 401, p(99), &FeeSchedule::KALSHI),
            Err(LimitViolation::PortfolioFraction)
        );
        assert_eq!(
            l.check(broke, Side::No, 800, p(99), &FeeSchedule::KALSHI),
            Err(LimitViolation::PortfolioFraction)
        );
    }

    #[test]
    fn plan_style_validate_order() {
        let l = Limits::PLAN;
        assert_eq!(l.validate_order(10, 0, Cents(100_000), p(50)), Ok(()));
        assert_eq!(
            l.validate_order(600, 0, Cents(100_000), p(5)),
            Err(LimitViolation::PositionLimit)
        );
        assert_eq!(l.validate_order(-10, 20, Cents(0), p(50)), Ok(()));
        assert_eq!(l.validate_order(0, 0, Cents(0), p(50)), Ok(()));
    }
}
