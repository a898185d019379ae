//! A local Kalshi-compatible exchange for tests: HTTP/1.1 REST and a WebSocket feed on
//! loopback ephemeral ports, served by in-process threads, written from the V2 contract
//! recorded in `docs/live.md`.
//!
//! - Every REST request and WebSocket handshake must carry a valid RSA-PSS signature made
//!   with the configured key (401 otherwise).
//! - Token budgets per bucket (read / write) with per-endpoint costs answer 429 with
//!   `Retry-After` when exceeded.
//! - Orders go through the V2 event-order endpoints; each request is checked against the
//!   recorded contract ([`contract`]): a violation is 400 `invalid_parameters` and is counted
//!   ([`Exchange::contract_violations`]). The legacy write endpoints answer 410
//!   `deprecated_v1_order_endpoint`.
//! - A `client_order_id` already used is refused with 409 `order_already_exists`;
//!   [`Exchange::orders_per_client_order_id`] counts bookings.
//! - Orders match against the market's true book (the configured book, then every scripted
//!   WebSocket message) with the core's [`OrderBook::take`] (own consumed depth removed, as
//!   the core does), taker fees by the core's schedule; resting orders fill as makers when
//!   the book crosses them. Positions net per SPEC §5; settlement pays once.
//! - The WebSocket streams a scripted list of Kalshi messages (snapshots, deltas, lifecycle)
//!   with its own `sid`/`seq`, and the user channels `fill` and `user_orders`.
//! - The account may start with a fill history ([`ExchangeConfig::history_fills`]).
//! - [`Faults`] inject 5xx, answers delayed past the client's timeout, dropped, cut short or
//!   stripped of the order id after an order was booked, read lag, lost fill messages,
//!   float-typed numbers, WebSocket disconnects and sequence gaps.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kalsim_core::{Cents, FeeSchedule, OrderBook};
use rsa::RsaPublicKey;
use serde_json::Value;

use kalsim_host_sim::venue::auth::{
    HEADER_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP, now_ms, verify_signature,
};
use kalsim_host_sim::venue::ratelimit::{Bucket, RateLimits, TokenBudget};

pub(crate) mod contract;
mod http;
mod matching;
mod routes;
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
    /// Send `Retry-After` on 429s (Kalshi documents it as absent today; both are tested).
    pub retry_after: bool,
    /// Starting cash of the account.
    pub initial_balance: Cents,
    /// Starting books per market (the markets the exchange lists).
    pub books: Vec<(String, OrderBook)>,
    /// Markets whose price grid is `tapered_deci_cent` (sub-cent ticks at the tails).
    pub deci_cent_markets: Vec<String>,
    /// Markets that charge maker fees on resting fills.
    pub maker_fee_markets: Vec<String>,
    /// Charge fees as Kalshi does for a direct member (*Fee Rounding*): each trade fee
    /// rounded up to $0.0001 instead of the cent, and the balance kept to $0.0001, so
    /// `fee_cost` and `balance_dollars` carry sub-cent amounts (`"0.0175"`) and `balance`
    /// (cents) is rounded down. Off: fees in whole cents by the core's schedule.
    pub sub_cent_fees: bool,
    /// Kalshi WebSocket messages to stream, in order (`sid`/`seq` are rewritten). Book
    /// messages move the true books; `market_lifecycle_v2` messages move market states
    /// (a `close_date_updated` without `close_ts` closes the market now).
    pub ws_script: Vec<Value>,
    /// Pause between streamed messages.
    pub ws_interval: Duration,
    /// Stream a scripted book message only against a credit given by [`Exchange::release`]
    /// (one message per credit; lifecycle messages, which lead to no decision, go with the
    /// book message before them), so a test can pace the feed on the client's decisions:
    /// the book the exchange matches against is then the book the client decided on.
    pub ws_lockstep: bool,
    /// Largest accepted difference between a request's timestamp and the exchange clock.
    pub max_clock_skew: Duration,
    /// Largest batch accepted.
    pub max_batch: usize,
    /// Most items on one page of a listing (a request's `limit` is capped by it), so a test
    /// can make a few items span several pages.
    pub max_page: usize,
    /// Fills already on the account when the exchange starts (its trading history), in
    /// market [`HISTORY_TICKER`]: one contract each, bought and sold in turn (a position
    /// of 0 or 1 is left; `initial_balance` is the cash after them), listed by
    /// `GET /portfolio/fills` like any other. None by default.
    pub history_fills: u32,
    /// How long before the start the history's fills are dated (zero: the start itself).
    pub history_age: Duration,
}

