//! The live actor on the Kalshi venue against the loopback exchange (V2 contract, signed
//! REST and WebSocket, fills and order updates on the user channels, market lifecycle):
//!
//! - under faults (5xx, dropped and delayed answers, read 5xx, lost fill messages, float
//!   numbers, WebSocket disconnect and gap): no duplicate order, no limit exceeded, every
//!   decision logged, positions and cash reconcile to the cent;
//! - a market that closes mid-run stops cleanly (its order cancelled, no breaker trip) and
//!   its result is settled once, to the cent;
//! - a deci-cent market among cent markets is refused by name, the others trade, sub-cent
//!   levels in the feed never stop the run;
//! - the kill switch leaves no order of ours resting within 5 s while a call is retrying;
//! - an order the exchange booked but answered unreadably (cut short, no `order_id`) is
//!   looked up and becomes the working order: never a second one beside it;
//! - a submit left without an answer while listings lag (no `user_orders` channel) is
//!   looked up until found, never given up early and sent again beside itself;
//! - an account with a long fill history trades (the history is never listed), and a fills
//!   listing cut at the page cap adopts the venue's positions and cash instead of blocking;
//! - on restart the actor adopts the venue's positions and its own resting orders and leaves
//!   orders it did not place alone;
//! - a daily loss limit stops new exposure on every market and says why;
//! - train/live parity on the Kalshi venue: a capture replayed through the exchange's
//!   WebSocket (paced on the actor's decisions) gives the same decisions and observations
//!   as an `Env` replay of the same file, and fill for fill the same position and cash path
//!   (the exchange matches with the core).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use kalsim_core::Cents;
use kalsim_core::OBS_DIM;
use kalsim_exchange::{Exchange, ExchangeConfig, Faults, HISTORY_TICKER};
use kalsim_host_sim::data::{GenConfig, generate_string};
use kalsim_host_sim::env::{Env, EnvConfig, load_markets};
use kalsim_host_sim::live::{
    Actor, ActorConfig, ActorReport, Clock, DecisionLog, KillSwitch, LivePolicy, StopReason,
    Verdict, WsFeed, obs_hash,
};
use kalsim_host_sim::policy::{PolicyContext, policy_with_context};
use kalsim_host_sim::venue::ws::Channels;
use kalsim_host_sim::venue::{
    Credentials, KalshiConfig, KalshiVenue, MarketDataClient, MarketDataConfig, RateLimits, Venue,
};
use serde_json::{Value, json};

/// A throwaway RSA key made for these tests only; it guards nothing.
const TEST_KEY_PEM: &str = include_str!("fixtures/TEST_ONLY_rsa2048_private_key.pem");
const KEY_ID: &str = "test-key-id";

fn creds() -> Credentials {
    Credentials::from_pem(KEY_ID, TEST_KEY_PEM).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kalsim-kalshi-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Book messages of `markets` synthetic markets (timestamps removed), their tickers, and the
/// markets' `determined` lifecycle messages (kept apart).
fn script(markets: u32, events: u32, seed: u64) -> (Vec<Value>, Vec<String>, Vec<Value>) {
    let text = generate_string(&GenConfig {
        markets,
        events,
        seed,
    });
    let (mut book, mut lifecycle, mut tickers) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut v: Value = serde_json::from_str(line).unwrap();
        match v["type"].as_str().unwrap_or("") {
            "orderbook_snapshot" | "orderbook_delta" => {
                if let Some(m) = v.get_mut("msg").and_then(Value::as_object_mut) {
                    m.remove("ts");
                    m.remove("ts_ms");
                }
                let t = v["msg"]["market_ticker"].as_str().unwrap().to_owned();
                if !tickers.contains(&t) {
                    tickers.push(t);
                }
                book.push(v);
            }
            "market_lifecycle_v2" => lifecycle.push(v),
            _ => {}
        }
    }
    (book, tickers, lifecycle)
}

fn exchange(script: Vec<Value>, tune: impl FnOnce(&mut ExchangeConfig)) -> Exchange {
    let mut cfg = ExchangeConfig::new(KEY_ID, creds().public_key());
    cfg.ws_script = script;
    cfg.ws_interval = Duration::from_millis(2);
    cfg.rate_limits = RateLimits::unlimited();
    tune(&mut cfg);
    Exchange::start(cfg).unwrap()
}

fn kalshi(ex: &Exchange) -> KalshiVenue {
    let mut cfg = KalshiConfig::new(ex.rest_base_url());
    cfg.request_timeout = Duration::from_millis(400);
    cfg.retry.base_backoff = Duration::from_millis(10);
    cfg.rate_limits = RateLimits::unlimited();
    cfg.abort = Some(Arc::new(AtomicBool::new(false)));
    KalshiVenue::new(cfg, &creds())
}

fn feed_on(ex: &Exchange, tickers: &[String], channels: Channels) -> WsFeed {
    let mut cfg = MarketDataConfig::new(ex.ws_url(), tickers.to_vec());
    cfg.connect_timeout = Duration::from_secs(5);
    cfg.reconnect_backoff = Duration::from_millis(20);
    cfg.channels = channels;
    WsFeed::new(
        MarketDataClient::connect(cfg, &creds()).unwrap(),
        tickers.to_vec(),
    )
}

