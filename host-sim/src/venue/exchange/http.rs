//! The exchange's REST side: a minimal HTTP/1.1 server (one request per connection,
//! `Connection: close`) and the Trade API v2 routes the venue uses.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kalsim_core::{Contracts, Price, Side};
use serde_json::{Value, json};

use super::{FillRec, OrderRec, Shared, State};
use crate::venue::fixed::{format_centi_contracts, format_count_fp, format_price_dollars};
use crate::venue::kalshi_json::{action_field, contract_price, count_field, side_field};
use crate::venue::{OrderAction, OrderStatus};

const PREFIX: &str = "/trade-api/v2";

struct Request {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What to do with the connection after routing.
enum Outcome {
    Respond(u16, Value),
    /// Respond after a pause (the client will have given up).
    Delayed(u16, Value, Duration),
    /// Close without a response.
    Drop,
}

pub(super) fn serve(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let s = Arc::clone(&shared);
        std::thread::spawn(move || handle(stream, &s));
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
        if headers.len() > 100 {
            return None;
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len.min(1 << 20)];
    reader.read_exact(&mut body).ok()?;
    let (path, q) = target.split_once('?').unwrap_or((&target, ""));
    let query = q
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    Some(Request {
        method,
        path: path.to_owned(),
        query,
        headers,
        body,
    })
}

fn write_response(mut stream: &TcpStream, status: u16, body: &Value) {
    let text = body.to_string();
    let reason = match status {
        200 => "OK",
        201 => "Created",
        401 => "Unauthorized",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        text.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(text.as_bytes());
    let _ = stream.flush();
}

fn error(status: u16, code: &str, message: &str) -> Outcome {
    Outcome::Respond(status, json!({"error": {"code": code, "message": message}}))
}

fn handle(stream: TcpStream, shared: &Shared) {
    let Some(req) = read_request(&stream) else {
        return;
    };
    match route(&req, shared) {
        Outcome::Respond(status, body) => write_response(&stream, status, &body),
        Outcome::Delayed(status, body, pause) => {
            std::thread::sleep(pause);
            write_response(&stream, status, &body);
        }
        Outcome::Drop => {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

fn route(req: &Request, shared: &Shared) -> Outcome {
    let mut st = shared.lock();
    st.stats.requests += 1;
    if !shared.authorized(&req.method, &req.path, |h| req.header(h)) {
        st.stats.unauthorized += 1;
        return error(401, "authentication_error", "bad or missing signature");
    }
    let write = req.method != "GET";
    let bucket = if write { &mut st.writes } else { &mut st.reads };
    if !bucket.try_take(Instant::now()) {
        st.stats.rate_limited += 1;
        return error(429, "too_many_requests", "rate limit exceeded");
    }
    if !write && st.faults.read_5xx > 0 {
        st.faults.read_5xx -= 1;
        return error(500, "internal_error", "injected");
    }
    let Some(rest) = req.path.strip_prefix(PREFIX) else {
        return error(404, "not_found", "unknown path");
    };
    let segs: Vec<&str> = rest.trim_matches('/').split('/').collect();
    match (req.method.as_str(), segs.as_slice()) {
        ("POST", ["portfolio", "orders"]) => create_order(&mut st, req),
        ("DELETE", ["portfolio", "orders", id]) => cancel_order(&mut st, id),
        ("GET", ["portfolio", "orders"]) => {
            let (ticker, status) = (req.query("ticker"), req.query("status"));
            let orders: Vec<Value> = st
                .orders
                .iter()
                .filter(|o| ticker.is_none_or(|t| o.ticker == t))
                .filter(|o| status.is_none_or(|s| status_name(o.status) == s))
                .map(order_json)
                .collect();
            page(req, "orders", orders)
        }
        ("GET", ["portfolio", "positions"]) => {
            let mut ps: Vec<(&String, &i64)> = st.positions.iter().collect();
            ps.sort();
            let items = ps
                .into_iter()
                .map(|(t, p)| {
                    json!({"ticker": t, "position": p,
                        "position_fp": format_centi_contracts(p * 100)})
                })
                .collect();
            let mut out = page_value(req, "market_positions", items);
            out["event_positions"] = json!([]);
            Outcome::Respond(200, out)
        }
        ("GET", ["portfolio", "balance"]) => {
            Outcome::Respond(200, json!({"balance": st.balance, "portfolio_value": 0}))
        }
        ("GET", ["portfolio", "fills"]) => {
            let fills = st.fills.iter().rev().map(fill_json).collect();
            page(req, "fills", fills)
        }
        ("GET", ["markets", ticker, "orderbook"]) => match st.books.get(*ticker) {
            None => error(404, "not_found", "no such market"),
            Some(book) => {
                let ladder = |side: Side, fp: bool| -> Vec<Value> {
                    (1..=99u8)
                        .filter_map(|c| {
                            let p = Price::new(c).ok()?;
                            let d = book.effective_depth(side, p).0;
                            (d >= 100).then(|| {
                                if fp {
                                    json!([
                                        format_price_dollars(p),
                                        format_centi_contracts(d as i64)
                                    ])
                                } else {
                                    json!([c, d / 100])
                                }
                            })
                        })
                        .collect()
                };
                Outcome::Respond(
                    200,
                    json!({
                        "orderbook": {"yes": ladder(Side::Yes, false), "no": ladder(Side::No, false)},
                        "orderbook_fp": {"yes_dollars": ladder(Side::Yes, true),
                                         "no_dollars": ladder(Side::No, true)},
                    }),
                )
            }
        },
        _ => error(404, "not_found", "unknown route"),
    }
}

/// Cursor pagination: `cursor` is the offset of the next item.
fn page_value(req: &Request, key: &str, items: Vec<Value>) -> Value {
    let limit: usize = req
        .query("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let start: usize = req
        .query("cursor")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let end = (start + limit).min(items.len());
    let cursor = if end < items.len() {
        end.to_string()
    } else {
        String::new()
    };
    let slice = items.get(start..end).unwrap_or(&[]).to_vec();
    json!({ key: slice, "cursor": cursor })
}

fn page(req: &Request, key: &str, items: Vec<Value>) -> Outcome {
    Outcome::Respond(200, page_value(req, key, items))
}

fn status_name(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Resting => "resting",
        OrderStatus::Executed => "executed",
        OrderStatus::Canceled => "canceled",
        OrderStatus::Pending => "pending",
    }
}

fn prices_json(v: &mut Value, contract: Side, price: u8) {
    let (yes, no) = match contract {
        Side::Yes => (price, 100 - price),
        Side::No => (100 - price, price),
    };
    v["yes_price"] = json!(yes);
    v["no_price"] = json!(no);
    v["yes_price_dollars"] = json!(format_price_dollars(Price::new(yes).unwrap_or(Price::MIN)));
    v["no_price_dollars"] = json!(format_price_dollars(Price::new(no).unwrap_or(Price::MIN)));
}

fn order_json(o: &OrderRec) -> Value {
    let mut v = json!({
        "order_id": o.order_id, "client_order_id": o.client_order_id, "ticker": o.ticker,
        "side": o.contract.name(), "action": o.action.name(), "type": "limit",
        "status": status_name(o.status),
        "initial_count": o.initial, "initial_count_fp": format_count_fp(Contracts(o.initial)),
        "fill_count": o.filled, "fill_count_fp": format_count_fp(Contracts(o.filled)),
        "remaining_count": o.remaining, "remaining_count_fp": format_count_fp(Contracts(o.remaining)),
    });
    prices_json(&mut v, o.contract, o.price);
    v
}

fn fill_json(f: &FillRec) -> Value {
    let mut v = json!({
        "fill_id": f.fill_id, "trade_id": f.fill_id, "order_id": f.order_id, "ticker": f.ticker,
        "side": f.contract.name(), "action": f.action.name(), "count": f.count,
        "count_fp": format_count_fp(Contracts(f.count)), "is_taker": true,
    });
    prices_json(&mut v, f.contract, f.price);
    v
}

/// Kalshi netting (SPEC §5): buying `n` of `contract` at `price` closes the other contract
/// first (each closed pair returns 100¢), then opens.
fn apply_buy(position: &mut i64, cash: &mut i64, contract: Side, price: u8, n: u32) {
    let n = i64::from(n);
    let p = i64::from(price);
    let opposite_held = match contract {
        Side::Yes => (-*position).max(0),
        Side::No => (*position).max(0),
    };
    let closed = n.min(opposite_held);
    *cash += closed * (100 - p) - (n - closed) * p;
    *position += if contract == Side::Yes { n } else { -n };
}

fn create_order(st: &mut State, req: &Request) -> Outcome {
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return error(400, "invalid_parameters", "body is not JSON");
    };
    let parsed = (|| {
        let ticker = body.get("ticker")?.as_str()?.to_owned();
        let coid = body.get("client_order_id")?.as_str()?.to_owned();
        let contract = side_field(&body, "side").ok()?;
        let action = action_field(&body).ok()?;
        let count = count_field(&body, "count").ok()??;
        if let (Some(c), Some(fp)) = (
            body.get("count").and_then(Value::as_u64),
            body.get("count_fp"),
        ) {
            let fp = fp
                .as_str()
                .and_then(|s| crate::venue::fixed::parse_whole_contracts(s).ok())?;
            (u64::from(fp.0) == c).then_some(())?;
        }
        let price = contract_price(&body, contract).ok()?;
        (body.get("type")?.as_str()? == "limit").then_some(())?;
        Some((ticker, coid, contract, action, count, price))
    })();
    let Some((ticker, coid, contract, action, count, price)) = parsed else {
        return error(400, "invalid_parameters", "bad order fields");
    };
    if st.faults.order_5xx > 0 {
        st.faults.order_5xx -= 1;
        return error(503, "service_unavailable", "injected");
    }
    if st.coid_counts.contains_key(&coid) {
        st.stats.duplicates_refused += 1;
        return error(409, "order_already_exists", "client_order_id already used");
    }
    let Some(book) = st.books.get_mut(&ticker) else {
        return error(404, "market_not_found", "no such market");
    };
    // Worst-case cost: buying pays the price, selling to open pays the complement.
    let worst = i64::from(count.0)
        * i64::from(match action {
            OrderAction::Buy => price.cents(),
            OrderAction::Sell => 100 - price.cents(),
        });
    if worst > st.balance {
        return error(400, "insufficient_balance", "not enough cash");
    }
    // Buy C at p takes the other contract's bids at ≥ 100 - p; sell C at p takes C's bids ≥ p.
    let mut fills: Vec<(u8, u32)> = Vec::new();
    let filled = match action {
        OrderAction::Buy => book.take(contract.other(), price.complement(), count.0, |bp, n| {
            fills.push((100 - bp.cents(), n));
        }),
        OrderAction::Sell => book.take(contract, price, count.0, |bp, n| {
            fills.push((bp.cents(), n));
        }),
    };
    let order_id = format!("ord-{:06}", st.next_id);
    st.next_id += 1;
    for (fill_price, n) in fills {
        let pos = st.positions.entry(ticker.clone()).or_insert(0);
        let (buy_contract, buy_price) = match action {
            OrderAction::Buy => (contract, fill_price),
            OrderAction::Sell => (contract.other(), 100 - fill_price),
        };
        apply_buy(pos, &mut st.balance, buy_contract, buy_price, n);
        let fill_id = format!("fill-{:06}", st.next_id);
        st.next_id += 1;
        st.fills.push(FillRec {
            fill_id,
            order_id: order_id.clone(),
            ticker: ticker.clone(),
            contract,
            action,
            count: n,
            price: fill_price,
        });
    }
    let remaining = count.0 - filled;
    let rec = OrderRec {
        order_id,
        client_order_id: coid.clone(),
        ticker,
        contract,
        action,
        price: price.cents(),
        initial: count.0,
        filled,
        remaining,
        status: if remaining == 0 {
            OrderStatus::Executed
        } else {
            OrderStatus::Resting
        },
    };
    let reply = json!({ "order": order_json(&rec) });
    st.orders.push(rec);
    *st.coid_counts.entry(coid).or_insert(0) += 1;
    st.stats.orders_booked += 1;
    if st.faults.order_drop_after_accept > 0 {
        st.faults.order_drop_after_accept -= 1;
        return Outcome::Drop;
    }
    if st.faults.order_delay_after_accept > 0 {
        st.faults.order_delay_after_accept -= 1;
        return Outcome::Delayed(201, reply, st.faults.response_delay);
    }
    Outcome::Respond(201, reply)
}

fn cancel_order(st: &mut State, id: &str) -> Outcome {
    match st
        .orders
        .iter_mut()
        .find(|o| o.order_id == id && o.status == OrderStatus::Resting)
    {
        None => error(404, "not_found", "no resting order with that id"),
        Some(o) => {
            let reduced_by = o.remaining;
            o.remaining = 0;
            o.status = OrderStatus::Canceled;
            Outcome::Respond(
                200,
                json!({"order": order_json(o), "reduced_by": reduced_by}),
            )
        }
    }
}
