//! `Env` and `VecEnv` for JS: thin wrappers over `kalsim_host_sim::env`.

use js_sys::{Float32Array, Float64Array, Object, Uint8Array};
use kalsim_core::{ACTION_COUNT, OBS_DIM, invalid_action_name};
use kalsim_host_sim::env::{Env, EnvConfig, StepInfo, VecEnv};
use wasm_bindgen::prelude::*;

pub use crate::data::WasmDataset;
use crate::dto::{BookLevels, EpisodeMetrics};
use crate::{js_err, parse_config, parse_seed, set, to_js};

/// One environment (SPEC §7): Gymnasium `reset`/`step` with typed-array observations.
#[wasm_bindgen(js_name = Env)]
#[derive(Debug)]
pub struct WasmEnv {
    env: Env,
    obs: Vec<f32>,
    info: StepInfo,
    terminated: bool,
    truncated: bool,
}

impl WasmEnv {
    /// The host environment.
    pub fn inner(&self) -> &Env {
        &self.env
    }
    fn build(cfg: EnvConfig, data: &WasmDataset) -> Result<WasmEnv, JsError> {
        Ok(WasmEnv {
            env: Env::new(cfg, data.markets().clone()).map_err(js_err)?,
            obs: vec![0.0; OBS_DIM],
            info: StepInfo::default(),
            terminated: false,
            truncated: false,
        })
    }
}

/// The info object with the `invalid_action` reason's name added.
pub(crate) fn info_js(info: &StepInfo) -> Result<JsValue, JsError> {
    let v = to_js(info)?;
    let obj: Object = v.clone().into();
    set(
        &obj,
        "invalid_action_name",
        &JsValue::from_str(invalid_action_name(info.invalid_action)),
    )?;
    Ok(v)
}

