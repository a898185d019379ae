//! [`KalshiVenue`]: the live venue over Kalshi's Trade API v2, orders through the V2
//! event-order endpoints (SPEC §12; the contract and its sources are in `docs/live.md`).
//!
//! **Idempotent order entry.** Every order carries the caller's `client_order_id`. A submit
//! that gets no clear answer (timeout, 5xx, dropped connection, or a 2xx whose body cannot be
//! read or lacks `order_id`) is never reported as rejected: the order is looked up by its
//! client order id; it is sent again, with the same id, only after the look-up has missed it
//! [`KalshiConfig::lookup_misses`] times in a row (reads lag writes). Kalshi refuses a second
//! order with an id it holds (409), which the client then resolves by look-up. A submit still
//! unsettled after every round is [`VenueError::Unresolved`]: it may be live.
//!
//! **Pacing.** Token budgets per tier ([`RateLimits`](super::RateLimits)), per-endpoint costs, `Retry-After`
//! honoured; 429, 5xx, timeouts and transport errors are retried a bounded number of times
//! with backoff and seeded jitter. An abort flag (the kill switch) stops retries at once.
//!
//! **Environments.** The demo environment is the default; production is chosen explicitly
//! ([`Environment::Production`]).

mod batch;
mod config;
mod rest;
pub mod v2;

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use kalsim_core::{Cents, Contracts, OrderBook, Side};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use super::auth::Credentials;
use super::market::MarketInfo;
use super::ratelimit::RetryPolicy;
use super::{
    Fill, OrderAck, OrderRequest, PositionInfo, TimeInForce, Venue, VenueError, WorkingOrder,
    valid_client_order_id,
};
use crate::wire::fixed::micros_to_cents_down;
use crate::wire::orders::{
    FILL_FIELDS, ORDER_FIELDS, dollars_micros, note_unknown_fields, parse_book, parse_fill,
    parse_order, position_centi, proto, str_field,
};
use rest::{Call, Rest, RestConfig};

pub use config::{Environment, KalshiConfig};

/// Kalshi production REST base URL.
pub const PRODUCTION_URL: &str = "https://api.elections.kalshi.com/trade-api/v2";
/// Kalshi demo REST base URL.
pub const DEMO_URL: &str = "https://demo-api.kalshi.co/trade-api/v2";

/// Most pages fetched for one listing (a guard against a cursor that never ends).
const MAX_PAGES: usize = 50;
/// Seconds of overlap between fills listings (fills are deduplicated by id); also how far
/// back the first listing looks (what the next listing's overlap re-lists must be known).
const FILL_OVERLAP_S: u64 = 30;
/// Largest batch sent in one request (Kalshi's documented batch limit is 20 for cancels).
pub const MAX_BATCH: usize = 20;
/// What a query value keeps as is: RFC 3986's unreserved characters. Everything else is
/// percent-encoded — an opaque cursor may hold `+` (a space once decoded), `/`, `=`, `&`...
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The live Kalshi venue (blocking).
pub struct KalshiVenue {
    config: KalshiConfig,
    credentials: Credentials,
    pub(crate) rest: Rest,
    seen_fills: HashSet<String>,
    /// `min_ts` of the next fills listing, Unix seconds (`None`: none made yet).
    fills_since_s: Option<u64>,
    /// The last fills listing was cut at [`MAX_PAGES`] (older fills were not returned).
    fills_truncated: bool,
    warnings: Vec<String>,
    /// Unknown field names already reported.
    unknown_fields: HashSet<String>,
}

impl fmt::Debug for KalshiVenue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KalshiVenue")
            .field("config", &self.config)
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

pub(crate) fn check_order_id(order_id: &str) -> Result<(), VenueError> {
    if order_id.is_empty()
        || !order_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(VenueError::InvalidRequest(format!(
            "bad order id {order_id:?}"
        )));
    }
    Ok(())
}

pub(crate) fn check_order(order: &OrderRequest) -> Result<(), VenueError> {
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
    if order.options.time_in_force != TimeInForce::GoodTillCanceled
        && order.options.expiration_time_s.is_some()
    {
        return Err(VenueError::InvalidRequest(
            "an expiration_time needs time_in_force good_till_canceled".into(),
        ));
    }
    Ok(())
}

/// What an unanswered submit's look-ups concluded.
pub(crate) enum LookUp {
    Found(OrderAck),
    Absent,
    Inconclusive(String),
}

