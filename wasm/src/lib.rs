//! # kalsim-wasm
//!
//! The browser (and Node) face of kalsim: a thin `wasm-bindgen` adapter over
//! `kalsim-host-sim` and `kalsim-core`. It translates types and errors and owns no rules, so
//! a seed gives the same bits here as natively (SPEC §11).
//!
//! - [`env::WasmEnv`] (`Env` in JS), [`env::WasmVecEnv`] (`VecEnv`), [`data::WasmDataset`]
//!   (`Dataset`, the handle `loadCapture` returns);
//! - free functions: `encodeAction`, `decodeAction`, `validateOrder`, `feeCents`,
//!   `obsSchema`, `loadCapture`, `generateSynthetic`;
//! - the trainer and policy ([`train`]);
//! - the host's baselines by name (`Baseline`, `baselineNames`) and evaluation runs with the
//!   SPEC §9 report and the size-vs-edge numbers (`evaluate`, `evaluateScript`, [`eval`]):
//!   the host's episode runner, so the sandbox's numbers are `kalsim run`'s.
//!
//! Every fallible export returns `Result<_, JsError>`: a JS `Error` carrying the core's
//! message. Nothing unwraps caller input. Observations and masks cross as `Float32Array` and
//! `Uint8Array`; infos and metrics as plain objects (`serde-wasm-bindgen`, JSON-compatible).
//! The code is target-agnostic so the workspace builds it natively too (clippy, docs).
#![deny(missing_docs)]

pub mod data;
pub mod dto;
pub mod env;
pub mod eval;
pub mod train;

use js_sys::{Object, Reflect, Uint8Array};
use kalsim_core::action::{Action, Intent, Tier, decode, encode};
use kalsim_core::{FeeSchedule, Limits, Price};
use kalsim_host_sim::data::{GenConfig, generate_string};
use kalsim_host_sim::env::EnvConfig;
use serde::Serialize;
use wasm_bindgen::prelude::*;

pub use dto::*;

/// Largest synthetic dataset (markets × events) accepted: about 0.5 GB of JSONL, beyond which
/// a browser tab runs out of memory (an abort in WASM, not an error).
pub const MAX_SYNTHETIC_EVENTS: u64 = 5_000_000;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = include_str!("types.d.ts");

/// A JS `Error` carrying `e`'s message.
pub(crate) fn js_err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// Serialise a DTO into a plain JS value (objects, not `Map`s; safe integers as numbers).
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("cannot convert to JS: {e}")))
}

/// Set `key` on a JS object.
pub(crate) fn set(obj: &Object, key: &str, value: &JsValue) -> Result<(), JsError> {
    Reflect::set(obj, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(|_| JsError::new(&format!("cannot set property {key}")))
}

/// A configuration from a JS object, a JSON string, or `undefined`/`null` (the defaults).
/// Objects go through `JSON.stringify` so validation (unknown keys, ranges) is the host's.
pub(crate) fn parse_config(config: &JsValue) -> Result<EnvConfig, JsError> {
    if config.is_undefined() || config.is_null() {
        return Ok(EnvConfig::default());
    }
    let text = if let Some(s) = config.as_string() {
        s
    } else if config.is_object() {
        js_sys::JSON::stringify(config)
            .map_err(|_| JsError::new("config: the object cannot be converted to JSON"))?
            .as_string()
            .unwrap_or_default()
    } else {
        return Err(JsError::new(
            "config: expected an object, a JSON string, or undefined",
        ));
    };
    EnvConfig::from_json(&text).map_err(|e| JsError::new(&e.to_string()))
}

/// Text from a JS string or bytes (`Uint8Array`/`ArrayBuffer`, which must be UTF-8).
pub(crate) fn text_from(value: &JsValue, what: &str) -> Result<String, JsError> {
    if let Some(s) = value.as_string() {
        return Ok(s);
    }
    let bytes =
        if value.is_instance_of::<Uint8Array>() || value.is_instance_of::<js_sys::ArrayBuffer>() {
            Uint8Array::new(value).to_vec()
        } else {
            return Err(JsError::new(&format!(
                "{what}: expected a string, Uint8Array or ArrayBuffer"
            )));
        };
    String::from_utf8(bytes).map_err(|e| JsError::new(&format!("{what}: not UTF-8: {e}")))
}

/// A `u64` seed from a JS number (a non-negative safe integer), `BigInt` or decimal string;
/// `undefined`/`null` give `None`.
pub(crate) fn parse_seed(value: &JsValue) -> Result<Option<u64>, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let bad = || {
        JsError::new(
            "seed: expected a non-negative integer (number ≤ 2^53, BigInt or decimal string) below 2^64",
        )
    };
    if let Some(n) = value.as_f64() {
        if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 {
            return Ok(Some(n as u64));
        }
        return Err(bad());
    }
    let text = if value.is_bigint() {
        js_sys::BigInt::from(value.clone())
            .to_string(10)
            .map_err(|_| bad())?
            .as_string()
            .ok_or_else(bad)?
    } else if let Some(s) = value.as_string() {
        s
    } else {
        return Err(bad());
    };
    text.trim().parse::<u64>().map(Some).map_err(|_| bad())
}

