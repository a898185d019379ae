//! Native reference numbers for the WASM tests and benchmarks (`wasm/tests/*.mjs`).
//!
//! - `native_ref train` prints the policy checkpoint after a short, fixed PPO run; the Node
//!   test trains the same in WASM and requires the same bytes.
//! - `native_ref bench [markets events steps]` prints single-env steps per second on
//!   synthetic data (HOLD and a fixed trade cycle), for docs/performance.md.
//! - `native_ref train-bench` prints PPO training steps per second.

use std::sync::Arc;
use std::time::Instant;

use kalsim_host_sim::data::LoadOptions;
use kalsim_host_sim::env::{Env, EnvConfig, VecEnv, synthetic_dataset};
use kalsim_host_sim::train::{PpoConfig, Trainer};

fn train_reference() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let cfg = EnvConfig::from_json(TRAIN_ENV)?;
    let ppo: PpoConfig = serde_json::from_str(TRAIN_PPO)?;
    let d = &cfg.data;
    let data = synthetic_dataset(
        d.synthetic_markets,
        d.synthetic_events,
        d.synthetic_seed,
        &LoadOptions::default(),
    )?;
    let mut venv = VecEnv::new(cfg.clone(), Arc::new(data.markets), 4, 1)?;
    let mut trainer = Trainer::new(ppo, cfg.policy_meta())?;
    trainer.start(&mut venv, 11)?;
    for _ in 0..3 {
        trainer.iterate(&mut venv)?;
    }
    println!("{}", trainer.policy().to_json());
    Ok(())
}

/// Shared with `wasm/tests/train.test.mjs` (keep in sync).
const TRAIN_ENV: &str = r#"{"max_steps": 60, "data": {"synthetic_markets": 3, "synthetic_events": 300, "synthetic_seed": 5}}"#;
const TRAIN_PPO: &str =
    r#"{"n_steps": 32, "minibatch_size": 64, "n_epochs": 2, "hidden": [16, 16], "seed": 3}"#;

fn bench(
    markets: u32,
    events: u32,
    steps: u64,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut cfg = EnvConfig::default();
    cfg.data.synthetic_markets = markets;
    cfg.data.synthetic_events = events;
    let data = synthetic_dataset(
        markets,
        events,
        cfg.data.synthetic_seed,
        &LoadOptions::default(),
    )?;
    let mut env = Env::new(cfg, Arc::new(data.markets))?;
    let mut obs = vec![0f32; env.obs_dim()];
    for (name, cycle) in [
        ("hold", &[0u32][..]),
        ("trade_cycle", &[0, 1, 0, 6, 0, 11, 0, 16][..]),
    ] {
        env.reset(Some(1), &mut obs)?;
        let t0 = Instant::now();
        let mut sum = 0.0;
        for i in 0..steps {
            if env.is_done() {
                env.reset(None, &mut obs)?;
            }
            sum += env.step(cycle[i as usize % cycle.len()], &mut obs)?.reward;
        }
        let dt = t0.elapsed().as_secs_f64();
        println!(
            "{{\"policy\":\"{name}\",\"steps\":{steps},\"seconds\":{dt:.4},\"steps_per_sec\":{:.0},\"reward_sum\":{sum}}}",
            steps as f64 / dt
        );
    }
    Ok(())
}

/// PPO throughput: 8 envs × 128 steps per iteration, [64, 64] networks, 5 iterations.
fn train_bench() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let cfg = EnvConfig::from_json(TRAIN_BENCH_ENV)?;
    let ppo: PpoConfig = serde_json::from_str(TRAIN_BENCH_PPO)?;
    let d = &cfg.data;
    let data = synthetic_dataset(
        d.synthetic_markets,
        d.synthetic_events,
        d.synthetic_seed,
        &LoadOptions::default(),
    )?;
    let mut venv = VecEnv::new(cfg.clone(), Arc::new(data.markets), 8, 1)?;
    let mut trainer = Trainer::new(ppo, cfg.policy_meta())?;
    trainer.start(&mut venv, 0)?;
    let t0 = Instant::now();
    for _ in 0..5 {
        trainer.iterate(&mut venv)?;
    }
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "{{\"train_steps\":{},\"seconds\":{dt:.4},\"steps_per_sec\":{:.0}}}",
        trainer.timesteps(),
        trainer.timesteps() as f64 / dt
    );
    Ok(())
}

/// Shared with `wasm/tests/bench.mjs` (keep in sync).
const TRAIN_BENCH_ENV: &str = r#"{"max_steps": 200, "data": {"synthetic_markets": 8, "synthetic_events": 2000, "synthetic_seed": 7}}"#;
const TRAIN_BENCH_PPO: &str =
    r#"{"n_steps": 128, "minibatch_size": 256, "n_epochs": 4, "hidden": [64, 64], "seed": 0}"#;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let r = match args.first().map(String::as_str) {
        Some("train") => train_reference(),
        Some("train-bench") => train_bench(),
        Some("bench") => bench(arg(1, 8) as u32, arg(2, 5_000) as u32, arg(3, 1_000_000)),
        _ => Err("usage: native_ref train | train-bench | bench [markets events steps]".into()),
    };
    if let Err(e) = r {
        eprintln!("native_ref: {e}");
        std::process::exit(1);
    }
}
