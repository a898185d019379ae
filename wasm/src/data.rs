//! `Dataset` for JS: Kalshi captures or synthetic markets, loaded once and shared.

use std::sync::Arc;

use js_sys::Object;
use kalsim_core::Side;
use kalsim_host_sim::data::{LoadOptions, LoadReport, Mode, load_results_json, load_str};
use kalsim_host_sim::env::{EnvConfig, Markets, load_markets};
use wasm_bindgen::prelude::*;

use crate::dto::LoadSummary;
use crate::{js_err, parse_seed, set, text_from, to_js};

/// Markets loaded once and shared by any number of environments (`loadCapture`,
/// `Dataset.synthetic`).
#[wasm_bindgen(js_name = Dataset)]
#[derive(Debug, Clone)]
pub struct WasmDataset {
    markets: Markets,
    summary: LoadSummary,
}

impl WasmDataset {
    fn from_parts(markets: Markets, r: &LoadReport) -> Result<WasmDataset, JsError> {
        if markets.is_empty() {
            return Err(JsError::new("the capture holds no market with a snapshot"));
        }
        let summary = LoadSummary {
            markets: markets.len() as u32,
            tickers: markets.iter().map(|m| m.ticker.clone()).collect(),
            events: markets.iter().map(|m| m.events.len() as u32).collect(),
            results: markets
                .iter()
                .map(|m| {
                    m.result.map(|s| match s {
                        Side::Yes => "yes",
                        Side::No => "no",
                    })
                })
                .collect(),
            lines: r.lines,
            skipped: r.skipped_total,
            skipped_by_kind: r
                .skipped_by_kind
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            skipped_messages: r.skipped.iter().map(|e| e.to_string()).collect(),
            gaps: r.gap_total,
            ignored_types: r.ignored_types.clone(),
        };
        Ok(WasmDataset { markets, summary })
    }

    pub(crate) fn from_capture(text: &JsValue, options: &JsValue) -> Result<WasmDataset, JsError> {
        let text = text_from(text, "capture")?;
        let mut opts = LoadOptions::default();
        let mut name = "capture".to_string();
        if options.is_object() {
            let get = |k: &str| js_sys::Reflect::get(options, &JsValue::from_str(k)).ok();
            if let Some(v) = get("lenient") {
                if v.as_bool() == Some(true) {
                    opts.mode = Mode::Lenient;
                }
            }
            if let Some(v) = get("name").and_then(|v| v.as_string()) {
                name = v;
            }
            if let Some(v) = get("results") {
                if v.is_object() {
                    let json = js_sys::JSON::stringify(&v)
                        .map_err(|_| JsError::new("results: not convertible to JSON"))?
                        .as_string()
                        .unwrap_or_default();
                    opts.results = Some(load_results_json(&json).map_err(js_err)?);
                } else if let Some(s) = v.as_string() {
                    opts.results = Some(load_results_json(&s).map_err(js_err)?);
                }
            }
        }
        let d = load_str(&name, &text, &opts).map_err(js_err)?;
        WasmDataset::from_parts(Arc::new(d.markets), &d.report)
    }

    /// The markets of a configuration's `data` section: the synthetic generator of its
    /// preset (default or `informed`), loaded by the host's `load_markets` as `kalsim run`
    /// does (files cannot be read in a browser; pass their text instead).
    pub(crate) fn for_config(cfg: &EnvConfig) -> Result<WasmDataset, JsError> {
        let d = &cfg.data;
        if !d.files.is_empty() || !d.results.is_empty() || !d.forecasts.is_empty() {
            return Err(JsError::new(
                "config: data.files, data.results and data.forecasts cannot be read here; pass the capture text (or loadCapture) instead",
            ));
        }
        if d.synthetic_markets == 0 || d.synthetic_events == 0 {
            return Err(JsError::new(
                "config: data.synthetic_markets and data.synthetic_events must be at least 1",
            ));
        }
        if d.synthetic_markets as u64 * d.synthetic_events as u64 > crate::MAX_SYNTHETIC_EVENTS {
            return Err(JsError::new(
                "config: synthetic_markets × synthetic_events above 5 000 000 is too large",
            ));
        }
        let (markets, report) = load_markets(cfg).map_err(js_err)?;
        WasmDataset::from_parts(markets, &report)
    }

    /// The data for a constructor: a capture (string/bytes) when given, else the config's.
    pub(crate) fn resolve(cfg: &EnvConfig, capture: &JsValue) -> Result<WasmDataset, JsError> {
        if capture.is_undefined() || capture.is_null() {
            WasmDataset::for_config(cfg)
        } else {
            let opts = Object::new();
            set(&opts, "lenient", &JsValue::from_bool(cfg.data.lenient))?;
            WasmDataset::from_capture(capture, &opts)
        }
    }

    /// The shared markets.
    pub fn markets(&self) -> &Markets {
        &self.markets
    }
}

#[wasm_bindgen(js_class = Dataset)]
impl WasmDataset {
    /// Synthetic markets (`generateSynthetic` then loaded).
    pub fn synthetic(
        markets: u32,
        events: u32,
        #[wasm_bindgen(unchecked_param_type = "number | bigint | string")] seed: JsValue,
    ) -> Result<WasmDataset, JsError> {
        let mut cfg = EnvConfig::default();
        cfg.data.synthetic_markets = markets;
        cfg.data.synthetic_events = events;
        cfg.data.synthetic_seed = parse_seed(&seed)?.unwrap_or(0);
        WasmDataset::for_config(&cfg)
    }

    /// The markets a configuration's `data` section describes (synthetic; `data.preset`
    /// `"informed"` selects the generator with forecasts, SPEC §10).
    #[wasm_bindgen(js_name = fromConfig)]
    pub fn from_config(
        #[wasm_bindgen(unchecked_param_type = "EnvConfigInput | string | undefined")]
        config: JsValue,
    ) -> Result<WasmDataset, JsError> {
        WasmDataset::for_config(&crate::parse_config(&config)?)
    }

    /// Number of markets.
    #[wasm_bindgen(getter, js_name = numMarkets)]
    pub fn num_markets(&self) -> u32 {
        self.markets.len() as u32
    }

    /// What was loaded: markets, tickers, events, results, skips and gaps.
    #[wasm_bindgen(unchecked_return_type = "LoadSummary")]
    pub fn summary(&self) -> Result<JsValue, JsError> {
        to_js(&self.summary)
    }
}