/// Price in cents, checked to 1..=99.
fn price(cents: u32, what: &str) -> Result<Price, JsError> {
    u8::try_from(cents)
        .ok()
        .and_then(|c| Price::new(c).ok())
        .ok_or_else(|| JsError::new(&format!("{what}: {cents} is not a price in 1..=99 cents")))
}

/// Every intent in codec order (HOLD, then the trades): the core's names.
fn intents() -> impl Iterator<Item = Intent> {
    core::iter::once(Intent::Hold).chain(Intent::TRADES)
}

/// `a, b, c` of `names`.
fn listed(names: impl Iterator<Item = &'static str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// An intent from its code 0..=4 or its core name (`Intent::name`, case-insensitive).
fn intent_from(value: &JsValue) -> Result<Intent, JsError> {
    if let Some(n) = value.as_f64() {
        if n.fract() == 0.0 && (0.0..=255.0).contains(&n) {
            return Intent::try_from(n as u8).map_err(js_err);
        }
    } else if let Some(s) = value.as_string()
        && let Some(i) = intents().find(|i| i.name().eq_ignore_ascii_case(&s))
    {
        return Ok(i);
    }
    Err(JsError::new(&format!(
        "intent: expected 0..=4 or one of {}",
        listed(intents().map(Intent::name))
    )))
}

/// A tier from its index 0..=4 or its core name (`Tier::name`, case-insensitive); Small
/// when absent.
fn tier_from(value: &JsValue) -> Result<Tier, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(Tier::Small);
    }
    if let Some(n) = value.as_f64() {
        if n.fract() == 0.0 && (0.0..=255.0).contains(&n) {
            return Tier::try_from(n as u8).map_err(js_err);
        }
    } else if let Some(s) = value.as_string()
        && let Some(t) = Tier::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(&s))
    {
        return Ok(t);
    }
    Err(JsError::new(&format!(
        "tier: expected 0..=4 or one of {}",
        listed(Tier::ALL.into_iter().map(Tier::name))
    )))
}

/// `encode(intent, tier)` of SPEC §2: intent 0..=4 or its name, tier 0..=4 or its name
/// (ignored for HOLD). Returns the action id 0..=20.
#[wasm_bindgen(js_name = encodeAction)]
pub fn encode_action(
    #[wasm_bindgen(unchecked_param_type = "number | string")] intent: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | string | undefined")] tier: JsValue,
) -> Result<u8, JsError> {
    Ok(encode(intent_from(&intent)?, tier_from(&tier)?))
}

/// `decode(action)` of SPEC §2: `{action, intent, intentName, tier, tierName}` (tier −1 for
/// HOLD); reserved (21..=24) and out-of-range (≥ 25) ids throw.
#[wasm_bindgen(js_name = decodeAction, unchecked_return_type = "DecodedAction")]
pub fn decode_action(action: f64) -> Result<JsValue, JsError> {
    if !(action.is_finite() && action.fract() == 0.0 && action >= 0.0) {
        return Err(JsError::new(&format!(
            "action {action} is not a non-negative integer"
        )));
    }
    let id = if action > u32::MAX as f64 {
        u32::MAX
    } else {
        action as u32
    };
    let decoded = decode(id).map_err(|e| JsError::new(&e.to_string()))?;
    let (intent, tier) = match decoded {
        Action::Hold => (Intent::Hold, None),
        Action::Trade { intent, tier } => (intent, Some(tier)),
    };
    to_js(&DecodedAction {
        action: id,
        intent: intent as u8,
        intent_name: intent.name(),
        tier: tier.map_or(-1, |t| t as i8),
        tier_name: tier.map_or("", Tier::name),
    })
}

