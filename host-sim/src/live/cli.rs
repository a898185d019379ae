//! `kalsim live`: run a policy against Kalshi market data on the paper or the Kalshi venue.
//!
//! ```text
//! kalsim live --venue paper --policy fixed --markets KXA-1,KXB-2 --log decisions.jsonl
//! kalsim live --venue kalshi --policy policy.json --markets KXA-1 --kill-file STOP
//! kalsim live --venue kalshi --production ...   # real money: says so loudly at start
//! ```
//!
//! Kalshi's **demo** environment is the default; production needs `--production` (or
//! `production = true` in the `--live-config` file). Credentials come from `--key-id` /
//! `--private-key` or from `KALSHI_API_KEY_ID` / `KALSHI_PRIVATE_KEY_PATH` (the market-data
//! WebSocket is signed too, so paper trading needs them as well). The policy is checked
//! against the environment configuration before any connection is made; a checkpoint that
//! does not fit refuses to start.
//!
//! The `--live-config` TOML file holds the order-entry and risk settings (every key
//! optional; a command-line flag wins): `production`, `tier` (basic, advanced, premier,
//! paragon, prime), `order_prefix`, `resting_expiry_secs`, `taker_immediate_or_cancel`,
//! `daily_loss_limit_cents`, `max_drawdown_cents`, `breaker_cool_down_secs`.

use std::error::Error;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde::Deserialize;

use super::actor::{Actor, ActorConfig, Clock, engine_config_for};
use super::feed::WsFeed;
use super::log::DecisionLog;
use super::policy::LivePolicy;
use super::signal::{KillSwitch, install_signal_handlers};
use super::venues::LiveVenue;
use crate::env::EnvConfig;
use crate::venue::ws::{Channels, DEMO_WS_URL, PRODUCTION_WS_URL};
use crate::venue::{
    Credentials, Environment, KalshiConfig, KalshiVenue, MarketDataClient, MarketDataConfig,
    PaperVenue, RateLimits, RateTier,
};

/// Where orders go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VenueKind {
    /// Simulated fills (the core's matching) on live books.
    Paper,
    /// Kalshi's Trade API (real orders).
    Kalshi,
}

/// Arguments of `kalsim live`.
#[derive(Clone, Debug, Args)]
pub struct LiveArgs {
    /// Where orders go.
    #[arg(long, value_enum)]
    pub venue: VenueKind,
    /// A checkpoint (`.json`) or a baseline name (hold, random, fixed, kelly).
    #[arg(long)]
    pub policy: String,
    /// Comma-separated market tickers.
    #[arg(long, value_delimiter = ',', required = true)]
    pub markets: Vec<String>,
    /// Log decisions, send no orders.
    #[arg(long)]
    pub dry_run: bool,
    /// Environment configuration (TOML or JSON) the policy was trained with.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Market-data WebSocket URL (default: Kalshi demo, or production with --production).
    #[arg(long)]
    pub ws_url: Option<String>,
    /// REST base URL (default: Kalshi demo, or production with --production).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Use Kalshi's demo environment (the default; kept for old scripts).
    #[arg(long)]
    pub demo: bool,
    /// Trade on Kalshi **production** (real money). Without it the demo environment is used.
    #[arg(long)]
    pub production: bool,
    /// Order-entry and risk settings (TOML; see the module docs).
    #[arg(long)]
    pub live_config: Option<PathBuf>,
    /// The account's API tier (token budgets): basic, advanced, premier, paragon, prime.
    #[arg(long)]
    pub tier: Option<String>,
    /// First part of every client order id, stable across runs: resting orders with it are
    /// adopted on restart (default `kalsim`).
    #[arg(long)]
    pub order_prefix: Option<String>,
    /// Expiry of resting orders, seconds (good-till-time).
    #[arg(long)]
    pub resting_expiry_secs: Option<u64>,
    /// Stop new exposure once the day's loss reaches this many cents.
    #[arg(long)]
    pub daily_loss_limit_cents: Option<i64>,
    /// Stop new exposure once the drawdown from the run's peak reaches this many cents.
    #[arg(long)]
    pub max_drawdown_cents: Option<i64>,
    /// On the Kalshi venue, let the policy's mask follow the venue's own position and
    /// account instead of the mirror's simulated one (the observation is unchanged).
    #[arg(long)]
    pub venue_mask: bool,
    /// JSONL decision log.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Stop (cancelling every working order) as soon as this file exists.
    #[arg(long)]
    pub kill_file: Option<PathBuf>,
    /// Stop after this many decisions.
    #[arg(long)]
    pub max_decisions: Option<u64>,
    /// Stop when no market data arrives for this many milliseconds.
    #[arg(long)]
    pub idle_exit_ms: Option<u64>,
    /// API key id (default: $KALSHI_API_KEY_ID).
    #[arg(long)]
    pub key_id: Option<String>,
    /// PEM private key file (default: $KALSHI_PRIVATE_KEY_PATH).
    #[arg(long)]
    pub private_key: Option<PathBuf>,
    /// Prefix of client order ids (default: derived from the start time, unique per run).
    #[arg(long)]
    pub run_id: Option<String>,
    /// Seed of the engines and of a sampling policy.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Sample from a checkpoint's policy instead of taking the greedy action.
    #[arg(long)]
    pub sample: bool,
    /// Least time between two orders in one market, milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub min_order_interval_ms: u64,
    /// Consecutive venue errors that stop trading.
    #[arg(long, default_value_t = 5)]
    pub breaker_threshold: u32,
    /// Reconcile with the venue every this many decisions (0 = start, errors and end only).
    #[arg(long, default_value_t = 50)]
    pub reconcile_every: u64,
    /// Episode-progress denominator of the observation (default: the config's max_steps).
    #[arg(long)]
    pub horizon: Option<u32>,
    /// Observation time since the previous event is always 0 (replays without timestamps).
    #[arg(long)]
    pub frozen_clock: bool,
}

