//! The trained policy: masked inference and the versioned JSON checkpoint.
//!
//! # Checkpoint format (`kalsim-policy`, version 1)
//!
//! One JSON object, keys in this order:
//!
//! ```text
//! {
//!   "format": "kalsim-policy",
//!   "version": 1,
//!   "meta": { "obs_schema_version": u32, "obs_dim": u32, "action_count": 25,
//!             "size_table": [u32; 5], "sizing": "variable" | "fixed:N" },
//!   "activation": "tanh",          // hidden layers; output layers are linear
//!   "hidden": [64, 64],
//!   "policy_net": { "layers": [ { "inputs": u32, "outputs": u32,
//!                                 "weight": [f32; inputs*outputs],  // row-major inputs×outputs
//!                                 "bias": [f32; outputs] }, ... ] },   // outputs: 25 logits
//!   "value_net":  { "layers": [ ... ] }                                // outputs: 1 value
//! }
//! ```
//!
//! `y = x · W + b` per layer, tanh between layers. Floats are written as the shortest
//! decimal that reads back to the same `f32`, so a round trip is exact and the same
//! networks always give the same bytes.

use core::fmt;

use kalsim_core::Rng;
use serde::{Deserialize, Serialize};

use super::mlp::Mlp;
use super::{ACTION_COUNT, PolicyMeta};

/// The `format` tag of a checkpoint.
pub const CHECKPOINT_FORMAT: &str = "kalsim-policy";
/// The checkpoint version this code writes and reads.
pub const CHECKPOINT_VERSION: u32 = 1;
/// First reserved action id (21..=24 are never allowed, whatever the mask says).
const FIRST_RESERVED: usize = 21;
/// Layers up to this width run [`Policy::act`] on stack buffers.
const STACK_WIDTH: usize = 256;

/// Why a checkpoint could not be read or does not fit an environment.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// The text is not valid JSON for the checkpoint schema.
    Json(String),
    /// The `format` tag is not `kalsim-policy`.
    Format(String),
    /// A checkpoint version this code cannot read.
    Version(u32),
    /// The networks are malformed (shapes, non-finite weights, unknown activation).
    Invalid(String),
    /// The policy was trained on another observation schema version.
    ObsSchemaVersion {
        /// Version in the checkpoint.
        policy: u32,
        /// Version the environment produces.
        env: u32,
    },
    /// The observation length differs.
    ObsDim {
        /// Length in the checkpoint.
        policy: u32,
        /// Length the environment produces.
        env: u32,
    },
    /// The number of actions differs (e.g. a 21-action model on a 25-action env).
    ActionCount {
        /// Actions in the checkpoint.
        policy: u32,
        /// Actions of the environment.
        env: u32,
    },
    /// The contracts per size tier differ.
    SizeTable {
        /// Table in the checkpoint.
        policy: [u32; 5],
        /// Table of the environment.
        env: [u32; 5],
    },
    /// The sizing mode differs (`variable` vs `fixed:N`).
    Sizing {
        /// Mode in the checkpoint.
        policy: String,
        /// Mode of the environment.
        env: String,
    },
    /// Another recorded environment setting differs (`pricing`, `decision_interval`,
    /// `preset`).
    Setting {
        /// The setting's name.
        name: &'static str,
        /// Value in the checkpoint.
        policy: String,
        /// Value of the environment.
        env: String,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Json(e) => write!(f, "policy checkpoint is not valid JSON: {e}"),
            PolicyError::Format(t) => {
                write!(
                    f,
                    "not a policy checkpoint: format is {t:?}, expected {CHECKPOINT_FORMAT:?}"
                )
            }
            PolicyError::Version(v) => {
                write!(
                    f,
                    "unsupported policy checkpoint version {v} (this build reads {CHECKPOINT_VERSION})"
                )
            }
            PolicyError::Invalid(e) => write!(f, "invalid policy checkpoint: {e}"),
            PolicyError::ObsSchemaVersion { policy, env } => write!(
                f,
                "observation schema version mismatch: policy trained on v{policy}, environment produces v{env}"
            ),
            PolicyError::ObsDim { policy, env } => {
                write!(
                    f,
                    "observation length mismatch: policy expects {policy}, environment produces {env}"
                )
            }
            PolicyError::ActionCount { policy, env } => {
                write!(
                    f,
                    "action count mismatch: policy has {policy} actions, environment has {env}"
                )
            }
            PolicyError::SizeTable { policy, env } => {
                write!(
                    f,
                    "size table mismatch: policy trained with {policy:?} contracts, environment uses {env:?}"
                )
            }
            PolicyError::Sizing { policy, env } => {
                write!(
                    f,
                    "sizing mode mismatch: policy trained with {policy:?}, environment uses {env:?}"
                )
            }
            PolicyError::Setting { name, policy, env } => {
                write!(
                    f,
                    "{name} mismatch: policy trained with {policy:?}, environment uses {env:?}"
                )
            }
        }
    }
}

