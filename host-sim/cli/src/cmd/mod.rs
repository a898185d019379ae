//! The `kalsim` command line: generate and validate data, inspect the observation schema,
//! evaluate and compare policies with reports and plots, benchmark, and serve the browser
//! sandbox.
//!
//! Every failure prints `error: <message>` naming what and where. Exit codes: 0 success,
//! 1 a run that failed after starting (I/O while writing results, an environment error),
//! 2 usage, configuration or data errors. Bad input never panics.

mod data;
mod experiment;
mod run;
mod serve;
mod table;
mod train;

use std::fmt;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// An error with its exit code.
#[derive(Debug)]
pub struct CliError {
    /// Process exit code.
    pub code: i32,
    /// What went wrong, naming the file, line or field.
    pub message: String,
}

impl CliError {
    /// A usage, configuration or data error (exit code 2).
    pub fn input(message: impl Into<String>) -> CliError {
        CliError {
            code: 2,
            message: message.into(),
        }
    }
    /// A failure while running (exit code 1).
    pub fn runtime(message: impl Into<String>) -> CliError {
        CliError {
            code: 1,
            message: message.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Write to standard output, ignoring a closed pipe (`kalsim obs-schema | head` must not
/// panic).
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Result of a subcommand.
pub type CliResult = Result<(), CliError>;

/// kalsim: a deterministic RL trading environment for Kalshi binary contracts with variable
/// position sizing.
#[derive(Debug, Parser)]
#[command(name = "kalsim", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a synthetic dataset as Kalshi JSON Lines (same seed, same bytes).
    Gen(data::GenArgs),
    /// Load captures, replay every market and print a per-market summary.
    ValidateData(data::ValidateArgs),
    /// Print the observation schema (index, name, group, scaling, range).
    ObsSchema(data::ObsSchemaArgs),
    /// Evaluate a policy: summary table, DIR/report.json and plots (PNG and SVG).
    #[command(visible_alias = "eval")]
    Run(run::RunArgs),
    /// Evaluate several policies on the same data and seeds, side by side.
    Compare(run::CompareArgs),
    /// Train a PPO agent (invalid-action masking) and write its checkpoint.
    Train(train::TrainArgs),
    /// Fixed vs variable sizing: train both on several seeds, evaluate, compare.
    Experiment(experiment::ExperimentArgs),
    /// Measure environment throughput on this machine.
    Bench(BenchArgs),
    /// Serve the browser sandbox (static files) on 127.0.0.1.
    Serve(serve::ServeArgs),
    /// Trade a policy on live Kalshi market data, on the paper or the Kalshi venue.
    Live(Box<kalsim_host_sim::live::cli::LiveArgs>),
    /// Record Kalshi WebSocket frames as replayable JSON Lines (rotating files).
    Record(kalsim_host_sim::live::recorder::RecordArgs),
}

/// Options of `kalsim bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Shorter measurements.
    #[arg(long)]
    pub quick: bool,
    /// Repetitions of each figure (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Also write every figure to this JSON file (docs/performance.md's keys).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// Data and environment options shared by `run`, `compare`, `train` and `experiment`.
#[derive(Debug, Clone, Args)]
pub struct EnvArgs {
    /// Kalshi JSONL capture(s); default: the embedded synthetic markets.
    #[arg(long = "data", value_name = "FILE.jsonl", num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Settlement results `{"TICKER": "yes"|"no"}`.
    #[arg(long, value_name = "results.json")]
    pub results: Option<PathBuf>,
    /// Skip and count bad lines instead of failing.
    #[arg(long)]
    pub lenient: bool,
    /// Environment configuration (`.toml`, else JSON).
    #[arg(long, value_name = "cfg.toml|cfg.json")]
    pub config: Option<PathBuf>,
    /// Override the configuration's sizing mode.
    #[arg(long, value_parser = ["variable", "fixed"])]
    pub sizing: Option<String>,
    /// Synthetic market preset (SPEC §10): `informed` = forecasts of varying precision and
    /// a book lagging a latent probability; sets `data.preset` and, where the configuration
    /// leaves the synthetic size at its defaults (16 × 2 000), the preset's 1 024 × 600.
    #[arg(long, value_parser = ["default", "informed"])]
    pub preset: Option<String>,
    /// Side files of forecast messages joined by market and time (SPEC §10).
    #[arg(long = "forecasts", value_name = "FILE.jsonl", num_args = 1..)]
    pub forecasts: Vec<PathBuf>,
}

/// Evaluation options shared by `run` and `compare`.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// Episodes to run.
    #[arg(long, default_value_t = 8)]
    pub episodes: u32,
    /// Reset seed of the run (also seeds the `random` policy).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Parse the arguments, run the subcommand and return the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Gen(a) => data::gen_cmd(&a),
        Command::ValidateData(a) => data::validate_cmd(&a),
        Command::ObsSchema(a) => data::obs_schema_cmd(&a),
        Command::Run(a) => run::run_cmd(&a),
        Command::Compare(a) => run::compare_cmd(&a),
        Command::Train(a) => train::train_cmd(&a),
        Command::Experiment(a) => experiment::experiment_cmd(&a),
        Command::Bench(a) => {
            crate::bench::run(a.quick, a.repeats, a.json.as_deref()).map_err(CliError::runtime)
        }
        Command::Serve(a) => serve::serve_cmd(&a),
        Command::Live(a) => {
            kalsim_host_sim::live::cli::run(*a).map_err(|e| CliError::input(e.to_string()))
        }
        Command::Record(a) => {
            kalsim_host_sim::live::recorder::run(a).map_err(|e| CliError::runtime(e.to_string()))
        }
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.code
        }
    }
}
