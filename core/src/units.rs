//! Units of SPEC §1: integer newtypes with checked construction and arithmetic.
//!
//! Money is integer cents, sizes are whole contracts, book depth is centi-contracts
//! (Kalshi publishes fractional sizes such as `"1406474.86"`), fractions are basis points.
//! No float ever enters state.

use core::fmt;

/// A price in integer cents, always within `1..=99` (SPEC §1).
///
/// A YES price `p` and the NO price `100 - p` describe the same level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(u8);

/// Error for a value that is not a valid price (outside `1..=99` cents).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriceOutOfRange(pub i64);

impl fmt::Display for PriceOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "price {} cents is outside 1..=99", self.0)
    }
}

impl core::error::Error for PriceOutOfRange {}

impl Price {
    /// Lowest tradable price, 1 cent.
    pub const MIN: Price = Price(1);
    /// Highest tradable price, 99 cents.
    pub const MAX: Price = Price(99);

    /// Checked constructor from cents.
    pub const fn new(cents: u8) -> Result<Price, PriceOutOfRange> {
        if cents >= 1 && cents <= 99 {
            Ok(Price(cents))
        } else {
            Err(PriceOutOfRange(cents as i64))
        }
    }

    /// Checked constructor from any integer number of cents.
    pub const fn from_i64(cents: i64) -> Result<Price, PriceOutOfRange> {
        if cents >= 1 && cents <= 99 {
            Ok(Price(cents as u8))
        } else {
            Err(PriceOutOfRange(cents))
        }
    }

    /// Constructor for callers that already hold a value in `1..=99` (crate-internal).
    #[inline]
    pub(crate) const fn new_unchecked(cents: u8) -> Price {
        debug_assert!(cents >= 1 && cents <= 99);
        Price(cents)
    }

    /// The price in cents.
    #[inline]
    pub const fn cents(self) -> u8 {
        self.0
    }

    /// The same level seen from the other contract: `100 - p`.
    #[inline]
    pub const fn complement(self) -> Price {
        Price(100 - self.0)
    }

    /// Index into a price-indexed array of length 100.
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}¢", self.0)
    }
}

/// A whole number of contracts (order sizes, positions' magnitude).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Contracts(pub u32);

impl Contracts {
    /// Zero contracts.
    pub const ZERO: Contracts = Contracts(0);

    /// Checked addition.
    pub const fn checked_add(self, other: Contracts) -> Option<Contracts> {
        match self.0.checked_add(other.0) {
            Some(v) => Some(Contracts(v)),
            None => None,
        }
    }

    /// Checked subtraction.
    pub const fn checked_sub(self, other: Contracts) -> Option<Contracts> {
        match self.0.checked_sub(other.0) {
            Some(v) => Some(Contracts(v)),
            None => None,
        }
    }

    /// The same count expressed in centi-contracts of book depth.
    pub const fn to_centi(self) -> CentiContracts {
        CentiContracts(self.0 as u64 * 100)
    }
}

/// Money in integer cents (cash, fees, P&L, portfolio value).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cents(pub i64);

impl Cents {
    /// Zero cents.
    pub const ZERO: Cents = Cents(0);

    /// Checked addition.
    pub const fn checked_add(self, other: Cents) -> Option<Cents> {
        match self.0.checked_add(other.0) {
            Some(v) => Some(Cents(v)),
            None => None,
        }
    }

    /// Checked subtraction.
    pub const fn checked_sub(self, other: Cents) -> Option<Cents> {
        match self.0.checked_sub(other.0) {
            Some(v) => Some(Cents(v)),
            None => None,
        }
    }

    /// Checked multiplication by a count.
    pub const fn checked_mul(self, n: i64) -> Option<Cents> {
        match self.0.checked_mul(n) {
            Some(v) => Some(Cents(v)),
            None => None,
        }
    }
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}${}.{:02}", abs / 100, abs % 100)
    }
}

/// A fraction in basis points (25 % = 2 500 bps).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bps(pub u32);

impl Bps {
    /// 100 %.
    pub const ONE: Bps = Bps(10_000);

    /// `value × self / 10 000`, rounded toward negative infinity, in i128 so it cannot overflow.
    pub const fn apply_floor(self, value: Cents) -> Cents {
        // i64 fast path; the i128 division is a slow library call on the mask's hot path.
        match value.0.checked_mul(self.0 as i64) {
            Some(prod) => Cents(prod.div_euclid(10_000)),
            None => {
                let prod = value.0 as i128 * self.0 as i128;
                Cents(prod.div_euclid(10_000) as i64)
            }
        }
    }
}

/// Book depth in centi-contracts (1 contract = 100).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CentiContracts(pub u64);

impl CentiContracts {
    /// No depth.
    pub const ZERO: CentiContracts = CentiContracts(0);

    /// Whole contracts contained in this depth (fractions are not tradable).
    pub const fn whole_contracts(self) -> u64 {
        self.0 / 100
    }

    /// Checked addition.
    pub const fn checked_add(self, other: CentiContracts) -> Option<CentiContracts> {
        match self.0.checked_add(other.0) {
            Some(v) => Some(CentiContracts(v)),
            None => None,
        }
    }

    /// Subtraction clamped at zero.
    pub const fn saturating_sub(self, other: CentiContracts) -> CentiContracts {
        CentiContracts(self.0.saturating_sub(other.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_range_is_enforced() {
        assert!(Price::new(0).is_err());
        assert!(Price::new(100).is_err());
        assert_eq!(Price::new(1).unwrap().cents(), 1);
        assert_eq!(Price::new(99).unwrap().complement().cents(), 1);
        assert_eq!(Price::from_i64(-5), Err(PriceOutOfRange(-5)));
    }

    #[test]
    fn cents_display() {
        assert_eq!(format!("{}", Cents(123_456)), "$1234.56");
        assert_eq!(format!("{}", Cents(-5)), "-$0.05");
    }

    #[test]
    fn bps_floor() {
        assert_eq!(Bps(2_500).apply_floor(Cents(100_000)), Cents(25_000));
        assert_eq!(Bps(2_500).apply_floor(Cents(-3)), Cents(-1));
        // Beyond i64 products the i128 path gives the exact floor.
        assert_eq!(Bps(10_000).apply_floor(Cents(i64::MAX)), Cents(i64::MAX));
        assert_eq!(
            Bps(20_000).apply_floor(Cents(i64::MIN / 2)),
            Cents(i64::MIN)
        );
    }

    #[test]
    fn checked_arithmetic() {
        assert_eq!(Contracts(u32::MAX).checked_add(Contracts(1)), None);
        assert_eq!(Cents(i64::MIN).checked_sub(Cents(1)), None);
        assert_eq!(
            CentiContracts(5).saturating_sub(CentiContracts(9)),
            CentiContracts::ZERO
        );
        assert_eq!(CentiContracts(1_999).whole_contracts(), 19);
    }
}
