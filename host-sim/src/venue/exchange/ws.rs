//! The exchange's WebSocket side: signed handshake, `subscribe` / `unsubscribe`, scripted
//! `orderbook_snapshot` / `orderbook_delta` messages with per-`sid` contiguous `seq`.
//!
//! The script cursor is shared by all connections, so after a reconnect the stream resumes
//! where it stopped; every scripted message is applied to the exchange's true book even when
//! no one receives it, and each new subscription starts with a snapshot of that true book.

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kalsim_core::{OrderBook, Price, Side};
use serde_json::{Value, json};
use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::{Message, WebSocket};

use super::Shared;
use crate::venue::fixed::{format_centi_contracts, format_price_dollars};
use crate::venue::kalshi_json::{centi_value, parse_book, price_value, side_field};

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

/// Apply a scripted message to the true books; returns its ticker.
fn apply(books: &mut std::collections::HashMap<String, OrderBook>, m: &Value) -> Option<String> {
    let msg = m.get("msg")?;
    let ticker = msg.get("market_ticker")?.as_str()?.to_owned();
    match m.get("type")?.as_str()? {
        "orderbook_snapshot" => {
            books.insert(ticker.clone(), parse_book(msg).ok()?);
        }
        "orderbook_delta" => {
            let side = side_field(msg, "side").ok()?;
            let price = price_value(msg.get("price_dollars").or_else(|| msg.get("price"))?).ok()?;
            let delta = centi_value(msg.get("delta_fp").or_else(|| msg.get("delta"))?).ok()?;
            books
                .entry(ticker.clone())
                .or_default()
                .apply_delta(side, price, delta)
                .ok()?;
        }
        _ => return None,
    }
    Some(ticker)
}

struct Sub {
    sid: u64,
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
    shared.lock().stats.ws_connections += 1;
    let _ = ws
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(2)));
    let mut subs: Vec<Sub> = Vec::new();
    let mut last_sent = Instant::now();
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
        if subs.is_empty() || last_sent.elapsed() < shared.config.ws_interval {
            continue;
        }
        last_sent = Instant::now();
        match stream_next(&mut ws, shared, &mut subs) {
            Step::Continue => {}
            Step::Disconnect => return, // dropping the socket: no close frame
        }
    }
}

enum Step {
    Continue,
    Disconnect,
}

fn stream_next(ws: &mut WebSocket<TcpStream>, shared: &Shared, subs: &mut [Sub]) -> Step {
    let mut st = shared.lock();
    let idx = st.ws_cursor;
    let Some(m) = shared.config.ws_script.get(idx) else {
        return Step::Continue;
    };
    st.ws_cursor += 1;
    st.stats.ws_messages += 1;
    let Some(ticker) = apply(&mut st.ws_books, m) else {
        return Step::Continue;
    };
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
    drop(st);
    if disconnect {
        return Step::Disconnect;
    }
    for sub in subs.iter_mut().filter(|s| s.tickers.contains(&ticker)) {
        let mut out = m.clone();
        out["sid"] = json!(sub.sid);
        out["seq"] = json!(sub.next_seq);
        sub.next_seq += 1;
        if !skip && ws.send(Message::text(out.to_string())).is_err() {
            return Step::Disconnect;
        }
    }
    Step::Continue
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
    match v.get("cmd").and_then(Value::as_str) {
        Some("subscribe") => {
            let tickers: Vec<String> = params
                .get("market_tickers")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let (sid, snaps) = {
                let mut st = shared.lock();
                let sid = st.next_sid;
                st.next_sid += 1;
                let snaps: Vec<(String, OrderBook)> = tickers
                    .iter()
                    .filter_map(|t| st.ws_books.get(t).map(|b| (t.clone(), b.clone())))
                    .collect();
                (sid, snaps)
            };
            ws.send(Message::text(
                json!({"id": id, "type": "subscribed",
                    "msg": {"channel": "orderbook_delta", "sid": sid}})
                .to_string(),
            ))?;
            let mut sub = Sub {
                sid,
                tickers,
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
