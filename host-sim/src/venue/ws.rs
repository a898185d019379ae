//! [`MarketDataClient`]: Kalshi's `orderbook_delta` WebSocket channel rebuilt into one
//! [`OrderBook`] per market.
//!
//! The handshake on `GET /trade-api/ws/v2` carries the same signed headers as REST. After
//! `subscribe`, each market gets an `orderbook_snapshot` and then `orderbook_delta`s; `seq`
//! is contiguous per subscription (`sid`). A gap (or a delta the book cannot take) retires
//! that subscription and subscribes again for fresh snapshots; messages of a retired `sid` are
//! ignored. A dropped connection is re-established (bounded attempts) and resubscribed. A
//! market's book is only exposed while it is in sync.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::io::ErrorKind;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use kalsim_core::{OrderBook, Price, Side};
use serde_json::{Value, json};
use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use super::VenueError;
use super::auth::{Credentials, RequestSigner};
use super::kalshi_json::{centi_value, parse_book, price_value, proto, side_field, str_field};

/// Kalshi production WebSocket URL.
pub const PRODUCTION_WS_URL: &str = "wss://api.elections.kalshi.com/trade-api/ws/v2";
/// Kalshi demo WebSocket URL.
pub const DEMO_WS_URL: &str = "wss://demo-api.kalshi.co/trade-api/ws/v2";

/// Settings of a [`MarketDataClient`].
#[derive(Clone, Debug)]
pub struct MarketDataConfig {
    /// WebSocket URL ending in `/trade-api/ws/v2`.
    pub url: String,
    /// Markets to follow.
    pub tickers: Vec<String>,
    /// Timeout for connecting and for the handshake.
    pub connect_timeout: Duration,
    /// Reconnect attempts after a disconnect before giving up.
    pub max_reconnect_attempts: u32,
    /// Pause between reconnect attempts (doubles each time).
    pub reconnect_backoff: Duration,
}

impl MarketDataConfig {
    /// Settings for `url` and `tickers` with a 10 s connect timeout and 5 reconnect attempts.
    pub fn new(url: impl Into<String>, tickers: Vec<String>) -> MarketDataConfig {
        MarketDataConfig {
            url: url.into(),
            tickers,
            connect_timeout: Duration::from_secs(10),
            max_reconnect_attempts: 5,
            reconnect_backoff: Duration::from_millis(200),
        }
    }
}

/// What one `next_update` call observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookUpdate {
    /// A snapshot replaced a market's book; it is now in sync.
    Snapshot {
        /// Market ticker.
        ticker: String,
        /// Sequence number of the message.
        seq: u64,
        /// Exchange time of the message (`ts_ms`, or `ts` as RFC 3339), milliseconds.
        ts_ms: Option<i64>,
    },
    /// A delta changed one level.
    Delta {
        /// Market ticker.
        ticker: String,
        /// Sequence number of the message.
        seq: u64,
        /// Ladder changed.
        side: Side,
        /// Level price, cents.
        price: Price,
        /// Signed change in centi-contracts.
        delta_centi: i64,
        /// Exchange time of the message (`ts_ms`, or `ts` as RFC 3339), milliseconds.
        ts_ms: Option<i64>,
    },
    /// A sequence gap: the subscription was retired and fresh snapshots requested.
    Gap {
        /// Subscription id.
        sid: u64,
        /// The seq expected.
        expected: u64,
        /// The seq received.
        seen: u64,
    },
    /// The connection dropped and was re-established; snapshots follow.
    Reconnected,
}

#[derive(Debug, Default)]
struct Market {
    book: OrderBook,
    synced: bool,
    sid: Option<u64>,
}

type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// Order-book market data over Kalshi's WebSocket API (blocking, poll style).
pub struct MarketDataClient {
    config: MarketDataConfig,
    signer: RequestSigner,
    socket: Option<Socket>,
    markets: HashMap<String, Market>,
    next_seq: HashMap<u64, u64>,
    retired_sids: HashSet<u64>,
    pending_subs: HashMap<u64, Vec<String>>,
    next_cmd_id: u64,
    pending: VecDeque<BookUpdate>,
    gaps: u64,
    reconnects: u64,
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
            gaps: 0,
            reconnects: 0,
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
        self.subscribe(tickers)
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

