//! The exchange's WebSocket side: signed handshake, `subscribe` / `unsubscribe` of
//! `orderbook_delta` (and `trade`), `fill`, `user_orders` and `market_lifecycle_v2`; the
//! scripted book and lifecycle messages; the user channels from the matching engine.
//!
//! The script cursor is shared by all connections, so after a reconnect the stream resumes
//! where it stopped; every scripted message is applied to the exchange's true state even when
//! no one receives it, and each new book subscription starts with a snapshot of the true book
//! (displayed depth: the agent's consumed overlay is history, as in the core, SPEC §4).

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kalsim_core::{OrderBook, Price, Side};
use serde_json::{Value, json};
use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::{Message, WebSocket};

use super::{Shared, State, matching};
use kalsim_host_sim::wire::fixed::{format_centi_contracts, format_price_dollars};
use kalsim_host_sim::wire::market_json;

pub(super) fn serve(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let s = Arc::clone(&shared);
        std::thread::spawn(move || connection(stream, &s));
    }
}

/// Fixed-point strings of a message body as JSON numbers (the float fault).
fn floats(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Ok(f) = s.parse::<f64>()
                && s.contains('.')
            {
                *v = json!(f);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(floats),
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k.ends_with("_fp") || k.ends_with("_dollars") || k.contains("dollars") {
                    floats(x);
                }
            }
        }
        _ => {}
    }
}

fn snapshot_msg(ticker: &str, book: &OrderBook, sid: u64, seq: u64) -> Value {
    let ladder = |side: Side| -> Vec<Value> {
        (1..=99u8)
            .filter_map(|c| {
                let p = Price::new(c).ok()?;
                let d = book.depth(side, p).0;
                (d > 0).then(|| json!([format_price_dollars(p), format_centi_contracts(d as i64)]))
            })
            .collect()
    };
    json!({"type": "orderbook_snapshot", "sid": sid, "seq": seq, "msg": {
        "market_ticker": ticker, "yes_dollars_fp": ladder(Side::Yes), "no_dollars_fp": ladder(Side::No)}})
}

/// Apply a scripted book message to the true books (and the queues of resting orders);
/// returns its ticker.
fn apply_book(st: &mut State, cfg: &super::ExchangeConfig, m: &Value) -> Option<String> {
    let msg = m.get("msg")?;
    let ticker = msg.get("market_ticker")?.as_str()?.to_owned();
    match m.get("type")?.as_str()? {
        "orderbook_snapshot" => {
            st.books
                .insert(ticker.clone(), market_json::book(msg).ok()?.0);
            matching::on_snapshot(st, &ticker);
        }
        "orderbook_delta" => {
            let (side, price, delta) = match market_json::delta(msg) {
                Ok(Some(d)) => d,
                // A deci-cent level: not modelled by this exchange's whole-cent book.
                Ok(None) => return Some(ticker),
                Err(_) => return None,
            };
            let effect = st
                .books
                .entry(ticker.clone())
                .or_default()
                .apply_delta(side, price, delta)
                .ok()?;
            matching::on_level_change(
                st,
                cfg,
                &ticker,
                side,
                price,
                effect.before_centi,
                effect.after_centi,
            );
        }
        "trade" => {}
        _ => return None,
    }
    Some(ticker)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Book,
    User,
    Lifecycle,
}

struct Sub {
    sid: u64,
    kind: Kind,
    channels: Vec<String>,
    tickers: Vec<String>,
    next_seq: u64,
}

