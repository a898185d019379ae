//! The golden-vector format (SPEC §11).
//!
//! A vector file `tests/vectors/NAME.json` holds an environment configuration, a seed, an
//! action sequence and everything the environment must return for it: the reset observation,
//! mask and info, then per step the observation (as `f32` bit patterns), reward (`f64`),
//! flags, mask and info. The Rust, C, Python and WASM suites replay the same files and must
//! match bit for bit. Regenerate with `KALSIM_BLESS=1 cargo test -p kalsim-tests --test golden`
//! (only when a rule change is intended; the diff is the review).

use kalsim_core::{OBS_DIM, Rng};
use kalsim_host_sim::env::{Env, EnvConfig, EnvError, StepInfo, load_markets};
use serde::{Deserialize, Serialize};

/// What the environment returned at reset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResetRecord {
    /// Observation as `f32::to_bits`.
    pub obs_bits: Vec<u32>,
    /// Action mask, 25 entries of 0/1.
    pub mask: Vec<u8>,
    /// Info at reset.
    pub info: StepInfoRecord,
}

/// [`StepInfo`] as a JSON object (all fields by name).
pub type StepInfoRecord = serde_json::Value;

/// What one step returned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Action sent.
    pub action: u32,
    /// Observation as `f32::to_bits`.
    pub obs_bits: Vec<u32>,
    /// Reward.
    pub reward: f64,
    /// Terminated flag.
    pub terminated: bool,
    /// Truncated flag.
    pub truncated: bool,
    /// Mask after the step.
    pub mask: Vec<u8>,
    /// Info after the step.
    pub info: StepInfoRecord,
}

/// One golden vector file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Vector {
    /// Always `kalsim-golden`.
    pub format: String,
    /// Format version, 1.
    pub version: u32,
    /// Case name (the file stem).
    pub name: String,
    /// Where the case comes from and what it exercises.
    pub note: String,
    /// Environment configuration (EnvConfig JSON).
    pub config: serde_json::Value,
    /// Reset seed.
    pub seed: u64,
    /// Reset output.
    pub reset: ResetRecord,
    /// Step outputs, one per action, until the episode ends or the actions run out.
    pub steps: Vec<StepRecord>,
}

/// How a case chooses its actions.
#[derive(Clone, Copy, Debug)]
pub enum ActionScript {
    /// Uniform over the valid actions of the current mask, from this seed.
    RandomMasked(u64),
    /// Uniform over all 25 ids (masked and reserved included), from this seed.
    RandomAny(u64),
    /// 0, 1, …, 24, 0, 1, … in turn.
    Cycle,
    /// HOLD with probability `hold_bps / 10 000`, else uniform over the mask (lets resting orders live).
    Sparse(u64, u32),
}

fn info_record(info: &StepInfo) -> StepInfoRecord {
    serde_json::to_value(info).unwrap_or_default()
}

fn mask_bytes(env: &Env) -> Vec<u8> {
    env.action_mask().iter().map(|&b| b as u8).collect()
}

fn reset_record(env: &mut Env, seed: u64, obs: &mut [f32]) -> Result<ResetRecord, EnvError> {
    let info = env.reset(Some(seed), obs)?;
    Ok(ResetRecord {
        obs_bits: obs.iter().map(|x| x.to_bits()).collect(),
        mask: mask_bytes(env),
        info: info_record(&info),
    })
}

fn step_record(env: &mut Env, action: u32, obs: &mut [f32]) -> Result<StepRecord, EnvError> {
    let r = env.step(action, obs)?;
    Ok(StepRecord {
        action,
        obs_bits: obs.iter().map(|x| x.to_bits()).collect(),
        reward: r.reward,
        terminated: r.terminated,
        truncated: r.truncated,
        mask: mask_bytes(env),
        info: info_record(&r.info),
    })
}

/// Run a case and record everything it returns, up to `max_steps` steps.
pub fn record(
    name: &str,
    note: &str,
    config: &EnvConfig,
    seed: u64,
    script: ActionScript,
    max_steps: usize,
) -> Result<Vector, Box<dyn std::error::Error + Send + Sync>> {
    let (markets, _) = load_markets(config)?;
    let mut env = Env::new(config.clone(), markets)?;
    let mut obs = vec![0.0f32; OBS_DIM];
    let reset = reset_record(&mut env, seed, &mut obs)?;
    let mut rng = match script {
        ActionScript::RandomMasked(s) | ActionScript::RandomAny(s) | ActionScript::Sparse(s, _) => {
            Rng::new(s)
        }
        ActionScript::Cycle => Rng::new(0),
    };
    let mut steps = Vec::new();
    for i in 0..max_steps {
        let action = match script {
            ActionScript::RandomMasked(_) => {
                let mask = env.action_mask();
                let valid: Vec<u32> = (0..25).filter(|&a| mask[a as usize]).collect();
                valid[rng.below(valid.len() as u64) as usize]
            }
            ActionScript::RandomAny(_) => rng.below(25) as u32,
            ActionScript::Sparse(_, hold_bps) => {
                let mask = env.action_mask();
                let valid: Vec<u32> = (1..25).filter(|&a| mask[a as usize]).collect();
                if rng.chance_bps(hold_bps) || valid.is_empty() {
                    0
                } else {
                    valid[rng.below(valid.len() as u64) as usize]
                }
            }
            ActionScript::Cycle => (i % 25) as u32,
        };
        let step = step_record(&mut env, action, &mut obs)?;
        let done = step.terminated || step.truncated;
        steps.push(step);
        if done {
            break;
        }
    }
    Ok(Vector {
        format: "kalsim-golden".into(),
        version: 1,
        name: name.into(),
        note: note.into(),
        config: serde_json::from_str(&config.to_json())?,
        seed,
        reset,
        steps,
    })
}

/// Replay a vector's configuration, seed and actions and return what the environment gives now.
pub fn replay(v: &Vector) -> Result<Vector, Box<dyn std::error::Error + Send + Sync>> {
    let config = EnvConfig::from_json(&v.config.to_string())?;
    let (markets, _) = load_markets(&config)?;
    let mut env = Env::new(config, markets)?;
    let mut obs = vec![0.0f32; OBS_DIM];
    let reset = reset_record(&mut env, v.seed, &mut obs)?;
    let mut steps = Vec::new();
    for s in &v.steps {
        steps.push(step_record(&mut env, s.action, &mut obs)?);
    }
    Ok(Vector {
        reset,
        steps,
        ..v.clone()
    })
}
