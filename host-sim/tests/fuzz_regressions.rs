//! Inputs the fuzzers (`fuzz/`) and the extreme-value properties found, kept as ordinary
//! tests with the input inline. Each names what was wrong and where it was fixed.

use kalsim_core::{
    Bps, CentiContracts, Cents, Engine, EngineConfig, FeeSchedule, Limits, Price, PricingMode, Side,
};
use kalsim_host_sim::env::EnvConfig;

fn p(c: u8) -> Price {
    Price::new(c).unwrap()
}

fn assert_invariants(engine: &Engine) {
    let a = engine.account();
    assert!(a.cash().0 >= 0, "cash went negative: {a:?}");
    assert_eq!(a.ledger_discrepancy(), 0, "{a:?}");
}

/// Found while writing `core_step`'s fee space (by analysis of its invariant "cash ≥ 0";
/// the 60 s development runs had not hit it yet), reproduced here: the cash-buffer rule
/// (SPEC §6 rule 4) budgeted only the worst-case *taker* fee, but a resting order pays the
/// *maker* fee when it fills. With a maker rate above the taker rate (any rate up to 10 000 is
/// valid configuration) and `min_cash_buffer = 0`, a passive order that spends all the cash
/// drove cash negative when it filled.
/// Fixed in `kalsim_core::limits::Limits::check` (worst-case fee includes maker fees).
#[test]
fn resting_fill_with_maker_fee_above_taker_never_makes_cash_negative() {
    let config = EngineConfig {
        pricing: PricingMode::Passive,
        fees: FeeSchedule {
            taker_rate_e4: 0,
            maker_rate_e4: 10_000,
            maker_fees: true,
        },
        limits: Limits {
            max_position_per_market: 500,
            max_position_value: Cents(1_000_000),
            max_portfolio_fraction: Bps(10_000),
            min_cash_buffer: Cents(0),
        },
        initial_cash: Cents(500),
        ..EngineConfig::default()
    };
    // The same configuration is accepted by the environment's config parser.
    let cfg = EnvConfig::from_json(
        r#"{"pricing":"passive","initial_cash_cents":500,
            "fees":{"taker_rate_e4":0,"maker_rate_e4":10000,"maker_fees":true},
            "limits":{"min_cash_buffer_cents":0,"max_portfolio_fraction_bps":10000,
                      "max_position_value_cents":1000000}}"#,
    )
    .unwrap();
    assert_eq!(cfg.engine_config().unwrap(), config);

    let mut engine = Engine::new(config, 0);
    // YES bid 50¢ × 10, NO bid 40¢ × 10 (YES ask 60¢).
    engine
        .apply_snapshot(
            &[(p(50), CentiContracts(1_000))],
            &[(p(40), CentiContracts(1_000))],
        )
        .unwrap();
    // BUY_YES Medium (10): passive, joins the 50¢ bid; cost 500¢ = all the cash.
    let out = engine.step_action(2).unwrap();
    assert_invariants(&engine);
    if out.placed.is_none() {
        return; // Refused by the limits: nothing can go wrong.
    }
    // The queue ahead leaves, then NO bids arrive at 50¢: the order fills as maker.
    engine.apply_delta(Side::Yes, p(50), -1_000).unwrap();
    assert_invariants(&engine);
    engine.apply_delta(Side::No, p(50), 1_000).unwrap();
    assert_invariants(&engine);
}

