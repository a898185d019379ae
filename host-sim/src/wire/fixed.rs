//! Kalshi's fixed-point strings, parsed and formatted without floats.
//!
//! - Dollar amounts such as `"0.5600"` (up to 6 decimals on the wire). A price must be a
//!   whole number of cents in 1..=99: sub-cent prices are rejected, never rounded. Money
//!   amounts (fees, balances) may be finer than a cent (Kalshi rounds trade fees up to
//!   $0.0001 and keeps direct members' balances to $0.0001): they are read exactly in
//!   micro-dollars and rounded to cents by the caller, in the direction that is safe.
//! - Contract counts such as `"123.45"` (2 decimals on the wire, possibly signed for deltas)
//!   become centi-contracts; finer precision is rejected.

use std::fmt;

use kalsim_core::{Contracts, Price};

/// Why a fixed-point string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FixedError {
    /// Not a decimal number.
    Syntax(String),
    /// More precision than the unit holds (a sub-cent price, a sub-centi count).
    TooPrecise(String),
    /// Outside the representable or allowed range.
    OutOfRange(String),
}

impl fmt::Display for FixedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FixedError::Syntax(s) => write!(f, "not a fixed-point decimal: {s:?}"),
            FixedError::TooPrecise(s) => write!(f, "more precision than allowed: {s:?}"),
            FixedError::OutOfRange(s) => write!(f, "out of range: {s:?}"),
        }
    }
}

impl std::error::Error for FixedError {}

/// Parse a signed decimal into an integer scaled by `10^scale`; digits past `scale` must be 0.
fn parse_scaled(s: &str, scale: u32) -> Result<i64, FixedError> {
    let err = || FixedError::Syntax(s.to_owned());
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty() {
        return Err(err());
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    if body.contains('.') && frac.is_empty() {
        return Err(err());
    }
    let range = || FixedError::OutOfRange(s.to_owned());
    let mut value: i64 = 0;
    for b in int.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .ok_or_else(range)?;
    }
    let fb = frac.as_bytes();
    for i in 0..scale as usize {
        let d = fb.get(i).map_or(0, |b| i64::from(b - b'0'));
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(d))
            .ok_or_else(range)?;
    }
    if fb.iter().skip(scale as usize).any(|&b| b != b'0') {
        return Err(FixedError::TooPrecise(s.to_owned()));
    }
    Ok(if neg { -value } else { value })
}

/// [`parse_scaled`] with a short reason for a message naming the field: a signed decimal
/// scaled by `10^places`, extra decimals allowed only when they are zeros.
pub(crate) fn decimal_scaled(t: &str, places: u32) -> Result<i64, &'static str> {
    parse_scaled(t, places).map_err(|e| match e {
        FixedError::Syntax(_) => "not a plain decimal",
        FixedError::TooPrecise(_) => "too many decimal places",
        FixedError::OutOfRange(_) => "number too large",
    })
}

/// A signed dollar amount scaled by `10^scale` (`scale = 6`: micro-dollars); digits past
/// `scale` must be zero.
pub fn parse_dollars_scaled(s: &str, scale: u32) -> Result<i64, FixedError> {
    parse_scaled(s, scale)
}

/// `"12.34"` dollars → 1234 cents (signed; sub-cent amounts are an error).
pub fn parse_dollars_to_cents(s: &str) -> Result<i64, FixedError> {
    parse_scaled(s, 2)
}

/// Micro-dollars in one cent.
pub const MICROS_PER_CENT: i64 = 10_000;

/// `"0.0175"` dollars → 17 500 micro-dollars (signed, exact to Kalshi's 6 decimals).
pub fn parse_dollars_to_micros(s: &str) -> Result<i64, FixedError> {
    parse_scaled(s, 6)
}

/// Micro-dollars rounded up to whole cents (toward +∞): 17 500 → 2, −17 500 → −1.
pub const fn micros_to_cents_up(micros: i64) -> i64 {
    let cents = micros.div_euclid(MICROS_PER_CENT);
    if micros.rem_euclid(MICROS_PER_CENT) == 0 {
        cents
    } else {
        cents + 1
    }
}

/// Micro-dollars rounded down to whole cents (toward −∞): 17 500 → 1, −17 500 → −2.
pub const fn micros_to_cents_down(micros: i64) -> i64 {
    micros.div_euclid(MICROS_PER_CENT)
}

/// A price in dollars (`"0.5600"`) → [`Price`] in cents; must be 1..=99 whole cents.
pub fn parse_price_dollars(s: &str) -> Result<Price, FixedError> {
    let cents = parse_dollars_to_cents(s)?;
    Price::from_i64(cents).map_err(|_| FixedError::OutOfRange(s.to_owned()))
}

/// A contract count (`"123.45"`, `"-5.00"`, `"10"`) → signed centi-contracts.
pub fn parse_centi_contracts(s: &str) -> Result<i64, FixedError> {
    parse_scaled(s, 2)
}

