//! Trainer tests: learning a toy task, autoreset bookkeeping, determinism, config and logs.

mod train_support;

use kalsim_core::Rng;
use kalsim_host_sim::train::{
    IterStats, PpoConfig, TrainError, Trainer, write_csv_header, write_csv_row, write_json_line,
};
use train_support::{BEST, ToyEnv, write_mask};

fn small_config(seed: u64) -> PpoConfig {
    PpoConfig {
        n_steps: 32,
        minibatch_size: 64,
        hidden: vec![16, 16],
        learning_rate: 3e-3,
        seed,
        ..PpoConfig::default()
    }
}

/// Fraction of fresh observations on which the greedy policy picks the right action.
fn greedy_accuracy(trainer: &Trainer, dim: usize) -> f32 {
    let mut rng = Rng::new(99);
    let mut mask = [0u8; 25];
    write_mask(&mut mask);
    let mut right = 0;
    for k in 0..200 {
        let ctx = k % 2;
        let mut obs: Vec<f32> = (0..dim).map(|_| 0.1 * (rng.next_f32() - 0.5)).collect();
        obs[0] = if ctx == 0 { 1.0 } else { -1.0 };
        obs[1] = -obs[0];
        obs[dim - 1] = 1.0;
        if trainer.policy().act(&obs, &mask, true, &mut rng) == BEST[ctx] {
            right += 1;
        }
    }
    right as f32 / 200.0
}

#[test]
fn learns_the_toy_task() {
    let mut env = ToyEnv::new(8, 6, 8);
    let mut trainer = Trainer::new(small_config(3), env.meta()).unwrap();
    assert!(
        greedy_accuracy(&trainer, 6) < 0.9,
        "the untrained policy should not already solve it"
    );
    let mut last = None;
    let summary = trainer
        .train(&mut env, 30_000, |s| {
            last = Some(s.clone());
            true
        })
        .unwrap();
    assert!(!summary.stopped_early);
    assert!(summary.timesteps >= 30_000);
    let acc = greedy_accuracy(&trainer, 6);
    assert!(
        acc >= 0.9,
        "greedy accuracy {acc} after {} steps",
        summary.timesteps
    );
    let last = last.unwrap();
    // Episodes of 8 steps: a near-perfect policy earns close to 8.
    assert!(last.mean_episode_return > 5.0, "{last:?}");
    assert!(last.entropy.is_finite() && last.approx_kl.is_finite());
}

#[test]
fn reset_transitions_are_not_trained_on() {
    // Episodes of 5 steps on 2 envs over 20 steps: per env 3 × (5 + 1 reset) + 2 = 17 actions.
    let mut env = ToyEnv::new(2, 4, 5);
    let cfg = PpoConfig {
        n_steps: 20,
        minibatch_size: 8,
        hidden: vec![8],
        ..PpoConfig::default()
    };
    let mut trainer = Trainer::new(cfg, env.meta()).unwrap();
    trainer.start(&mut env, 1).unwrap();
    let stats = trainer.iterate(&mut env).unwrap();
    assert_eq!(stats.timesteps, 40);
    assert_eq!(stats.episodes, 6);
    assert_eq!(env.reset_steps, 6);
    assert_eq!(stats.action_histogram.iter().sum::<u32>(), 34);
    assert!(stats.action_histogram[6..=10].iter().all(|&c| c == 0));
    assert!(stats.action_histogram[16..].iter().all(|&c| c == 0));
    let trades: u32 = stats.action_histogram[1..].iter().sum();
    assert_eq!(stats.size_tiers.iter().sum::<u32>(), trades);
    let hold = stats.action_histogram[0] as f32 / 34.0;
    assert!((stats.hold_fraction - hold).abs() < 1e-6);
}

fn train_json(seed: u64, incremental: bool) -> String {
    let mut env = ToyEnv::new(4, 5, 7);
    let mut trainer = Trainer::new(small_config(seed), env.meta()).unwrap();
    if incremental {
        trainer.start(&mut env, seed).unwrap();
        for _ in 0..3 {
            trainer.iterate(&mut env).unwrap();
        }
    } else {
        let summary = trainer.train(&mut env, 3 * 32 * 4, |_| true).unwrap();
        assert_eq!(summary.iterations, 3);
    }
    trainer.policy().to_json()
}

#[test]
fn same_seed_same_checkpoint_bytes() {
    let a = train_json(7, false);
    assert_eq!(a, train_json(7, false));
    assert_eq!(a, train_json(7, true), "start + iterate must equal train");
    assert_ne!(a, train_json(8, false));
}

