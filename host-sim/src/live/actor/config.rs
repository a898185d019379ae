//! [`ActorConfig`] and the order-entry options it derives for each order.

use std::time::Duration;

use kalsim_core::{EngineConfig, Intent, PricingMode, SellMode, SweepRemainder};

use crate::env::{ConfigError, EnvConfig};
use crate::venue::{OrderOptions, SelfTradePrevention, TimeInForce};

/// Where the observation's "time since the previous event" comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Clock {
    /// The exchange timestamps of a market's messages when they carry them (as the
    /// environment does in replay), else wall-clock time between its updates (live default).
    #[default]
    Wall,
    /// Always 0: matches a replay of a capture without timestamps (parity tests).
    Frozen,
}

/// How orders are entered on a live venue (SPEC §12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderEntry {
    /// Resting orders are good-till-cancelled **with this expiry** (Kalshi's good-till-time),
    /// so nothing outlives a crashed process by more than it. Replay has no expiry: an
    /// episode shorter than this is unaffected; a longer one would see live orders expire
    /// that the simulation keeps.
    pub resting_expiry: Duration,
    /// Also send `aggressive` orders immediate-or-cancel (their remainder is then cancelled
    /// instead of resting as the core's `aggressive` mode rests it). Off by default. `sweep`
    /// orders are immediate-or-cancel whatever this says, unless `sweep_remainder = rest`
    /// (SPEC §3).
    pub taker_immediate_or_cancel: bool,
    /// Self-trade prevention.
    pub self_trade_prevention: SelfTradePrevention,
    /// Ask the exchange to cancel resting orders when trading pauses.
    pub cancel_order_on_pause: bool,
}

impl Default for OrderEntry {
    fn default() -> OrderEntry {
        OrderEntry {
            resting_expiry: Duration::from_secs(600),
            taker_immediate_or_cancel: false,
            self_trade_prevention: SelfTradePrevention::TakerAtCross,
            cancel_order_on_pause: true,
        }
    }
}

impl OrderEntry {
    /// The options of an order for `intent` under `engine`'s pricing and sell modes, at
    /// Unix time `now_s`: post-only for passive pricing; reduce-only for sells in reduce-only
    /// mode; immediate-or-cancel for a sweep (unless its remainder rests) and, when
    /// configured, for aggressive orders; else good-till-cancelled with the expiry.
    pub fn options(&self, engine: &EngineConfig, intent: Intent, now_s: u64) -> OrderOptions {
        let ioc = match engine.pricing {
            PricingMode::Sweep => engine.sweep_remainder == SweepRemainder::Cancel,
            PricingMode::Aggressive => self.taker_immediate_or_cancel,
            PricingMode::Passive | PricingMode::Mid => false,
        };
        OrderOptions {
            time_in_force: if ioc {
                TimeInForce::ImmediateOrCancel
            } else {
                TimeInForce::GoodTillCanceled
            },
            expiration_time_s: (!ioc).then(|| now_s + self.resting_expiry.as_secs().max(1)),
            post_only: engine.pricing == PricingMode::Passive,
            reduce_only: intent.is_sell() && engine.sell_mode == SellMode::ReduceOnly,
            self_trade_prevention: self.self_trade_prevention,
            cancel_order_on_pause: self.cancel_order_on_pause,
        }
    }
}

/// Account-level stops (SPEC §6 rules 3–4 already apply to the shared account).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountRisk {
    /// Stop new exposure on every market once the account's portfolio value is this far
    /// below its value at the start of the (UTC) day, cents.
    pub daily_loss_limit_cents: Option<i64>,
    /// Stop new exposure on every market once the portfolio value is this far below its
    /// peak in the run, cents.
    pub max_drawdown_cents: Option<i64>,
}

/// Settings of an [`Actor`](super::Actor).
#[derive(Clone, Debug)]
pub struct ActorConfig {
    /// The environment the policy was trained in (sizes, pricing, limits, fees, cash).
    pub env: EnvConfig,
    /// Markets to trade.
    pub tickers: Vec<String>,
    /// First part of every `client_order_id` (`[A-Za-z0-9]`, ≤ 16 chars), stable across
    /// runs: on restart, resting orders whose id starts with `{order_prefix}-` are adopted as
    /// ours; others are left alone.
    pub order_prefix: String,
    /// Second part of every `client_order_id` (`[A-Za-z0-9-]`, ≤ 24 chars); must differ
    /// between runs on a real venue, or the venue resolves new orders to old ones.
    pub run_id: String,
    /// Seed of the engines and of a sampling policy.
    pub seed: u64,
    /// Log decisions, send nothing.
    pub dry_run: bool,
    /// Least time between two orders in one market (0 = no throttle).
    pub min_order_interval: Duration,
    /// Consecutive venue errors in one market that open its circuit breaker.
    pub breaker_threshold: u32,
    /// How long an open breaker waits before letting one probe order through (half-open).
    pub breaker_cool_down: Duration,
    /// Reconcile positions and balance with the venue every this many decisions (0 = only at
    /// start, after venue errors and at the end).
    pub reconcile_every: u64,
    /// Stop after this many decisions.
    pub max_decisions: Option<u64>,
    /// Stop when no update arrived for this long.
    pub idle_exit: Option<Duration>,
    /// Longest wait for an update before the kill switch is polled again.
    pub poll_interval: Duration,
    /// Denominator of the observation's episode progress (the environment's horizon:
    /// `max_steps`, or the tape's events − 1); 0 leaves progress at 0.
    pub horizon_steps: u32,
    /// Time source of the observation.
    pub clock: Clock,
    /// Order-entry options on live venues.
    pub order_entry: OrderEntry,
    /// Daily loss limit and maximum drawdown.
    pub risk: AccountRisk,
    /// The kill switch must leave no order of ours resting within this bound.
    pub kill_deadline: Duration,
    /// Where orders go, for the log (`demo`, `production`, `custom`, or empty).
    pub environment: String,
    /// On live venues, the policy's mask and the order checks use the venue's own position
    /// and account (SPEC §6 against the venue) instead of the mirror's simulated account,
    /// which drifts from the venue's. Off by default: the policy then sees exactly the
    /// environment's mask, as in replay (the observation always does).
    pub venue_mask: bool,
}

