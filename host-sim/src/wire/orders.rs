//! Reading Kalshi's JSON objects into venue types, tolerantly:
//!
//! - fixed-point fields (`*_dollars`, `*_fp`) are read exactly whether they arrive as strings
//!   (`"0.5600"`) or as JSON numbers (`0.56`: the number's shortest decimal text is parsed,
//!   never an `f64` computation); legacy integer fields (`yes_price` in cents, `count`) are
//!   read when the fixed-point one is absent;
//! - unknown fields are ignored; unknown statuses are accepted as
//!   [`OrderStatus::Unknown`](crate::venue::OrderStatus::Unknown) and reported through a warning;
//! - order books go through the market-data decoder ([`super::market`]) that replay uses;
//! - V2 objects name the YES-book side (`book_side` / `side` = `bid`|`ask`, priced by
//!   `yes_price_dollars`); legacy ones name the contract (`side` = `yes`|`no`, `action`).

use kalsim_core::{Contracts, OrderBook, Price, Side};
use serde::Deserialize;
use serde_json::Value;

use super::fixed::{
    micros_to_cents_up, parse_centi_contracts, parse_dollars_to_micros, parse_price_dollars,
};
use super::market::{self, Msg, SubCent};
use crate::venue::order::{BookSide, book_side_trade};
use crate::venue::{Fill, OrderAction, OrderStatus, VenueError, WorkingOrder};

pub(crate) fn proto(msg: impl Into<String>) -> VenueError {
    VenueError::Protocol(msg.into())
}

pub(crate) fn str_field<'a>(v: &'a Value, key: &str) -> Result<&'a str, VenueError> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| proto(format!("missing string field {key:?}")))
}

/// The decimal text of a string or a JSON number (a number's shortest round-trip form).
pub(crate) fn number_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn side_field(v: &Value, key: &str) -> Result<Side, VenueError> {
    match str_field(v, key)? {
        "yes" => Ok(Side::Yes),
        "no" => Ok(Side::No),
        other => Err(proto(format!("{key} {other:?} is neither yes nor no"))),
    }
}

pub(crate) fn action_field(v: &Value) -> Result<OrderAction, VenueError> {
    match str_field(v, "action")? {
        "buy" => Ok(OrderAction::Buy),
        "sell" => Ok(OrderAction::Sell),
        other => Err(proto(format!("action {other:?} is neither buy nor sell"))),
    }
}

/// A price in dollars, as a string or a number (`0.56`, `"0.5600"`).
pub(crate) fn dollars_price(v: &Value, key: &str) -> Result<Price, VenueError> {
    let text = number_text(v).ok_or_else(|| proto(format!("{key} {v} is not a number")))?;
    parse_price_dollars(&text).map_err(|e| proto(format!("{key}: {e}")))
}

/// A price given either as a dollar string / non-integer number, or as integer cents
/// (the legacy level form `[56, 10]`).
pub(crate) fn price_value(v: &Value) -> Result<Price, VenueError> {
    match v {
        Value::Number(n) if n.is_i64() || n.is_u64() => n
            .as_i64()
            .and_then(|c| Price::from_i64(c).ok())
            .ok_or_else(|| proto(format!("price {n} is not 1..=99 cents"))),
        other => dollars_price(other, "price"),
    }
}

/// A signed quantity in centi-contracts from an fp string or number (`"12.50"`, `12.5`).
pub(crate) fn centi_fp(v: &Value, key: &str) -> Result<i64, VenueError> {
    let text = number_text(v).ok_or_else(|| proto(format!("{key} {v} is not a number")))?;
    parse_centi_contracts(&text).map_err(|e| proto(format!("{key}: {e}")))
}

/// A signed quantity as an fp string / non-integer number (centi-contracts) or integer
/// contracts (the legacy level form).
pub(crate) fn centi_value(v: &Value) -> Result<i64, VenueError> {
    match v {
        Value::Number(n) if n.is_i64() || n.is_u64() => n
            .as_i64()
            .and_then(|c| c.checked_mul(100))
            .ok_or_else(|| proto(format!("quantity {n} is out of range"))),
        other => centi_fp(other, "quantity"),
    }
}