/// Same rule, Kalshi's own rates on a maker-fee market: each resting fill rounds its maker fee
/// up to a whole cent, so 100 one-contract fills at 1¢ pay 100¢ of maker fees, while the
/// cash-buffer rule budgeted only the 7¢ taker fee of one 100-contract order.
#[test]
fn one_contract_maker_fills_at_one_cent_never_make_cash_negative() {
    let config = EngineConfig {
        pricing: PricingMode::Passive,
        fees: FeeSchedule {
            maker_fees: true,
            ..FeeSchedule::KALSHI
        },
        limits: Limits {
            max_position_per_market: 500,
            max_position_value: Cents(1_000_000),
            max_portfolio_fraction: Bps(10_000),
            min_cash_buffer: Cents(0),
        },
        initial_cash: Cents(107),
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(config, 0);
    // YES bid 1¢ × 1, NO bid 90¢ (YES ask 10¢).
    engine
        .apply_snapshot(
            &[(p(1), CentiContracts(100))],
            &[(p(90), CentiContracts(100))],
        )
        .unwrap();
    // BUY_YES Giant (100) at 1¢: 100¢ + 7¢ worst-case taker fee = 107¢.
    let out = engine.step_action(5).unwrap();
    assert_invariants(&engine);
    if out.placed.is_none() {
        return;
    }
    engine.apply_delta(Side::Yes, p(1), -100).unwrap();
    // One contract at a time trades through the queue: 100 maker fills of 1 contract.
    for _ in 0..100 {
        engine.apply_delta(Side::Yes, p(1), 100).unwrap();
        engine.apply_delta(Side::Yes, p(1), -100).unwrap();
        assert_invariants(&engine);
    }
}

/// Found while checking the "reduces exposure" branch of the cash-buffer rule against the
/// `core_step` invariant cash ≥ 0: an order that flips the position (hold 60 YES, BUY_NO 100
/// → 40 NO) has |position after| ≤ |position now|, so `Limits::check` treated it as
/// reduce-only and skipped rules 2–4 — but it *opens* 40 NO contracts at 99¢, which cash
/// could not pay. Default tiers and aggressive pricing; only `min_cash_buffer = 0` and a small
/// initial cash are needed. `core_step` finds it on the pre-fix code too (input kept as
/// `fuzz/corpus/core_step/regression-flip-cash-negative`). Fixed in `kalsim_core::limits::Limits::check` (an order that
/// crosses zero is checked like any exposure-increasing order).
#[test]
fn flipping_the_position_is_not_a_reduction_and_never_makes_cash_negative() {
    let config = EngineConfig {
        limits: Limits {
            max_position_per_market: 500,
            max_position_value: Cents(1_000_000),
            max_portfolio_fraction: Bps(10_000),
            min_cash_buffer: Cents(0),
        },
        initial_cash: Cents(200),
        pricing: kalsim_core::PricingMode::Aggressive,
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(config, 0);
    // YES bid 1¢, NO bid 98¢: YES ask 2¢, NO ask 99¢.
    engine
        .apply_snapshot(
            &[(p(1), CentiContracts(100_000))],
            &[(p(98), CentiContracts(100_000))],
        )
        .unwrap();
    // BUY_YES Huge (50) + BUY_YES Medium (10) at 2¢: hold 60 YES.
    assert!(engine.step_action(4).unwrap().invalid.is_none());
    assert!(engine.step_action(2).unwrap().invalid.is_none());
    assert_eq!(engine.account().position(), 60);
    assert_invariants(&engine);
    // BUY_NO Giant (100) at the NO ask 99¢: closes 60 YES (+1¢ each), opens 40 NO (−99¢ each).
    let out = engine.step_action(15).unwrap();
    assert_invariants(&engine);
    if out.invalid.is_none() {
        assert_eq!(engine.account().position(), -40);
    }
    // The mask agrees with what the step did.
    assert_invariants(&engine);
}

/// An accepted configuration must give finite rewards: `reward_scale` was only checked for
/// being finite, so `1e308` (valid JSON, accepted) turned any ΔPV of 2¢ or more into an
/// infinite reward.
#[test]
fn accepted_reward_scale_gives_finite_rewards() {
    use kalsim_core::OBS_DIM;
    use kalsim_host_sim::data::LoadOptions;
    use kalsim_host_sim::env::{Env, synthetic_dataset};
    let Ok(cfg) = EnvConfig::from_json(r#"{"reward_scale": 1e308}"#) else {
        return; // Refused at parse time: fine.
    };
    let ds = synthetic_dataset(1, 200, 3, &LoadOptions::default()).unwrap();
    let mut env = Env::new(cfg, std::sync::Arc::new(ds.markets)).unwrap();
    let mut obs = vec![0f32; OBS_DIM];
    env.reset(Some(1), &mut obs).unwrap();
    for step in 0..200 {
        // BUY_YES Giant: pays the spread and the fee, so ΔPV ≠ 0.
        let a = if env.action_mask()[5] { 5 } else { 0 };
        let r = env.step(a, &mut obs).unwrap();
        assert!(r.reward.is_finite(), "step {step}: reward {}", r.reward);
        if r.terminated || r.truncated {
            break;
        }
    }
}

/// Found by `c_abi` (`kalsim_env_action_mask` right after `kalsim_env_new`): before the first
/// reset the cached mask was all `false`, HOLD included, against SPEC §6 ("HOLD always true")
/// and `Env::action_mask`'s own doc. Fixed in `Env::new` (the mask starts as the fresh engine's:
/// HOLD only).
#[test]
fn mask_before_the_first_reset_allows_hold_only() {
    use kalsim_host_sim::data::LoadOptions;
    use kalsim_host_sim::env::{Env, synthetic_dataset};
    let ds = synthetic_dataset(1, 20, 1, &LoadOptions::default()).unwrap();
    let env = Env::new(EnvConfig::default(), std::sync::Arc::new(ds.markets)).unwrap();
    let mask = env.action_mask();
    assert!(mask[0], "HOLD masked before reset");
    assert!(mask[1..].iter().all(|&m| !m));
    let mut bytes = [9u8; 25];
    env.action_mask_into(&mut bytes);
    assert_eq!(bytes[0], 1);
}
