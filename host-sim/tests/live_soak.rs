//! A bounded soak of the live actor on the Kalshi venue against the loopback exchange:
//! 10 000 decisions across 5 cent markets (and a deci-cent sixth, refused), under every
//! fault the exchange injects — 5xx, answers dropped or delayed after the order was booked,
//! read 5xx, lost fill messages, float-typed numbers, a WebSocket disconnect and a sequence
//! gap — with a market that closes mid-run and two that settle. Checked:
//!
//! - no duplicate order (one booking per client order id), no contract violation;
//! - no limit ever exceeded at the exchange after any decision, cash never negative, never
//!   more than one order of ours working in a market;
//! - no sell that flips a position (reduce-only sells only reduce);
//! - positions and cash reconcile to the cent with the exchange; each settlement credited
//!   once;
//! - every decision logged;
//! - the kill switch, thrown at the end, leaves no order of ours resting within 5 s.
//!
//! `KALSIM_LIVE_SOAK_DECISIONS` changes the count (default 10 000).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use kalsim_core::{ACTION_COUNT, Rng};
use kalsim_exchange::{Exchange, ExchangeConfig, Faults};
use kalsim_host_sim::data::{GenConfig, generate_string};
use kalsim_host_sim::env::EnvConfig;
use kalsim_host_sim::live::{
    Actor, ActorConfig, DecisionLog, KillSwitch, LivePolicy, StopReason, WsFeed,
};
use kalsim_host_sim::policy::Policy;
use kalsim_host_sim::venue::ws::Channels;
use kalsim_host_sim::venue::{
    Credentials, KalshiConfig, KalshiVenue, MarketDataClient, MarketDataConfig, RateLimits,
};
use serde_json::{Value, json};

/// A throwaway RSA key made for these tests only; it guards nothing.
const TEST_KEY_PEM: &str = include_str!("fixtures/TEST_ONLY_rsa2048_private_key.pem");
const KEY_ID: &str = "test-key-id";

fn creds() -> Credentials {
    Credentials::from_pem(KEY_ID, TEST_KEY_PEM).unwrap()
}

/// Holds most of the time; otherwise an allowed action, a sell half the time when one is
/// allowed (so reduce-only sells are exercised).
#[derive(Debug)]
struct Sparse {
    rng: Rng,
    trade_bps: u64,
}

impl Policy for Sparse {
    fn act(&mut self, _obs: &[f32], mask: &[bool; ACTION_COUNT]) -> u32 {
        if self.rng.below(10_000) >= self.trade_bps {
            return 0;
        }
        let allowed: Vec<u32> = (0..ACTION_COUNT as u32)
            .filter(|&a| mask[a as usize])
            .collect();
        allowed[self.rng.below(allowed.len() as u64) as usize]
    }
    fn name(&self) -> String {
        "sparse".into()
    }
}

