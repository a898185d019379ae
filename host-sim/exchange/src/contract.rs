//! The V2 order-entry contract as `docs/live.md` records it, checked on every request the
//! exchange receives. This is written from the record, not from the client's body builders,
//! so a drift between the client and the documented contract fails a test: the exchange
//! answers 400 `invalid_parameters` and counts a violation.

use serde_json::{Map, Value};

use kalsim_host_sim::venue::valid_client_order_id;
use kalsim_host_sim::wire::fixed::{parse_centi_contracts, parse_dollars_scaled};

/// A create request that passed the contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CreateOrder {
    pub(crate) ticker: String,
    pub(crate) client_order_id: String,
    /// `true` for `bid` (buy YES), `false` for `ask` (sell YES).
    pub(crate) bid: bool,
    /// Whole contracts.
    pub(crate) count: u32,
    /// YES-book price, micro-dollars.
    pub(crate) price_micros: i64,
    pub(crate) time_in_force: String,
    pub(crate) self_trade_prevention_type: String,
    pub(crate) expiration_time: Option<i64>,
    pub(crate) post_only: bool,
    pub(crate) reduce_only: bool,
    pub(crate) cancel_order_on_pause: bool,
}

const CREATE_FIELDS: [&str; 13] = [
    "ticker",
    "client_order_id",
    "side",
    "count",
    "price",
    "time_in_force",
    "self_trade_prevention_type",
    "expiration_time",
    "post_only",
    "cancel_order_on_pause",
    "reduce_only",
    "subaccount",
    "order_group_id",
];
const CREATE_REQUIRED: [&str; 7] = [
    "ticker",
    "client_order_id",
    "side",
    "count",
    "price",
    "time_in_force",
    "self_trade_prevention_type",
];
const TIME_IN_FORCE: [&str; 3] = ["fill_or_kill", "good_till_canceled", "immediate_or_cancel"];
const STP: [&str; 2] = ["taker_at_cross", "maker"];

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{what}: body is not a JSON object"))
}

fn known_fields(o: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("{what}: field {k:?} is not in the V2 contract")),
        None => Ok(()),
    }
}

fn string<'a>(o: &'a Map<String, Value>, key: &str, what: &str) -> Result<&'a str, String> {
    match o.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("{what}: {key} must be a string, got {other}")),
        None => Err(format!("{what}: {key} is required")),
    }
}

fn boolean(o: &Map<String, Value>, key: &str, what: &str) -> Result<bool, String> {
    match o.get(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(format!("{what}: {key} must be a boolean, got {other}")),
    }
}

/// `count`: a fixed-point string with 0–2 decimals, a positive whole number of contracts
/// (the exchange's markets do not enable fractional trading).
fn count(s: &str, what: &str) -> Result<u32, String> {
    let decimals = s.split_once('.').map_or(0, |(_, f)| f.len());
    if decimals > 2 {
        return Err(format!("{what}: count {s:?} has more than 2 decimals"));
    }
    let centi = parse_centi_contracts(s).map_err(|e| format!("{what}: count: {e}"))?;
    if centi <= 0 || centi % 100 != 0 {
        return Err(format!("{what}: count {s:?} is not a positive whole count"));
    }
    u32::try_from(centi / 100).map_err(|_| format!("{what}: count {s:?} too large"))
}

/// `price`: fixed-point dollars, at most 6 decimals, strictly between 0 and 1.
fn price(s: &str, what: &str) -> Result<i64, String> {
    let decimals = s.split_once('.').map_or(0, |(_, f)| f.len());
    if decimals > 6 || !s.contains('.') {
        return Err(format!(
            "{what}: price {s:?} is not a fixed-point dollar string"
        ));
    }
    let micros = parse_dollars_scaled(s, 6).map_err(|e| format!("{what}: price: {e}"))?;
    if micros <= 0 || micros >= 1_000_000 {
        return Err(format!("{what}: price {s:?} is outside (0, 1)"));
    }
    Ok(micros)
}

