//! Where a [`KalshiVenue`](super::KalshiVenue) connects and how it paces and retries.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::super::ratelimit::{RateLimits, RetryPolicy};
use super::{DEMO_URL, PRODUCTION_URL};

/// Which Kalshi environment a venue talks to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Environment {
    /// Kalshi's demo exchange (play money): the default.
    Demo,
    /// Kalshi production: real money.
    Production,
    /// Another base URL (a local exchange in tests).
    Custom(String),
}

impl Environment {
    /// The REST base URL.
    pub fn rest_url(&self) -> &str {
        match self {
            Environment::Demo => DEMO_URL,
            Environment::Production => PRODUCTION_URL,
            Environment::Custom(u) => u,
        }
    }

    /// Short name for logs (`demo`, `production`, `custom`).
    pub fn name(&self) -> &'static str {
        match self {
            Environment::Demo => "demo",
            Environment::Production => "production",
            Environment::Custom(_) => "custom",
        }
    }
}

/// Connection settings of a [`KalshiVenue`](super::KalshiVenue).
#[derive(Clone, Debug)]
pub struct KalshiConfig {
    /// Where the venue connects.
    pub environment: Environment,
    /// Client-side token budgets and endpoint costs (the account's tier).
    pub rate_limits: RateLimits,
    /// Retry schedule for 429, 5xx, timeouts and transport errors.
    pub retry: RetryPolicy,
    /// Whole-request timeout (connect, send, receive).
    pub request_timeout: Duration,
    /// Consecutive look-up misses after which an unanswered submit counts as absent (≥ 1).
    pub lookup_misses: u32,
    /// Set by the kill switch: no further attempt is made once it is true.
    pub abort: Option<Arc<AtomicBool>>,
}

impl KalshiConfig {
    /// Settings for `environment` with Basic-tier budgets, default retries, a 5 s timeout
    /// and two look-up misses.
    pub fn for_environment(environment: Environment) -> KalshiConfig {
        KalshiConfig {
            environment,
            rate_limits: RateLimits::default(),
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(5),
            lookup_misses: 2,
            abort: None,
        }
    }

    /// Settings for a custom base URL ending in `/trade-api/v2`.
    pub fn new(base_url: impl Into<String>) -> KalshiConfig {
        let url = base_url.into().trim_end_matches('/').to_owned();
        KalshiConfig::for_environment(Environment::Custom(url))
    }

    /// Kalshi demo (the default environment).
    pub fn demo() -> KalshiConfig {
        KalshiConfig::for_environment(Environment::Demo)
    }

    /// Kalshi production (real money).
    pub fn production() -> KalshiConfig {
        KalshiConfig::for_environment(Environment::Production)
    }
}

impl Default for KalshiConfig {
    fn default() -> KalshiConfig {
        KalshiConfig::demo()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_the_default_and_production_is_explicit() {
        let d = KalshiConfig::default();
        assert_eq!(d.environment, Environment::Demo);
        assert_eq!(d.environment.rest_url(), DEMO_URL);
        assert_eq!(
            KalshiConfig::production().environment.rest_url(),
            PRODUCTION_URL
        );
        assert_eq!(
            KalshiConfig::new("http://127.0.0.1:9/trade-api/v2/").environment,
            Environment::Custom("http://127.0.0.1:9/trade-api/v2".into())
        );
        assert_eq!(Environment::Production.name(), "production");
    }
}
