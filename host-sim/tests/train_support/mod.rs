//! A tiny deterministic contextual-bandit-like `BatchEnv` for the trainer tests.
#![allow(dead_code)]

use kalsim_core::Rng;
use kalsim_host_sim::train::{BatchEnv, PolicyMeta};

/// Actions that are right in context 0 and context 1.
pub const BEST: [u8; 2] = [5, 13];

/// Each episode draws a context `c ∈ {0, 1}` shown one-hot in the first two observation
/// entries (the rest is small noise plus a constant). Choosing `BEST[c]` pays +1, any other
/// trade −0.2, HOLD 0. SELL actions (6..=10, 16..=20) and reserved ids are masked. Episodes
/// last `len` steps and alternately terminate and truncate. Next-step autoreset.
#[derive(Debug)]
pub struct ToyEnv {
    pub n: usize,
    pub dim: usize,
    pub len: u32,
    ctx: Vec<usize>,
    t: Vec<u32>,
    episode: Vec<u64>,
    needs_reset: Vec<bool>,
    rng: Rng,
    /// Actions passed on autoreset steps (they must be ignored).
    pub reset_steps: u64,
}

impl ToyEnv {
    pub fn new(n: usize, dim: usize, len: u32) -> ToyEnv {
        ToyEnv {
            n,
            dim,
            len,
            ctx: vec![0; n],
            t: vec![0; n],
            episode: vec![0; n],
            needs_reset: vec![false; n],
            rng: Rng::new(0),
            reset_steps: 0,
        }
    }

    pub fn meta(&self) -> PolicyMeta {
        meta(self.dim as u32)
    }

    fn reset_one(&mut self, i: usize, obs: &mut [f32], masks: &mut [u8]) {
        self.ctx[i] = self.rng.below(2) as usize;
        self.t[i] = 0;
        self.write(i, obs, masks);
    }

    fn write(&mut self, i: usize, obs: &mut [f32], masks: &mut [u8]) {
        let o = &mut obs[i * self.dim..(i + 1) * self.dim];
        for v in o.iter_mut() {
            *v = 0.1 * (self.rng.next_f32() - 0.5);
        }
        o[0] = if self.ctx[i] == 0 { 1.0 } else { -1.0 };
        o[1] = -o[0];
        o[self.dim - 1] = 1.0;
        write_mask(&mut masks[i * 25..(i + 1) * 25]);
    }
}

/// The toy env's fixed mask: BUYs and HOLD allowed.
pub fn write_mask(mask: &mut [u8]) {
    for (a, m) in mask.iter_mut().enumerate() {
        *m = u8::from(a <= 5 || (11..=15).contains(&a));
    }
}

pub fn meta(dim: u32) -> PolicyMeta {
    PolicyMeta {
        obs_schema_version: 1,
        obs_dim: dim,
        action_count: 25,
        size_table: [5, 10, 20, 50, 100],
        sizing: "variable".to_string(),
        ..PolicyMeta::default()
    }
}

impl BatchEnv for ToyEnv {
    type Error = std::convert::Infallible;

    fn num_envs(&self) -> usize {
        self.n
    }

    fn obs_dim(&self) -> usize {
        self.dim
    }

    fn reset_all(
        &mut self,
        seed: u64,
        obs: &mut [f32],
        masks: &mut [u8],
    ) -> Result<(), Self::Error> {
        self.rng = Rng::new(seed);
        for i in 0..self.n {
            self.needs_reset[i] = false;
            self.episode[i] = 0;
            self.reset_one(i, obs, masks);
        }
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
    ) -> Result<(), Self::Error> {
        for i in 0..self.n {
            terminated[i] = 0;
            truncated[i] = 0;
            if self.needs_reset[i] {
                self.needs_reset[i] = false;
                self.reset_steps += 1;
                rewards[i] = 0.0;
                self.reset_one(i, obs, masks);
                continue;
            }
            let a = actions[i];
            assert!(
                a < 25 && (a <= 5 || (11..=15).contains(&a)),
                "masked action {a} stepped"
            );
            rewards[i] = if a == BEST[self.ctx[i]] {
                1.0
            } else if a == 0 {
                0.0
            } else {
                -0.2
            };
            self.t[i] += 1;
            if self.t[i] >= self.len {
                self.needs_reset[i] = true;
                if self.episode[i] % 2 == 0 {
                    terminated[i] = 1;
                } else {
                    truncated[i] = 1;
                }
                self.episode[i] += 1;
            }
            self.write(i, obs, masks);
        }
        Ok(())
    }
}
