//! Sweep pricing (SPEC §3, the default): a marketable limit with a worst price that walks
//! the book level by level, fees summed over the levels of one order (SPEC §4), the
//! remainder cancelled or rested; and the mid mark that ignores the agent's own impact
//! (SPEC §5).

mod common;

use common::*;
use kalsim_core::action::encode;
use kalsim_core::{
    Bps, Cents, EngineConfig, Intent, LimitViolation, Limits, MarkMode, PricingMode, Side,
    SweepRemainder, Tier,
};

fn act(intent: Intent, tier: Tier) -> u32 {
    encode(intent, tier) as u32
}

fn fee(weight: i64) -> i64 {
    (7 * weight + 9_999) / 10_000
}

/// YES bids 40×1000; NO bids 55×30, 54×30, 53×30, 52×1000 → YES asks 45, 46, 47, 48.
fn ladder(config: EngineConfig) -> kalsim_core::Engine {
    engine_with(
        config,
        &[(40, 1_000)],
        &[(55, 30), (54, 30), (53, 30), (52, 1_000)],
    )
}

#[test]
fn a_giant_sweep_walks_three_levels_and_cancels_the_rest() {
    let mut e = ladder(EngineConfig::default());
    let out = e.step_action(act(Intent::BuyYes, Tier::Giant)).unwrap();
    let echo = out.placed.unwrap();
    // Limit 45 + 2 = 47: takes 30 @ 45, 30 @ 46, 30 @ 47; the 10 left are cancelled.
    assert_eq!(echo.limit, p(47));
    assert_eq!(out.filled, 90);
    assert_eq!(echo.notional_cents, 30 * 45 + 30 * 46 + 30 * 47);
    let weight = 30 * (45 * 55 + 46 * 54 + 47 * 53);
    assert_eq!(out.fee_cents, fee(weight));
    assert!(e.working_order().is_none(), "immediate-or-cancel");
    assert_eq!(e.account().position(), 90);
    assert_eq!(
        cash(&e),
        100_000 - echo.notional_cents - fee(weight),
        "each level at its own price, one fee for the order"
    );
    assert_eq!(e.account().ledger_discrepancy(), 0);
    // Size costs: a Small order paid only the top price.
    let mut e = ladder(EngineConfig::default());
    let out = e.step_action(act(Intent::BuyYes, Tier::Small)).unwrap();
    assert_eq!(out.placed.unwrap().notional_cents, 5 * 45);
}

#[test]
fn sweep_remainder_rest_leaves_the_order_at_its_worst_price() {
    let mut e = ladder(EngineConfig {
        sweep_remainder: SweepRemainder::Rest,
        ..EngineConfig::default()
    });
    let out = e.step_action(act(Intent::BuyYes, Tier::Giant)).unwrap();
    assert_eq!(out.filled, 90);
    let w = *e.working_order().unwrap();
    assert_eq!((w.remaining, w.plan.buy_limit), (10, p(47)));
    // New NO depth at 53 (YES 47) crosses it as maker.
    let ev = e.apply_delta(Side::No, p(53), 2_000).unwrap();
    assert_eq!(ev.filled, 10);
    assert_eq!(e.account().position(), 100);
}

#[test]
fn zero_slippage_sweep_takes_the_top_level_only() {
    let mut e = ladder(EngineConfig {
        max_slippage_cents: 0,
        ..EngineConfig::default()
    });
    let out = e.step_action(act(Intent::BuyYes, Tier::Giant)).unwrap();
    assert_eq!(out.filled, 30);
    assert!(e.working_order().is_none());
}

#[test]
fn sells_sweep_down_the_bids() {
    let mut e = engine_with(
        EngineConfig::default(),
        &[(40, 20), (39, 20), (38, 20), (37, 1_000)],
        &[(55, 1_000)],
    );
    e.step_action(act(Intent::BuyYes, Tier::Giant)).unwrap();
    assert_eq!(e.account().position(), 100);
    let out = e.step_action(act(Intent::SellYes, Tier::Giant)).unwrap();
    // Limit 40 − 2 = 38: 20 @ 40, 20 @ 39, 20 @ 38; 40 cancelled.
    assert_eq!(out.placed.unwrap().limit, p(38));
    assert_eq!(out.filled, 60);
    assert_eq!(out.placed.unwrap().notional_cents, 20 * (40 + 39 + 38));
    assert_eq!(e.account().position(), 40);
}

#[test]
fn limits_check_the_worst_price_and_worst_fee() {
    // Position value at the sweep's worst price: 100 × 47 = 4 700¢ > 4 600¢.
    let tight = EngineConfig {
        limits: Limits {
            max_position_value: Cents(4_600),
            max_portfolio_fraction: Bps(10_000),
            ..Limits::PLAN
        },
        ..EngineConfig::default()
    };
    let e = ladder(tight);
    assert_eq!(
        e.plan_order(Intent::BuyYes, Tier::Giant),
        Err(LimitViolation::PositionValue)
    );
    let mask = e.action_mask();
    assert!(mask[act(Intent::BuyYes, Tier::Huge) as usize]);
    assert!(!mask[act(Intent::BuyYes, Tier::Giant) as usize]);
    // The same limit passes at the aggressive price (45 × 100 = 4 500¢).
    let e = ladder(EngineConfig {
        pricing: PricingMode::Aggressive,
        ..tight
    });
    assert!(e.plan_order(Intent::BuyYes, Tier::Giant).is_ok());
}

#[test]
fn mid_mark_ignores_own_consumed_depth() {
    // The audit's reproduction (SPEC §5): mark = mid, YES bids 48×100, NO bids 50×10 and
    // 40×100; BUY_YES Medium eats the thin NO 50. Before the fix the YES mid went 49 → 54
    // and PV 100 000 → 100 022¢.
    for pricing in PricingMode::ALL {
        if pricing == PricingMode::Passive || pricing == PricingMode::Mid {
            continue;
        }
        let config = EngineConfig {
            mark: MarkMode::Mid,
            pricing,
            ..EngineConfig::default()
        };
        let mut e = engine_with(config, &[(48, 100)], &[(50, 10), (40, 100)]);
        let pv0 = e.portfolio_value().0;
        assert_eq!(pv0, 100_000);
        let out = e.step_action(act(Intent::BuyYes, Tier::Medium)).unwrap();
        assert_eq!(out.filled, 10);
        assert_eq!(
            e.book().best_ask(Side::Yes),
            Some(p(60)),
            "tradable ask moved"
        );
        // The YES mid stays (48 + 50) / 2 = 49: PV = cash + 10 × 49.
        let pv = e.portfolio_value().0;
        assert_eq!(pv, 100_000 - 500 - out.fee_cents + 490, "{pricing:?}");
        assert!(pv < pv0);
    }
}
