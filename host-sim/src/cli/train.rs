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
use crate::policy::{BookSignal, ObsIndex, Policy, TrainedPolicy};
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
    /// Synthetic data: the generator's opt-in information shocks, bps (overrides the
    /// configuration's `data.synthetic_edge_bps`; 0 = the original model).
    #[arg(long, value_name = "BPS")]
    pub edge_bps: Option<u32>,
    /// Held-out evaluation captures. Default: synthetic data is evaluated on markets from
    /// generator seed `synthetic_seed + 1000`; capture files are split, every fourth market
    /// (by ticker order) held out of training.
    #[arg(long = "eval-data", value_name = "FILE.jsonl", num_args = 1..)]
    pub eval_data: Vec<PathBuf>,
    /// Evaluate on the training markets instead of held-out ones (the old behaviour).
    #[arg(long)]
    pub in_sample: bool,
    /// Evaluate trained policies by sampling from the masked softmax (seeded) instead of
    /// the greedy argmax: shows what a policy that is HOLD at the argmax would trade.
    #[arg(long)]
    pub stochastic: bool,
}

/// Offset of the synthetic generator seed of the held-out evaluation markets.
pub const EVAL_SEED_OFFSET: u64 = 1_000;

/// Training and evaluation markets of an experiment, and a description of the split.
fn split_markets(
    a: &ExperimentArgs,
    cfg: &EnvConfig,
    markets: &Markets,
) -> Result<(Markets, EnvConfig, Markets, String), CliError> {
    if a.in_sample {
        return Ok((
            markets.clone(),
            cfg.clone(),
            markets.clone(),
            "in-sample (the training markets)".into(),
        ));
    }
    if !a.eval_data.is_empty() {
        let mut ecfg = cfg.clone();
        ecfg.data.files = a
            .eval_data
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let eval = load_data(&ecfg)?;
        let what = format!("held-out files {}", ecfg.data.files.join(", "));
        return Ok((markets.clone(), ecfg, eval, what));
    }
    if cfg.data.files.is_empty() {
        let mut ecfg = cfg.clone();
        ecfg.data.synthetic_seed = cfg.data.synthetic_seed.wrapping_add(EVAL_SEED_OFFSET);
        let eval = load_data(&ecfg)?;
        let what = format!(
            "held-out synthetic markets (generator seed {})",
            ecfg.data.synthetic_seed
        );
        return Ok((markets.clone(), ecfg, eval, what));
    }
    if markets.len() < 2 {
        return Err(CliError::input(
            "experiment: one market cannot be split into training and held-out markets; \
             pass --eval-data or --in-sample",
        ));
    }
    let (mut train, mut eval) = (Vec::new(), Vec::new());
    for (i, m) in markets.iter().enumerate() {
        if i % 4 == 3 || (markets.len() < 4 && i == markets.len() - 1) {
            eval.push(m.clone());
        } else {
            train.push(m.clone());
        }
    }
    let what = format!(
        "held-out split: {} training, {} evaluation markets (every 4th)",
        train.len(),
        eval.len()
    );
    Ok((
        std::sync::Arc::new(train),
        cfg.clone(),
        std::sync::Arc::new(eval),
        what,
    ))
}

/// How a policy's chosen size relates to the book signal: wraps a policy during
/// evaluation and records, for every BUY (YES or NO) action it takes, the tier and the
/// strength of the book signal ([`BookSignal`]: imbalance and microprice offset, −1..=1).
#[derive(Debug)]
pub struct SizingProbe<'a> {
    inner: &'a mut dyn Policy,
    ix: ObsIndex,
    stats: SizingStats,
}

/// What [`SizingProbe`] measured.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct SizingStats {
    /// BUY actions per tier.
    pub buys_per_tier: [u64; 5],
    /// Sum of |signal| per tier (mean = sum / count).
    pub abs_signal_sum: [f64; 5],
    /// BUY actions whose side agrees with the signal's sign (YES when > 0, NO when < 0).
    pub aligned: u64,
    /// Steps seen, and |signal| summed over all of them.
    pub steps: u64,
    /// Sum of |signal| over all steps.
    pub abs_signal_all: f64,
    /// Pearson correlation of tier index and |signal| over BUY actions (0 if undefined).
    pub tier_signal_r: f64,
    /// Pearson sums: n, Σx, Σy, Σxx, Σyy, Σxy.
    #[serde(skip)]
    sums: [f64; 6],
}