/// Check one create body (`POST /portfolio/events/orders`, or one batch item).
pub(crate) fn create(v: &Value) -> Result<CreateOrder, String> {
    let what = "create order";
    let o = object(v, what)?;
    known_fields(o, &CREATE_FIELDS, what)?;
    for k in CREATE_REQUIRED {
        if !o.contains_key(k) {
            return Err(format!("{what}: {k} is required"));
        }
    }
    let ticker = string(o, "ticker", what)?.to_owned();
    let coid = string(o, "client_order_id", what)?.to_owned();
    if !valid_client_order_id(&coid) {
        return Err(format!(
            "{what}: client_order_id {coid:?} is not 1..=64 of [A-Za-z0-9_:+=/-]"
        ));
    }
    let bid = match string(o, "side", what)? {
        "bid" => true,
        "ask" => false,
        other => return Err(format!("{what}: side {other:?} is not bid or ask")),
    };
    let tif = string(o, "time_in_force", what)?;
    if !TIME_IN_FORCE.contains(&tif) {
        return Err(format!(
            "{what}: time_in_force {tif:?} is not one of {TIME_IN_FORCE:?}"
        ));
    }
    let stp = string(o, "self_trade_prevention_type", what)?;
    if !STP.contains(&stp) {
        return Err(format!(
            "{what}: self_trade_prevention_type {stp:?} is not one of {STP:?}"
        ));
    }
    let expiration_time = match o.get("expiration_time") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.as_i64(),
        Some(other) => {
            return Err(format!(
                "{what}: expiration_time must be an integer, got {other}"
            ));
        }
    };
    if expiration_time.is_some() && tif != "good_till_canceled" {
        return Err(format!(
            "{what}: expiration_time needs good_till_canceled, not {tif}"
        ));
    }
    if let Some(Value::Number(n)) = o.get("subaccount")
        && !n.is_u64()
    {
        return Err(format!("{what}: subaccount must be a non-negative integer"));
    }
    Ok(CreateOrder {
        ticker,
        client_order_id: coid,
        bid,
        count: count(string(o, "count", what)?, what)?,
        price_micros: price(string(o, "price", what)?, what)?,
        time_in_force: tif.to_owned(),
        self_trade_prevention_type: stp.to_owned(),
        expiration_time,
        post_only: boolean(o, "post_only", what)?,
        reduce_only: boolean(o, "reduce_only", what)?,
        cancel_order_on_pause: boolean(o, "cancel_order_on_pause", what)?,
    })
}

/// Check a batch-create body: `{"orders": [create, ...]}`, 1..=`max` items.
pub(crate) fn batch_create(v: &Value, max: usize) -> Result<Vec<Value>, String> {
    let what = "batch create";
    let o = object(v, what)?;
    known_fields(o, &["orders"], what)?;
    let items = o
        .get("orders")
        .and_then(Value::as_array)
        .ok_or(format!("{what}: orders (array) is required"))?;
    if items.is_empty() || items.len() > max {
        return Err(format!(
            "{what}: {} orders, expected 1..={max}",
            items.len()
        ));
    }
    Ok(items.clone())
}

/// Check a batch-cancel body: `{"orders": [{"order_id", "subaccount"?, "exchange_index"?}]}`.
pub(crate) fn batch_cancel(v: &Value, max: usize) -> Result<Vec<String>, String> {
    let what = "batch cancel";
    let o = object(v, what)?;
    known_fields(o, &["orders"], what)?;
    let items = o
        .get("orders")
        .and_then(Value::as_array)
        .ok_or(format!("{what}: orders (array) is required"))?;
    if items.is_empty() || items.len() > max {
        return Err(format!(
            "{what}: {} orders, expected 1..={max}",
            items.len()
        ));
    }
    items
        .iter()
        .map(|item| {
            let i = object(item, what)?;
            known_fields(i, &["order_id", "subaccount", "exchange_index"], what)?;
            Ok(string(i, "order_id", what)?.to_owned())
        })
        .collect()
}

/// Check the query of a V2 cancel: only `market_ticker`, `subaccount`, `exchange_index`.
pub(crate) fn cancel_query(query: &[(String, String)]) -> Result<Option<String>, String> {
    let mut ticker = None;
    for (k, v) in query {
        match k.as_str() {
            "market_ticker" => ticker = Some(v.clone()),
            "subaccount" | "exchange_index" if v.parse::<u32>().is_ok() => {}
            other => {
                return Err(format!(
                    "cancel order: query parameter {other:?}={v:?} is not in the V2 contract"
                ));
            }
        }
    }
    Ok(ticker)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({"ticker": "T", "client_order_id": "c-1", "side": "bid", "count": "10.00",
            "price": "0.5600", "time_in_force": "good_till_canceled",
            "self_trade_prevention_type": "taker_at_cross", "expiration_time": 1_800_000_000,
            "post_only": true, "cancel_order_on_pause": true})
    }

    #[test]
    fn the_record_is_enforced() {
        let c = create(&good()).unwrap();
        assert_eq!((c.count, c.price_micros, c.bid), (10, 560_000, true));
        let mutate = |k: &str, v: Value| {
            let mut b = good();
            b[k] = v;
            create(&b).unwrap_err()
        };
        assert!(mutate("side", json!("yes")).contains("bid or ask"));
        assert!(mutate("count", json!(10)).contains("string"));
        assert!(mutate("count", json!("10.000")).contains("decimals"));
        assert!(mutate("price", json!(0.56)).contains("string"));
        assert!(mutate("price", json!("56")).contains("fixed-point"));
        assert!(mutate("time_in_force", json!("gtt")).contains("time_in_force"));
        assert!(mutate("action", json!("buy")).contains("not in the V2 contract"));
        let mut b = good();
        b["time_in_force"] = json!("immediate_or_cancel");
        assert!(create(&b).unwrap_err().contains("expiration_time"));
        let mut b = good();
        b.as_object_mut()
            .unwrap()
            .remove("self_trade_prevention_type");
        assert!(create(&b).unwrap_err().contains("required"));
        assert_eq!(
            batch_cancel(&json!({"orders": [{"order_id": "o1"}]}), 20).unwrap(),
            ["o1"]
        );
        assert!(batch_cancel(&json!({"ids": ["o1"]}), 20).is_err());
        assert!(cancel_query(&[("ticker".into(), "T".into())]).is_err());
    }
}
