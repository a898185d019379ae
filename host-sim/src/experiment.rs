//! Training runs and the fixed-vs-variable sizing experiment (plan §7, §12; issue 11), as
//! a library: the `kalsim train` / `kalsim experiment` commands, the C ABI
//! (`kalsim_train`, `kalsim_experiment_*`, so Python's `kalsim.train` / `kalsim.experiment`)
//! and `kalsim.ray` all run this code, so their checkpoints and `experiment.json` are the
//! same bytes for the same inputs (paths and timings aside).
//!
//! An experiment is planned ([`Experiment::new`]: configuration, data, held-out split), cut
//! into independent, deterministic tasks ([`Experiment::tasks`]: one PPO training run per
//! sizing mode and seed, [`Experiment::train_task`]), and gathered
//! ([`Experiment::gather`]: every checkpoint written, evaluated greedily on the held-out
//! markets beside the reference policies, `experiment.json` and the table).
//! [`Experiment::run`] does all three on local threads. Tasks can run anywhere (a thread, a
//! process, a Ray worker): each depends only on the plan's inputs and its index.
//!
//! For each sizing mode (`ppo-variable`: tiers 5/10/20/50/100; `ppo-fixed`: every trade 10
//! contracts, the plan's baseline), K seeds are trained with the same budget on the training
//! markets and evaluated on **held-out** markets, the same episodes for every policy,
//! beside `forecast-kelly`, `forecast-fixed`, `oracle` and `hold`. Held-out data: synthetic
//! markets from generator seed `synthetic_seed + 1000` (a disjoint seed range); captures
//! split by market (every fourth ticker) or by time (`split = "time"`: each market's first
//! 70 % of events for training, the rest for evaluation); or `eval_data`.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::env::{EnvConfig, Markets, Sizing, VecEnv, held_out, load_markets, parse_name};
use crate::policy::{
    Policy, PolicyContext, TrainedPolicy, forecast_posterior, policy_with_context,
};
use crate::report::{RunReport, SizingProbe, SizingStats, run_episodes};
use crate::train::{self, IterStats, PpoConfig, TrainSummary, Trainer};

/// Reset seed of every evaluation, independent of the training seeds.
pub const EVAL_SEED: u64 = 1_000_003;

/// The schema of `experiment.json`.
pub const EXPERIMENT_SCHEMA: &str = "kalsim-experiment/3";

/// A training or experiment failure: bad input (exit code 2 on the CLI) or a failure while
/// running (exit code 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExperimentError {
    /// True for a usage, configuration or data error.
    pub input: bool,
    /// What went wrong, naming the file, option or field.
    pub message: String,
}

impl ExperimentError {
    /// A usage, configuration or data error.
    pub fn input(message: impl Into<String>) -> ExperimentError {
        ExperimentError {
            input: true,
            message: message.into(),
        }
    }
    /// A failure while running.
    pub fn runtime(message: impl Into<String>) -> ExperimentError {
        ExperimentError {
            input: false,
            message: message.into(),
        }
    }
}

impl fmt::Display for ExperimentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExperimentError {}

/// The budget and hyper-parameters of one PPO training run (`kalsim train` options).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainOptions {
    /// Environment steps to train for (all envs; whole iterations).
    pub steps: u64,
    /// Environments stepped together.
    pub envs: usize,
    /// Threads of the PPO update (its policy and value halves side by side, so 2 is the
    /// most it uses; the rollout's VecEnv steps on the calling thread). Results are
    /// identical for any count.
    pub threads: usize,
    /// Seed of the network initialisation, the sampling and the environments (overrides
    /// `ppo.seed`).
    pub seed: u64,
    /// PPO hyper-parameters (missing keys keep their defaults).
    pub ppo: PpoConfig,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            steps: 200_000,
            envs: 16,
            threads: 1,
            seed: 0,
            ppo: PpoConfig::default(),
        }
    }
}

impl TrainOptions {
    /// Options from JSON (`""` = defaults); unknown keys are errors naming the key.
    pub fn from_json(text: &str) -> Result<TrainOptions, ExperimentError> {
        if text.trim().is_empty() {
            return Ok(TrainOptions::default());
        }
        serde_json::from_str(text).map_err(|e| {
            ExperimentError::input(format!(
                "training options: line {} column {}: {e}",
                e.line(),
                e.column()
            ))
        })
    }

