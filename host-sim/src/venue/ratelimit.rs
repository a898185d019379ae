//! Kalshi's token budgets ("Rate Limits and Tiers"): every request costs tokens (10 by
//! default, less for cancels), reads and writes draw from two independent budgets refilled
//! per second by the account's tier, the write bucket holds two seconds of budget, and a
//! batch costs the sum of its items. Client-side budgets **wait** rather than fail; a 429's
//! `Retry-After` pauses the budget until then. Bounded retries use exponential backoff with
//! deterministic jitter.

use std::time::{Duration, Instant};

use kalsim_core::Rng;

/// The account's API tier (per-second token budgets, read / write).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RateTier {
    /// 200 / 100 tokens per second.
    #[default]
    Basic,
    /// 300 / 300.
    Advanced,
    /// 1 000 / 1 000.
    Premier,
    /// 2 000 / 2 000.
    Paragon,
    /// 4 000 / 4 000.
    Prime,
}

impl RateTier {
    /// `(read, write)` tokens per second.
    pub const fn budgets(self) -> (f64, f64) {
        match self {
            RateTier::Basic => (200.0, 100.0),
            RateTier::Advanced => (300.0, 300.0),
            RateTier::Premier => (1_000.0, 1_000.0),
            RateTier::Paragon => (2_000.0, 2_000.0),
            RateTier::Prime => (4_000.0, 4_000.0),
        }
    }

    /// The tier named `s` (`basic`, `advanced`, `premier`, `paragon`, `prime`).
    pub fn from_name(s: &str) -> Option<RateTier> {
        match s.to_ascii_lowercase().as_str() {
            "basic" => Some(RateTier::Basic),
            "advanced" => Some(RateTier::Advanced),
            "premier" => Some(RateTier::Premier),
            "paragon" => Some(RateTier::Paragon),
            "prime" => Some(RateTier::Prime),
            _ => None,
        }
    }
}

/// Which budget a request draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// GET endpoints and anything not routed elsewhere.
    Read,
    /// Order placement, amends and cancels.
    Write,
}

/// A non-default endpoint cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointCost {
    /// HTTP method.
    pub method: String,
    /// Path relative to `/trade-api/v2`, `{id}` matching one segment.
    pub path: String,
    /// Tokens per request, or per item of a batch.
    pub tokens: u32,
    /// The cost is per batch item.
    pub per_item: bool,
}

/// Endpoint costs: a default and the documented exceptions (configurable, since Kalshi
/// publishes changes at `GET /account/endpoint_costs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointCosts {
    /// Tokens of any request not listed (10).
    pub default_tokens: u32,
    /// The exceptions.
    pub overrides: Vec<EndpointCost>,
}

impl Default for EndpointCosts {
    /// Cancel (V2) 2 tokens, batch create 10 per order, batch cancel 2 per order.
    fn default() -> EndpointCosts {
        let c = |method: &str, path: &str, tokens, per_item| EndpointCost {
            method: method.into(),
            path: path.into(),
            tokens,
            per_item,
        };
        EndpointCosts {
            default_tokens: 10,
            overrides: vec![
                c("DELETE", "/portfolio/events/orders/batched", 2, true),
                c("POST", "/portfolio/events/orders/batched", 10, true),
                c("DELETE", "/portfolio/events/orders/{id}", 2, false),
            ],
        }
    }
}