#[wasm_bindgen(js_class = Env)]
impl WasmEnv {
    /// An environment from a config (object, JSON string or undefined = defaults) over the
    /// config's synthetic markets, or over `capture` (Kalshi JSONL text or UTF-8 bytes).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "EnvConfigInput | string | undefined")]
        config: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | ArrayBuffer | undefined")]
        capture: JsValue,
    ) -> Result<WasmEnv, JsError> {
        let cfg = parse_config(&config)?;
        let data = WasmDataset::resolve(&cfg, &capture)?;
        WasmEnv::build(cfg, &data)
    }

    /// An environment over an already loaded [`WasmDataset`] (shared, not copied).
    #[wasm_bindgen(js_name = fromDataset)]
    pub fn from_dataset(
        #[wasm_bindgen(unchecked_param_type = "EnvConfigInput | string | undefined")]
        config: JsValue,
        dataset: &WasmDataset,
    ) -> Result<WasmEnv, JsError> {
        WasmEnv::build(parse_config(&config)?, dataset)
    }

    /// Gymnasium `reset(seed)`: `{obs, info, mask}`. Without a seed, go on to the next market.
    #[wasm_bindgen(unchecked_return_type = "ResetResult")]
    pub fn reset(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint | string | undefined")]
        seed: JsValue,
    ) -> Result<JsValue, JsError> {
        let seed = parse_seed(&seed)?;
        self.info = self.env.reset(seed, &mut self.obs).map_err(js_err)?;
        self.terminated = false;
        self.truncated = false;
        let out = Object::new();
        set(&out, "obs", &Float32Array::from(&self.obs[..]).into())?;
        set(&out, "info", &info_js(&self.info)?)?;
        set(&out, "mask", &self.action_mask().into())?;
        Ok(out.into())
    }

    /// Gymnasium `step(action)`: `{obs, reward, terminated, truncated, info}`. Errors: action
    /// ≥ 25, masked action in strict mode, before reset, after the end.
    #[wasm_bindgen(unchecked_return_type = "StepResult")]
    pub fn step(&mut self, action: f64) -> Result<JsValue, JsError> {
        let reward = self.step_fast(action)?;
        let out = Object::new();
        set(&out, "obs", &Float32Array::from(&self.obs[..]).into())?;
        set(&out, "reward", &JsValue::from_f64(reward))?;
        set(&out, "terminated", &JsValue::from_bool(self.terminated))?;
        set(&out, "truncated", &JsValue::from_bool(self.truncated))?;
        set(&out, "info", &info_js(&self.info)?)?;
        Ok(out.into())
    }

    /// The allocation-light step: returns the reward only; read `terminated`, `truncated`,
    /// `observation()` / `observationInto(buf)` and `info()` as needed.
    #[wasm_bindgen(js_name = stepFast)]
    pub fn step_fast(&mut self, action: f64) -> Result<f64, JsError> {
        let action = action_id(action)?;
        let r = self.env.step(action, &mut self.obs).map_err(js_err)?;
        self.info = r.info;
        self.terminated = r.terminated;
        self.truncated = r.truncated;
        Ok(r.reward)
    }

    /// The last observation (a copy).
    pub fn observation(&self) -> Float32Array {
        Float32Array::from(&self.obs[..])
    }

    /// Copy the last observation into `out` (length `obsDim`).
    #[wasm_bindgen(js_name = observationInto)]
    pub fn observation_into(&self, out: &Float32Array) -> Result<(), JsError> {
        if out.length() as usize != OBS_DIM {
            return Err(JsError::new(&format!(
                "buffer obs has length {}, expected {OBS_DIM}",
                out.length()
            )));
        }
        out.copy_from(&self.obs);
        Ok(())
    }

    /// The last info (SPEC §7).
    #[wasm_bindgen(unchecked_return_type = "StepInfo")]
    pub fn info(&self) -> Result<JsValue, JsError> {
        info_js(&self.info)
    }

    /// The last step ended the episode by settlement or PV ≤ 0.
    #[wasm_bindgen(getter)]
    pub fn terminated(&self) -> bool {
        self.terminated
    }
    /// The last step ended the episode by data end or `max_steps`.
    #[wasm_bindgen(getter)]
    pub fn truncated(&self) -> bool {
        self.truncated
    }
    /// The episode is over (call `reset`).
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.env.is_done()
    }
    /// Length of the observation vector.
    #[wasm_bindgen(getter, js_name = obsDim)]
    pub fn obs_dim(&self) -> u32 {
        OBS_DIM as u32
    }
    /// Ticker of the current episode's market.
    #[wasm_bindgen(getter)]
    pub fn ticker(&self) -> String {
        self.env.market().ticker.clone()
    }
    /// Book events of the current market (an episode has `events − 1` steps at most).
    #[wasm_bindgen(getter, js_name = marketEvents)]
    pub fn market_events(&self) -> u32 {
        self.env.market().events.len() as u32
    }

    /// The synthetic market's latent probability of YES at the current event (SPEC §10),
    /// `undefined` when the data has none: for the `oracle` baseline (`Baseline.act`) only,
    /// never part of the observation.
    #[wasm_bindgen(getter, js_name = latentProbability)]
    pub fn latent_probability(&self) -> Option<f64> {
        self.env.latent_probability()
    }

    /// The 25-cell action mask (1 = allowed).
    #[wasm_bindgen(js_name = actionMask)]
    pub fn action_mask(&self) -> Uint8Array {
        let mut m = [0u8; ACTION_COUNT];
        self.env.action_mask_into(&mut m);
        Uint8Array::from(&m[..])
    }

    /// The observation schema.
    #[wasm_bindgen(js_name = obsSchema, unchecked_return_type = "ObsFeature[]")]
    pub fn obs_schema(&self) -> Result<JsValue, JsError> {
        crate::obs_schema()
    }

    /// SPEC §9 metrics of the current episode so far.
    #[wasm_bindgen(unchecked_return_type = "EpisodeMetrics")]
    pub fn metrics(&self) -> Result<JsValue, JsError> {
        to_js(&EpisodeMetrics::new(
            self.env.metrics(),
            &self.env.engine().config().sizes,
        ))
    }

    /// The top `depth` (default 10) levels of both ladders, best prices and the working order.
    #[wasm_bindgen(js_name = bookLevels, unchecked_return_type = "BookLevels")]
    pub fn book_levels(&self, depth: Option<u32>) -> Result<JsValue, JsError> {
        to_js(&BookLevels::new(
            self.env.engine(),
            depth.unwrap_or(10).min(99) as usize,
        ))
    }

    /// The effective configuration as JSON.
    #[wasm_bindgen(js_name = configJson)]
    pub fn config_json(&self) -> String {
        self.env.config().to_json()
    }
}

/// An action id from a JS number: integers ≥ 25 reach the core (which names them out of
/// range); anything else is refused here.
pub(crate) fn action_id(action: f64) -> Result<u32, JsError> {
    if action.is_finite() && action.fract() == 0.0 && action >= 0.0 {
        Ok(if action > u32::MAX as f64 {
            u32::MAX
        } else {
            action as u32
        })
    } else {
        Err(JsError::new(&format!(
            "action {action} is not a non-negative integer (the space is 0..=24)"
        )))
    }
}

/// N environments stepped as a batch with next-step autoreset (SPEC §7, Gymnasium ≥ 1.0).
#[wasm_bindgen(js_name = VecEnv)]
#[derive(Debug)]
pub struct WasmVecEnv {
    venv: VecEnv,
    obs: Vec<f32>,
    rewards: Vec<f64>,
    terminated: Vec<u8>,
    truncated: Vec<u8>,
    masks: Vec<u8>,
}

impl WasmVecEnv {
    pub(crate) fn build(cfg: EnvConfig, data: &WasmDataset, n: u32) -> Result<Self, JsError> {
        if n == 0 || n > 4096 {
            return Err(JsError::new("numEnvs must be within 1..=4096"));
        }
        let n = n as usize;
        Ok(WasmVecEnv {
            venv: VecEnv::new(cfg, data.markets().clone(), n, 1).map_err(js_err)?,
            obs: vec![0.0; n * OBS_DIM],
            rewards: vec![0.0; n],
            terminated: vec![0; n],
            truncated: vec![0; n],
            masks: vec![0; n * ACTION_COUNT],
        })
    }
    /// The host vector environment.
    pub fn inner_mut(&mut self) -> &mut VecEnv {
        &mut self.venv
    }
    fn result(&self) -> Result<JsValue, JsError> {
        let out = Object::new();
        set(&out, "obs", &Float32Array::from(&self.obs[..]).into())?;
        set(
            &out,
            "rewards",
            &Float64Array::from(&self.rewards[..]).into(),
        )?;
        set(
            &out,
            "terminated",
            &Uint8Array::from(&self.terminated[..]).into(),
        )?;
        set(
            &out,
            "truncated",
            &Uint8Array::from(&self.truncated[..]).into(),
        )?;
        set(&out, "masks", &Uint8Array::from(&self.masks[..]).into())?;
        Ok(out.into())
    }
}

