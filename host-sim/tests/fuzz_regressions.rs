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
