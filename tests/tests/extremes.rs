//! Properties at the extremes reachable from valid configuration (run in debug, so overflow
//! checks are on): the largest size tiers (100 and the configurable maximum, 1 000 000
//! contracts) at 1¢ and 99¢, depth in the tens of millions of contracts up to the largest
//! representable level, maximum initial cash (1e12¢), the widest limits and fee rates, and
//! long episodes. No overflow, no panic; cash ≥ 0, |position| ≤ limit, the ledger reconciles.

use std::sync::Arc;

use kalsim_core::{
    ACTION_COUNT, Bps, CentiContracts, Cents, Engine, EngineConfig, FeeSchedule, Limits, MarkMode,
    OBS_DIM, OBS_FEATURES, ObsState, Price, PricingMode, QueueModelKind, SellMode, Side, SizeTable,
};
use kalsim_host_sim::data::LoadOptions;
use kalsim_host_sim::env::{Env, EnvConfig, synthetic_dataset};
use proptest::prelude::*;

const MAX_CASH: i64 = 1_000_000_000_000;
const MAX_SIZE: u32 = 1_000_000;
const MAX_POSITION: u32 = 100_000_000;

fn p(c: u8) -> Price {
    Price::new(c).unwrap()
}

fn check(engine: &Engine, what: &str) {
    let a = engine.account();
    assert!(a.cash().0 >= 0, "{what}: cash {a:?}");
    assert!(
        a.position().unsigned_abs() <= u64::from(engine.config().limits.max_position_per_market),
        "{what}: position {a:?}"
    );
    assert_eq!(a.ledger_discrepancy(), 0, "{what}: ledger {a:?}");
    let pv = engine.portfolio_value();
    assert!(pv.0 >= a.cash().0);
    let _ = engine.unrealized_pnl();
    let _ = engine.action_mask();
}

fn check_obs(obs: &[f32]) {
    for (&x, f) in obs.iter().zip(OBS_FEATURES.iter()) {
        assert!(
            x.is_finite() && x >= f.min && x <= f.max,
            "{} = {x}",
            f.name
        );
    }
}

fn size_table() -> impl Strategy<Value = SizeTable> {
    prop_oneof![
        Just(SizeTable::DEFAULT),
        Just(SizeTable::new([1, 2, 3, 100, MAX_SIZE]).unwrap()),
        Just(
            SizeTable::new([
                MAX_SIZE - 4,
                MAX_SIZE - 3,
                MAX_SIZE - 2,
                MAX_SIZE - 1,
                MAX_SIZE
            ])
            .unwrap()
        ),
        Just(
            SizeTable::DEFAULT
                .with_fixed(kalsim_core::Contracts(MAX_SIZE))
                .unwrap()
        ),
    ]
}

fn engine_config() -> impl Strategy<Value = EngineConfig> {
    (
        size_table(),
        prop_oneof![Just(500u32), Just(MAX_POSITION), 0..=MAX_POSITION],
        prop_oneof![Just(i64::MAX), Just(50_000i64), 0..=i64::MAX],
        prop_oneof![Just(10_000u32), Just(2_500u32), 0..=10_000u32],
        prop_oneof![Just(0i64), Just(5_000i64), 0..=MAX_CASH],
        prop_oneof![Just(MAX_CASH), Just(100_000i64), 1..=MAX_CASH],
        (0..=10_000u32, 0..=10_000u32, any::<bool>()),
        (
            0..4u8,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            0..=10_000u32,
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                sizes,
                pos,
                value,
                frac,
                buffer,
                cash,
                (taker, maker, maker_on),
                (pricing, sto, mid, strict, tp, prob),
            )| {
                EngineConfig {
                    sizes,
                    limits: Limits {
                        max_position_per_market: pos,
                        max_position_value: Cents(value),
                        max_portfolio_fraction: Bps(frac),
                        min_cash_buffer: Cents(buffer),
                    },
                    pricing: PricingMode::ALL[pricing as usize],
                    max_slippage_cents: tp as u8 % 7,
                    sweep_remainder: if prob {
                        kalsim_core::SweepRemainder::Rest
                    } else {
                        kalsim_core::SweepRemainder::Cancel
                    },
                    sell_mode: if sto {
                        SellMode::SellToOpen
                    } else {
                        SellMode::ReduceOnly
                    },
                    fees: FeeSchedule {
                        taker_rate_e4: taker,
                        maker_rate_e4: maker,
                        maker_fees: maker_on,
                    },
                    mark: if mid {
                        MarkMode::Mid
                    } else {
                        MarkMode::Liquidation
                    },
                    strict,
                    initial_cash: Cents(cash),
                    queue: if prob {
                        QueueModelKind::Probabilistic { trade_prob_bps: tp }
                    } else {
                        QueueModelKind::Fifo
                    },
                }
            },
        )
}

