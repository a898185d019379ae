//! The signed REST transport: token budgets, bounded retries, `Retry-After`, typed errors that
//! name the endpoint, and an abort flag (the kill switch) polled between attempts.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kalsim_core::Rng;
use serde_json::Value;

use super::super::VenueError;
use super::super::auth::RequestSigner;
use super::super::ratelimit::{
    Bucket, EndpointCosts, RateLimits, RetryPolicy, TokenBudget, parse_retry_after,
};
use crate::wire::orders::proto;

/// One request.
pub(crate) struct Call<'a> {
    pub(crate) method: &'static str,
    /// Path relative to the base URL, starting with `/`, without the query.
    pub(crate) path: &'a str,
    /// Query string without `?` (may be empty).
    pub(crate) query: &'a str,
    pub(crate) body: Option<&'a Value>,
    /// Batch items (for per-item costs); 1 otherwise.
    pub(crate) items: usize,
    /// Repeat after a failure that may have reached the exchange (timeout, 5xx, dropped
    /// answer). Only for calls that are safe to repeat; submissions resolve by look-up.
    pub(crate) retry_ambiguous: bool,
}

impl Call<'_> {
    pub(crate) fn endpoint(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A final answer (any status other than 429 or a retried 5xx).
pub(crate) struct Reply {
    pub(crate) endpoint: String,
    pub(crate) status: u16,
    pub(crate) body: String,
    /// An earlier attempt may have reached the exchange.
    pub(crate) maybe_sent_before: bool,
}

/// A request that failed without a usable answer.
pub(crate) struct Failure {
    pub(crate) error: VenueError,
    /// An attempt may have reached the exchange (timeout, 5xx, dropped response).
    pub(crate) maybe_sent: bool,
}

/// `(code, message)` of an error body: `{"error": {"code", "message"}}`, `{"error": "..."}` or
/// `{"code", "message"}`.
pub(crate) fn error_parts(body: &str) -> (String, String) {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return (String::new(), body.chars().take(300).collect());
    };
    let e = v.get("error").unwrap_or(&v);
    if let Some(s) = e.as_str() {
        return (String::new(), s.to_owned());
    }
    let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let msg = [text("message"), text("details")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(": ");
    (text("code"), msg)
}

impl Reply {
    pub(crate) fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub(crate) fn json(&self) -> Result<Value, VenueError> {
        if self.body.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&self.body)
            .map_err(|e| proto(format!("{}: bad JSON in answer ({e})", self.endpoint)))
    }

    /// The typed error of a non-success answer.
    pub(crate) fn error(&self) -> VenueError {
        let (code, message) = error_parts(&self.body);
        let endpoint = self.endpoint.clone();
        let joined = if code.is_empty() {
            message.clone()
        } else {
            format!("{code}: {message}")
        };
        match self.status {
            401 | 403 => VenueError::Auth(format!("{endpoint}: HTTP {}: {joined}", self.status)),
            404 => VenueError::NotFound(format!("{endpoint}: {joined}")),
            410 => VenueError::Deprecated {
                endpoint,
                message: joined,
            },
            429 => VenueError::RateLimited { endpoint },
            status @ 400..=499 => VenueError::Rejected {
                endpoint,
                status,
                code,
                reason: message,
            },
            status => VenueError::Http {
                endpoint,
                status,
                body: joined,
            },
        }
    }
}

/// Settings of the transport.
pub(crate) struct RestConfig {
    pub(crate) base_url: String,
    pub(crate) rate_limits: RateLimits,
    pub(crate) retry: RetryPolicy,
    pub(crate) request_timeout: Duration,
    pub(crate) abort: Option<Arc<AtomicBool>>,
}

/// The transport.
pub(crate) struct Rest {
    base_url: String,
    path_prefix: String,
    signer: RequestSigner,
    agent: ureq::Agent,
    reads: TokenBudget,
    writes: TokenBudget,
    costs: EndpointCosts,
    retry: RetryPolicy,
    jitter: Rng,
    abort: Option<Arc<AtomicBool>>,
    /// 429s received (the exchange's budget was tighter than ours).
    pub(crate) throttled: u64,
}

/// The part of a URL after the host: `https://h/trade-api/v2` → `/trade-api/v2`.
pub(crate) fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("", |i| &rest[i..])
}

fn map_ureq(e: ureq::Error, endpoint: &str) -> VenueError {
    match e {
        ureq::Error::Timeout(_) => VenueError::Timeout {
            endpoint: endpoint.to_owned(),
        },
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            VenueError::Timeout {
                endpoint: endpoint.to_owned(),
            }
        }
        other => VenueError::Transport(format!("{endpoint}: {other}")),
    }
}

/// The client spends this fraction of each budget, so network jitter (requests arriving
/// closer together than they were sent) does not trip the exchange's own bucket.
const PACING_MARGIN: f64 = 0.95;