    /// The PPO configuration these options train with (`ppo` with `seed`), checked.
    pub fn ppo_config(&self) -> Result<PpoConfig, ExperimentError> {
        if self.envs == 0 {
            return Err(ExperimentError::input("envs must be at least 1"));
        }
        if self.steps == 0 {
            return Err(ExperimentError::input("steps must be at least 1"));
        }
        let mut ppo = self.ppo.clone();
        ppo.seed = self.seed;
        Ok(ppo)
    }
}

/// Train one policy on `markets` under `cfg`. `log` receives the CSV log (header and one row
/// per iteration); `on_iteration` sees every iteration's statistics and returns false to
/// stop early (the policy so far is returned).
pub fn train_policy(
    cfg: &EnvConfig,
    markets: &Markets,
    opts: &TrainOptions,
    mut log: Option<&mut dyn Write>,
    on_iteration: &mut dyn FnMut(&IterStats) -> bool,
) -> Result<(train::Policy, TrainSummary), ExperimentError> {
    let ppo = opts.ppo_config()?;
    // `threads` go to the update (one team): the rollout steps its envs between two
    // forward passes on the calling thread. A second team for the VecEnv would spin on the
    // same cores as the update's (measured: 28 k against 55 k timesteps/s on 2 cores).
    // The bits are the same either way.
    let mut venv = VecEnv::new(cfg.clone(), markets.clone(), opts.envs, 1)
        .map_err(|e| ExperimentError::input(e.to_string()))?;
    let mut trainer = Trainer::new(ppo, cfg.policy_meta())
        .map_err(|e| ExperimentError::input(format!("ppo: {e}")))?;
    trainer
        .set_threads(opts.threads)
        .map_err(|e| ExperimentError::runtime(format!("trainer threads: {e}")))?;
    if let Some(w) = log.as_deref_mut() {
        train::write_csv_header(&mut *w)
            .map_err(|e| ExperimentError::runtime(format!("log: {e}")))?;
    }
    let mut log_error = None;
    let summary = trainer
        .train(&mut venv, opts.steps, |s| {
            if let Some(w) = log.as_deref_mut()
                && let Err(e) = train::write_csv_row(s, &mut *w)
            {
                log_error = Some(e);
                return false;
            }
            on_iteration(s)
        })
        .map_err(|e| ExperimentError::runtime(format!("training: {e}")))?;
    if let Some(e) = log_error {
        return Err(ExperimentError::runtime(format!("log: {e}")));
    }
    Ok((trainer.policy().clone(), summary))
}

/// A policy by `spec`: a baseline's name (`hold`, `random`, `forecast-kelly`, ...) or the
/// path of a trainer checkpoint (a `.json` file), checked against the environment `cfg`
/// it is about to act in. Errors name the spec.
pub fn load_policy(
    spec: &str,
    seed: u64,
    cfg: &EnvConfig,
) -> Result<Box<dyn Policy>, ExperimentError> {
    if spec.ends_with(".json") || Path::new(spec).is_file() {
        let text = std::fs::read_to_string(spec)
            .map_err(|e| ExperimentError::input(format!("{spec}: {e}")))?;
        let name = Path::new(spec)
            .file_stem()
            .map_or_else(|| spec.to_owned(), |s| s.to_string_lossy().into_owned());
        let policy = TrainedPolicy::from_json(&text, &name, seed)
            .map_err(|e| ExperimentError::input(format!("{spec}: {e}")))?;
        policy.check_compatible(cfg).map_err(|e| {
            ExperimentError::input(format!("{spec}: does not fit this environment: {e}"))
        })?;
        return Ok(Box::new(policy));
    }
    policy_with_context(spec, seed, PolicyContext::from_config(cfg))
        .map_err(|e| ExperimentError::input(e.to_string()))
}

/// Run `episodes` evaluation episodes of `policy` (reset seed `seed`) on `markets`: the
/// report `kalsim run` writes as `report.json`.
pub fn evaluate_policy(
    cfg: &EnvConfig,
    markets: &Markets,
    policy: &mut dyn Policy,
    episodes: u32,
    seed: u64,
) -> Result<RunReport, ExperimentError> {
    if episodes == 0 {
        return Err(ExperimentError::input("episodes must be at least 1"));
    }
    run_episodes(cfg, markets.clone(), policy, episodes, seed, &mut |_| {})
        .map_err(|e| ExperimentError::runtime(e.to_string()))
}

