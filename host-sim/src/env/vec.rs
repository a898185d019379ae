//! N environments stepped as a batch into contiguous caller-provided buffers.
//!
//! Two autoreset modes ([`Autoreset`]):
//!
//! - **next step** (the default, Gymnasium's): when env `i` ends on a step, the next `step`
//!   call ignores its action, resets it (to its next market) and returns the first
//!   observation of the new episode with reward 0 and both flags false;
//! - **same step** (Stable-Baselines3's): the step that ends env `i` returns its reward,
//!   flags and final info, but the first observation and mask of the next episode; the
//!   final observation is kept for [`VecEnv::final_observation`] and the finished episode's
//!   metrics for [`VecEnv::episode_metrics`].
//!
//! Env `i` is seeded with `(seed, i)`-derived streams, so results are identical for any
//! thread count, in either mode.

use kalsim_core::{ACTION_COUNT, OBS_DIM, Rng, SizingMetrics};

use super::{Env, EnvConfig, EnvError, Markets, StepInfo};

/// When an environment of a [`VecEnv`] that ended is reset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Autoreset {
    /// On the following `step`, which ignores its action (Gymnasium's `NEXT_STEP`).
    #[default]
    NextStep,
    /// Within the step that ended it (Stable-Baselines3's convention; Gymnasium's
    /// `SAME_STEP`).
    SameStep,
}

/// What a same-step autoreset keeps of the episode it ended.
#[derive(Clone, Debug)]
struct EndState {
    /// The env ended on the last step (and was reset within it).
    ended: bool,
    /// Its final observation.
    obs: [f32; OBS_DIM],
    /// The finished episode's metrics.
    metrics: Option<SizingMetrics>,
}

impl Default for EndState {
    fn default() -> Self {
        EndState {
            ended: false,
            obs: [0.0; OBS_DIM],
            metrics: None,
        }
    }
}

/// A batch of environments.
#[derive(Debug)]
pub struct VecEnv {
    envs: Vec<Env>,
    needs_reset: Vec<bool>,
    infos: Vec<StepInfo>,
    ends: Vec<EndState>,
    autoreset: Autoreset,
    threads: usize,
    pub(super) scratch: super::batch::BatchScratch,
    #[cfg(feature = "threads")]
    team: Option<super::pool::Team>,
}

/// Base pointers of every per-env row of one `step` (the envs' state and the caller's
/// buffers), shared by the team: chunk k touches only its own rows.
#[cfg(feature = "threads")]
struct Rows {
    envs: *mut Env,
    needs: *mut bool,
    infos: *mut StepInfo,
    ends: *mut EndState,
    actions: *const u32,
    obs: *mut f32,
    rewards: *mut f64,
    terminated: *mut u8,
    truncated: *mut u8,
    masks: *mut u8,
}

// SAFETY: `Rows` is only used inside `Team::run`, whose chunks touch disjoint rows.
#[cfg(feature = "threads")]
unsafe impl Sync for Rows {}

#[cfg(feature = "threads")]
impl Rows {
    /// Step row `i`.
    ///
    /// # Safety
    /// Every buffer holds more than `i` rows, and no other thread touches row `i` now.
    unsafe fn step_row(&self, i: usize, mode: Autoreset) -> Result<(), EnvError> {
        // SAFETY: the caller's contract: row `i` is in bounds and exclusively ours.
        unsafe {
            step_one(
                &mut *self.envs.add(i),
                &mut *self.needs.add(i),
                *self.actions.add(i),
                mode,
                &mut Slot {
                    obs: std::slice::from_raw_parts_mut(self.obs.add(i * OBS_DIM), OBS_DIM),
                    reward: &mut *self.rewards.add(i),
                    terminated: &mut *self.terminated.add(i),
                    truncated: &mut *self.truncated.add(i),
                    mask: std::slice::from_raw_parts_mut(
                        self.masks.add(i * ACTION_COUNT),
                        ACTION_COUNT,
                    ),
                    info: &mut *self.infos.add(i),
                    end: &mut *self.ends.add(i),
                },
            )
        }
    }
}

