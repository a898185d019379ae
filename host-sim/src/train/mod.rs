//! Training: PPO with invalid-action masking on a batch of environments.
//!
//! The trainer is pure, single-threaded `f32` math with hand-written gradients for small
//! MLPs, so a seed gives the same bits on every target (x86-64 and `wasm32`). Every
//! transcendental goes through `libm` or through `mlp::tanh`, a rational approximation
//! built only from IEEE basic operations (which are correctly rounded everywhere).
//!
//! - [`BatchEnv`]: the vector-environment interface the trainer drives (next-step autoreset).
//! - [`PpoConfig`], [`Trainer`]: the PPO algorithm, one-shot ([`Trainer::train`]) or in
//!   chunks for a browser worker ([`Trainer::start`] + [`Trainer::iterate`]).
//! - [`Policy`]: the trained networks, versioned JSON checkpoints and masked inference.
//! - [`IterStats`], [`write_csv_header`], [`write_csv_row`], [`write_json_line`]: logging.

mod adam;
mod log;
mod mlp;
mod policy;
mod ppo;
#[cfg(test)]
mod tests;

pub use log::{IterStats, TrainSummary, write_csv_header, write_csv_row, write_json_line};
pub use policy::{CHECKPOINT_FORMAT, CHECKPOINT_VERSION, Policy, PolicyError, PolicyScratch};
pub use ppo::{PpoConfig, TrainError, Trainer};

use serde::{Deserialize, Serialize};

/// Number of discrete actions (HOLD, 4 intents × 5 tiers, 4 reserved ids): the core's.
pub use kalsim_core::ACTION_COUNT;

/// A batch of environments stepped in lock-step (the lead's `VecEnv` implements this).
///
/// Autoreset follows Gymnasium ≥ 1.0 *next-step* semantics: the step that ends an episode
/// returns that episode's final observation with `terminated`/`truncated` set; the **next**
/// `step` for that env ignores its action and returns the reset observation with reward 0
/// and both flags false. The trainer never trains on that reset transition.
pub trait BatchEnv {
    /// Why a reset or a step failed (the trainer stops and reports it, naming the env).
    type Error: std::error::Error + Send + Sync + 'static;
    /// Number of environments `N`.
    fn num_envs(&self) -> usize;
    /// Length of one observation vector.
    fn obs_dim(&self) -> usize;
    /// Reset all envs; write N×obs_dim observations and N×25 masks (1 = allowed).
    fn reset_all(
        &mut self,
        seed: u64,
        obs: &mut [f32],
        masks: &mut [u8],
    ) -> Result<(), Self::Error>;
    /// Step all envs with one action each (next-step autoreset, see the trait docs); write
    /// N×obs_dim observations, N rewards, N terminated and N truncated flags (0/1) and N×25
    /// masks.
    fn step(
        &mut self,
        actions: &[u8],
        obs: &mut [f32],
        rewards: &mut [f32],
        terminated: &mut [u8],
        truncated: &mut [u8],
        masks: &mut [u8],
    ) -> Result<(), Self::Error>;
}

/// What an environment promises about its observations and actions; stored in every
/// checkpoint and checked before a policy is run ([`Policy::check_compatible`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyMeta {
    /// Version of the observation schema (SPEC §8).
    pub obs_schema_version: u32,
    /// Length of the observation vector.
    pub obs_dim: u32,
    /// Number of discrete actions (25).
    pub action_count: u32,
    /// Contracts per size tier (Small..Giant).
    pub size_table: [u32; 5],
    /// Sizing mode: `"variable"` or `"fixed:N"` (N contracts for every trade action).
    pub sizing: String,
    /// Pricing the policy was trained under, e.g. `"sweep:2:cancel"` or `"aggressive"`
    /// (empty = not recorded: not checked).
    #[serde(default)]
    pub pricing: String,
    /// Decision interval, `"events=k"` or `"ms=t"` (empty = not recorded).
    #[serde(default)]
    pub decision_interval: String,
    /// Synthetic preset, `"default"` or `"informed"` (empty = not recorded).
    #[serde(default)]
    pub preset: String,
}