/// The options of an experiment (`kalsim experiment` flags).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExperimentOptions {
    /// Every training run's budget; `train.seed` is the first seed.
    pub train: TrainOptions,
    /// Training seeds per sizing mode (`train.seed`, `train.seed + 1`, ...).
    pub seeds: u32,
    /// Evaluation episodes per policy, on held-out markets.
    pub episodes: u32,
    /// Held-out evaluation captures (instead of a split of the training data).
    pub eval_data: Vec<String>,
    /// How captures are split: `"market"` (every fourth market held out) or `"time"`.
    pub split: String,
    /// Evaluate on the training markets instead of held-out ones.
    pub in_sample: bool,
    /// Evaluate trained policies by sampling from the masked softmax instead of the argmax.
    pub stochastic: bool,
}

impl Default for ExperimentOptions {
    fn default() -> Self {
        ExperimentOptions {
            train: TrainOptions::default(),
            seeds: 3,
            episodes: 256,
            eval_data: Vec::new(),
            split: "market".into(),
            in_sample: false,
            stochastic: false,
        }
    }
}

impl ExperimentOptions {
    /// Options from JSON (`""` = defaults); unknown keys are errors naming the key.
    pub fn from_json(text: &str) -> Result<ExperimentOptions, ExperimentError> {
        if text.trim().is_empty() {
            return Ok(ExperimentOptions::default());
        }
        serde_json::from_str(text).map_err(|e| {
            ExperimentError::input(format!(
                "experiment options: line {} column {}: {e}",
                e.line(),
                e.column()
            ))
        })
    }
}

/// One training run of an experiment: a sizing mode and a seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExperimentTask {
    /// Position in [`Experiment::tasks`].
    pub index: usize,
    /// `"variable"` or `"fixed"`.
    pub sizing: String,
    /// Training seed.
    pub seed: u64,
}

impl ExperimentTask {
    /// The checkpoint's file name in the output directory.
    pub fn checkpoint_name(&self) -> String {
        format!("{}-seed{}.json", self.sizing, self.seed)
    }
}

/// What [`Experiment::gather`] produced.
#[derive(Clone, Debug)]
pub struct ExperimentOutcome {
    /// The `experiment.json` document.
    pub doc: Value,
    /// The comparison table (one row per policy), with the paired Sharpe difference and
    /// the edge probe's line.
    pub table: String,
    /// The issue-11 criteria, evaluated.
    pub criteria: Value,
}

/// A planned experiment: configuration, training and evaluation data, options.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The options.
    pub options: ExperimentOptions,
    /// The training configuration.
    pub base: EnvConfig,
    /// The evaluation configuration.
    pub eval_base: EnvConfig,
    /// What the evaluation data is, in words.
    pub split: String,
    markets: Markets,
    eval_markets: Markets,
}

fn load(cfg: &EnvConfig) -> Result<Markets, ExperimentError> {
    load_markets(cfg)
        .map(|(m, _)| m)
        .map_err(|e| ExperimentError::input(e.to_string()))
}

fn write_file(path: &Path, text: &str) -> Result<(), ExperimentError> {
    std::fs::write(path, text)
        .map_err(|e| ExperimentError::runtime(format!("{}: {e}", path.display())))
}

impl Experiment {
    /// Plan an experiment on `base`: load its data and choose the held-out evaluation data.
    pub fn new(base: EnvConfig, options: ExperimentOptions) -> Result<Experiment, ExperimentError> {
        if options.seeds == 0 || options.episodes == 0 {
            return Err(ExperimentError::input(
                "seeds and episodes must be at least 1",
            ));
        }
        if options.split != "market" && options.split != "time" {
            return Err(ExperimentError::input(format!(
                "split {:?}: must be \"market\" or \"time\"",
                options.split
            )));
        }
        options.train.ppo_config()?;
        let all = load(&base)?;
        let (markets, eval_base, eval_markets, split) = split_markets(&options, &base, &all)?;
        Ok(Experiment {
            options,
            base,
            eval_base,
            split,
            markets,
            eval_markets,
        })
    }