impl std::error::Error for PolicyError {}

/// True for the sizing modes a [`PolicyMeta`] may name: `variable` or `fixed:N`, N > 0.
pub(crate) fn valid_sizing(sizing: &str) -> bool {
    sizing == "variable"
        || sizing
            .strip_prefix("fixed:")
            .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n > 0))
}

/// True when action `a` may be chosen under `mask` (nonzero = allowed; reserved ids never).
#[inline]
pub(crate) fn allowed(mask: &[u8], a: usize) -> bool {
    a < FIRST_RESERVED && mask[a] != 0
}

/// Masked softmax (Huang and Ontañón 2022): masked logits count as −∞, so their
/// probabilities are exactly 0 and their gradients vanish. Writes `probs` and returns the
/// log-normaliser `z`, so `ln p(a) = logits[a] − z` for allowed `a`. If nothing is allowed,
/// HOLD gets probability 1.
pub(crate) fn masked_softmax(logits: &[f32], mask: &[u8], probs: &mut [f32]) -> f32 {
    let mut max = f32::NEG_INFINITY;
    for (a, &logit) in logits[..ACTION_COUNT].iter().enumerate() {
        if allowed(mask, a) && logit > max {
            max = logit;
        }
    }
    if max == f32::NEG_INFINITY {
        probs[..ACTION_COUNT].fill(0.0);
        probs[0] = 1.0;
        return logits[0];
    }
    let mut sum = 0f32;
    for a in 0..ACTION_COUNT {
        let p = if allowed(mask, a) {
            libm::expf(logits[a] - max)
        } else {
            0.0
        };
        probs[a] = p;
        sum += p;
    }
    let inv = 1.0 / sum;
    for p in &mut probs[..ACTION_COUNT] {
        *p *= inv;
    }
    max + libm::logf(sum)
}

/// Draws an action from masked probabilities with one uniform `u ∈ [0, 1)`; only actions
/// with positive probability can come out (HOLD if none).
pub(crate) fn sample_from(probs: &[f32], u: f32) -> u8 {
    let mut cum = 0f32;
    let mut last = 0u8;
    for (a, &p) in probs[..ACTION_COUNT].iter().enumerate() {
        if p > 0.0 {
            cum += p;
            last = a as u8;
            if u < cum {
                return a as u8;
            }
        }
    }
    last
}

/// Masked argmax of `logits` (lowest id on ties); HOLD if nothing is allowed.
fn masked_argmax(logits: &[f32], mask: &[u8]) -> u8 {
    let mut best = None;
    for a in 0..ACTION_COUNT {
        if allowed(mask, a) && best.is_none_or(|b: usize| logits[a] > logits[b]) {
            best = Some(a);
        }
    }
    best.unwrap_or(0) as u8
}

/// Buffers for allocation-free inference with any layer width ([`Policy::act_with`]).
#[derive(Clone, Debug)]
pub struct PolicyScratch {
    a: Vec<f32>,
    b: Vec<f32>,
}

/// A trained actor (policy network, 25 logits) and critic (value network), with the
/// [`PolicyMeta`] of the environment it was trained on.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub(crate) meta: PolicyMeta,
    pub(crate) policy_net: Mlp,
    pub(crate) value_net: Mlp,
    /// Observation normalisation learned in training (`normalize_obs`), applied before both
    /// networks: `clip((x − mean) · inv_std, ±clip)` in `f32`.
    pub(crate) obs_norm: Option<ObsNorm>,
}

/// Running observation normalisation frozen into a checkpoint (SB3 `VecNormalize` style).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObsNorm {
    /// Per-feature mean.
    pub mean: Vec<f32>,
    /// Per-feature `1 / std`.
    pub inv_std: Vec<f32>,
    /// Clip of normalised values.
    pub clip: f32,
}

