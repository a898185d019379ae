//! [`KalshiVenue`]: the live venue over Kalshi's Trade API v2 REST.
//!
//! **Idempotent order entry.** Every order carries the caller's `client_order_id`. When an
//! attempt may have reached the exchange but no clean answer came back (timeout, 5xx,
//! dropped connection), the retry reuses the same id; Kalshi refuses a second order with an
//! id it already holds (409 Conflict), and the client then looks the order up by that id and
//! returns it. So a retried order is booked at most once.
//!
//! **Pacing.** Reads and writes draw from separate token buckets that wait instead of
//! failing; 429, 5xx, timeouts and transport errors are retried a bounded number of times
//! with exponential backoff and seeded jitter ([`RetryPolicy`]).

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use kalsim_core::{Cents, Contracts, OrderBook, Price, Rng, Side};
use serde_json::{Value, json};

use super::auth::{Credentials, RequestSigner};
use super::fixed::{format_count_fp, format_price_dollars, parse_dollars_to_cents};
use super::kalshi_json::{
    parse_book, parse_fill, parse_order, position_contracts, proto, str_field,
};
use super::ratelimit::{RateLimits, RetryPolicy, TokenBucket};
use super::{
    Fill, OrderAck, OrderRequest, PositionInfo, Venue, VenueError, WorkingOrder,
    valid_client_order_id,
};

/// Kalshi production REST base URL.
pub const PRODUCTION_URL: &str = "https://api.elections.kalshi.com/trade-api/v2";
/// Kalshi demo REST base URL.
pub const DEMO_URL: &str = "https://demo-api.kalshi.co/trade-api/v2";

/// The client spends this fraction of each budget, so that network jitter (requests arriving
/// closer together than they were sent) does not trip the exchange's own bucket.
const PACING_MARGIN: f64 = 0.95;

/// Most pages fetched for one listing (a guard against a cursor that never ends).
const MAX_PAGES: usize = 50;

/// Connection settings of a [`KalshiVenue`].
#[derive(Clone, Debug)]
pub struct KalshiConfig {
    /// REST base URL ending in `/trade-api/v2` (no trailing slash).
    pub base_url: String,
    /// Client-side request budgets.
    pub rate_limits: RateLimits,
    /// Retry schedule for 429, 5xx, timeouts and transport errors.
    pub retry: RetryPolicy,
    /// Whole-request timeout (connect, send, receive).
    pub request_timeout: Duration,
}

impl KalshiConfig {
    /// Settings for `base_url` with default limits, retries and a 10 s timeout.
    pub fn new(base_url: impl Into<String>) -> KalshiConfig {
        KalshiConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            rate_limits: RateLimits::default(),
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(10),
        }
    }

    /// Kalshi production.
    pub fn production() -> KalshiConfig {
        KalshiConfig::new(PRODUCTION_URL)
    }

    /// Kalshi demo.
    pub fn demo() -> KalshiConfig {
        KalshiConfig::new(DEMO_URL)
    }
}

/// The part of a URL after the host: `https://h/trade-api/v2` → `/trade-api/v2`.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("", |i| &rest[i..])
}

/// A request that failed without a usable answer.
struct Failure {
    error: VenueError,
    /// An attempt may have reached the exchange (timeout, 5xx, dropped response).
    maybe_sent: bool,
}

/// The final answer to a request (any status other than 429 / 5xx).
struct Reply {
    status: u16,
    body: String,
    maybe_sent_before: bool,
}

impl Reply {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn json(&self) -> Result<Value, VenueError> {
        serde_json::from_str(&self.body).map_err(|e| proto(format!("bad JSON ({e})")))
    }

    /// The error for a non-success answer.
    fn error(&self) -> VenueError {
        let reason = serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| {
                let e = v.get("error")?;
                let code = e.get("code").and_then(Value::as_str).unwrap_or("");
                let msg = e.get("message").and_then(Value::as_str).unwrap_or("");
                Some(format!("{code}: {msg}"))
            })
            .unwrap_or_else(|| self.body.chars().take(300).collect());
        match self.status {
            401 | 403 => VenueError::Auth(reason),
            404 => VenueError::NotFound(reason),
            400 | 409 | 422 => VenueError::Rejected { reason },
            status => VenueError::Http {
                status,
                body: reason,
            },
        }
    }
}

