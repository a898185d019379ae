//! The exchange's HTTP side: a minimal HTTP/1.1 server (one request per connection,
//! `Connection: close`), signature and budget checks, then [`super::routes`].

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::Shared;
use kalsim_host_sim::venue::ratelimit::{Bucket, EndpointCosts};

/// The REST prefix every route sits under.
pub(crate) const PREFIX: &str = "/trade-api/v2";

pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// What to do with the connection after routing.
pub(crate) enum Outcome {
    Respond(u16, Value),
    /// Respond with extra headers.
    RespondWith(u16, Value, Vec<(String, String)>),
    /// Respond after a pause (the client will have given up).
    Delayed(u16, Value, Duration),
    /// Respond with this exact body text (possibly not JSON at all).
    RespondText(u16, String),
    /// Close without a response.
    Drop,
}

pub(crate) fn error(status: u16, code: &str, message: &str) -> Outcome {
    Outcome::Respond(status, json!({"error": {"code": code, "message": message}}))
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
            (query_decode(k), query_decode(v))
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

/// A query key or value as servers read it: `+` is a space, `%XX` a byte (UTF-8).
fn query_decode(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

fn write_response(mut stream: &TcpStream, status: u16, text: &str, extra: &[(String, String)]) {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        409 => "Conflict",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        text.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(text.as_bytes());
    let _ = stream.flush();
}

fn handle(stream: TcpStream, shared: &Shared) {
    let Some(req) = read_request(&stream) else {
        return;
    };
    let slow = {
        let mut st = shared.lock();
        if st.faults.slow_requests > 0 {
            st.faults.slow_requests -= 1;
            Some(st.faults.response_delay)
        } else {
            None
        }
    };
    if let Some(d) = slow {
        std::thread::sleep(d);
    }
    match gate(&req, shared) {
        Some(outcome) => finish(&stream, outcome),
        None => {
            let outcome = super::routes::route(&req, shared);
            finish(&stream, outcome);
        }
    }
}

fn finish(stream: &TcpStream, outcome: Outcome) {
    match outcome {
        Outcome::Respond(status, body) => write_response(stream, status, &body.to_string(), &[]),
        Outcome::RespondWith(status, body, headers) => {
            write_response(stream, status, &body.to_string(), &headers)
        }
        Outcome::Delayed(status, body, pause) => {
            std::thread::sleep(pause);
            write_response(stream, status, &body.to_string(), &[]);
        }
        Outcome::RespondText(status, text) => write_response(stream, status, &text, &[]),
        Outcome::Drop => {}
    }
}

/// Signature, then token budget: `Some` refuses the request.
fn gate(req: &Request, shared: &Shared) -> Option<Outcome> {
    let mut st = shared.lock();
    st.stats.requests += 1;
    if !shared.authorized(&req.method, &req.path, |h| req.header(h)) {
        st.stats.unauthorized += 1;
        return Some(error(
            401,
            "authentication_error",
            "bad or missing signature",
        ));
    }
    let rel = req.path.strip_prefix(PREFIX).unwrap_or(&req.path);
    let items = req
        .json()
        .and_then(|v| v.get("orders").and_then(Value::as_array).map(Vec::len))
        .unwrap_or(1);
    let cost = shared
        .config
        .rate_limits
        .costs
        .cost(&req.method, rel, items);
    let now = Instant::now();
    let bucket = match EndpointCosts::bucket(&req.method, rel) {
        Bucket::Read => &mut st.reads,
        Bucket::Write => &mut st.writes,
    };
    if !bucket.try_take(cost, now) {
        let wait = bucket.wait_time(cost, now).max(Duration::from_millis(1));
        st.stats.rate_limited += 1;
        let headers = if shared.config.retry_after {
            vec![(
                "Retry-After".to_owned(),
                format!("{:.3}", wait.as_secs_f64()),
            )]
        } else {
            Vec::new()
        };
        return Some(Outcome::RespondWith(
            429,
            json!({"error": "too many requests"}),
            headers,
        ));
    }
    None
}