/// Output slices of one env within the batch buffers.
struct Slot<'a> {
    obs: &'a mut [f32],
    reward: &'a mut f64,
    terminated: &'a mut u8,
    truncated: &'a mut u8,
    mask: &'a mut [u8],
    info: &'a mut StepInfo,
    end: &'a mut EndState,
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
        let team = if threads > 1 {
            Some(super::pool::Team::new(threads).map_err(|e| format!("VecEnv threads: {e}"))?)
        } else {
            None
        };
        Ok(VecEnv {
            envs,
            needs_reset: vec![false; n],
            infos: vec![StepInfo::default(); n],
            ends: vec![EndState::default(); n],
            autoreset: Autoreset::NextStep,
            threads,
            scratch: super::batch::BatchScratch::default(),
            #[cfg(feature = "threads")]
            team,
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
    /// The infos of the last reset/step, one per env (in same-step mode, an env that ended
    /// on the step keeps its final info).
    pub fn infos(&self) -> &[StepInfo] {
        &self.infos
    }

    /// The autoreset mode.
    pub fn autoreset(&self) -> Autoreset {
        self.autoreset
    }

    /// Choose the autoreset mode, from the next step on (an env left waiting for a
    /// next-step reset still gets it on that step).
    pub fn set_autoreset(&mut self, mode: Autoreset) {
        self.autoreset = mode;
    }

    /// Same-step mode: env `i` ended on the last step (and was reset within it).
    pub fn ended(&self, i: usize) -> bool {
        self.ends.get(i).is_some_and(|e| e.ended)
    }

    /// Same-step mode: the final observation of env `i`'s episode that ended on the last step
    /// (`None` if it did not end, or in next-step mode, where the step returns it itself).
    pub fn final_observation(&self, i: usize) -> Option<&[f32; OBS_DIM]> {
        self.ends.get(i).filter(|e| e.ended).map(|e| &e.obs)
    }

    /// SPEC §9 metrics of env `i`'s current episode, or, right after a step that ended it,
    /// of the finished episode (in either autoreset mode). `None` when `i` is out of range.
    pub fn episode_metrics(&self, i: usize) -> Option<&SizingMetrics> {
        let end = self.ends.get(i)?;
        match (&end.metrics, end.ended) {
            (Some(m), true) => Some(m),
            _ => Some(self.envs[i].metrics()),
        }
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
            self.ends[i].ended = false;
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
        if let Some(team) = &self.team {
            let n = self.envs.len();
            let chunk = n.div_ceil(team.size());
            let p = Rows {
                envs: self.envs.as_mut_ptr(),
                needs: self.needs_reset.as_mut_ptr(),
                infos: self.infos.as_mut_ptr(),
                ends: self.ends.as_mut_ptr(),
                actions: actions.as_ptr(),
                obs: obs.as_mut_ptr(),
                rewards: rewards.as_mut_ptr(),
                terminated: terminated.as_mut_ptr(),
                truncated: truncated.as_mut_ptr(),
                masks: masks.as_mut_ptr(),
            };
            let mode = self.autoreset;
            let first_error = std::sync::Mutex::new(None::<(usize, EnvError)>);
            team.run(&|k| {
                let (lo, hi) = ((k * chunk).min(n), ((k + 1) * chunk).min(n));
                for i in lo..hi {
                    // SAFETY: every buffer holds n rows (checked above) and chunk k owns rows
                    // lo..hi alone, so the references are in bounds and unaliased.
                    let r = unsafe { p.step_row(i, mode) };
                    if let Err(e) = r {
                        if let Ok(mut f) = first_error.lock()
                            && f.as_ref().is_none_or(|(j, _)| i < *j)
                        {
                            *f = Some((i, e));
                        }
                        break;
                    }
                }
            });
            return match first_error.into_inner() {
                Ok(Some((_, e))) => Err(e),
                _ => Ok(()),
            };
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
            .zip(self.ends.iter_mut())
            .try_for_each(
                |(
                    ((((((((env, nr), &a), info), obs), reward), terminated), truncated), mask),
                    end,
                )| {
                    step_one(
                        env,
                        nr,
                        a,
                        self.autoreset,
                        &mut Slot {
                            obs,
                            reward,
                            terminated,
                            truncated,
                            mask,
                            info,
                            end,
                        },
                    )
                },
            )
    }
}

/// A uniformly random valid action from a byte mask (HOLD when nothing is allowed).
pub fn random_valid(rng: &mut Rng, mask: &[u8]) -> u32 {
    let n = mask.iter().filter(|m| **m != 0).count() as u64;
    let k = rng.below(n.max(1)) as usize;
    mask.iter()
        .enumerate()
        .filter(|(_, m)| **m != 0)
        .nth(k)
        .map_or(0, |(a, _)| a as u32)
}

impl VecEnv {
    /// Reset with `seed`, then step `batches` times with uniformly random valid actions
    /// drawn here (one stream from `seed`, env by env): the native baseline a binding's
    /// per-step overhead is measured against, and a smoke run. Buffers are allocated once,
    /// before the first step. Returns the env steps taken (`batches` x N).
    pub fn run_random(&mut self, seed: u64, batches: u64) -> Result<u64, EnvError> {
        let n = self.num_envs();
        let mut obs = vec![0.0f32; n * OBS_DIM];
        let mut masks = vec![0u8; n * ACTION_COUNT];
        let (mut rewards, mut term, mut trunc) = (vec![0.0; n], vec![0u8; n], vec![0u8; n]);
        let mut actions = vec![0u32; n];
        let mut rng = Rng::new(seed);
        self.reset(seed, &mut obs, &mut masks)?;
        for _ in 0..batches {
            for (a, m) in actions.iter_mut().zip(masks.chunks_exact(ACTION_COUNT)) {
                *a = random_valid(&mut rng, m);
            }
            self.step(
                &actions,
                &mut obs,
                &mut rewards,
                &mut term,
                &mut trunc,
                &mut masks,
            )?;
        }
        Ok(batches * n as u64)
    }
}

fn step_one(
    env: &mut Env,
    needs_reset: &mut bool,
    action: u32,
    mode: Autoreset,
    slot: &mut Slot<'_>,
) -> Result<(), EnvError> {
    slot.end.ended = false;
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
        let done = r.terminated || r.truncated;
        match mode {
            Autoreset::NextStep => *needs_reset = done,
            Autoreset::SameStep if done => {
                let end = &mut *slot.end;
                end.ended = true;
                end.obs.copy_from_slice(slot.obs);
                match &mut end.metrics {
                    Some(m) => m.clone_from(env.metrics()),
                    None => end.metrics = Some(env.metrics().clone()),
                }
                env.reset(None, slot.obs)?;
            }
            Autoreset::SameStep => {}
        }
    }
    env.action_mask_into(slot.mask);
    Ok(())
}