/// The market of [`ExchangeConfig::history_fills`] (not listed as a market).
pub const HISTORY_TICKER: &str = "KXHISTORY-00";

impl ExchangeConfig {
    /// Defaults: Basic-tier budgets, no `Retry-After`, $1 000 cash, no markets, no script.
    pub fn new(key_id: impl Into<String>, public_key: RsaPublicKey) -> ExchangeConfig {
        ExchangeConfig {
            key_id: key_id.into(),
            public_key,
            rate_limits: RateLimits::default(),
            retry_after: false,
            initial_balance: Cents(100_000),
            books: Vec::new(),
            deci_cent_markets: Vec::new(),
            maker_fee_markets: Vec::new(),
            sub_cent_fees: false,
            ws_script: Vec::new(),
            ws_interval: Duration::from_millis(1),
            ws_lockstep: false,
            max_clock_skew: Duration::from_secs(30),
            max_batch: 20,
            max_page: 1000,
            history_fills: 0,
            history_age: Duration::ZERO,
        }
    }
}

/// Fault injection. Counters are consumed one per affected request or message.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Answer the next order creations with 503 without booking them.
    pub order_5xx: u32,
    /// Book the next orders, then answer only after `response_delay` (past the client
    /// timeout).
    pub order_delay_after_accept: u32,
    /// How long a delayed answer waits.
    pub response_delay: Duration,
    /// Book the next orders, then close the connection without answering.
    pub order_drop_after_accept: u32,
    /// Book the next orders, then answer 201 with the body cut off halfway: the HTTP framing
    /// is intact, the JSON is not.
    pub order_truncate_after_accept: u32,
    /// Book the next orders, then answer 201 with well-formed JSON that lacks `order_id`.
    pub order_strip_id_after_accept: u32,
    /// Answer the next read requests with 500.
    pub read_5xx: u32,
    /// Answer the next requests of any kind only after `response_delay`, before handling
    /// them (a slow exchange; the client times out and retries).
    pub slow_requests: u32,
    /// Orders stay invisible to `GET /portfolio/orders` for this long after booking (reads
    /// lag writes).
    pub order_read_lag: Duration,
    /// Drop the next `fill` WebSocket messages (the fill happens; only the message is lost).
    pub drop_fill_messages: u32,
    /// Settle markets without sending their `settled` lifecycle message (lost in transit).
    pub drop_settled_messages: u32,
    /// Pause markets without sending their `deactivated` message (lost, or still in flight
    /// when the client's next order arrives: the order is refused `trading_paused`).
    pub drop_deactivated_messages: u32,
    /// Reactivate markets without sending their `activated` message (lost in transit).
    pub drop_activated_messages: u32,
    /// Send prices and counts as JSON numbers instead of fixed-point strings.
    pub float_numbers: bool,
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
    /// Requests to retired endpoints (answered 410).
    pub deprecated_calls: u64,
    /// Requests that broke the recorded contract (answered 400).
    pub contract_violations: u64,
    /// Order creations refused as duplicate `client_order_id`.
    pub duplicates_refused: u64,
    /// Orders booked.
    pub orders_booked: u64,
    /// Orders cancelled by request.
    pub orders_cancelled: u64,
    /// Fills executed.
    pub fills: u64,
    /// Markets settled (each once).
    pub settlements: u64,
    /// WebSocket connections accepted.
    pub ws_connections: u64,
    /// WebSocket script messages streamed (gaps included).
    pub ws_messages: u64,
}

/// Trading state of a market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MarketState {
    Active,
    Paused,
    Closed,
    Determined(kalsim_core::Side),
    Settled,
}

