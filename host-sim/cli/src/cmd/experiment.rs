//! `kalsim experiment`: does variable sizing pay? (plan §7, §12; issue 11.)
//!
//! For each sizing mode (`ppo-variable`: tiers 5/10/20/50/100; `ppo-fixed`: every trade 10
//! contracts, the plan's baseline), K seeds are trained with the same budget on the training
//! markets — in parallel (`--jobs`, each run is independent and deterministic, so the
//! results do not depend on the job count) — and evaluated greedily on **held-out**
//! markets, the same episodes for every policy, beside the reference policies
//! `forecast-kelly`, `forecast-fixed`, `oracle` and `hold`. The output is
//! `experiment.json` (schema `kalsim-experiment/3`) and a table.
//!
//! Held-out data: synthetic markets from generator seed `synthetic_seed + 1000` (a disjoint
//! seed range); captures split by market (every fourth ticker) or by time (`--split time`:
//! each market's first 70 % of events for training, the rest for evaluation); or
//! `--eval-data`.

//!
//! The experiment itself is `kalsim_host_sim::experiment` (shared with the C ABI, Python and
//! Ray); this command maps its flags to `ExperimentOptions` and prints the table.

use std::path::{Path, PathBuf};

use clap::Args;

use super::run::{create_dir, load_config};
use super::train::TrainOpts;
use super::{CliError, CliResult, EnvArgs, emit};
use kalsim_host_sim::experiment::{Experiment, ExperimentError, ExperimentOptions};

/// Options of `kalsim experiment`.
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    #[command(flatten)]
    pub train: TrainOpts,
    /// Training seeds per sizing mode (seeds `--seed`, `--seed + 1`, ...).
    #[arg(long, default_value_t = 3)]
    pub seeds: u32,
    /// Evaluation episodes per policy (greedy), on held-out markets.
    #[arg(long, default_value_t = 256)]
    pub episodes: u32,
    /// Directory for experiment.json and the checkpoints.
    #[arg(long, default_value = "out/experiment", value_name = "DIR")]
    pub out: PathBuf,
    /// Training runs in parallel (default: every core). Results do not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Synthetic data: the default generator's opt-in information shocks, bps.
    #[arg(long, value_name = "BPS")]
    pub edge_bps: Option<u32>,
    /// Held-out evaluation captures (instead of a split of the training data).
    #[arg(long = "eval-data", value_name = "FILE.jsonl", num_args = 1..)]
    pub eval_data: Vec<PathBuf>,
    /// How capture files are split: `market` (every fourth market held out) or `time`
    /// (train on each market's first 70 % of events, evaluate on the rest).
    #[arg(long, default_value = "market", value_parser = ["market", "time"])]
    pub split: String,
    /// Evaluate on the training markets instead of held-out ones.
    #[arg(long)]
    pub in_sample: bool,
    /// Evaluate trained policies by sampling from the masked softmax instead of the argmax.
    #[arg(long)]
    pub stochastic: bool,
}

impl From<ExperimentError> for CliError {
    fn from(e: ExperimentError) -> CliError {
        if e.input {
            CliError::input(e.message)
        } else {
            CliError::runtime(e.message)
        }
    }
}

pub(super) fn experiment_cmd(a: &ExperimentArgs) -> CliResult {
    if a.seeds == 0 || a.episodes == 0 {
        return Err(CliError::input("--seeds and --episodes must be at least 1"));
    }
    let started = std::time::Instant::now();
    let mut base = load_config(&a.env)?;
    if let Some(e) = a.edge_bps {
        base.data.synthetic_edge_bps = e;
    }
    let options = ExperimentOptions {
        train: a.train.options()?,
        seeds: a.seeds,
        episodes: a.episodes,
        eval_data: a
            .eval_data
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        split: a.split.clone(),
        in_sample: a.in_sample,
        stochastic: a.stochastic,
    };
    let plan = Experiment::new(base, options)?;
    eprintln!(
        "{} training market(s); evaluation: {}",
        plan.markets().len(),
        plan.split
    );
    create_dir(&a.out)?;
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let outcome = plan.run(jobs, &a.out, &|t| {
        eprintln!(
            "trained ppo-{}/{} ({:.0} s since start)",
            t.sizing,
            t.seed,
            started.elapsed().as_secs_f64()
        );
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    let path = a.out.join("experiment.json");
    emit(&format!(
        "fixed vs variable sizing: PPO, {} steps × {} seed(s) per mode ({} jobs); {} evaluation on {} episodes of {}\n{}criteria: {}\nwrote {} ({elapsed:.0} s)\n",
        a.train.steps,
        a.seeds,
        jobs,
        if a.stochastic { "stochastic" } else { "greedy" },
        a.episodes,
        plan.split,
        outcome.table,
        outcome.criteria,
        Path::new(&path).display()
    ));
    Ok(())
}
