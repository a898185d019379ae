//! The trainer's view of a [`VecEnv`]: `train::BatchEnv`, and the policy metadata of a configuration.

use kalsim_core::{ACTION_COUNT, OBS_DIM, OBS_SCHEMA_VERSION};

use super::{EnvConfig, EnvError, VecEnv};
use crate::train::{BatchEnv, PolicyMeta};

impl EnvConfig {
    /// What a policy trained on this configuration records, and what a loaded policy must match.
    pub fn policy_meta(&self) -> PolicyMeta {
        PolicyMeta {
            obs_schema_version: OBS_SCHEMA_VERSION,
            obs_dim: OBS_DIM as u32,
            action_count: ACTION_COUNT as u32,
            size_table: self.sizes,
            sizing: self.sizing_label(),
            pricing: self.pricing_label(),
            decision_interval: self.decision_interval.label(),
            preset: self.preset_label().to_owned(),
        }
    }
}

/// Scratch buffers that adapt the trainer's `u8` actions and `f32` rewards to the VecEnv's.
#[derive(Debug, Default)]
pub(super) struct BatchScratch {
    pub actions: Vec<u32>,
    pub rewards: Vec<f64>,
}

impl BatchEnv for VecEnv {
    type Error = EnvError;

    fn num_envs(&self) -> usize {
        VecEnv::num_envs(self)
    }

    fn obs_dim(&self) -> usize {
        OBS_DIM
    }

    fn reset_all(&mut self, seed: u64, obs: &mut [f32], masks: &mut [u8]) -> Result<(), EnvError> {
        self.reset(seed, obs, masks)
    }

    fn step(
        &mut self,
        actions: &[u8],
        obs: &mut [f32],
        rewards: &mut [f32],
        terminated: &mut [u8],
        truncated: &mut [u8],
        masks: &mut [u8],
    ) -> Result<(), EnvError> {
        let n = VecEnv::num_envs(self);
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.actions.resize(n, 0);
        scratch.rewards.resize(n, 0.0);
        for (dst, &a) in scratch.actions.iter_mut().zip(actions) {
            *dst = a as u32;
        }
        let r = VecEnv::step(
            self,
            &scratch.actions,
            obs,
            &mut scratch.rewards,
            terminated,
            truncated,
            masks,
        );
        for (dst, &r) in rewards.iter_mut().zip(&scratch.rewards) {
            *dst = r as f32;
        }
        self.scratch = scratch;
        r
    }
}
