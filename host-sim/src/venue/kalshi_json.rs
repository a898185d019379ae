//! Reading Kalshi's JSON objects into venue types. Every numeric field is accepted in its
//! fixed-point form (`*_dollars`, `*_fp`) and in its legacy integer form; the fixed-point form
//! wins when both are present.

use kalsim_core::{CentiContracts, Contracts, OrderBook, Price, Side};
use serde_json::Value;

use super::fixed::{parse_centi_contracts, parse_price_dollars, parse_whole_contracts};
use super::{Fill, OrderAction, OrderStatus, VenueError, WorkingOrder};

pub(crate) fn proto(msg: impl Into<String>) -> VenueError {
    VenueError::Protocol(msg.into())
}

pub(crate) fn str_field<'a>(v: &'a Value, key: &str) -> Result<&'a str, VenueError> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| proto(format!("missing string field {key:?}")))
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

/// A price given either as a dollar string or as integer cents.
pub(crate) fn price_value(v: &Value) -> Result<Price, VenueError> {
    match v {
        Value::String(s) => parse_price_dollars(s).map_err(|e| proto(e.to_string())),
        Value::Number(n) => n
            .as_i64()
            .and_then(|c| Price::from_i64(c).ok())
            .ok_or_else(|| proto(format!("price {n} is not 1..=99 cents"))),
        other => Err(proto(format!("price {other} is not a number or string"))),
    }
}

/// A signed quantity given as an fp string (centi-contracts) or integer contracts.
pub(crate) fn centi_value(v: &Value) -> Result<i64, VenueError> {
    match v {
        Value::String(s) => parse_centi_contracts(s).map_err(|e| proto(e.to_string())),
        Value::Number(n) => n
            .as_i64()
            .and_then(|c| c.checked_mul(100))
            .ok_or_else(|| proto(format!("quantity {n} is not an integer"))),
        other => Err(proto(format!("quantity {other} is not a number or string"))),
    }
}

/// The contract price of an order or fill on `side`: `{side}_price_dollars` or `{side}_price`.
pub(crate) fn contract_price(v: &Value, side: Side) -> Result<Price, VenueError> {
    let name = side.name();
    if let Some(d) = v.get(format!("{name}_price_dollars")) {
        return price_value(d);
    }
    match v.get(format!("{name}_price")) {
        Some(c) => price_value(c),
        None => Err(proto(format!("missing {name}_price"))),
    }
}

/// A whole count from `{stem}_fp` or `{stem}`; absent → `None`.
pub(crate) fn count_field(v: &Value, stem: &str) -> Result<Option<Contracts>, VenueError> {
    if let Some(s) = v.get(format!("{stem}_fp")).and_then(Value::as_str) {
        return parse_whole_contracts(s)
            .map(Some)
            .map_err(|e| proto(e.to_string()));
    }
    match v.get(stem).and_then(Value::as_u64) {
        Some(n) => u32::try_from(n)
            .map(|n| Some(Contracts(n)))
            .map_err(|_| proto(format!("{stem} {n} too large"))),
        None => Ok(None),
    }
}

pub(crate) fn status_field(v: &Value) -> Result<OrderStatus, VenueError> {
    match str_field(v, "status")? {
        "resting" => Ok(OrderStatus::Resting),
        "executed" => Ok(OrderStatus::Executed),
        "canceled" | "cancelled" => Ok(OrderStatus::Canceled),
        "pending" => Ok(OrderStatus::Pending),
        other => Err(proto(format!("unknown order status {other:?}"))),
    }
}