/// A whole count from `{stem}_fp` or `{stem}` (fp text in either, or a legacy integer);
/// absent → `None`. A fractional count is an error naming the field.
pub(crate) fn count_field(v: &Value, stem: &str) -> Result<Option<Contracts>, VenueError> {
    let fp_key = format!("{stem}_fp");
    let (raw, key) = match (v.get(&fp_key), v.get(stem)) {
        (Some(x), _) if !x.is_null() => (x, fp_key.as_str()),
        (_, Some(x)) if !x.is_null() => (x, stem),
        _ => return Ok(None),
    };
    let centi = match raw {
        Value::Number(n) if (n.is_u64() || n.is_i64()) && key == stem => n
            .as_i64()
            .and_then(|c| c.checked_mul(100))
            .ok_or_else(|| proto(format!("{key} {n} out of range")))?,
        other => centi_fp(other, key)?,
    };
    if centi < 0 || centi % 100 != 0 {
        return Err(proto(format!(
            "{key} {raw} is not a whole, non-negative contract count"
        )));
    }
    u32::try_from(centi / 100)
        .map(|n| Some(Contracts(n)))
        .map_err(|_| proto(format!("{key} {raw} too large")))
}

/// A dollar amount in micro-dollars, exactly, from a string or number (`fee_cost`,
/// `balance_dollars`: Kalshi's money amounts may be finer than a cent).
pub(crate) fn dollars_micros(v: &Value, key: &str) -> Result<i64, VenueError> {
    let text = number_text(v).ok_or_else(|| proto(format!("{key} {v} is not a number")))?;
    parse_dollars_to_micros(&text).map_err(|e| proto(format!("{key}: {e}")))
}

/// Fields of order objects this client knows (read or deliberately ignored).
pub(crate) const ORDER_FIELDS: &[&str] = &[
    "order_id",
    "user_id",
    "client_order_id",
    "ticker",
    "market_ticker",
    "side",
    "action",
    "book_side",
    "outcome_side",
    "type",
    "status",
    "yes_price",
    "no_price",
    "yes_price_dollars",
    "no_price_dollars",
    "price",
    "fill_count",
    "fill_count_fp",
    "remaining_count",
    "remaining_count_fp",
    "initial_count",
    "initial_count_fp",
    "taker_fees",
    "maker_fees",
    "taker_fill_cost",
    "maker_fill_cost",
    "taker_fill_cost_dollars",
    "maker_fill_cost_dollars",
    "taker_fees_dollars",
    "maker_fees_dollars",
    "queue_position",
    "queue_position_fp",
    "expiration_time",
    "created_time",
    "last_update_time",
    "self_trade_prevention_type",
    "order_group_id",
    "cancel_order_on_pause",
    "subaccount_number",
    "exchange_index",
];

/// Fields of fill objects this client knows (read or deliberately ignored).
pub(crate) const FILL_FIELDS: &[&str] = &[
    "fill_id",
    "trade_id",
    "order_id",
    "client_order_id",
    "ticker",
    "market_ticker",
    "side",
    "action",
    "book_side",
    "outcome_side",
    "count",
    "count_fp",
    "yes_price",
    "no_price",
    "yes_price_dollars",
    "no_price_dollars",
    "price",
    "is_taker",
    "fee_cost",
    "created_time",
    "ts",
    "ts_ms",
    "post_position",
    "post_position_fp",
    "purchased_side",
    "exchange_index",
    "subaccount_number",
];

/// Note, once per name, fields of `v` outside `known` (accepted: they are ignored).
pub(crate) fn note_unknown_fields(
    v: &Value,
    known: &[&str],
    what: &str,
    seen: &mut std::collections::HashSet<String>,
    warnings: &mut Vec<String>,
) {
    if let Some(o) = v.as_object() {
        for k in o.keys() {
            if !known.contains(&k.as_str()) && seen.insert(format!("{what}.{k}")) {
                warnings.push(format!("unknown field {k:?} in {what} objects (ignored)"));
            }
        }
    }
}

/// An order status; an unknown one is `Unknown` plus a warning.
pub(crate) fn status_of(s: &str, warnings: &mut Vec<String>) -> OrderStatus {
    match s {
        "resting" | "open" => OrderStatus::Resting,
        "executed" | "filled" => OrderStatus::Executed,
        "canceled" | "cancelled" => OrderStatus::Canceled,
        "pending" => OrderStatus::Pending,
        other => {
            warnings.push(format!("unknown order status {other:?}"));
            OrderStatus::Unknown
        }
    }
}

