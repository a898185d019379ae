//! The live actor with real parts on loopback: the local exchange's WebSocket feeding the
//! actor, the paper venue (the core's fills) and the Kalshi REST venue under injected faults.
//!
//! - parity: a synthetic capture replayed through the exchange's WebSocket into the actor on
//!   the paper venue gives the same observations (bit for bit) and actions as an `Env` replay
//!   of the same file with the same policy (seeded `random` baseline and a greedy checkpoint);
//! - faults (timeouts, 5xx, dropped-after-accept, WS disconnect, WS gap): no duplicate order,
//!   no limit exceeded at the exchange after any decision, positions reconcile, every decision
//!   is logged;
//! - a checkpoint that does not fit the environment refuses to start;
//! - the kill switch cancels the working orders.
#![cfg(feature = "exchange")]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kalsim_core::{ACTION_COUNT, CentiContracts, OBS_DIM, OrderBook, Price};
use kalsim_host_sim::data::{GenConfig, generate_string};
use kalsim_host_sim::env::{Env, EnvConfig, load_markets};
use kalsim_host_sim::live::{
    Actor, ActorConfig, Clock, DecisionLog, KillSwitch, LivePolicy, StopReason, TapeFeed, Verdict,
    WsFeed, engine_config_for, env_policy_meta, obs_hash,
};
use kalsim_host_sim::policy::{PolicyContext, policy_with_context};
use kalsim_host_sim::train::{PolicyMeta, PpoConfig, Trainer};
use kalsim_host_sim::venue::exchange::{Exchange, ExchangeConfig, Faults};
use kalsim_host_sim::venue::{
    Credentials, KalshiConfig, KalshiVenue, MarketDataClient, MarketDataConfig, PaperVenue,
    RateLimits, SimVenue, Venue,
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
    cfg.pricing = "passive".into(); // resting orders and queue fills
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

fn deep_book(levels: &[(Price, CentiContracts)], no: &[(Price, CentiContracts)]) -> OrderBook {
    let mut b = OrderBook::new();
    let deepen = |l: &[(Price, CentiContracts)]| -> Vec<(Price, CentiContracts)> {
        l.iter()
            .map(|(p, d)| (*p, CentiContracts(d.0 * 10)))
            .collect()
    };
    b.apply_snapshot(&deepen(levels), &deepen(no)).unwrap();
    b
}

fn kalshi_venue(ex: &Exchange) -> KalshiVenue {
    let mut cfg = KalshiConfig::new(ex.rest_base_url());
    cfg.request_timeout = Duration::from_millis(300);
    cfg.retry.base_backoff = Duration::from_millis(10);
    cfg.rate_limits = RateLimits {
        reads_per_sec: 1000.0,
        writes_per_sec: 1000.0,
    };
    KalshiVenue::new(cfg, &creds())
}

#[test]
fn kalshi_venue_under_faults_never_duplicates_or_breaches_limits() {
    let dir = scratch_dir("faults");
    let (path, script, ticker) = capture(&dir, 90, 21);
    let mut cfg = env_config(&path);
    cfg.limits.max_position_per_market = 40;
    let max_pos = i64::from(cfg.limits.max_position_per_market);
    let min_cash = cfg.limits.min_cash_buffer_cents;
    let (markets, _) = load_markets(&cfg).unwrap();
    let tape = &markets[0];
    let kalsim_host_sim::data::BookEvent::Snapshot { yes, no } = tape.events[0].event else {
        panic!("tapes start with a snapshot");
    };
    let mut ex_cfg = ExchangeConfig::new(KEY_ID, creds().public_key());
    ex_cfg.ws_script = script;
    ex_cfg.ws_interval = Duration::from_millis(3);
    ex_cfg.rate_limits = RateLimits {
        reads_per_sec: 1000.0,
        writes_per_sec: 1000.0,
    };
    ex_cfg.books = vec![(
        ticker.clone(),
        deep_book(tape.snapshot_levels(yes), tape.snapshot_levels(no)),
    )];
    let ex = Exchange::start(ex_cfg).unwrap();
    ex.set_faults(Faults {
        // 5 attempts per order: the first order fails for good (a venue error the actor
        // sees), the next one gets through on its third attempt.
        order_5xx: 7,
        order_drop_after_accept: 2,
        order_delay_after_accept: 2,
        response_delay: Duration::from_millis(700),
        read_5xx: 3,
        ws_disconnect_after: Some(30),
        ws_gap_at: Some(60),
    });
    let tickers = vec![ticker.clone()];
    let mut feed = WsFeed::new(ws_client(&ex, &tickers), tickers.clone());
    let mut acfg = ActorConfig::new(cfg.clone(), tickers.clone(), "faults");
    acfg.min_order_interval = Duration::ZERO;
    acfg.reconcile_every = 15;
    acfg.breaker_threshold = 50;
    acfg.idle_exit = Some(Duration::from_millis(1500));
    let policy = LivePolicy::load("random", &cfg, 2, true).unwrap();
    let log = dir.join("decisions.jsonl");
    let mut actor = Actor::new(
        acfg,
        kalshi_venue(&ex),
        policy,
        DecisionLog::create(&log).unwrap(),
        KillSwitch::new(None),
    )
    .unwrap();
    let mut checked = 0;
    let report = actor.run(&mut feed, |_| {
        // After every decision, the exchange's own books are within the limits.
        for (t, p) in ex.positions() {
            assert!(p.abs() <= max_pos, "{t}: position {p} beyond {max_pos}");
        }
        assert!(ex.balance().0 >= min_cash, "cash {:?}", ex.balance());
        checked += 1;
    });
    assert_eq!(report.stop, StopReason::Idle, "{report:?}");
    assert_eq!(checked, report.decisions);

    let left = ex.faults();
    assert_eq!(
        (
            left.order_5xx,
            left.order_drop_after_accept,
            left.order_delay_after_accept,
            left.read_5xx,
            left.ws_disconnect_after,
            left.ws_gap_at
        ),
        (0, 0, 0, 0, None, None),
        "every fault fired"
    );
    // No duplicate order, ever.
    let counts = ex.orders_per_client_order_id();
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    assert!(report.orders_sent >= 10, "{report:?}");
    assert!(report.venue_errors >= 1, "{report:?}");
    assert_eq!(report.breaker_trips, 0);
    assert!(counts.len() as u64 >= report.orders_sent);
    // Every decision logged; the feed's trouble logged too.
    let lines = std::fs::read_to_string(&log).unwrap();
    let decisions = decision_lines(&log);
    assert_eq!(decisions.len() as u64, report.decisions);
    assert!(
        lines.contains("\"out_of_sync\""),
        "gap and reconnect are logged"
    );
    assert!(
        decisions
            .iter()
            .all(|d| d["obs_hash"].as_str().is_some_and(|h| h.len() == 16))
    );
    // Positions and cash reconcile with the exchange.
    let ours = actor.venue_position(&ticker).unwrap();
    assert_eq!(ours, ex.positions().get(&ticker).copied().unwrap_or(0));
    let theirs: HashMap<String, i64> = actor
        .venue_mut()
        .positions()
        .unwrap()
        .into_iter()
        .map(|p| (p.ticker, p.position_contracts))
        .collect();
    assert_eq!(theirs, ex.positions());
    assert_eq!(actor.venue_mut().balance().unwrap(), ex.balance());
    assert!(actor.venue_mut().working_orders().unwrap().is_empty());
    // The actor kept trading to the end of the data.
    let sent_late = decisions
        .iter()
        .rev()
        .take(decisions.len() / 3)
        .filter(|d| d["verdict"] == Verdict::Sent.name())
        .count();
    assert!(sent_late > 0, "no order in the last third of the run");
    // The failed order is logged with its error, and the next order waits for a
    // reconciliation.
    let all: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let at = all
        .iter()
        .position(|l| l["kind"] == "decision" && l["verdict"] == "venue_error")
        .expect("a venue error");
    assert!(all[at]["venue"]["error"].as_str().unwrap().contains("503"));
    let next_sent = at
        + all[at..]
            .iter()
            .position(|l| l["verdict"] == "sent")
            .unwrap();
    assert!(all[at..next_sent].iter().any(|l| l["kind"] == "reconcile"));
    // The logged executions net to the exchange's position.
    let net: i64 = all
        .iter()
        .filter(|l| l["kind"] == "fills")
        .flat_map(|l| l["fills"].as_array().unwrap().clone())
        .map(|f| {
            let n = f["count"].as_i64().unwrap();
            match (
                f["contract"].as_str().unwrap(),
                f["action"].as_str().unwrap(),
            ) {
                ("yes", "buy") | ("no", "sell") => n,
                _ => -n,
            }
        })
        .sum();
    assert_eq!(net, ex.positions().get(&ticker).copied().unwrap_or(0));
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

#[test]
fn the_kill_switch_cancels_working_orders() {
    let dir = scratch_dir("kill");
    let (path, script, ticker) = capture(&dir, 400, 33);
    let cfg = env_config(&path);
    let mut ex_cfg = ExchangeConfig::new(KEY_ID, creds().public_key());
    ex_cfg.ws_script = script;
    ex_cfg.ws_interval = Duration::from_millis(5);
    ex_cfg.rate_limits = RateLimits {
        reads_per_sec: 1000.0,
        writes_per_sec: 1000.0,
    };
    // Far from the streamed prices: every order rests.
    let mut far = OrderBook::new();
    let lv = |c: u8| (Price::new(c).unwrap(), CentiContracts(100_000));
    far.apply_snapshot(&[lv(3)], &[lv(3)]).unwrap();
    ex_cfg.books = vec![(ticker.clone(), far)];
    let ex = Exchange::start(ex_cfg).unwrap();
    let tickers = vec![ticker.clone()];
    let mut feed = WsFeed::new(ws_client(&ex, &tickers), tickers.clone());
    let mut acfg = ActorConfig::new(cfg.clone(), tickers.clone(), "kill");
    acfg.min_order_interval = Duration::ZERO;
    acfg.reconcile_every = 0;
    acfg.idle_exit = Some(Duration::from_secs(10));
    // Buys only (the random baseline restricted by its mask to what is allowed when flat).
    let policy = LivePolicy::load("random", &cfg, 4, true).unwrap();
    let kill_file = dir.join("STOP");
    let log = dir.join("decisions.jsonl");
    let mut actor = Actor::new(
        acfg,
        kalshi_venue(&ex),
        policy,
        DecisionLog::create(&log).unwrap(),
        KillSwitch::new(Some(kill_file.clone())),
    )
    .unwrap();
    let mut sent = 0;
    let report = actor.run(&mut feed, |r| {
        if r.verdict == Verdict::Sent {
            sent += 1;
            if sent == 4 {
                std::fs::write(&kill_file, b"stop").unwrap();
            }
        }
    });
    assert_eq!(report.stop, StopReason::Killed("kill file"));
    assert_eq!(report.orders_sent, 4);
    assert!(report.cancelled_on_stop >= 1, "{report:?}");
    let mut check = kalshi_venue(&ex);
    assert!(check.working_orders().unwrap().is_empty());
    assert!(
        ex.positions().is_empty(),
        "nothing filled against the far book"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let last = text.lines().last().unwrap();
    assert!(
        last.contains("\"stop\"") && last.contains("killed"),
        "{last}"
    );
}

/// A simulated venue whose order entry fails after `ok_orders` accepted orders.
#[derive(Debug)]
struct FailingVenue {
    inner: SimVenue,
    ok_orders: u32,
    place_calls: u32,
}

impl Venue for FailingVenue {
    fn place_order(
        &mut self,
        order: &kalsim_host_sim::venue::OrderRequest,
    ) -> Result<kalsim_host_sim::venue::OrderAck, kalsim_host_sim::venue::VenueError> {
        self.place_calls += 1;
        if self.place_calls > self.ok_orders {
            return Err(kalsim_host_sim::venue::VenueError::Http {
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
            ok_orders: 5,
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