/// Depth at the extremes: tens of millions of contracts (centi ~1e9+), up to i64::MAX.
fn depth() -> impl Strategy<Value = u64> {
    prop_oneof![
        1_000_000_000u64..=10_000_000_000,
        Just(i64::MAX as u64),
        100u64..=10_000,
        (i64::MAX as u64 / 2)..=(i64::MAX as u64),
    ]
}

/// One side of a snapshot: `(price, depth)` bids.
type Levels = Vec<(Price, CentiContracts)>;

/// A book quoting at the edges: YES bid 1¢ with NO bids at 98¢/97¢ (YES ask 2¢), or the
/// mirror image (YES bids 98¢/97¢, NO bid 1¢: YES ask 99¢).
fn edge_book() -> impl Strategy<Value = (Levels, Levels)> {
    (any::<bool>(), depth(), depth(), depth()).prop_map(|(low, a, b, c)| {
        let one = vec![(p(1), CentiContracts(a))];
        let two = vec![(p(98), CentiContracts(b)), (p(97), CentiContracts(c))];
        if low { (one, two) } else { (two, one) }
    })
}

#[derive(Clone, Debug)]
enum Op {
    Act(u32),
    Delta(bool, u8, i64),
    Snapshot(bool, u64),
    Settle(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u32..25).prop_map(Op::Act),
        1 => any::<u32>().prop_map(Op::Act),
        3 => (any::<bool>(), prop_oneof![Just(1u8), Just(2u8), Just(97u8), Just(98u8), Just(99u8), 1u8..=99],
              prop_oneof![any::<i64>(), -10_000_000_000i64..=10_000_000_000])
            .prop_map(|(s, p, d)| Op::Delta(s, p, d)),
        1 => (any::<bool>(), depth()).prop_map(|(l, d)| Op::Snapshot(l, d)),
        1 => any::<bool>().prop_map(Op::Settle),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn engine_invariants_hold_at_the_extremes(
        config in engine_config(),
        (yes, no) in edge_book(),
        ops in prop::collection::vec(op(), 1..200),
        seed in any::<u64>(),
    ) {
        let mut engine = Engine::new(config, seed);
        engine.apply_snapshot(&yes, &no).unwrap();
        check(&engine, "snapshot");
        let mut obs_state = ObsState::new();
        let mut obs = [0f32; OBS_DIM];
        for (i, op) in ops.into_iter().enumerate() {
            match op {
                Op::Act(a) => {
                    let r = engine.step_action(a);
                    if a >= ACTION_COUNT as u32 {
                        prop_assert!(r.is_err());
                    }
                }
                Op::Delta(yes_side, price, delta) => {
                    let side = if yes_side { Side::Yes } else { Side::No };
                    let _ = engine.apply_delta(side, p(price), delta);
                }
                Op::Snapshot(low, d) => {
                    let (y, n) = if low { (1, 98) } else { (98, 1) };
                    let _ = engine.apply_snapshot(
                        &[(p(y), CentiContracts(d))],
                        &[(p(n), CentiContracts(d))],
                    );
                }
                Op::Settle(yes_wins) => {
                    engine.settle(if yes_wins { Side::Yes } else { Side::No });
                }
            }
            check(&engine, &format!("op {i}"));
            obs_state.observe(&engine, 0.5, i64::MAX, &mut obs);
            check_obs(&obs);
        }
    }

