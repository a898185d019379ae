//! A local Kalshi-compatible exchange for tests: HTTP/1.1 REST and a WebSocket feed on
//! loopback ephemeral ports, served by in-process threads.
//!
//! - Every REST request and WebSocket handshake must carry a valid RSA-PSS signature for the
//!   configured key (401 otherwise).
//! - Token buckets per read/write tier answer 429 when exceeded.
//! - A `client_order_id` already used (by any order, open or not) is refused with
//!   409 `order_already_exists`; [`Exchange::orders_per_client_order_id`] counts bookings.
//! - Orders match immediately against the configured book (at or better than the limit,
//!   whole contracts, no fees); the rest rests until cancelled. Positions net per SPEC §5.
//! - The WebSocket streams a scripted list of Kalshi messages (snapshots and deltas), with its
//!   own `sid`/`seq`, and keeps the true book so that a resubscription gets a fresh snapshot.
//! - [`Faults`] inject 5xx, delayed (past the client's timeout) or dropped responses after an
//!   order was accepted, WebSocket disconnects and sequence gaps.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use kalsim_core::{Cents, OrderBook, Side};
use rsa::RsaPublicKey;
use serde_json::Value;

use super::auth::{HEADER_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP, now_ms, verify_signature};
use super::ratelimit::{RateLimits, TokenBucket};
use super::{OrderAction, OrderStatus};

mod http;
mod ws;

/// Settings of an [`Exchange`].
#[derive(Clone, Debug)]
pub struct ExchangeConfig {
    /// The API key id clients must present.
    pub key_id: String,
    /// The public key their signatures must verify with.
    pub public_key: RsaPublicKey,
    /// Budgets enforced with 429s.
    pub rate_limits: RateLimits,
    /// Starting cash of the account.
    pub initial_balance: Cents,
    /// Resting liquidity per market (what orders match against and `/orderbook` serves).
    pub books: Vec<(String, OrderBook)>,
    /// Kalshi WebSocket messages to stream, in order (`sid`/`seq` are rewritten).
    pub ws_script: Vec<Value>,
    /// Pause between streamed messages.
    pub ws_interval: Duration,
    /// Largest accepted difference between a request's timestamp and the exchange clock.
    pub max_clock_skew: Duration,
}

impl ExchangeConfig {
    /// Defaults: Basic-tier limits, $1 000 cash, no markets, empty script.
    pub fn new(key_id: impl Into<String>, public_key: RsaPublicKey) -> ExchangeConfig {
        ExchangeConfig {
            key_id: key_id.into(),
            public_key,
            rate_limits: RateLimits::default(),
            initial_balance: Cents(100_000),
            books: Vec::new(),
            ws_script: Vec::new(),
            ws_interval: Duration::from_millis(1),
            max_clock_skew: Duration::from_secs(30),
        }
    }
}

/// Fault injection. Counters are consumed one per affected request.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Answer the next order creations with 503 without booking them.
    pub order_5xx: u32,
    /// Book the next orders, then answer only after `response_delay` (past the client timeout).
    pub order_delay_after_accept: u32,
    /// How long a delayed answer waits.
    pub response_delay: Duration,
    /// Book the next orders, then close the connection without answering.
    pub order_drop_after_accept: u32,
    /// Answer the next read requests with 500.
    pub read_5xx: u32,
    /// Close the WebSocket (no close frame) after this many more script messages.
    pub ws_disconnect_after: Option<usize>,
    /// Skip sending the script message at this index (its seq is consumed: a gap).
    pub ws_gap_at: Option<usize>,
}

/// What the exchange saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExchangeStats {
    /// REST requests received.
    pub requests: u64,
    /// Requests refused with 401.
    pub unauthorized: u64,
    /// Requests refused with 429.
    pub rate_limited: u64,
    /// Order creations refused as duplicate `client_order_id`.
    pub duplicates_refused: u64,
    /// Orders booked.
    pub orders_booked: u64,
    /// WebSocket connections accepted.
    pub ws_connections: u64,
    /// WebSocket script messages streamed (gaps included).
    pub ws_messages: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct OrderRec {
    pub(crate) order_id: String,
    pub(crate) client_order_id: String,
    pub(crate) ticker: String,
    pub(crate) contract: Side,
    pub(crate) action: OrderAction,
    pub(crate) price: u8,
    pub(crate) initial: u32,
    pub(crate) filled: u32,
    pub(crate) remaining: u32,
    pub(crate) status: OrderStatus,
}

#[derive(Clone, Debug)]
pub(crate) struct FillRec {
    pub(crate) fill_id: String,
    pub(crate) order_id: String,
    pub(crate) ticker: String,
    pub(crate) contract: Side,
    pub(crate) action: OrderAction,
    pub(crate) count: u32,
    /// Contract price, cents.
    pub(crate) price: u8,
}

