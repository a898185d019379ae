//! Kalshi's wire format: borrowed serde structs for one JSON line, and the exact
//! fixed-point conversions (dollar strings → cents, contract strings → centi-contracts).
//!
//! One struct covers every message type: all fields are optional and unknown fields are
//! ignored, so each line is deserialized once, borrowing strings from the line buffer.

use std::borrow::Cow;
use std::fmt;

use kalsim_core::{CentiContracts, Price, Side};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::error::DataErrorKind;

/// An error with the JSON path of the field to blame.
#[derive(Debug)]
pub(crate) struct FieldError {
    pub kind: DataErrorKind,
    pub field: String,
}

pub(crate) type FieldResult<T> = Result<T, FieldError>;

pub(crate) fn field_err<T>(kind: DataErrorKind, field: impl Into<String>) -> FieldResult<T> {
    Err(FieldError {
        kind,
        field: field.into(),
    })
}

fn bad<T>(message: String, field: impl Into<String>) -> FieldResult<T> {
    field_err(DataErrorKind::BadValue { message }, field)
}

/// A JSON scalar whose interpretation depends on the field (integer cents vs dollar string).
/// Wrong types are kept (as their JSON type name) so the error can name the field.
#[derive(Debug)]
pub(crate) enum Scalar<'a> {
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    Other(&'static str),
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar<'a>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(i64::try_from(v).map_or(Scalar::Other("integer too large"), Scalar::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other("a boolean"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other("null"))
            }
        }
        d.deserialize_any(V)
    }
}

impl Scalar<'_> {
    fn describe(&self) -> String {
        match self {
            Scalar::Int(v) => format!("integer {v}"),
            Scalar::Float(v) => format!("non-integer number {v}"),
            Scalar::Str(s) => format!("string {s:?}"),
            Scalar::Other(t) => (*t).to_owned(),
        }
    }
}

/// The `msg` object of every message type (and the REST `orderbook_fp` object).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Msg<'a> {
    #[serde(borrow, default)]
    pub market_ticker: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub yes: Option<Vec<(Scalar<'a>, Scalar<'a>)>>,
    #[serde(borrow, default)]
    pub no: Option<Vec<(Scalar<'a>, Scalar<'a>)>>,
    #[serde(borrow, default)]
    pub yes_dollars_fp: Option<Vec<(Scalar<'a>, Scalar<'a>)>>,
    #[serde(borrow, default)]
    pub no_dollars_fp: Option<Vec<(Scalar<'a>, Scalar<'a>)>>,
    #[serde(borrow, default)]
    pub yes_dollars: Option<Vec<(Scalar<'a>, Scalar<'a>)>>,
    #[serde(borrow, default)]
    pub no_dollars: Option<Vec<(Scalar<'a>, Scalar<'a>)>>,
    #[serde(borrow, default)]
    pub side: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    pub price: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    pub delta: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    pub price_dollars: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    pub delta_fp: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    pub ts: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    pub ts_ms: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    pub result: Option<Scalar<'a>>,
    /// Forecast (kalsim's own message, SPEC §10): probability of YES.
    #[serde(borrow, default)]
    pub p_yes: Option<Scalar<'a>>,
    /// Forecast: its stated standard error, probability units.
    #[serde(borrow, default)]
    pub stderr: Option<Scalar<'a>>,
    /// Lifecycle: when the market closes, seconds since the epoch.
    #[serde(borrow, default)]
    pub close_ts: Option<Scalar<'a>>,
    /// Lifecycle: when the result was determined, seconds since the epoch.
    #[serde(borrow, default)]
    pub determination_ts: Option<Scalar<'a>>,
}

/// One JSON line: a WebSocket envelope, or a REST order-book response.
#[derive(Debug, Deserialize)]
pub(crate) struct Line<'a> {
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub sid: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    pub seq: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    pub msg: Option<Msg<'a>>,
    #[serde(borrow, default)]
    pub orderbook_fp: Option<Msg<'a>>,
    #[serde(borrow, default)]
    pub orderbook: Option<Msg<'a>>,
    #[serde(borrow, default)]
    pub ticker: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub market_ticker: Option<Cow<'a, str>>,
}

/// A non-negative integer (`sid`, `seq`, `ts_ms`).
pub(crate) fn unsigned(s: &Scalar<'_>, field: &str) -> FieldResult<u64> {
    match s {
        Scalar::Int(v) if *v >= 0 => Ok(*v as u64),
        other => bad(
            format!(
                "expected a non-negative integer, found {}",
                other.describe()
            ),
            field,
        ),
    }
}

/// `yes` / `no`.
pub(crate) fn side(s: &Scalar<'_>, field: &str) -> FieldResult<Side> {
    match s {
        Scalar::Str(t) if t == "yes" => Ok(Side::Yes),
        Scalar::Str(t) if t == "no" => Ok(Side::No),
        other => bad(
            format!(
                "unknown side {}: expected \"yes\" or \"no\"",
                other.describe()
            ),
            field,
        ),
    }
}

