//! Environment smoke and determinism tests over the embedded synthetic markets.

use kalsim_core::{OBS_DIM, Rng};
use kalsim_host_sim::env::{Autoreset, Env, EnvConfig, VecEnv, load_markets};

fn small_config() -> EnvConfig {
    let mut cfg = EnvConfig::default();
    cfg.data.synthetic_markets = 4;
    cfg.data.synthetic_events = 300;
    cfg
}

fn random_masked(rng: &mut Rng, mask: &[bool]) -> u32 {
    let valid: Vec<u32> = (0..25).filter(|&a| mask[a as usize]).collect();
    valid[rng.below(valid.len() as u64) as usize]
}

fn run(seed: u64) -> (Vec<f32>, Vec<f64>) {
    let cfg = small_config();
    let (markets, _) = load_markets(&cfg).unwrap();
    let mut env = Env::new(cfg, markets).unwrap();
    let mut obs = vec![0.0; OBS_DIM];
    let mut all_obs = Vec::new();
    let mut rewards = Vec::new();
    let mut rng = Rng::new(seed);
    env.reset(Some(seed), &mut obs).unwrap();
    for _ in 0..3 {
        loop {
            let a = random_masked(&mut rng, &env.action_mask());
            let r = env.step(a, &mut obs).unwrap();
            assert!(obs.iter().all(|x| x.is_finite()));
            assert!(r.info.cash_cents >= 0);
            assert!(r.info.position.unsigned_abs() <= 500);
            assert_eq!(env.engine().account().ledger_discrepancy(), 0);
            all_obs.extend_from_slice(&obs);
            rewards.push(r.reward);
            if r.terminated || r.truncated {
                assert!(r.info.portfolio_value_cents > 0);
                break;
            }
        }
        assert!(
            env.step(0, &mut obs).is_err(),
            "stepping after the end is an error"
        );
        env.reset(None, &mut obs).unwrap();
    }
    (all_obs, rewards)
}

