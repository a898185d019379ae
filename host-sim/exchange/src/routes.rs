//! The exchange's routes: the V2 event-order endpoints (checked against the recorded
//! contract), the retired legacy writes (410), and the portfolio and market reads.

use kalsim_core::{Price, Side};
use serde_json::{Value, json};

use super::contract;
use super::http::{Outcome, PREFIX, Request, error};
use super::matching::{self, count_value, fill_json, order_json, price_value};
use super::{MarketState, Shared, State};
use kalsim_host_sim::venue::auth::now_ms;
use kalsim_host_sim::wire::fixed::format_centi_contracts;

fn violation(st: &mut State, what: String) -> Outcome {
    st.stats.contract_violations += 1;
    st.violations.push(what.clone());
    error(400, "invalid_parameters", &what)
}

fn deprecated(st: &mut State, endpoint: &str) -> Outcome {
    st.stats.deprecated_calls += 1;
    error(
        410,
        "deprecated_v1_order_endpoint",
        &format!("{endpoint} is retired; use /portfolio/events/orders"),
    )
}

pub(super) fn route(req: &Request, shared: &Shared) -> Outcome {
    let mut st = shared.lock();
    if req.method == "GET" && st.faults.read_5xx > 0 {
        st.faults.read_5xx -= 1;
        return error(500, "internal_error", "injected");
    }
    let Some(rest) = req.path.strip_prefix(PREFIX) else {
        return error(404, "not_found", "unknown path");
    };
    let segs: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let endpoint = format!("{} {rest}", req.method);
    match (req.method.as_str(), segs.as_slice()) {
        // Retired legacy writes.
        ("POST" | "DELETE", ["portfolio", "orders", "batched"])
        | ("POST", ["portfolio", "orders"])
        | ("DELETE", ["portfolio", "orders", _])
        | ("POST", ["portfolio", "orders", _, "amend" | "decrease"]) => {
            deprecated(&mut st, &endpoint)
        }
        ("POST", ["portfolio", "events", "orders"]) => create(&mut st, shared, req),
        ("POST", ["portfolio", "events", "orders", "batched"]) => {
            batch_create(&mut st, shared, req)
        }
        ("DELETE", ["portfolio", "events", "orders", "batched"]) => batch_cancel(&mut st, req),
        ("DELETE", ["portfolio", "events", "orders"]) => {
            let ids: Vec<String> = st
                .orders
                .iter()
                .filter(|o| o.status == "resting")
                .map(|o| o.order_id.clone())
                .collect();
            for id in &ids {
                let _ = matching::cancel(&mut st, id);
            }
            Outcome::Respond(200, json!({"cancelled": ids.len()}))
        }
        ("DELETE", ["portfolio", "events", "orders", id]) => cancel(&mut st, req, id),
        ("GET", ["portfolio", "orders"]) => list_orders(&mut st, shared, req),
        ("GET", ["portfolio", "orders", id]) => {
            let float = st.faults.float_numbers;
            match st.orders.iter().find(|o| o.order_id == *id) {
                Some(o) => Outcome::Respond(200, json!({"order": order_json(o, float)})),
                None => error(404, "not_found", "no such order"),
            }
        }
        ("GET", ["portfolio", "positions"]) => {
            let mut ps: Vec<(&String, &i64)> =
                st.positions.iter().filter(|(_, p)| **p != 0).collect();
            ps.sort();
            let float = st.faults.float_numbers;
            let items = ps
                .into_iter()
                .map(|(t, p)| {
                    let fp = if float {
                        json!(*p as f64)
                    } else {
                        json!(format_centi_contracts(p * 100))
                    };
                    json!({"ticker": t, "position_fp": fp, "exchange_index": 0})
                })
                .collect();
            match page_value(req, shared.config.max_page, "market_positions", items) {
                Ok(mut out) => {
                    out["event_positions"] = json!([]);
                    Outcome::Respond(200, out)
                }
                Err(e) => violation(&mut st, format!("GET /portfolio/positions: {e}")),
            }
        }
        ("GET", ["portfolio", "balance"]) => Outcome::Respond(
            200,
            json!({"balance": st.balance_cc.div_euclid(100),
                "balance_dollars": matching::dollars_value(st.balance_cc, st.faults.float_numbers),
                "portfolio_value": 0, "updated_ts": now_ms() / 1000}),
        ),
        ("GET", ["portfolio", "fills"]) => {
            let float = st.faults.float_numbers;
            let min_ts: u64 = req
                .query("min_ts")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let fills = st
                .fills
                .iter()
                .rev()
                .filter(|f| f.ts_ms / 1000 >= min_ts)
                .map(|f| fill_json(f, float))
                .collect();
            match page_value(req, shared.config.max_page, "fills", fills) {
                Ok(out) => Outcome::Respond(200, out),
                Err(e) => violation(&mut st, format!("GET /portfolio/fills: {e}")),
            }
        }
        ("GET", ["markets", ticker]) => market(&st, shared, ticker),
        ("GET", ["markets", ticker, "orderbook"]) => orderbook(&st, ticker),
        _ => error(404, "not_found", &format!("unknown route {endpoint}")),
    }
}

