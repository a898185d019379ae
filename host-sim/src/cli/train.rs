//! `kalsim train` (PPO with invalid-action masking on a VecEnv) and `kalsim experiment`
//! (plan §7: "compare performance metrics between fixed and variable sizing").

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::run::{create_dir, evaluate, load_config, load_data, write_file};
use super::{CliError, CliResult, EnvArgs, EvalArgs, emit};
use crate::env::{EnvConfig, Markets, VecEnv};
use crate::policy::TrainedPolicy;
use crate::report::{Aggregate, RunReport};
use crate::train::{self, PpoConfig, Trainer};

/// Options of `kalsim train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    #[command(flatten)]
    pub train: TrainOpts,
    /// Checkpoint to write.
    #[arg(short = 'o', long = "output", default_value = "out/train/policy.json")]
    pub output: PathBuf,
    /// Per-iteration log (CSV); default: `train.csv` beside the checkpoint.
    #[arg(long, value_name = "FILE.csv")]
    pub log: Option<PathBuf>,
}

/// Training options shared by `train` and `experiment`.
#[derive(Debug, Clone, Args)]
pub struct TrainOpts {
    /// Environment steps to train for (all envs; whole iterations).
    #[arg(long, default_value_t = 200_000)]
    pub steps: u64,
    /// Environments stepped together.
    #[arg(long, default_value_t = 16)]
    pub envs: usize,
    /// Threads for the VecEnv (results are identical for any count).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// PPO hyper-parameters (JSON, keys of `PpoConfig`; missing keys keep their defaults).
    #[arg(long, value_name = "ppo.json")]
    pub ppo: Option<PathBuf>,
    /// Seed of the network initialisation, the sampling and the environments.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

fn ppo_config(o: &TrainOpts) -> Result<PpoConfig, CliError> {
    let mut ppo = match &o.ppo {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::input(format!("--ppo {}: {e}", path.display())))?;
            serde_json::from_str::<PpoConfig>(&text).map_err(|e| {
                CliError::input(format!(
                    "--ppo {}: line {} column {}: {e}",
                    path.display(),
                    e.line(),
                    e.column()
                ))
            })?
        }
        None => PpoConfig::default(),
    };
    ppo.seed = o.seed;
    if o.envs == 0 {
        return Err(CliError::input("--envs must be at least 1"));
    }
    if o.steps == 0 {
        return Err(CliError::input("--steps must be at least 1"));
    }
    Ok(ppo)
}

/// Train one policy; `log` receives the CSV rows.
fn train_one(
    cfg: &EnvConfig,
    markets: &Markets,
    o: &TrainOpts,
    ppo: PpoConfig,
    label: &str,
    mut log: Option<&mut dyn Write>,
) -> Result<train::Policy, CliError> {
    let mut venv = VecEnv::new(cfg.clone(), markets.clone(), o.envs, o.threads)
        .map_err(|e| CliError::input(e.to_string()))?;
    let mut trainer =
        Trainer::new(ppo, cfg.policy_meta()).map_err(|e| CliError::input(format!("--ppo: {e}")))?;
    let bar = ProgressBar::new(o.steps);
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix:>10} [{bar:30}] {pos}/{len} steps, {msg} ({elapsed}, eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_owned());
    if let Some(w) = log.as_deref_mut() {
        train::write_csv_header(&mut *w).map_err(|e| CliError::runtime(format!("log: {e}")))?;
    }
    let mut log_error = None;
    let summary = trainer
        .train(&mut venv, o.steps, |s| {
            bar.set_position(s.timesteps.min(o.steps));
            bar.set_message(format!(
                "return {:.3}, entropy {:.2}, HOLD {:.0}%",
                s.mean_episode_return,
                s.entropy,
                s.hold_fraction * 100.0
            ));
            if let Some(w) = log.as_deref_mut()
                && let Err(e) = train::write_csv_row(s, &mut *w)
            {
                log_error = Some(e);
                return false;
            }
            true
        })
        .map_err(|e| CliError::runtime(format!("training: {e}")))?;
    bar.finish_and_clear();
    if let Some(e) = log_error {
        return Err(CliError::runtime(format!("log: {e}")));
    }
    if let Some(e) = venv.take_batch_error() {
        return Err(CliError::runtime(format!("environment: {e}")));
    }
    if let Some(last) = &summary.last {
        eprintln!(
            "{label}: {} iterations, {} steps, {} episodes; last mean episode return {:.3}, entropy {:.2}",
            summary.iterations,
            summary.timesteps,
            summary.episodes,
            last.mean_episode_return,
            last.entropy
        );
    }
    Ok(trainer.policy().clone())
}

pub(super) fn train_cmd(a: &TrainArgs) -> CliResult {
    let cfg = load_config(&a.env)?;
    let ppo = ppo_config(&a.train)?;
    let markets = load_data(&cfg)?;
    if let Some(dir) = a.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir)?;
    }
    let log_path = a
        .log
        .clone()
        .unwrap_or_else(|| a.output.with_file_name("train.csv"));
    let file = File::create(&log_path)
        .map_err(|e| CliError::runtime(format!("{}: {e}", log_path.display())))?;
    let mut log = BufWriter::new(file);
    let label = format!("ppo/{}", cfg.sizing_label());
    let policy = train_one(&cfg, &markets, &a.train, ppo, &label, Some(&mut log))?;
    log.flush()
        .map_err(|e| CliError::runtime(format!("{}: {e}", log_path.display())))?;
    write_file(&a.output, &policy.to_json())?;
    emit(&format!(
        "wrote {} (sizing {}) and {}\nevaluate: kalsim run --policy {}{}\n",
        a.output.display(),
        cfg.sizing_label(),
        log_path.display(),
        a.output.display(),
        if cfg.is_fixed() {
            " --sizing fixed"
        } else {
            ""
        }
    ));
    Ok(())
}

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
    /// Evaluation episodes per trained policy (greedy).
    #[arg(long, default_value_t = 16)]
    pub episodes: u32,
    /// Directory for experiment.json and the checkpoints.
    #[arg(long, default_value = "out/experiment", value_name = "DIR")]
    pub out: PathBuf,
}