fn connection(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    // The callback type is tungstenite's.
    #[allow(clippy::result_large_err)]
    let check = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if shared.authorized("GET", req.uri().path(), header) {
            Ok(resp)
        } else {
            shared.lock().stats.unauthorized += 1;
            let mut err = ErrorResponse::new(Some("bad or missing signature".into()));
            *err.status_mut() = tungstenite::http::StatusCode::UNAUTHORIZED;
            Err(err)
        }
    };
    let Ok(mut ws) = tungstenite::accept_hdr(stream, check) else {
        return;
    };
    let mut event_cursor = {
        let mut st = shared.lock();
        st.stats.ws_connections += 1;
        st.events.len()
    };
    let _ = ws
        .get_ref()
        .set_read_timeout(Some(Duration::from_micros(250)));
    let mut subs: Vec<Sub> = Vec::new();
    let mut next_due = Instant::now();
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        match ws.read() {
            Ok(Message::Text(t)) => {
                if command(&mut ws, shared, &mut subs, t.as_str()).is_err() {
                    return;
                }
            }
            Ok(Message::Close(_)) => return,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
        if send_events(&mut ws, shared, &mut subs, &mut event_cursor).is_err() {
            return;
        }
        if subs.is_empty() {
            next_due = Instant::now();
            continue;
        }
        // One message per `ws_interval` on average: a turn of the loop can take a few
        // milliseconds (socket timeouts round up to the kernel's tick), so catch up in
        // bursts; without an interval, stream a burst per turn.
        let interval = shared.config.ws_interval;
        let mut burst = 0;
        while burst < 64 && (interval.is_zero() || next_due <= Instant::now()) {
            // What happened before this message (fills, order updates) is sent before it.
            if send_events(&mut ws, shared, &mut subs, &mut event_cursor).is_err() {
                return;
            }
            if !stream_next(&mut ws, shared, &mut subs) {
                return; // dropping the socket: no close frame
            }
            burst += 1;
            next_due += interval;
            if interval.is_zero() && burst >= 32 {
                break;
            }
        }
        // A turn that falls far behind (a slow reader) does not turn into a flood.
        if next_due + interval * 4 < Instant::now() {
            next_due = Instant::now();
        }
    }
}

