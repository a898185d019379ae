//! A trained checkpoint (the trainer's JSON, `train::Policy`) behind the [`Policy`] trait.

use kalsim_core::{ACTION_COUNT, Rng};

use super::{HOLD, Policy, masked_or_hold};
use crate::env::EnvConfig;
use crate::train::{self, PolicyError, PolicyScratch};

/// A trained policy: greedy (masked argmax) by default, or sampling from the masked softmax
/// with a seeded [`Rng`].
#[derive(Clone, Debug)]
pub struct TrainedPolicy {
    policy: train::Policy,
    scratch: PolicyScratch,
    rng: Rng,
    /// Masked argmax instead of a draw.
    pub greedy: bool,
    name: String,
}

impl TrainedPolicy {
    /// Read a checkpoint; `name` labels reports (e.g. the file name), `seed` drives sampling.
    pub fn from_json(text: &str, name: &str, seed: u64) -> Result<TrainedPolicy, PolicyError> {
        let policy = train::Policy::from_json(text)?;
        Ok(TrainedPolicy {
            scratch: policy.scratch(),
            policy,
            rng: Rng::derive(seed, 0x706f_6c69),
            greedy: true,
            name: name.to_owned(),
        })
    }

    /// Refuse an environment the policy was not trained for (observation schema, sizes,
    /// sizing mode); the error names the first field that differs.
    pub fn check_compatible(&self, cfg: &EnvConfig) -> Result<(), PolicyError> {
        self.policy.check_compatible(&cfg.policy_meta())
    }
}

impl Policy for TrainedPolicy {
    fn act(&mut self, obs: &[f32], mask: &[bool; ACTION_COUNT]) -> u32 {
        if obs.len() < self.policy.meta().obs_dim as usize {
            return HOLD;
        }
        let mut bytes = [0u8; ACTION_COUNT];
        for (b, m) in bytes.iter_mut().zip(mask) {
            *b = *m as u8;
        }
        let a = self
            .policy
            .act_with(&mut self.scratch, obs, &bytes, self.greedy, &mut self.rng);
        masked_or_hold(a as u32, mask)
    }
    fn name(&self) -> String {
        self.name.clone()
    }
}
