//! The policy the actor runs: a baseline by name or a trained checkpoint, checked against
//! the environment before anything starts.

use std::error::Error;
use std::path::Path;

use kalsim_core::{ACTION_COUNT, Rng};

use crate::env::EnvConfig;
use crate::policy::{Policy as BaselinePolicy, PolicyContext, policy_with_context};
use crate::train::{Policy as TrainedPolicy, PolicyMeta};

/// What the environment of `cfg` promises a policy: observation schema version and length,
/// 25 actions, the configured size table and the sizing mode (`variable` / `fixed:N`).
/// (The trainer records the same, [`EnvConfig::policy_meta`].)
pub fn env_policy_meta(cfg: &EnvConfig) -> PolicyMeta {
    cfg.policy_meta()
}

/// A policy ready to act.
#[derive(Debug)]
pub enum LivePolicy {
    /// A baseline from [`crate::policy`].
    Baseline(Box<dyn BaselinePolicy>),
    /// A trained checkpoint.
    Trained {
        /// The networks.
        policy: Box<TrainedPolicy>,
        /// Masked argmax (true) or a seeded draw from the masked softmax.
        greedy: bool,
        /// The draws' generator.
        rng: Rng,
        /// Where it was loaded from.
        name: String,
    },
}

impl LivePolicy {
    /// `spec` is a baseline name (`hold`, `random`, `fixed`, `kelly`) or a checkpoint file
    /// (anything ending in `.json` or naming an existing file). A checkpoint whose
    /// observation schema version, observation length, action count, size table or sizing
    /// mode differs from `cfg`'s environment is refused with the trainer's error.
    pub fn load(
        spec: &str,
        cfg: &EnvConfig,
        seed: u64,
        greedy: bool,
    ) -> Result<LivePolicy, Box<dyn Error + Send + Sync>> {
        if spec.ends_with(".json") || Path::new(spec).is_file() {
            let text = std::fs::read_to_string(spec)
                .map_err(|e| format!("policy checkpoint {spec}: {e}"))?;
            let policy = TrainedPolicy::from_json(&text)
                .map_err(|e| format!("policy checkpoint {spec}: {e}"))?;
            LivePolicy::trained(policy, cfg, seed, greedy, spec)
        } else {
            let p = policy_with_context(spec, seed, PolicyContext::from_config(cfg))?;
            Ok(LivePolicy::Baseline(p))
        }
    }

    /// Wrap a trained policy after checking it fits `cfg`'s environment.
    pub fn trained(
        policy: TrainedPolicy,
        cfg: &EnvConfig,
        seed: u64,
        greedy: bool,
        name: &str,
    ) -> Result<LivePolicy, Box<dyn Error + Send + Sync>> {
        policy
            .check_compatible(&env_policy_meta(cfg))
            .map_err(|e| format!("policy {name} does not fit this environment: {e}"))?;
        Ok(LivePolicy::Trained {
            policy: Box::new(policy),
            greedy,
            rng: Rng::derive(seed, 0x6c69_7665),
            name: name.to_owned(),
        })
    }

    /// The action for `obs` under `mask` (never a masked action).
    pub fn act(&mut self, obs: &[f32], mask: &[bool; ACTION_COUNT]) -> u32 {
        match self {
            LivePolicy::Baseline(p) => p.act(obs, mask),
            LivePolicy::Trained {
                policy,
                greedy,
                rng,
                ..
            } => {
                let m: [u8; ACTION_COUNT] = mask.map(u8::from);
                u32::from(policy.act(obs, &m, *greedy, rng))
            }
        }
    }

    /// A short name for logs.
    pub fn name(&self) -> String {
        match self {
            LivePolicy::Baseline(p) => p.name(),
            LivePolicy::Trained { name, .. } => name.clone(),
        }
    }
}
