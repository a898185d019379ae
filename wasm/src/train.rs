//! The PPO trainer and trained policies for JS (`Trainer`, `Policy`), over the host's
//! `kalsim_host_sim::train`. Training runs in the caller's thread; the sandbox calls
//! `iterate()` from a Web Worker so the page stays responsive.

use js_sys::Float32Array;
use kalsim_core::{ACTION_COUNT, Rng};
use kalsim_host_sim::env::{EnvConfig, VecEnv};
use kalsim_host_sim::train::{Policy, PolicyScratch, PpoConfig, Trainer};
use wasm_bindgen::prelude::*;

use crate::data::WasmDataset;
use crate::{parse_config, parse_seed, to_js};

/// Largest rollout (`n_steps × numEnvs`) and layer width accepted here: beyond them a
/// browser tab runs out of memory, which in WASM is an abort rather than an error.
const MAX_ROLLOUT: usize = 1 << 18;
const MAX_WIDTH: usize = 2048;
const MAX_LAYERS: usize = 8;

fn parse_ppo(value: &JsValue) -> Result<PpoConfig, JsError> {
    let cfg: PpoConfig = if value.is_undefined() || value.is_null() {
        PpoConfig::default()
    } else {
        let text = match value.as_string() {
            Some(s) => s,
            None => js_sys::JSON::stringify(value)
                .map_err(|_| JsError::new("ppo config: not convertible to JSON"))?
                .as_string()
                .unwrap_or_default(),
        };
        serde_json::from_str(&text).map_err(|e| JsError::new(&format!("ppo config: {e}")))?
    };
    if cfg.hidden.len() > MAX_LAYERS || cfg.hidden.iter().any(|&w| w > MAX_WIDTH) {
        return Err(JsError::new(&format!(
            "ppo config: at most {MAX_LAYERS} hidden layers of width ≤ {MAX_WIDTH} in the browser"
        )));
    }
    Ok(cfg)
}

/// PPO with invalid-action masking over a `VecEnv` (the host's algorithm, bit for bit).
#[wasm_bindgen(js_name = Trainer)]
#[derive(Debug)]
pub struct WasmTrainer {
    trainer: Trainer,
    env: VecEnv,
}

impl WasmTrainer {
    fn build(
        cfg: EnvConfig,
        ppo: PpoConfig,
        num_envs: u32,
        data: &WasmDataset,
    ) -> Result<Self, JsError> {
        if num_envs == 0 || num_envs > 1024 {
            return Err(JsError::new("numEnvs must be within 1..=1024"));
        }
        if ppo.n_steps.saturating_mul(num_envs as usize) > MAX_ROLLOUT {
            return Err(JsError::new(&format!(
                "n_steps × numEnvs must be at most {MAX_ROLLOUT} in the browser"
            )));
        }
        let meta = cfg.policy_meta();
        let venv = VecEnv::new(cfg, data.markets().clone(), num_envs as usize, 1)
            .map_err(|e| JsError::new(&e.to_string()))?;
        let trainer = Trainer::new(ppo, meta).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(WasmTrainer { trainer, env: venv })
    }
}

#[wasm_bindgen(js_class = Trainer)]
impl WasmTrainer {
    /// A trainer for `numEnvs` environments of `envConfig` (over its synthetic markets or
    /// `capture`), with PPO hyper-parameters `ppoConfig` (snake_case keys, all optional).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "EnvConfigInput | string | undefined")]
        env_config: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Partial<PpoConfig> | string | undefined")]
        ppo_config: JsValue,
        num_envs: u32,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | ArrayBuffer | undefined")]
        capture: JsValue,
    ) -> Result<WasmTrainer, JsError> {
        let cfg = parse_config(&env_config)?;
        let ppo = parse_ppo(&ppo_config)?;
        let data = WasmDataset::resolve(&cfg, &capture)?;
        WasmTrainer::build(cfg, ppo, num_envs, &data)
    }

    /// Over an already loaded dataset.
    #[wasm_bindgen(js_name = fromDataset)]
    pub fn from_dataset(
        #[wasm_bindgen(unchecked_param_type = "EnvConfigInput | string | undefined")]
        env_config: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Partial<PpoConfig> | string | undefined")]
        ppo_config: JsValue,
        num_envs: u32,
        dataset: &WasmDataset,
    ) -> Result<WasmTrainer, JsError> {
        WasmTrainer::build(
            parse_config(&env_config)?,
            parse_ppo(&ppo_config)?,
            num_envs,
            dataset,
        )
    }

    /// Begin a run: reset every env with `seed` and seed the sampling streams.
    pub fn start(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint | string")] seed: JsValue,
    ) -> Result<(), JsError> {
        let seed = parse_seed(&seed)?.unwrap_or(0);
        self.trainer
            .start(&mut self.env, seed)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// One iteration (rollout + update); returns its statistics.
    #[wasm_bindgen(unchecked_return_type = "IterStats")]
    pub fn iterate(&mut self) -> Result<JsValue, JsError> {
        let stats = self
            .trainer
            .iterate(&mut self.env)
            .map_err(|e| JsError::new(&e.to_string()))?;
        to_js(&stats)
    }

    /// Environment steps taken since `start`.
    #[wasm_bindgen(getter)]
    pub fn timesteps(&self) -> f64 {
        self.trainer.timesteps() as f64
    }

    /// The policy as trained so far, as a versioned JSON checkpoint.
    #[wasm_bindgen(js_name = policyJson)]
    pub fn policy_json(&self) -> String {
        self.trainer.policy().to_json()
    }

    /// The policy as trained so far (a copy).
    pub fn policy(&self) -> WasmPolicy {
        WasmPolicy::wrap(self.trainer.policy().clone())
    }

    /// The hyper-parameters in effect, as JSON.
    #[wasm_bindgen(js_name = configJson)]
    pub fn config_json(&self) -> String {
        serde_json::to_string(self.trainer.config()).unwrap_or_default()
    }
}