fn path_matches(pattern: &str, path: &str) -> bool {
    let (mut p, mut q) = (pattern.split('/'), path.split('/'));
    loop {
        match (p.next(), q.next()) {
            (None, None) => return true,
            (Some("{id}"), Some(seg)) if !seg.is_empty() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

impl EndpointCosts {
    /// Tokens of `method path` carrying `items` batch items (1 for a plain request). The
    /// first matching override wins, so list specific paths before `{id}` patterns.
    pub fn cost(&self, method: &str, path: &str, items: usize) -> u32 {
        let path = path.split('?').next().unwrap_or(path);
        match self
            .overrides
            .iter()
            .find(|o| o.method.eq_ignore_ascii_case(method) && path_matches(&o.path, path))
        {
            Some(o) if o.per_item => o.tokens.saturating_mul(items.max(1) as u32),
            Some(o) => o.tokens,
            None => self.default_tokens,
        }
    }

    /// The budget `method path` draws from: writes are the order endpoints that change state.
    pub fn bucket(method: &str, path: &str) -> Bucket {
        let order_path = path.starts_with("/portfolio/events/orders")
            || path.starts_with("/portfolio/orders")
            || path.starts_with("/portfolio/order_groups");
        if !method.eq_ignore_ascii_case("GET") && order_path {
            Bucket::Write
        } else {
            Bucket::Read
        }
    }
}

/// Token budgets and costs.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimits {
    /// Read tokens per second.
    pub read_tokens_per_sec: f64,
    /// Write tokens per second.
    pub write_tokens_per_sec: f64,
    /// Seconds of budget the read bucket holds (1).
    pub read_burst_secs: f64,
    /// Seconds of budget the write bucket holds (2).
    pub write_burst_secs: f64,
    /// Endpoint costs.
    pub costs: EndpointCosts,
}

impl Default for RateLimits {
    /// The Basic tier.
    fn default() -> RateLimits {
        RateLimits::tier(RateTier::Basic)
    }
}

impl RateLimits {
    /// The budgets of `tier` with the default costs.
    pub fn tier(tier: RateTier) -> RateLimits {
        let (read, write) = tier.budgets();
        RateLimits {
            read_tokens_per_sec: read,
            write_tokens_per_sec: write,
            read_burst_secs: 1.0,
            write_burst_secs: 2.0,
            costs: EndpointCosts::default(),
        }
    }

    /// Budgets so large they never wait (tests that are not about pacing).
    pub fn unlimited() -> RateLimits {
        RateLimits {
            read_tokens_per_sec: 1e9,
            write_tokens_per_sec: 1e9,
            ..RateLimits::default()
        }
    }

    /// The same limits with every budget scaled by `factor` (a client's safety margin).
    pub fn scaled(&self, factor: f64) -> RateLimits {
        RateLimits {
            read_tokens_per_sec: self.read_tokens_per_sec * factor,
            write_tokens_per_sec: self.write_tokens_per_sec * factor,
            ..self.clone()
        }
    }

    /// A full budget for `bucket`.
    pub fn budget(&self, bucket: Bucket) -> TokenBudget {
        match bucket {
            Bucket::Read => TokenBudget::new(self.read_tokens_per_sec, self.read_burst_secs),
            Bucket::Write => TokenBudget::new(self.write_tokens_per_sec, self.write_burst_secs),
        }
    }
}

/// A token bucket refilled continuously; holds `burst_secs` of budget.
#[derive(Clone, Debug)]
pub struct TokenBudget {
    capacity: f64,
    rate_per_sec: f64,
    tokens: f64,
    last: Instant,
    paused_until: Option<Instant>,
}

impl TokenBudget {
    /// A full bucket of `burst_secs × tokens_per_sec` tokens (at least the default cost).
    pub fn new(tokens_per_sec: f64, burst_secs: f64) -> TokenBudget {
        let rate = if tokens_per_sec.is_finite() && tokens_per_sec > 0.0 {
            tokens_per_sec
        } else {
            1.0
        };
        let burst = if burst_secs.is_finite() && burst_secs > 0.0 {
            burst_secs
        } else {
            1.0
        };
        let capacity = (rate * burst).max(10.0);
        TokenBudget {
            capacity,
            rate_per_sec: rate,
            tokens: capacity,
            last: Instant::now(),
            paused_until: None,
        }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate_per_sec).min(self.capacity);
        self.last = now;
    }

    /// A cost larger than the bucket can ever hold is charged as a full bucket.
    fn effective(&self, cost: u32) -> f64 {
        f64::from(cost).min(self.capacity)
    }

    /// Take `cost` tokens if they are there now (and no pause is in force).
    pub fn try_take(&mut self, cost: u32, now: Instant) -> bool {
        if self.paused_until.is_some_and(|t| now < t) {
            return false;
        }
        self.refill(now);
        let c = self.effective(cost);
        if self.tokens >= c {
            self.tokens -= c;
            true
        } else {
            false
        }
    }

    /// How long until `cost` tokens are available (zero if they are).
    pub fn wait_time(&mut self, cost: u32, now: Instant) -> Duration {
        let pause = self
            .paused_until
            .map_or(Duration::ZERO, |t| t.saturating_duration_since(now));
        self.refill(now);
        let c = self.effective(cost);
        let refill = if self.tokens >= c {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((c - self.tokens) / self.rate_per_sec)
        };
        pause.max(refill)
    }

    /// Stop spending until `until` (a 429's `Retry-After`), and start from an empty bucket.
    pub fn pause_until(&mut self, until: Instant) {
        self.paused_until = Some(self.paused_until.map_or(until, |t| t.max(until)));
        self.tokens = 0.0;
        self.last = until;
    }

    /// Block until `cost` tokens are there, then take them. `abort` is polled at least every
    /// 50 ms; when it returns true nothing is taken and `false` is returned.
    pub fn acquire(&mut self, cost: u32, abort: &dyn Fn() -> bool) -> bool {
        loop {
            if abort() {
                return false;
            }
            let now = Instant::now();
            let wait = self.wait_time(cost, now);
            if wait.is_zero() && self.try_take(cost, now) {
                return true;
            }
            std::thread::sleep(wait.clamp(Duration::from_micros(200), Duration::from_millis(50)));
        }
    }
}

/// Bounded retries with exponential backoff and jitter drawn from a seeded generator,
/// so a run's retry schedule is reproducible.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Total attempts per request, the first included (≥ 1).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time.
    pub base_backoff: Duration,
    /// Backoff ceiling (before jitter).
    pub max_backoff: Duration,
    /// Seed of the jitter generator.
    pub jitter_seed: u64,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            jitter_seed: 0x6b61_6c73_696d,
        }
    }
}