/// Reset seed of every evaluation in an experiment, independent of the training seeds.
const EVAL_SEED: u64 = 1_000_003;

fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let m = xs.iter().sum::<f64>() / n;
    let v = if xs.len() > 1 {
        xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (m, v.sqrt())
}

fn experiment_table(rows: &[(&str, Vec<Aggregate>)]) -> String {
    type Metric = (&'static str, fn(&Aggregate) -> f64, f64);
    let metrics: [Metric; 8] = [
        ("total return %", |a| a.total_return, 100.0),
        ("Sharpe per step", |a| a.sharpe, 1.0),
        ("max drawdown %", |a| a.max_drawdown, 100.0),
        ("win rate %", |a| a.win_rate_pooled, 100.0),
        ("fees per episode $", |a| a.fees_cents, 0.01),
        ("HOLD fraction %", |a| a.hold_fraction, 100.0),
        ("size efficiency r", |a| a.size_efficiency_pooled, 1.0),
        ("avg |position|", |a| a.avg_position_size, 1.0),
    ];
    let mut out = format!("{:<20}", "metric (mean ± std)");
    for (name, _) in rows {
        out += &format!("  {name:>20}");
    }
    out.push('\n');
    for (label, f, scale) in metrics {
        out += &format!("{label:<20}");
        for (_, aggs) in rows {
            let xs: Vec<f64> = aggs.iter().map(|a| f(a) * scale).collect();
            let (m, s) = mean_std(&xs);
            out += &format!("  {:>20}", format!("{m:.3} ± {s:.3}"));
        }
        out.push('\n');
    }
    out
}

pub(super) fn experiment_cmd(a: &ExperimentArgs) -> CliResult {
    if a.seeds == 0 || a.episodes == 0 {
        return Err(CliError::input("--seeds and --episodes must be at least 1"));
    }
    let base = load_config(&a.env)?;
    let markets = load_data(&base)?;
    create_dir(&a.out)?;
    let mut results: Vec<(&str, Vec<Aggregate>)> = Vec::new();
    let mut runs = Vec::new();
    for sizing in ["variable", "fixed"] {
        let mut cfg = base.clone();
        cfg.sizing = sizing.to_owned();
        cfg.engine_config()
            .map_err(|e| CliError::input(e.to_string()))?;
        let mut aggs = Vec::new();
        for k in 0..a.seeds {
            let mut opts = a.train.clone();
            opts.seed = a.train.seed + k as u64;
            let ppo = ppo_config(&opts)?;
            let label = format!("{sizing}/{}", opts.seed);
            let policy = train_one(&cfg, &markets, &opts, ppo, &label, None)?;
            let path = a.out.join(format!("{sizing}-seed{}.json", opts.seed));
            write_file(&path, &policy.to_json())?;
            let name = format!("ppo-{sizing}-{}", opts.seed);
            let mut agent = TrainedPolicy::from_json(&policy.to_json(), &name, opts.seed)
                .map_err(|e| CliError::runtime(e.to_string()))?;
            // Every policy is evaluated on the same episodes (seed independent of training).
            let eval = EvalArgs {
                episodes: a.episodes,
                seed: EVAL_SEED,
            };
            let report: RunReport = evaluate(&cfg, &markets, &mut agent, &eval)?;
            runs.push(serde_json::json!({
                "sizing": sizing,
                "train_seed": opts.seed,
                "checkpoint": path.display().to_string(),
                "aggregate": report.aggregate,
            }));
            aggs.push(report.aggregate);
        }
        results.push((sizing, aggs));
    }
    // The baselines on the same episodes, for scale: the plan's fixed-vs-variable rule pair.
    let mut baselines = Vec::new();
    for name in ["fixed", "kelly"] {
        let mut p = crate::policy::policy_with_context(
            name,
            0,
            crate::policy::PolicyContext::from_config(&base),
        )
        .map_err(|e| CliError::input(e.to_string()))?;
        let eval = EvalArgs {
            episodes: a.episodes,
            seed: EVAL_SEED,
        };
        baselines.push((
            name,
            evaluate(&base, &markets, p.as_mut(), &eval)?.aggregate,
        ));
    }
    for (name, agg) in &baselines {
        runs.push(serde_json::json!({ "baseline": name, "aggregate": agg }));
    }
    let labels = ["baseline fixed", "baseline kelly"];
    for ((_, agg), label) in baselines.into_iter().zip(labels) {
        results.push((label, vec![agg]));
    }
    let table = experiment_table(&results);
    let doc = serde_json::json!({
        "schema": "kalsim-experiment/1",
        "steps": a.train.steps,
        "envs": a.train.envs,
        "seeds": a.seeds,
        "eval_episodes": a.episodes,
        "config": base,
        "runs": runs,
    });
    let path = a.out.join("experiment.json");
    write_file(
        &path,
        &serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )?;
    emit(&format!(
        "fixed vs variable sizing: PPO, {} steps × {} seed(s) each, greedy evaluation on {} episodes\n{table}\nwrote {}\n",
        a.train.steps,
        a.seeds,
        a.episodes,
        Path::new(&path).display()
    ));
    Ok(())
}