/// The live Kalshi venue (blocking).
pub struct KalshiVenue {
    config: KalshiConfig,
    path_prefix: String,
    signer: RequestSigner,
    agent: ureq::Agent,
    reads: TokenBucket,
    writes: TokenBucket,
    jitter: Rng,
    seen_fills: HashSet<String>,
}

impl fmt::Debug for KalshiVenue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KalshiVenue")
            .field("config", &self.config)
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

fn check_ticker(ticker: &str) -> Result<(), VenueError> {
    let ok = !ticker.is_empty()
        && ticker
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(VenueError::InvalidRequest(format!(
            "ticker {ticker:?} has characters outside [A-Za-z0-9-._]"
        )))
    }
}

impl KalshiVenue {
    /// A venue for `config`, signing with `credentials`.
    pub fn new(config: KalshiConfig, credentials: &Credentials) -> KalshiVenue {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.request_timeout))
            .http_status_as_error(false)
            .build()
            .into();
        KalshiVenue {
            path_prefix: url_path(&config.base_url).to_owned(),
            signer: credentials.signer(),
            agent,
            reads: TokenBucket::per_second(config.rate_limits.reads_per_sec * PACING_MARGIN),
            writes: TokenBucket::per_second(config.rate_limits.writes_per_sec * PACING_MARGIN),
            jitter: Rng::new(config.retry.jitter_seed),
            seen_fills: HashSet::new(),
            config,
        }
    }

    /// Send one request with pacing and retries. `endpoint` starts with `/` and is relative to
    /// the base URL; `query` has no leading `?`.
    fn request(
        &mut self,
        method: &str,
        endpoint: &str,
        query: &str,
        body: Option<&Value>,
        retry_ambiguous: bool,
    ) -> Result<Reply, Failure> {
        let url = if query.is_empty() {
            format!("{}{endpoint}", self.config.base_url)
        } else {
            format!("{}{endpoint}?{query}", self.config.base_url)
        };
        let sign_path = format!("{}{endpoint}", self.path_prefix);
        let body = body.map(Value::to_string);
        let attempts = self.config.retry.max_attempts.max(1);
        let mut maybe_sent = false;
        let mut last = VenueError::Timeout;
        for attempt in 0..attempts {
            if attempt > 0 {
                std::thread::sleep(self.config.retry.backoff(attempt - 1, &mut self.jitter));
            }
            if method == "GET" {
                self.reads.acquire();
            } else {
                self.writes.acquire();
            }
            let headers = self.signer.headers(method, &sign_path);
            let result = match method {
                "POST" => {
                    let mut rb = self.agent.post(&url);
                    for (k, v) in &headers {
                        rb = rb.header(*k, v);
                    }
                    rb.content_type("application/json")
                        .send(body.as_deref().unwrap_or("{}").as_bytes())
                }
                _ => {
                    let mut rb = if method == "DELETE" {
                        self.agent.delete(&url)
                    } else {
                        self.agent.get(&url)
                    };
                    for (k, v) in &headers {
                        rb = rb.header(*k, v);
                    }
                    rb.call()
                }
            };
            match result {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    let text = match resp.body_mut().read_to_string() {
                        Ok(t) => t,
                        Err(e) => {
                            maybe_sent = true;
                            last = map_ureq(e);
                            if !retry_ambiguous {
                                break;
                            }
                            continue;
                        }
                    };
                    match status {
                        429 => last = VenueError::RateLimited,
                        500..=599 => {
                            maybe_sent = true;
                            last = VenueError::Http { status, body: text };
                            if !retry_ambiguous {
                                break;
                            }
                        }
                        _ => {
                            return Ok(Reply {
                                status,
                                body: text,
                                maybe_sent_before: maybe_sent,
                            });
                        }
                    }
                }
                Err(e) => {
                    maybe_sent = true;
                    last = map_ureq(e);
                    if !retry_ambiguous {
                        break;
                    }
                }
            }
        }
        Err(Failure {
            error: last,
            maybe_sent,
        })
    }

    fn get_json(&mut self, endpoint: &str, query: &str) -> Result<Value, VenueError> {
        let reply = self
            .request("GET", endpoint, query, None, true)
            .map_err(|f| f.error)?;
        if !reply.ok() {
            return Err(reply.error());
        }
        reply.json()
    }

    /// All items under `key` across cursor pages.
    fn get_paged(
        &mut self,
        endpoint: &str,
        query: &str,
        key: &str,
    ) -> Result<Vec<Value>, VenueError> {
        let mut out = Vec::new();
        let mut cursor = String::new();
        for _ in 0..MAX_PAGES {
            let mut q = String::from("limit=200");
            if !query.is_empty() {
                q = format!("{query}&{q}");
            }
            if !cursor.is_empty() {
                q.push_str("&cursor=");
                q.push_str(&cursor);
            }
            let v = self.get_json(endpoint, &q)?;
            if let Some(items) = v.get(key).and_then(Value::as_array) {
                out.extend(items.iter().cloned());
            }
            cursor = v
                .get("cursor")
                .and_then(Value::as_str)
                .unwrap_or("")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "-_=+/".contains(*c))
                .collect();
            if cursor.is_empty() {
                return Ok(out);
            }
        }
        Err(proto(format!("{endpoint}: more than {MAX_PAGES} pages")))
    }

    /// The order placed with `client_order_id` in `ticker`, any status, if the exchange has one.
    pub fn find_order_by_client_id(
        &mut self,
        ticker: &str,
        client_order_id: &str,
    ) -> Result<Option<OrderAck>, VenueError> {
        check_ticker(ticker)?;
        let orders = self.get_paged("/portfolio/orders", &format!("ticker={ticker}"), "orders")?;
        for o in &orders {
            if o.get("client_order_id").and_then(Value::as_str) == Some(client_order_id) {
                return ack_from_order(o).map(Some);
            }
        }
        Ok(None)
    }

    /// The market's current order book (bids per side).
    pub fn orderbook(&mut self, ticker: &str) -> Result<OrderBook, VenueError> {
        check_ticker(ticker)?;
        let v = self.get_json(&format!("/markets/{ticker}/orderbook"), "")?;
        let ob = v
            .get("orderbook_fp")
            .or_else(|| v.get("orderbook"))
            .ok_or_else(|| proto("orderbook response without orderbook"))?;
        parse_book(ob)
    }
}

