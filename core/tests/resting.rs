//! Resting orders, the FIFO queue model, crossing fills and the consumed-liquidity overlay
//! (SPEC §3 "good-till-cancelled", §4 "Own impact", "Resting").

mod common;

use common::*;
use kalsim_core::action::encode;
use kalsim_core::{
    CentiContracts, Cents, EngineConfig, FeeSchedule, Intent, PricingMode, QueueModelKind, Side,
    Tier,
};

fn aggressive() -> EngineConfig {
    EngineConfig {
        pricing: PricingMode::Aggressive,
        ..EngineConfig::default()
    }
}

fn passive() -> EngineConfig {
    EngineConfig {
        pricing: PricingMode::Passive,
        ..EngineConfig::default()
    }
}

#[test]
fn passive_order_rests_with_queue_ahead_equal_to_displayed_depth() {
    let mut e = engine_with(passive(), &[(40, 1_000), (39, 50)], &[(55, 1_000)]);
    e.apply_delta(Side::Yes, p(40), 37).unwrap(); // fractional depth: 1 000.37 contracts
    let out = e
        .step_action(encode(Intent::BuyYes, Tier::Medium) as u32)
        .unwrap();
    assert_eq!((out.filled, out.fee_cents), (0, 0));
    let placed = out.placed.unwrap();
    assert_eq!((placed.size, placed.filled, placed.limit), (10, 0, p(40)));
    let w = *e.working_order().unwrap();
    assert_eq!(w.remaining, 10);
    assert_eq!(w.queue_ahead_centi, 100_037);
    assert_eq!((w.plan.buys, w.plan.buy_limit), (Side::Yes, p(40)));
    // A passive SELL_NO joins the NO ask 60, i.e. buys YES at 40 too; passive BUY_NO joins the
    // NO bid 55 behind its 1 000 contracts.
    e.step_action(encode(Intent::BuyNo, Tier::Small) as u32)
        .unwrap();
    let w = *e.working_order().unwrap();
    assert_eq!((w.plan.buys, w.plan.buy_limit), (Side::No, p(55)));
    assert_eq!(w.queue_ahead_centi, 100_000);
    assert_eq!(cash(&e), 100_000);
}

#[test]
fn fifo_fills_only_after_decreases_exhaust_the_queue() {
    let mut e = engine_with(passive(), &[(40, 100), (39, 50)], &[(55, 100)]);
    e.step_action(encode(Intent::BuyYes, Tier::Medium) as u32)
        .unwrap();
    assert_eq!(e.working_order().unwrap().queue_ahead_centi, 10_000);
    // Decreases elsewhere do nothing to the queue.
    assert_eq!(e.apply_delta(Side::Yes, p(39), -5_000).unwrap().filled, 0);
    assert_eq!(e.apply_delta(Side::No, p(55), -1_000).unwrap().filled, 0);
    assert_eq!(e.working_order().unwrap().queue_ahead_centi, 10_000);
    // 60 of the 100 ahead trade away.
    assert_eq!(e.apply_delta(Side::Yes, p(40), -6_000).unwrap().filled, 0);
    assert_eq!(e.working_order().unwrap().queue_ahead_centi, 4_000);
    // Others joining behind us do not push us back.
    e.apply_delta(Side::Yes, p(40), 20_000).unwrap();
    assert_eq!(e.working_order().unwrap().queue_ahead_centi, 4_000);
    // 43.5 more: 40 clear the queue, 3.5 reach us → 3 whole contracts fill, 0.5 carried.
    let ev = e.apply_delta(Side::Yes, p(40), -4_350).unwrap();
    assert_eq!((ev.filled, ev.fee_cents), (3, 0));
    let w = *e.working_order().unwrap();
    assert_eq!(
        (w.remaining, w.queue_ahead_centi, w.carry_centi),
        (7, 0, 50)
    );
    assert_eq!(e.account().position(), 3);
    assert_eq!(cash(&e), 100_000 - 3 * 40);
    // Another 0.5 completes a contract with the carry; then 100 fill the rest and no more.
    assert_eq!(e.apply_delta(Side::Yes, p(40), -50).unwrap().filled, 1);
    assert_eq!(e.apply_delta(Side::Yes, p(40), -10_000).unwrap().filled, 6);
    assert!(e.working_order().is_none());
    assert_eq!(e.account().position(), 10);
    assert_eq!(cash(&e), 100_000 - 10 * 40);
    let echo = e.last_order().unwrap();
    assert_eq!((echo.filled, echo.notional_cents), (10, 400));
    assert_eq!(e.account().ledger_discrepancy(), 0);
}

