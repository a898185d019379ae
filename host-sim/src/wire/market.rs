//! Kalshi's market-data messages (book snapshot and delta, lifecycle, the REST order book)
//! and kalsim's forecast message: borrowed serde structs and the typed decoders that the
//! replay loader and the WebSocket client both use, so a capture and a live feed are read
//! by the same code with the same edge cases.
//!
//! One struct covers every message type: all fields are optional and unknown fields are
//! ignored, so each line is deserialized once, borrowing strings from the line buffer (or
//! from a `serde_json::Value` the live client already holds). Numbers are read exactly:
//! an integer price is cents (legacy), a dollar string or a JSON float is dollars (the
//! float's shortest decimal text is parsed, never an `f64` computation).

use std::borrow::Cow;
use std::fmt;

use kalsim_core::{CentiContracts, OrderBook, Price, Side};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::fixed::decimal_scaled;
use super::time::{integer_timestamp_ms, rfc3339_ms};
use crate::data::{DataErrorKind, Forecast};

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
    Bool(bool),
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
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Bool(v))
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
            Scalar::Bool(_) => "a boolean".to_owned(),
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
    /// Lifecycle: `created`, `activated`, `deactivated`, `close_date_updated`, ...
    #[serde(borrow, default)]
    pub event_type: Option<Cow<'a, str>>,
    /// Lifecycle: whether trading is paused.
    #[serde(borrow, default)]
    pub is_deactivated: Option<Scalar<'a>>,
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
        Scalar::Str(t) => dollars_to_cents(t.trim(), field)?,
        Scalar::Float(v) => dollars_to_cents(&float_text(*v), field)?,
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
        Scalar::Str(t) => decimal_quantity(t.trim(), field),
        Scalar::Float(v) => decimal_quantity(&float_text(*v), field),
        other => bad(
            format!(
                "expected integer contracts or a decimal string, found {}",
                other.describe()
            ),
            field,
        ),
    }
}

/// The shortest decimal text of a JSON float (`0.56` → `"0.56"`, never an exponent).
fn float_text(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::from("not a number")
    }
}

fn decimal_quantity(t: &str, field: &str) -> FieldResult<i64> {
    decimal_scaled(t, 2).map_or_else(
        |why| {
            bad(
                format!("quantity {t:?} is not a decimal with at most 2 places: {why}"),
                field,
            )
        },
        Ok,
    )
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

/// What a decoder does with a sub-cent price (a deci-cent market's level).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SubCent {
    /// A typed error naming the field (replay, SPEC §10).
    Reject,
    /// Skip the level and count it (a live feed keeps trading the cent levels, SPEC §12).
    Skip,
}