fn create(st: &mut State, shared: &Shared, req: &Request) -> Outcome {
    let Some(body) = req.json() else {
        return violation(st, "create order: body is not JSON".into());
    };
    let c = match contract::create(&body) {
        Ok(c) => c,
        Err(e) => return violation(st, e),
    };
    if st.faults.order_5xx > 0 {
        st.faults.order_5xx -= 1;
        return error(503, "service_unavailable", "injected");
    }
    let (order, fills) = match matching::create(st, &shared.config, &c) {
        Ok(x) => x,
        Err((status, code, message)) => return error(status, code, &message),
    };
    let reply = create_answer(st, &order, &fills);
    if st.faults.order_drop_after_accept > 0 {
        st.faults.order_drop_after_accept -= 1;
        return Outcome::Drop;
    }
    if st.faults.order_delay_after_accept > 0 {
        st.faults.order_delay_after_accept -= 1;
        return Outcome::Delayed(201, reply, st.faults.response_delay);
    }
    if let Some(garbled) = unreadable_answer(st, &reply, vec![order.client_order_id.clone()]) {
        return garbled;
    }
    Outcome::Respond(201, reply)
}

/// Under the truncate / strip-id faults, the 201 answer of orders already booked (`booked`,
/// their client order ids) made unreadable: cut off halfway, or without any `order_id`.
fn unreadable_answer(st: &mut State, reply: &Value, booked: Vec<String>) -> Option<Outcome> {
    let text = if st.faults.order_truncate_after_accept > 0 {
        st.faults.order_truncate_after_accept -= 1;
        let whole = reply.to_string();
        whole.chars().take(whole.chars().count() / 2).collect()
    } else if st.faults.order_strip_id_after_accept > 0 {
        st.faults.order_strip_id_after_accept -= 1;
        let mut v = reply.clone();
        match v.get_mut("orders").and_then(Value::as_array_mut) {
            Some(items) => items.iter_mut().for_each(strip_order_id),
            None => strip_order_id(&mut v),
        }
        v.to_string()
    } else {
        return None;
    };
    st.unreadable_answers.extend(booked);
    Some(Outcome::RespondText(201, text))
}

fn strip_order_id(v: &mut Value) {
    if let Some(o) = v.as_object_mut() {
        o.remove("order_id");
    }
}