impl Rest {
    pub(crate) fn new(cfg: RestConfig, signer: RequestSigner) -> Rest {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(cfg.request_timeout))
            .http_status_as_error(false)
            .build()
            .into();
        let limits = cfg.rate_limits.scaled(PACING_MARGIN);
        Rest {
            path_prefix: url_path(&cfg.base_url).to_owned(),
            base_url: cfg.base_url,
            signer,
            agent,
            reads: limits.budget(Bucket::Read),
            writes: limits.budget(Bucket::Write),
            costs: limits.costs.clone(),
            jitter: Rng::new(cfg.retry.jitter_seed),
            retry: cfg.retry,
            abort: cfg.abort,
            throttled: 0,
        }
    }

    pub(crate) fn aborted(&self) -> bool {
        self.abort
            .as_ref()
            .is_some_and(|a| a.load(Ordering::SeqCst))
    }

    /// Sleep `d` in slices, returning early (false) when aborted.
    pub(crate) fn pause(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        loop {
            if self.aborted() {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            std::thread::sleep((end - now).min(Duration::from_millis(20)));
        }
    }

    pub(crate) fn backoff(&mut self, attempt: u32) -> Duration {
        self.retry.backoff(attempt, &mut self.jitter)
    }

    pub(crate) fn max_attempts(&self) -> u32 {
        self.retry.max_attempts.max(1)
    }

    fn attempt(
        &mut self,
        call: &Call<'_>,
        body: Option<&str>,
    ) -> Result<(u16, String, Option<Duration>), ureq::Error> {
        let url = if call.query.is_empty() {
            format!("{}{}", self.base_url, call.path)
        } else {
            format!("{}{}?{}", self.base_url, call.path, call.query)
        };
        let sign_path = format!("{}{}", self.path_prefix, call.path);
        let headers = self.signer.headers(call.method, &sign_path);
        let result = match (call.method, body) {
            ("POST", b) => {
                let mut rb = self.agent.post(&url);
                for (k, v) in &headers {
                    rb = rb.header(*k, v);
                }
                rb.content_type("application/json")
                    .send(b.unwrap_or("{}").as_bytes())
            }
            ("DELETE", Some(b)) => {
                let mut rb = self.agent.delete(&url);
                for (k, v) in &headers {
                    rb = rb.header(*k, v);
                }
                rb.force_send_body()
                    .content_type("application/json")
                    .send(b.as_bytes())
            }
            (method, _) => {
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
        let mut resp = result?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let text = resp.body_mut().read_to_string()?;
        Ok((status, text, retry_after))
    }

    /// Send one request with pacing and retries.
    pub(crate) fn send(&mut self, call: &Call<'_>) -> Result<Reply, Failure> {
        let endpoint = call.endpoint();
        let body = call.body.map(Value::to_string);
        let cost = self.costs.cost(call.method, call.path, call.items);
        let bucket = EndpointCosts::bucket(call.method, call.path);
        let attempts = self.max_attempts();
        let mut maybe_sent = false;
        let mut last = VenueError::Timeout {
            endpoint: endpoint.clone(),
        };
        for attempt in 0..attempts {
            if attempt > 0 {
                let wait = self.backoff(attempt - 1);
                if !self.pause(wait) {
                    break;
                }
            }
            let abort = self.abort.clone();
            let stop = move || abort.as_ref().is_some_and(|a| a.load(Ordering::SeqCst));
            let budget = match bucket {
                Bucket::Read => &mut self.reads,
                Bucket::Write => &mut self.writes,
            };
            if !budget.acquire(cost, &stop) {
                break;
            }
            match self.attempt(call, body.as_deref()) {
                Ok((429, _, retry_after)) => {
                    self.throttled += 1;
                    last = VenueError::RateLimited {
                        endpoint: endpoint.clone(),
                    };
                    if let Some(ra) = retry_after {
                        let budget = match bucket {
                            Bucket::Read => &mut self.reads,
                            Bucket::Write => &mut self.writes,
                        };
                        budget.pause_until(Instant::now() + ra);
                    }
                }
                Ok((status @ 500..=599, text, _)) => {
                    maybe_sent = true;
                    last = Reply {
                        endpoint: endpoint.clone(),
                        status,
                        body: text,
                        maybe_sent_before: true,
                    }
                    .error();
                    if !call.retry_ambiguous {
                        break;
                    }
                }
                Ok((status, text, _)) => {
                    return Ok(Reply {
                        endpoint,
                        status,
                        body: text,
                        maybe_sent_before: maybe_sent,
                    });
                }
                Err(e) => {
                    maybe_sent = true;
                    last = map_ureq(e, &endpoint);
                    if !call.retry_ambiguous {
                        break;
                    }
                }
            }
        }
        if self.aborted() {
            last = VenueError::Aborted(format!("{endpoint}: {last}"));
        }
        Err(Failure {
            error: last,
            maybe_sent,
        })
    }

    /// GET and decode, retried; a non-success answer is its typed error.
    pub(crate) fn get_json(&mut self, path: &str, query: &str) -> Result<Value, VenueError> {
        let reply = self
            .send(&Call {
                method: "GET",
                path,
                query,
                body: None,
                items: 1,
                retry_ambiguous: true,
            })
            .map_err(|f| f.error)?;
        if !reply.ok() {
            return Err(reply.error());
        }
        reply.json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_and_statuses_are_typed() {
        let r = |status, body: &str| Reply {
            endpoint: "POST /portfolio/orders".into(),
            status,
            body: body.into(),
            maybe_sent_before: false,
        };
        let e = r(
            410,
            r#"{"error":{"code":"deprecated_v1_order_endpoint","message":"use V2"}}"#,
        )
        .error();
        assert_eq!(
            e,
            VenueError::Deprecated {
                endpoint: "POST /portfolio/orders".into(),
                message: "deprecated_v1_order_endpoint: use V2".into()
            }
        );
        let e = r(
            400,
            r#"{"error":{"code":"market_closed","message":"closed"}}"#,
        )
        .error();
        assert!(e.is_market_closed());
        assert!(matches!(
            r(429, r#"{"error": "too many requests"}"#).error(),
            VenueError::RateLimited { .. }
        ));
        assert!(matches!(r(401, "nope").error(), VenueError::Auth(m) if m.contains("/portfolio")));
        assert_eq!(url_path("http://127.0.0.1:9/trade-api/v2"), "/trade-api/v2");
    }
}
