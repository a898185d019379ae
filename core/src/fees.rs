//! Kalshi's fee schedule (SPEC §4), in integer arithmetic.
//!
//! Taker fee per order per step: `ceil(7 × Σ cᵢ·Pᵢ·(100 − Pᵢ) / 10 000)` cents over the levels
//! filled in that step (`cᵢ` contracts at price `Pᵢ`; the product is the same from the YES or
//! the NO side). Maker fee, only on maker-fee markets: `ceil(175 × Σ … / 1 000 000)` cents.
//! Rates are kept as "per 10 000" coefficients so schedules can be configured: 700 = 0.07
//! (taker), 175 = 0.0175 (maker), and `fee = ceil(rate × Σ cᵢ·Pᵢ·(100 − Pᵢ) / 1 000 000)`.

use crate::units::{Cents, Price};

/// A fee schedule: per-10 000 rate coefficients and whether maker fees apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FeeSchedule {
    /// Taker rate × 10 000 (Kalshi: 700 = 0.07).
    pub taker_rate_e4: u32,
    /// Maker rate × 10 000 (Kalshi: 175 = 0.0175).
    pub maker_rate_e4: u32,
    /// Whether resting (maker) fills pay the maker fee (off by default; on for maker-fee markets).
    pub maker_fees: bool,
}

impl Default for FeeSchedule {
    fn default() -> FeeSchedule {
        FeeSchedule::KALSHI
    }
}

impl FeeSchedule {
    /// Kalshi's general schedule: taker 0.07, maker 0.0175 off.
    pub const KALSHI: FeeSchedule = FeeSchedule {
        taker_rate_e4: 700,
        maker_rate_e4: 175,
        maker_fees: false,
    };
    /// No fees at all (for experiments).
    pub const FREE: FeeSchedule = FeeSchedule {
        taker_rate_e4: 0,
        maker_rate_e4: 0,
        maker_fees: false,
    };

    /// Taker fee in cents for `Σ cᵢ·Pᵢ·(100 − Pᵢ)` = `weight`.
    #[inline]
    pub const fn taker_from_weight(&self, weight: u64) -> Cents {
        fee_from_weight(self.taker_rate_e4, weight)
    }

    /// Maker fee in cents for `weight` (zero unless `maker_fees`).
    #[inline]
    pub const fn maker_from_weight(&self, weight: u64) -> Cents {
        if self.maker_fees {
            fee_from_weight(self.maker_rate_e4, weight)
        } else {
            Cents(0)
        }
    }

    /// Taker fee for a list of `(contracts, price)` fills of one order in one step.
    pub fn taker_fee(&self, fills: &[(u32, Price)]) -> Cents {
        self.taker_from_weight(fee_weight(fills))
    }

    /// Maker fee for a list of `(contracts, price)` fills of one order in one step.
    pub fn maker_fee(&self, fills: &[(u32, Price)]) -> Cents {
        self.maker_from_weight(fee_weight(fills))
    }

    /// The largest taker fee an order of `contracts` with limit `limit` can pay: its fills are
    /// at prices ≤ `limit`, and `P·(100 − P)` peaks at 50¢.
    #[inline]
    pub const fn worst_case_taker(&self, contracts: u32, limit: Price) -> Cents {
        let p = if limit.cents() > 50 {
            50
        } else {
            limit.cents()
        } as u64;
        self.taker_from_weight(contracts as u64 * p * (100 - p))
    }
}

/// `cᵢ·Pᵢ·(100 − Pᵢ)` for one fill.
#[inline]
pub const fn level_weight(contracts: u32, price: Price) -> u64 {
    let p = price.cents() as u64;
    contracts as u64 * p * (100 - p)
}

/// `Σ cᵢ·Pᵢ·(100 − Pᵢ)` over fills.
pub fn fee_weight(fills: &[(u32, Price)]) -> u64 {
    fills
        .iter()
        .fold(0u64, |acc, &(c, p)| acc.saturating_add(level_weight(c, p)))
}

#[inline]
const fn fee_from_weight(rate_e4: u32, weight: u64) -> Cents {
    // Fast path in u64 (every realistic order: 2⁶⁴ ≈ 1.8e19 > 700 × u32::MAX × 2 500); the
    // u128 division is a slow library call and the mask evaluates this 20 times.
    match (rate_e4 as u64).checked_mul(weight) {
        Some(num) => Cents(num.div_ceil(1_000_000) as i64),
        None => {
            let num = rate_e4 as u128 * weight as u128;
            Cents(num.div_ceil(1_000_000) as i64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(c: u8) -> Price {
        Price::new(c).unwrap()
    }

    #[test]
    fn taker_vectors_from_spec() {
        let f = FeeSchedule::KALSHI;
        assert_eq!(f.taker_fee(&[(1, p(50))]), Cents(2));
        assert_eq!(f.taker_fee(&[(10, p(50))]), Cents(18));
        for (price, fee) in [(1, 7), (5, 34), (35, 160), (50, 175), (90, 63), (99, 7)] {
            assert_eq!(f.taker_fee(&[(100, p(price))]), Cents(fee), "100 @ {price}");
        }
    }

    #[test]
    fn maker_vectors_from_spec() {
        let on = FeeSchedule {
            maker_fees: true,
            ..FeeSchedule::KALSHI
        };
        assert_eq!(on.maker_fee(&[(100, p(50))]), Cents(44));
        assert_eq!(on.maker_fee(&[(100, p(25))]), Cents(33));
        assert_eq!(FeeSchedule::KALSHI.maker_fee(&[(100, p(50))]), Cents(0));
    }

    #[test]
    fn fee_is_per_order_per_step_not_per_level() {
        // Two levels summed before the ceiling: 1@50 + 1@50 = 3.5 → 4, not 2 + 2.
        let f = FeeSchedule::KALSHI;
        assert_eq!(f.taker_fee(&[(1, p(50)), (1, p(50))]), Cents(4));
        assert_eq!(f.taker_fee(&[]), Cents(0));
    }

    #[test]
    fn u64_fast_path_matches_u128() {
        let f = FeeSchedule {
            maker_fees: true,
            ..FeeSchedule::KALSHI
        };
        for weight in [
            0,
            1,
            99,
            2_500,
            999_999,
            1_000_000,
            u32::MAX as u64 * 2_500,
            u64::MAX,
        ] {
            let exact = |rate: u32| (rate as u128 * weight as u128).div_ceil(1_000_000) as i64;
            assert_eq!(f.taker_from_weight(weight).0, exact(700), "{weight}");
            assert_eq!(f.maker_from_weight(weight).0, exact(175), "{weight}");
        }
    }

    #[test]
    fn worst_case_bounds_every_fill_below_limit() {
        let f = FeeSchedule::KALSHI;
        for limit in 1..=99u8 {
            let wc = f.worst_case_taker(100, p(limit));
            for fill in 1..=limit {
                assert!(f.taker_fee(&[(100, p(fill))]) <= wc);
            }
        }
    }
}
