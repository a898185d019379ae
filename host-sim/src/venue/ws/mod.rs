//! [`MarketDataClient`]: Kalshi's WebSocket (`/trade-api/ws/v2`): `orderbook_delta` rebuilt
//! into one [`OrderBook`] per market, and optionally the user's `fill` and `user_orders`
//! channels, `market_lifecycle_v2` and public `trade`s.
//!
//! The handshake carries the same signed headers as REST. Each book subscription gets an
//! `orderbook_snapshot` per market and then `orderbook_delta`s; `seq` is contiguous per
//! subscription (`sid`). A gap (or a delta the book cannot take) retires that subscription and
//! subscribes again for fresh snapshots; messages of a retired `sid` are ignored. A dropped
//! connection is re-established (bounded attempts) and everything resubscribed. A market's
//! book is only exposed while it is in sync.
//!
//! Nothing in a message stops the client: a sub-cent level (a deci-cent market) is skipped
//! and counted, a book message that cannot be read resynchronises its market, and a user or
//! lifecycle message that cannot be read is surfaced as [`BookUpdate::Unparsed`]. Only a
//! connection that cannot be re-established is an error.

mod msg;
mod types;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::io::ErrorKind;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use kalsim_core::OrderBook;
use serde_json::{Value, json};
use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use super::auth::{Credentials, RequestSigner};
use super::{Fill, VenueError};
use crate::data::DataErrorKind;
use crate::wire::market::{self, Msg, SubCent};
use crate::wire::orders::proto;
use serde::Deserialize;

pub use msg::{LifecycleEvent, OrderUpdate};
pub use types::{BookUpdate, Channels, MarketDataConfig};

/// Kalshi production WebSocket URL.
pub const PRODUCTION_WS_URL: &str = "wss://api.elections.kalshi.com/trade-api/ws/v2";
/// Kalshi demo WebSocket URL.
pub const DEMO_WS_URL: &str = "wss://demo-api.kalshi.co/trade-api/ws/v2";

#[derive(Debug, Default)]
struct Market {
    book: OrderBook,
    synced: bool,
    sid: Option<u64>,
}

/// Which subscription a command id stands for.
#[derive(Clone, Debug)]
enum Pending {
    Book(Vec<String>),
    Other,
}

type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// Market data and user channels over Kalshi's WebSocket API (blocking, poll style).
pub struct MarketDataClient {
    config: MarketDataConfig,
    signer: RequestSigner,
    socket: Option<Socket>,
    markets: HashMap<String, Market>,
    next_seq: HashMap<u64, u64>,
    retired_sids: HashSet<u64>,
    pending_subs: HashMap<u64, Pending>,
    next_cmd_id: u64,
    pending: VecDeque<BookUpdate>,
    raw: VecDeque<String>,
    warnings: Vec<String>,
    gaps: u64,
    reconnects: u64,
    sub_cent_skipped: u64,
}

impl fmt::Debug for MarketDataClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MarketDataClient")
            .field("config", &self.config)
            .field("connected", &self.socket.is_some())
            .field("gaps", &self.gaps)
            .field("reconnects", &self.reconnects)
            .finish_non_exhaustive()
    }
}

fn io_timeout(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if matches!(io.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut))
}

fn set_read_timeout(socket: &mut Socket, t: Duration) {
    let t = Some(t.max(Duration::from_millis(1)));
    // Best effort: a socket that refuses a timeout fails the next read and reconnects.
    let _ = match socket.get_mut() {
        MaybeTlsStream::Plain(s) => s.set_read_timeout(t),
        MaybeTlsStream::Rustls(s) => s.sock.set_read_timeout(t),
        _ => Ok(()),
    };
}

impl MarketDataClient {
    /// Connect, authenticate and subscribe.
    pub fn connect(
        config: MarketDataConfig,
        credentials: &Credentials,
    ) -> Result<MarketDataClient, VenueError> {
        let markets = config
            .tickers
            .iter()
            .map(|t| (t.clone(), Market::default()))
            .collect();
        let mut client = MarketDataClient {
            signer: credentials.signer(),
            config,
            socket: None,
            markets,
            next_seq: HashMap::new(),
            retired_sids: HashSet::new(),
            pending_subs: HashMap::new(),
            next_cmd_id: 1,
            pending: VecDeque::new(),
            raw: VecDeque::new(),
            warnings: Vec::new(),
            gaps: 0,
            reconnects: 0,
            sub_cent_skipped: 0,
        };
        client.open()?;
        Ok(client)
    }

    /// The book of `ticker` while it is in sync (after a snapshot, until a gap or disconnect).
    pub fn book(&self, ticker: &str) -> Option<&OrderBook> {
        self.markets
            .get(ticker)
            .filter(|m| m.synced)
            .map(|m| &m.book)
    }