#[test]
fn callback_can_stop_training() {
    let mut env = ToyEnv::new(2, 4, 5);
    let mut trainer = Trainer::new(small_config(1), env.meta()).unwrap();
    let mut calls = 0;
    let summary = trainer
        .train(&mut env, 1_000_000, |s| {
            calls += 1;
            s.iteration < 2
        })
        .unwrap();
    assert_eq!(
        (calls, summary.iterations, summary.stopped_early),
        (2, 2, true)
    );
    assert_eq!(summary.timesteps, 2 * 32 * 2);
}

#[test]
fn config_defaults_and_validation() {
    let cfg: PpoConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(cfg, PpoConfig::default());
    let cfg: PpoConfig = serde_json::from_str(r#"{"n_epochs": 10, "hidden": [32]}"#).unwrap();
    assert_eq!(
        (cfg.n_epochs, cfg.hidden.clone(), cfg.gamma, cfg.clip_range),
        (10, vec![32], 0.99, 0.2)
    );
    let d = PpoConfig::default();
    assert_eq!(
        (d.n_steps, d.minibatch_size, d.n_epochs, d.hidden.clone()),
        (256, 256, 4, vec![64, 64])
    );
    assert_eq!(
        (
            d.gae_lambda,
            d.ent_coef,
            d.vf_coef,
            d.learning_rate,
            d.max_grad_norm
        ),
        (0.95, 0.01, 0.5, 3e-4, 0.5)
    );

    let env = ToyEnv::new(2, 4, 5);
    for bad in [
        PpoConfig {
            minibatch_size: 0,
            ..PpoConfig::default()
        },
        PpoConfig {
            hidden: vec![],
            ..PpoConfig::default()
        },
        PpoConfig {
            gamma: 1.5,
            ..PpoConfig::default()
        },
        PpoConfig {
            learning_rate: f32::NAN,
            ..PpoConfig::default()
        },
    ] {
        assert!(matches!(
            Trainer::new(bad, env.meta()),
            Err(TrainError::Config(_))
        ));
    }
    assert!(
        serde_json::from_str::<PpoConfig>(r#"{"n_epoch": 10}"#).is_err(),
        "typos are refused"
    );
    let mut meta = env.meta();
    meta.sizing = "fixed".into();
    assert!(matches!(
        Trainer::new(PpoConfig::default(), meta),
        Err(TrainError::Config(_))
    ));
    let mut meta = env.meta();
    meta.sizing = "fixed:10".into();
    assert!(Trainer::new(PpoConfig::default(), meta).is_ok());
    let mut meta = env.meta();
    meta.action_count = 21;
    assert!(matches!(
        Trainer::new(PpoConfig::default(), meta),
        Err(TrainError::Config(_))
    ));

    let mut other = ToyEnv::new(2, 9, 5);
    let mut trainer = Trainer::new(small_config(0), env.meta()).unwrap();
    let err = trainer.start(&mut other, 0).unwrap_err();
    assert!(matches!(err, TrainError::EnvMismatch(_)));
    assert!(err.to_string().contains("obs_dim is 9"), "{err}");
}

#[test]
fn csv_and_json_lines() {
    let mut env = ToyEnv::new(2, 4, 5);
    let mut trainer = Trainer::new(small_config(0), env.meta()).unwrap();
    let stats = trainer.iterate(&mut env).unwrap();
    let mut csv = Vec::new();
    write_csv_header(&mut csv).unwrap();
    write_csv_row(&stats, &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].split(',').count(), lines[1].split(',').count());
    assert_eq!(lines[0].split(',').count(), 13 + 25 + 5);
    let mut json = Vec::new();
    write_json_line(&stats, &mut json).unwrap();
    assert!(json.ends_with(b"\n"));
    let back: IterStats = serde_json::from_slice(&json).unwrap();
    assert_eq!(back, stats);
}

/// The update's second thread (policy and value halves side by side) moves no bit: the
/// same checkpoint for 1 and 2 threads, and when the count changes between iterations.
#[test]
fn update_threads_do_not_change_a_bit() {
    let cfg = PpoConfig {
        clip_range_vf: Some(0.2),
        normalize_obs: true,
        normalize_reward: true,
        ..small_config(11)
    };
    let run = |threads: &[usize]| {
        let mut env = ToyEnv::new(6, 5, 9);
        let mut trainer = Trainer::new(cfg.clone(), env.meta()).unwrap();
        trainer.start(&mut env, 11).unwrap();
        let mut csv = Vec::new();
        for &t in threads {
            trainer.set_threads(t).unwrap();
            let want = if cfg!(feature = "threads") {
                t.clamp(1, 2)
            } else {
                1
            };
            assert_eq!(trainer.threads(), want);
            let s = trainer.iterate(&mut env).unwrap();
            write_csv_row(&s, &mut csv).unwrap();
        }
        (trainer.policy().to_json(), csv)
    };
    let one = run(&[1, 1, 1, 1]);
    assert_eq!(one, run(&[2, 2, 2, 2]), "2 threads");
    assert_eq!(
        one,
        run(&[2, 1, 8, 1]),
        "thread count changed between iterations"
    );
}

#[test]
fn reward_normalisation_learns_and_is_deterministic() {
    let cfg = |seed| PpoConfig {
        normalize_reward: true,
        ..small_config(seed)
    };
    let run = |seed| {
        let mut env = ToyEnv::new(8, 6, 8);
        let mut trainer = Trainer::new(cfg(seed), env.meta()).unwrap();
        let mut last = None;
        trainer
            .train(&mut env, 30_000, |s| {
                last = Some(s.clone());
                true
            })
            .unwrap();
        (trainer, last.unwrap())
    };
    let (trainer, last) = run(3);
    let acc = greedy_accuracy(&trainer, 6);
    assert!(acc >= 0.9, "greedy accuracy {acc}");
    // Logged returns stay in env units (rewards are only scaled for training).
    assert!(last.mean_episode_return > 5.0, "{last:?}");
    let json = trainer.policy().to_json();
    assert_eq!(json, run(3).0.policy().to_json(), "same seed, same bytes");
    let mut env = ToyEnv::new(8, 6, 8);
    let mut plain = Trainer::new(small_config(3), env.meta()).unwrap();
    plain.train(&mut env, 30_000, |_| true).unwrap();
    assert_ne!(
        json,
        plain.policy().to_json(),
        "the option changes training"
    );
    let bad = PpoConfig {
        reward_clip: 0.0,
        ..cfg(0)
    };
    assert!(matches!(
        Trainer::new(bad, env.meta()),
        Err(TrainError::Config(_))
    ));
}

#[test]
fn init_hold_logit_biases_the_initial_policy_towards_hold() {
    let env = ToyEnv::new(2, 6, 8);
    let hold_share = |bias: f32| {
        let cfg = PpoConfig {
            init_hold_logit: bias,
            ..small_config(1)
        };
        let trainer = Trainer::new(cfg, env.meta()).unwrap();
        let mut mask = [0u8; 25];
        write_mask(&mut mask);
        let mut rng = Rng::new(5);
        let obs = [0.1f32; 6];
        let holds = (0..2_000)
            .filter(|_| trainer.policy().act(&obs, &mask, false, &mut rng) == 0)
            .count();
        holds as f32 / 2_000.0
    };
    let (plain, biased) = (hold_share(0.0), hold_share(4.0));
    assert!(plain < 0.3, "uniform start: HOLD {plain}");
    assert!(biased > 0.5, "biased start: HOLD {biased}");
    let bad = PpoConfig {
        init_hold_logit: f32::INFINITY,
        ..small_config(0)
    };
    assert!(matches!(
        Trainer::new(bad, env.meta()),
        Err(TrainError::Config(_))
    ));
}

/// A batch env whose step fails after `ok_steps` steps.
struct Failing {
    inner: ToyEnv,
    ok_steps: u32,
}

#[derive(Debug)]
struct Broke;

impl std::fmt::Display for Broke {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("market M7, event 12: the book went negative")
    }
}

