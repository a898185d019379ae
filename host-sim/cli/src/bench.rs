//! `kalsim bench`: environment throughput on this machine, timed with [`Instant`].
//!
//! Each figure runs for a fixed wall-clock budget (about 2 s, `--quick` 0.3 s) after a short
//! warm-up, on the embedded synthetic markets with uniformly random valid actions. These are
//! measurements, not assertions (STYLE.md: benchmarks are benchmarks).

use std::hint::black_box;
use std::time::{Duration, Instant};

use kalsim_core::{ACTION_COUNT, OBS_DIM, ObsState, Rng};

use kalsim_host_sim::env::{Env, EnvConfig, Markets, VecEnv, load_markets, random_valid};
use kalsim_host_sim::policy::{Policy, RandomPolicy};

/// `println!` that tolerates a closed pipe.
macro_rules! emit_line {
    ($($t:tt)*) => {
        crate::cmd::emit(&(format!($($t)*) + "\n"))
    };
}

fn single_env(
    cfg: &EnvConfig,
    markets: &Markets,
    budget: Duration,
) -> Result<f64, Box<dyn std::error::Error + Send + Sync>> {
    let mut env = Env::new(cfg.clone(), markets.clone())?;
    let mut policy = RandomPolicy::new(1);
    let mut obs = vec![0.0f32; OBS_DIM];
    env.reset(Some(1), &mut obs)?;
    let mut steps = 0u64;
    let start = Instant::now();
    loop {
        for _ in 0..1_000 {
            let mask = env.action_mask();
            let a = policy.act(&obs, &mask);
            let r = env.step(a, &mut obs)?;
            if r.terminated || r.truncated {
                env.reset(None, &mut obs)?;
            }
        }
        steps += 1_000;
        if start.elapsed() >= budget {
            break;
        }
    }
    Ok(steps as f64 / start.elapsed().as_secs_f64())
}

fn vec_env(
    cfg: &EnvConfig,
    markets: &Markets,
    n: usize,
    threads: usize,
    budget: Duration,
) -> Result<f64, Box<dyn std::error::Error + Send + Sync>> {
    let mut venv = VecEnv::new(cfg.clone(), markets.clone(), n, threads)?;
    let mut obs = vec![0.0f32; n * OBS_DIM];
    let mut masks = vec![0u8; n * ACTION_COUNT];
    let mut rewards = vec![0.0f64; n];
    let mut term = vec![0u8; n];
    let mut trunc = vec![0u8; n];
    let mut actions = vec![0u32; n];
    let mut rng = Rng::new(2);
    venv.reset(2, &mut obs, &mut masks)?;
    let mut step = |venv: &mut VecEnv,
                    obs: &mut [f32],
                    masks: &mut [u8]|
     -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        for (a, m) in actions.iter_mut().zip(masks.chunks_exact(ACTION_COUNT)) {
            *a = random_valid(&mut rng, m);
        }
        venv.step(&actions, obs, &mut rewards, &mut term, &mut trunc, masks)?;
        Ok(())
    };
    // Warm-up (first-touch of buffers, thread pool start).
    for _ in 0..3 {
        step(&mut venv, &mut obs, &mut masks)?;
    }
    let mut batches = 0u64;
    let start = Instant::now();
    while start.elapsed() < budget || batches < 3 {
        step(&mut venv, &mut obs, &mut masks)?;
        batches += 1;
    }
    Ok((batches * n as u64) as f64 / start.elapsed().as_secs_f64())
}

/// Nanoseconds per observation: the features alone (mask given, as `Env::step` does), and
/// with the action mask computed too (`ObsState::observe`).
fn obs_cost_ns(
    cfg: &EnvConfig,
    markets: &Markets,
    budget: Duration,
) -> Result<(f64, f64), Box<dyn std::error::Error + Send + Sync>> {
    let mut env = Env::new(cfg.clone(), markets.clone())?;
    let mut obs = vec![0.0f32; OBS_DIM];
    env.reset(Some(3), &mut obs)?;
    // A realistic state: some steps in, with a position.
    let mut policy = RandomPolicy::new(3);
    for _ in 0..200 {
        let a = policy.act(&obs, &env.action_mask());
        if env.step(a, &mut obs)?.terminated {
            env.reset(None, &mut obs)?;
        }
    }
    let mask = env.action_mask();
    let time = |with_mask: bool| {
        let mut state = ObsState::new();
        let mut obs = vec![0.0f32; OBS_DIM];
        let mut calls = 0u64;
        let start = Instant::now();
        while start.elapsed() < budget {
            for i in 0..10_000 {
                if with_mask {
                    state.observe(env.engine(), 0.5, black_box(i), &mut obs);
                } else {
                    state.observe_with_mask(env.engine(), 0.5, black_box(i), &mask, &mut obs);
                }
                black_box(&obs);
            }
            calls += 10_000;
        }
        start.elapsed().as_nanos() as f64 / calls as f64
    };
    Ok((time(false), time(true)))
}

fn fmt_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2} M steps/s", r / 1e6)
    } else {
        format!("{:.1} k steps/s", r / 1e3)
    }
}

/// Run the benchmark and print the figures.
pub fn run(quick: bool) -> Result<(), String> {
    let budget = if quick {
        Duration::from_millis(300)
    } else {
        Duration::from_secs(2)
    };
    let cfg = EnvConfig::default();
    let t0 = Instant::now();
    let (markets, _) = load_markets(&cfg).map_err(|e| e.to_string())?;
    let events: usize = markets.iter().map(|m| m.events.len()).sum();
    emit_line!(
        "kalsim bench{}: {} synthetic markets, {} events, generated and loaded in {:.0} ms; \
         {} CPU(s) available; random valid actions",
        if quick { " --quick" } else { "" },
        markets.len(),
        events,
        t0.elapsed().as_secs_f64() * 1e3,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    let e = |e: Box<dyn std::error::Error + Send + Sync>| e.to_string();
    let single = single_env(&cfg, &markets, budget).map_err(e)?;
    emit_line!("{:<34} {}", "Env (single, 1 thread)", fmt_rate(single));
    for n in [64usize, 1024] {
        for threads in [1usize, 2] {
            let r = vec_env(&cfg, &markets, n, threads, budget).map_err(e)?;
            emit_line!(
                "{:<34} {}",
                format!("VecEnv N={n}, {threads} thread(s)"),
                fmt_rate(r)
            );
        }
    }
    let (alone, with_mask) = obs_cost_ns(&cfg, &markets, budget).map_err(e)?;
    emit_line!(
        "{:<34} {:.1} ns per observation ({:.1} ns with the action mask)",
        "observation build",
        alone,
        with_mask
    );
    emit_line!("total {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}