impl SizingStats {
    /// Share of BUYs on the signal's side (0 when there are none).
    pub fn aligned_fraction(&self) -> f64 {
        let n: u64 = self.buys_per_tier.iter().sum();
        if n == 0 {
            0.0
        } else {
            self.aligned as f64 / n as f64
        }
    }

    fn finish(&mut self) {
        let [n, sx, sy, sxx, syy, sxy] = self.sums;
        let vx = n * sxx - sx * sx;
        let vy = n * syy - sy * sy;
        self.tier_signal_r = if n > 1.0 && vx > 0.0 && vy > 0.0 {
            (n * sxy - sx * sy) / (vx.sqrt() * vy.sqrt())
        } else {
            0.0
        };
    }
}

impl<'a> SizingProbe<'a> {
    /// Wrap `inner`.
    pub fn new(inner: &'a mut dyn Policy) -> SizingProbe<'a> {
        SizingProbe {
            inner,
            ix: ObsIndex::resolve(),
            stats: SizingStats::default(),
        }
    }

    /// The statistics (correlation computed).
    pub fn finish(mut self) -> SizingStats {
        self.stats.finish();
        self.stats
    }
}

impl Policy for SizingProbe<'_> {
    fn act(&mut self, obs: &[f32], mask: &[bool; kalsim_core::ACTION_COUNT]) -> u32 {
        let a = self.inner.act(obs, mask);
        let signal = BookSignal::read(&self.ix, obs).value;
        let st = &mut self.stats;
        st.steps += 1;
        st.abs_signal_all += signal.abs();
        // BUY_YES 1..=5, BUY_NO 11..=15 (SPEC §2).
        let buy = match a {
            1..=5 => Some((a as usize - 1, 1.0)),
            11..=15 => Some((a as usize - 11, -1.0)),
            _ => None,
        };
        if let Some((tier, side)) = buy {
            st.buys_per_tier[tier] += 1;
            st.abs_signal_sum[tier] += signal.abs();
            if signal * side > 0.0 {
                st.aligned += 1;
            }
            let (x, y) = (tier as f64, signal.abs());
            for (s, v) in st.sums.iter_mut().zip([1.0, x, y, x * x, y * y, x * y]) {
                *s += v;
            }
        }
        a
    }