fn actor_config(env: &EnvConfig, tickers: &[String], run: &str) -> ActorConfig {
    let mut a = ActorConfig::new(env.clone(), tickers.to_vec(), run);
    a.min_order_interval = Duration::ZERO;
    a.reconcile_every = 20;
    a.breaker_threshold = 50;
    a.idle_exit = Some(Duration::from_millis(1500));
    a
}

fn lines(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Positions and cash of the actor agree with the exchange's books to the cent.
fn assert_reconciled<V: kalsim_host_sim::live::LiveVenue>(
    actor: &Actor<V>,
    ex: &Exchange,
    tickers: &[String],
) {
    for t in tickers {
        assert_eq!(
            actor.venue_position(t).unwrap(),
            ex.positions().get(t).copied().unwrap_or(0),
            "{t}: position"
        );
    }
    assert_eq!(actor.venue_cash(), ex.balance().0, "cash to the cent");
}

fn run_actor(
    ex: &Exchange,
    cfg: ActorConfig,
    policy_seed: u64,
    log: &Path,
    kill: KillSwitch,
    hook: impl FnMut(&kalsim_host_sim::live::DecisionRecord),
) -> (ActorReport, Actor<KalshiVenue>) {
    run_actor_on(ex, cfg, policy_seed, log, kill, Channels::TRADING, hook)
}

fn run_actor_on(
    ex: &Exchange,
    cfg: ActorConfig,
    policy_seed: u64,
    log: &Path,
    kill: KillSwitch,
    channels: Channels,
    mut hook: impl FnMut(&kalsim_host_sim::live::DecisionRecord),
) -> (ActorReport, Actor<KalshiVenue>) {
    let tickers = cfg.tickers.clone();
    let policy = LivePolicy::load("random", &cfg.env, policy_seed, true).unwrap();
    let mut actor = Actor::new(
        cfg,
        kalshi(ex),
        policy,
        DecisionLog::create(log).unwrap(),
        kill,
    )
    .unwrap();
    let mut f = feed_on(ex, &tickers, channels);
    let report = actor.run(&mut f, |r| hook(r));
    (report, actor)
}

#[test]
fn under_faults_nothing_duplicates_and_everything_reconciles() {
    let dir = scratch("faults");
    let (book, tickers, _) = script(3, 60, 21);
    let mut env = EnvConfig::default();
    env.limits.max_position_per_market = 40;
    let max_pos = i64::from(env.limits.max_position_per_market);
    let ex = exchange(book, |_| {});
    ex.set_faults(Faults {
        order_5xx: 3,
        order_drop_after_accept: 2,
        order_delay_after_accept: 2,
        response_delay: Duration::from_millis(700),
        read_5xx: 3,
        drop_fill_messages: 3,
        float_numbers: true,
        ws_disconnect_after: Some(50),
        ws_gap_at: Some(100),
        ..Faults::default()
    });
    let log = dir.join("decisions.jsonl");
    let mut checked = 0;
    let (report, actor) = run_actor(
        &ex,
        actor_config(&env, &tickers, "faults"),
        2,
        &log,
        KillSwitch::new(None),
        |_| {
            for (t, p) in ex.positions() {
                assert!(p.abs() <= max_pos, "{t}: position {p} beyond {max_pos}");
            }
            checked += 1;
        },
    );
    assert_eq!(report.stop, StopReason::Idle, "{report:?}");
    assert_eq!(checked, report.decisions);
    let left = ex.faults();
    assert_eq!(
        (
            left.order_5xx,
            left.order_drop_after_accept,
            left.order_delay_after_accept
        ),
        (0, 0, 0),
        "every order fault fired"
    );
    assert_eq!((left.read_5xx, left.drop_fill_messages), (0, 0));
    let counts = ex.orders_per_client_order_id();
    assert!(
        counts.values().all(|&n| n == 1),
        "duplicate order: {counts:?}"
    );
    assert!(
        report.orders_sent >= 10 && report.fills_applied > 0,
        "{report:?}"
    );
    assert!(
        ex.contract_violations().is_empty(),
        "{:?}",
        ex.contract_violations()
    );
    let all = lines(&log);
    let decisions = all.iter().filter(|l| l["kind"] == "decision").count() as u64;
    assert_eq!(decisions, report.decisions, "every decision logged");
    assert!(all.iter().any(|l| l["kind"] == "out_of_sync"));
    assert!(
        all.iter()
            .any(|l| l["kind"] == "fill" && l["source"] == "rest"),
        "lost fill messages back-filled"
    );
    assert_reconciled(&actor, &ex, &tickers);
    assert!(
        ex.resting_orders().is_empty(),
        "nothing of ours left resting"
    );
}

#[test]
fn a_closing_market_stops_cleanly_and_settles_once() {
    closing_market(false);
}

#[test]
fn a_lost_settled_message_is_inferred_from_the_venue_and_credited_once() {
    closing_market(true);
}

fn closing_market(lose_settled: bool) {
    let dir = scratch(if lose_settled { "close-lost" } else { "close" });
    let (mut book, tickers, _) = script(2, 80, 5);
    // Halfway through, market A closes now; later its result comes and it settles.
    let a = tickers[0].clone();
    let mid = book.len() / 2;
    book.insert(
        mid,
        json!({"type": "market_lifecycle_v2", "msg": {"market_ticker": a,
        "event_type": "close_date_updated"}}),
    );
    book.insert(
        mid + 10,
        json!({"type": "market_lifecycle_v2", "msg": {"market_ticker": a,
        "event_type": "determined", "result": "yes"}}),
    );
    book.insert(
        mid + 20,
        json!({"type": "market_lifecycle_v2", "msg": {"market_ticker": a,
        "event_type": "settled", "result": "yes"}}),
    );
    let ex = exchange(book, |_| {});
    if lose_settled {
        // A position held into the result, so the lost message hides a payout.
        ex.set_account(&[(a.as_str(), 12)], Cents(100_000));
        ex.set_faults(Faults {
            drop_settled_messages: 1,
            ..Faults::default()
        });
    }
    // Passive pricing: resting orders that must be cancelled at the close.
    let env = EnvConfig {
        pricing: kalsim_core::PricingMode::Passive,
        ..EnvConfig::default()
    };
    let log = dir.join("decisions.jsonl");
    let (report, actor) = run_actor(
        &ex,
        actor_config(&env, &tickers, "close"),
        3,
        &log,
        KillSwitch::new(None),
        |_| {},
    );
    assert_eq!(report.breaker_trips, 0, "{report:?}");
    assert_eq!(ex.settled_markets(), std::slice::from_ref(&a));
    assert_eq!(ex.stats().settlements, 1, "credited once");
    // Cash and positions to the cent with the exchange, the payout counted once.
    assert_reconciled(&actor, &ex, &tickers);
    let all = lines(&log);
    if lose_settled {
        // The payout is learnt from the venue: inferred from a determined market whose
        // position the venue no longer holds, or (when the exchange settled before the
        // actor read the result) adopted as a persistent offset at two reconciliations.
        let inferred = all
            .iter()
            .any(|l| l["kind"] == "settlement_inferred" && l["ticker"] == a);
        let adopted = all.iter().any(|l| {
            l["kind"] == "reconcile"
                && l["discrepancies"].as_array().is_some_and(|d| {
                    d.iter()
                        .any(|x| x["field"] == "balance" && x["adopted"] == true)
                })
        });
        assert!(inferred || adopted, "{report:?}");
        assert!(report.settlements <= 1);
        return;
    }
    assert_eq!(report.settlements, 1);
    let closed_at = all
        .iter()
        .position(|l| l["kind"] == "market_closed" && l["ticker"] == a)
        .expect("market A closed");
    assert!(
        all.iter()
            .any(|l| l["kind"] == "settlement" && l["ticker"] == a)
    );
    assert!(
        !all.iter().any(|l| l["kind"] == "settlement_inferred"),
        "nothing inferred when the message came"
    );
    // After the close nothing is sent in A; B keeps trading.
    let after = &all[closed_at..];
    assert!(
        after
            .iter()
            .all(|l| !(l["kind"] == "decision" && l["ticker"] == a && l["verdict"] == "sent"))
    );
    assert!(
        after.iter().any(|l| l["kind"] == "decision"
            && l["ticker"] == tickers[1]
            && l["verdict"] == "sent")
    );
    assert!(
        after.iter().any(|l| l["kind"] == "decision"
            && l["ticker"] == a
            && l["verdict"] == "market_closed")
    );
    assert!(ex.resting_orders().iter().all(|(t, _, _)| *t != a));
}

#[test]
fn a_market_refused_as_paused_trades_again_once_activated() {
    paused_market(false);
}

#[test]
fn a_paused_market_whose_activated_message_is_lost_trades_again_after_reconciling() {
    paused_market(true);
}

/// Market A is paused for a while, its `deactivated` message lost (as when an order races
/// it), so the actor's next order there is refused `trading_paused`; then A is reactivated.
fn paused_market(lose_activated: bool) {
    let dir = scratch(if lose_activated {
        "pause-lost"
    } else {
        "pause"
    });
    let (mut book, tickers, _) = script(2, 80, 5);
    let a = tickers[0].clone();
    let start = book.len() / 3;
    book.insert(
        start,
        json!({"type": "market_lifecycle_v2", "msg": {"market_ticker": a,
        "event_type": "deactivated", "is_deactivated": true}}),
    );
    book.insert(
        start + 24,
        json!({"type": "market_lifecycle_v2", "msg": {"market_ticker": a,
        "event_type": "activated", "is_deactivated": false}}),
    );
    // Paced on the decisions, so the actor decides in A while A is paused.
    let ex = exchange(book, |c| {
        c.ws_lockstep = true;
        c.ws_interval = Duration::ZERO;
    });
    ex.set_faults(Faults {
        drop_deactivated_messages: 1,
        drop_activated_messages: u32::from(lose_activated),
        ..Faults::default()
    });
    ex.release(1);
    let env = EnvConfig::default();
    let log = dir.join("decisions.jsonl");
    let (report, actor) = run_actor(
        &ex,
        actor_config(&env, &tickers, "pause"),
        3,
        &log,
        KillSwitch::new(None),
        |_| ex.release(1),
    );
    assert!(ex.ws_script_done(), "{report:?}");
    assert_eq!(report.stop, StopReason::Idle, "{report:?}");
    assert_eq!(report.breaker_trips, 0, "a pause is no fault: {report:?}");
    let all = lines(&log);
    let in_a = |l: &Value, kind: &str| l["kind"] == kind && l["ticker"] == a;
    let refused = all
        .iter()
        .position(|l| {
            in_a(l, "decision")
                && l["verdict"] == "venue_error"
                && l.to_string().contains("trading_paused")
        })
        .expect("an order in A refused as paused");
    let reopened = all
        .iter()
        .position(|l| in_a(l, "market_reopened"))
        .expect("A reopened when the venue reported it active");
    assert!(reopened > refused);
    // Paused (not closed) while the refused decision was taken (logged after it).
    let paused = all
        .iter()
        .position(|l| in_a(l, "market_closed"))
        .expect("A paused");
    assert_eq!(paused + 1, refused, "{}", all[paused]);
    assert_eq!(all[paused]["paused"], true, "{}", all[paused]);
    if lose_activated {
        assert_eq!(
            all[reopened]["reason"], "the venue reports the market active",
            "{}",
            all[reopened]
        );
    }
    // While paused nothing is sent in A; once active again, A trades.
    assert!(
        all[paused..reopened]
            .iter()
            .all(|l| !(in_a(l, "decision") && l["verdict"] == "sent"))
    );
    assert!(
        all[reopened..]
            .iter()
            .any(|l| in_a(l, "decision") && l["verdict"] == "sent"),
        "A never traded again: {report:?}"
    );
    assert_reconciled(&actor, &ex, &tickers);
}

#[test]
fn sub_cent_fees_are_applied_and_the_cash_reconciles_to_the_cent() {
    // A direct member's account: trade fees rounded up to $0.0001 (`fee_cost` "0.0174"),
    // the balance kept to $0.0001 and reported in cents rounded down.
    let dir = scratch("subcent");
    let (book, tickers, _) = script(2, 60, 17);
    let ex = exchange(book, |c| c.sub_cent_fees = true);
    let env = EnvConfig::default();
    let log = dir.join("decisions.jsonl");
    let (report, actor) = run_actor(
        &ex,
        actor_config(&env, &tickers, "subcent"),
        6,
        &log,
        KillSwitch::new(None),
        |_| {},
    );
    assert_eq!(report.stop, StopReason::Idle, "{report:?}");
    let all = lines(&log);
    let fills: Vec<&Value> = all.iter().filter(|l| l["kind"] == "fill").collect();
    // Every fill of the exchange was applied, none skipped, and some fees were sub-cent.
    assert_eq!(fills.len() as u64, ex.stats().fills, "{report:?}");
    assert_eq!(report.fills_applied, ex.stats().fills);
    assert!(
        fills
            .iter()
            .any(|f| f["fee_micros"].as_i64().unwrap() % 10_000 != 0),
        "no sub-cent fee in the run"
    );
    assert!(
        !all.iter().any(|l| l["kind"] == "unparsed"
            || l["kind"] == "venue_warning" && l.to_string().contains("skipped")),
        "a fill was not understood"
    );
    // Fees rounded up as a whole: the cash is the venue's rounded-down balance, to the cent,
    // at every reconciliation (no offset to adopt) and at the end.
    for r in all.iter().filter(|l| l["kind"] == "reconcile") {
        let diffs = r["discrepancies"].as_array().unwrap();
        assert!(
            !diffs
                .iter()
                .any(|d| d["field"] == "balance" || d["field"] == "position"),
            "{r}"
        );
    }
    let taken: i64 = fills.iter().map(|f| f["fee_cents"].as_i64().unwrap()).sum();
    assert_eq!(taken, ex.fees_paid(), "the exact fees rounded up once");
    assert_reconciled(&actor, &ex, &tickers);
}

#[test]
fn a_deci_cent_market_is_refused_by_name_and_the_others_trade() {
    let dir = scratch("deci");
    let (mut book, mut tickers, _) = script(2, 60, 9);
    let deci = "KXDECI-26JAN01-D".to_owned();
    // A deci-cent market in the feed: sub-cent levels in its snapshot and deltas.
    book.insert(
        2,
        json!({"type": "orderbook_snapshot", "msg": {"market_ticker": deci,
        "yes_dollars_fp": [["0.0450", "10.00"], ["0.3000", "5.00"]],
        "no_dollars_fp": [["0.6000", "7.00"], ["0.9550", "3.00"]]}}),
    );
    for i in 0..5 {
        book.insert(
            10 + 7 * i,
            json!({"type": "orderbook_delta", "msg": {"market_ticker": deci,
            "side": "yes", "price_dollars": "0.0470", "delta_fp": "1.00"}}),
        );
        book.insert(
            12 + 7 * i,
            json!({"type": "orderbook_delta", "msg": {"market_ticker": deci,
            "side": "yes", "price_dollars": "0.3000", "delta_fp": "1.00"}}),
        );
    }
    tickers.push(deci.clone());
    let ex = exchange(book, |c| c.deci_cent_markets = vec![deci.clone()]);
    let log = dir.join("decisions.jsonl");
    let env = EnvConfig::default();
    let (report, actor) = run_actor(
        &ex,
        actor_config(&env, &tickers, "deci"),
        4,
        &log,
        KillSwitch::new(None),
        |_| {},
    );
    assert_eq!(
        report.stop,
        StopReason::Idle,
        "sub-cent levels never stop the run"
    );
    assert_eq!(report.markets_refused, 1);
    let why = actor.refused(&deci).expect("refused");
    assert!(why.contains("tapered_deci_cent"), "{why}");
    let counts = ex.orders_per_client_order_id();
    assert!(!counts.is_empty());
    let all = lines(&log);
    assert!(
        all.iter()
            .any(|l| l["kind"] == "market_refused" && l["ticker"] == deci)
    );
    assert!(all.iter().any(|l| l["kind"] == "sub_cent_skipped"));
    assert!(
        all.iter()
            .all(|l| !(l["kind"] == "decision" && l["ticker"] == deci && l["verdict"] == "sent"))
    );
    assert!(all.iter().any(|l| l["kind"] == "decision"
        && l["ticker"] == deci
        && l["verdict"] == "market_refused"));
    assert!(
        all.iter().any(|l| l["kind"] == "decision"
            && l["ticker"] == tickers[0]
            && l["verdict"] == "sent")
    );
    assert_reconciled(&actor, &ex, &tickers);
}

#[test]
fn the_kill_switch_clears_our_orders_within_five_seconds_while_a_call_retries() {
    let dir = scratch("kill");
    let (book, tickers, _) = script(3, 400, 33);
    let ex = exchange(book, |c| c.ws_interval = Duration::from_millis(4));
    // Passive pricing: every order rests.
    let env = EnvConfig {
        pricing: kalsim_core::PricingMode::Passive,
        ..EnvConfig::default()
    };
    let mut cfg = actor_config(&env, &tickers, "kill");
    cfg.idle_exit = Some(Duration::from_secs(10));
    let kill = KillSwitch::new(None);
    let trip = kill.clone();
    let log = dir.join("decisions.jsonl");
    let mut sent = 0;
    let mut tripped_at: Option<Instant> = None;
    let (report, _actor) = run_actor(&ex, cfg, 4, &log, kill, |r| {
        if r.verdict == Verdict::Sent {
            sent += 1;
        }
        if sent == 6 && tripped_at.is_none() {
            // From now on every submit is answered 503 and retried: trip the switch while
            // the actor is inside that retrying call.
            ex.set_faults(Faults {
                order_5xx: 10_000,
                ..Faults::default()
            });
            let t = trip.clone();
            tripped_at = Some(Instant::now());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(150));
                t.trip();
            });
        }
    });
    assert_eq!(report.stop, StopReason::Killed("kill switch"));
    assert!(tripped_at.is_some());
    let cleared = report.kill_cleared_ms.expect("cleared");
    assert!(cleared <= 5_000, "kill took {cleared} ms");
    assert!(ex.resting_orders().is_empty(), "{:?}", ex.resting_orders());
    let all = lines(&log);
    assert!(all.iter().any(|l| l["kind"] == "kill"));
    assert!(
        all.last().unwrap()["reason"]
            .as_str()
            .unwrap()
            .contains("killed")
    );
}