fn sanitize(id: &str, extra: &[char], max: usize, fallback: &str) -> String {
    let s: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || extra.contains(c))
        .take(max)
        .collect();
    if s.is_empty() { fallback.into() } else { s }
}

impl ActorConfig {
    /// Defaults: prefix `kalsim`, live clock, 1 s throttle, breaker after 5 errors with a
    /// 30 s cool-down, reconcile every 50 decisions, 200 ms polls, horizon = the config's
    /// `max_steps`, 10-minute expiry of resting orders, a 5 s kill bound.
    pub fn new(env: EnvConfig, tickers: Vec<String>, run_id: &str) -> ActorConfig {
        ActorConfig {
            horizon_steps: env.max_steps,
            env,
            tickers,
            order_prefix: "kalsim".into(),
            run_id: sanitize(run_id, &['-'], 24, "run"),
            seed: 0,
            dry_run: false,
            min_order_interval: Duration::from_secs(1),
            breaker_threshold: 5,
            breaker_cool_down: Duration::from_secs(30),
            reconcile_every: 50,
            max_decisions: None,
            idle_exit: None,
            poll_interval: Duration::from_millis(200),
            clock: Clock::Wall,
            order_entry: OrderEntry::default(),
            risk: AccountRisk::default(),
            kill_deadline: Duration::from_secs(5),
            environment: String::new(),
            venue_mask: false,
        }
    }

    /// Set the order prefix (sanitized to `[A-Za-z0-9]`, ≤ 16 chars).
    pub fn with_order_prefix(mut self, prefix: &str) -> ActorConfig {
        self.order_prefix = sanitize(prefix, &[], 16, "kalsim");
        self
    }

    /// What every client order id of this actor starts with: `{order_prefix}-`.
    pub fn own_prefix(&self) -> String {
        format!("{}-", sanitize(&self.order_prefix, &[], 16, "kalsim"))
    }

    /// The engine configuration of `ticker` (the environment's, maker fees resolved).
    pub fn engine_config(&self, ticker: &str) -> Result<EngineConfig, ConfigError> {
        engine_config_for(&self.env, ticker)
    }
}

/// The environment's engine configuration for `ticker` (maker-fee markets resolved as the
/// environment does).
pub fn engine_config_for(env: &EnvConfig, ticker: &str) -> Result<EngineConfig, ConfigError> {
    let mut cfg = env.engine_config()?;
    if env.fees.maker_fee_markets.iter().any(|t| t == ticker) {
        cfg.fees.maker_fees = true;
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_follow_pricing_and_sell_mode() {
        let e = OrderEntry::default();
        let mut cfg = EngineConfig {
            pricing: PricingMode::Passive,
            ..EngineConfig::default()
        };
        let o = e.options(&cfg, Intent::SellYes, 1_000);
        assert!(o.post_only && o.reduce_only);
        assert_eq!(o.time_in_force, TimeInForce::GoodTillCanceled);
        assert_eq!(o.expiration_time_s, Some(1_600));
        cfg.pricing = PricingMode::Aggressive;
        cfg.sell_mode = SellMode::SellToOpen;
        let o = e.options(&cfg, Intent::SellNo, 1_000);
        assert!(!o.post_only && !o.reduce_only);
        let o = e.options(&cfg, Intent::BuyYes, 1_000);
        assert_eq!(
            o.time_in_force,
            TimeInForce::GoodTillCanceled,
            "aggressive rests"
        );
        let ioc = OrderEntry {
            taker_immediate_or_cancel: true,
            ..OrderEntry::default()
        };
        let o = ioc.options(&cfg, Intent::BuyYes, 1_000);
        assert_eq!(
            (o.time_in_force, o.expiration_time_s),
            (TimeInForce::ImmediateOrCancel, None)
        );
        // The sweep of SPEC §3: immediate-or-cancel, unless its remainder rests.
        cfg.pricing = PricingMode::Sweep;
        let o = e.options(&cfg, Intent::BuyNo, 1_000);
        assert_eq!(o.time_in_force, TimeInForce::ImmediateOrCancel);
        cfg.sweep_remainder = SweepRemainder::Rest;
        let o = e.options(&cfg, Intent::BuyNo, 1_000);
        assert_eq!(
            (o.time_in_force, o.expiration_time_s),
            (TimeInForce::GoodTillCanceled, Some(1_600))
        );
        let a =
            ActorConfig::new(EnvConfig::default(), vec![], "r 1!").with_order_prefix("my_bot-7");
        assert_eq!(
            (a.run_id.as_str(), a.own_prefix().as_str()),
            ("r1", "mybot7-")
        );
    }
}