pub(crate) struct State {
    pub(crate) books: HashMap<String, OrderBook>,
    pub(crate) orders: Vec<OrderRec>,
    pub(crate) coid_counts: HashMap<String, u32>,
    pub(crate) positions: HashMap<String, i64>,
    pub(crate) balance: i64,
    pub(crate) fills: Vec<FillRec>,
    pub(crate) next_id: u64,
    pub(crate) reads: TokenBucket,
    pub(crate) writes: TokenBucket,
    pub(crate) stats: ExchangeStats,
    pub(crate) faults: Faults,
    pub(crate) ws_cursor: usize,
    pub(crate) ws_books: HashMap<String, OrderBook>,
    pub(crate) next_sid: u64,
}

pub(crate) struct Shared {
    pub(crate) config: ExchangeConfig,
    pub(crate) state: Mutex<State>,
    pub(crate) stop: AtomicBool,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking handler thread must not wedge the test: take the state anyway.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Check the three auth headers for `method` + `path` (`header` looks one up by name).
    pub(crate) fn authorized(
        &self,
        method: &str,
        path: &str,
        header: impl Fn(&str) -> Option<String>,
    ) -> bool {
        let (Some(key), Some(ts), Some(sig)) = (
            header(HEADER_KEY),
            header(HEADER_TIMESTAMP),
            header(HEADER_SIGNATURE),
        ) else {
            return false;
        };
        let Ok(ts_ms) = ts.parse::<u64>() else {
            return false;
        };
        let skew = now_ms().abs_diff(ts_ms);
        key == self.config.key_id
            && u128::from(skew) <= self.config.max_clock_skew.as_millis()
            && verify_signature(&self.config.public_key, &ts, method, path, &sig)
    }
}

/// A running local exchange; stops when dropped.
pub struct Exchange {
    shared: Arc<Shared>,
    http_addr: SocketAddr,
    ws_addr: SocketAddr,
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("http_addr", &self.http_addr)
            .field("ws_addr", &self.ws_addr)
            .finish_non_exhaustive()
    }
}

impl Exchange {
    /// Bind both servers on `127.0.0.1:0` and start serving.
    pub fn start(config: ExchangeConfig) -> io::Result<Exchange> {
        let state = State {
            books: config.books.iter().cloned().collect(),
            orders: Vec::new(),
            coid_counts: HashMap::new(),
            positions: HashMap::new(),
            balance: config.initial_balance.0,
            fills: Vec::new(),
            next_id: 1,
            reads: TokenBucket::per_second(config.rate_limits.reads_per_sec),
            writes: TokenBucket::per_second(config.rate_limits.writes_per_sec),
            stats: ExchangeStats::default(),
            faults: Faults::default(),
            ws_cursor: 0,
            ws_books: HashMap::new(),
            next_sid: 1,
        };
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(state),
            stop: AtomicBool::new(false),
        });
        let http = TcpListener::bind("127.0.0.1:0")?;
        let ws = TcpListener::bind("127.0.0.1:0")?;
        let (http_addr, ws_addr) = (http.local_addr()?, ws.local_addr()?);
        let s = Arc::clone(&shared);
        std::thread::spawn(move || http::serve(http, s));
        let s = Arc::clone(&shared);
        std::thread::spawn(move || ws::serve(ws, s));
        Ok(Exchange {
            shared,
            http_addr,
            ws_addr,
        })
    }

    /// REST base URL, `http://127.0.0.1:PORT/trade-api/v2`.
    pub fn rest_base_url(&self) -> String {
        format!("http://{}/trade-api/v2", self.http_addr)
    }

    /// WebSocket URL, `ws://127.0.0.1:PORT/trade-api/ws/v2`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/trade-api/ws/v2", self.ws_addr)
    }

    /// Replace the fault settings.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().faults = faults;
    }

    /// The fault settings now (counters left unconsumed).
    pub fn faults(&self) -> Faults {
        self.shared.lock().faults.clone()
    }

    /// Counters so far.
    pub fn stats(&self) -> ExchangeStats {
        self.shared.lock().stats.clone()
    }

    /// Orders booked per `client_order_id` (a value above 1 would be a duplicate).
    pub fn orders_per_client_order_id(&self) -> HashMap<String, u32> {
        self.shared.lock().coid_counts.clone()
    }

    /// Signed positions (+YES / −NO contracts) per market, flat ones omitted.
    pub fn positions(&self) -> HashMap<String, i64> {
        let st = self.shared.lock();
        st.positions
            .iter()
            .filter(|(_, p)| **p != 0)
            .map(|(t, p)| (t.clone(), *p))
            .collect()
    }

    /// Cash of the account.
    pub fn balance(&self) -> Cents {
        Cents(self.shared.lock().balance)
    }

    /// The true WebSocket book of `ticker` after the messages streamed so far.
    pub fn ws_book(&self, ticker: &str) -> Option<OrderBook> {
        self.shared.lock().ws_books.get(ticker).cloned()
    }

    /// Whether every scripted WebSocket message has been streamed.
    pub fn ws_script_done(&self) -> bool {
        self.shared.lock().ws_cursor >= self.shared.config.ws_script.len()
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake both accept loops so they see the flag.
        let _ = TcpStream::connect_timeout(&self.http_addr, Duration::from_millis(100));
        let _ = TcpStream::connect_timeout(&self.ws_addr, Duration::from_millis(100));
    }
}
