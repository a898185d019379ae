//! Invariants under load: VecEnv over synthetic and replayed markets, stepped by a random
//! masked policy and by an adversarial one (masked and reserved actions on purpose, and a
//! strict-mode env where masked actions must be refused without changing anything).
//!
//! After every step: cash ≥ 0, |position| ≤ max_position_per_market, the ledger reconciles,
//! observations are finite and inside `OBS_FEATURES[i].min..=max`. Memory: a counting global
//! allocator (per thread) shows zero allocations during steady-state stepping (allocations
//! are allowed only in a step that autoresets an env), and an env's heap footprint (bytes a
//! clone allocates) after many episodes equals its footprint after the first.
//!
//! Bounded in steps, not time. Debug builds default to a smaller count so `cargo test` stays
//! well under a minute; `KALSIM_SOAK_STEPS=5000000 cargo test --release -p kalsim-host-sim
//! --test soak` runs the full millions (the count is per scenario, summed over the batch).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use kalsim_core::{ACTION_COUNT, OBS_DIM, OBS_FEATURES, Rng, StepError};
use kalsim_host_sim::data::{self, GenConfig, LoadOptions, Mode};
use kalsim_host_sim::env::{Env, EnvConfig, EnvError, Markets, VecEnv, synthetic_dataset};

// ---- a per-thread counting allocator -------------------------------------------------------

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static LIVE_BYTES: Cell<i64> = const { Cell::new(0) };
}

fn bump(count: u64, bytes: i64) {
    let _ = ALLOCS.try_with(|c| c.set(c.get() + count));
    let _ = LIVE_BYTES.try_with(|c| c.set(c.get() + bytes));
}

// SAFETY: forwards every call to `System` unchanged; the counters never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump(1, layout.size() as i64);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump(1, layout.size() as i64);
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        bump(0, -(layout.size() as i64));
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump(1, new_size as i64 - layout.size() as i64);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

/// Heap bytes an env owns outside the shared market tapes: what a clone allocates.
fn heap_footprint(env: &Env) -> i64 {
    let before = LIVE_BYTES.with(Cell::get);
    let copy = env.clone();
    let bytes = LIVE_BYTES.with(Cell::get) - before;
    drop(copy);
    bytes
}

// ---- scenarios -----------------------------------------------------------------------------

fn soak_steps() -> u64 {
    std::env::var("KALSIM_SOAK_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) {
            200_000
        } else {
            2_000_000
        })
}

fn synthetic() -> Markets {
    Arc::new(
        synthetic_dataset(6, 400, 11, &LoadOptions::default())
            .unwrap()
            .markets,
    )
}