impl KalshiVenue {
    /// A venue for `config`, signing with `credentials`.
    pub fn new(config: KalshiConfig, credentials: &Credentials) -> KalshiVenue {
        let rest = Rest::new(
            RestConfig {
                base_url: config
                    .environment
                    .rest_url()
                    .trim_end_matches('/')
                    .to_owned(),
                rate_limits: config.rate_limits.clone(),
                retry: config.retry.clone(),
                request_timeout: config.request_timeout,
                abort: config.abort.clone(),
            },
            credentials.signer(),
        );
        KalshiVenue {
            config,
            credentials: credentials.clone(),
            rest,
            seen_fills: HashSet::new(),
            fills_since_s: None,
            fills_truncated: false,
            warnings: Vec::new(),
            unknown_fields: HashSet::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &KalshiConfig {
        &self.config
    }

    /// 429 answers received so far (the exchange's budget was tighter than the client's).
    pub fn throttled(&self) -> u64 {
        self.rest.throttled
    }

    /// A second, independent client (its own connection and budgets, no abort flag, short
    /// timeouts, two attempts) for the kill switch, so cancels go out while this client is
    /// blocked in a call.
    pub fn kill_client(&self) -> KalshiVenue {
        let mut cfg = self.config.clone();
        cfg.abort = None;
        cfg.request_timeout = Duration::from_millis(800);
        cfg.retry = RetryPolicy {
            max_attempts: 2,
            base_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(200),
            jitter_seed: cfg.retry.jitter_seed ^ 0x6b69_6c6c,
        };
        KalshiVenue::new(cfg, &self.credentials)
    }

    /// All items under `key` across cursor pages of `GET path?query`.
    fn get_paged(&mut self, path: &str, query: &str, key: &str) -> Result<Vec<Value>, VenueError> {
        match self.get_pages(path, query, key)? {
            (items, true) => Ok(items),
            (_, false) => Err(proto(format!("GET {path}: more than {MAX_PAGES} pages"))),
        }
    }

    /// The items under `key` of at most [`MAX_PAGES`] cursor pages of `GET path?query`, and
    /// whether that was all of them.
    fn get_pages(
        &mut self,
        path: &str,
        query: &str,
        key: &str,
    ) -> Result<(Vec<Value>, bool), VenueError> {
        let mut out = Vec::new();
        let mut cursor = String::new();
        for _ in 0..MAX_PAGES {
            let mut q = String::from("limit=200");
            if !query.is_empty() {
                q = format!("{query}&{q}");
            }
            if !cursor.is_empty() {
                // The cursor is opaque: sent back exactly, percent-encoded.
                q.push_str("&cursor=");
                q.extend(utf8_percent_encode(&cursor, QUERY_VALUE));
            }
            let v = self.rest.get_json(path, &q)?;
            if let Some(items) = v.get(key).and_then(Value::as_array) {
                out.extend(items.iter().cloned());
            }
            cursor = v
                .get("cursor")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if cursor.is_empty() {
                return Ok((out, true));
            }
        }
        Ok((out, false))
    }

    /// The order placed with `client_order_id` in `ticker`, any status, if the exchange lists
    /// it (`GET /portfolio/orders?ticker=`).
    pub fn find_order_by_client_id(
        &mut self,
        ticker: &str,
        client_order_id: &str,
    ) -> Result<Option<OrderAck>, VenueError> {
        check_ticker(ticker)?;
        let orders = self.get_paged("/portfolio/orders", &format!("ticker={ticker}"), "orders")?;
        for o in &orders {
            if o.get("client_order_id").and_then(Value::as_str) == Some(client_order_id) {
                let (w, status, filled) = parse_order(o, &mut self.warnings)?;
                return Ok(Some(OrderAck {
                    order_id: w.order_id,
                    client_order_id: w.client_order_id,
                    status,
                    filled,
                    remaining: w.remaining,
                }));
            }
        }
        Ok(None)
    }

    /// Look an unanswered submit up until it is found or missed `lookup_misses` times.
    pub(crate) fn look_up(&mut self, ticker: &str, coid: &str) -> LookUp {
        let needed = self.config.lookup_misses.max(1);
        let mut misses = 0;
        let mut last_error = String::new();
        for i in 0..needed + 2 {
            if i > 0 {
                let wait = self.rest.backoff(i - 1);
                if !self.rest.pause(wait) {
                    return LookUp::Inconclusive("aborted".into());
                }
            }
            match self.find_order_by_client_id(ticker, coid) {
                Ok(Some(ack)) => return LookUp::Found(ack),
                Ok(None) => {
                    misses += 1;
                    if misses >= needed {
                        return LookUp::Absent;
                    }
                }
                Err(e) => last_error = e.to_string(),
            }
        }
        LookUp::Inconclusive(last_error)
    }

    /// The market's metadata (`GET /markets/{ticker}`).
    pub fn market(&mut self, ticker: &str) -> Result<MarketInfo, VenueError> {
        check_ticker(ticker)?;
        let v = self.rest.get_json(&format!("/markets/{ticker}"), "")?;
        MarketInfo::from_json(&v).map_err(|e| proto(format!("GET /markets/{ticker}: {e}")))
    }

    /// The market's current order book (bids per side) and the sub-cent levels skipped.
    pub fn orderbook(&mut self, ticker: &str) -> Result<(OrderBook, u64), VenueError> {
        check_ticker(ticker)?;
        let v = self
            .rest
            .get_json(&format!("/markets/{ticker}/orderbook"), "")?;
        let ob = v
            .get("orderbook_fp")
            .or_else(|| v.get("orderbook"))
            .ok_or_else(|| proto("orderbook response without orderbook_fp"))?;
        parse_book(ob)
    }

    /// Cancel **every** resting order of the account (`DELETE /portfolio/events/orders`),
    /// ours or not. The actor cancels its own by batch instead; this is for a user who asks.
    pub fn cancel_all_orders(&mut self) -> Result<(), VenueError> {
        let reply = self
            .rest
            .send(&Call {
                method: "DELETE",
                path: v2::CREATE,
                query: "",
                body: None,
                items: 1,
                retry_ambiguous: true,
            })
            .map_err(|f| f.error)?;
        if reply.ok() {
            Ok(())
        } else {
            Err(reply.error())
        }
    }

    /// One signed request to any endpoint (`path` relative to the base URL, no query), for
    /// diagnostics; answers are typed errors like every other call. Not retried after an
    /// ambiguous failure unless it is a read.
    pub fn call(
        &mut self,
        method: &'static str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, VenueError> {
        let reply = self
            .rest
            .send(&Call {
                method,
                path,
                query: "",
                body,
                items: 1,
                retry_ambiguous: method == "GET",
            })
            .map_err(|f| f.error)?;
        if reply.ok() {
            reply.json()
        } else {
            Err(reply.error())
        }
    }

    fn note_unparsed(&mut self, what: &str, v: &Value, e: &VenueError) {
        let id = v
            .get("order_id")
            .or_else(|| v.get("trade_id"))
            .or_else(|| v.get("ticker"))
            .cloned()
            .unwrap_or(Value::Null);
        self.warnings
            .push(format!("skipped a {what} the core cannot read ({id}): {e}"));
    }
}

impl Venue for KalshiVenue {
    fn place_order(&mut self, order: &OrderRequest) -> Result<OrderAck, VenueError> {
        check_order(order)?;
        let body = v2::create_body(order);
        let (ticker, coid) = (order.ticker.clone(), order.client_order_id.clone());
        let rounds = self.rest.max_attempts();
        let mut last = String::from("no attempt made");
        for round in 0..rounds {
            if round > 0 {
                let wait = self.rest.backoff(round - 1);
                if !self.rest.pause(wait) {
                    break;
                }
            }
            let sent = self.rest.send(&Call {
                method: "POST",
                path: v2::CREATE,
                query: "",
                body: Some(&body),
                items: 1,
                retry_ambiguous: false,
            });
            // Why a submit has no clear answer; settled by look-up below.
            let unclear = match sent {
                Ok(r) if r.ok() => {
                    // Accepted, so the exchange may hold the order: an answer we cannot read
                    // (bad JSON, no `order_id`) is no answer, never a failure.
                    match r.json().and_then(|v| v2::parse_create_answer(&v, &coid)) {
                        Ok(ack) => return Ok(ack),
                        Err(e) => e,
                    }
                }
                // 409: the exchange holds this client_order_id already (an earlier attempt
                // got through).
                Ok(r) if r.status == 409 => {
                    // The exchange holds it: keep looking (reads lag writes), never resend.
                    for _ in round..rounds {
                        if let LookUp::Found(ack) = self.look_up(&ticker, &coid) {
                            return Ok(ack);
                        }
                        if self.rest.aborted() {
                            break;
                        }
                    }
                    return Err(VenueError::Unresolved {
                        client_order_id: coid,
                        detail: r.error().to_string(),
                    });
                }
                Ok(r) if r.maybe_sent_before && (r.status == 400 || r.status == 404) => {
                    // A refusal after an ambiguous attempt may be about the first attempt's
                    // effects; settle it by look-up.
                    return match self.look_up(&ticker, &coid) {
                        LookUp::Found(ack) => Ok(ack),
                        _ => Err(r.error()),
                    };
                }
                Ok(r) => return Err(r.error()),
                Err(f) if !f.maybe_sent => {
                    // Nothing can have been booked (throttled out, or aborted before sending).
                    return Err(f.error);
                }
                Err(f) => f.error,
            };
            last = unclear.to_string();
            match self.look_up(&ticker, &coid) {
                LookUp::Found(ack) => return Ok(ack),
                LookUp::Absent => continue,
                LookUp::Inconclusive(e) => {
                    return Err(VenueError::Unresolved {
                        client_order_id: coid,
                        detail: format!("{last}; look-up failed: {e}"),
                    });
                }
            }
        }
        if self.rest.aborted() {
            return Err(VenueError::Aborted(format!("order {coid}: {last}")));
        }
        Err(VenueError::Unresolved {
            client_order_id: coid,
            detail: last,
        })
    }

    fn place_orders(&mut self, orders: &[OrderRequest]) -> Vec<Result<OrderAck, VenueError>> {
        self.batch_create(orders)
    }

    fn cancel_order(&mut self, ticker: &str, order_id: &str) -> Result<(), VenueError> {
        self.cancel_order_reduced(ticker, order_id).map(|_| ())
    }

    fn cancel_order_reduced(
        &mut self,
        ticker: &str,
        order_id: &str,
    ) -> Result<Option<Contracts>, VenueError> {
        check_ticker(ticker)?;
        check_order_id(order_id)?;
        let path = format!("{}{order_id}", v2::CANCEL_PREFIX);
        let query = format!("market_ticker={ticker}");
        let r = self
            .rest
            .send(&Call {
                method: "DELETE",
                path: &path,
                query: &query,
                body: None,
                items: 1,
                retry_ambiguous: true,
            })
            .map_err(|f| f.error)?;
        // A 404 after an ambiguous attempt means that attempt cancelled it.
        if r.ok() {
            let v = r.json()?;
            crate::wire::orders::count_field(&v, "reduced_by")
        } else if r.status == 404 && r.maybe_sent_before {
            Ok(None)
        } else {
            Err(r.error())
        }
    }

    fn cancel_orders(&mut self, orders: &[(String, String)]) -> Vec<Result<(), VenueError>> {
        self.batch_cancel(orders)
    }

    fn working_orders(&mut self) -> Result<Vec<WorkingOrder>, VenueError> {
        let raw = self.get_paged("/portfolio/orders", "status=resting", "orders")?;
        let mut out = Vec::with_capacity(raw.len());
        for o in &raw {
            note_unknown_fields(
                o,
                ORDER_FIELDS,
                "order",
                &mut self.unknown_fields,
                &mut self.warnings,
            );
            match parse_order(o, &mut self.warnings) {
                Ok((w, _, _)) => out.push(w),
                Err(e) => self.note_unparsed("resting order", o, &e),
            }
        }
        Ok(out)
    }

    fn positions(&mut self) -> Result<Vec<PositionInfo>, VenueError> {
        let mut out = Vec::new();
        for p in self.get_paged("/portfolio/positions", "", "market_positions")? {
            match position_centi(&p) {
                Ok(0) => {}
                Ok(centi) => out.push(PositionInfo {
                    ticker: str_field(&p, "ticker")?.to_owned(),
                    position_contracts: centi / 100,
                    position_centi: centi,
                }),
                Err(e) => self.note_unparsed("position", &p, &e),
            }
        }
        Ok(out)
    }

    fn balance(&mut self) -> Result<Cents, VenueError> {
        let v = self.rest.get_json("/portfolio/balance", "")?;
        balance_cents(&v)
    }

    fn fills(&mut self) -> Result<Vec<Fill>, VenueError> {
        let mut fresh = Vec::new();
        let listed_at = super::auth::now_ms() / 1000;
        // Never the account's whole history: the first listing looks back as far as the next
        // one's overlap reaches (the adopted positions hold everything older), later ones
        // from the previous listing less the overlap (ids dedupe).
        let since = self
            .fills_since_s
            .unwrap_or_else(|| listed_at.saturating_sub(FILL_OVERLAP_S));
        let (items, complete) =
            self.get_pages("/portfolio/fills", &format!("min_ts={since}"), "fills")?;
        for f in items {
            note_unknown_fields(
                &f,
                FILL_FIELDS,
                "fill",
                &mut self.unknown_fields,
                &mut self.warnings,
            );
            match parse_fill(&f) {
                Ok(fill) => {
                    if self.seen_fills.insert(fill.fill_id.clone()) {
                        fresh.push(fill);
                    }
                }
                Err(e) => self.note_unparsed("fill", &f, &e),
            }
        }
        self.fills_truncated = !complete;
        self.fills_since_s = Some(if complete {
            listed_at.saturating_sub(FILL_OVERLAP_S)
        } else {
            // Only the newest fills were listed; the older ones are given up (the caller
            // adopts the venue's positions and cash), and are not listed again: the next
            // listing starts here, or the same backlog would be cut again every time.
            self.warnings.push(format!(
                "fills listing since {since} cut at {MAX_PAGES} pages: older fills not read; \
                 the venue's positions and balance are adopted"
            ));
            listed_at
        });
        // Kalshi lists newest first; hand them out oldest first.
        fresh.reverse();
        Ok(fresh)
    }

    fn fills_truncated(&mut self) -> bool {
        std::mem::take(&mut self.fills_truncated)
    }

    fn find_order(
        &mut self,
        ticker: &str,
        client_order_id: &str,
    ) -> Result<Option<OrderAck>, VenueError> {
        self.find_order_by_client_id(ticker, client_order_id)
    }

    fn market_info(&mut self, ticker: &str) -> Result<MarketInfo, VenueError> {
        self.market(ticker)
    }

    fn drain_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }
}

/// The cash of a `GET /portfolio/balance` answer: `balance` (cents), else `balance_dollars`.
/// A direct member's balance is kept to $0.0001; it is rounded **down** to the cent, so the
/// account never counts cash it does not have (fees are rounded up; docs/live.md).
fn balance_cents(v: &Value) -> Result<Cents, VenueError> {
    if let Some(c) = v.get("balance").and_then(Value::as_i64) {
        return Ok(Cents(c));
    }
    let raw = v
        .get("balance_dollars")
        .ok_or_else(|| proto("GET /portfolio/balance: answer without balance"))?;
    dollars_micros(raw, "balance_dollars")
        .map(|m| Cents(micros_to_cents_down(m)))
        .map_err(|e| proto(format!("GET /portfolio/balance: {e}")))
}

/// YES-book price of a contract price (for logging and reconciliation).
pub fn yes_book_price(contract: Side, price: kalsim_core::Price) -> kalsim_core::Price {
    match contract {
        Side::Yes => price,
        Side::No => price.complement(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_values_keep_only_unreserved_characters() {
        let enc = |s: &str| utf8_percent_encode(s, QUERY_VALUE).to_string();
        assert_eq!(enc("AbZ09-._~"), "AbZ09-._~");
        assert_eq!(enc("a+b/c=="), "a%2Bb%2Fc%3D%3D");
        assert_eq!(enc("x y&z%#?é"), "x%20y%26z%25%23%3F%C3%A9");
    }

    #[test]
    fn a_sub_cent_balance_is_rounded_down() {
        let cents = |v: Value| balance_cents(&v).unwrap().0;
        assert_eq!(
            cents(json!({"balance": 12_345, "balance_dollars": "123.4567"})),
            12_345
        );
        assert_eq!(cents(json!({"balance_dollars": "123.4567"})), 12_345);
        assert_eq!(cents(json!({"balance_dollars": 123.45})), 12_345);
        assert_eq!(cents(json!({"balance_dollars": "-0.0001"})), -1);
        assert!(balance_cents(&json!({"portfolio_value": 1})).is_err());
    }
}