/// The (contract, action, contract price) of an order or fill object, in either shape.
fn trade_of(v: &Value) -> Result<(Side, OrderAction, Price), VenueError> {
    let side = v
        .get("book_side")
        .or_else(|| v.get("side"))
        .and_then(Value::as_str);
    if let Some(bs) = side.and_then(BookSide::from_name) {
        let (contract, action) = book_side_trade(bs);
        let price = match (
            v.get("yes_price_dollars"),
            v.get("price"),
            v.get("yes_price"),
        ) {
            (Some(p), _, _) => dollars_price(p, "yes_price_dollars")?,
            (None, Some(p), _) => dollars_price(p, "price")?,
            (None, None, Some(p)) => price_value(p)?,
            _ => return Err(proto("order without yes_price_dollars")),
        };
        return Ok((contract, action, price));
    }
    let contract = side_field(v, "side")?;
    let action = action_field(v)?;
    let name = contract.name();
    let price = match (
        v.get(format!("{name}_price_dollars")),
        v.get(format!("{name}_price")),
    ) {
        (Some(p), _) => dollars_price(p, &format!("{name}_price_dollars"))?,
        (None, Some(p)) => price_value(p)?,
        _ => return Err(proto(format!("missing {name}_price_dollars"))),
    };
    Ok((contract, action, price))
}

