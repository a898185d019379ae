//! Policies for evaluation and comparison. Baselines: `hold`, `random`, `fixed` (a book-signal
//! rule that always trades the Medium tier) and `kelly` (the same signal sized by a quarter
//! Kelly fraction and snapped to the allowed tiers); and [`TrainedPolicy`], a trainer
//! checkpoint.
//!
//! Every policy respects the action mask: it never returns a masked action and falls back to
//! HOLD (0). Observation features are looked up by name in the published schema
//! ([`OBS_FEATURES`](kalsim_core::OBS_FEATURES)), never by hard-coded index. Not gated on any
//! feature: the policies build for `wasm32` too.

mod baselines;
mod forecast;
mod signal;
mod trained;

use std::fmt;

use kalsim_core::ACTION_COUNT;

pub use baselines::{FixedPolicy, HoldPolicy, KellyPolicy, RandomPolicy};
pub use forecast::{ForecastRule, PRIOR_STD, fee as forecast_fee, forecast_posterior};
pub use signal::{BookSignal, ObsIndex, SignalFilter, feature_index};
pub use trained::TrainedPolicy;

/// HOLD, the action that is always allowed.
pub const HOLD: u32 = 0;

/// What the evaluation loop can tell a policy beyond the observation: only reference
/// policies use it (the `oracle` reads the generator's latent probability, SPEC §10);
/// nothing a learning agent sees comes from here.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ActContext {
    /// The synthetic market's latent probability of YES now, when the data has one.
    pub latent_probability: Option<f64>,
}

/// A policy: observation and mask in, action id out.
pub trait Policy: fmt::Debug {
    /// The action for `obs` (length [`OBS_DIM`](kalsim_core::OBS_DIM)); never a masked action.
    fn act(&mut self, obs: &[f32], mask: &[bool; ACTION_COUNT]) -> u32;
    /// [`Policy::act`] with the evaluation context (default: ignores it).
    fn act_with(&mut self, obs: &[f32], mask: &[bool; ACTION_COUNT], _ctx: &ActContext) -> u32 {
        self.act(obs, mask)
    }
    /// A short name for reports.
    fn name(&self) -> String;
}

/// What a policy needs to know about the environment it acts in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolicyContext {
    /// Contracts per tier, Small..Giant (the observation scales sizes by the largest).
    pub sizes: [u32; 5],
    /// Cash at reset, cents (the observation scales PV by it).
    pub initial_cash_cents: i64,
    /// `limits.max_position_per_market` (the observation scales the position by it).
    pub max_position_per_market: u32,
}

impl Default for PolicyContext {
    fn default() -> Self {
        PolicyContext {
            sizes: [5, 10, 20, 50, 100],
            initial_cash_cents: 100_000,
            max_position_per_market: 500,
        }
    }
}

impl PolicyContext {
    /// The context of an environment configuration (fixed sizing: every tier trades
    /// `fixed_size`).
    pub fn from_config(cfg: &crate::env::EnvConfig) -> PolicyContext {
        PolicyContext {
            sizes: if cfg.is_fixed() {
                [cfg.fixed_size; 5]
            } else {
                cfg.sizes
            },
            initial_cash_cents: cfg.initial_cash_cents,
            max_position_per_market: cfg.limits.max_position_per_market,
        }
    }
}

/// A policy name that is not a baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownPolicy(pub String);

impl fmt::Display for UnknownPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown policy {:?}: expected one of {} or a policy .json file",
            self.0,
            BASELINES.join(", ")
        )
    }
}

impl std::error::Error for UnknownPolicy {}

/// Names accepted by [`policy_from_name`].
pub const BASELINES: [&str; 7] = [
    "hold",
    "random",
    "fixed",
    "kelly",
    "forecast-kelly",
    "forecast-fixed",
    "oracle",
];

/// A baseline by name with the default context (default sizes and initial cash).
pub fn policy_from_name(name: &str, seed: u64) -> Result<Box<dyn Policy>, UnknownPolicy> {
    policy_with_context(name, seed, PolicyContext::default())
}

/// A baseline by name for an environment described by `ctx`.
pub fn policy_with_context(
    name: &str,
    seed: u64,
    ctx: PolicyContext,
) -> Result<Box<dyn Policy>, UnknownPolicy> {
    Ok(match name {
        "hold" => Box::new(HoldPolicy),
        "random" => Box::new(RandomPolicy::new(seed)),
        "fixed" => Box::new(FixedPolicy::default()),
        "kelly" => Box::new(KellyPolicy::new(ctx)),
        "forecast-kelly" => Box::new(ForecastRule::kelly(ctx)),
        "forecast-fixed" => Box::new(ForecastRule::fixed(ctx)),
        "oracle" => Box::new(ForecastRule::oracle(ctx)),
        other => return Err(UnknownPolicy(other.to_owned())),
    })
}

/// The action id of intent `intent` (1..=4, the codec's numbering) at tier index `tier`
/// (0..=4): the core's [`encode`](kalsim_core::action::encode) of SPEC §2.
pub const fn action_id(intent: u32, tier: usize) -> u32 {
    let intent = kalsim_core::Intent::TRADES[(intent - 1) as usize];
    kalsim_core::action::encode(intent, kalsim_core::Tier::ALL[tier]) as u32
}

/// `action` if allowed by `mask`, else HOLD.
pub fn masked_or_hold(action: u32, mask: &[bool; ACTION_COUNT]) -> u32 {
    if mask.get(action as usize).copied().unwrap_or(false) {
        action
    } else {
        HOLD
    }
}