/// A trained policy: masked inference over observations (greedy or sampled).
#[wasm_bindgen(js_name = Policy)]
#[derive(Debug)]
pub struct WasmPolicy {
    policy: Policy,
    scratch: PolicyScratch,
    rng: Rng,
}

impl WasmPolicy {
    fn wrap(policy: Policy) -> WasmPolicy {
        WasmPolicy {
            scratch: policy.scratch(),
            policy,
            rng: Rng::new(0),
        }
    }

    fn check(&self, obs: &[f32], mask: Option<&[u8]>) -> Result<(), JsError> {
        let dim = self.policy.meta().obs_dim as usize;
        if obs.len() != dim {
            return Err(JsError::new(&format!(
                "obs has length {}, the policy expects {dim}",
                obs.len()
            )));
        }
        if let Some(m) = mask {
            if m.len() != ACTION_COUNT {
                return Err(JsError::new(&format!(
                    "mask has length {}, expected {ACTION_COUNT}",
                    m.len()
                )));
            }
        }
        Ok(())
    }
}

#[wasm_bindgen(js_class = Policy)]
impl WasmPolicy {
    /// Load a checkpoint (`Trainer.policyJson()` or `kalsim train` output).
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(text: &str) -> Result<WasmPolicy, JsError> {
        Policy::from_json(text)
            .map(WasmPolicy::wrap)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The checkpoint JSON.
    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self) -> String {
        self.policy.to_json()
    }

    /// Reseed the sampling stream (used when `greedy` is false).
    pub fn seed(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint | string")] seed: JsValue,
    ) -> Result<(), JsError> {
        self.rng = Rng::new(parse_seed(&seed)?.unwrap_or(0));
        Ok(())
    }

    /// An action for `obs` under `mask`: the masked argmax when `greedy` (default true),
    /// otherwise a draw from the masked softmax. Never a masked action; HOLD if all are.
    pub fn act(&mut self, obs: &[f32], mask: &[u8], greedy: Option<bool>) -> Result<u8, JsError> {
        self.check(obs, Some(mask))?;
        Ok(self.policy.act_with(
            &mut self.scratch,
            obs,
            mask,
            greedy.unwrap_or(true),
            &mut self.rng,
        ))
    }

    /// The masked action probabilities (25).
    #[wasm_bindgen(js_name = actionProbs)]
    pub fn action_probs(&mut self, obs: &[f32], mask: &[u8]) -> Result<Float32Array, JsError> {
        self.check(obs, Some(mask))?;
        let mut out = [0f32; ACTION_COUNT];
        self.policy
            .action_probs_with(&mut self.scratch, obs, mask, &mut out);
        Ok(Float32Array::from(&out[..]))
    }

    /// The critic's value estimate.
    pub fn value(&self, obs: &[f32]) -> Result<f32, JsError> {
        self.check(obs, None)?;
        Ok(self.policy.value(obs))
    }

    /// The environment description recorded in the checkpoint.
    #[wasm_bindgen(unchecked_return_type = "PolicyMeta")]
    pub fn meta(&self) -> Result<JsValue, JsError> {
        to_js(self.policy.meta())
    }

    /// Throw unless the policy was trained on an environment like `envConfig` (schema
    /// version, obs length, size table, sizing).
    #[wasm_bindgen(js_name = checkCompatible)]
    pub fn check_compatible(
        &self,
        #[wasm_bindgen(unchecked_param_type = "EnvConfigInput | string | undefined")]
        env_config: JsValue,
    ) -> Result<(), JsError> {
        let cfg = parse_config(&env_config)?;
        self.policy
            .check_compatible(&cfg.policy_meta())
            .map_err(|e| JsError::new(&e.to_string()))
    }
}
