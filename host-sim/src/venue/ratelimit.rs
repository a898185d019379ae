//! Client-side pacing: token buckets that **wait** rather than fail, and bounded retries with
//! exponential backoff and deterministic jitter.

use std::time::{Duration, Instant};

use kalsim_core::Rng;

/// Request budgets per second (Kalshi's tiers differ; the defaults are the Basic tier).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimits {
    /// Read requests (GET) per second.
    pub reads_per_sec: f64,
    /// Write requests (order create / cancel) per second.
    pub writes_per_sec: f64,
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits {
            reads_per_sec: 20.0,
            writes_per_sec: 10.0,
        }
    }
}

/// A token bucket: `capacity` tokens, refilled continuously at `rate_per_sec`.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    capacity: f64,
    rate_per_sec: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket holding one second's worth of tokens (at least one).
    pub fn per_second(rate_per_sec: f64) -> TokenBucket {
        let rate = if rate_per_sec.is_finite() && rate_per_sec > 0.0 {
            rate_per_sec
        } else {
            1.0
        };
        let capacity = rate.max(1.0);
        TokenBucket {
            capacity,
            rate_per_sec: rate,
            tokens: capacity,
            last: Instant::now(),
        }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate_per_sec).min(self.capacity);
        self.last = now;
    }

    /// Take one token if available now.
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// How long until a token is available (zero if one is).
    pub fn wait_time(&mut self, now: Instant) -> Duration {
        self.refill(now);
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.rate_per_sec)
        }
    }

    /// Block until a token is available, then take it.
    pub fn acquire(&mut self) {
        loop {
            let wait = self.wait_time(Instant::now());
            if wait.is_zero() && self.try_take(Instant::now()) {
                return;
            }
            std::thread::sleep(wait.max(Duration::from_micros(200)));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_paces() {
        let mut b = TokenBucket::per_second(10.0);
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(b.try_take(t0));
        }
        assert!(!b.try_take(t0));
        let w = b.wait_time(t0);
        assert!(w > Duration::from_millis(90) && w <= Duration::from_millis(100));
        assert!(b.try_take(t0 + Duration::from_millis(100)));
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