impl ObsNorm {
    /// Normalise `obs` into `out` (same length).
    #[inline]
    pub fn apply(&self, obs: &[f32], out: &mut [f32]) {
        for (((o, &x), &m), &k) in out.iter_mut().zip(obs).zip(&self.mean).zip(&self.inv_std) {
            *o = ((x - m) * k).clamp(-self.clip, self.clip);
        }
    }
}

#[derive(Serialize, Deserialize)]
struct LayerFile {
    inputs: u32,
    outputs: u32,
    weight: Vec<f32>,
    bias: Vec<f32>,
}

#[derive(Serialize, Deserialize)]
struct NetFile {
    layers: Vec<LayerFile>,
}

#[derive(Serialize, Deserialize)]
struct PolicyFile {
    format: String,
    version: u32,
    meta: PolicyMeta,
    activation: String,
    hidden: Vec<u32>,
    policy_net: NetFile,
    value_net: NetFile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    obs_norm: Option<ObsNorm>,
}

fn net_to_file(net: &Mlp) -> NetFile {
    let layers = (0..net.layers())
        .map(|l| {
            let (i, o) = (net.sizes[l], net.sizes[l + 1]);
            let off = net.layer_offset(l);
            LayerFile {
                inputs: i as u32,
                outputs: o as u32,
                weight: net.params[off..off + i * o].to_vec(),
                bias: net.params[off + i * o..off + i * o + o].to_vec(),
            }
        })
        .collect();
    NetFile { layers }
}

fn net_from_file(
    file: &NetFile,
    name: &str,
    inputs: usize,
    hidden: &[usize],
    outputs: usize,
) -> Result<Mlp, PolicyError> {
    let mut sizes = vec![inputs];
    sizes.extend_from_slice(hidden);
    sizes.push(outputs);
    if file.layers.len() != sizes.len() - 1 {
        return Err(PolicyError::Invalid(format!(
            "{name} has {} layers, expected {}",
            file.layers.len(),
            sizes.len() - 1
        )));
    }
    let mut params = Vec::with_capacity(Mlp::param_count(&sizes));
    for (l, layer) in file.layers.iter().enumerate() {
        let (i, o) = (sizes[l], sizes[l + 1]);
        if layer.inputs as usize != i || layer.outputs as usize != o {
            return Err(PolicyError::Invalid(format!(
                "{name} layer {l} is {}×{}, expected {i}×{o}",
                layer.inputs, layer.outputs
            )));
        }
        if layer.weight.len() != i * o || layer.bias.len() != o {
            return Err(PolicyError::Invalid(format!(
                "{name} layer {l} has {} weights and {} biases, expected {} and {o}",
                layer.weight.len(),
                layer.bias.len(),
                i * o
            )));
        }
        if layer
            .weight
            .iter()
            .chain(&layer.bias)
            .any(|v| !v.is_finite())
        {
            return Err(PolicyError::Invalid(format!(
                "{name} layer {l} has a non-finite parameter"
            )));
        }
        params.extend_from_slice(&layer.weight);
        params.extend_from_slice(&layer.bias);
    }
    Ok(Mlp { sizes, params })
}

impl Policy {
    /// The environment description this policy was trained on.
    pub fn meta(&self) -> &PolicyMeta {
        &self.meta
    }

    /// Hidden layer widths (shared by the policy and value networks).
    pub fn hidden(&self) -> &[usize] {
        let s = &self.policy_net.sizes;
        &s[1..s.len() - 1]
    }

    /// Serialises to the versioned checkpoint JSON (see the module docs).
    pub fn to_json(&self) -> String {
        let file = PolicyFile {
            format: CHECKPOINT_FORMAT.to_string(),
            version: CHECKPOINT_VERSION,
            meta: self.meta.clone(),
            activation: "tanh".to_string(),
            hidden: self.hidden().iter().map(|&h| h as u32).collect(),
            policy_net: net_to_file(&self.policy_net),
            value_net: net_to_file(&self.value_net),
            obs_norm: self.obs_norm.clone(),
        };
        serde_json::to_string(&file).expect("checkpoint serialisation cannot fail")
    }

