//! The Rust side of the C example's `--bench`: the same policy (xorshift64* over the allowed
//! actions), the same default configuration and seed, stepping `kalsim_host_sim::env::Env`
//! directly. Compare with `episode --bench STEPS`.
//!
//! `cargo run --release -p kalsim-ffi --example bench_env -- 2000000 42`

use std::time::Instant;

use kalsim_host_sim::env::{Env, EnvConfig, load_markets};

fn next_random(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let steps: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(42);
    let cfg = EnvConfig::default();
    let (markets, _) = load_markets(&cfg).expect("markets");
    let mut env = Env::new(cfg, markets).expect("env");
    let mut obs = [0f32; 32];
    let mut mask = [0u8; 25];
    let mut rng = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    env.reset(Some(seed), &mut obs).expect("reset");
    let start = Instant::now();
    let mut checksum = 0.0;
    for _ in 0..steps {
        env.action_mask_into(&mut mask);
        let allowed: Vec<u32> = (0..25u32).filter(|&a| mask[a as usize] != 0).collect();
        let action = allowed[(next_random(&mut rng) % allowed.len() as u64) as usize];
        let r = env.step(action, &mut obs).expect("step");
        checksum += r.reward;
        if r.terminated || r.truncated {
            env.reset(None, &mut obs).expect("reset");
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "rust_env_steps {steps} seconds {secs:.3} steps_per_second {:.0} checksum {checksum:.4}",
        steps as f64 / secs
    );
}