impl std::error::Error for Broke {}

impl kalsim_host_sim::train::BatchEnv for Failing {
    type Error = Broke;
    fn num_envs(&self) -> usize {
        self.inner.num_envs()
    }
    fn obs_dim(&self) -> usize {
        self.inner.obs_dim()
    }
    fn reset_all(&mut self, seed: u64, obs: &mut [f32], masks: &mut [u8]) -> Result<(), Broke> {
        let Ok(()) = self.inner.reset_all(seed, obs, masks);
        Ok(())
    }
    fn step(
        &mut self,
        actions: &[u8],
        obs: &mut [f32],
        rewards: &mut [f32],
        terminated: &mut [u8],
        truncated: &mut [u8],
        masks: &mut [u8],
    ) -> Result<(), Broke> {
        if self.ok_steps == 0 {
            return Err(Broke);
        }
        self.ok_steps -= 1;
        let Ok(()) = self
            .inner
            .step(actions, obs, rewards, terminated, truncated, masks);
        Ok(())
    }
}

#[test]
fn an_environment_error_stops_training_and_names_the_cause() {
    use kalsim_host_sim::train::BatchEnv;
    let inner = ToyEnv::new(4, 6, 8);
    let meta = inner.meta();
    let mut env = Failing {
        inner,
        ok_steps: 40,
    };
    let mut trainer = Trainer::new(small_config(1), meta).unwrap();
    let e = trainer.train(&mut env, 10_000, |_| true).unwrap_err();
    assert!(
        matches!(&e, TrainError::Env(m) if m.contains("market M7, event 12")),
        "{e}"
    );
    assert!(e.to_string().starts_with("environment failed"), "{e}");
    // The failed run is over: the next call starts a fresh one (and fails again here).
    assert!(trainer.iterate(&mut env).is_err());
    let _ = env.num_envs();
}
