//! `kalsim gen`, `kalsim validate-data`, `kalsim obs-schema`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use kalsim_core::{OBS_DIM, OBS_FEATURES, OBS_SCHEMA_VERSION};

use super::{CliError, CliResult, emit};
use kalsim_host_sim::data::{self, GenConfig, LoadOptions, Mode};

/// Options of `kalsim gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// Number of markets.
    #[arg(long, default_value_t = 8)]
    pub markets: u32,
    /// `orderbook_delta` messages per market.
    #[arg(long, default_value_t = 2_000)]
    pub events: u32,
    /// Seed of everything.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Opt-in information shocks of up to this many bps of probability (0 = the original
    /// model, byte-identical); see `docs/experiments.md`.
    #[arg(long, default_value_t = 0)]
    pub edge_bps: u32,
    /// Generator: `default` or `informed` (SPEC §10: with forecast messages and a book that
    /// lags a latent probability).
    #[arg(long, default_value = "default", value_parser = ["default", "informed"])]
    pub preset: String,
    /// Output file (`-` or absent: standard output).
    #[arg(short = 'o', long = "output", value_name = "FILE.jsonl")]
    pub output: Option<PathBuf>,
}

pub(super) fn gen_cmd(a: &GenArgs) -> CliResult {
    if a.markets == 0 || a.events == 0 {
        return Err(CliError::input(
            "gen: --markets and --events must be at least 1",
        ));
    }
    let cfg = GenConfig {
        markets: a.markets,
        events: a.events,
        seed: a.seed,
    };
    let model = data::r#gen::GenModel {
        edge_bps: a.edge_bps,
    };
    if a.preset == "informed" {
        let text =
            data::informed::write_jsonl(&data::informed::markets(a.seed, a.markets, a.events));
        match &a.output {
            Some(path) if path.as_os_str() != "-" => {
                std::fs::write(path, text)
                    .map_err(|e| CliError::runtime(format!("{}: {e}", path.display())))?;
                eprintln!(
                    "wrote {} informed markets × {} events (seed {}) to {}",
                    a.markets,
                    a.events,
                    a.seed,
                    path.display()
                );
            }
            _ => emit(&text),
        }
        return Ok(());
    }
    match &a.output {
        Some(path) if path.as_os_str() != "-" => {
            let file = File::create(path)
                .map_err(|e| CliError::runtime(format!("{}: {e}", path.display())))?;
            let mut out = BufWriter::new(file);
            data::r#gen::generate_model(&cfg, model, &mut out)
                .and_then(|()| out.flush())
                .map_err(|e| CliError::runtime(format!("{}: {e}", path.display())))?;
            eprintln!(
                "wrote {} markets × {} events (seed {}) to {}",
                a.markets,
                a.events,
                a.seed,
                path.display()
            );
        }
        _ => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            match data::r#gen::generate_model(&cfg, model, &mut out).and_then(|()| out.flush()) {
                // A reader that stopped early (`kalsim gen | head`) is not an error.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(CliError::runtime(format!("stdout: {e}")));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Options of `kalsim validate-data`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Kalshi JSONL capture(s), loaded in order into one dataset.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Skip and count bad lines (and resync after gaps) instead of failing.
    #[arg(long)]
    pub lenient: bool,
    /// Settlement results `{"TICKER": "yes"|"no"}`.
    #[arg(long, value_name = "results.json")]
    pub results: Option<PathBuf>,
    /// Side files of forecast messages joined by market and time (SPEC §10).
    #[arg(long = "forecasts", value_name = "FILE.jsonl", num_args = 1..)]
    pub forecasts: Vec<PathBuf>,
}

pub(super) fn load_options(
    lenient: bool,
    results: Option<&PathBuf>,
) -> Result<LoadOptions, CliError> {
    let mut opts = LoadOptions {
        mode: if lenient { Mode::Lenient } else { Mode::Strict },
        results: None,
    };
    if let Some(path) = results {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::input(format!("results file {}: {e}", path.display())))?;
        let parsed = data::load_results_json(&text)
            .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
        opts.results = Some(parsed);
    }
    Ok(opts)
}

pub(super) fn validate_cmd(a: &ValidateArgs) -> CliResult {
    let opts = load_options(a.lenient, a.results.as_ref())?;
    let mut dataset =
        data::load_files(&a.files, &opts).map_err(|e| CliError::input(e.to_string()))?;
    for path in &a.forecasts {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::input(format!("forecast file {}: {e}", path.display())))?;
        data::join_forecasts(&mut dataset, &path.display().to_string(), &text, opts.mode)
            .map_err(|e| CliError::input(e.to_string()))?;
    }
    let summary = data::validate(&dataset);
    let mut text = summary.to_string();
    if a.lenient && (dataset.report.skipped_total > 0 || dataset.report.gap_total > 0) {
        text += &format!("\nload report (lenient):\n{}", dataset.report);
    }
    emit(&text);
    let errors: u64 = summary.markets.iter().map(|m| m.errors).sum();
    if dataset.markets.is_empty() {
        return Err(CliError::input(format!(
            "{}: no market with a snapshot found",
            a.files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if errors > 0 {
        return Err(CliError::input(format!(
            "{errors} event(s) rejected while replaying the books"
        )));
    }
    Ok(())
}

/// Options of `kalsim obs-schema`.
#[derive(Debug, Args)]
pub struct ObsSchemaArgs {
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn obs_schema_cmd(a: &ObsSchemaArgs) -> CliResult {
    if a.json {
        let features: Vec<_> = OBS_FEATURES
            .iter()
            .enumerate()
            .map(|(i, f)| {
                serde_json::json!({
                    "index": i,
                    "name": f.name,
                    "group": f.group,
                    "scaling": f.scaling,
                    "min": f.min,
                    "max": f.max,
                })
            })
            .collect();
        let doc = serde_json::json!({
            "schema": "kalsim-obs-schema",
            "version": OBS_SCHEMA_VERSION,
            "dim": OBS_DIM,
            "features": features,
        });
        emit(&(serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"));
    } else {
        let mut text = format!(
            "observation schema v{OBS_SCHEMA_VERSION}, {OBS_DIM} features (f32)\n{:>3}  {:<20} {:<14} {:>6} {:>6}  scaling\n",
            "idx", "name", "group", "min", "max"
        );
        for (i, f) in OBS_FEATURES.iter().enumerate() {
            text += &format!(
                "{:>3}  {:<20} {:<14} {:>6} {:>6}  {}\n",
                i, f.name, f.group, f.min, f.max, f.scaling
            );
        }
        emit(&text);
    }
    Ok(())
}