    /// The training markets.
    pub fn markets(&self) -> &Markets {
        &self.markets
    }

    /// The held-out evaluation markets.
    pub fn eval_markets(&self) -> &Markets {
        &self.eval_markets
    }

    /// The training runs, in the order `experiment.json` lists them: every seed of
    /// `variable`, then every seed of `fixed`.
    pub fn tasks(&self) -> Vec<ExperimentTask> {
        let mut out = Vec::new();
        for sizing in ["variable", "fixed"] {
            for k in 0..self.options.seeds {
                out.push(ExperimentTask {
                    index: out.len(),
                    sizing: sizing.into(),
                    seed: self.options.train.seed + u64::from(k),
                });
            }
        }
        out
    }

    /// Train task `index` of [`Experiment::tasks`] (deterministic: the same bits wherever
    /// it runs). `on_iteration` as in [`train_policy`].
    pub fn train_task(
        &self,
        index: usize,
        on_iteration: &mut dyn FnMut(&IterStats) -> bool,
    ) -> Result<train::Policy, ExperimentError> {
        let tasks = self.tasks();
        let task = tasks.get(index).ok_or_else(|| {
            ExperimentError::input(format!("task {index} out of range ({} tasks)", tasks.len()))
        })?;
        let mut cfg = self.base.clone();
        cfg.sizing = parse_name("sizing", &task.sizing).unwrap_or_default();
        let mut opts = self.options.train.clone();
        opts.seed = task.seed;
        train_policy(&cfg, &self.markets, &opts, None, on_iteration).map(|(p, _)| p)
    }

    /// Train every task on `jobs` local threads (results do not depend on `jobs`);
    /// `on_trained(task)` is called as each finishes (from the worker threads).
    pub fn train_all(
        &self,
        jobs: usize,
        on_trained: &(dyn Fn(&ExperimentTask) + Sync),
    ) -> Result<Vec<train::Policy>, ExperimentError> {
        let tasks = self.tasks();
        let queue = Mutex::new(tasks.iter().rev().cloned().collect::<Vec<_>>());
        let results: Mutex<Vec<Option<Result<train::Policy, ExperimentError>>>> =
            Mutex::new((0..tasks.len()).map(|_| None).collect());
        std::thread::scope(|s| {
            for _ in 0..jobs.clamp(1, tasks.len().max(1)) {
                s.spawn(|| {
                    loop {
                        let next = queue.lock().map(|mut q| q.pop()).unwrap_or(None);
                        let Some(task) = next else {
                            break;
                        };
                        let r = self.train_task(task.index, &mut |_| true);
                        on_trained(&task);
                        if let Ok(mut res) = results.lock() {
                            res[task.index] = Some(r);
                        }
                    }
                });
            }
        });
        results
            .into_inner()
            .map_err(|_| ExperimentError::runtime("a training thread panicked"))?
            .into_iter()
            .map(|r| r.ok_or_else(|| ExperimentError::runtime("a training run did not finish"))?)
            .collect()
    }

    /// Plan, train on `jobs` threads and gather: the whole experiment.
    pub fn run(
        &self,
        jobs: usize,
        out_dir: &Path,
        on_trained: &(dyn Fn(&ExperimentTask) + Sync),
    ) -> Result<ExperimentOutcome, ExperimentError> {
        let started = std::time::Instant::now();
        let policies = self.train_all(jobs, on_trained)?;
        self.gather(&policies, out_dir, jobs, started)
    }

