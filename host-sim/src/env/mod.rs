//! The Gymnasium-style environment (SPEC §7, §8) and its vector form.
//!
//! One market per episode. Markets are cycled in an order drawn from the reset seed, so a
//! run is reproducible: the same configuration, seed and actions give the same bits.

mod batch;
mod config;
pub mod held_out;
#[cfg(feature = "threads")]
pub(crate) mod pool;
/// Without the `threads` feature (e.g. `wasm32`) there is no thread team: one can never be
/// made, so every caller runs on its own thread.
#[cfg(not(feature = "threads"))]
pub(crate) mod pool {
    /// Uninhabited: no team exists in this build.
    #[derive(Debug)]
    pub(crate) enum Team {}

    impl Team {
        pub(crate) fn new(_size: usize) -> std::io::Result<Team> {
            Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "kalsim-host-sim was built without the `threads` feature",
            ))
        }

        pub(crate) fn size(&self) -> usize {
            match *self {}
        }

        pub(crate) fn run(&self, _job: &(dyn Fn(usize) + Sync)) {
            match *self {}
        }
    }
}
mod session;
mod single;
mod vec;

pub use config::{
    ConfigError, DataConfig, DecisionInterval, EnvConfig, FeesConfig, InvalidActionMode,
    LimitsConfig, QueueModel, Sizing, bounds, parse_name,
};
pub use session::MarketSession;
pub use single::{Env, EnvError, StepInfo, StepResult, invalid_action_name};
pub use vec::{Autoreset, VecEnv, random_valid};

use std::sync::Arc;

use crate::data::MarketTape;

/// Market tapes shared by every environment of a run (pre-decoded once).
pub type Markets = Arc<Vec<MarketTape>>;

use crate::data::{LoadOptions, LoadReport, Mode};

/// Load the markets a configuration names: its capture files, or the embedded synthetic
/// generator when none are given.
pub fn load_markets(
    cfg: &EnvConfig,
) -> Result<(Markets, LoadReport), Box<dyn std::error::Error + Send + Sync>> {
    let mut opts = LoadOptions {
        mode: if cfg.data.lenient {
            Mode::Lenient
        } else {
            Mode::Strict
        },
        results: None,
    };
    if !cfg.data.results.is_empty() {
        let text = std::fs::read_to_string(&cfg.data.results)
            .map_err(|e| format!("results file {}: {e}", cfg.data.results))?;
        opts.results = Some(crate::data::load_results_json(&text)?);
    }
    if cfg.data.files.is_empty() && cfg.data.preset == "informed" {
        let markets = crate::data::informed::markets(
            cfg.data.synthetic_seed,
            cfg.data.synthetic_markets,
            cfg.data.synthetic_events,
        );
        if markets.is_empty() {
            return Err(Box::new(EnvError::NoMarkets));
        }
        let mut report = LoadReport::default();
        for m in &markets {
            report.markets.insert(
                m.ticker.clone(),
                crate::data::MarketCounts {
                    snapshots: 1,
                    deltas: m.events.len() as u64 - 1,
                    forecasts: m.forecasts.len() as u64,
                    ..Default::default()
                },
            );
        }
        report.sources.push("synthetic:informed".into());
        return Ok((Arc::new(markets), report));
    }
    let mut dataset = if cfg.data.files.is_empty() {
        // The generator's tapes directly: the same tapes its JSONL loads into (pinned by
        // `data_generator::tapes_equal_the_loaded_jsonl`), without the text.
        let markets = crate::data::r#gen::generate_tapes_model(
            &crate::data::GenConfig {
                markets: cfg.data.synthetic_markets,
                events: cfg.data.synthetic_events,
                seed: cfg.data.synthetic_seed,
            },
            crate::data::r#gen::GenModel {
                edge_bps: cfg.data.synthetic_edge_bps,
            },
        );
        let mut report = LoadReport::default();
        report.sources.push("synthetic".into());
        for m in &markets {
            report.markets.insert(
                m.ticker.clone(),
                crate::data::MarketCounts {
                    snapshots: 1,
                    deltas: m.events.len().saturating_sub(1) as u64,
                    ..Default::default()
                },
            );
        }
        crate::data::Dataset { markets, report }
    } else {
        let paths: Vec<std::path::PathBuf> = cfg.data.files.iter().map(Into::into).collect();
        crate::data::load_files(&paths, &opts)?
    };
    for path in &cfg.data.forecasts {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("forecast file {path}: {e}"))?;
        crate::data::join_forecasts(&mut dataset, path, &text, opts.mode)?;
    }
    if dataset.markets.is_empty() {
        return Err(Box::new(EnvError::NoMarkets));
    }
    Ok((Arc::new(dataset.markets), dataset.report))
}

/// Generate and load synthetic markets (the same bytes `kalsim gen` writes).
pub fn synthetic_dataset(
    markets: u32,
    events: u32,
    seed: u64,
    opts: &LoadOptions,
) -> Result<crate::data::Dataset, crate::data::DataError> {
    let text = crate::data::generate_string(&crate::data::GenConfig {
        markets,
        events,
        seed,
    });
    crate::data::load_str("synthetic", &text, opts)
}
