//! The live actor with real parts on loopback: the local exchange's WebSocket feeding the
//! actor, the paper venue (the core's fills) and the Kalshi REST venue under injected faults.
//!
//! - parity: a synthetic capture replayed through the exchange's WebSocket into the actor on
//!   the paper venue gives the same observations (bit for bit) and actions as an `Env` replay
//!   of the same file with the same policy (seeded `random` baseline and a greedy checkpoint);
//! - a checkpoint that does not fit the environment refuses to start;
//! - breakers (per market, half-open after a cool-down), throttle and dry run on a tape;
//! - the CLI on the paper venue and a Kalshi dry run.
//!
//! The actor on the Kalshi venue under faults is in `live_kalshi.rs`, the long soak in
//! `live_soak.rs`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kalsim_core::{ACTION_COUNT, CentiContracts, OBS_DIM, Price};
use kalsim_exchange::{Exchange, ExchangeConfig};
use kalsim_host_sim::data::{GenConfig, generate_string};
use kalsim_host_sim::env::{Env, EnvConfig, load_markets};
use kalsim_host_sim::live::{
    Actor, ActorConfig, Clock, DecisionLog, KillSwitch, LivePolicy, StopReason, TapeFeed, Verdict,
    WsFeed, engine_config_for, env_policy_meta, obs_hash,
};
use kalsim_host_sim::policy::{PolicyContext, policy_with_context};
use kalsim_host_sim::train::{PolicyMeta, PpoConfig, Trainer};
use kalsim_host_sim::venue::{
    Credentials, MarketDataClient, MarketDataConfig, PaperVenue, SimVenue, Venue,
};
use serde_json::Value;

/// A throwaway RSA key made for these tests only; it guards nothing.
const TEST_KEY_PEM: &str = include_str!("fixtures/TEST_ONLY_rsa2048_private_key.pem");
const KEY_ID: &str = "test-key-id";

fn creds() -> Credentials {
    Credentials::from_pem(KEY_ID, TEST_KEY_PEM).unwrap()
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kalsim-live-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One synthetic market's book messages, timestamps removed (the WebSocket client does not
/// surface them, so both sides see "no time passed"), written to `dir/capture.jsonl`.
fn capture(dir: &Path, events: u32, seed: u64) -> (PathBuf, Vec<Value>, String) {
    capture_with(dir, events, seed, false)
}

/// A one-market capture as a WebSocket script; `keep_ts` keeps the messages' exchange
/// timestamps (the observation's time feature then comes from them on both sides).
fn capture_with(
    dir: &Path,
    events: u32,
    seed: u64,
    keep_ts: bool,
) -> (PathBuf, Vec<Value>, String) {
    let text = generate_string(&GenConfig {
        markets: 1,
        events,
        seed,
    });
    let mut script = Vec::new();
    let mut ticker = String::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut v: Value = serde_json::from_str(line).unwrap();
        let kind = v["type"].as_str().unwrap_or("").to_owned();
        if kind != "orderbook_snapshot" && kind != "orderbook_delta" {
            continue;
        }
        if let Some(msg) = v.get_mut("msg").and_then(Value::as_object_mut)
            && !keep_ts
        {
            msg.remove("ts");
            msg.remove("ts_ms");
        }
        ticker = v["msg"]["market_ticker"].as_str().unwrap().to_owned();
        script.push(v);
    }
    let path = dir.join("capture.jsonl");
    let body: String = script.iter().map(|v| format!("{v}\n")).collect();
    std::fs::write(&path, body).unwrap();
    (path, script, ticker)
}

fn env_config(files: &Path) -> EnvConfig {
    let mut cfg = EnvConfig::default();
    cfg.data.files = vec![files.display().to_string()];
    cfg
}

/// The environment's replay: (action, observation hash) per step.
fn env_decisions(
    cfg: &EnvConfig,
    mut act: impl FnMut(&[f32], &[bool; ACTION_COUNT]) -> u32,
) -> Vec<(u32, u64)> {
    let (markets, _) = load_markets(cfg).unwrap();
    assert_eq!(markets.len(), 1);
    let mut env = Env::new(cfg.clone(), markets).unwrap();
    let mut obs = vec![0f32; OBS_DIM];
    env.reset(Some(3), &mut obs).unwrap();
    let mut out = Vec::new();
    loop {
        let mask = env.action_mask();
        let a = act(&obs, &mask);
        out.push((a, obs_hash(&obs)));
        let r = env.step(a, &mut obs).unwrap();
        if r.terminated || r.truncated {
            return out;
        }
    }
}

