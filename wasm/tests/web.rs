//! The adapter inside a real WASM engine (Node, via `wasm-bindgen-test-runner`):
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!  cargo test -p kalsim-wasm --target wasm32-unknown-unknown`.
#![cfg(target_arch = "wasm32")]

use js_sys::{Float32Array, Reflect};
use kalsim_wasm::env::{WasmEnv, WasmVecEnv};
use kalsim_wasm::{decode_action, encode_action, fee_cents, generate_synthetic, load_capture};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const SMALL: &str = r#"{"data": {"synthetic_markets": 2, "synthetic_events": 120}}"#;

fn message(e: wasm_bindgen::JsError) -> String {
    let v: JsValue = e.into();
    v.dyn_into::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_default()
}

fn get(v: &JsValue, k: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(k)).unwrap()
}

#[wasm_bindgen_test]
fn errors_are_js_errors_with_the_core_message() {
    let e = WasmEnv::new(
        JsValue::from_str(r#"{"pricing": "yolo"}"#),
        JsValue::UNDEFINED,
    )
    .unwrap_err();
    assert!(message(e).contains("pricing"));
    let mut env = WasmEnv::new(JsValue::from_str(SMALL), JsValue::UNDEFINED).unwrap();
    assert_eq!(
        message(env.step(0.0).unwrap_err()),
        "step called before reset"
    );
    env.reset(JsValue::from_f64(1.0)).unwrap();
    assert!(message(env.step(25.0).unwrap_err()).contains("action 25 is out of range"));
    assert!(message(env.step(-1.0).unwrap_err()).contains("non-negative integer"));
    assert!(message(env.reset(JsValue::from_f64(0.5)).unwrap_err()).contains("seed"));
    assert!(message(decode_action(22.0).unwrap_err()).contains("reserved"));
    assert!(message(fee_cents(1, 100, None).unwrap_err()).contains("1..=99"));
}

#[wasm_bindgen_test]
fn reset_and_step_return_typed_arrays() {
    let mut env = WasmEnv::new(
        JsValue::UNDEFINED,
        JsValue::from_str(&generate_synthetic(1, 80, JsValue::from_f64(2.0)).unwrap()),
    )
    .unwrap();
    let r = env
        .reset(JsValue::bigint_from_str("18446744073709551615"))
        .unwrap();
    let obs: Float32Array = get(&r, "obs").dyn_into().unwrap();
    assert_eq!(obs.length() as usize, kalsim_core::OBS_DIM);
    let mut steps = 0;
    while !env.done() {
        let s = env.step(0.0).unwrap();
        assert!(get(&s, "reward").as_f64().is_some());
        steps += 1;
    }
    assert_eq!(steps, 80);
    assert_eq!(env.action_mask().length(), 25);
}

#[wasm_bindgen_test]
fn codec_fees_capture_vecenv() {
    for a in 0..=20u32 {
        let d = decode_action(a as f64).unwrap();
        let tier = get(&d, "tier").as_f64().unwrap();
        let back = encode_action(get(&d, "intent"), JsValue::from_f64(tier.max(0.0))).unwrap();
        assert_eq!(back as u32, a);
    }
    assert_eq!(fee_cents(100, 50, Some(true)).unwrap(), 44.0);
    let text = generate_synthetic(2, 50, JsValue::from_f64(1.0)).unwrap();
    let ds = load_capture(JsValue::from_str(&text), JsValue::UNDEFINED).unwrap();
    assert_eq!(ds.num_markets(), 2);
    let mut v = WasmVecEnv::from_dataset(JsValue::UNDEFINED, 3, &ds).unwrap();
    v.reset(JsValue::from_f64(0.0)).unwrap();
    v.step_fast(&[0, 1, 11]).unwrap();
    assert_eq!(v.observations().length() as usize, 3 * kalsim_core::OBS_DIM);
    assert!(v.step_fast(&[0, 0]).is_err());
}