#[test]
fn episodes_run_and_are_deterministic() {
    let a = run(11);
    let b = run(11);
    assert_eq!(
        a.0.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        b.0.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
    assert_eq!(a.1, b.1);
    assert_ne!(run(12).1, a.1);
}

#[test]
fn step_before_reset_and_bad_actions_are_errors() {
    let cfg = small_config();
    let (markets, _) = load_markets(&cfg).unwrap();
    let mut env = Env::new(cfg, markets).unwrap();
    let mut obs = vec![0.0; OBS_DIM];
    assert!(env.step(0, &mut obs).is_err());
    env.reset(Some(1), &mut obs).unwrap();
    let e = env.step(25, &mut obs).unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");
    let r = env.step(21, &mut obs).unwrap();
    assert_eq!(r.info.invalid_action, 8);
    assert!(env.step(0, &mut [0.0; 3]).is_err());
}

fn vec_rollout(threads: usize) -> (Vec<u32>, Vec<u64>) {
    let cfg = small_config();
    let (markets, _) = load_markets(&cfg).unwrap();
    let n = 8;
    let mut v = VecEnv::new(cfg, markets, n, threads).unwrap();
    let mut obs = vec![0.0f32; n * OBS_DIM];
    let mut masks = vec![0u8; n * 25];
    let mut rewards = vec![0.0f64; n];
    let mut term = vec![0u8; n];
    let mut trunc = vec![0u8; n];
    v.reset(5, &mut obs, &mut masks).unwrap();
    let mut rng = Rng::new(99);
    let mut obs_bits = Vec::new();
    let mut reward_bits = Vec::new();
    let mut actions = vec![0u32; n];
    for _ in 0..700 {
        for i in 0..n {
            let m: Vec<bool> = masks[i * 25..(i + 1) * 25]
                .iter()
                .map(|&b| b == 1)
                .collect();
            actions[i] = random_masked(&mut rng, &m);
        }
        v.step(
            &actions,
            &mut obs,
            &mut rewards,
            &mut term,
            &mut trunc,
            &mut masks,
        )
        .unwrap();
        obs_bits.extend(obs.iter().map(|x| x.to_bits()));
        reward_bits.extend(rewards.iter().map(|x| x.to_bits()));
    }
    (obs_bits, reward_bits)
}

#[test]
fn vec_env_identical_for_any_thread_count() {
    let one = vec_rollout(1);
    assert_eq!(one, vec_rollout(2));
    assert_eq!(one, vec_rollout(3));
}

/// Same-step autoreset is N single envs reset within the step that ends them: each
/// reward, flag and info as the env's own step, the final observation and metrics kept, the
/// returned observation and mask the next episode's first.
fn same_step_matches_single_envs(threads: usize) {
    let mut cfg = small_config();
    cfg.data.synthetic_events = 80;
    let (markets, _) = load_markets(&cfg).unwrap();
    let n = 3;
    let mut v = VecEnv::new(cfg.clone(), markets.clone(), n, threads).unwrap();
    v.set_autoreset(Autoreset::SameStep);
    assert_eq!(v.autoreset(), Autoreset::SameStep);
    let mut singles: Vec<Env> = (0..n)
        .map(|_| Env::new(cfg.clone(), markets.clone()).unwrap())
        .collect();
    let (mut obs, mut masks) = (vec![0.0f32; n * OBS_DIM], vec![0u8; n * 25]);
    let (mut rewards, mut term, mut trunc) = (vec![0.0; n], vec![0u8; n], vec![0u8; n]);
    let seed = 21;
    v.reset(seed, &mut obs, &mut masks).unwrap();
    let mut ref_obs = vec![0.0f32; OBS_DIM];
    for (i, e) in singles.iter_mut().enumerate() {
        e.reset(Some(Rng::derive(seed, i as u64).next_u64()), &mut ref_obs)
            .unwrap();
        assert_eq!(&obs[i * OBS_DIM..(i + 1) * OBS_DIM], &ref_obs[..]);
    }
    let mut rng = Rng::new(3);
    let mut actions = vec![0u32; n];
    let mut ends = 0;
    for _ in 0..400 {
        for i in 0..n {
            let m: Vec<bool> = masks[i * 25..(i + 1) * 25]
                .iter()
                .map(|&b| b == 1)
                .collect();
            actions[i] = random_masked(&mut rng, &m);
        }
        v.step(
            &actions,
            &mut obs,
            &mut rewards,
            &mut term,
            &mut trunc,
            &mut masks,
        )
        .unwrap();
        for (i, e) in singles.iter_mut().enumerate() {
            let r = e.step(actions[i], &mut ref_obs).unwrap();
            assert_eq!(rewards[i].to_bits(), r.reward.to_bits());
            assert_eq!((term[i] == 1, trunc[i] == 1), (r.terminated, r.truncated));
            assert_eq!(v.infos()[i], r.info, "the final info is kept");
            let done = r.terminated || r.truncated;
            assert_eq!(v.ended(i), done);
            if done {
                ends += 1;
                assert_eq!(v.final_observation(i).unwrap()[..], ref_obs[..]);
                assert_eq!(v.episode_metrics(i).unwrap(), e.metrics());
                e.reset(None, &mut ref_obs).unwrap();
            } else {
                assert!(v.final_observation(i).is_none());
            }
            assert_eq!(&obs[i * OBS_DIM..(i + 1) * OBS_DIM], &ref_obs[..]);
            let mask: Vec<u8> = e.action_mask().iter().map(|&b| b as u8).collect();
            assert_eq!(&masks[i * 25..(i + 1) * 25], &mask[..]);
        }
    }
    assert!(ends >= n, "episodes ended {ends} times");
}

#[test]
fn same_step_autoreset_is_single_envs_reset_within_the_step() {
    same_step_matches_single_envs(1);
    same_step_matches_single_envs(2);
}

#[test]
fn switching_to_same_step_still_resets_an_env_waiting_for_next_step() {
    let mut cfg = small_config();
    cfg.data.synthetic_events = 40;
    let (markets, _) = load_markets(&cfg).unwrap();
    let mut v = VecEnv::new(cfg, markets, 1, 1).unwrap();
    let (mut obs, mut masks) = (vec![0.0f32; OBS_DIM], vec![0u8; 25]);
    let (mut rw, mut te, mut tr) = (vec![0.0], vec![0u8], vec![0u8]);
    v.reset(1, &mut obs, &mut masks).unwrap();
    while te[0] == 0 && tr[0] == 0 {
        v.step(&[0], &mut obs, &mut rw, &mut te, &mut tr, &mut masks)
            .unwrap();
    }
    v.set_autoreset(Autoreset::SameStep);
    v.step(&[0], &mut obs, &mut rw, &mut te, &mut tr, &mut masks)
        .unwrap();
    assert_eq!((rw[0], te[0], tr[0]), (0.0, 0, 0), "the pending reset ran");
    assert_eq!(v.infos()[0].step, 0);
}

/// `episode_progress` reaches 1 at the episode's last decision under a `{ ms = t }` decision
/// interval, also on the embedded synthetic data, whose first event (the snapshot) carries
/// no timestamp: the horizon is counted on the clock the steps run on.
#[test]
fn ms_decision_interval_horizon_is_the_episode_length() {
    use kalsim_core::OBS_FEATURES;
    use kalsim_host_sim::env::DecisionInterval;
    let progress = OBS_FEATURES
        .iter()
        .position(|f| f.name == "episode_progress")
        .unwrap();
    for interval in [
        DecisionInterval::Ms(1_000),
        DecisionInterval::Ms(2_500),
        DecisionInterval::Events(7),
    ] {
        let mut cfg = small_config();
        cfg.decision_interval = interval;
        let (markets, _) = load_markets(&cfg).unwrap();
        assert!(markets[0].events[0].ts_ms.is_none());
        let mut env = Env::new(cfg, markets).unwrap();
        let mut obs = vec![0.0; OBS_DIM];
        env.reset(Some(3), &mut obs).unwrap();
        let mut steps = 0u32;
        loop {
            let r = env.step(0, &mut obs).unwrap();
            steps += 1;
            if r.terminated || r.truncated {
                break;
            }
            assert!(obs[progress] < 1.0, "{interval:?}: step {steps}");
        }
        assert_eq!(env.session().horizon(), steps, "{interval:?}");
        assert_eq!(obs[progress], 1.0, "{interval:?}");
    }
}

/// SPEC §9 `size_changes` counts trades whose tier differs from the previous trade's, also
/// when orders reach the book later (`order_latency_ms`): the tier counts when it is sent.
#[test]
fn size_changes_count_orders_sent_with_latency() {
    use kalsim_core::action::encode;
    use kalsim_core::{Intent, Tier};
    // BUY_YES of alternating tiers: each order's tier differs from the previous one's.
    let plan = [Tier::Small, Tier::Medium, Tier::Small, Tier::Medium];
    for latency in [0u32, 250] {
        let mut cfg = small_config();
        cfg.order_latency_ms = latency;
        let (markets, _) = load_markets(&cfg).unwrap();
        let mut env = Env::new(cfg, markets).unwrap();
        let mut obs = vec![0.0; OBS_DIM];
        env.reset(Some(5), &mut obs).unwrap();
        for tier in plan {
            let id = u32::from(encode(Intent::BuyYes, tier));
            assert!(
                env.action_mask()[id as usize],
                "latency {latency}: {tier:?} masked"
            );
            let r = env.step(id, &mut obs).unwrap();
            assert!(r.info.invalid_action == 0);
        }
        assert_eq!(env.metrics().size_changes, 3, "latency {latency}");
    }
}