/// The committed real-format fixture plus a generated capture written to disk, loaded the way
/// `--data` files are (`load_files`, lenient: the fixture carries deliberate faults).
fn replayed() -> Markets {
    let dir = std::env::temp_dir().join(format!("kalsim-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let generated = dir.join("generated.jsonl");
    std::fs::write(
        &generated,
        data::generate_string(&GenConfig {
            markets: 4,
            events: 300,
            seed: 99,
        }),
    )
    .unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sample_capture.jsonl");
    let opts = LoadOptions {
        mode: Mode::Lenient,
        results: None,
    };
    let ds = data::load_files(&[fixture, generated], &opts).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(ds.markets.len() >= 5, "fixture and capture both loaded");
    Arc::new(ds.markets)
}

fn config(strict: bool, tweak: impl FnOnce(&mut EnvConfig)) -> EnvConfig {
    let mut cfg = EnvConfig::default();
    if strict {
        cfg.invalid_action = kalsim_host_sim::env::InvalidActionMode::Error;
    }
    tweak(&mut cfg);
    cfg
}

#[derive(Clone, Copy, Debug)]
enum Policy {
    RandomMasked,
    Adversarial,
}

fn choose(policy: Policy, rng: &mut Rng, mask: &[u8]) -> u32 {
    let allowed: u32 = mask.iter().map(|&m| u32::from(m)).sum();
    match policy {
        Policy::RandomMasked => loop {
            let a = rng.below(ACTION_COUNT as u64) as u32;
            if mask[a as usize] == 1 {
                return a;
            }
        },
        Policy::Adversarial => {
            // Two in three pick a masked or reserved action; the rest trade, so there are
            // positions whose limits can be attacked.
            if rng.below(3) < 2 && allowed < ACTION_COUNT as u32 {
                loop {
                    let a = rng.below(ACTION_COUNT as u64) as u32;
                    if mask[a as usize] == 0 {
                        return a;
                    }
                }
            }
            loop {
                let a = rng.below(ACTION_COUNT as u64) as u32;
                if mask[a as usize] == 1 {
                    return a;
                }
            }
        }
    }
}

fn check_env(env: &Env, obs: &[f32], what: &str) {
    let acct = env.engine().account();
    let limit = env.engine().config().limits.max_position_per_market;
    assert!(acct.cash().0 >= 0, "{what}: negative cash {acct:?}");
    assert!(
        acct.position().unsigned_abs() <= u64::from(limit),
        "{what}: |position| {} > {limit}",
        acct.position()
    );
    assert_eq!(acct.ledger_discrepancy(), 0, "{what}: ledger {acct:?}");
    check_obs(obs, what);
}

fn check_obs(obs: &[f32], what: &str) {
    for (i, (&x, f)) in obs.iter().zip(OBS_FEATURES.iter()).enumerate() {
        assert!(
            x.is_finite() && (f.min..=f.max).contains(&x),
            "{what}: obs[{i}] {} = {x} outside {}..={}",
            f.name,
            f.min,
            f.max
        );
    }
}

/// Step a VecEnv for `total` env-steps with `policy`, checking everything after every step.
fn soak_vec(name: &str, cfg: EnvConfig, markets: Markets, policy: Policy, total: u64) {
    const N: usize = 4;
    let mut venv = VecEnv::new(cfg, markets, N, 1).unwrap();
    let mut obs = vec![0f32; N * OBS_DIM];
    let mut masks = vec![0u8; N * ACTION_COUNT];
    let mut rewards = vec![0f64; N];
    let mut term = vec![0u8; N];
    let mut trunc = vec![0u8; N];
    let mut actions = vec![0u32; N];
    let mut rng = Rng::new(0x50a6);
    venv.reset(42, &mut obs, &mut masks).unwrap();
    let mut episodes = 0u64;
    let mut footprint: Vec<Option<i64>> = vec![None; N];
    let mut resets_pending = [false; N];
    let mut steady_allocs = 0u64;
    let mut steps = 0u64;
    while steps < total {
        for i in 0..N {
            actions[i] = choose(policy, &mut rng, &masks[i * ACTION_COUNT..][..ACTION_COUNT]);
        }
        let masked: Vec<bool> = (0..N)
            .map(|i| masks[i * ACTION_COUNT + actions[i] as usize] == 0)
            .collect();
        let any_reset = resets_pending.iter().any(|&r| r);
        let before = allocs();
        venv.step(
            &actions,
            &mut obs,
            &mut rewards,
            &mut term,
            &mut trunc,
            &mut masks,
        )
        .unwrap();
        let allocated = allocs() - before;
        if !any_reset {
            steady_allocs += allocated;
        }
        steps += N as u64;
        for i in 0..N {
            let env = &venv.envs()[i];
            let what = format!("{name} env {i} step {steps}");
            check_env(env, &obs[i * OBS_DIM..][..OBS_DIM], &what);
            assert!(rewards[i].is_finite(), "{what}: reward");
            let info = &venv.infos()[i];
            if !resets_pending[i] && masked[i] {
                assert_ne!(info.invalid_action, 0, "{what}: masked action not reported");
            }
            assert_eq!(masks[i * ACTION_COUNT], 1, "{what}: HOLD masked");
            assert!(masks[i * ACTION_COUNT + 21..][..4].iter().all(|&m| m == 0));
            let ended = term[i] == 1 || trunc[i] == 1;
            if ended {
                episodes += 1;
                // Footprint after the first finished episode, then it must not grow.
                let now = heap_footprint(env);
                match footprint[i] {
                    None => footprint[i] = Some(now),
                    Some(first) => assert!(
                        now <= first,
                        "{what}: env heap grew from {first} to {now} bytes"
                    ),
                }
            }
            resets_pending[i] = ended;
        }
    }
    assert!(episodes >= N as u64, "{name}: only {episodes} episodes");
    assert_eq!(
        steady_allocs, 0,
        "{name}: {steady_allocs} allocations during steady-state stepping"
    );
    eprintln!("soak {name}: {steps} env-steps, {episodes} episodes, 0 steady-state allocations");
}

#[test]
fn random_masked_policy_over_synthetic_markets() {
    soak_vec(
        "random/synthetic",
        config(false, |_| {}),
        synthetic(),
        Policy::RandomMasked,
        soak_steps(),
    );
}

#[test]
fn random_masked_policy_over_replayed_markets_with_tight_limits() {
    soak_vec(
        "random/replay",
        config(false, |c| {
            c.pricing = kalsim_core::PricingMode::Passive;
            c.sell_mode = kalsim_core::SellMode::SellToOpen;
            c.fees.maker_fees = true;
            c.limits.max_position_per_market = 120;
            c.limits.min_cash_buffer_cents = 0;
            c.limits.max_portfolio_fraction_bps = 10_000;
            c.initial_cash_cents = 20_000;
        }),
        replayed(),
        Policy::RandomMasked,
        soak_steps(),
    );
}

#[test]
fn adversarial_policy_over_synthetic_and_replayed_markets() {
    for (name, markets) in [("synthetic", synthetic()), ("replay", replayed())] {
        soak_vec(
            &format!("adversarial/{name}"),
            config(false, |c| c.pricing = kalsim_core::PricingMode::Mid),
            markets,
            Policy::Adversarial,
            soak_steps() / 2,
        );
    }
}

/// Strict mode: masked, reserved and out-of-range actions are errors that change nothing
/// (the same engine state, observation and mask before and after), and the episode goes on.
#[test]
fn adversarial_strict_mode_refuses_without_changing_state() {
    let cfg = config(true, |c| c.sell_mode = kalsim_core::SellMode::SellToOpen);
    let mut env = Env::new(cfg, synthetic()).unwrap();
    let mut obs = vec![0f32; OBS_DIM];
    let mut rng = Rng::new(7);
    env.reset(Some(3), &mut obs).unwrap();
    let (mut steps, mut refused) = (0u64, 0u64);
    while steps < soak_steps() / 4 {
        let mask: Vec<u8> = env.action_mask().iter().map(|&m| u8::from(m)).collect();
        let action = match rng.below(10) {
            0 => 25 + rng.below(u64::from(u32::MAX - 25)) as u32,
            _ => choose(Policy::Adversarial, &mut rng, &mask),
        };
        let before = format!("{:?}", env.engine());
        let obs_before = obs.clone();
        steps += 1;
        match env.step(action, &mut obs) {
            Ok(r) => {
                assert_eq!(mask[action as usize], 1, "masked {action} was executed");
                check_env(&env, &obs, "strict");
                if r.terminated || r.truncated {
                    env.reset(None, &mut obs).unwrap();
                }
            }
            Err(EnvError::Step(StepError::Masked { action: a, .. })) => {
                assert_eq!(u32::from(a), action);
                assert_eq!(mask[action as usize], 0, "allowed {action} was refused");
                refused += 1;
                assert_eq!(
                    format!("{:?}", env.engine()),
                    before,
                    "refusal moved the engine"
                );
                assert_eq!(obs, obs_before, "refusal wrote the observation");
            }
            Err(EnvError::Step(StepError::Action(_))) => {
                assert!(action >= 25);
                refused += 1;
                assert_eq!(
                    format!("{:?}", env.engine()),
                    before,
                    "refusal moved the engine"
                );
                assert_eq!(obs, obs_before, "refusal wrote the observation");
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert!(
        refused > steps / 3,
        "the adversary was mostly refused ({refused}/{steps})"
    );
}