#[derive(Clone, Debug)]
pub(crate) struct OrderRec {
    pub(crate) order_id: String,
    pub(crate) client_order_id: String,
    pub(crate) ticker: String,
    /// Bid (buy YES) or ask (sell YES).
    pub(crate) bid: bool,
    /// YES-book limit, cents.
    pub(crate) price: u8,
    pub(crate) initial: u32,
    pub(crate) filled: u32,
    pub(crate) remaining: u32,
    pub(crate) status: &'static str,
    pub(crate) expiration_time: Option<i64>,
    pub(crate) cancel_order_on_pause: bool,
    pub(crate) booked_at: Instant,
    /// Fees charged so far, centicents ($0.0001).
    pub(crate) fees_cc: i64,
    /// Displayed depth ahead of it at its level, centi-contracts (the core's FIFO model).
    pub(crate) queue_ahead_centi: u64,
    /// Queue fill credit below one contract, centi-contracts.
    pub(crate) carry_centi: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct FillRec {
    pub(crate) fill_id: String,
    pub(crate) order_id: String,
    pub(crate) client_order_id: String,
    pub(crate) ticker: String,
    pub(crate) bid: bool,
    pub(crate) count: u32,
    /// YES-book price, cents.
    pub(crate) price: u8,
    pub(crate) is_taker: bool,
    /// Fee, centicents ($0.0001).
    pub(crate) fee_cc: i64,
    pub(crate) post_position: i64,
    pub(crate) ts_ms: u64,
}

pub(crate) struct State {
    pub(crate) books: HashMap<String, OrderBook>,
    pub(crate) markets: BTreeMap<String, MarketState>,
    pub(crate) orders: Vec<OrderRec>,
    pub(crate) coid_counts: HashMap<String, u32>,
    pub(crate) positions: HashMap<String, i64>,
    /// Cash, centicents ($0.0001): whole cents unless `sub_cent_fees`.
    pub(crate) balance_cc: i64,
    pub(crate) fills: Vec<FillRec>,
    pub(crate) settled: HashSet<String>,
    pub(crate) next_id: u64,
    pub(crate) reads: TokenBudget,
    pub(crate) writes: TokenBudget,
    pub(crate) stats: ExchangeStats,
    pub(crate) violations: Vec<String>,
    /// Client order ids of bookings answered unreadably (the truncate / strip-id faults).
    pub(crate) unreadable_answers: Vec<String>,
    pub(crate) faults: Faults,
    pub(crate) ws_cursor: usize,
    /// Messages the script may still stream under `ws_lockstep`.
    pub(crate) ws_credits: u64,
    pub(crate) next_sid: u64,
    /// Messages for the user channels (`fill`, `user_order`) and lifecycle, in order; every
    /// connection sends from its own cursor.
    pub(crate) events: Vec<(String, Value)>,
    pub(crate) fees: FeeSchedule,
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

/// The fills of [`ExchangeConfig::history_fills`] and the position they leave.
fn history(config: &ExchangeConfig) -> (Vec<FillRec>, HashMap<String, i64>) {
    let ts_ms = now_ms().saturating_sub(config.history_age.as_millis() as u64);
    let fills: Vec<FillRec> = (0..config.history_fills)
        .map(|n| FillRec {
            fill_id: format!("hist-fill-{n:06}"),
            order_id: format!("hist-order-{n:06}"),
            client_order_id: String::new(),
            ticker: HISTORY_TICKER.to_owned(),
            bid: n % 2 == 0,
            count: 1,
            price: 50,
            is_taker: true,
            fee_cc: 0,
            post_position: i64::from(n % 2 == 0),
            ts_ms,
        })
        .collect();
    let mut positions = HashMap::new();
    if config.history_fills % 2 == 1 {
        positions.insert(HISTORY_TICKER.to_owned(), 1);
    }
    (fills, positions)
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
        let mut markets: BTreeMap<String, MarketState> = config
            .books
            .iter()
            .map(|(t, _)| (t.clone(), MarketState::Active))
            .collect();
        for m in &config.ws_script {
            if let Some(t) = m.pointer("/msg/market_ticker").and_then(Value::as_str) {
                markets.entry(t.to_owned()).or_insert(MarketState::Active);
            }
        }
        let (fills, positions) = history(&config);
        let state = State {
            books: config.books.iter().cloned().collect(),
            markets,
            orders: Vec::new(),
            coid_counts: HashMap::new(),
            positions,
            balance_cc: config.initial_balance.0 * 100,
            fills,
            settled: HashSet::new(),
            next_id: 1,
            reads: config.rate_limits.budget(Bucket::Read),
            writes: config.rate_limits.budget(Bucket::Write),
            stats: ExchangeStats::default(),
            violations: Vec::new(),
            unreadable_answers: Vec::new(),
            faults: Faults::default(),
            ws_cursor: 0,
            ws_credits: 0,
            next_sid: 1,
            events: Vec::new(),
            fees: FeeSchedule::KALSHI,
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

    /// Every contract violation seen, with what was wrong.
    pub fn contract_violations(&self) -> Vec<String> {
        self.shared.lock().violations.clone()
    }

    /// Orders booked per `client_order_id` (a value above 1 would be a duplicate).
    pub fn orders_per_client_order_id(&self) -> HashMap<String, u32> {
        self.shared.lock().coid_counts.clone()
    }

    /// Client order ids of the orders booked but answered with a body the client cannot read
    /// (the truncate and strip-id faults), in order.
    pub fn unreadable_answers(&self) -> Vec<String> {
        self.shared.lock().unreadable_answers.clone()
    }

    /// `(ticker, order_id, client_order_id)` of every resting order.
    pub fn resting_orders(&self) -> Vec<(String, String, String)> {
        let mut st = self.shared.lock();
        matching::expire(&mut st);
        st.orders
            .iter()
            .filter(|o| o.status == "resting")
            .map(|o| {
                (
                    o.ticker.clone(),
                    o.order_id.clone(),
                    o.client_order_id.clone(),
                )
            })
            .collect()
    }

    /// Place an order directly (someone else's order, or one made by a previous run), as if
    /// it came through the API; returns its order id.
    pub fn inject_order(&self, body: &Value) -> Result<String, String> {
        let mut st = self.shared.lock();
        let c = contract::create(body)?;
        matching::create(&mut st, &self.shared.config, &c)
            .map(|(o, _)| o.order_id)
            .map_err(|(status, code, m)| format!("{status} {code}: {m}"))
    }

    /// Set a market's position (+YES / −NO) and the cash, as a previous run left them.
    pub fn set_account(&self, positions: &[(&str, i64)], balance: Cents) {
        let mut st = self.shared.lock();
        for (t, p) in positions {
            st.positions.insert((*t).to_owned(), *p);
        }
        st.balance_cc = balance.0 * 100;
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

    /// Cash of the account, cents (rounded down when `sub_cent_fees` left a fraction).
    pub fn balance(&self) -> Cents {
        Cents(self.shared.lock().balance_cc.div_euclid(100))
    }

    /// Fees charged so far, cents (rounded up when finer than a cent).
    pub fn fees_paid(&self) -> i64 {
        let cc = self.fees_paid_centicents();
        cc.div_euclid(100) + i64::from(cc.rem_euclid(100) != 0)
    }

    /// Fees charged so far, exactly, centicents ($0.0001).
    pub fn fees_paid_centicents(&self) -> i64 {
        self.shared.lock().fills.iter().map(|f| f.fee_cc).sum()
    }

    /// Every fill so far as `(ticker, client_order_id, bid, contracts, position after)`, in
    /// order (bid: bought YES; otherwise sold YES).
    pub fn fill_records(&self) -> Vec<(String, String, bool, u32, i64)> {
        self.shared
            .lock()
            .fills
            .iter()
            .map(|f| {
                (
                    f.ticker.clone(),
                    f.client_order_id.clone(),
                    f.bid,
                    f.count,
                    f.post_position,
                )
            })
            .collect()
    }

    /// The true book of `ticker` now.
    pub fn ws_book(&self, ticker: &str) -> Option<OrderBook> {
        self.shared.lock().books.get(ticker).cloned()
    }

    /// Under `ws_lockstep`: let `n` more scripted messages stream.
    pub fn release(&self, n: u64) {
        let mut st = self.shared.lock();
        st.ws_credits = st.ws_credits.saturating_add(n);
    }

    /// Whether every scripted WebSocket message has been streamed.
    pub fn ws_script_done(&self) -> bool {
        self.shared.lock().ws_cursor >= self.shared.config.ws_script.len()
    }

    /// Markets settled so far.
    pub fn settled_markets(&self) -> Vec<String> {
        let mut v: Vec<String> = self.shared.lock().settled.iter().cloned().collect();
        v.sort();
        v
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
