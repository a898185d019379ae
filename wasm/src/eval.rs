//! Policies by name and evaluation runs for JS: the host's baselines
//! (`kalsim_host_sim::policy`) and its episode runner with the SPEC §9 report
//! (`kalsim_host_sim::report::run_episodes`). The sandbox renders these numbers; it computes
//! none of its own, so they equal `kalsim run` on the same data, config and seed.

use js_sys::{Float64Array, Object, Uint32Array};
use kalsim_core::ACTION_COUNT;
use kalsim_host_sim::env::EnvConfig;
use kalsim_host_sim::policy::{
    ActContext, BASELINES, Policy, PolicyContext, TrainedPolicy, policy_with_context,
};
use kalsim_host_sim::report::{Aggregate, EpisodeRow, RunReport, run_episodes};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::data::WasmDataset;
use crate::{js_err, parse_config, parse_seed, set, to_js};

/// Most episodes one evaluation call runs (it blocks the calling thread).
const MAX_EPISODES: u32 = 100_000;

/// The names [`Baseline`](WasmBaseline) and `evaluate` accept (the host's `BASELINES`).
#[wasm_bindgen(js_name = baselineNames)]
pub fn baseline_names() -> Vec<String> {
    BASELINES.iter().map(|s| (*s).to_owned()).collect()
}

/// A baseline by name, or a checkpoint when `spec` is JSON (as `kalsim run --policy`),
/// checked against the environment it will act in.
fn make_policy(spec: &str, seed: u64, cfg: &EnvConfig) -> Result<Box<dyn Policy>, JsError> {
    if spec.trim_start().starts_with('{') {
        let p = TrainedPolicy::from_json(spec, "trained", seed).map_err(js_err)?;
        p.check_compatible(cfg)
            .map_err(|e| JsError::new(&format!("policy does not fit this environment: {e}")))?;
        return Ok(Box::new(p));
    }
    policy_with_context(spec, seed, PolicyContext::from_config(cfg)).map_err(js_err)
}

/// A host baseline policy (`hold`, `random`, `fixed`, `kelly`, `forecast-kelly`,
/// `forecast-fixed`, `oracle`) acting step by step.
#[wasm_bindgen(js_name = Baseline)]
#[derive(Debug)]
pub struct WasmBaseline {
    policy: Box<dyn Policy>,
}

#[wasm_bindgen(js_class = Baseline)]
impl WasmBaseline {
    /// The baseline `name` for an environment configured by `envConfig` (sizes, cash and
    /// limits scale the observation); `seed` drives `random`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        name: &str,
        #[wasm_bindgen(unchecked_param_type = "number | bigint | string | undefined")]
        seed: JsValue,
        #[wasm_bindgen(unchecked_param_type = "EnvConfigInput | string | undefined")]
        env_config: JsValue,
    ) -> Result<WasmBaseline, JsError> {
        let cfg = parse_config(&env_config)?;
        let seed = parse_seed(&seed)?.unwrap_or(0);
        let policy =
            policy_with_context(name, seed, PolicyContext::from_config(&cfg)).map_err(js_err)?;
        Ok(WasmBaseline { policy })
    }

    /// The action for `obs` under `mask` (25 cells, 1 = allowed); never a masked action.
    /// `latentProbability` (`Env.latentProbability`) is read by `oracle` only.
    pub fn act(
        &mut self,
        obs: &[f32],
        mask: &[u8],
        latent_probability: Option<f64>,
    ) -> Result<u32, JsError> {
        if obs.len() != kalsim_core::OBS_DIM {
            return Err(JsError::new(&format!(
                "obs has length {}, expected {}",
                obs.len(),
                kalsim_core::OBS_DIM
            )));
        }
        if mask.len() != ACTION_COUNT {
            return Err(JsError::new(&format!(
                "mask has length {}, expected {ACTION_COUNT}",
                mask.len()
            )));
        }
        let mut allowed = [false; ACTION_COUNT];
        for (a, m) in allowed.iter_mut().zip(mask) {
            *a = *m != 0;
        }
        let ctx = ActContext { latent_probability };
        Ok(self.policy.act_with(obs, &allowed, &ctx))
    }

    /// The policy's report name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.policy.name()
    }
}

/// The report's scalar part (the bulk series cross as typed arrays beside it).
#[derive(Serialize)]
struct ReportDto<'a> {
    schema: &'a str,
    policy: &'a str,
    /// Decimal: seeds are `u64`.
    seed: String,
    obs_schema_version: u32,
    tier_sizes: [u32; 5],
    markets: usize,
    per_episode: &'a [EpisodeRow],
    aggregate: &'a Aggregate,
    action_histogram: &'a [u64; ACTION_COUNT],
}