/// A price: an integer is cents (legacy), a string is dollars (`"0.5600"`).
pub(crate) fn price(s: &Scalar<'_>, field: &str) -> FieldResult<Price> {
    let cents = match s {
        Scalar::Int(v) => *v,
        Scalar::Str(t) => dollars_to_cents(t, field)?,
        other => {
            return bad(
                format!(
                    "expected integer cents or a dollar string, found {}",
                    other.describe()
                ),
                field,
            );
        }
    };
    Price::from_i64(cents).or_else(|_| field_err(DataErrorKind::PriceOutOfRange { cents }, field))
}

/// A signed quantity in centi-contracts: an integer is whole contracts (legacy), a string is
/// a decimal number of contracts with at most two significant decimals (`"123.45"`).
pub(crate) fn quantity_centi(s: &Scalar<'_>, field: &str) -> FieldResult<i64> {
    match s {
        Scalar::Int(v) => v
            .checked_mul(100)
            .map_or_else(|| bad(format!("quantity {v} is too large"), field), Ok),
        Scalar::Str(t) => decimal_scaled(t, 2).map_or_else(
            |why| {
                bad(
                    format!("quantity {t:?} is not a decimal with at most 2 places: {why}"),
                    field,
                )
            },
            Ok,
        ),
        other => bad(
            format!(
                "expected integer contracts or a decimal string, found {}",
                other.describe()
            ),
            field,
        ),
    }
}

/// Dollars with any number of decimals → cents; digits past the cent must be zero.
fn dollars_to_cents(t: &str, field: &str) -> FieldResult<i64> {
    // Parse at hundredths of a cent (Kalshi's 4 decimals), then require a whole cent.
    match decimal_scaled(t, 4) {
        Ok(v) if v % 100 == 0 => Ok(v / 100),
        Ok(_) => field_err(DataErrorKind::SubCentPrice { text: t.to_owned() }, field),
        Err("too many decimal places") => {
            field_err(DataErrorKind::SubCentPrice { text: t.to_owned() }, field)
        }
        Err(why) => bad(format!("price {t:?} is not a dollar amount: {why}"), field),
    }
}

/// Parse an optionally signed decimal string exactly, scaled by `10^places`. Extra decimals
/// are allowed only when they are zeros.
pub(crate) fn decimal_scaled(t: &str, places: u32) -> Result<i64, &'static str> {
    let (negative, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err("no digits");
    }
    let mut value: i64 = 0;
    for b in int_part.bytes() {
        if !b.is_ascii_digit() {
            return Err("unexpected character");
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add((b - b'0') as i64))
            .ok_or("number too large")?;
    }
    let mut digits = 0u32;
    for b in frac_part.bytes() {
        if !b.is_ascii_digit() {
            return Err("unexpected character");
        }
        if digits < places {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add((b - b'0') as i64))
                .ok_or("number too large")?;
            digits += 1;
        } else if b != b'0' {
            return Err("too many decimal places");
        }
    }
    while digits < places {
        value = value.checked_mul(10).ok_or("number too large")?;
        digits += 1;
    }
    Ok(if negative { -value } else { value })
}

/// A probability (or a standard error) in parts per million: a decimal string with at most
/// six decimals (`"0.6132"`), a JSON number (rounded to the nearest ppm), or 0 / 1. The
/// value must lie in `0..=1` (SPEC §10: p outside 0..=1 and negative errors are typed
/// errors naming the field).
pub(crate) fn probability_ppm(s: &Scalar<'_>, field: &str) -> FieldResult<u32> {
    let ppm: i64 = match s {
        Scalar::Int(v) => v.saturating_mul(1_000_000),
        Scalar::Float(v) if v.is_finite() => libm::round(*v * 1e6) as i64,
        Scalar::Str(t) => match decimal_scaled(t, 6) {
            Ok(v) => v,
            Err(why) => return bad(format!("{t:?} is not a probability: {why}"), field),
        },
        other => return bad(format!("{other:?} is not a probability"), field),
    };
    if !(0..=1_000_000).contains(&ppm) {
        return bad(format!("{} is outside 0..=1", ppm as f64 / 1e6), field);
    }
    Ok(ppm as u32)
}

/// Snapshot levels `[[price, qty], ...]` → `(price, depth)`, zero-depth levels dropped.
pub(crate) fn levels(
    raw: &[(Scalar<'_>, Scalar<'_>)],
    field: &str,
    out: &mut Vec<(Price, CentiContracts)>,
) -> FieldResult<()> {
    for (i, (p, q)) in raw.iter().enumerate() {
        let price = price(p, &format!("{field}[{i}][0]"))?;
        let qty = quantity_centi(q, &format!("{field}[{i}][1]"))?;
        if qty < 0 {
            return bad(
                format!("snapshot depth {qty} centi-contracts is negative"),
                format!("{field}[{i}][1]"),
            );
        }
        if qty > 0 {
            out.push((price, CentiContracts(qty as u64)));
        }
    }
    Ok(())
}