impl RetryPolicy {
    /// Backoff after failed attempt `attempt` (0-based): `min(base·2^attempt, max)` plus
    /// up to half of that again from `rng`.
    pub fn backoff(&self, attempt: u32, rng: &mut Rng) -> Duration {
        let exp = self
            .base_backoff
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.max_backoff);
        let half_ms = (exp.as_millis() as u64 / 2).max(1);
        exp + Duration::from_millis(rng.below(half_ms + 1))
    }
}

/// Parse a `Retry-After` header: delta-seconds (integer or decimal). HTTP dates are not
/// parsed (Kalshi documents none) and read as absent.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    let secs: f64 = v.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_charge_costs_and_pause() {
        let never = || false;
        let mut b = RateLimits::tier(RateTier::Basic).budget(Bucket::Write);
        let t0 = Instant::now();
        // 100 tokens/s, two seconds of burst: 20 creates at 10 tokens.
        for _ in 0..20 {
            assert!(b.try_take(10, t0));
        }
        assert!(!b.try_take(10, t0));
        let w = b.wait_time(10, t0);
        assert!(
            w > Duration::from_millis(90) && w <= Duration::from_millis(100),
            "{w:?}"
        );
        assert!(
            b.try_take(2, t0 + Duration::from_millis(20)),
            "a cancel costs 2"
        );
        b.pause_until(t0 + Duration::from_secs(1));
        assert!(!b.try_take(1, t0 + Duration::from_millis(500)));
        assert!(b.wait_time(1, t0 + Duration::from_millis(500)) >= Duration::from_millis(490));
        assert!(b.try_take(10, t0 + Duration::from_millis(1200)));
        assert!(!b.acquire(10, &|| true), "abort wins");
        let _ = never;
    }

    #[test]
    fn endpoint_costs_and_buckets() {
        let c = EndpointCosts::default();
        assert_eq!(c.cost("POST", "/portfolio/events/orders", 1), 10);
        assert_eq!(
            c.cost(
                "DELETE",
                "/portfolio/events/orders/abc-1?market_ticker=T",
                1
            ),
            2
        );
        assert_eq!(c.cost("POST", "/portfolio/events/orders/batched", 7), 70);
        assert_eq!(c.cost("DELETE", "/portfolio/events/orders/batched", 7), 14);
        assert_eq!(c.cost("GET", "/portfolio/orders", 1), 10);
        assert_eq!(
            EndpointCosts::bucket("DELETE", "/portfolio/events/orders"),
            Bucket::Write
        );
        assert_eq!(
            EndpointCosts::bucket("GET", "/portfolio/orders"),
            Bucket::Read
        );
        assert_eq!(RateTier::from_name("Premier"), Some(RateTier::Premier));
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn backoff_grows_and_is_deterministic() {
        let p = RetryPolicy::default();
        let mut a = Rng::new(p.jitter_seed);
        let mut b = Rng::new(p.jitter_seed);
        let xs: Vec<_> = (0..6).map(|i| p.backoff(i, &mut a)).collect();
        let ys: Vec<_> = (0..6).map(|i| p.backoff(i, &mut b)).collect();
        assert_eq!(xs, ys);
        assert!(xs[0] >= Duration::from_millis(100) && xs[0] <= Duration::from_millis(150));
        assert!(xs[3] >= Duration::from_millis(800));
        assert!(xs[5] <= Duration::from_millis(7500));
    }
}
