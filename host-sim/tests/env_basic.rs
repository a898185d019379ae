//! Environment smoke and determinism tests over the embedded synthetic markets.

use kalsim_core::{OBS_DIM, Rng};
use kalsim_host_sim::env::{Env, EnvConfig, VecEnv, load_markets};

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