    fn name(&self) -> String {
        self.inner.name()
    }
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

/// One evaluated policy of an experiment.
struct Evaluated {
    agg: Aggregate,
    sizing: SizingStats,
}

fn experiment_table(rows: &[(&str, Vec<Evaluated>)]) -> String {
    type Metric = (&'static str, fn(&Evaluated) -> f64, f64);
    let metrics: [Metric; 14] = [
        ("total return %", |e| e.agg.total_return, 100.0),
        ("Sharpe per step", |e| e.agg.sharpe, 1.0),
        ("max drawdown %", |e| e.agg.max_drawdown, 100.0),
        ("win rate %", |e| e.agg.win_rate_pooled, 100.0),
        ("round trips", |e| e.agg.round_trips as f64, 1.0),
        ("fees per episode $", |e| e.agg.fees_cents, 0.01),
        ("HOLD fraction %", |e| e.agg.hold_fraction, 100.0),
        ("size efficiency r", |e| e.agg.size_efficiency_pooled, 1.0),
        ("avg |position|", |e| e.agg.avg_position_size, 1.0),
        (
            "buys",
            |e| e.sizing.buys_per_tier.iter().sum::<u64>() as f64,
            1.0,
        ),
        ("buys with signal %", |e| e.sizing.aligned_fraction(), 100.0),
        ("r(tier, |signal|)", |e| e.sizing.tier_signal_r, 1.0),
        (
            "|signal| all steps",
            |e| {
                if e.sizing.steps == 0 {
                    0.0
                } else {
                    e.sizing.abs_signal_all / e.sizing.steps as f64
                }
            },
            1.0,
        ),
        (
            "|signal| at buys",
            |e| {
                let n: u64 = e.sizing.buys_per_tier.iter().sum();
                if n == 0 {
                    0.0
                } else {
                    e.sizing.abs_signal_sum.iter().sum::<f64>() / n as f64
                }
            },
            1.0,
        ),
    ];
    let mut out = format!("{:<20}", "metric (mean ± std)");
    for (name, _) in rows {
        out += &format!("  {name:>20}");
    }
    out.push('\n');
    for (label, f, scale) in metrics {
        out += &format!("{label:<20}");
        for (_, evals) in rows {
            let xs: Vec<f64> = evals.iter().map(|e| f(e) * scale).collect();
            let (m, s) = mean_std(&xs);
            out += &format!("  {:>20}", format!("{m:.3} ± {s:.3}"));
        }
        out.push('\n');
    }
    out.push_str("\nsizing by signal (pooled over seeds): fills per tier; BUYs per tier with their mean |signal|\n");
    for (name, evals) in rows {
        let mut fills = [0u64; 5];
        let mut buys = [0u64; 5];
        let mut sig = [0f64; 5];
        for e in evals {
            for t in 0..5 {
                fills[t] += e.agg.fills_per_tier[t];
                buys[t] += e.sizing.buys_per_tier[t];
                sig[t] += e.sizing.abs_signal_sum[t];
            }
        }
        out += &format!("{name:<16} fills");
        for f in fills {
            out += &format!(" {f:>6}");
        }
        out += " | buys(|signal|)";
        for t in 0..5 {
            let m = if buys[t] == 0 {
                0.0
            } else {
                sig[t] / buys[t] as f64
            };
            out += &format!(" {:>5}({m:.2})", buys[t]);
        }
        out.push('\n');
    }
    out
}

pub(super) fn experiment_cmd(a: &ExperimentArgs) -> CliResult {
    if a.seeds == 0 || a.episodes == 0 {
        return Err(CliError::input("--seeds and --episodes must be at least 1"));
    }
    let mut base = load_config(&a.env)?;
    if let Some(e) = a.edge_bps {
        base.data.synthetic_edge_bps = e;
    }
    let all = load_data(&base)?;
    let (markets, eval_base, eval_markets, split) = split_markets(a, &base, &all)?;
    eprintln!("evaluation: {split}");
    create_dir(&a.out)?;
    let eval = EvalArgs {
        episodes: a.episodes,
        seed: EVAL_SEED,
    };
    let mut results: Vec<(&str, Vec<Evaluated>)> = Vec::new();
    let mut runs = Vec::new();
    for sizing in ["variable", "fixed"] {
        let mut cfg = base.clone();
        cfg.sizing = sizing.to_owned();
        cfg.engine_config()
            .map_err(|e| CliError::input(e.to_string()))?;
        let mut ecfg = eval_base.clone();
        ecfg.sizing = sizing.to_owned();
        let mut evals = Vec::new();
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
            agent.greedy = !a.stochastic;
            // Every policy is evaluated on the same episodes (seed independent of training).
            let mut probe = SizingProbe::new(&mut agent);
            let report: RunReport = evaluate(&ecfg, &eval_markets, &mut probe, &eval)?;
            let sizing_stats = probe.finish();
            runs.push(serde_json::json!({
                "sizing": sizing,
                "train_seed": opts.seed,
                "checkpoint": path.display().to_string(),
                "aggregate": report.aggregate,
                "sizing_by_signal": sizing_stats,
            }));
            evals.push(Evaluated {
                agg: report.aggregate,
                sizing: sizing_stats,
            });
        }
        results.push((sizing, evals));
    }
    // The baselines on the same episodes, for scale: the plan's fixed-vs-variable rule pair.
    for (name, label) in [("fixed", "baseline fixed"), ("kelly", "baseline kelly")] {
        let mut p = crate::policy::policy_with_context(
            name,
            0,
            crate::policy::PolicyContext::from_config(&eval_base),
        )
        .map_err(|e| CliError::input(e.to_string()))?;
        let mut probe = SizingProbe::new(p.as_mut());
        let agg = evaluate(&eval_base, &eval_markets, &mut probe, &eval)?.aggregate;
        let sizing_stats = probe.finish();
        runs.push(
            serde_json::json!({ "baseline": name, "aggregate": agg, "sizing_by_signal": sizing_stats }),
        );
        results.push((
            label,
            vec![Evaluated {
                agg,
                sizing: sizing_stats,
            }],
        ));
    }
    let table = experiment_table(&results);
    let doc = serde_json::json!({
        "schema": "kalsim-experiment/2",
        "steps": a.train.steps,
        "envs": a.train.envs,
        "seeds": a.seeds,
        "eval_episodes": a.episodes,
        "eval_policy": if a.stochastic { "stochastic" } else { "greedy" },
        "evaluation": split,
        "config": base,
        "eval_config": eval_base,
        "runs": runs,
    });
    let path = a.out.join("experiment.json");
    write_file(
        &path,
        &serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )?;
    emit(&format!(
        "fixed vs variable sizing: PPO, {} steps × {} seed(s) each; {} evaluation on {} episodes of {split}\n{table}\nwrote {}\n",
        a.train.steps,
        a.seeds,
        if a.stochastic { "stochastic" } else { "greedy" },
        a.episodes,
        Path::new(&path).display()
    ));
    Ok(())
}