/// Send the user-channel and lifecycle events this connection has not sent yet.
fn send_events(
    ws: &mut WebSocket<TcpStream>,
    shared: &Shared,
    subs: &mut [Sub],
    cursor: &mut usize,
) -> Result<(), tungstenite::Error> {
    let fresh: Vec<(String, Value)> = {
        let st = shared.lock();
        let out = st.events.get(*cursor..).unwrap_or(&[]).to_vec();
        *cursor = st.events.len();
        out
    };
    for (kind, body) in fresh {
        let ticker = body
            .get("ticker")
            .or_else(|| body.get("market_ticker"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let channel = match kind.as_str() {
            "fill" => "fill",
            "user_order" => "user_orders",
            _ => "market_lifecycle_v2",
        };
        for sub in subs.iter_mut().filter(|s| {
            s.kind != Kind::Book
                && s.channels.iter().any(|c| c == channel)
                && (s.tickers.is_empty() || s.tickers.contains(&ticker))
        }) {
            let msg = json!({"type": kind, "sid": sub.sid, "seq": sub.next_seq, "msg": body});
            sub.next_seq += 1;
            ws.send(Message::text(msg.to_string()))?;
        }
    }
    Ok(())
}

/// Stream the next scripted message; `false` when the connection must drop.
fn stream_next(ws: &mut WebSocket<TcpStream>, shared: &Shared, subs: &mut [Sub]) -> bool {
    let mut st = shared.lock();
    let idx = st.ws_cursor;
    let Some(m) = shared.config.ws_script.get(idx) else {
        return true;
    };
    let lifecycle = m.get("type").and_then(Value::as_str) == Some("market_lifecycle_v2");
    // A credit pays for a book message (one decision); lifecycle messages lead to none, so
    // they go with the book message before them.
    if shared.config.ws_lockstep && !lifecycle {
        if st.ws_credits == 0 {
            return true;
        }
        st.ws_credits -= 1;
    }
    st.ws_cursor += 1;
    st.stats.ws_messages += 1;
    if lifecycle {
        let out = matching::on_lifecycle(&mut st, m);
        let body = out.get("msg").cloned().unwrap_or(Value::Null);
        let faults = &mut st.faults;
        let lost = match body.get("event_type").and_then(Value::as_str) {
            Some("settled") => Some(&mut faults.drop_settled_messages),
            Some("deactivated") => Some(&mut faults.drop_deactivated_messages),
            Some("activated") => Some(&mut faults.drop_activated_messages),
            _ => None,
        };
        if let Some(n) = lost.filter(|n| **n > 0) {
            *n -= 1;
            return true;
        }
        st.events.push(("market_lifecycle_v2".into(), body));
        return true;
    }
    let Some(ticker) = apply_book(&mut st, &shared.config, m) else {
        return true;
    };
    matching::on_book_change(&mut st, &shared.config, &ticker);
    let skip = st.faults.ws_gap_at == Some(idx);
    if skip {
        st.faults.ws_gap_at = None;
    }
    let disconnect = match st.faults.ws_disconnect_after.as_mut() {
        Some(0) => true,
        Some(n) => {
            *n -= 1;
            false
        }
        None => false,
    };
    if disconnect {
        st.faults.ws_disconnect_after = None;
    }
    let float = st.faults.float_numbers;
    drop(st);
    if disconnect {
        return false;
    }
    let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
    for sub in subs.iter_mut().filter(|s| {
        s.kind == Kind::Book
            && s.tickers.contains(&ticker)
            && (kind != "trade" || s.channels.iter().any(|c| c == "trade"))
    }) {
        let mut out = m.clone();
        out["sid"] = json!(sub.sid);
        out["seq"] = json!(sub.next_seq);
        sub.next_seq += 1;
        if float && let Some(body) = out.get_mut("msg") {
            floats(body);
        }
        if !skip && ws.send(Message::text(out.to_string())).is_err() {
            return false;
        }
    }
    true
}

fn command(
    ws: &mut WebSocket<TcpStream>,
    shared: &Shared,
    subs: &mut Vec<Sub>,
    text: &str,
) -> Result<(), tungstenite::Error> {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return ws.send(Message::text(
            json!({"type": "error", "msg": {"code": 1, "msg": "bad JSON"}}).to_string(),
        ));
    };
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    let params = v.get("params").cloned().unwrap_or(Value::Null);
    let strings = |key: &str| -> Vec<String> {
        params
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    match v.get("cmd").and_then(Value::as_str) {
        Some("subscribe") => {
            let channels = strings("channels");
            let tickers = strings("market_tickers");
            let kind = if channels.iter().any(|c| c == "orderbook_delta") {
                Kind::Book
            } else if channels.iter().any(|c| c == "fill" || c == "user_orders") {
                Kind::User
            } else if channels.iter().any(|c| c == "market_lifecycle_v2") {
                Kind::Lifecycle
            } else {
                return ws.send(Message::text(
                    json!({"id": id, "type": "error", "msg": {"code": 3, "msg": "unknown channel"}})
                        .to_string(),
                ));
            };
            let (sid, snaps) = {
                let mut st = shared.lock();
                let sid = st.next_sid;
                st.next_sid += 1;
                let snaps: Vec<(String, OrderBook)> = if kind == Kind::Book {
                    tickers
                        .iter()
                        .filter_map(|t| st.books.get(t).map(|b| (t.clone(), b.clone())))
                        .collect()
                } else {
                    Vec::new()
                };
                (sid, snaps)
            };
            ws.send(Message::text(
                json!({"id": id, "type": "subscribed",
                    "msg": {"channel": channels.first(), "sid": sid}})
                .to_string(),
            ))?;
            let mut sub = Sub {
                sid,
                kind,
                channels,
                // Lifecycle messages are not filtered by market on Kalshi.
                tickers: if kind == Kind::Lifecycle {
                    Vec::new()
                } else {
                    tickers
                },
                next_seq: 1,
            };
            for (t, book) in snaps {
                ws.send(Message::text(
                    snapshot_msg(&t, &book, sid, sub.next_seq).to_string(),
                ))?;
                sub.next_seq += 1;
            }
            subs.push(sub);
        }
        Some("unsubscribe") => {
            let sids: Vec<u64> = params
                .get("sids")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            subs.retain(|s| !sids.contains(&s.sid));
            for sid in sids {
                ws.send(Message::text(
                    json!({"id": id, "type": "unsubscribed", "sid": sid}).to_string(),
                ))?;
            }
        }
        _ => {
            ws.send(Message::text(
                json!({"id": id, "type": "error", "msg": {"code": 2, "msg": "unknown command"}})
                    .to_string(),
            ))?;
        }
    }
    Ok(())
}