    /// The largest orders at 1¢ and 99¢ against tens of millions of contracts of depth fill
    /// fully and the accounting is exact: 1 000 000 contracts × 99¢ plus the fee.
    #[test]
    fn max_size_orders_at_one_and_ninety_nine_cents(
        low in any::<bool>(),
        d in 1_000_000_000u64..=(i64::MAX as u64),
    ) {
        let config = EngineConfig {
            sizes: SizeTable::new([1, 2, 3, 100, MAX_SIZE]).unwrap(),
            limits: Limits {
                max_position_per_market: MAX_POSITION,
                max_position_value: Cents(i64::MAX),
                max_portfolio_fraction: Bps(10_000),
                min_cash_buffer: Cents(0),
            },
            initial_cash: Cents(MAX_CASH),
            ..EngineConfig::default()
        };
        let mut engine = Engine::new(config, 1);
        // YES ask = 100 − best NO bid: 1¢ when NO bids 99¢, 99¢ when NO bids 1¢.
        let (no_bid, ask) = if low { (99, 1) } else { (1, 99) };
        engine.apply_snapshot(&[], &[(p(no_bid), CentiContracts(d))]).unwrap();
        let mut available = d / 100;
        for action in [5u32, 4] {
            let before = engine.account().cash().0;
            let out = engine.step_action(action).unwrap();
            let size = config.sizes.size(kalsim_core::Tier::ALL[(action - 1) as usize]).0;
            let expect = u64::from(size).min(available) as u32;
            available -= u64::from(expect);
            prop_assert_eq!(out.filled, expect);
            let cost = i64::from(expect) * ask + out.fee_cents;
            prop_assert_eq!(before - engine.account().cash().0, cost);
            check(&engine, "max size");
        }
    }
}

/// A long episode with every limit at its widest, maximum cash and the maximum size tier,
/// through the real environment (debug build: overflow checks on).
#[test]
fn long_episode_at_max_configuration() {
    let events = if cfg!(debug_assertions) {
        20_000
    } else {
        200_000
    };
    let ds = synthetic_dataset(1, events, 17, &LoadOptions::default()).unwrap();
    let mut cfg = EnvConfig {
        sizes: [1, 10, 100, 10_000, MAX_SIZE],
        initial_cash_cents: MAX_CASH,
        sell_mode: kalsim_core::SellMode::SellToOpen,
        ..EnvConfig::default()
    };
    cfg.limits.max_position_per_market = MAX_POSITION;
    cfg.limits.max_position_value_cents = i64::MAX;
    cfg.limits.max_portfolio_fraction_bps = 10_000;
    cfg.limits.min_cash_buffer_cents = 0;
    cfg.fees.maker_fees = true;
    cfg.fees.taker_rate_e4 = 10_000;
    cfg.fees.maker_rate_e4 = 10_000;
    let mut env = Env::new(cfg, Arc::new(ds.markets)).unwrap();
    let mut obs = vec![0f32; OBS_DIM];
    env.reset(Some(1), &mut obs).unwrap();
    let mut rng = kalsim_core::Rng::new(5);
    let mut steps = 0u64;
    loop {
        let mask = env.action_mask();
        let allowed: Vec<u32> = (0..25).filter(|&a| mask[a as usize]).collect();
        // Favour the biggest tiers.
        let a = if rng.below(2) == 0 {
            *allowed
                .iter()
                .rev()
                .find(|&&a| a % 5 == 0 || a % 5 == 4)
                .unwrap_or(&0)
        } else {
            allowed[rng.below(allowed.len() as u64) as usize]
        };
        let r = env.step(a, &mut obs).unwrap();
        steps += 1;
        check(env.engine(), &format!("step {steps}"));
        check_obs(&obs);
        assert!(r.reward.is_finite());
        if r.terminated || r.truncated {
            break;
        }
    }
    assert!(steps >= u64::from(events) / 2, "episode ran {steps} steps");
}