fn create_answer(st: &State, order: &super::OrderRec, fills: &[super::FillRec]) -> Value {
    let float = st.faults.float_numbers;
    let mut v = json!({
        "order_id": order.order_id, "client_order_id": order.client_order_id,
        "fill_count": count_value(i64::from(order.filled), float),
        "remaining_count": count_value(i64::from(order.remaining), float),
        "ts_ms": now_ms(),
    });
    let n: u32 = fills.iter().map(|f| f.count).sum();
    if n > 0 {
        // Volume-weighted, in YES-book dollars (rounded to the cent for the record only).
        let notional: u64 = fills
            .iter()
            .map(|f| u64::from(f.count) * u64::from(f.price))
            .sum();
        let avg = ((notional + u64::from(n) / 2) / u64::from(n)) as u8;
        v["average_fill_price"] = price_value(avg.clamp(1, 99), float);
    }
    v
}

fn batch_create(st: &mut State, shared: &Shared, req: &Request) -> Outcome {
    let Some(body) = req.json() else {
        return violation(st, "batch create: body is not JSON".into());
    };
    let items = match contract::batch_create(&body, shared.config.max_batch) {
        Ok(i) => i,
        Err(e) => return violation(st, e),
    };
    let mut checked = Vec::with_capacity(items.len());
    for item in &items {
        match contract::create(item) {
            Ok(c) => checked.push(c),
            Err(e) => return violation(st, format!("batch item: {e}")),
        }
    }
    if st.faults.order_5xx > 0 {
        st.faults.order_5xx -= 1;
        return error(503, "service_unavailable", "injected");
    }
    let mut answers = Vec::with_capacity(checked.len());
    let mut booked = Vec::new();
    for c in &checked {
        answers.push(match matching::create(st, &shared.config, c) {
            Ok((order, fills)) => {
                booked.push(order.client_order_id.clone());
                create_answer(st, &order, &fills)
            }
            Err((_, code, message)) => json!({"client_order_id": c.client_order_id,
                "error": {"code": code, "message": message}}),
        });
    }
    let reply = json!({ "orders": answers });
    if st.faults.order_drop_after_accept > 0 {
        st.faults.order_drop_after_accept -= 1;
        return Outcome::Drop;
    }
    if let Some(garbled) = unreadable_answer(st, &reply, booked) {
        return garbled;
    }
    Outcome::Respond(201, reply)
}

fn cancel(st: &mut State, req: &Request, id: &str) -> Outcome {
    let routed = match contract::cancel_query(&req.query) {
        Ok(t) => t,
        Err(e) => return violation(st, e),
    };
    // The ticker routes the cancel: an order is only found on its own market.
    if let Some(t) = &routed
        && !st.orders.iter().any(|o| o.order_id == id && &o.ticker == t)
    {
        return error(404, "not_found", "no such order on that market");
    }
    match matching::cancel(st, id) {
        None => error(404, "not_found", "no resting order with that id"),
        Some((o, reduced)) => Outcome::Respond(
            200,
            json!({"order_id": o.order_id, "client_order_id": o.client_order_id,
                "reduced_by": count_value(i64::from(reduced), st.faults.float_numbers),
                "ts_ms": now_ms()}),
        ),
    }
}

fn batch_cancel(st: &mut State, req: &Request) -> Outcome {
    let Some(body) = req.json() else {
        return violation(st, "batch cancel: body is not JSON".into());
    };
    let ids = match contract::batch_cancel(&body, 20) {
        Ok(ids) => ids,
        Err(e) => return violation(st, e),
    };
    let float = st.faults.float_numbers;
    let answers: Vec<Value> = ids
        .iter()
        .map(|id| match matching::cancel(st, id) {
            Some((o, reduced)) => json!({"order_id": id, "client_order_id": o.client_order_id,
                "reduced_by": count_value(i64::from(reduced), float), "ts_ms": now_ms()}),
            None => json!({"order_id": id,
                "error": {"code": "not_found", "message": "no resting order with that id"}}),
        })
        .collect();
    Outcome::Respond(200, json!({ "orders": answers }))
}