fn report_js(r: &RunReport) -> Result<JsValue, JsError> {
    let out = Object::new();
    // Through serde_json: it writes the integer keys of `position_size_distribution` as
    // strings (`{"5": 10}`), as `report.json` does; JS objects need string keys.
    let dto = serde_json::to_value(ReportDto {
        schema: r.schema,
        policy: &r.policy,
        seed: r.seed.to_string(),
        obs_schema_version: r.obs_schema_version,
        tier_sizes: r.tier_sizes,
        markets: r.markets,
        per_episode: &r.per_episode,
        aggregate: &r.aggregate,
        action_histogram: &r.action_histogram,
    })
    .map_err(js_err)?;
    set(&out, "report", &to_js(&dto)?)?;
    let r_or_null = |v: Option<f64>| v.map_or(JsValue::NULL, JsValue::from_f64);
    set(&out, "sizeEdgeR", &r_or_null(r.size_edge_r()))?;
    set(
        &out,
        "sizeProfitR",
        &JsValue::from_f64(r.size_profit_correlation()),
    )?;
    let t = &r.opening_trades;
    let opening = Object::new();
    let u32s = |v: Vec<u32>| JsValue::from(Uint32Array::from(&v[..]));
    let f64s = |v: Vec<f64>| JsValue::from(Float64Array::from(&v[..]));
    set(
        &opening,
        "episode",
        &u32s(t.iter().map(|x| x.episode).collect()),
    )?;
    set(
        &opening,
        "filled",
        &u32s(t.iter().map(|x| x.filled).collect()),
    )?;
    set(&opening, "edge", &f64s(t.iter().map(|x| x.edge).collect()))?;
    set(&out, "openingTrades", &opening.into())?;
    let rt = &r.round_trips;
    let trips = Object::new();
    set(
        &trips,
        "episode",
        &u32s(rt.iter().map(|x| x.episode).collect()),
    )?;
    set(
        &trips,
        "size",
        &f64s(rt.iter().map(|x| x.size as f64).collect()),
    )?;
    set(
        &trips,
        "profitCents",
        &f64s(rt.iter().map(|x| x.profit_cents as f64).collect()),
    )?;
    set(&out, "roundTrips", &trips.into())?;
    set(
        &out,
        "equityCents",
        &f64s(r.equity_curve_cents.iter().map(|&c| c as f64).collect()),
    )?;
    set(
        &out,
        "episodeStarts",
        &u32s(r.episode_starts.iter().map(|&i| i as u32).collect()),
    )?;
    Ok(out.into())
}

/// The actions of a script, then HOLD: the sandbox's scripted episode as a [`Policy`], so
/// the host's episode runner reports it like any other (an input adapter; no rule here).
#[derive(Debug)]
struct ScriptPolicy {
    actions: Vec<u32>,
    next: usize,
}

impl Policy for ScriptPolicy {
    fn act(&mut self, _obs: &[f32], _mask: &[bool; ACTION_COUNT]) -> u32 {
        let a = self.actions.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        a
    }
    fn name(&self) -> String {
        "scripted".into()
    }
}

/// Run `policy` — a baseline name (`baselineNames()`) or a checkpoint's JSON
/// (`Trainer.policyJson()`, greedy) — for `episodes` episodes over `dataset` with
/// `envConfig`, resetting with `seed` first and then moving on to the next market (as
/// `kalsim run`). Returns `{report: {policy, seed, per_episode, aggregate, action_histogram,
/// ...}, sizeEdgeR, sizeProfitR, openingTrades: {episode, filled, edge}, roundTrips:
/// {episode, size, profitCents}, equityCents, episodeStarts}` with typed arrays for the
/// series; `sizeEdgeR` (Pearson r of filled contracts and the signed forecast edge over
/// opening trades) is null when undefined.
#[wasm_bindgen(js_name = evaluate, unchecked_return_type = "Evaluation")]
pub fn evaluate(
    #[wasm_bindgen(unchecked_param_type = "EnvConfigInput | string | undefined")]
    env_config: JsValue,
    dataset: &WasmDataset,
    policy: &str,
    episodes: u32,
    #[wasm_bindgen(unchecked_param_type = "number | bigint | string | undefined")] seed: JsValue,
) -> Result<JsValue, JsError> {
    if episodes == 0 || episodes > MAX_EPISODES {
        return Err(JsError::new(&format!(
            "episodes must be within 1..={MAX_EPISODES}"
        )));
    }
    let cfg = parse_config(&env_config)?;
    let seed = parse_seed(&seed)?.unwrap_or(0);
    let mut p = make_policy(policy, seed, &cfg)?;
    let report = run_episodes(
        &cfg,
        dataset.markets().clone(),
        p.as_mut(),
        episodes,
        seed,
        &mut |_| {},
    )
    .map_err(js_err)?;
    report_js(&report)
}

/// One episode of a script (action ids, as the sandbox's scripted policy plays them) through
/// the host's episode runner: reset with `seed`, the actions in order (masked ones run as
/// HOLD and count as invalid, as in `Env`), truncated where the script ends (`max_steps` =
/// the script's length unless the config's is shorter). Returns what `evaluate` returns.
#[wasm_bindgen(js_name = evaluateScript, unchecked_return_type = "Evaluation")]
pub fn evaluate_script(
    #[wasm_bindgen(unchecked_param_type = "EnvConfigInput | string | undefined")]
    env_config: JsValue,
    dataset: &WasmDataset,
    actions: Vec<u32>,
    #[wasm_bindgen(unchecked_param_type = "number | bigint | string | undefined")] seed: JsValue,
) -> Result<JsValue, JsError> {
    if actions.is_empty() {
        return Err(JsError::new("script: no actions"));
    }
    let mut cfg = parse_config(&env_config)?;
    let len =
        u32::try_from(actions.len()).map_err(|_| JsError::new("script: more than 2^32 actions"))?;
    if cfg.max_steps == 0 || cfg.max_steps > len {
        cfg.max_steps = len;
    }
    let seed = parse_seed(&seed)?.unwrap_or(0);
    let mut p = ScriptPolicy { actions, next: 0 };
    let report = run_episodes(
        &cfg,
        dataset.markets().clone(),
        &mut p,
        1,
        seed,
        &mut |_| {},
    )
    .map_err(js_err)?;
    report_js(&report)
}