#[test]
fn hold_keeps_and_trade_cancels_the_working_order() {
    let mut e = engine_with(passive(), &[(40, 100)], &[(55, 100)]);
    e.step_action(encode(Intent::BuyYes, Tier::Large) as u32)
        .unwrap();
    let w = *e.working_order().unwrap();
    let out = e.step_action(0).unwrap();
    assert_eq!(out.cancelled, 0);
    assert_eq!(e.working_order(), Some(&w));
    let out = e
        .step_action(encode(Intent::BuyNo, Tier::Small) as u32)
        .unwrap();
    assert_eq!(out.cancelled, 20);
    assert_eq!(e.working_order().unwrap().remaining, 5);
    assert_eq!(e.cancel_working(), 5);
    assert!(e.working_order().is_none());
}

#[test]
fn crossing_fills_as_maker_at_the_limit() {
    // Mid pricing: YES bid 40, ask 45 → BUY_YES at 42, resting where nothing is displayed.
    let config = EngineConfig {
        pricing: PricingMode::Mid,
        fees: FeeSchedule {
            maker_fees: true,
            ..FeeSchedule::KALSHI
        },
        ..EngineConfig::default()
    };
    let mut e = engine_with(config, &[(40, 100)], &[(55, 100), (50, 100)]);
    let out = e
        .step_action(encode(Intent::BuyYes, Tier::Medium) as u32)
        .unwrap();
    assert_eq!(out.filled, 0);
    assert_eq!(e.working_order().unwrap().queue_ahead_centi, 0);
    // A NO bid at 59 (YES ask 41 < our 42) crosses: 4 contracts there, more at 58.
    let ev = e.apply_delta(Side::No, p(59), 400).unwrap();
    // Maker fee at our limit 42: ceil(175·4·42·58/1 000 000) = ceil(1.7052) = 2.
    assert_eq!((ev.filled, ev.fee_cents), (4, 2));
    assert_eq!(cash(&e), 100_000 - 4 * 42 - 2);
    assert_eq!(e.book().consumed(Side::No, p(59)), CentiContracts(400));
    assert_eq!(e.book().best_bid(Side::No), Some(p(55)));
    // 58 also crosses (100 − 58 = 42 ≤ our 42): both remaining levels fill at 42, not 41/42.
    let ev = e.apply_delta(Side::No, p(58), 10_000).unwrap();
    assert_eq!(ev.filled, 6);
    assert!(e.working_order().is_none());
    assert_eq!(e.account().position(), 10);
    assert_eq!(e.account().cost_basis(), Cents(420));
    let echo = e.last_order().unwrap();
    assert_eq!((echo.filled, echo.notional_cents), (10, 420));
    assert_eq!(e.account().ledger_discrepancy(), 0);
}