#[wasm_bindgen(js_class = VecEnv)]
impl WasmVecEnv {
    /// `numEnvs` environments from a config over its synthetic markets or `capture`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "EnvConfigInput | string | undefined")]
        config: JsValue,
        num_envs: u32,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | ArrayBuffer | undefined")]
        capture: JsValue,
    ) -> Result<WasmVecEnv, JsError> {
        let cfg = parse_config(&config)?;
        let data = WasmDataset::resolve(&cfg, &capture)?;
        WasmVecEnv::build(cfg, &data, num_envs)
    }

    /// Over an already loaded dataset.
    #[wasm_bindgen(js_name = fromDataset)]
    pub fn from_dataset(
        #[wasm_bindgen(unchecked_param_type = "EnvConfigInput | string | undefined")]
        config: JsValue,
        num_envs: u32,
        dataset: &WasmDataset,
    ) -> Result<WasmVecEnv, JsError> {
        WasmVecEnv::build(parse_config(&config)?, dataset, num_envs)
    }

    /// Number of environments.
    #[wasm_bindgen(getter, js_name = numEnvs)]
    pub fn num_envs(&self) -> u32 {
        self.venv.num_envs() as u32
    }

    /// Reset all (env `i` seeded from `(seed, i)`): `{obs, rewards, terminated, truncated,
    /// masks}` with N×obsDim observations and N×25 masks.
    #[wasm_bindgen(unchecked_return_type = "VecStepResult")]
    pub fn reset(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint | string")] seed: JsValue,
    ) -> Result<JsValue, JsError> {
        let seed = parse_seed(&seed)?.unwrap_or(0);
        self.venv
            .reset(seed, &mut self.obs, &mut self.masks)
            .map_err(js_err)?;
        self.rewards.fill(0.0);
        self.terminated.fill(0);
        self.truncated.fill(0);
        self.result()
    }

    /// Step all envs with one action each (`Uint32Array` or array of length N).
    #[wasm_bindgen(unchecked_return_type = "VecStepResult")]
    pub fn step(&mut self, actions: &[u32]) -> Result<JsValue, JsError> {
        self.step_fast(actions)?;
        self.result()
    }

    /// Step without building the result object; read it with `observations()`, `rewards()`,
    /// `terminated()`, `truncated()`, `masks()`.
    #[wasm_bindgen(js_name = stepFast)]
    pub fn step_fast(&mut self, actions: &[u32]) -> Result<(), JsError> {
        self.venv
            .step(
                actions,
                &mut self.obs,
                &mut self.rewards,
                &mut self.terminated,
                &mut self.truncated,
                &mut self.masks,
            )
            .map_err(js_err)
    }

    /// Step straight into the caller's typed arrays (`Float32Array` N×obsDim, `Float64Array`
    /// N, `Uint8Array` N, N, N×25): no result object, no copies kept here.
    #[wasm_bindgen(js_name = stepInto)]
    pub fn step_into(
        &mut self,
        actions: &[u32],
        obs: &mut [f32],
        rewards: &mut [f64],
        terminated: &mut [u8],
        truncated: &mut [u8],
        masks: &mut [u8],
    ) -> Result<(), JsError> {
        self.venv
            .step(actions, obs, rewards, terminated, truncated, masks)
            .map_err(js_err)
    }

    /// N×obsDim observations of the last reset/step.
    pub fn observations(&self) -> Float32Array {
        Float32Array::from(&self.obs[..])
    }
    /// N rewards.
    pub fn rewards(&self) -> Float64Array {
        Float64Array::from(&self.rewards[..])
    }
    /// N terminated flags.
    pub fn terminated(&self) -> Uint8Array {
        Uint8Array::from(&self.terminated[..])
    }
    /// N truncated flags.
    pub fn truncated(&self) -> Uint8Array {
        Uint8Array::from(&self.truncated[..])
    }
    /// N×25 masks.
    pub fn masks(&self) -> Uint8Array {
        Uint8Array::from(&self.masks[..])
    }
    /// The infos of the last reset/step, one per env (with `invalid_action_name`, as
    /// `Env.info()`).
    #[wasm_bindgen(unchecked_return_type = "StepInfo[]")]
    pub fn infos(&self) -> Result<JsValue, JsError> {
        let out = js_sys::Array::new();
        for info in self.venv.infos() {
            out.push(&info_js(info)?);
        }
        Ok(out.into())
    }
}