/// A timestamp: `ts_ms` (integer milliseconds) wins; else `ts` as RFC 3339 text, or an
/// integer (seconds when below 10^11, else milliseconds).
pub(crate) fn timestamp_ms(msg: &Msg<'_>) -> FieldResult<Option<i64>> {
    if let Some(s) = &msg.ts_ms {
        return Ok(Some(unsigned(s, "msg.ts_ms")? as i64));
    }
    match &msg.ts {
        None => Ok(None),
        Some(Scalar::Int(v)) => Ok(Some(integer_timestamp_ms(*v))),
        Some(Scalar::Str(t)) => rfc3339_ms(t).map(Some).map_or_else(
            |why| bad(format!("timestamp {t:?} is not RFC 3339: {why}"), "msg.ts"),
            Ok,
        ),
        Some(other) => bad(
            format!("expected an RFC 3339 string, found {}", other.describe()),
            "msg.ts",
        ),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: `(year, month, day)`.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Milliseconds since the Unix epoch → `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn format_rfc3339_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

/// An integer timestamp in milliseconds: seconds when below 10^11 (before the year 5138),
/// else already milliseconds.
pub(crate) fn integer_timestamp_ms(v: i64) -> i64 {
    if v.unsigned_abs() < 100_000_000_000 {
        v.saturating_mul(1000)
    } else {
        v
    }
}

/// Parse RFC 3339 (`2024-05-01T12:34:56.789Z`, `...+02:00`, fraction optional) to epoch ms.
/// Digits past the millisecond are truncated.
pub(crate) fn rfc3339_ms(t: &str) -> Result<i64, &'static str> {
    let b = t.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Result<i64, &'static str> {
        let s = b.get(range).ok_or("too short")?;
        let mut v = 0i64;
        for &c in s {
            if !c.is_ascii_digit() {
                return Err("expected a digit");
            }
            v = v * 10 + (c - b'0') as i64;
        }
        Ok(v)
    };
    let sep = |i: usize, allowed: &[u8]| -> Result<(), &'static str> {
        match b.get(i) {
            Some(c) if allowed.contains(c) => Ok(()),
            _ => Err("unexpected separator"),
        }
    };
    let year = num(0..4)?;
    sep(4, b"-")?;
    let month = num(5..7)?;
    sep(7, b"-")?;
    let day = num(8..10)?;
    sep(10, b"Tt ")?;
    let hour = num(11..13)?;
    sep(13, b":")?;
    let minute = num(14..16)?;
    sep(16, b":")?;
    let second = num(17..19)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return Err("field out of range");
    }
    if second > 60 {
        return Err("field out of range");
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                millis = millis * 10 + (b[i] - b'0') as i64;
            }
            i += 1;
        }
        if i == start {
            return Err("empty fraction");
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    let offset_min = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&c @ (b'+' | b'-')) if i + 6 == b.len() => {
            sep(i + 3, b":")?;
            let off = num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?;
            if c == b'-' { -off } else { off }
        }
        _ => return Err("missing or malformed time zone"),
    };
    let days = days_from_civil(year, month as u32, day as u32);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    Ok(secs * 1000 + millis)
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
        assert!(decimal_scaled("1.234", 2).is_err());
        assert!(decimal_scaled("1e3", 2).is_err());
        assert!(decimal_scaled("", 2).is_err());
    }

    #[test]
    fn dollar_prices() {
        let p = |t: &str| price(&Scalar::Str(Cow::Borrowed(t)), "f").map(|p| p.cents());
        assert_eq!(p("0.5600").unwrap(), 56);
        assert_eq!(p("0.01").unwrap(), 1);
        assert!(matches!(
            p("0.5650").unwrap_err().kind,
            DataErrorKind::SubCentPrice { .. }
        ));
        assert!(matches!(
            p("1.0000").unwrap_err().kind,
            DataErrorKind::PriceOutOfRange { cents: 100 }
        ));
    }

    #[test]
    fn timestamps_round_trip() {
        assert_eq!(rfc3339_ms("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(
            rfc3339_ms("2024-02-29T12:34:56.789Z"),
            Ok(1_709_210_096_789)
        );
        assert_eq!(
            rfc3339_ms("2024-02-29T14:34:56.789123+02:00"),
            Ok(1_709_210_096_789)
        );
        for ms in [0, 1_709_210_096_789, 1_735_689_600_123, 951_782_400_000] {
            assert_eq!(rfc3339_ms(&format_rfc3339_ms(ms)), Ok(ms));
        }
        assert!(rfc3339_ms("2024-13-01T00:00:00Z").is_err());
        assert!(rfc3339_ms("yesterday").is_err());
    }
}