#[test]
fn overlay_prevents_taking_the_same_depth_twice() {
    // Only 5 NO contracts at 55 (YES ask 45); the next NO bid is 50 (YES ask 50).
    let mut e = engine_with(aggressive(), &[(40, 1_000)], &[(55, 5), (50, 1_000)]);
    let out = e
        .step_action(encode(Intent::BuyYes, Tier::Giant) as u32)
        .unwrap();
    assert_eq!(out.filled, 5);
    let w = *e.working_order().unwrap();
    assert_eq!((w.remaining, w.plan.buy_limit), (95, p(45)));
    assert_eq!(e.book().consumed(Side::No, p(55)), CentiContracts(500));
    assert_eq!(
        e.book().effective_depth(Side::No, p(55)),
        CentiContracts::ZERO
    );
    // Displayed depth is untouched; the tradable best ask moved to 50.
    assert_eq!(e.book().depth(Side::No, p(55)), CentiContracts(500));
    assert_eq!(e.book().best_ask(Side::Yes), Some(p(50)));
    // Events that do not change the 55 level must not refill the resting order from it.
    assert_eq!(e.apply_delta(Side::Yes, p(39), 100).unwrap().filled, 0);
    assert_eq!(e.apply_delta(Side::No, p(50), 100).unwrap().filled, 0);
    assert_eq!(e.account().position(), 5);
    // A new aggressive buy pays the next level, 50.
    let out = e
        .step_action(encode(Intent::BuyYes, Tier::Small) as u32)
        .unwrap();
    assert_eq!(out.cancelled, 95);
    assert_eq!((out.filled, out.placed.unwrap().limit), (5, p(50)));
    assert_eq!(out.placed.unwrap().notional_cents, 250);
    // Data raising the level above the overlay exposes only the new depth.
    e.apply_delta(Side::No, p(55), 300).unwrap();
    assert_eq!(
        e.book().effective_depth(Side::No, p(55)),
        CentiContracts(300)
    );
    assert_eq!(e.book().best_ask(Side::Yes), Some(p(45)));
    // Data lowering the level below the overlay leaves nothing to take there (SPEC §4:
    // overlay = min(overlay, displayed)); it never becomes fresh liquidity.
    e.apply_delta(Side::No, p(55), -600).unwrap();
    assert_eq!(e.book().consumed(Side::No, p(55)), CentiContracts(200));
    assert_eq!(
        e.book().effective_depth(Side::No, p(55)),
        CentiContracts::ZERO
    );
}

#[test]
fn overlay_at_equality_is_not_fresh_liquidity() {
    // The audit's reproduction (SPEC §4): YES 40×1000, NO 50×40; BUY_YES Large then Medium
    // takes 30 at NO 50; a delta of −10 there shows 30 = the overlay: nothing is left to
    // take, so the next BUY_YES Large fills nothing more at 50 (before the fix: 20 more,
    // 50 from a level that never showed more than 40).
    let mut e = engine_with(aggressive(), &[(40, 1_000)], &[(50, 40)]);
    let out = e
        .step_action(encode(Intent::BuyYes, Tier::Large) as u32)
        .unwrap();
    assert_eq!(out.filled, 20);
    e.cancel_working();
    let out = e
        .step_action(encode(Intent::BuyYes, Tier::Medium) as u32)
        .unwrap();
    assert_eq!(out.filled, 10);
    e.cancel_working();
    e.apply_delta(Side::No, p(50), -1_000).unwrap();
    assert_eq!(e.book().depth(Side::No, p(50)), c(30));
    assert_eq!(
        e.book().effective_depth(Side::No, p(50)),
        CentiContracts::ZERO
    );
    assert_eq!(e.book().best_ask(Side::Yes), None);
    assert_eq!(e.account().position(), 30);
    // An increase is new liquidity, and only the increase.
    e.apply_delta(Side::No, p(50), 500).unwrap();
    let out = e
        .step_action(encode(Intent::BuyYes, Tier::Large) as u32)
        .unwrap();
    assert_eq!(out.filled, 5);
    assert_eq!(e.account().position(), 35);
}

#[test]
fn snapshot_keeps_the_overlay_and_only_new_depth_crosses() {
    let mut e = engine_with(aggressive(), &[(40, 1_000)], &[(55, 5), (50, 1_000)]);
    e.step_action(encode(Intent::BuyYes, Tier::Giant) as u32)
        .unwrap();
    assert_eq!(e.account().position(), 5);
    // The same book arrives as a new snapshot (a resubscription): the 5 at 55 are the same
    // history, not fresh liquidity, so nothing crosses our resting 45.
    let ev = e
        .apply_snapshot(&[(p(40), c(1_000))], &[(p(55), c(5)), (p(50), c(1_000))])
        .unwrap();
    assert_eq!(ev.filled, 0);
    assert_eq!(e.book().consumed(Side::No, p(55)), c(5));
    // A snapshot showing 8 at 55 has 3 new contracts there: they cross as maker at 45.
    let ev = e
        .apply_snapshot(&[(p(40), c(1_000))], &[(p(55), c(8)), (p(50), c(1_000))])
        .unwrap();
    assert_eq!((ev.filled, ev.fee_cents), (3, 0));
    assert_eq!(e.account().position(), 8);
    assert_eq!(e.working_order().unwrap().remaining, 92);
    assert_eq!(cash(&e), 100_000 - 8 * 45 - out_fee(5, 45));
    // A snapshot without the level empties the overlay there.
    e.apply_snapshot(&[(p(40), c(1_000))], &[(p(50), c(1_000))])
        .unwrap();
    assert_eq!(e.book().consumed(Side::No, p(55)), CentiContracts::ZERO);
    assert_eq!(e.book().consumed(Side::No, p(50)), CentiContracts::ZERO);
}