#[test]
fn restart_adopts_positions_and_own_orders_and_leaves_others_alone() {
    let dir = scratch("restart");
    let (book, tickers, _) = script(1, 60, 12);
    let t = tickers[0].clone();
    let ex = exchange(book, |_| {});
    ex.set_account(&[(t.as_str(), 20)], Cents(90_000));
    let order = |coid: &str, price: &str| {
        json!({"ticker": t, "client_order_id": coid, "side": "bid", "count": "3.00",
            "price": price, "time_in_force": "good_till_canceled",
            "self_trade_prevention_type": "taker_at_cross"})
    };
    let own = ex
        .inject_order(&order("kalsim-oldrun-0-7", "0.0200"))
        .unwrap();
    let foreign = ex.inject_order(&order("manual-order-1", "0.0300")).unwrap();
    let env = EnvConfig::default();
    let log = dir.join("decisions.jsonl");
    let mut cfg = actor_config(&env, &tickers, "newrun");
    cfg.dry_run = true; // decisions only: what is adopted stays visible
    let (report, actor) = run_actor(&ex, cfg, 5, &log, KillSwitch::new(None), |_| {});
    assert!(report.decisions > 10);
    let all = lines(&log);
    let first = all.iter().find(|l| l["kind"] == "reconcile").unwrap();
    assert_eq!(first["positions"][&t], 20, "the venue's position adopted");
    assert!(
        first["discrepancies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["field"] == "adopted_order" && d["order_id"] == own)
    );
    assert_eq!(first["foreign_orders_left_alone"], 1);
    assert_eq!(actor.venue_position(&t), Some(20));
    // Our adopted order was cancelled at the end; the foreign one is still resting.
    let resting: Vec<String> = ex
        .resting_orders()
        .into_iter()
        .map(|(_, id, _)| id)
        .collect();
    assert_eq!(resting, [foreign]);
    assert_reconciled(&actor, &ex, &tickers);
}

#[test]
fn a_daily_loss_limit_stops_new_exposure_everywhere_and_says_why() {
    let dir = scratch("risk");
    let (book, tickers, _) = script(2, 80, 14);
    let ex = exchange(book, |_| {});
    let env = EnvConfig::default();
    let mut cfg = actor_config(&env, &tickers, "risk");
    cfg.risk.daily_loss_limit_cents = Some(1);
    let log = dir.join("decisions.jsonl");
    let (report, actor) = run_actor(&ex, cfg, 6, &log, KillSwitch::new(None), |_| {});
    let why = actor.risk_stop().expect("the loss limit was hit");
    assert!(why.starts_with("daily_loss_limit"), "{why}");
    let all = lines(&log);
    let stop_at = all.iter().position(|l| l["kind"] == "risk_stop").unwrap();
    let after: Vec<&Value> = all[stop_at..]
        .iter()
        .filter(|l| l["kind"] == "decision")
        .collect();
    assert!(after.iter().any(|l| l["verdict"] == "risk_stop"));
    // New exposure is refused; only orders that reduce the venue position are sent: track
    // the venue position from the fill lines and check each order sent after the stop.
    let mut pos: HashMap<String, i64> = HashMap::new();
    for l in &all[..stop_at] {
        if l["kind"] == "fill" {
            pos.insert(
                l["ticker"].as_str().unwrap().into(),
                l["position"].as_i64().unwrap(),
            );
        }
    }
    for l in &all[stop_at..] {
        if l["kind"] == "fill" {
            pos.insert(
                l["ticker"].as_str().unwrap().into(),
                l["position"].as_i64().unwrap(),
            );
        }
        if l["kind"] == "decision" && l["verdict"] == "sent" {
            let p = pos.get(l["ticker"].as_str().unwrap()).copied().unwrap_or(0);
            let size = l["size"].as_i64().unwrap();
            let reduces = match l["intent"].as_str().unwrap() {
                "BUY_YES" | "SELL_NO" => p <= -size,
                _ => p >= size,
            };
            assert!(reduces, "{l} at venue position {p}");
        }
    }
    let tickers_stopped: std::collections::HashSet<&str> = after
        .iter()
        .filter(|l| l["verdict"] == "risk_stop")
        .map(|l| l["ticker"].as_str().unwrap())
        .collect();
    assert_eq!(tickers_stopped.len(), 2, "every market");
    assert!(report.decisions > 0);
    let mut positions: HashMap<String, i64> = HashMap::new();
    for t in &tickers {
        positions.insert(t.clone(), actor.venue_position(t).unwrap());
    }
    assert_reconciled(&actor, &ex, &tickers);
    let _ = positions;
    let mut v = kalshi(&ex);
    assert!(v.working_orders().unwrap().is_empty());
}

#[test]
fn lagging_reads_never_make_a_resting_order_forgotten() {
    let dir = scratch("lag");
    let (book, tickers, _) = script(2, 120, 17);
    let ex = exchange(book, |c| c.ws_interval = Duration::from_millis(4));
    // Orders rest (passive), and stay invisible to listings for 500 ms after booking, while
    // the actor reconciles every third decision: one missed listing must not make it forget
    // an order that is in fact resting (it would then leave two working in a market).
    ex.set_faults(Faults {
        order_read_lag: Duration::from_millis(500),
        ..Faults::default()
    });
    let env = EnvConfig {
        pricing: kalsim_core::PricingMode::Passive,
        ..EnvConfig::default()
    };
    let mut cfg = actor_config(&env, &tickers, "lag");
    cfg.reconcile_every = 3;
    let log = dir.join("decisions.jsonl");
    let mut checked = 0;
    let (report, actor) = run_actor(&ex, cfg, 8, &log, KillSwitch::new(None), |_| {
        let mut per_market: HashMap<String, usize> = HashMap::new();
        for (t, _, _) in ex.resting_orders() {
            *per_market.entry(t).or_default() += 1;
        }
        for (t, n) in per_market {
            assert!(n <= 1, "{t}: {n} of our orders resting at once");
        }
        checked += 1;
    });
    assert!(checked > 50 && report.orders_sent > 20, "{report:?}");
    let all = lines(&log);
    assert!(
        all.iter().any(|l| l["kind"] == "reconcile"
            && l["discrepancies"].as_array().is_some_and(|d| d.is_empty())),
        "reconciliations ran"
    );
    assert_reconciled(&actor, &ex, &tickers);
    assert!(ex.resting_orders().is_empty());
}

#[test]
fn an_accepted_order_whose_answer_cannot_be_read_is_adopted_not_sent_twice() {
    let dir = scratch("unreadable");
    let (book, tickers, _) = script(2, 120, 17);
    let ex = exchange(book, |c| c.ws_interval = Duration::from_millis(4));
    // The first bookings are answered 201 with a body cut short or without `order_id`, and
    // listings lag a little (less than the venue's look-ups take, ≥ 60 ms of backoff): the
    // order is held by the exchange, so it must be looked up and become the market's working
    // order, or the actor would send a second one beside it.
    ex.set_faults(Faults {
        order_truncate_after_accept: 2,
        order_strip_id_after_accept: 2,
        order_read_lag: Duration::from_millis(40),
        ..Faults::default()
    });
    let env = EnvConfig {
        pricing: kalsim_core::PricingMode::Passive,
        ..EnvConfig::default()
    };
    let log = dir.join("decisions.jsonl");
    let mut checked = 0;
    let (report, actor) = run_actor(
        &ex,
        actor_config(&env, &tickers, "unreadable"),
        8,
        &log,
        KillSwitch::new(None),
        |_| {
            let mut per_market: HashMap<String, usize> = HashMap::new();
            for (t, _, _) in ex.resting_orders() {
                *per_market.entry(t).or_default() += 1;
            }
            for (t, n) in per_market {
                assert!(n <= 1, "{t}: {n} of our orders resting at once");
            }
            checked += 1;
        },
    );
    assert_eq!(report.stop, StopReason::Idle, "{report:?}");
    assert!(checked > 50 && report.orders_sent > 10, "{report:?}");
    let left = ex.faults();
    assert_eq!(
        (
            left.order_truncate_after_accept,
            left.order_strip_id_after_accept
        ),
        (0, 0),
        "every fault fired"
    );
    let garbled = ex.unreadable_answers();
    assert_eq!(garbled.len(), 4);
    let counts = ex.orders_per_client_order_id();
    for coid in &garbled {
        assert_eq!(counts[coid], 1, "{coid}: booked once");
    }
    assert!(
        counts.values().all(|&n| n == 1),
        "duplicate order: {counts:?}"
    );
    // No submit answered unreadably failed: the venue's look-ups found it (sent, with the
    // exchange's id), or, reads lagging, it stayed unresolved until a look-up, an order update
    // or a reconciliation adopted it.
    let all = lines(&log);
    let adopts = |l: &Value, coid: &str| {
        let found = l["kind"] == "resolved" && l["found"].is_object();
        let updated = l["kind"] == "order_update";
        (l["client_order_id"] == coid && (found || updated))
            || (l["kind"] == "reconcile"
                && l["discrepancies"].as_array().is_some_and(|ds| {
                    ds.iter()
                        .any(|x| x["field"] == "adopted_order" && x["client_order_id"] == coid)
                }))
    };
    for coid in &garbled {
        let at = all
            .iter()
            .position(|l| l["kind"] == "decision" && l["client_order_id"] == coid.as_str())
            .unwrap();
        let d = &all[at];
        if d["verdict"] == "sent" {
            assert!(d["venue"]["order_id"].as_str().is_some(), "{d}");
        } else {
            let error = d["venue"]["error"].as_str().unwrap_or("");
            assert!(error.contains("no clear answer"), "a plain failure: {d}");
            assert!(
                all[at..].iter().any(|l| adopts(l, coid)),
                "{coid} never adopted"
            );
        }
    }
    assert_reconciled(&actor, &ex, &tickers);
    assert!(
        ex.resting_orders().is_empty(),
        "nothing of ours left resting"
    );
    assert!(ex.contract_violations().is_empty());
}

/// No more than one order of ours resting in any market (checked after every decision).
fn assert_one_resting_per_market(ex: &Exchange) {
    let mut per_market: HashMap<String, usize> = HashMap::new();
    for (t, _, _) in ex.resting_orders() {
        *per_market.entry(t).or_default() += 1;
    }
    for (t, n) in per_market {
        assert!(n <= 1, "{t}: {n} of our orders resting at once");
    }
}

#[test]
fn a_submit_unresolved_while_listings_lag_is_not_forgotten_and_sent_again() {
    let dir = scratch("unresolved-lag");
    let (book, tickers, _) = script(2, 600, 17);
    let ex = exchange(book, |c| c.ws_interval = Duration::from_millis(4));
    // The first bookings are answered by a dropped connection, and listings lag 400 ms: the
    // venue's own look-ups (~150 ms) miss the order, so the submit is unresolved while the
    // exchange holds it. No `user_orders` channel to find it by: only look-ups and
    // reconciliations can. Forgetting it after two quick misses would send a second order
    // beside it in that market.
    ex.set_faults(Faults {
        order_drop_after_accept: 3,
        order_read_lag: Duration::from_millis(400),
        ..Faults::default()
    });
    let env = EnvConfig {
        pricing: kalsim_core::PricingMode::Passive,
        ..EnvConfig::default()
    };
    let mut cfg = actor_config(&env, &tickers, "unresolved-lag");
    cfg.reconcile_every = 1000;
    let log = dir.join("decisions.jsonl");
    let channels = Channels {
        user_orders: false,
        ..Channels::TRADING
    };
    let (report, actor) = run_actor_on(&ex, cfg, 8, &log, KillSwitch::new(None), channels, |_| {
        assert_one_resting_per_market(&ex)
    });
    assert_eq!(report.stop, StopReason::Idle, "{report:?}");
    assert_eq!(ex.faults().order_drop_after_accept, 0, "every fault fired");
    let all = lines(&log);
    let unclear = all
        .iter()
        .filter(|l| l["kind"] == "decision")
        .filter(|l| {
            l["venue"]["error"]
                .as_str()
                .is_some_and(|e| e.contains("no clear answer"))
        })
        .count();
    assert!(
        unclear > 0,
        "no submit was left without an answer: {report:?}"
    );
    // The exchange booked every one of them: each must be found once the listing catches
    // up, never given up as absent (which would free the market for a second order).
    let given_up: Vec<&Value> = all
        .iter()
        .filter(|l| l["kind"] == "resolved" && !l["found"].is_object())
        .collect();
    assert!(
        given_up.is_empty(),
        "a booked submit was given up: {given_up:?}"
    );
    assert!(
        all.iter()
            .any(|l| l["kind"] == "decision" && l["verdict"] == "unresolved"),
        "the market never waited for its unresolved submit"
    );
    let counts = ex.orders_per_client_order_id();
    assert!(
        counts.values().all(|&n| n == 1),
        "duplicate order: {counts:?}"
    );
    assert!(report.orders_sent > 10, "{report:?}");
    assert_reconciled(&actor, &ex, &tickers);
    assert!(ex.resting_orders().is_empty());
}

/// The actor over two scripted markets on an exchange whose account already holds a fill
/// history (`tune` sets it): it trades to the end, no reconciliation fails, and the mirror
/// agrees with the venue. Returns the report, the decision log's lines and the actor.
fn run_with_history(
    name: &str,
    tune: impl FnOnce(&mut ExchangeConfig),
) -> (ActorReport, Vec<Value>, Actor<KalshiVenue>) {
    let dir = scratch(name);
    let (book, tickers, _) = script(2, 120, 17);
    let ex = exchange(book, |c| {
        c.ws_interval = Duration::from_millis(4);
        tune(c);
    });
    let log = dir.join("decisions.jsonl");
    let (report, actor) = run_actor(
        &ex,
        actor_config(&EnvConfig::default(), &tickers, name),
        8,
        &log,
        KillSwitch::new(None),
        |_| {},
    );
    assert_eq!(report.stop, StopReason::Idle, "{report:?}");
    assert!(report.orders_sent > 10, "{report:?}");
    let all = lines(&log);
    assert!(
        !all.iter()
            .any(|l| l["kind"] == "reconcile" && l.get("error").is_some()),
        "a reconciliation failed"
    );
    assert_reconciled(&actor, &ex, &tickers);
    (report, all, actor)
}

#[test]
fn a_long_fill_history_is_not_listed_and_never_blocks_trading() {
    // 12 001 fills an hour old: more than the venue lists (50 pages of 200). The adopted
    // positions and balance hold them; the first listing reads only the recent past.
    let (report, all, actor) = run_with_history("history", |c| {
        c.history_fills = 12_001;
        c.history_age = Duration::from_secs(3600);
    });
    assert!(!all.iter().any(|l| l["kind"] == "fills_lost"));
    assert!(report.reconciliations > 1, "{report:?}");
    assert_eq!(actor.venue_position(HISTORY_TICKER), None, "not our market");
}

#[test]
fn fills_past_the_listing_cap_are_adopted_from_the_venue_not_blocking_trading() {
    // Pages of 20 make the venue's cap 1 000 fills; 1 001 of them a few seconds old are in
    // the first listing's look-back: it is cut short, so the venue's positions and balance
    // are adopted (logged) and trading goes on.
    let (_, all, _) = run_with_history("history-cap", |c| {
        c.max_page = 20;
        c.history_fills = 1_001;
        c.history_age = Duration::from_secs(5);
    });
    assert!(
        all.iter()
            .any(|l| l["kind"] == "fills_lost" && l["first"] == true),
        "the cut listing was not logged"
    );
}

#[test]
fn replay_into_the_kalshi_venue_matches_the_env_fill_for_fill() {
    let dir = scratch("parity");
    let (book, tickers, _) = script(1, 200, 11);
    let ticker = tickers[0].clone();
    let path = dir.join("capture.jsonl");
    let body: String = book.iter().map(|v| format!("{v}\n")).collect();
    std::fs::write(&path, body).unwrap();
    let mut env_cfg = EnvConfig::default();
    env_cfg.data.files = vec![path.display().to_string()];

    // The environment's replay: per decision the action, the observation hash, and the
    // position, cash and contracts filled after it.
    let (markets, _) = load_markets(&env_cfg).unwrap();
    let mut env = Env::new(env_cfg.clone(), markets).unwrap();
    let ctx = PolicyContext::from_config(&env_cfg);
    let mut baseline = policy_with_context("random", 5, ctx).unwrap();
    let mut obs = vec![0f32; OBS_DIM];
    env.reset(Some(3), &mut obs).unwrap();
    let mut expected = Vec::new();
    loop {
        let a = baseline.act(&obs, &env.action_mask());
        let hash = obs_hash(&obs);
        let r = env.step(a, &mut obs).unwrap();
        let i = r.info;
        expected.push((a, hash, i.position, i.cash_cents, i.filled_this_step));
        if r.terminated || r.truncated {
            break;
        }
    }
    let n = expected.len() as u64;
    assert_eq!(n, book.len() as u64 - 1);
    let filled_steps = expected.iter().filter(|e| e.4 > 0).count();
    assert!(
        filled_steps > 20,
        "the policy trades: {filled_steps} steps with fills"
    );

    // The same file through the exchange's WebSocket into the actor on the Kalshi venue;
    // the exchange streams the next message only once the actor decided on the last one.
    let ex = exchange(book, |c| {
        c.ws_lockstep = true;
        c.ws_interval = Duration::ZERO;
    });
    ex.release(1);
    let mut acfg = actor_config(&env_cfg, &tickers, "parity");
    acfg.seed = 3;
    acfg.clock = Clock::Frozen;
    acfg.horizon_steps = n as u32;
    acfg.max_decisions = Some(n);
    acfg.idle_exit = Some(Duration::from_secs(20));
    let log = dir.join("decisions.jsonl");
    let mut got = Vec::new();
    let (report, actor) = run_actor(&ex, acfg, 5, &log, KillSwitch::new(None), |r| {
        let fills: u32 = ex
            .fill_records()
            .iter()
            .filter(|f| r.client_order_id.as_deref() == Some(f.1.as_str()))
            .map(|f| f.3)
            .sum();
        let position = ex.positions().get(&ticker).copied().unwrap_or(0);
        got.push((r.action, r.obs_hash, position, ex.balance().0, fills));
        ex.release(1);
    });
    assert_eq!(report.stop, StopReason::MaxDecisions, "{report:?}");
    assert_eq!(
        (report.venue_errors, report.book_errors),
        (0, 0),
        "{report:?}"
    );
    for (k, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(
            g, e,
            "decision {k}: (action, obs hash, position, cash, filled) live vs replay"
        );
    }
    assert_eq!(got.len(), expected.len());
    // Fill for fill: every exchange fill is one of our orders, and the actor applied each.
    let fills = ex.fill_records();
    assert!(
        fills
            .iter()
            .all(|f| f.0 == ticker && f.1.starts_with("kalsim-"))
    );
    assert_eq!(report.fills_applied as usize, fills.len(), "{report:?}");
    assert_reconciled(&actor, &ex, &tickers);
    assert!(
        ex.contract_violations().is_empty(),
        "{:?}",
        ex.contract_violations()
    );
}