    /// Reads a checkpoint written by [`Policy::to_json`], validating format, version,
    /// activation and every layer's shape.
    pub fn from_json(text: &str) -> Result<Policy, PolicyError> {
        let file: PolicyFile =
            serde_json::from_str(text).map_err(|e| PolicyError::Json(e.to_string()))?;
        if file.format != CHECKPOINT_FORMAT {
            return Err(PolicyError::Format(file.format));
        }
        if file.version != CHECKPOINT_VERSION {
            return Err(PolicyError::Version(file.version));
        }
        if file.activation != "tanh" {
            return Err(PolicyError::Invalid(format!(
                "unknown activation {:?}",
                file.activation
            )));
        }
        if file.meta.action_count as usize != ACTION_COUNT {
            return Err(PolicyError::ActionCount {
                policy: file.meta.action_count,
                env: ACTION_COUNT as u32,
            });
        }
        if !valid_sizing(&file.meta.sizing) {
            return Err(PolicyError::Invalid(format!(
                "sizing is {:?}, expected \"variable\" or \"fixed:N\"",
                file.meta.sizing
            )));
        }
        if file.hidden.contains(&0) {
            return Err(PolicyError::Invalid("a hidden layer has width 0".into()));
        }
        let hidden: Vec<usize> = file.hidden.iter().map(|&h| h as usize).collect();
        let obs_dim = file.meta.obs_dim as usize;
        let policy_net = net_from_file(
            &file.policy_net,
            "policy_net",
            obs_dim,
            &hidden,
            ACTION_COUNT,
        )?;
        let value_net = net_from_file(&file.value_net, "value_net", obs_dim, &hidden, 1)?;
        if let Some(n) = &file.obs_norm
            && (n.mean.len() != obs_dim
                || n.inv_std.len() != obs_dim
                || n.mean.iter().chain(&n.inv_std).any(|v| !v.is_finite())
                || !(n.clip.is_finite() && n.clip > 0.0))
        {
            return Err(PolicyError::Invalid(format!(
                "obs_norm must hold {obs_dim} finite means and inverse deviations and a positive clip"
            )));
        }
        Ok(Policy {
            meta: file.meta,
            policy_net,
            value_net,
            obs_norm: file.obs_norm,
        })
    }

    /// Checks that this policy fits an environment described by `env`; the error names the
    /// first field that differs (schema version, obs length, action count, size table,
    /// sizing mode).
    pub fn check_compatible(&self, env: &PolicyMeta) -> Result<(), PolicyError> {
        let p = &self.meta;
        if p.obs_schema_version != env.obs_schema_version {
            return Err(PolicyError::ObsSchemaVersion {
                policy: p.obs_schema_version,
                env: env.obs_schema_version,
            });
        }
        if p.obs_dim != env.obs_dim {
            return Err(PolicyError::ObsDim {
                policy: p.obs_dim,
                env: env.obs_dim,
            });
        }
        if p.action_count != env.action_count {
            return Err(PolicyError::ActionCount {
                policy: p.action_count,
                env: env.action_count,
            });
        }
        if p.size_table != env.size_table {
            return Err(PolicyError::SizeTable {
                policy: p.size_table,
                env: env.size_table,
            });
        }
        if p.sizing != env.sizing {
            return Err(PolicyError::Sizing {
                policy: p.sizing.clone(),
                env: env.sizing.clone(),
            });
        }
        for (name, a, b) in [
            ("pricing", &p.pricing, &env.pricing),
            (
                "decision_interval",
                &p.decision_interval,
                &env.decision_interval,
            ),
            ("preset", &p.preset, &env.preset),
        ] {
            // An empty value was not recorded (hand-made metadata): not checked.
            if !a.is_empty() && !b.is_empty() && a != b {
                return Err(PolicyError::Setting {
                    name,
                    policy: a.clone(),
                    env: b.clone(),
                });
            }
        }
        Ok(())
    }

    /// Buffers for [`Policy::act_with`] / [`Policy::action_probs_with`].
    pub fn scratch(&self) -> PolicyScratch {
        let widest = self
            .policy_net
            .sizes
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            .max(ACTION_COUNT);
        PolicyScratch {
            a: vec![0.0; widest],
            b: vec![0.0; widest],
        }
    }

    fn fits_on_stack(&self) -> bool {
        self.policy_net.sizes[1..].iter().all(|&w| w <= STACK_WIDTH)
    }