/// The environment's replay: position and cash after each step (the fills' path).
fn env_path(
    cfg: &EnvConfig,
    mut act: impl FnMut(&[f32], &[bool; ACTION_COUNT]) -> u32,
) -> Vec<(i64, i64)> {
    let (markets, _) = load_markets(cfg).unwrap();
    let mut env = Env::new(cfg.clone(), markets).unwrap();
    let mut obs = vec![0f32; OBS_DIM];
    env.reset(Some(3), &mut obs).unwrap();
    let mut out = Vec::new();
    loop {
        let a = act(&obs, &env.action_mask());
        let r = env.step(a, &mut obs).unwrap();
        out.push((r.info.position, r.info.cash_cents));
        if r.terminated || r.truncated {
            return out;
        }
    }
}

fn ws_client(ex: &Exchange, tickers: &[String]) -> MarketDataClient {
    let mut cfg = MarketDataConfig::new(ex.ws_url(), tickers.to_vec());
    cfg.connect_timeout = Duration::from_secs(5);
    cfg.reconnect_backoff = Duration::from_millis(20);
    MarketDataClient::connect(cfg, &creds()).unwrap()
}

fn decision_lines(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["kind"] == "decision")
        .collect()
}

fn trained_checkpoint(meta: PolicyMeta, seed: u64) -> String {
    let cfg = PpoConfig {
        hidden: vec![16],
        seed,
        ..PpoConfig::default()
    };
    Trainer::new(cfg, meta).unwrap().policy().to_json()
}

/// Replay through the exchange's WebSocket into the paper actor; the decisions logged.
fn actor_over_ws(
    cfg: &EnvConfig,
    script: Vec<Value>,
    ticker: &str,
    policy: LivePolicy,
    decisions: u64,
    log: &Path,
) -> Vec<(u32, u64)> {
    actor_over_ws_with_clock(cfg, script, ticker, policy, decisions, log, Clock::Frozen)
}

fn actor_over_ws_with_clock(
    cfg: &EnvConfig,
    script: Vec<Value>,
    ticker: &str,
    policy: LivePolicy,
    decisions: u64,
    log: &Path,
    clock: Clock,
) -> Vec<(u32, u64)> {
    let mut ex_cfg = ExchangeConfig::new(KEY_ID, creds().public_key());
    ex_cfg.ws_script = script;
    let ex = Exchange::start(ex_cfg).unwrap();
    let tickers = vec![ticker.to_owned()];
    let mut feed = WsFeed::new(ws_client(&ex, &tickers), tickers.clone());
    let mut acfg = ActorConfig::new(cfg.clone(), tickers.clone(), "parity");
    acfg.seed = 3;
    acfg.clock = clock;
    acfg.min_order_interval = Duration::ZERO;
    acfg.horizon_steps = decisions as u32;
    acfg.max_decisions = Some(decisions);
    acfg.reconcile_every = 25;
    acfg.idle_exit = Some(Duration::from_secs(10));
    let venue = PaperVenue::new(&tickers, acfg.seed, |t| engine_config_for(cfg, t).unwrap());
    let mut actor = Actor::new(
        acfg,
        venue,
        policy,
        DecisionLog::create(log).unwrap(),
        KillSwitch::new(None),
    )
    .unwrap();
    let mut seen = Vec::new();
    let report = actor.run(&mut feed, |r| seen.push((r.action, r.obs_hash)));
    assert_eq!(report.stop, StopReason::MaxDecisions);
    // The paper venue and the mirror ran the same engine on the same data.
    assert_eq!(report.discrepancies, 0, "{report:?}");
    assert_eq!(report.book_errors, 0);
    let logged = decision_lines(log);
    assert_eq!(logged.len() as u64, report.decisions);
    let bookings = actor.venue().sim().orders_per_client_order_id();
    assert!(bookings.values().all(|&n| n == 1));
    assert_eq!(bookings.len() as u64, report.orders_sent);
    seen
}

