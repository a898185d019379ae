//! Baseline policies: mask respect over long runs, seeded determinism, Kelly sizing.

use kalsim_core::{ACTION_COUNT, OBS_DIM, OBS_FEATURES};
use kalsim_host_sim::env::{EnvConfig, VecEnv, load_markets};
use kalsim_host_sim::policy::{
    BASELINES, KellyPolicy, Policy, PolicyContext, feature_index, policy_from_name,
    policy_with_context,
};
use kalsim_host_sim::report::run_episodes;

fn small_config() -> EnvConfig {
    let mut cfg = EnvConfig::default();
    cfg.data.synthetic_markets = 4;
    cfg.data.synthetic_events = 600;
    cfg
}

#[test]
fn every_baseline_respects_the_mask_over_a_long_run() {
    let n = 4;
    for name in BASELINES {
        // The forecast policies need data with forecasts: the informed preset.
        let mut cfg = small_config();
        if name.starts_with("forecast") || name == "oracle" {
            cfg.data.preset = "informed".into();
        }
        let (markets, _) = load_markets(&cfg).unwrap();
        let mut venv = VecEnv::new(cfg.clone(), markets.clone(), n, 1).unwrap();
        let mut policies: Vec<Box<dyn Policy>> = (0..n)
            .map(|i| policy_with_context(name, i as u64, PolicyContext::from_config(&cfg)).unwrap())
            .collect();
        let mut obs = vec![0.0f32; n * OBS_DIM];
        let mut masks = vec![0u8; n * ACTION_COUNT];
        let mut rewards = vec![0.0f64; n];
        let mut term = vec![0u8; n];
        let mut trunc = vec![0u8; n];
        venv.reset(11, &mut obs, &mut masks).unwrap();
        let mut actions = vec![0u32; n];
        let mut traded = 0u64;
        for _ in 0..3_000 {
            for i in 0..n {
                let mut mask = [false; ACTION_COUNT];
                for (m, b) in mask
                    .iter_mut()
                    .zip(&masks[i * ACTION_COUNT..(i + 1) * ACTION_COUNT])
                {
                    *m = *b != 0;
                }
                let a = policies[i].act(&obs[i * OBS_DIM..(i + 1) * OBS_DIM], &mask);
                assert!(mask[a as usize], "{name} chose masked action {a}");
                traded += (a != 0) as u64;
                actions[i] = a;
            }
            venv.step(
                &actions,
                &mut obs,
                &mut rewards,
                &mut term,
                &mut trunc,
                &mut masks,
            )
            .unwrap();
        }
        for env in venv.envs() {
            assert_eq!(env.metrics().invalid_actions, 0, "{name}");
        }
        // The oracle reads the latent probability from the evaluation loop's context
        // (`Policy::act_with`); through `act` alone it has no estimate and holds.
        if name != "hold" && name != "oracle" {
            assert!(traded > 0, "{name} never traded");
        }
    }
}

#[test]
fn the_oracle_trades_on_the_latent_and_forecast_kelly_on_forecasts() {
    let mut cfg = small_config();
    cfg.apply_preset("informed");
    cfg.data.synthetic_markets = 8;
    cfg.decision_interval = kalsim_host_sim::env::DecisionInterval::Ms(3_000);
    let (markets, _) = load_markets(&cfg).unwrap();
    for name in ["oracle", "forecast-kelly", "forecast-fixed"] {
        let mut p = policy_with_context(name, 0, PolicyContext::from_config(&cfg)).unwrap();
        let r = run_episodes(&cfg, markets.clone(), p.as_mut(), 8, 1, &mut |_| {}).unwrap();
        assert!(r.aggregate.hold_fraction < 1.0, "{name} never traded");
        assert_eq!(r.aggregate.invalid_actions, 0, "{name}");
        if name == "forecast-fixed" {
            // The plan's fixed size: every fill is 10 contracts.
            assert!(r.opening_trades.iter().all(|t| t.filled <= 10), "{name}");
        }
    }
}

#[test]
fn random_is_seeded() {
    let mask = [true; ACTION_COUNT];
    let obs = [0.0f32; OBS_DIM];
    let draw = |seed| {
        let mut p = policy_from_name("random", seed).unwrap();
        (0..200).map(|_| p.act(&obs, &mask)).collect::<Vec<_>>()
    };
    assert_eq!(draw(3), draw(3));
    assert_ne!(draw(3), draw(4));
    let mut only_hold = [false; ACTION_COUNT];
    only_hold[0] = true;
    let mut p = policy_from_name("random", 1).unwrap();
    assert!((0..100).all(|_| p.act(&obs, &only_hold) == 0));
}

#[test]
fn unknown_policy_is_an_error() {
    let e = policy_from_name("yolo", 0).unwrap_err();
    assert!(e.to_string().contains("yolo"));
}

/// A flat observation at mid 50¢ with a 2¢ spread and the given imbalance.
fn book_obs(imbalance: f32) -> Vec<f32> {
    let mut obs = vec![0.0f32; OBS_DIM];
    let set = |obs: &mut Vec<f32>, name: &str, v: f32| obs[feature_index(name).unwrap()] = v;
    set(&mut obs, "yes_bid", 0.49);
    set(&mut obs, "yes_ask", 0.51);
    set(&mut obs, "no_bid", 0.49);
    set(&mut obs, "no_ask", 0.51);
    set(&mut obs, "mid", 0.50);
    set(&mut obs, "spread", 0.02);
    set(&mut obs, "microprice", 0.50 + 0.01 * imbalance);
    set(&mut obs, "imbalance", imbalance);
    set(&mut obs, "cash", 1.0);
    obs
}