    /// Write every checkpoint (`<sizing>-seed<seed>.json`) and `experiment.json` into
    /// `out_dir`, after evaluating the trained `policies` (one per task, in task order) on
    /// the held-out markets beside the reference policies. `jobs` and `started` are
    /// recorded (`jobs`, `wall_seconds`), nothing else depends on them.
    pub fn gather(
        &self,
        policies: &[train::Policy],
        out_dir: &Path,
        jobs: usize,
        started: std::time::Instant,
    ) -> Result<ExperimentOutcome, ExperimentError> {
        let a = &self.options;
        let tasks = self.tasks();
        if policies.len() != tasks.len() {
            return Err(ExperimentError::input(format!(
                "{} checkpoints given for {} tasks",
                policies.len(),
                tasks.len()
            )));
        }
        std::fs::create_dir_all(out_dir)
            .map_err(|e| ExperimentError::runtime(format!("{}: {e}", out_dir.display())))?;
        let mut evals: [Vec<Evaluated>; 2] = [Vec::new(), Vec::new()];
        let mut runs = Vec::new();
        for (task, policy) in tasks.iter().zip(policies) {
            let (sizing, seed) = (task.sizing.as_str(), task.seed);
            let json = policy.to_json();
            let path = out_dir.join(task.checkpoint_name());
            write_file(&path, &json)?;
            let mut agent = TrainedPolicy::from_json(&json, &format!("ppo-{sizing}-{seed}"), seed)
                .map_err(|e| ExperimentError::runtime(e.to_string()))?;
            agent.greedy = !a.stochastic;
            let mut ecfg = self.eval_base.clone();
            ecfg.sizing = parse_name("sizing", sizing).unwrap_or_default();
            let e = evaluate(&ecfg, &self.eval_markets, &mut agent, a.episodes)?;
            runs.push(json!({
                "sizing": sizing, "train_seed": seed, "checkpoint": path.display().to_string(),
                "aggregate": e.report.aggregate, "sizing_by_signal": e.sizing,
                "r_size_signed_edge": e.report.size_edge_r(),
            }));
            evals[usize::from(sizing == "fixed")].push(e);
        }
        let [var, fixed] = evals;
        let mut policies = vec![
            policy_summary("ppo-variable", &var, Some(&fixed)),
            policy_summary("ppo-fixed", &fixed, None),
        ];
        let mut fixed_cfg = self.eval_base.clone();
        fixed_cfg.sizing = Sizing::Fixed;
        let mut var_cfg = self.eval_base.clone();
        var_cfg.sizing = Sizing::Variable;
        for (name, cfg) in [
            ("forecast-kelly", &var_cfg),
            ("forecast-fixed", &fixed_cfg),
            ("oracle", &var_cfg),
            ("hold", &var_cfg),
        ] {
            let mut p = policy_with_context(name, 0, PolicyContext::from_config(cfg))
                .map_err(|e| ExperimentError::input(e.to_string()))?;
            let e = evaluate(cfg, &self.eval_markets, p.as_mut(), a.episodes)?;
            runs.push(json!({"baseline": name, "aggregate": e.report.aggregate, "r_size_signed_edge": e.report.size_edge_r()}));
            policies.push(policy_summary(name, std::slice::from_ref(&e), None));
        }
        let probe = edge_probe(&var_cfg, &self.eval_markets, a.episodes)?;
        let crit = criteria(&policies);
        let mut table = format!(
            "{:<15} {:>28} {:>30} {:>7} {:>8}  fills per tier\n",
            "policy",
            "total return % [95% CI]",
            "Sharpe/episode [95% CI]",
            "HOLD %",
            "r(size,edge)"
        );
        for p in &policies {
            table += &fmt_row(p);
            table.push('\n');
        }
        if let Some(d) = policies[0].get("sharpe_diff_vs_ppo_fixed") {
            table += &format!(
                "Sharpe ppo-variable − ppo-fixed (paired): {:.4} [{:.4}, {:.4}]\n",
                d["mean"].as_f64().unwrap_or(0.0),
                d["ci95_low"].as_f64().unwrap_or(0.0),
                d["ci95_high"].as_f64().unwrap_or(0.0)
            );
        }
        table += &format!(
            "decisions without forecast-kelly edge after costs: {:.1} % of {}\n",
            probe["no_edge_fraction"].as_f64().unwrap_or(0.0) * 100.0,
            probe["decisions"]
        );
        let doc = json!({
            "schema": EXPERIMENT_SCHEMA,
            "steps": a.train.steps,
            "envs": a.train.envs,
            "seeds": a.seeds,
            "jobs": jobs,
            "eval_episodes": a.episodes,
            "eval_policy": if a.stochastic { "stochastic" } else { "greedy" },
            "evaluation": self.split,
            "config": self.base,
            "eval_config": self.eval_base,
            "ppo": a.train.ppo_config()?,
            "policies": policies,
            "criteria": crit,
            "edge_probe": probe,
            "runs": runs,
            "wall_seconds": started.elapsed().as_secs_f64(),
        });
        write_file(
            &out_dir.join("experiment.json"),
            &serde_json::to_string_pretty(&doc).unwrap_or_default(),
        )?;
        Ok(ExperimentOutcome {
            doc,
            table,
            criteria: crit,
        })
    }
}