/// Snapshot levels `[[price, qty], ...]` → `(price, depth)`, zero-depth levels dropped;
/// returns the sub-cent levels skipped under [`SubCent::Skip`].
pub(crate) fn levels(
    raw: &[(Scalar<'_>, Scalar<'_>)],
    field: &str,
    sub_cent: SubCent,
    out: &mut Vec<(Price, CentiContracts)>,
) -> FieldResult<u64> {
    let mut skipped = 0;
    for (i, (p, q)) in raw.iter().enumerate() {
        let price = match price(p, &format!("{field}[{i}][0]")) {
            Ok(p) => p,
            Err(FieldError {
                kind: DataErrorKind::SubCentPrice { .. },
                ..
            }) if sub_cent == SubCent::Skip => {
                skipped += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
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
    Ok(skipped)
}

/// The ladders a snapshot-like object holds (`{side}_dollars_fp`, `{side}_dollars`, or the
/// legacy `{side}`; Kalshi omits a side with no bids), appended to `yes` and `no`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ladders {
    /// The field each side was read from (to blame a book error on).
    pub yes_field: &'static str,
    /// See `yes_field`.
    pub no_field: &'static str,
    /// Sub-cent levels skipped (under [`SubCent::Skip`]).
    pub skipped: u64,
}

/// Read both ladders of `msg` (field names under `prefix` for errors).
pub(crate) fn ladders(
    msg: &Msg<'_>,
    prefix: &str,
    sub_cent: SubCent,
    yes: &mut Vec<(Price, CentiContracts)>,
    no: &mut Vec<(Price, CentiContracts)>,
) -> FieldResult<Ladders> {
    type Raw<'m, 'a> = Option<&'m Vec<(Scalar<'a>, Scalar<'a>)>>;
    fn pick<'m, 'a>(
        fp: Raw<'m, 'a>,
        dollars: Raw<'m, 'a>,
        legacy: Raw<'m, 'a>,
        names: [&'static str; 3],
    ) -> Option<(&'m Vec<(Scalar<'a>, Scalar<'a>)>, &'static str)> {
        match (fp, dollars, legacy) {
            (Some(v), _, _) => Some((v, names[0])),
            (None, Some(v), _) => Some((v, names[1])),
            (None, None, Some(v)) => Some((v, names[2])),
            _ => None,
        }
    }
    let yes_src = pick(
        msg.yes_dollars_fp.as_ref(),
        msg.yes_dollars.as_ref(),
        msg.yes.as_ref(),
        ["yes_dollars_fp", "yes_dollars", "yes"],
    );
    let no_src = pick(
        msg.no_dollars_fp.as_ref(),
        msg.no_dollars.as_ref(),
        msg.no.as_ref(),
        ["no_dollars_fp", "no_dollars", "no"],
    );
    let mut skipped = 0;
    if let Some((raw, name)) = yes_src {
        skipped += levels(raw, &format!("{prefix}.{name}"), sub_cent, yes)?;
    }
    if let Some((raw, name)) = no_src {
        skipped += levels(raw, &format!("{prefix}.{name}"), sub_cent, no)?;
    }
    Ok(Ladders {
        yes_field: yes_src.map_or("yes", |s| s.1),
        no_field: no_src.map_or("no", |s| s.1),
        skipped,
    })
}

/// A whole book from a snapshot-like object (a WebSocket snapshot, the REST order book),
/// and the sub-cent levels skipped.
#[cfg_attr(not(feature = "live"), allow(dead_code))]
pub(crate) fn book(
    msg: &Msg<'_>,
    prefix: &str,
    sub_cent: SubCent,
) -> FieldResult<(OrderBook, u64)> {
    let (mut yes, mut no) = (Vec::new(), Vec::new());
    let l = ladders(msg, prefix, sub_cent, &mut yes, &mut no)?;
    let mut book = OrderBook::new();
    book.apply_snapshot(&yes, &no).map_err(|e| FieldError {
        kind: e.into(),
        field: prefix.to_owned(),
    })?;
    Ok((book, l.skipped))
}

/// An `orderbook_delta` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Delta {
    pub side: Side,
    pub price: Price,
    pub delta_centi: i64,
    pub ts_ms: Option<i64>,
    /// The fields the price and the delta were read from (to blame a book error on).
    pub price_field: &'static str,
    pub delta_field: &'static str,
}

/// Read an `orderbook_delta` body (`price_dollars` / legacy `price`, `delta_fp` / legacy
/// `delta`). A sub-cent price is a [`DataErrorKind::SubCentPrice`] the caller rejects or
/// skips.
pub(crate) fn delta(msg: &Msg<'_>) -> FieldResult<Delta> {
    let side = match &msg.side {
        Some(s) => side(s, "msg.side")?,
        None => return field_err(DataErrorKind::MissingField, "msg.side"),
    };
    let (price, price_field) = match (&msg.price_dollars, &msg.price) {
        (Some(p), _) => (price(p, "msg.price_dollars")?, "msg.price_dollars"),
        (None, Some(p)) => (price(p, "msg.price")?, "msg.price"),
        (None, None) => return field_err(DataErrorKind::MissingField, "msg.price"),
    };
    let (delta_centi, delta_field) = match (&msg.delta_fp, &msg.delta) {
        (Some(d), _) => (quantity_centi(d, "msg.delta_fp")?, "msg.delta_fp"),
        (None, Some(d)) => (quantity_centi(d, "msg.delta")?, "msg.delta"),
        (None, None) => return field_err(DataErrorKind::MissingField, "msg.delta"),
    };
    Ok(Delta {
        side,
        price,
        delta_centi,
        ts_ms: timestamp_ms(msg)?,
        price_field,
        delta_field,
    })
}

/// A `market_lifecycle_v2` body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Lifecycle {
    /// `event_type` as given (empty when absent).
    pub event_type: String,
    /// `close_ts`, Unix seconds.
    pub close_ts_s: Option<i64>,
    /// `determination_ts`, Unix seconds.
    pub determination_ts_s: Option<i64>,
    /// The determined result (`""` and absent: none).
    pub result: Option<Side>,
    /// `is_deactivated`, when given.
    pub is_deactivated: Option<bool>,
}

/// An integer given as a JSON integer, an integral float or a decimal string.
fn integer(s: &Scalar<'_>, field: &str) -> FieldResult<i64> {
    match s {
        Scalar::Int(v) => Ok(*v),
        Scalar::Float(v) if v.fract() == 0.0 && v.abs() < 9e15 => Ok(*v as i64),
        Scalar::Str(t) => t
            .trim()
            .parse()
            .map_or_else(|_| bad(format!("{t:?} is not an integer"), field), Ok),
        other => bad(
            format!("expected an integer, found {}", other.describe()),
            field,
        ),
    }
}

/// Read a `market_lifecycle_v2` body (the legacy `market_lifecycle` too).
pub(crate) fn lifecycle(msg: &Msg<'_>) -> FieldResult<Lifecycle> {
    let result = match &msg.result {
        None => None,
        Some(Scalar::Str(s)) if s.is_empty() => None,
        Some(Scalar::Str(s)) if s.eq_ignore_ascii_case("yes") => Some(Side::Yes),
        Some(Scalar::Str(s)) if s.eq_ignore_ascii_case("no") => Some(Side::No),
        Some(Scalar::Str(s)) => {
            return field_err(
                DataErrorKind::BadResult {
                    value: s.to_string(),
                },
                "msg.result",
            );
        }
        Some(other) => {
            return field_err(
                DataErrorKind::BadResult {
                    value: format!("{other:?}"),
                },
                "msg.result",
            );
        }
    };
    let opt_int =
        |s: &Option<Scalar<'_>>, field: &str| s.as_ref().map(|s| integer(s, field)).transpose();
    Ok(Lifecycle {
        event_type: msg.event_type.as_deref().unwrap_or("").to_owned(),
        close_ts_s: opt_int(&msg.close_ts, "msg.close_ts")?,
        determination_ts_s: opt_int(&msg.determination_ts, "msg.determination_ts")?,
        result,
        is_deactivated: match &msg.is_deactivated {
            Some(Scalar::Bool(b)) => Some(*b),
            _ => None,
        },
    })
}

/// Read a forecast body (SPEC §10); `event` is left 0 for the caller to place.
pub(crate) fn forecast(msg: &Msg<'_>) -> FieldResult<Forecast> {
    let p = match &msg.p_yes {
        Some(s) => probability_ppm(s, "msg.p_yes")?,
        None => return field_err(DataErrorKind::MissingField, "msg.p_yes"),
    };
    let stderr = match &msg.stderr {
        Some(s) => probability_ppm(s, "msg.stderr")?,
        None => return field_err(DataErrorKind::MissingField, "msg.stderr"),
    };
    Ok(Forecast {
        event: 0,
        ts_ms: timestamp_ms(msg)?,
        p_yes_ppm: p,
        stderr_ppm: stderr,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

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
        // A JSON float is dollars, read from its shortest text, exactly.
        assert_eq!(price(&Scalar::Float(0.56), "f").unwrap().cents(), 56);
        assert_eq!(price(&Scalar::Float(0.29), "f").unwrap().cents(), 29);
        assert!(matches!(
            price(&Scalar::Float(0.565), "f").unwrap_err().kind,
            DataErrorKind::SubCentPrice { .. }
        ));
        assert_eq!(quantity_centi(&Scalar::Float(12.5), "q").unwrap(), 1250);
    }

    #[test]
    fn one_decoder_for_a_capture_line_and_a_live_value() {
        let text = r#"{"market_ticker":"T","yes_dollars_fp":[["0.5600","10.00"],["0.5650","1.00"]],"no_dollars_fp":[[0.4,3.0]]}"#;
        let from_text: Msg<'_> = serde_json::from_str(text).unwrap();
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let from_value = Msg::deserialize(&value).unwrap();
        assert!(book(&from_text, "msg", SubCent::Reject).is_err());
        let (a, skipped) = book(&from_text, "msg", SubCent::Skip).unwrap();
        let (b, _) = book(&from_value, "msg", SubCent::Skip).unwrap();
        assert_eq!((a.clone(), skipped), (b, 1));
        assert_eq!(a.best_bid(Side::Yes), Price::new(56).ok());
        let l: Msg<'_> = serde_json::from_str(
            r#"{"market_ticker":"T","event_type":"close_date_updated","close_ts":"1700000000","is_deactivated":false}"#,
        )
        .unwrap();
        let l = lifecycle(&l).unwrap();
        assert_eq!(
            (l.event_type.as_str(), l.close_ts_s, l.is_deactivated),
            ("close_date_updated", Some(1_700_000_000), Some(false))
        );
    }
}