fn list_orders(st: &mut State, shared: &Shared, req: &Request) -> Outcome {
    matching::expire(st);
    let (ticker, status) = (req.query("ticker"), req.query("status"));
    let lag = st.faults.order_read_lag;
    let float = st.faults.float_numbers;
    let orders: Vec<Value> = st
        .orders
        .iter()
        .filter(|o| o.booked_at.elapsed() >= lag)
        .filter(|o| ticker.is_none_or(|t| o.ticker == t))
        .filter(|o| status.is_none_or(|s| o.status == s))
        .map(|o| order_json(o, float))
        .collect();
    match page_value(req, shared.config.max_page, "orders", orders) {
        Ok(out) => Outcome::Respond(200, out),
        Err(e) => violation(st, format!("GET /portfolio/orders: {e}")),
    }
}

fn market(st: &State, shared: &Shared, ticker: &str) -> Outcome {
    let Some(state) = st.markets.get(ticker) else {
        return error(404, "not_found", "no such market");
    };
    let deci = shared.config.deci_cent_markets.iter().any(|t| t == ticker);
    let ranges = if deci {
        json!([{"start": "0.0000", "end": "0.1000", "step": "0.0010"},
               {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
               {"start": "0.9000", "end": "1.0000", "step": "0.0010"}])
    } else {
        json!([{"start": "0.0000", "end": "1.0000", "step": "0.0100"}])
    };
    let (status, result) = match state {
        MarketState::Active => ("active", ""),
        MarketState::Paused => ("inactive", ""),
        MarketState::Closed => ("closed", ""),
        MarketState::Determined(Side::Yes) => ("determined", "yes"),
        MarketState::Determined(Side::No) => ("determined", "no"),
        MarketState::Settled => ("finalized", ""),
    };
    Outcome::Respond(
        200,
        json!({"market": {"ticker": ticker, "event_ticker": ticker, "market_type": "binary",
            "status": status, "result": result,
            "price_level_structure": if deci { "tapered_deci_cent" } else { "linear_cent" },
            "price_ranges": ranges, "fractional_trading_enabled": false,
            "notional_value_dollars": "1.0000"}}),
    )
}

fn orderbook(st: &State, ticker: &str) -> Outcome {
    let Some(book) = st.books.get(ticker) else {
        return error(404, "not_found", "no such market");
    };
    let float = st.faults.float_numbers;
    let ladder = |side: Side| -> Vec<Value> {
        (1..=99u8)
            .filter_map(|c| {
                let p = Price::new(c).ok()?;
                let d = book.effective_depth(side, p).0;
                (d >= 100).then(|| {
                    let qty = if float {
                        json!(d as f64 / 100.0)
                    } else {
                        json!(format_centi_contracts(d as i64))
                    };
                    json!([price_value(c, float), qty])
                })
            })
            .collect()
    };
    Outcome::Respond(
        200,
        json!({"orderbook_fp": {"yes_dollars": ladder(Side::Yes), "no_dollars": ladder(Side::No)}}),
    )
}

/// What every cursor starts with: characters a query value must percent-encode (`+` reads
/// as a space, `&` `=` `#` end the value or the query), as an opaque cursor — base64 with
/// `+ / =`, or anything else — may hold.
const CURSOR_PREFIX: &str = "pg+/=&%?# ~é:";

/// Cursor pagination: `cursor` names the offset of the next item; clients must send it back
/// exactly (an altered one is refused). `limit` is capped at `max_page`.
fn page_value(
    req: &Request,
    max_page: usize,
    key: &str,
    items: Vec<Value>,
) -> Result<Value, String> {
    let limit: usize = req
        .query("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100)
        .clamp(1, max_page.max(1));
    let start: usize = match req.query("cursor") {
        None | Some("") => 0,
        Some(c) => c
            .strip_prefix(CURSOR_PREFIX)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("unknown cursor {c:?} (not sent back as given)"))?,
    };
    let end = (start + limit).min(items.len());
    let cursor = if end < items.len() {
        format!("{CURSOR_PREFIX}{end}")
    } else {
        String::new()
    };
    let slice = items.get(start..end).unwrap_or(&[]).to_vec();
    Ok(json!({ key: slice, "cursor": cursor }))
}