    /// Whether `ticker`'s book is in sync.
    pub fn is_synced(&self, ticker: &str) -> bool {
        self.markets.get(ticker).is_some_and(|m| m.synced)
    }

    /// Sequence gaps detected so far.
    pub fn gaps_detected(&self) -> u64 {
        self.gaps
    }

    /// Reconnections so far.
    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// Sub-cent levels skipped so far (snapshot levels and deltas).
    pub fn sub_cent_skipped(&self) -> u64 {
        self.sub_cent_skipped
    }

    /// The text of every data frame received since the last call (with `keep_raw`).
    pub fn drain_raw(&mut self) -> Vec<String> {
        self.raw.drain(..).collect()
    }

    /// Notes about messages accepted but not fully understood, once each.
    pub fn drain_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn open(&mut self) -> Result<(), VenueError> {
        let mut request = self
            .config
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| VenueError::InvalidRequest(format!("bad WebSocket URL: {e}")))?;
        let uri = request.uri().clone();
        let host = uri.host().unwrap_or("").to_owned();
        let tls = uri.scheme_str() == Some("wss");
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        for (k, v) in self.signer.headers("GET", uri.path()) {
            let v = HeaderValue::from_str(&v).map_err(|e| proto(e.to_string()))?;
            request.headers_mut().insert(k, v);
        }
        let addr = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| VenueError::Transport(format!("resolve {host}: {e}")))?
            .next()
            .ok_or_else(|| VenueError::Transport(format!("{host} has no address")))?;
        let stream = TcpStream::connect_timeout(&addr, self.config.connect_timeout)
            .map_err(|e| VenueError::Transport(format!("connect {addr}: {e}")))?;
        let _ = stream.set_read_timeout(Some(self.config.connect_timeout));
        let _ = stream.set_nodelay(true);
        let (socket, _) = tungstenite::client_tls_with_config(request, stream, None, None)
            .map_err(|e| match e {
                tungstenite::HandshakeError::Failure(tungstenite::Error::Http(r))
                    if matches!(r.status().as_u16(), 401 | 403) =>
                {
                    VenueError::Auth(format!("WebSocket handshake refused: {}", r.status()))
                }
                other => VenueError::Transport(format!("WebSocket handshake: {other}")),
            })?;
        self.socket = Some(socket);
        // Everything restarts from fresh snapshots on a new connection.
        for m in self.markets.values_mut() {
            m.synced = false;
            m.sid = None;
        }
        self.next_seq.clear();
        self.pending_subs.clear();
        let tickers = self.config.tickers.clone();
        self.subscribe_book(tickers)?;
        let ch = self.config.channels;
        let mut user = Vec::new();
        if ch.fills {
            user.push("fill");
        }
        if ch.user_orders {
            user.push("user_orders");
        }
        if !user.is_empty() {
            let tickers = self.config.tickers.clone();
            self.command(
                json!({"cmd": "subscribe", "params": {"channels": user, "market_tickers": tickers}}),
                Pending::Other,
            )?;
        }
        if ch.lifecycle {
            self.command(
                json!({"cmd": "subscribe", "params": {"channels": ["market_lifecycle_v2"]}}),
                Pending::Other,
            )?;
        }
        Ok(())
    }

    fn send(&mut self, cmd: Value) -> Result<(), VenueError> {
        let socket = self
            .socket
            .as_mut()
            .ok_or_else(|| VenueError::Transport("not connected".into()))?;
        socket
            .send(Message::text(cmd.to_string()))
            .map_err(|e| VenueError::Transport(e.to_string()))
    }

    fn command(&mut self, mut cmd: Value, pending: Pending) -> Result<(), VenueError> {
        let id = self.next_cmd_id;
        self.next_cmd_id += 1;
        cmd["id"] = json!(id);
        self.send(cmd)?;
        self.pending_subs.insert(id, pending);
        Ok(())
    }

    fn subscribe_book(&mut self, tickers: Vec<String>) -> Result<(), VenueError> {
        let mut channels = vec!["orderbook_delta"];
        if self.config.channels.trades {
            channels.push("trade");
        }
        self.command(
            json!({"cmd": "subscribe", "params": {"channels": channels, "market_tickers": tickers}}),
            Pending::Book(tickers),
        )
    }

    /// Retire `sid` and subscribe its markets again for fresh snapshots.
    fn resync(&mut self, sid: u64) -> Result<(), VenueError> {
        self.retired_sids.insert(sid);
        self.next_seq.remove(&sid);
        let mut tickers = Vec::new();
        for (t, m) in &mut self.markets {
            if m.sid == Some(sid) || m.sid.is_none() {
                m.synced = false;
                m.sid = None;
                tickers.push(t.clone());
            }
        }
        tickers.sort();
        self.command(
            json!({"cmd": "unsubscribe", "params": {"sids": [sid]}}),
            Pending::Other,
        )?;
        if tickers.is_empty() {
            return Ok(());
        }
        self.subscribe_book(tickers)
    }

    /// Resubscribe every book subscription (fresh snapshots for every market), e.g. when a
    /// recording starts a new file.
    pub fn resync_all(&mut self) -> Result<(), VenueError> {
        let sids: HashSet<u64> = self.markets.values().filter_map(|m| m.sid).collect();
        let mut sids: Vec<u64> = sids.into_iter().collect();
        sids.sort_unstable();
        for sid in sids {
            self.resync(sid)?;
        }
        Ok(())
    }

    fn reconnect(&mut self) -> Result<(), VenueError> {
        self.socket = None;
        let mut last = VenueError::Transport("disconnected".into());
        let mut pause = self.config.reconnect_backoff;
        for _ in 0..self.config.max_reconnect_attempts.max(1) {
            std::thread::sleep(pause);
            match self.open() {
                Ok(()) => {
                    self.reconnects += 1;
                    self.pending.push_back(BookUpdate::Reconnected);
                    return Ok(());
                }
                Err(e @ VenueError::Auth(_)) => return Err(e),
                Err(e) => last = e,
            }
            pause = pause.saturating_mul(2);
        }
        Err(last)
    }

    /// Wait up to `timeout` for the next change. `Ok(None)` means nothing arrived in time.
    /// Disconnects are repaired inside (and reported as [`BookUpdate::Reconnected`]).
    pub fn next_update(&mut self, timeout: Duration) -> Result<Option<BookUpdate>, VenueError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(u) = self.pending.pop_front() {
                return Ok(Some(u));
            }
            let Some(socket) = self.socket.as_mut() else {
                self.reconnect()?;
                continue;
            };
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            set_read_timeout(socket, deadline - now);
            match socket.read() {
                Ok(Message::Text(t)) => self.handle_text(t.as_str())?,
                Ok(Message::Close(_)) => self.reconnect()?,
                Ok(_) => {}
                Err(e) if io_timeout(&e) => {}
                Err(
                    tungstenite::Error::ConnectionClosed
                    | tungstenite::Error::AlreadyClosed
                    | tungstenite::Error::Io(_)
                    | tungstenite::Error::Protocol(_),
                ) => self.reconnect()?,
                Err(e) => return Err(VenueError::Transport(e.to_string())),
            }
        }
    }

    fn follows(&self, ticker: &str) -> bool {
        self.markets.contains_key(ticker)
    }

    fn handle_text(&mut self, text: &str) -> Result<(), VenueError> {
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                self.pending.push_back(BookUpdate::Unparsed {
                    kind: String::new(),
                    error: format!("bad JSON: {e}"),
                });
                return Ok(());
            }
        };
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let sid = v.get("sid").and_then(Value::as_u64);
        let msg = v.get("msg").unwrap_or(&Value::Null);
        let ticker = msg
            .get("market_ticker")
            .and_then(Value::as_str)
            .unwrap_or("");
        // Frames of a retired subscription are ignored, so they are not recorded either.
        let retired =
            sid.is_some_and(|s| self.retired_sids.contains(&s)) && kind.starts_with("orderbook_");
        if self.config.keep_raw
            && !retired
            && matches!(
                kind.as_str(),
                "orderbook_snapshot" | "orderbook_delta" | "trade" | "market_lifecycle_v2"
            )
            && self.follows(ticker)
        {
            self.raw.push_back(text.to_owned());
        }
        let unparsed = |e: VenueError| BookUpdate::Unparsed {
            kind: kind.clone(),
            error: e.to_string(),
        };
        match kind.as_str() {
            "subscribed" => {
                let sid = msg.get("sid").and_then(Value::as_u64).or(sid);
                let id = v.get("id").and_then(Value::as_u64);
                if let (Some(sid), Some(Pending::Book(tickers))) =
                    (sid, id.and_then(|i| self.pending_subs.remove(&i)))
                {
                    for t in tickers {
                        if let Some(m) = self.markets.get_mut(&t) {
                            m.sid = Some(sid);
                        }
                    }
                }
                Ok(())
            }
            "error" => {
                self.pending.push_back(BookUpdate::Unparsed {
                    kind,
                    error: format!("server error: {msg}"),
                });
                Ok(())
            }
            "orderbook_snapshot" | "orderbook_delta" => self.book_message(&kind, sid, &v),
            "fill" if self.follows(ticker) || ticker.is_empty() => {
                let u = msg::fill(msg).map_or_else(unparsed, |f| {
                    if self.follows(&f.ticker) {
                        BookUpdate::Fill(f)
                    } else {
                        BookUpdate::Unparsed {
                            kind: "fill".into(),
                            error: format!("fill for a market not followed: {}", f.ticker),
                        }
                    }
                });
                self.pending.push_back(u);
                Ok(())
            }
            "user_order" | "user_orders" => {
                let u = match msg::order_update(msg, &mut self.warnings) {
                    Ok(o) if self.follows(&o.ticker) => BookUpdate::Order(o),
                    Ok(_) => return Ok(()),
                    Err(e) => unparsed(e),
                };
                self.pending.push_back(u);
                Ok(())
            }
            "market_lifecycle_v2" if self.follows(ticker) => {
                let u = msg::lifecycle(msg).map_or_else(unparsed, BookUpdate::Lifecycle);
                self.pending.push_back(u);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn book_message(&mut self, kind: &str, sid: Option<u64>, v: &Value) -> Result<(), VenueError> {
        let msg = v.get("msg").unwrap_or(&Value::Null);
        let Some(sid) = sid else {
            self.pending.push_back(BookUpdate::Unparsed {
                kind: kind.to_owned(),
                error: "book message without sid".into(),
            });
            return Ok(());
        };
        if self.retired_sids.contains(&sid) {
            return Ok(());
        }
        let Some(seq) = v.get("seq").and_then(Value::as_u64) else {
            self.pending.push_back(BookUpdate::Unparsed {
                kind: kind.to_owned(),
                error: "book message without seq".into(),
            });
            return Ok(());
        };
        if let Some(&expected) = self.next_seq.get(&sid)
            && seq != expected
        {
            self.gaps += 1;
            self.pending.push_back(BookUpdate::Gap {
                sid,
                expected,
                seen: seq,
            });
            return self.resync(sid);
        }
        self.next_seq.insert(sid, seq + 1);
        // The replay loader's decoder (one wire module): what a capture accepts, the live
        // feed accepts, with the same numbers; sub-cent levels are skipped and counted.
        let body = match Msg::deserialize(msg) {
            Ok(b) => b,
            Err(e) => {
                let ticker = msg
                    .get("market_ticker")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                if !self.markets.contains_key(&ticker) {
                    return Ok(());
                }
                return self.book_trouble(sid, ticker, format!("bad {kind}: {e}"));
            }
        };
        let ticker = body.market_ticker.as_deref().unwrap_or("").to_owned();
        // A timestamp that cannot be read is ignored (the actor then uses its own clock).
        let ts_ms = market::timestamp_ms(&body).ok().flatten();
        let Some(m) = self.markets.get_mut(&ticker) else {
            return Ok(());
        };
        if kind == "orderbook_snapshot" {
            match market::book(&body, "msg", SubCent::Skip) {
                Ok((book, skipped)) => {
                    m.book = book;
                    m.synced = true;
                    m.sid = Some(sid);
                    self.sub_cent_skipped += skipped;
                    self.pending.push_back(BookUpdate::Snapshot {
                        ticker,
                        seq,
                        ts_ms,
                        skipped_sub_cent: skipped,
                    });
                    return Ok(());
                }
                Err(e) => {
                    let why = format!("{}: {}", e.field, e.kind);
                    return self.book_trouble(sid, ticker, why);
                }
            }
        }
        if !m.synced {
            return Ok(());
        }
        match market::delta(&body) {
            Err(e) if matches!(e.kind, DataErrorKind::SubCentPrice { .. }) => {
                self.sub_cent_skipped += 1;
                self.pending
                    .push_back(BookUpdate::SubCentSkipped { ticker });
                Ok(())
            }
            Ok(d) => {
                if let Err(e) = m.book.apply_delta(d.side, d.price, d.delta_centi) {
                    // The book cannot take it: we are out of sync, whatever seq says.
                    return self.book_trouble(sid, ticker, format!("delta refused: {e}"));
                }
                self.pending.push_back(BookUpdate::Delta {
                    ticker,
                    seq,
                    side: d.side,
                    price: d.price,
                    delta_centi: d.delta_centi,
                    ts_ms,
                });
                Ok(())
            }
            Err(e) => self.book_trouble(sid, ticker, format!("{}: {}", e.field, e.kind)),
        }
    }

    fn book_trouble(&mut self, sid: u64, ticker: String, reason: String) -> Result<(), VenueError> {
        if let Some(m) = self.markets.get_mut(&ticker) {
            m.synced = false;
        }
        self.pending
            .push_back(BookUpdate::Resync { ticker, reason });
        self.resync(sid)
    }
}
