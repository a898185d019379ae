//! N environments stepped as a batch into contiguous caller-provided buffers.
//!
//! Gymnasium's next-step autoreset: when env `i` ends on a step, the next `step` call ignores
//! its action, resets it (to its next market) and returns the first observation of the new
//! episode with reward 0 and both flags false. Env `i` is seeded with `seed + i`-derived
//! streams, so results are identical for any thread count.

use kalsim_core::{ACTION_COUNT, OBS_DIM, Rng};

use super::{Env, EnvConfig, EnvError, Markets, StepInfo};

/// A batch of environments.
#[derive(Debug)]
pub struct VecEnv {
    envs: Vec<Env>,
    needs_reset: Vec<bool>,
    infos: Vec<StepInfo>,
    threads: usize,
    pub(super) scratch: super::batch::BatchScratch,
    #[cfg(feature = "threads")]
    pool: Option<rayon::ThreadPool>,
}

/// Output slices of one env within the batch buffers.
struct Slot<'a> {
    obs: &'a mut [f32],
    reward: &'a mut f64,
    terminated: &'a mut u8,
    truncated: &'a mut u8,
    mask: &'a mut [u8],
    info: &'a mut StepInfo,
}

impl VecEnv {
    /// `n` environments over the same markets, stepped on `threads` threads (1 = this thread;
    /// more needs the `threads` feature, otherwise it is clamped to 1).
    pub fn new(
        config: EnvConfig,
        markets: Markets,
        n: usize,
        threads: usize,
    ) -> Result<VecEnv, Box<dyn std::error::Error + Send + Sync>> {
        if n == 0 {
            return Err("a VecEnv needs at least one environment".into());
        }
        let envs = (0..n)
            .map(|_| Env::new(config.clone(), markets.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let threads = if cfg!(feature = "threads") {
            threads.clamp(1, n)
        } else {
            1
        };
        #[cfg(feature = "threads")]
        let pool = if threads > 1 {
            Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .map_err(|e| e.to_string())?,
            )
        } else {
            None
        };
        Ok(VecEnv {
            envs,
            needs_reset: vec![false; n],
            infos: vec![StepInfo::default(); n],
            threads,
            scratch: super::batch::BatchScratch::default(),
            #[cfg(feature = "threads")]
            pool,
        })
    }

    /// Number of environments.
    pub fn num_envs(&self) -> usize {
        self.envs.len()
    }
    /// Threads used.
    pub fn threads(&self) -> usize {
        self.threads
    }
    /// Observation length per env.
    pub const fn obs_dim(&self) -> usize {
        OBS_DIM
    }
    /// The environments.
    pub fn envs(&self) -> &[Env] {
        &self.envs
    }
    /// The infos of the last reset/step, one per env.
    pub fn infos(&self) -> &[StepInfo] {
        &self.infos
    }

    fn check(&self, name: &'static str, got: usize, per_env: usize) -> Result<(), EnvError> {
        let expected = self.envs.len() * per_env;
        if got == expected {
            Ok(())
        } else {
            Err(EnvError::Buffer {
                name,
                expected,
                got,
            })
        }
    }

    /// Reset every env: env `i` gets a seed derived from `(seed, i)`. Writes N×D observations
    /// and N×25 masks.
    pub fn reset(&mut self, seed: u64, obs: &mut [f32], masks: &mut [u8]) -> Result<(), EnvError> {
        self.check("obs", obs.len(), OBS_DIM)?;
        self.check("masks", masks.len(), ACTION_COUNT)?;
        for (i, ((env, o), m)) in self
            .envs
            .iter_mut()
            .zip(obs.chunks_exact_mut(OBS_DIM))
            .zip(masks.chunks_exact_mut(ACTION_COUNT))
            .enumerate()
        {
            let s = Rng::derive(seed, i as u64).next_u64();
            self.infos[i] = env.reset(Some(s), o)?;
            env.action_mask_into(m);
            self.needs_reset[i] = false;
        }
        Ok(())
    }

    /// Step every env with its action (ignored for envs being autoreset). Buffers: N×D obs,
    /// N rewards, N terminated, N truncated (0/1), N×25 masks. Actions ≥ 25 are rejected
    /// before any env moves.
    pub fn step(
        &mut self,
        actions: &[u32],
        obs: &mut [f32],
        rewards: &mut [f64],
        terminated: &mut [u8],
        truncated: &mut [u8],
        masks: &mut [u8],
    ) -> Result<(), EnvError> {
        self.check("actions", actions.len(), 1)?;
        self.check("obs", obs.len(), OBS_DIM)?;
        self.check("rewards", rewards.len(), 1)?;
        self.check("terminated", terminated.len(), 1)?;
        self.check("truncated", truncated.len(), 1)?;
        self.check("masks", masks.len(), ACTION_COUNT)?;
        for (i, &a) in actions.iter().enumerate() {
            if a as usize >= ACTION_COUNT && !self.needs_reset[i] {
                return Err(EnvError::Step(kalsim_core::StepError::Action(
                    kalsim_core::ActionError::OutOfRange(a),
                )));
            }
            if self.envs[i].is_done() && !self.needs_reset[i] {
                return Err(EnvError::EpisodeOver);
            }
        }
        #[cfg(feature = "threads")]
        if let Some(pool) = &self.pool {
            use rayon::prelude::*;
            let min_len = self.envs.len().div_ceil(self.threads);
            let envs = &mut self.envs;
            let needs = &mut self.needs_reset;
            let infos = &mut self.infos;
            return pool.install(|| {
                envs.par_iter_mut()
                    .zip(needs.par_iter_mut())
                    .zip(actions.par_iter())
                    .zip(infos.par_iter_mut())
                    .zip(obs.par_chunks_mut(OBS_DIM))
                    .zip(rewards.par_iter_mut())
                    .zip(terminated.par_iter_mut())
                    .zip(truncated.par_iter_mut())
                    .zip(masks.par_chunks_mut(ACTION_COUNT))
                    .with_min_len(min_len)
                    .try_for_each(
                        |(
                            (((((((env, nr), &a), info), obs), reward), terminated), truncated),
                            mask,
                        )| {
                            step_one(
                                env,
                                nr,
                                a,
                                &mut Slot {
                                    obs,
                                    reward,
                                    terminated,
                                    truncated,
                                    mask,
                                    info,
                                },
                            )
                        },
                    )
            });
        }
        self.envs
            .iter_mut()
            .zip(self.needs_reset.iter_mut())
            .zip(actions.iter())
            .zip(self.infos.iter_mut())
            .zip(obs.chunks_exact_mut(OBS_DIM))
            .zip(rewards.iter_mut())
            .zip(terminated.iter_mut())
            .zip(truncated.iter_mut())
            .zip(masks.chunks_exact_mut(ACTION_COUNT))
            .try_for_each(
                |((((((((env, nr), &a), info), obs), reward), terminated), truncated), mask)| {
                    step_one(
                        env,
                        nr,
                        a,
                        &mut Slot {
                            obs,
                            reward,
                            terminated,
                            truncated,
                            mask,
                            info,
                        },
                    )
                },
            )
    }
}

fn step_one(
    env: &mut Env,
    needs_reset: &mut bool,
    action: u32,
    slot: &mut Slot<'_>,
) -> Result<(), EnvError> {
    if *needs_reset {
        *slot.info = env.reset(None, slot.obs)?;
        *slot.reward = 0.0;
        *slot.terminated = 0;
        *slot.truncated = 0;
        *needs_reset = false;
    } else {
        let r = env.step(action, slot.obs)?;
        *slot.reward = r.reward;
        *slot.terminated = r.terminated as u8;
        *slot.truncated = r.truncated as u8;
        *slot.info = r.info;
        *needs_reset = r.terminated || r.truncated;
    }
    env.action_mask_into(slot.mask);
    Ok(())
}