#[test]
fn paper_actor_over_the_websocket_matches_the_env_replay() {
    let dir = scratch_dir("parity");
    let (path, script, ticker) = capture(&dir, 160, 11);
    let cfg = env_config(&path);
    let ctx = PolicyContext::from_config(&cfg);

    // Seeded random baseline: trades on most steps, so fills, fees and resting orders all
    // enter the observations being compared.
    let mut baseline = policy_with_context("random", 5, ctx).unwrap();
    let expected = env_decisions(&cfg, |o, m| baseline.act(o, m));
    let n = expected.len() as u64;
    assert_eq!(n, script.len() as u64 - 1);
    let trades = expected.iter().filter(|(a, _)| *a != 0).count();
    assert!(trades > 20, "{trades}");
    let policy = LivePolicy::load("random", &cfg, 5, true).unwrap();
    let got = actor_over_ws(
        &cfg,
        script.clone(),
        &ticker,
        policy,
        n,
        &dir.join("random.jsonl"),
    );
    assert_eq!(got, expected, "actions and observation hashes per step");
    // Fill for fill: the position and cash after every decision.
    let mut baseline = policy_with_context("random", 5, ctx).unwrap();
    let path = env_path(&cfg, |o, m| baseline.act(o, m));
    let logged: Vec<(i64, i64)> = decision_lines(&dir.join("random.jsonl"))
        .iter()
        .map(|d| {
            (
                d["position"].as_i64().unwrap(),
                d["cash_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(logged, path, "position and cash per step");

    // A trained checkpoint, greedy.
    let ckpt = dir.join("policy.json");
    std::fs::write(&ckpt, trained_checkpoint(env_policy_meta(&cfg), 9)).unwrap();
    let live = LivePolicy::load(ckpt.to_str().unwrap(), &cfg, 0, true).unwrap();
    let LivePolicy::Trained { policy: net, .. } = &live else {
        panic!("not a checkpoint");
    };
    let net = net.clone();
    let mut rng = kalsim_core::Rng::new(0);
    let expected = env_decisions(&cfg, |o, m| {
        u32::from(net.act(o, &m.map(u8::from), true, &mut rng))
    });
    let got = actor_over_ws(&cfg, script, &ticker, live, n, &dir.join("trained.jsonl"));
    assert_eq!(got, expected);
}

#[test]
fn exchange_timestamps_give_the_env_time_feature_over_the_websocket() {
    // The default clock reads the messages' exchange timestamps, as the environment does in
    // replay, so observations (time since the previous event included) match bit for bit.
    let dir = scratch_dir("parity-ts");
    let (path, script, ticker) = capture_with(&dir, 120, 12, true);
    assert!(
        script
            .iter()
            .skip(1)
            .all(|v| v["msg"].get("ts").is_some() || v["msg"].get("ts_ms").is_some())
    );
    let cfg = env_config(&path);
    let ctx = PolicyContext::from_config(&cfg);
    let mut baseline = policy_with_context("random", 6, ctx).unwrap();
    let expected = env_decisions(&cfg, |o, m| baseline.act(o, m));
    let n = expected.len() as u64;
    let policy = LivePolicy::load("random", &cfg, 6, true).unwrap();
    let got = actor_over_ws_with_clock(
        &cfg,
        script,
        &ticker,
        policy,
        n,
        &dir.join("ts.jsonl"),
        Clock::default(),
    );
    assert_eq!(
        got, expected,
        "actions and observation hashes per step, exchange time"
    );
}

#[test]
fn tape_feed_on_the_sim_venue_matches_the_env_replay() {
    let dir = scratch_dir("tape");
    let (path, _, ticker) = capture(&dir, 300, 4);
    let mut cfg = env_config(&path);
    cfg.pricing = kalsim_core::PricingMode::Passive; // resting orders and queue fills
    let ctx = PolicyContext::from_config(&cfg);
    let mut baseline = policy_with_context("random", 8, ctx).unwrap();
    let expected = env_decisions(&cfg, |o, m| baseline.act(o, m));
    let (markets, _) = load_markets(&cfg).unwrap();
    let tickers = vec![ticker];
    let mut acfg = ActorConfig::new(cfg.clone(), tickers.clone(), "tape");
    acfg.seed = 3;
    acfg.clock = Clock::Frozen;
    acfg.min_order_interval = Duration::ZERO;
    acfg.horizon_steps = expected.len() as u32;
    acfg.max_decisions = Some(expected.len() as u64);
    let venue = SimVenue::new(&tickers, 3, |t| engine_config_for(&cfg, t).unwrap());
    let policy = LivePolicy::load("random", &cfg, 8, true).unwrap();
    let mut actor = Actor::new(
        acfg,
        venue,
        policy,
        DecisionLog::disabled(),
        KillSwitch::new(None),
    )
    .unwrap();
    let mut got = Vec::new();
    let mut feed = TapeFeed::new(markets.to_vec());
    let report = actor.run(&mut feed, |r| got.push((r.action, r.obs_hash)));
    assert_eq!(got, expected);
    assert_eq!(report.discrepancies, 0);
    assert!(report.orders_sent > 20);
}

#[test]
fn a_checkpoint_that_does_not_fit_refuses_to_start() {
    let dir = scratch_dir("mismatch");
    let cfg = EnvConfig::default();
    let good = env_policy_meta(&cfg);
    let cases = [
        (
            PolicyMeta {
                size_table: [1, 2, 3, 4, 5],
                ..good.clone()
            },
            "size table mismatch",
        ),
        (
            PolicyMeta {
                obs_schema_version: good.obs_schema_version + 1,
                ..good.clone()
            },
            "observation schema version mismatch",
        ),
        (
            PolicyMeta {
                obs_dim: good.obs_dim + 3,
                ..good.clone()
            },
            "observation length mismatch",
        ),
        (
            PolicyMeta {
                sizing: "fixed:10".into(),
                ..good.clone()
            },
            "sizing mode mismatch",
        ),
    ];
    for (i, (meta, want)) in cases.into_iter().enumerate() {
        let path = dir.join(format!("bad-{i}.json"));
        std::fs::write(&path, trained_checkpoint(meta, 1)).unwrap();
        let err = LivePolicy::load(path.to_str().unwrap(), &cfg, 0, true).unwrap_err();
        assert!(err.to_string().contains(want), "{err}");
        // The CLI refuses before any connection (the URLs lead nowhere).
        let args = kalsim_host_sim::live::cli::LiveArgs {
            venue: kalsim_host_sim::live::cli::VenueKind::Paper,
            policy: path.display().to_string(),
            markets: vec!["KX-A".into()],
            dry_run: true,
            config: None,
            ws_url: Some("ws://127.0.0.1:9/trade-api/ws/v2".into()),
            base_url: Some("http://127.0.0.1:9/trade-api/v2".into()),
            demo: false,
            production: false,
            live_config: None,
            tier: None,
            order_prefix: None,
            resting_expiry_secs: None,
            daily_loss_limit_cents: None,
            max_drawdown_cents: None,
            venue_mask: false,
            log: None,
            kill_file: None,
            max_decisions: Some(1),
            idle_exit_ms: None,
            key_id: None,
            private_key: None,
            run_id: None,
            seed: 0,
            sample: false,
            min_order_interval_ms: 0,
            breaker_threshold: 5,
            reconcile_every: 0,
            horizon: None,
            frozen_clock: false,
        };
        let err = kalsim_host_sim::live::cli::run(args).unwrap_err();
        assert!(err.to_string().contains(want), "{err}");
    }
    // The matching checkpoint loads.
    let path = dir.join("good.json");
    std::fs::write(&path, trained_checkpoint(good, 1)).unwrap();
    assert!(LivePolicy::load(path.to_str().unwrap(), &cfg, 0, true).is_ok());
}

/// A simulated venue whose order entry fails on place calls `fail_from..fail_to` (counted
/// over all markets), in `fail_ticker` only when one is given.
#[derive(Debug)]
struct FailingVenue {
    inner: SimVenue,
    fail_from: u32,
    fail_to: u32,
    fail_ticker: Option<String>,
    place_calls: u32,
}

impl Venue for FailingVenue {
    fn place_order(
        &mut self,
        order: &kalsim_host_sim::venue::OrderRequest,
    ) -> Result<kalsim_host_sim::venue::OrderAck, kalsim_host_sim::venue::VenueError> {
        self.place_calls += 1;
        let in_window = (self.fail_from..self.fail_to).contains(&self.place_calls);
        let in_market = self.fail_ticker.as_ref().is_none_or(|t| *t == order.ticker);
        if in_window && in_market {
            return Err(kalsim_host_sim::venue::VenueError::Http {
                endpoint: "POST /portfolio/events/orders".into(),
                status: 503,
                body: "down".into(),
            });
        }
        self.inner.place_order(order)
    }
    fn cancel_order(
        &mut self,
        ticker: &str,
        order_id: &str,
    ) -> Result<(), kalsim_host_sim::venue::VenueError> {
        self.inner.cancel_order(ticker, order_id)
    }
    fn working_orders(
        &mut self,
    ) -> Result<Vec<kalsim_host_sim::venue::WorkingOrder>, kalsim_host_sim::venue::VenueError> {
        self.inner.working_orders()
    }
    fn positions(
        &mut self,
    ) -> Result<Vec<kalsim_host_sim::venue::PositionInfo>, kalsim_host_sim::venue::VenueError> {
        self.inner.positions()
    }
    fn balance(&mut self) -> Result<kalsim_core::Cents, kalsim_host_sim::venue::VenueError> {
        self.inner.balance()
    }
    fn fills(
        &mut self,
    ) -> Result<Vec<kalsim_host_sim::venue::Fill>, kalsim_host_sim::venue::VenueError> {
        self.inner.fills()
    }
}

impl kalsim_host_sim::live::LiveVenue for FailingVenue {
    fn on_snapshot(
        &mut self,
        ticker: &str,
        yes: &[(Price, CentiContracts)],
        no: &[(Price, CentiContracts)],
    ) -> Result<(), kalsim_host_sim::venue::VenueError> {
        self.inner.on_snapshot(ticker, yes, no)
    }
    fn on_delta(
        &mut self,
        ticker: &str,
        side: kalsim_core::Side,
        price: Price,
        delta_centi: i64,
    ) -> Result<(), kalsim_host_sim::venue::VenueError> {
        self.inner.on_delta(ticker, side, price, delta_centi)
    }
}

/// Run the seeded random baseline over a replayed tape with `tune`d settings.
fn tape_run<V: kalsim_host_sim::live::LiveVenue>(
    events: u32,
    venue: impl FnOnce(&[String], &EnvConfig) -> V,
    tune: impl FnOnce(&mut ActorConfig),
) -> (Vec<kalsim_host_sim::live::DecisionRecord>, Actor<V>) {
    let dir = scratch_dir(&format!("tape-run-{events}"));
    let (path, _, ticker) = capture(&dir, events, 6);
    let cfg = env_config(&path);
    let (markets, _) = load_markets(&cfg).unwrap();
    let tickers = vec![ticker];
    let mut acfg = ActorConfig::new(cfg.clone(), tickers.clone(), "tape");
    acfg.clock = Clock::Frozen;
    acfg.min_order_interval = Duration::ZERO;
    tune(&mut acfg);
    let policy = LivePolicy::load("random", &cfg, 1, true).unwrap();
    let mut actor = Actor::new(
        acfg,
        venue(&tickers, &cfg),
        policy,
        DecisionLog::disabled(),
        KillSwitch::new(None),
    )
    .unwrap();
    let mut recs = Vec::new();
    actor.run(&mut TapeFeed::new(markets.to_vec()), |r| {
        recs.push(r.clone())
    });
    (recs, actor)
}

#[test]
fn breaker_throttle_and_dry_run() {
    let sim =
        |t: &[String], cfg: &EnvConfig| SimVenue::new(t, 0, |x| engine_config_for(cfg, x).unwrap());
    // Three consecutive failures open the breaker: no order is attempted afterwards, every
    // decision is still recorded.
    let (recs, actor) = tape_run(
        120,
        |t, cfg| FailingVenue {
            inner: sim(t, cfg),
            fail_from: 6,
            fail_to: u32::MAX,
            fail_ticker: None,
            place_calls: 0,
        },
        |c| c.breaker_threshold = 3,
    );
    assert!(actor.breaker_open());
    assert_eq!(actor.venue().place_calls, 5 + 3);
    let errors = recs
        .iter()
        .filter(|r| r.verdict == Verdict::VenueError)
        .count();
    assert_eq!(errors, 3);
    let open = recs
        .iter()
        .filter(|r| r.verdict == Verdict::BreakerOpen)
        .count();
    assert!(open > 10, "{open}");
    assert_eq!(
        recs.len(),
        121,
        "a decision per event: the snapshot and 120 deltas"
    );

    // A one-hour throttle: one order per market.
    let (recs, _) = tape_run(60, sim, |c| {
        c.min_order_interval = Duration::from_secs(3600)
    });
    let sent = recs.iter().filter(|r| r.verdict == Verdict::Sent).count();
    assert_eq!(sent, 1);
    assert!(recs.iter().any(|r| r.verdict == Verdict::Throttled));

    // Dry run: decisions with their plans, nothing booked.
    let (recs, mut actor) = tape_run(60, sim, |c| c.dry_run = true);
    assert!(
        recs.iter()
            .any(|r| r.verdict == Verdict::DryRun && r.size > 0 && r.price_cents > 0)
    );
    assert!(
        recs.iter()
            .all(|r| r.verdict != Verdict::Sent && r.client_order_id.is_none())
    );
    assert!(actor.venue().orders_per_client_order_id().is_empty());
    assert!(actor.venue_mut().positions().unwrap().is_empty());
}

fn cli_args(
    venue: kalsim_host_sim::live::cli::VenueKind,
    policy: &str,
    ticker: &str,
    ex: &Exchange,
    dir: &Path,
) -> kalsim_host_sim::live::cli::LiveArgs {
    let key = dir.join("key.pem");
    std::fs::write(&key, TEST_KEY_PEM).unwrap();
    kalsim_host_sim::live::cli::LiveArgs {
        venue,
        policy: policy.into(),
        markets: vec![ticker.into()],
        dry_run: false,
        config: None,
        ws_url: Some(ex.ws_url()),
        base_url: Some(ex.rest_base_url()),
        demo: false,
        production: false,
        live_config: None,
        tier: None,
        order_prefix: None,
        resting_expiry_secs: None,
        daily_loss_limit_cents: None,
        max_drawdown_cents: None,
        venue_mask: false,
        log: Some(dir.join("cli.jsonl")),
        kill_file: None,
        max_decisions: None,
        idle_exit_ms: Some(3_000),
        key_id: Some(KEY_ID.into()),
        private_key: Some(key),
        run_id: Some("cli".into()),
        seed: 0,
        sample: false,
        min_order_interval_ms: 0,
        breaker_threshold: 5,
        reconcile_every: 20,
        horizon: None,
        frozen_clock: true,
    }
}

#[test]
fn kalsim_live_cli_paper_parity_and_kalshi_dry_run() {
    use kalsim_host_sim::live::cli::{VenueKind, run};
    let dir = scratch_dir("cli");
    let (path, script, ticker) = capture(&dir, 120, 17);
    let cfg = env_config(&path);
    let mut random = policy_with_context("random", 7, PolicyContext::from_config(&cfg)).unwrap();
    let expected = env_decisions(&cfg, |o, m| random.act(o, m));
    let trades = expected.iter().filter(|(a, _)| *a != 0).count();
    assert!(trades > 0, "the baseline trades on this data");

    // `kalsim live --venue paper --policy random --seed 7 --frozen-clock --horizon N
    // --max-decisions N`.
    let mut ex_cfg = ExchangeConfig::new(KEY_ID, creds().public_key());
    ex_cfg.ws_script = script.clone();
    let ex = Exchange::start(ex_cfg).unwrap();
    let mut args = cli_args(VenueKind::Paper, "random", &ticker, &ex, &dir);
    args.seed = 7;
    args.horizon = Some(expected.len() as u32);
    args.max_decisions = Some(expected.len() as u64);
    run(args).unwrap();
    let got: Vec<(u32, u64)> = decision_lines(&dir.join("cli.jsonl"))
        .iter()
        .map(|d| {
            (
                d["action"].as_u64().unwrap() as u32,
                u64::from_str_radix(d["obs_hash"].as_str().unwrap(), 16).unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    drop(ex);

    // `kalsim live --venue kalshi` against the loopback exchange (which matches with the
    // core), its feed paced on the decisions the actor logs: the same decisions and, fill
    // for fill, the same position and cash path as the replay.
    let mut random = policy_with_context("random", 7, PolicyContext::from_config(&cfg)).unwrap();
    let path = env_path(&cfg, |o, m| random.act(o, m));
    let mut ex_cfg = ExchangeConfig::new(KEY_ID, creds().public_key());
    ex_cfg.ws_script = script.clone();
    ex_cfg.ws_lockstep = true;
    ex_cfg.ws_interval = Duration::ZERO;
    ex_cfg.rate_limits = kalsim_host_sim::venue::RateLimits::unlimited();
    let ex = std::sync::Arc::new(Exchange::start(ex_cfg).unwrap());
    let log = dir.join("cli-kalshi.jsonl");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pacer = {
        let (ex, done, log) = (ex.clone(), done.clone(), log.clone());
        std::thread::spawn(move || {
            // One message streams per decision logged (the decision's order is booked by
            // then), so the exchange matches against the book the actor decided on.
            let mut released = 1;
            ex.release(1);
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let logged = std::fs::read_to_string(&log)
                    .map(|t| {
                        t.lines()
                            .filter(|l| l.contains(r#""kind":"decision""#))
                            .count()
                    })
                    .unwrap_or(0) as u64;
                if logged + 1 > released {
                    ex.release(logged + 1 - released);
                    released = logged + 1;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let mut args = cli_args(VenueKind::Kalshi, "random", &ticker, &ex, &dir);
    args.seed = 7;
    args.horizon = Some(expected.len() as u32);
    args.max_decisions = Some(expected.len() as u64);
    args.log = Some(log.clone());
    args.idle_exit_ms = Some(20_000);
    args.tier = Some("prime".into());
    run(args).unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    pacer.join().unwrap();
    let decisions = decision_lines(&log);
    let got: Vec<(u32, u64)> = decisions
        .iter()
        .map(|d| {
            (
                d["action"].as_u64().unwrap() as u32,
                u64::from_str_radix(d["obs_hash"].as_str().unwrap(), 16).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got, expected,
        "decisions and observations on the Kalshi venue"
    );
    let logged: Vec<(i64, i64)> = decisions
        .iter()
        .map(|d| {
            (
                d["position"].as_i64().unwrap(),
                d["cash_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(logged, path, "the mirror's position and cash per decision");
    let (last_pos, last_cash) = *path.last().unwrap();
    assert_eq!(ex.positions().get(&ticker).copied().unwrap_or(0), last_pos);
    assert_eq!(ex.balance().0, last_cash, "the exchange's cash to the cent");
    assert!(
        decisions.iter().all(|d| d["action"] == 0
            || d["verdict"] == "sent"
            || d["verdict"].as_str().unwrap().starts_with("masked")),
        "every trade reached the exchange"
    );
    drop(ex);

    // `--venue kalshi --dry-run`: every decision logged, nothing reaches the exchange.
    let mut ex_cfg = ExchangeConfig::new(KEY_ID, creds().public_key());
    ex_cfg.ws_script = script;
    let ex = Exchange::start(ex_cfg).unwrap();
    let mut args = cli_args(VenueKind::Kalshi, "random", &ticker, &ex, &dir);
    args.dry_run = true;
    args.max_decisions = Some(50);
    run(args).unwrap();
    let lines = decision_lines(&dir.join("cli.jsonl"));
    assert_eq!(lines.len(), 50);
    assert!(lines.iter().any(|d| d["verdict"] == "dry_run"));
    assert_eq!(ex.stats().orders_booked, 0);
    assert!(ex.orders_per_client_order_id().is_empty());
}

#[test]
fn breakers_are_per_market_and_half_open_after_the_cool_down() {
    let dir = scratch_dir("breakers");
    let text = generate_string(&GenConfig {
        markets: 2,
        events: 120,
        seed: 8,
    });
    let path = dir.join("two.jsonl");
    std::fs::write(&path, text).unwrap();
    let cfg = env_config(&path);
    let (markets, _) = load_markets(&cfg).unwrap();
    let tickers: Vec<String> = markets.iter().map(|m| m.ticker.clone()).collect();
    assert_eq!(tickers.len(), 2);
    let run = |fail_from, fail_to, fail_ticker: Option<String>, cool_down| {
        let mut acfg = ActorConfig::new(cfg.clone(), tickers.clone(), "brk");
        acfg.clock = Clock::Frozen;
        acfg.min_order_interval = Duration::ZERO;
        acfg.breaker_threshold = 3;
        acfg.breaker_cool_down = cool_down;
        let venue = FailingVenue {
            inner: SimVenue::new(&tickers, 0, |x| engine_config_for(&cfg, x).unwrap()),
            fail_from,
            fail_to,
            fail_ticker,
            place_calls: 0,
        };
        let policy = LivePolicy::load("random", &cfg, 1, true).unwrap();
        let mut actor = Actor::new(
            acfg,
            venue,
            policy,
            DecisionLog::disabled(),
            KillSwitch::new(None),
        )
        .unwrap();
        let mut recs = Vec::new();
        let report = actor.run(&mut TapeFeed::new(markets.to_vec()), |r| {
            recs.push(r.clone())
        });
        (recs, report, actor)
    };
    // Market A fails for good: its breaker opens (an hour's cool-down), B trades on.
    let (recs, report, actor) = run(
        1,
        u32::MAX,
        Some(tickers[0].clone()),
        Duration::from_secs(3600),
    );
    assert_eq!(report.breaker_trips, 1);
    assert!(actor.breaker_open());
    let a_sent = recs
        .iter()
        .filter(|r| r.ticker == tickers[0] && r.verdict == Verdict::Sent)
        .count();
    let a_open = recs
        .iter()
        .filter(|r| r.ticker == tickers[0] && r.verdict == Verdict::BreakerOpen)
        .count();
    let b_sent = recs
        .iter()
        .filter(|r| r.ticker == tickers[1] && r.verdict == Verdict::Sent)
        .count();
    assert_eq!(a_sent, 0);
    assert!(a_open > 5 && b_sent > 5, "A open {a_open}, B sent {b_sent}");
    assert!(
        recs.iter()
            .all(|r| r.ticker != tickers[1] || r.verdict != Verdict::BreakerOpen)
    );

    // Failures on calls 3..6 only, no cool-down: the breaker opens, the next order is a
    // probe that succeeds, and the market trades again with the breaker closed.
    let (recs, report, actor) = run(3, 6, None, Duration::ZERO);
    assert_eq!(report.breaker_trips, 1, "{report:?}");
    assert!(!actor.breaker_open());
    let first_error = recs
        .iter()
        .position(|r| r.verdict == Verdict::VenueError)
        .unwrap();
    let sent_after = recs[first_error..]
        .iter()
        .filter(|r| r.verdict == Verdict::Sent)
        .count();
    assert!(sent_after > 5, "{sent_after}");
}

#[test]
fn production_and_demo_contradict_and_demo_is_the_default() {
    use kalsim_host_sim::live::cli::{VenueKind, run};
    let dir = scratch_dir("env");
    let (_, script, ticker) = capture(&dir, 30, 3);
    let mut ex_cfg = ExchangeConfig::new(KEY_ID, creds().public_key());
    ex_cfg.ws_script = script;
    let ex = Exchange::start(ex_cfg).unwrap();
    let mut args = cli_args(VenueKind::Kalshi, "hold", &ticker, &ex, &dir);
    args.production = true;
    args.demo = true;
    let err = run(args).unwrap_err().to_string();
    assert!(err.contains("contradict"), "{err}");
    // A live-config file may ask for production too; with a test URL the venue is "custom",
    // and the start line says so.
    let mut args = cli_args(VenueKind::Kalshi, "hold", &ticker, &ex, &dir);
    args.dry_run = true;
    args.max_decisions = Some(5);
    let cfg_path = dir.join("live.toml");
    std::fs::write(&cfg_path, "tier = \"advanced\"\norder_prefix = \"bot7\"\n").unwrap();
    args.live_config = Some(cfg_path.clone());
    run(args).unwrap();
    let text = std::fs::read_to_string(dir.join("cli.jsonl")).unwrap();
    let start: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(start["environment"], "custom");
    assert_eq!(start["order_prefix"], "bot7-");
    std::fs::write(&cfg_path, "tier = \"platinum\"\n").unwrap();
    let mut args = cli_args(VenueKind::Kalshi, "hold", &ticker, &ex, &dir);
    args.live_config = Some(cfg_path);
    assert!(run(args).unwrap_err().to_string().contains("platinum"));
}