/// An order object: the working-order view, its status and its filled count.
pub(crate) fn parse_order(v: &Value) -> Result<(WorkingOrder, OrderStatus, Contracts), VenueError> {
    let contract = side_field(v, "side")?;
    let remaining = count_field(v, "remaining_count")?.unwrap_or(Contracts::ZERO);
    let filled = match count_field(v, "fill_count")? {
        Some(f) => f,
        None => {
            let initial = count_field(v, "initial_count")?.unwrap_or(remaining);
            initial.checked_sub(remaining).unwrap_or(Contracts::ZERO)
        }
    };
    let order = WorkingOrder {
        order_id: str_field(v, "order_id")?.to_owned(),
        client_order_id: v
            .get("client_order_id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        ticker: str_field(v, "ticker")?.to_owned(),
        contract,
        action: action_field(v)?,
        price: contract_price(v, contract)?,
        remaining,
    };
    Ok((order, status_field(v)?, filled))
}

pub(crate) fn parse_fill(v: &Value) -> Result<Fill, VenueError> {
    let contract = side_field(v, "side")?;
    let fill_id = v
        .get("fill_id")
        .or_else(|| v.get("trade_id"))
        .and_then(Value::as_str)
        .ok_or_else(|| proto("fill without fill_id/trade_id"))?;
    Ok(Fill {
        fill_id: fill_id.to_owned(),
        order_id: str_field(v, "order_id")?.to_owned(),
        ticker: str_field(v, "ticker")?.to_owned(),
        contract,
        action: action_field(v)?,
        count: count_field(v, "count")?.ok_or_else(|| proto("fill without count"))?,
        price: contract_price(v, contract)?,
        is_taker: v.get("is_taker").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// Signed position in contracts from a market position (`position_fp` or `position`).
pub(crate) fn position_contracts(v: &Value) -> Result<i64, VenueError> {
    let centi = match v.get("position_fp") {
        Some(s) => centi_value(s)?,
        None => centi_value(v.get("position").ok_or_else(|| proto("missing position"))?)?,
    };
    if centi % 100 != 0 {
        return Err(proto(format!(
            "fractional position {centi} centi-contracts"
        )));
    }
    Ok(centi / 100)
}

/// One `[price, quantity]` book level (either form).
pub(crate) fn parse_level(v: &Value) -> Result<(Price, CentiContracts), VenueError> {
    let pair = v
        .as_array()
        .filter(|a| a.len() == 2)
        .ok_or_else(|| proto(format!("book level {v} is not a [price, quantity] pair")))?;
    let price = price_value(&pair[0])?;
    let qty = centi_value(&pair[1])?;
    let qty = u64::try_from(qty).map_err(|_| proto(format!("negative depth in level {v}")))?;
    Ok((price, CentiContracts(qty)))
}

/// Bid levels of `side` from an object holding `{side}_dollars_fp`, `{side}_dollars` or `{side}`.
pub(crate) fn parse_ladder(
    v: &Value,
    side: Side,
) -> Result<Vec<(Price, CentiContracts)>, VenueError> {
    let name = side.name();
    let levels = [
        format!("{name}_dollars_fp"),
        format!("{name}_dollars"),
        name.to_owned(),
    ]
    .iter()
    .find_map(|k| v.get(k.as_str()).filter(|x| !x.is_null()));
    match levels {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a.iter().map(parse_level).collect(),
        Some(other) => Err(proto(format!("{name} levels {other} are not an array"))),
    }
}

/// A book from a snapshot-like object holding both ladders.
pub(crate) fn parse_book(v: &Value) -> Result<OrderBook, VenueError> {
    let yes = parse_ladder(v, Side::Yes)?;
    let no = parse_ladder(v, Side::No)?;
    let mut book = OrderBook::new();
    book.apply_snapshot(&yes, &no)
        .map_err(|e| proto(format!("bad snapshot: {e}")))?;
    Ok(book)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_forms_of_levels() {
        let legacy = json!({"yes": [[56, 10]], "no": [[40, 3]]});
        let fp =
            json!({"yes_dollars_fp": [["0.5600", "10.00"]], "no_dollars_fp": [["0.4000", "3.00"]]});
        assert_eq!(parse_book(&legacy).unwrap(), parse_book(&fp).unwrap());
        let bad = json!({"yes_dollars_fp": [["0.5650", "10.00"]]});
        assert!(parse_book(&bad).is_err());
    }

    #[test]
    fn order_both_forms() {
        let o = json!({"order_id": "o1", "client_order_id": "c1", "ticker": "T", "side": "no",
            "action": "buy", "status": "resting", "no_price_dollars": "0.4400",
            "remaining_count_fp": "7.00", "fill_count_fp": "3.00"});
        let (w, s, f) = parse_order(&o).unwrap();
        assert_eq!(
            (w.price.cents(), w.remaining, s, f),
            (44, Contracts(7), OrderStatus::Resting, Contracts(3))
        );
        let o = json!({"order_id": "o1", "ticker": "T", "side": "yes", "action": "sell",
            "status": "executed", "yes_price": 56, "remaining_count": 0, "initial_count": 5});
        let (w, s, f) = parse_order(&o).unwrap();
        assert_eq!(
            (w.price.cents(), s, f),
            (56, OrderStatus::Executed, Contracts(5))
        );
    }
}