/// The `--live-config` file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveFileConfig {
    /// Trade on production.
    pub production: Option<bool>,
    /// API tier name.
    pub tier: Option<String>,
    /// Client order id prefix.
    pub order_prefix: Option<String>,
    /// Expiry of resting orders, seconds.
    pub resting_expiry_secs: Option<u64>,
    /// Send taking orders immediate-or-cancel.
    pub taker_immediate_or_cancel: Option<bool>,
    /// Daily loss limit, cents.
    pub daily_loss_limit_cents: Option<i64>,
    /// Maximum drawdown, cents.
    pub max_drawdown_cents: Option<i64>,
    /// Breaker cool-down, seconds.
    pub breaker_cool_down_secs: Option<u64>,
}

fn default_run_id() -> String {
    let ms = crate::venue::auth::now_ms();
    let mut n = ms;
    let mut s = Vec::new();
    while n > 0 {
        s.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]);
        n /= 36;
    }
    s.reverse();
    format!("ks{}", String::from_utf8_lossy(&s))
}

/// Load the configuration and the policy, connect, and run until a stop condition.
pub fn run(args: LiveArgs) -> Result<(), Box<dyn Error>> {
    let file: LiveFileConfig = match &args.live_config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("live config {}: {e}", path.display()))?;
            toml::from_str(&text).map_err(|e| format!("live config {}: {e}", path.display()))?
        }
        None => LiveFileConfig::default(),
    };
    let cfg = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("config {}: {e}", path.display()))?;
            EnvConfig::from_named_str(&path.display().to_string(), &text)?
        }
        None => EnvConfig::default(),
    };
    let tickers: Vec<String> = args
        .markets
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    if tickers.is_empty() {
        return Err("--markets names no market".into());
    }
    // Refuse a policy that does not fit before touching the network.
    let policy = LivePolicy::load(&args.policy, &cfg, args.seed, !args.sample)
        .map_err(|e| -> Box<dyn Error> { e.to_string().into() })?;
    let mut engine_configs = Vec::new();
    for t in &tickers {
        engine_configs.push((t.clone(), engine_config_for(&cfg, t)?));
    }
    let credentials = match (&args.key_id, &args.private_key) {
        (Some(id), Some(path)) => Credentials::from_pem_file(id.clone(), path)?,
        _ => Credentials::from_env()?,
    };
    let log = match &args.log {
        Some(p) => DecisionLog::create(p).map_err(|e| format!("log {}: {e}", p.display()))?,
        None => DecisionLog::disabled(),
    };
    let mut actor_cfg = ActorConfig::new(
        cfg,
        tickers.clone(),
        &args.run_id.clone().unwrap_or_else(default_run_id),
    );
    actor_cfg.seed = args.seed;
    actor_cfg.dry_run = args.dry_run;
    actor_cfg.min_order_interval = Duration::from_millis(args.min_order_interval_ms);
    actor_cfg.breaker_threshold = args.breaker_threshold;
    actor_cfg.reconcile_every = args.reconcile_every;
    actor_cfg.max_decisions = args.max_decisions;
    actor_cfg.idle_exit = args.idle_exit_ms.map(Duration::from_millis);
    if let Some(h) = args.horizon {
        actor_cfg.horizon_steps = h;
    }
    if args.frozen_clock {
        actor_cfg.clock = Clock::Frozen;
    }
    if let Some(p) = args
        .order_prefix
        .as_deref()
        .or(file.order_prefix.as_deref())
    {
        actor_cfg = actor_cfg.with_order_prefix(p);
    }
    if let Some(s) = args.resting_expiry_secs.or(file.resting_expiry_secs) {
        actor_cfg.order_entry.resting_expiry = Duration::from_secs(s.max(1));
    }
    if let Some(b) = file.taker_immediate_or_cancel {
        actor_cfg.order_entry.taker_immediate_or_cancel = b;
    }
    actor_cfg.venue_mask = args.venue_mask;
    actor_cfg.risk.daily_loss_limit_cents =
        args.daily_loss_limit_cents.or(file.daily_loss_limit_cents);
    actor_cfg.risk.max_drawdown_cents = args.max_drawdown_cents.or(file.max_drawdown_cents);
    if let Some(s) = file.breaker_cool_down_secs {
        actor_cfg.breaker_cool_down = Duration::from_secs(s);
    }
    let production = args.production || file.production.unwrap_or(false);
    if production && args.demo {
        return Err("--production and --demo contradict each other".into());
    }
    let environment = match (&args.base_url, production) {
        (Some(u), _) => Environment::Custom(u.trim_end_matches('/').to_owned()),
        (None, true) => Environment::Production,
        (None, false) => Environment::Demo,
    };
    let ws_url = args.ws_url.clone().unwrap_or_else(|| {
        if production {
            PRODUCTION_WS_URL
        } else {
            DEMO_WS_URL
        }
        .to_owned()
    });
    if production {
        eprintln!("**********************************************************************");
        eprintln!("*  kalsim live: PRODUCTION — orders go to Kalshi and trade real money *");
        eprintln!("**********************************************************************");
    } else {
        eprintln!(
            "kalsim live: {} environment ({})",
            environment.name(),
            environment.rest_url()
        );
    }
    let tier = match args.tier.as_deref().or(file.tier.as_deref()) {
        Some(t) => RateTier::from_name(t).ok_or(format!("unknown tier {t:?}"))?,
        None => RateTier::Basic,
    };
    let mut md = MarketDataConfig::new(ws_url, tickers.clone());
    md.channels = match args.venue {
        VenueKind::Kalshi => Channels::TRADING,
        VenueKind::Paper => Channels {
            lifecycle: true,
            ..Channels::default()
        },
    };
    let client = MarketDataClient::connect(md, &credentials)?;
    let mut feed = WsFeed::new(client, tickers.clone());
    // From here on SIGINT/SIGTERM stop the actor cleanly (cancelling working orders) instead
    // of killing the process.
    install_signal_handlers();
    let kill = KillSwitch::new(args.kill_file.clone()).with_signals();
    actor_cfg.environment = environment.name().to_owned();
    match args.venue {
        VenueKind::Paper => {
            let venue = PaperVenue::new(&tickers, args.seed, |t| {
                engine_configs
                    .iter()
                    .find(|(name, _)| name == t)
                    .map(|(_, c)| *c)
                    .unwrap_or_default()
            });
            run_actor(actor_cfg, venue, policy, log, kill, &mut feed)
        }
        VenueKind::Kalshi => {
            let mut kcfg = KalshiConfig::for_environment(environment);
            kcfg.rate_limits = RateLimits::tier(tier);
            kcfg.abort = Some(Arc::new(AtomicBool::new(false)));
            let venue = KalshiVenue::new(kcfg, &credentials);
            run_actor(actor_cfg, venue, policy, log, kill, &mut feed)
        }
    }
}

fn run_actor<V: LiveVenue>(
    cfg: ActorConfig,
    venue: V,
    policy: LivePolicy,
    log: DecisionLog,
    kill: KillSwitch,
    feed: &mut WsFeed,
) -> Result<(), Box<dyn Error>> {
    let mut actor = Actor::new(cfg, venue, policy, log, kill)?;
    let report = actor.run(feed, |_| {});
    eprintln!(
        "live: {} — {} decisions, {} orders, {} venue errors, {} breaker trips, {} reconciliations ({} discrepancies), {} cancelled on stop",
        report.stop,
        report.decisions,
        report.orders_sent,
        report.venue_errors,
        report.breaker_trips,
        report.reconciliations,
        report.discrepancies,
        report.cancelled_on_stop
    );
    match report.stop {
        super::StopReason::FeedError(e) => Err(format!("market data failed: {e}").into()),
        _ => Ok(()),
    }
}