/// An order object: the working-order view, its status and its filled count.
pub(crate) fn parse_order(
    v: &Value,
    warnings: &mut Vec<String>,
) -> Result<(WorkingOrder, OrderStatus, Contracts), VenueError> {
    let (contract, action, price) = trade_of(v)?;
    let remaining = count_field(v, "remaining_count")?.unwrap_or(Contracts::ZERO);
    let filled = match count_field(v, "fill_count")? {
        Some(f) => f,
        None => {
            let initial = count_field(v, "initial_count")?.unwrap_or(remaining);
            initial.checked_sub(remaining).unwrap_or(Contracts::ZERO)
        }
    };
    let status = match v.get("status").and_then(Value::as_str) {
        Some(s) => status_of(s, warnings),
        None if remaining.0 > 0 => OrderStatus::Resting,
        None => OrderStatus::Executed,
    };
    let order = WorkingOrder {
        order_id: str_field(v, "order_id")?.to_owned(),
        client_order_id: v
            .get("client_order_id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        ticker: v
            .get("ticker")
            .or_else(|| v.get("market_ticker"))
            .and_then(Value::as_str)
            .ok_or_else(|| proto("order without ticker"))?
            .to_owned(),
        contract,
        action,
        price,
        remaining,
    };
    Ok((order, status, filled))
}

/// A fill object (REST `GET /portfolio/fills` or the WebSocket `fill` channel).
pub(crate) fn parse_fill(v: &Value) -> Result<Fill, VenueError> {
    let (contract, action, price) = trade_of(v)?;
    let fill_id = v
        .get("fill_id")
        .or_else(|| v.get("trade_id"))
        .and_then(Value::as_str)
        .ok_or_else(|| proto("fill without fill_id/trade_id"))?;
    // Kalshi rounds a trade fee up to $0.0001, so `fee_cost` may be finer than a cent
    // (`"0.0175"`): kept exactly, and rounded up to whole cents for the account.
    let fee_micros = match v.get("fee_cost") {
        None | Some(Value::Null) => 0,
        Some(f) => dollars_micros(f, "fee_cost")?,
    };
    Ok(Fill {
        fill_id: fill_id.to_owned(),
        order_id: str_field(v, "order_id")?.to_owned(),
        ticker: v
            .get("ticker")
            .or_else(|| v.get("market_ticker"))
            .and_then(Value::as_str)
            .ok_or_else(|| proto("fill without ticker"))?
            .to_owned(),
        contract,
        action,
        count: count_field(v, "count")?.ok_or_else(|| proto("fill without count_fp"))?,
        price,
        is_taker: v.get("is_taker").and_then(Value::as_bool).unwrap_or(false),
        fee_cents: micros_to_cents_up(fee_micros),
        fee_micros,
    })
}

/// Signed position in centi-contracts from a market position (`position_fp` or `position`).
pub(crate) fn position_centi(v: &Value) -> Result<i64, VenueError> {
    match (v.get("position_fp"), v.get("position")) {
        (Some(s), _) => centi_fp(s, "position_fp"),
        (None, Some(n)) => centi_value(n),
        _ => Err(proto("market position without position_fp")),
    }
}

/// A book from a snapshot-like object holding both ladders (a WebSocket snapshot body, the
/// REST `orderbook_fp`), read by the replay loader's decoder; sub-cent levels (a deci-cent
/// market's) are skipped and counted.
pub(crate) fn parse_book(v: &Value) -> Result<(OrderBook, u64), VenueError> {
    let msg = Msg::deserialize(v).map_err(|e| proto(format!("bad order book: {e}")))?;
    market::book(&msg, "orderbook", SubCent::Skip)
        .map_err(|e| proto(format!("bad order book at {}: {}", e.field, e.kind)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_forms_of_levels_and_sub_cent_skips() {
        let legacy = json!({"yes": [[56, 10]], "no": [[40, 3]]});
        let fp =
            json!({"yes_dollars_fp": [["0.5600", "10.00"]], "no_dollars_fp": [["0.4000", "3.00"]]});
        let floats = json!({"yes_dollars_fp": [[0.56, 10.0]], "no_dollars_fp": [[0.4, "3"]]});
        let a = parse_book(&legacy).unwrap().0;
        assert_eq!(a, parse_book(&fp).unwrap().0);
        assert_eq!(a, parse_book(&floats).unwrap().0);
        let deci = json!({"yes_dollars_fp": [["0.5650", "10.00"], ["0.5600", "1.00"]]});
        let (b, skipped) = parse_book(&deci).unwrap();
        assert_eq!(skipped, 1);
        assert_eq!(b.best_bid(Side::Yes), Price::new(56).ok());
        assert!(parse_book(&json!({"yes_dollars_fp": [["1.5000", "1.00"]]})).is_err());
    }

    #[test]
    fn orders_in_both_shapes_and_unknown_status() {
        let mut w = Vec::new();
        let o = json!({"order_id": "o1", "client_order_id": "c1", "ticker": "T", "side": "no",
            "action": "buy", "status": "resting", "no_price_dollars": "0.4400",
            "remaining_count_fp": "7.00", "fill_count_fp": 3.0});
        let (wo, s, f) = parse_order(&o, &mut w).unwrap();
        assert_eq!(
            (wo.price.cents(), wo.remaining, s, f),
            (44, Contracts(7), OrderStatus::Resting, Contracts(3))
        );
        let v2 = json!({"order_id": "o2", "ticker": "T", "book_side": "ask", "outcome_side": "no",
            "status": "brand_new_state", "yes_price_dollars": 0.56,
            "remaining_count_fp": "0.00", "initial_count_fp": "5.00"});
        let (wo, s, f) = parse_order(&v2, &mut w).unwrap();
        assert_eq!(
            (wo.contract, wo.action, wo.price.cents(), s, f),
            (
                Side::Yes,
                OrderAction::Sell,
                56,
                OrderStatus::Unknown,
                Contracts(5)
            )
        );
        assert_eq!(w.len(), 1);
        let frac = json!({"order_id": "o3", "ticker": "T", "side": "bid",
            "yes_price_dollars": "0.5", "remaining_count_fp": "2.50"});
        assert!(
            parse_order(&frac, &mut w)
                .unwrap_err()
                .to_string()
                .contains("remaining_count_fp")
        );
    }

    #[test]
    fn fills_read_fees_and_numbers_exactly() {
        let f = json!({"trade_id": "t1", "order_id": "o1", "market_ticker": "T", "side": "yes",
            "action": "buy", "count_fp": 10.0, "yes_price_dollars": 0.45, "no_price_dollars": "0.55",
            "is_taker": true, "fee_cost": 0.18, "post_position_fp": "10.00"});
        let f = parse_fill(&f).unwrap();
        assert_eq!(
            (f.count, f.price.cents(), f.fee_cents, f.signed_count()),
            (Contracts(10), 45, 18, 10)
        );
        assert_eq!(f.fee_micros, 180_000);
        let bad = json!({"trade_id": "t2", "order_id": "o1", "ticker": "T", "side": "yes",
            "action": "buy", "count_fp": "1.00", "yes_price_dollars": "0.4550"});
        assert!(parse_fill(&bad).is_err());
        // A sub-cent fee (Kalshi rounds trade fees to $0.0001) is read exactly and rounded
        // up to the cent; the fill is not lost.
        for fee in [json!("0.0175"), json!(0.0175)] {
            let f = json!({"fill_id": "t3", "order_id": "o1", "ticker": "T", "book_side": "bid",
                "count_fp": "1.00", "yes_price_dollars": "0.5000", "fee_cost": fee});
            let f = parse_fill(&f).unwrap();
            assert_eq!((f.fee_cents, f.fee_micros), (2, 17_500));
        }
        assert_eq!(
            position_centi(&json!({"position_fp": -12.0})).unwrap(),
            -1200
        );
    }
}