/// Training and evaluation markets and a description of the split.
fn split_markets(
    a: &ExperimentOptions,
    cfg: &EnvConfig,
    markets: &Markets,
) -> Result<(Markets, EnvConfig, Markets, String), ExperimentError> {
    if a.in_sample {
        let what = "in-sample (the training markets)".to_string();
        return Ok((markets.clone(), cfg.clone(), markets.clone(), what));
    }
    if !a.eval_data.is_empty() {
        let mut ecfg = cfg.clone();
        ecfg.data.files = a.eval_data.clone();
        let eval = load(&ecfg)?;
        let what = format!("held-out files {}", ecfg.data.files.join(", "));
        return Ok((markets.clone(), ecfg, eval, what));
    }
    if cfg.data.files.is_empty() {
        let ecfg = held_out::held_out_synthetic(cfg);
        let eval = load(&ecfg)?;
        let what = format!(
            "held-out synthetic markets (generator seed {}, disjoint from training seed {})",
            ecfg.data.synthetic_seed, cfg.data.synthetic_seed
        );
        return Ok((markets.clone(), ecfg, eval, what));
    }
    if a.split == "time" {
        let Some((train, eval)) = held_out::split_by_time(markets, held_out::TIME_SPLIT) else {
            return Err(ExperimentError::input(
                "experiment: no market has enough events to split by time",
            ));
        };
        let what = format!(
            "held-out by time: each of {} markets' first {:.0} % of events for training, the rest for evaluation",
            train.len(),
            held_out::TIME_SPLIT * 100.0
        );
        return Ok((train, cfg.clone(), eval, what));
    }
    let Some((train, eval)) = held_out::split_by_market(markets) else {
        return Err(ExperimentError::input(
            "experiment: one market cannot be split into training and held-out markets; \
             pass --split time, --eval-data or --in-sample",
        ));
    };
    let what = format!(
        "held-out split by market: {} training, {} evaluation markets (every 4th)",
        train.len(),
        eval.len()
    );
    Ok((train, cfg.clone(), eval, what))
}