fn out_fee(n: i64, price: i64) -> i64 {
    (7 * n * price * (100 - price) + 9_999) / 10_000
}

#[test]
fn snapshot_caps_the_queue_at_the_new_depth() {
    let mut e = engine_with(passive(), &[(40, 100)], &[(55, 100)]);
    e.step_action(encode(Intent::BuyYes, Tier::Small) as u32)
        .unwrap();
    e.apply_snapshot(&[(p(40), c(30))], &[(p(55), c(100))])
        .unwrap();
    assert_eq!(e.working_order().unwrap().queue_ahead_centi, 3_000);
    e.apply_delta(Side::Yes, p(40), 1_000).unwrap();
    assert_eq!(e.apply_delta(Side::Yes, p(40), -3_200).unwrap().filled, 2);
}

/// A snapshot that lowers the working order's level past the queue ahead fills it as the
/// same decrease arriving as a delta does (SPEC §4: decreases at its level exhaust the queue).
#[test]
fn a_snapshot_decrease_at_the_level_runs_the_queue_model_like_a_delta() {
    let start = |e: &mut kalsim_core::Engine| {
        e.step_action(encode(Intent::BuyYes, Tier::Medium) as u32)
            .unwrap();
        e.apply_delta(Side::Yes, p(40), 1_000).unwrap(); // 10 join behind us: 5 ahead, 15 shown
        assert_eq!(e.working_order().unwrap().queue_ahead_centi, 500);
    };
    let mut by_delta = engine_with(passive(), &[(40, 5)], &[(55, 100)]);
    start(&mut by_delta);
    let d = by_delta.apply_delta(Side::Yes, p(40), -1_300).unwrap();
    let mut by_snapshot = engine_with(passive(), &[(40, 5)], &[(55, 100)]);
    start(&mut by_snapshot);
    let s = by_snapshot
        .apply_snapshot(&[(p(40), c(2))], &[(p(55), c(100))])
        .unwrap();
    assert_eq!((s.filled, s.fee_cents), (d.filled, d.fee_cents));
    assert_eq!(s.filled, 8);
    assert_eq!(by_snapshot.working_order(), by_delta.working_order());
    assert_eq!(by_snapshot.account(), by_delta.account());
    // An increase in a snapshot is liquidity behind the order: nothing fills.
    let mut more = engine_with(passive(), &[(40, 5)], &[(55, 100)]);
    start(&mut more);
    let s = more
        .apply_snapshot(&[(p(40), c(30))], &[(p(55), c(100))])
        .unwrap();
    assert_eq!(s.filled, 0);
    assert_eq!(more.working_order().unwrap().queue_ahead_centi, 500);
}

#[test]
fn probabilistic_queue_model_is_seeded() {
    let run = |seed: u64| {
        let config = EngineConfig {
            pricing: PricingMode::Passive,
            queue: QueueModelKind::Probabilistic {
                trade_prob_bps: 5_000,
            },
            ..EngineConfig::default()
        };
        let mut e = kalsim_core::Engine::new(config, seed);
        snapshot(&mut e, &[(40, 1_000)], &[(55, 100)]);
        e.step_action(encode(Intent::BuyYes, Tier::Giant) as u32)
            .unwrap();
        let mut fills = Vec::new();
        for _ in 0..40 {
            fills.push(e.apply_delta(Side::Yes, p(40), -2_000).unwrap().filled);
            e.apply_delta(Side::Yes, p(40), 1_000).unwrap();
        }
        (fills, e.working_order().map(|w| w.queue_ahead_centi))
    };
    assert_eq!(run(11), run(11));
    let (fills, _) = run(11);
    assert!(fills.iter().sum::<u32>() <= 100);
}