/// SPEC §6 `validate_order` (the plan-style check): may `size` contracts be bought
/// (`size > 0` YES, `size < 0` NO) at `priceCents` with `position` and `cashCents`?
/// `limits` is an optional `[limits]` config object (defaults: the plan's). Returns
/// `{ok, reason, code}` (`reason` null when ok).
#[wasm_bindgen(js_name = validateOrder, unchecked_return_type = "OrderCheck")]
pub fn validate_order(
    size: f64,
    position: f64,
    cash_cents: f64,
    price_cents: u32,
    #[wasm_bindgen(unchecked_param_type = "Partial<LimitsConfig> | undefined")] limits: JsValue,
) -> Result<JsValue, JsError> {
    let int = |v: f64, what: &str| -> Result<i64, JsError> {
        if v.is_finite() && v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_991.0 {
            Ok(v as i64)
        } else {
            Err(JsError::new(&format!("{what}: {v} is not a safe integer")))
        }
    };
    let limits = if limits.is_undefined() || limits.is_null() {
        Limits::PLAN
    } else {
        let text = js_sys::JSON::stringify(&limits)
            .map_err(|_| JsError::new("limits: not convertible to JSON"))?
            .as_string()
            .unwrap_or_default();
        let cfg = EnvConfig::from_json(&format!("{{\"limits\":{text}}}"))
            .map_err(|e| JsError::new(&e.to_string()))?;
        cfg.limits.to_limits().map_err(js_err)?
    };
    let r = limits.validate_order(
        int(size, "size")?,
        int(position, "position")?,
        kalsim_core::Cents(int(cash_cents, "cashCents")?),
        price(price_cents, "priceCents")?,
    );
    to_js(&match r {
        Ok(()) => OrderCheck {
            ok: true,
            reason: None,
            code: 0,
        },
        Err(v) => OrderCheck {
            ok: false,
            reason: Some(v.name()),
            code: v as u8,
        },
    })
}

/// Kalshi's fee in cents for `contracts` filled at `priceCents` in one order and step
/// (SPEC §4): taker by default, maker when `maker` is true.
#[wasm_bindgen(js_name = feeCents)]
pub fn fee_cents(contracts: u32, price_cents: u32, maker: Option<bool>) -> Result<f64, JsError> {
    let p = price(price_cents, "priceCents")?;
    let fees = FeeSchedule {
        maker_fees: true,
        ..FeeSchedule::KALSHI
    };
    let fills = [(contracts, p)];
    let fee = if maker.unwrap_or(false) {
        fees.maker_fee(&fills)
    } else {
        fees.taker_fee(&fills)
    };
    Ok(fee.0 as f64)
}

/// The published observation schema (SPEC §8): `[{index, name, group, scaling, min, max}]`.
#[wasm_bindgen(js_name = obsSchema, unchecked_return_type = "ObsFeature[]")]
pub fn obs_schema() -> Result<JsValue, JsError> {
    to_js(&dto::obs_schema())
}

/// Version of the observation schema.
#[wasm_bindgen(js_name = obsSchemaVersion)]
pub fn obs_schema_version() -> u32 {
    kalsim_core::OBS_SCHEMA_VERSION
}

/// Length of the observation vector.
#[wasm_bindgen(js_name = obsDim)]
pub fn obs_dim() -> u32 {
    kalsim_core::OBS_DIM as u32
}

/// Synthetic Kalshi JSONL (the bytes `kalsim gen` writes for the same arguments).
#[wasm_bindgen(js_name = generateSynthetic)]
pub fn generate_synthetic(
    markets: u32,
    events: u32,
    #[wasm_bindgen(unchecked_param_type = "number | bigint | string")] seed: JsValue,
) -> Result<String, JsError> {
    if markets == 0 || events == 0 {
        return Err(JsError::new("markets and events must be at least 1"));
    }
    if markets as u64 * events as u64 > crate::MAX_SYNTHETIC_EVENTS {
        return Err(JsError::new(
            "markets × events above 5 000 000 is too large for the browser",
        ));
    }
    let seed = parse_seed(&seed)?.unwrap_or(0);
    Ok(generate_string(&GenConfig {
        markets,
        events,
        seed,
    }))
}

/// Load a Kalshi JSONL capture (string or UTF-8 bytes) into a [`data::WasmDataset`] handle.
/// `options`: `{lenient?: boolean, results?: {TICKER: "yes"|"no"}, name?: string}`.
#[wasm_bindgen(js_name = loadCapture)]
pub fn load_capture(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | ArrayBuffer")] text: JsValue,
    #[wasm_bindgen(unchecked_param_type = "LoadCaptureOptions | undefined")] options: JsValue,
) -> Result<data::WasmDataset, JsError> {
    data::WasmDataset::from_capture(&text, &options)
}

/// The crate version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").into()
}