fn map_ureq(e: ureq::Error) -> VenueError {
    match e {
        ureq::Error::Timeout(_) => VenueError::Timeout,
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            VenueError::Timeout
        }
        other => VenueError::Transport(other.to_string()),
    }
}

fn ack_from_order(o: &Value) -> Result<OrderAck, VenueError> {
    let (w, status, filled) = parse_order(o)?;
    Ok(OrderAck {
        order_id: w.order_id,
        client_order_id: w.client_order_id,
        status,
        filled,
        remaining: w.remaining,
    })
}

/// The JSON body of `POST /portfolio/orders` (integer and fixed-point forms both given).
pub fn order_body(order: &OrderRequest) -> Value {
    let side = order.contract.name();
    let mut body = json!({
        "ticker": order.ticker,
        "client_order_id": order.client_order_id,
        "side": side,
        "action": order.action.name(),
        "type": "limit",
        "count": order.count.0,
        "count_fp": format_count_fp(order.count),
    });
    body[format!("{side}_price")] = json!(order.price.cents());
    body[format!("{side}_price_dollars")] = json!(format_price_dollars(order.price));
    body
}

impl Venue for KalshiVenue {
    fn place_order(&mut self, order: &OrderRequest) -> Result<OrderAck, VenueError> {
        check_ticker(&order.ticker)?;
        if !valid_client_order_id(&order.client_order_id) {
            return Err(VenueError::InvalidRequest(format!(
                "client_order_id {:?} must be 1..=64 chars of [A-Za-z0-9_:+=/-]",
                order.client_order_id
            )));
        }
        if order.count == Contracts::ZERO {
            return Err(VenueError::InvalidRequest("count must be ≥ 1".into()));
        }
        let body = order_body(order);
        let (ticker, coid) = (&order.ticker, &order.client_order_id);
        let attempts = self.config.retry.max_attempts.max(1);
        let mut last = VenueError::Timeout;
        for attempt in 0..attempts {
            if attempt > 0 {
                // The previous attempt may have been booked: look before sending again, so an
                // order that executed in full (and left no open order to collide with) is
                // never sent twice. A failed lookup falls back on the 409 guard below.
                std::thread::sleep(self.config.retry.backoff(attempt - 1, &mut self.jitter));
                if let Ok(Some(ack)) = self.find_order_by_client_id(ticker, coid) {
                    return Ok(ack);
                }
            }
            match self.request("POST", "/portfolio/orders", "", Some(&body), false) {
                Ok(r) if r.ok() => {
                    let v = r.json()?;
                    return ack_from_order(
                        v.get("order").ok_or_else(|| proto("no order in reply"))?,
                    );
                }
                // 409: the exchange already holds this client_order_id (an earlier attempt
                // got through).
                Ok(r) if r.status == 409 => {
                    return match self.find_order_by_client_id(ticker, coid)? {
                        Some(ack) => Ok(ack),
                        None => Err(r.error()),
                    };
                }
                Ok(r) => return Err(r.error()),
                Err(f) if f.maybe_sent => last = f.error,
                Err(f) => return Err(f.error),
            }
        }
        // Out of attempts: the last one may still have been booked.
        match self.find_order_by_client_id(ticker, coid) {
            Ok(Some(ack)) => Ok(ack),
            _ => Err(last),
        }
    }