#[test]
fn kelly_sizes_up_with_the_signal() {
    assert_eq!(OBS_FEATURES.len(), OBS_DIM);
    // A fresh policy per observation: the signal is smoothed across the steps of an episode.
    let kelly = |obs: &[f32], mask: &[bool; ACTION_COUNT]| {
        KellyPolicy::new(PolicyContext::default()).act(obs, mask)
    };
    let mask = [true; ACTION_COUNT];
    let mut last = 0u32;
    let mut seen = Vec::new();
    for step in 0..=10 {
        let s = step as f32 / 10.0;
        let a = kelly(&book_obs(s), &mask);
        // HOLD for weak signals, then BUY_YES tiers (1..=5) that never shrink.
        assert!(a == 0 || (1..=5).contains(&a), "signal {s}: action {a}");
        assert!(a >= last, "signal {s}: tier {a} smaller than {last}");
        last = a;
        seen.push(a);
        // The NO side mirrors it.
        let b = kelly(&book_obs(-s), &mask);
        assert_eq!(b, if a == 0 { 0 } else { a + 10 }, "signal −{s}");
    }
    assert_eq!(seen[0], 0, "no signal, no trade");
    assert!(
        seen[10] >= 3,
        "a full signal should be at least Large: {seen:?}"
    );
    assert!(
        seen[10] > *seen.iter().find(|a| **a > 0).unwrap(),
        "{seen:?}"
    );
    // Snapping respects the mask: with Huge and Giant masked, the strongest signal gets Large.
    let mut limited = mask;
    limited[4] = false;
    limited[5] = false;
    assert_eq!(kelly(&book_obs(1.0), &limited), 3);
}

#[test]
fn fixed_enters_medium_and_exits() {
    let fixed = |obs: &[f32], mask: &[bool; ACTION_COUNT]| {
        policy_from_name("fixed", 0).unwrap().act(obs, mask)
    };
    let mask = [true; ACTION_COUNT];
    assert_eq!(fixed(&book_obs(0.9), &mask), 2);
    assert_eq!(fixed(&book_obs(-0.9), &mask), 12);
    assert_eq!(fixed(&book_obs(0.1), &mask), 0);
    let mut long = book_obs(-0.9);
    long[feature_index("position").unwrap()] = 10.0 / 500.0;
    long[feature_index("position_size").unwrap()] = 0.1;
    assert_eq!(fixed(&long, &mask), 7, "sell YES Medium on reversal");
    let mut only_small = [false; ACTION_COUNT];
    only_small[0] = true;
    only_small[6] = true;
    assert_eq!(
        fixed(&long, &only_small),
        6,
        "the tier that fits the holding"
    );
}

#[test]
fn the_signal_is_smoothed_within_an_episode_and_restarts_with_the_next() {
    let mut p = policy_from_name("fixed", 0).unwrap();
    let mask = [true; ACTION_COUNT];
    let progress = feature_index("episode_progress").unwrap();
    let mut strong = book_obs(0.9);
    strong[progress] = 0.5;
    // Mid-episode, one strong observation after many neutral ones is not enough.
    for i in 0..20 {
        let mut neutral = book_obs(0.0);
        neutral[progress] = i as f32 / 100.0;
        assert_eq!(p.act(&neutral, &mask), 0);
    }
    assert_eq!(p.act(&strong, &mask), 0);
    // A reset (progress back to 0) restarts the average: the raw signal counts.
    assert_eq!(p.act(&book_obs(0.9), &mask), 2);
}

#[test]
fn run_report_counts_match_the_metrics() {
    let mut cfg = small_config();
    cfg.data.synthetic_markets = 2;
    cfg.data.synthetic_events = 300;
    let (markets, _) = load_markets(&cfg).unwrap();
    for name in ["random", "kelly", "fixed"] {
        let mut p = policy_with_context(name, 5, PolicyContext::from_config(&cfg)).unwrap();
        let mut calls = 0u64;
        let r = run_episodes(&cfg, markets.clone(), p.as_mut(), 3, 9, &mut |_| calls += 1).unwrap();
        assert_eq!(r.per_episode.len(), 3);
        assert_eq!(r.action_histogram.iter().sum::<u64>(), r.aggregate.steps);
        assert_eq!(calls, r.aggregate.steps);
        assert_eq!(r.equity_curve_cents.len() as u64, r.aggregate.steps + 3);
        // The tracked round trips are the metrics' round trips.
        let metric_trips: u64 = r.per_episode.iter().map(|e| e.round_trips).sum();
        assert_eq!(r.round_trips.len() as u64, metric_trips, "{name}");
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(json["schema"], "kalsim-run-report/1");
        eprintln!(
            "{name}: return {:.4} trips {} eff {:.3} fills {:?}",
            r.aggregate.total_return,
            r.aggregate.round_trips,
            r.aggregate.size_efficiency_pooled,
            r.aggregate.fills_per_tier
        );
    }
}