    /// Chooses an action for one observation: the masked argmax when `greedy`, otherwise a
    /// draw from the masked softmax using `rng`. Never returns a masked or reserved action;
    /// HOLD (0) if everything is masked. Allocation-free for layers up to 256 wide
    /// (otherwise use [`Policy::act_with`]).
    ///
    /// Panics if `obs` is shorter than `obs_dim` or `mask` shorter than 25.
    pub fn act(&self, obs: &[f32], mask: &[u8], greedy: bool, rng: &mut Rng) -> u8 {
        if self.fits_on_stack() {
            let (mut a, mut b) = ([0f32; STACK_WIDTH], [0f32; STACK_WIDTH]);
            self.act_buffers(obs, mask, greedy, rng, &mut a, &mut b)
        } else {
            let mut s = self.scratch();
            self.act_with(&mut s, obs, mask, greedy, rng)
        }
    }

    /// [`Policy::act`] with caller-owned buffers (never allocates).
    pub fn act_with(
        &self,
        scratch: &mut PolicyScratch,
        obs: &[f32],
        mask: &[u8],
        greedy: bool,
        rng: &mut Rng,
    ) -> u8 {
        let PolicyScratch { a, b } = scratch;
        self.act_buffers(obs, mask, greedy, rng, a, b)
    }

    /// `obs`, or its normalisation written to `buf` (`buf` holds at least `obs_dim`).
    fn input<'a>(&self, obs: &'a [f32], buf: &'a mut [f32]) -> &'a [f32] {
        match &self.obs_norm {
            None => obs,
            Some(n) => {
                let d = n.mean.len().min(obs.len()).min(buf.len());
                n.apply(&obs[..d], &mut buf[..d]);
                &buf[..d]
            }
        }
    }

    fn act_buffers(
        &self,
        obs: &[f32],
        mask: &[u8],
        greedy: bool,
        rng: &mut Rng,
        a: &mut [f32],
        b: &mut [f32],
    ) -> u8 {
        let mut x = [0f32; STACK_WIDTH];
        let mut heap = Vec::new();
        let buf: &mut [f32] = if obs.len() <= STACK_WIDTH {
            &mut x
        } else {
            heap.resize(obs.len(), 0.0);
            &mut heap
        };
        let obs = self.input(obs, buf);
        let logits = self.policy_net.forward_one(obs, a, b);
        if greedy {
            return masked_argmax(logits, mask);
        }
        let mut probs = [0f32; ACTION_COUNT];
        masked_softmax(logits, mask, &mut probs);
        sample_from(&probs, rng.next_f32())
    }

    /// Writes the masked action probabilities for one observation into `out` (exactly 0
    /// for masked and reserved actions; HOLD = 1 if everything is masked). Allocation-free
    /// for layers up to 256 wide.
    pub fn action_probs(&self, obs: &[f32], mask: &[u8], out: &mut [f32; ACTION_COUNT]) {
        if self.fits_on_stack() && obs.len() <= STACK_WIDTH {
            let (mut a, mut b) = ([0f32; STACK_WIDTH], [0f32; STACK_WIDTH]);
            let mut x = [0f32; STACK_WIDTH];
            let obs = self.input(obs, &mut x);
            let logits = self.policy_net.forward_one(obs, &mut a, &mut b);
            masked_softmax(logits, mask, out);
        } else {
            let mut s = self.scratch();
            self.action_probs_with(&mut s, obs, mask, out);
        }
    }

    /// [`Policy::action_probs`] with caller-owned buffers (never allocates).
    pub fn action_probs_with(
        &self,
        scratch: &mut PolicyScratch,
        obs: &[f32],
        mask: &[u8],
        out: &mut [f32; ACTION_COUNT],
    ) {
        let mut x = vec![0f32; obs.len()];
        let obs = self.input(obs, &mut x);
        let logits = self
            .policy_net
            .forward_one(obs, &mut scratch.a, &mut scratch.b);
        masked_softmax(logits, mask, out);
    }

    /// The critic's value estimate for one observation (in reward units). Allocation-free
    /// for layers up to 256 wide.
    pub fn value(&self, obs: &[f32]) -> f32 {
        let mut x = vec![0f32; obs.len()];
        let obs = self.input(obs, &mut x);
        if self.fits_on_stack() {
            let (mut a, mut b) = ([0f32; STACK_WIDTH], [0f32; STACK_WIDTH]);
            self.value_net.forward_one(obs, &mut a, &mut b)[0]
        } else {
            let mut s = self.scratch();
            self.value_net.forward_one(obs, &mut s.a, &mut s.b)[0]
        }
    }
}