/// `{mean, std, ci95_low, ci95_high}` of a sample (normal interval of the mean).
fn summary(xs: &[f64]) -> Value {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return json!({"mean": 0.0, "std": 0.0, "ci95_low": 0.0, "ci95_high": 0.0, "n": 0});
    }
    let m = xs.iter().sum::<f64>() / n;
    let sd = if xs.len() > 1 {
        (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    let h = 1.96 * sd / n.sqrt();
    json!({"mean": m, "std": sd, "ci95_low": m - h, "ci95_high": m + h, "n": xs.len()})
}

/// One evaluated run of a policy (one seed).
struct Evaluated {
    report: RunReport,
    sizing: SizingStats,
}

fn evaluate(
    cfg: &EnvConfig,
    markets: &Markets,
    policy: &mut dyn Policy,
    episodes: u32,
) -> Result<Evaluated, ExperimentError> {
    let mut probe = SizingProbe::new(policy);
    let report = run_episodes(
        cfg,
        markets.clone(),
        &mut probe,
        episodes,
        EVAL_SEED,
        &mut |_| {},
    )
    .map_err(|e| ExperimentError::runtime(e.to_string()))?;
    Ok(Evaluated {
        report,
        sizing: probe.finish(),
    })
}

/// The policy object of `experiment.json`: episodes pooled over seeds.
fn policy_summary(name: &str, runs: &[Evaluated], fixed: Option<&[Evaluated]>) -> Value {
    let per = |f: &dyn Fn(&crate::report::EpisodeRow) -> f64| -> Vec<f64> {
        runs.iter()
            .flat_map(|r| r.report.per_episode.iter().map(f))
            .collect()
    };
    let returns = per(&|e| e.total_return * 100.0);
    let sharpe = per(&|e| e.sharpe);
    let mut fills = [0u64; 5];
    for r in runs {
        for (f, x) in fills.iter_mut().zip(r.report.aggregate.fills_per_tier) {
            *f += x;
        }
    }
    let per_seed: Vec<Option<f64>> = runs.iter().map(|r| r.report.size_edge_r()).collect();
    let min = if per_seed.iter().all(Option::is_some) {
        per_seed.iter().flatten().copied().reduce(f64::min)
    } else {
        None
    };
    let hold = runs
        .iter()
        .map(|r| r.report.aggregate.hold_fraction)
        .sum::<f64>()
        / runs.len().max(1) as f64;
    let mut v = json!({
        "name": name,
        "seeds": runs.len(),
        "total_return_pct": summary(&returns),
        "sharpe": summary(&sharpe),
        "hold_fraction": hold,
        "fills_per_tier": fills,
        "r_size_signed_edge": {"per_seed": per_seed, "min": min},
        "opening_trades": runs.iter().map(|r| r.report.opening_trades.len()).sum::<usize>(),
        "fees_per_episode_cents": runs.iter().map(|r| r.report.aggregate.fees_cents).sum::<f64>() / runs.len().max(1) as f64,
        "max_drawdown_mean": runs.iter().map(|r| r.report.aggregate.max_drawdown).sum::<f64>() / runs.len().max(1) as f64,
    });
    if let Some(fixed) = fixed {
        let diffs: Vec<f64> = runs
            .iter()
            .zip(fixed)
            .flat_map(|(v, f)| {
                v.report
                    .per_episode
                    .iter()
                    .zip(&f.report.per_episode)
                    .map(|(a, b)| a.sharpe - b.sharpe)
            })
            .collect();
        let s = summary(&diffs);
        v["sharpe_diff_vs_ppo_fixed"] =
            json!({"mean": s["mean"], "ci95_low": s["ci95_low"], "ci95_high": s["ci95_high"]});
    }
    v
}

/// What `forecast-kelly` sees at every decision of the held-out episodes (HOLD throughout):
/// the share of decisions with no after-cost edge, and the edge by stated forecast error.
fn edge_probe(cfg: &EnvConfig, markets: &Markets, episodes: u32) -> Result<Value, ExperimentError> {
    let mut env = crate::env::Env::new(cfg.clone(), markets.clone())
        .map_err(|e| ExperimentError::runtime(e.to_string()))?;
    let ix = crate::policy::ObsIndex::resolve();
    let f = |n: &str| crate::policy::feature_index(n).unwrap_or(0);
    let (present, p_yes, stderr) = (
        f("forecast_present"),
        f("forecast_p_yes"),
        f("forecast_stderr"),
    );
    let bins = [0.0, 0.03, 0.06, 0.10, 0.15, 1.01];
    let mut count = [0u64; 5];
    let mut with_edge = [0u64; 5];
    let mut edge_sum = [0f64; 5];
    let mut true_sum = [0f64; 5];
    let (mut decisions, mut no_edge) = (0u64, 0u64);
    let mut obs = vec![0f32; kalsim_core::OBS_DIM];
    for ep in 0..episodes {
        env.reset(if ep == 0 { Some(EVAL_SEED) } else { None }, &mut obs)
            .map_err(|e| ExperimentError::runtime(e.to_string()))?;
        loop {
            decisions += 1;
            let g = |i: usize| f64::from(obs[i]);
            let fee = crate::policy::forecast_fee;
            let (ay, an) = (g(ix.yes_ask), g(ix.no_ask));
            // The better side under the posterior, and the latent's edge on that same side.
            let edge = if g(present) > 0.5 {
                let mu = forecast_posterior(g(p_yes), g(stderr), g(ix.mid));
                let (ey, en) = (mu - ay - fee(ay), (1.0 - mu) - an - fee(an));
                let yes = ey >= en;
                let truth = env.latent_probability().map(|p| {
                    if yes {
                        p - ay - fee(ay)
                    } else {
                        (1.0 - p) - an - fee(an)
                    }
                });
                Some((ey.max(en), truth))
            } else {
                None
            };
            let bin = || {
                bins.windows(2)
                    .position(|w| g(stderr) >= w[0] && g(stderr) < w[1])
                    .unwrap_or(4)
            };
            match edge {
                Some((e, truth)) if e > 0.0 => {
                    let b = bin();
                    count[b] += 1;
                    with_edge[b] += 1;
                    edge_sum[b] += e;
                    true_sum[b] += truth.unwrap_or(0.0);
                }
                Some(_) => {
                    no_edge += 1;
                    count[bin()] += 1;
                }
                None => no_edge += 1,
            }
            let r = env
                .step(0, &mut obs)
                .map_err(|e| ExperimentError::runtime(e.to_string()))?;
            if r.terminated || r.truncated {
                break;
            }
        }
    }
    let by_precision: Vec<Value> = (0..5)
        .map(|b| {
            json!({
                "stderr_from": bins[b],
                "stderr_to": bins[b + 1].min(1.0),
                "decisions": count[b],
                "with_edge_fraction": if count[b] > 0 { with_edge[b] as f64 / count[b] as f64 } else { 0.0 },
                "mean_edge_when_positive": if with_edge[b] > 0 { edge_sum[b] / with_edge[b] as f64 } else { 0.0 },
                "mean_true_edge_when_positive": if with_edge[b] > 0 { true_sum[b] / with_edge[b] as f64 } else { 0.0 },
            })
        })
        .collect();
    Ok(json!({
        "decisions": decisions,
        "no_edge_fraction": if decisions > 0 { no_edge as f64 / decisions as f64 } else { 0.0 },
        "by_forecast_stderr": by_precision,
    }))
}

fn fmt_row(v: &Value) -> String {
    let g = |path: &[&str]| -> f64 {
        let mut x = v;
        for p in path {
            x = &x[*p];
        }
        x.as_f64().unwrap_or(f64::NAN)
    };
    let r = &v["r_size_signed_edge"]["min"];
    format!(
        "{:<15} {:>8.3} [{:>7.3}, {:>7.3}] {:>8.4} [{:>7.4}, {:>7.4}] {:>7.1} {:>8}  {}",
        v["name"].as_str().unwrap_or(""),
        g(&["total_return_pct", "mean"]),
        g(&["total_return_pct", "ci95_low"]),
        g(&["total_return_pct", "ci95_high"]),
        g(&["sharpe", "mean"]),
        g(&["sharpe", "ci95_low"]),
        g(&["sharpe", "ci95_high"]),
        g(&["hold_fraction"]) * 100.0,
        r.as_f64().map_or("n/a".to_string(), |x| format!("{x:.3}")),
        v["fills_per_tier"],
    )
}

/// The issue-11 criteria, evaluated on the numbers (`None` when a policy is missing).
fn criteria(policies: &[Value]) -> Value {
    let find = |n: &str| policies.iter().find(|p| p["name"] == n);
    let (Some(v), Some(f), Some(k), Some(ff), Some(o)) = (
        find("ppo-variable"),
        find("ppo-fixed"),
        find("forecast-kelly"),
        find("forecast-fixed"),
        find("oracle"),
    ) else {
        return Value::Null;
    };
    let x = |p: &Value, a: &str, b: &str| p[a][b].as_f64().unwrap_or(f64::NAN);
    let vr = x(v, "total_return_pct", "mean");
    let fr = x(f, "total_return_pct", "mean");
    let kr = x(k, "total_return_pct", "mean");
    let rmin = v["r_size_signed_edge"]["min"].as_f64();
    json!({
        "variable_return_positive_ci": x(v, "total_return_pct", "ci95_low") > 0.0,
        "variable_beats_fixed_by_10pct": vr >= fr + 0.1 * fr.abs(),
        "variable_sharpe_diff_ci_above_0": x(v, "sharpe_diff_vs_ppo_fixed", "ci95_low") > 0.0,
        "variable_at_least_half_of_forecast_kelly": vr >= 0.5 * kr,
        "size_follows_edge_r_min_0.3": rmin.is_some_and(|r| r >= 0.3),
        "preset_oracle_1.5x_forecast_kelly": x(o, "total_return_pct", "mean") >= 1.5 * kr,
        "preset_kelly_sharpe_above_fixed": x(k, "sharpe", "mean") > x(ff, "sharpe", "mean"),
    })
}