    fn cancel_order(&mut self, _ticker: &str, order_id: &str) -> Result<(), VenueError> {
        if order_id.is_empty()
            || !order_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(VenueError::InvalidRequest(format!(
                "bad order id {order_id:?}"
            )));
        }
        let r = self
            .request(
                "DELETE",
                &format!("/portfolio/orders/{order_id}"),
                "",
                None,
                true,
            )
            .map_err(|f| f.error)?;
        // A 404 after an ambiguous attempt means that attempt cancelled it.
        if r.ok() || (r.status == 404 && r.maybe_sent_before) {
            Ok(())
        } else {
            Err(r.error())
        }
    }

    fn working_orders(&mut self) -> Result<Vec<WorkingOrder>, VenueError> {
        self.get_paged("/portfolio/orders", "status=resting", "orders")?
            .iter()
            .map(|o| parse_order(o).map(|(w, _, _)| w))
            .collect()
    }

    fn positions(&mut self) -> Result<Vec<PositionInfo>, VenueError> {
        let mut out = Vec::new();
        for p in self.get_paged("/portfolio/positions", "", "market_positions")? {
            let position_contracts = position_contracts(&p)?;
            if position_contracts != 0 {
                out.push(PositionInfo {
                    ticker: str_field(&p, "ticker")?.to_owned(),
                    position_contracts,
                });
            }
        }
        Ok(out)
    }

    fn balance(&mut self) -> Result<Cents, VenueError> {
        let v = self.get_json("/portfolio/balance", "")?;
        if let Some(c) = v.get("balance").and_then(Value::as_i64) {
            return Ok(Cents(c));
        }
        let s = v
            .get("balance_dollars")
            .and_then(Value::as_str)
            .ok_or_else(|| proto("balance response without balance"))?;
        parse_dollars_to_cents(s)
            .map(Cents)
            .map_err(|e| proto(e.to_string()))
    }

    fn fills(&mut self) -> Result<Vec<Fill>, VenueError> {
        let mut fresh = Vec::new();
        for f in self.get_paged("/portfolio/fills", "", "fills")? {
            let fill = parse_fill(&f)?;
            if self.seen_fills.insert(fill.fill_id.clone()) {
                fresh.push(fill);
            }
        }
        // Kalshi lists newest first; hand them out oldest first.
        fresh.reverse();
        Ok(fresh)
    }
}

/// YES-book price of a contract price (for logging and reconciliation).
pub fn yes_book_price(contract: Side, price: Price) -> Price {
    match contract {
        Side::Yes => price,
        Side::No => price.complement(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venue::OrderAction;

    #[test]
    fn body_carries_both_forms() {
        let o = OrderRequest {
            ticker: "KX-1".into(),
            contract: Side::No,
            action: OrderAction::Buy,
            count: Contracts(10),
            price: Price::new(44).unwrap(),
            client_order_id: "c-1".into(),
        };
        let b = order_body(&o);
        assert_eq!(b["no_price"], 44);
        assert_eq!(b["no_price_dollars"], "0.4400");
        assert_eq!(b["count_fp"], "10.00");
        assert_eq!(b["side"], "no");
        assert!(b.get("yes_price").is_none());
        assert_eq!(url_path(PRODUCTION_URL), "/trade-api/v2");
        assert_eq!(url_path("http://127.0.0.1:9/trade-api/v2"), "/trade-api/v2");
    }
}