    fn subscribe(&mut self, tickers: Vec<String>) -> Result<(), VenueError> {
        let id = self.next_cmd_id;
        self.next_cmd_id += 1;
        self.send(json!({"id": id, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_tickers": tickers}}))?;
        self.pending_subs.insert(id, tickers);
        Ok(())
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
        let id = self.next_cmd_id;
        self.next_cmd_id += 1;
        self.send(json!({"id": id, "cmd": "unsubscribe", "params": {"sids": [sid]}}))?;
        self.subscribe(tickers)
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

    fn handle_text(&mut self, text: &str) -> Result<(), VenueError> {
        let v: Value = serde_json::from_str(text).map_err(|e| proto(format!("bad JSON: {e}")))?;
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        let sid = v.get("sid").and_then(Value::as_u64);
        let msg = v.get("msg").unwrap_or(&Value::Null);
        match kind {
            "subscribed" => {
                let sid = msg.get("sid").and_then(Value::as_u64).or(sid);
                let id = v.get("id").and_then(Value::as_u64);
                if let (Some(sid), Some(tickers)) =
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
            "error" => Err(proto(format!("server error: {msg}"))),
            "orderbook_snapshot" | "orderbook_delta" => {
                let sid = sid.ok_or_else(|| proto(format!("{kind} without sid")))?;
                if self.retired_sids.contains(&sid) {
                    return Ok(());
                }
                let seq = v
                    .get("seq")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| proto("no seq"))?;
                if let Some(&expected) = self.next_seq.get(&sid) {
                    if seq != expected {
                        self.gaps += 1;
                        self.pending.push_back(BookUpdate::Gap {
                            sid,
                            expected,
                            seen: seq,
                        });
                        return self.resync(sid);
                    }
                }
                self.next_seq.insert(sid, seq + 1);
                let ticker = str_field(msg, "market_ticker")?.to_owned();
                let ts_ms = message_ts_ms(msg);
                let Some(market) = self.markets.get_mut(&ticker) else {
                    return Ok(());
                };
                if kind == "orderbook_snapshot" {
                    market.book = parse_book(msg)?;
                    market.synced = true;
                    market.sid = Some(sid);
                    self.pending
                        .push_back(BookUpdate::Snapshot { ticker, seq, ts_ms });
                    return Ok(());
                }
                if !market.synced {
                    return Ok(());
                }
                let side = side_field(msg, "side")?;
                let price = price_value(
                    msg.get("price_dollars")
                        .or_else(|| msg.get("price"))
                        .ok_or_else(|| proto("delta without price"))?,
                )?;
                let delta_centi = centi_value(
                    msg.get("delta_fp")
                        .or_else(|| msg.get("delta"))
                        .ok_or_else(|| proto("delta without delta"))?,
                )?;
                if market.book.apply_delta(side, price, delta_centi).is_err() {
                    // The book cannot take it: we are out of sync, whatever seq says.
                    market.synced = false;
                    return self.resync(sid);
                }
                self.pending.push_back(BookUpdate::Delta {
                    ticker,
                    seq,
                    side,
                    price,
                    delta_centi,
                    ts_ms,
                });
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// The exchange time of a message, as the replay loader reads it: `ts_ms` (integer
/// milliseconds) wins, else `ts` as RFC 3339 text or integer seconds/milliseconds. A
/// timestamp that cannot be read is ignored (the actor then falls back to its clock).
fn message_ts_ms(msg: &Value) -> Option<i64> {
    if let Some(ms) = msg.get("ts_ms").and_then(Value::as_i64) {
        return Some(ms);
    }
    match msg.get("ts")? {
        Value::String(t) => crate::data::rfc3339_ms(t).ok(),
        Value::Number(n) => n.as_i64().map(crate::data::integer_timestamp_ms),
        _ => None,
    }
}