fn decisions() -> u64 {
    std::env::var("KALSIM_LIVE_SOAK_DECISIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

#[test]
fn ten_thousand_decisions_across_five_markets_under_faults() {
    let n = decisions();
    let dir = std::env::temp_dir().join(format!("kalsim-live-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // 5 markets with enough book events for `n` decisions (and what a resync skips).
    let text = generate_string(&GenConfig {
        markets: 5,
        events: (n * 2 / 5 + 50) as u32,
        seed: 2026,
    });
    let mut script = Vec::new();
    let mut tickers: Vec<String> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut v: Value = serde_json::from_str(line).unwrap();
        if !matches!(
            v["type"].as_str(),
            Some("orderbook_snapshot" | "orderbook_delta")
        ) {
            continue;
        }
        if let Some(m) = v.get_mut("msg").and_then(Value::as_object_mut) {
            m.remove("ts");
            m.remove("ts_ms");
        }
        let t = v["msg"]["market_ticker"].as_str().unwrap().to_owned();
        if !tickers.contains(&t) {
            tickers.push(t);
        }
        script.push(v);
    }
    assert_eq!(tickers.len(), 5);
    // Market 0 closes at 40 % of the run and settles YES; market 1 settles NO at 52 % (its
    // result determined first); a deci-cent sixth market streams sub-cent levels.
    // Positions in the stream as fractions of the decisions (one book message each).
    let at = |f: f64| (n as f64 * f) as usize;
    let (m0, m1) = (tickers[0].clone(), tickers[1].clone());
    let lifecycle = |t: &str, e: &str, r: Option<&str>| {
        let mut msg = json!({"market_ticker": t, "event_type": e});
        if let Some(r) = r {
            msg["result"] = json!(r);
        }
        json!({"type": "market_lifecycle_v2", "msg": msg})
    };
    let mut inserts = vec![
        (at(0.4), lifecycle(&m0, "close_date_updated", None)),
        (at(0.45), lifecycle(&m0, "determined", Some("yes"))),
        (at(0.5), lifecycle(&m0, "settled", Some("yes"))),
        (at(0.5), lifecycle(&m1, "determined", Some("no"))),
        (at(0.52), lifecycle(&m1, "settled", None)),
    ];
    let deci = "KXDECI-26JAN01-SOAK".to_owned();
    inserts.push((
        3,
        json!({"type": "orderbook_snapshot", "msg": {"market_ticker": deci,
        "yes_dollars_fp": [["0.0450", "10.00"], ["0.3000", "5.00"]],
        "no_dollars_fp": [["0.6000", "7.00"], ["0.9550", "3.00"]]}}),
    ));
    for k in 1..20 {
        inserts.push((
            at(k as f64 / 20.0),
            json!({"type": "orderbook_delta", "msg": {"market_ticker": deci,
            "side": "no", "price_dollars": "0.9560", "delta_fp": "1.00"}}),
        ));
    }
    inserts.sort_by_key(|(i, _)| std::cmp::Reverse(*i));
    for (i, m) in inserts {
        script.insert(i, m);
    }
    tickers.push(deci.clone());

    let mut ex_cfg = ExchangeConfig::new(KEY_ID, creds().public_key());
    ex_cfg.ws_script = script;
    // Paced a little slower than the actor reads, so the exchange matches on the book the
    // actor saw (its mirror then fills as the exchange does), and a resubscription after a
    // gap (which starts from the exchange's current book) loses little.
    ex_cfg.ws_interval = Duration::from_millis(2);
    ex_cfg.rate_limits = RateLimits::unlimited();
    ex_cfg.deci_cent_markets = vec![deci.clone()];
    let ex = Exchange::start(ex_cfg).unwrap();
    ex.set_faults(Faults {
        order_5xx: 20,
        order_drop_after_accept: 10,
        order_delay_after_accept: 4,
        response_delay: Duration::from_millis(600),
        read_5xx: 20,
        drop_fill_messages: 30,
        float_numbers: true,
        ws_disconnect_after: Some(at(0.15)),
        ws_gap_at: Some(at(0.3)),
        ..Faults::default()
    });

    let mut env = EnvConfig::default();
    env.limits.max_position_per_market = 60;
    let max_pos = i64::from(env.limits.max_position_per_market);
    let mut acfg = ActorConfig::new(env, tickers.clone(), "soak");
    acfg.min_order_interval = Duration::ZERO;
    acfg.reconcile_every = 200;
    acfg.breaker_threshold = 100;
    acfg.idle_exit = Some(Duration::from_secs(10));
    // The policy sees what the venue would accept, so reduce-only sells are tried when the
    // venue holds the contract (the mirror's own account drifts from the venue's).
    acfg.venue_mask = true;
    let mut kcfg = KalshiConfig::new(ex.rest_base_url());
    kcfg.request_timeout = Duration::from_millis(400);
    kcfg.retry.base_backoff = Duration::from_millis(10);
    kcfg.rate_limits = RateLimits::unlimited();
    kcfg.abort = Some(Arc::new(AtomicBool::new(false)));
    let venue = KalshiVenue::new(kcfg, &creds());
    let policy = LivePolicy::Baseline(Box::new(Sparse {
        rng: Rng::new(77),
        trade_bps: 1_200,
    }));
    let log = dir.join("decisions.jsonl");
    let kill = KillSwitch::new(None);
    let trip = kill.clone();
    let mut actor = Actor::new(
        acfg,
        venue,
        policy,
        DecisionLog::create(&log).unwrap(),
        kill,
    )
    .unwrap();
    let mut md = MarketDataConfig::new(ex.ws_url(), tickers.clone());
    md.connect_timeout = Duration::from_secs(5);
    md.reconnect_backoff = Duration::from_millis(20);
    md.channels = Channels::TRADING;
    let mut feed = WsFeed::new(
        MarketDataClient::connect(md, &creds()).unwrap(),
        tickers.clone(),
    );

    let mut seen = 0u64;
    let t0 = std::time::Instant::now();
    let report = actor.run(&mut feed, |_| {
        seen += 1;
        if seen % 1000 == 0 {
            eprintln!("soak: {seen} decisions after {:?}", t0.elapsed());
        }
        for (t, p) in ex.positions() {
            assert!(
                p.abs() <= max_pos,
                "decision {seen}: {t} position {p} beyond {max_pos}"
            );
        }
        assert!(ex.balance().0 >= 0, "decision {seen}: negative cash");
        let mut resting: HashMap<String, usize> = HashMap::new();
        for (t, _, _) in ex.resting_orders() {
            *resting.entry(t).or_default() += 1;
        }
        assert!(
            resting.values().all(|&k| k <= 1),
            "decision {seen}: more than one order of ours working in a market: {resting:?}"
        );
        if seen == n {
            trip.trip();
        }
    });
    eprintln!("soak: {report:?}");
    assert_eq!(report.stop, StopReason::Killed("kill switch"), "{report:?}");
    assert_eq!(report.decisions, n);

    // Every fault fired.
    let left = ex.faults();
    assert_eq!(
        (
            left.order_5xx,
            left.order_drop_after_accept,
            left.order_delay_after_accept,
            left.read_5xx
        ),
        (0, 0, 0, 0),
        "{left:?}"
    );
    assert_eq!((left.ws_disconnect_after, left.ws_gap_at), (None, None));
    // No duplicate order, no contract drift.
    let counts = ex.orders_per_client_order_id();
    assert!(counts.values().all(|&c| c == 1), "duplicate order");
    assert!(report.orders_sent > 300, "{report:?}");
    assert!(
        ex.contract_violations().is_empty(),
        "{:?}",
        ex.contract_violations()
    );
    // Every decision logged.
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let intents: HashMap<String, String> = lines
        .iter()
        .filter(|l| l["kind"] == "decision" && l["client_order_id"].is_string())
        .map(|l| {
            (
                l["client_order_id"].as_str().unwrap().to_owned(),
                l["intent"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        lines.iter().filter(|l| l["kind"] == "decision").count() as u64,
        n,
        "every decision logged"
    );
    // No sell flips a position: every fill of a sell leaves the position on the same side,
    // no larger in size.
    let mut sells = 0;
    for (t, coid, bid, count, after) in ex.fill_records() {
        let Some(intent) = intents.get(&coid) else {
            panic!("a fill of an order we did not log: {coid}");
        };
        if intent.starts_with("SELL") {
            sells += 1;
            let before = if bid {
                after - i64::from(count)
            } else {
                after + i64::from(count)
            };
            assert!(
                before.signum() * after.signum() >= 0 && after.abs() <= before.abs(),
                "{t}: {intent} {coid} moved the position {before} → {after}"
            );
        }
    }
    assert!(sells >= 10, "{sells} sell fills");
    // Positions and cash reconcile to the cent; settlements credited once.
    for t in &tickers {
        assert_eq!(
            actor.venue_position(t).unwrap(),
            ex.positions().get(t).copied().unwrap_or(0),
            "{t}"
        );
    }
    assert_eq!(actor.venue_cash(), ex.balance().0, "cash to the cent");
    assert_eq!(report.settlements, 2);
    assert_eq!(ex.stats().settlements, 2);
    assert_eq!(ex.settled_markets().len(), 2);
    assert_eq!(report.markets_refused, 1);
    assert_eq!(report.breaker_trips, 0, "a closing market trips no breaker");
    // The kill switch: nothing of ours left, within the bound.
    assert!(ex.resting_orders().is_empty());
    assert!(
        report.kill_cleared_ms.is_some_and(|ms| ms <= 5_000),
        "{report:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