/// A whole, non-negative contract count such as `"10.00"`.
pub fn parse_whole_contracts(s: &str) -> Result<Contracts, FixedError> {
    let centi = parse_centi_contracts(s)?;
    if centi % 100 != 0 {
        return Err(FixedError::TooPrecise(s.to_owned()));
    }
    u32::try_from(centi / 100)
        .map(Contracts)
        .map_err(|_| FixedError::OutOfRange(s.to_owned()))
}

/// A price as Kalshi's 4-decimal dollar string: 56¢ → `"0.5600"`.
pub fn format_price_dollars(price: Price) -> String {
    format!("0.{:02}00", price.cents())
}

/// A contract count as Kalshi's 2-decimal string: 10 → `"10.00"`.
pub fn format_count_fp(count: Contracts) -> String {
    format!("{}.00", count.0)
}

/// Centi-contracts as a 2-decimal string: 12345 → `"123.45"`, -500 → `"-5.00"`.
pub fn format_centi_contracts(centi: i64) -> String {
    let sign = if centi < 0 { "-" } else { "" };
    let a = centi.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal_scaled("0.5600", 4), Ok(5600));
        assert_eq!(decimal_scaled("1406474.86", 2), Ok(140_647_486));
        assert_eq!(decimal_scaled("-12.3", 2), Ok(-1230));
        assert_eq!(decimal_scaled("5", 2), Ok(500));
        assert_eq!(decimal_scaled("1.2300", 2), Ok(123));
        assert_eq!(decimal_scaled("1.234", 2), Err("too many decimal places"));
        assert!(decimal_scaled("1e3", 2).is_err());
        assert!(decimal_scaled("", 2).is_err());
    }

    #[test]
    fn prices() {
        assert_eq!(parse_price_dollars("0.5600").unwrap().cents(), 56);
        assert_eq!(parse_price_dollars("0.56").unwrap().cents(), 56);
        assert_eq!(parse_price_dollars("0.010000").unwrap().cents(), 1);
        assert_eq!(parse_price_dollars(".99").unwrap().cents(), 99);
        assert!(matches!(
            parse_price_dollars("0.5650"),
            Err(FixedError::TooPrecise(_))
        ));
        assert!(matches!(
            parse_price_dollars("1.00"),
            Err(FixedError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_price_dollars("0.00"),
            Err(FixedError::OutOfRange(_))
        ));
        for bad in ["", ".", "abc", "0.5x", "1e2", "0..5", "--1"] {
            assert!(
                matches!(parse_price_dollars(bad), Err(FixedError::Syntax(_))),
                "{bad}"
            );
        }
        for c in 1..=99u8 {
            let p = Price::new(c).unwrap();
            assert_eq!(parse_price_dollars(&format_price_dollars(p)).unwrap(), p);
        }
    }

    #[test]
    fn counts() {
        assert_eq!(parse_centi_contracts("123.45").unwrap(), 12345);
        assert_eq!(parse_centi_contracts("1406474.86").unwrap(), 140647486);
        assert_eq!(parse_centi_contracts("-5.00").unwrap(), -500);
        assert_eq!(parse_centi_contracts("10").unwrap(), 1000);
        assert_eq!(parse_centi_contracts("0.5").unwrap(), 50);
        assert!(matches!(
            parse_centi_contracts("0.001"),
            Err(FixedError::TooPrecise(_))
        ));
        assert_eq!(parse_centi_contracts("1.2300").unwrap(), 123);
        assert!(matches!(
            parse_centi_contracts("99999999999999999999"),
            Err(FixedError::OutOfRange(_))
        ));
        assert_eq!(parse_whole_contracts("10.00").unwrap(), Contracts(10));
        assert!(parse_whole_contracts("10.50").is_err());
        assert!(parse_whole_contracts("-1").is_err());
        assert_eq!(format_count_fp(Contracts(7)), "7.00");
        assert_eq!(format_centi_contracts(12345), "123.45");
        assert_eq!(format_centi_contracts(-500), "-5.00");
        assert_eq!(parse_dollars_to_cents("-12.34").unwrap(), -1234);
    }

    #[test]
    fn money_finer_than_a_cent() {
        assert_eq!(parse_dollars_to_micros("0.0175"), Ok(17_500));
        assert_eq!(parse_dollars_to_micros("12.345678"), Ok(12_345_678));
        assert_eq!(parse_dollars_to_micros("-0.01"), Ok(-10_000));
        assert!(matches!(
            parse_dollars_to_micros("0.0000001"),
            Err(FixedError::TooPrecise(_))
        ));
        assert_eq!(
            (micros_to_cents_up(17_500), micros_to_cents_down(17_500)),
            (2, 1)
        );
        assert_eq!(
            (micros_to_cents_up(-17_500), micros_to_cents_down(-17_500)),
            (-1, -2)
        );
        assert_eq!(
            (micros_to_cents_up(20_000), micros_to_cents_down(20_000)),
            (2, 2)
        );
        assert_eq!((micros_to_cents_up(1), micros_to_cents_down(-1)), (1, -1));
    }
}
