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

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use clap::Args;
use serde_json::{Value, json};

use super::run::{create_dir, load_config, load_data, write_file};
use super::train::{TrainOpts, ppo_config, train_one};
use super::{CliError, CliResult, EnvArgs, emit};
use kalsim_host_sim::env::{EnvConfig, Markets, held_out};
use kalsim_host_sim::policy::{
    Policy, PolicyContext, TrainedPolicy, forecast_posterior, policy_with_context,
};
use kalsim_host_sim::report::{RunReport, run_episodes};
use kalsim_host_sim::report::{SizingProbe, SizingStats};

/// Reset seed of every evaluation, independent of the training seeds.
const EVAL_SEED: u64 = 1_000_003;

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

/// Training and evaluation markets and a description of the split.
fn split_markets(
    a: &ExperimentArgs,
    cfg: &EnvConfig,
    markets: &Markets,
) -> Result<(Markets, EnvConfig, Markets, String), CliError> {
    if a.in_sample {
        let what = "in-sample (the training markets)".to_string();
        return Ok((markets.clone(), cfg.clone(), markets.clone(), what));
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
        let ecfg = held_out::held_out_synthetic(cfg);
        let eval = load_data(&ecfg)?;
        let what = format!(
            "held-out synthetic markets (generator seed {}, disjoint from training seed {})",
            ecfg.data.synthetic_seed, cfg.data.synthetic_seed
        );
        return Ok((markets.clone(), ecfg, eval, what));
    }
    if a.split == "time" {
        let Some((train, eval)) = held_out::split_by_time(markets, held_out::TIME_SPLIT) else {
            return Err(CliError::input(
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
        return Err(CliError::input(
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
) -> Result<Evaluated, CliError> {
    let mut probe = SizingProbe::new(policy);
    let report = run_episodes(
        cfg,
        markets.clone(),
        &mut probe,
        episodes,
        EVAL_SEED,
        &mut |_| {},
    )
    .map_err(|e| CliError::runtime(e.to_string()))?;
    Ok(Evaluated {
        report,
        sizing: probe.finish(),
    })
}

/// The policy object of `experiment.json`: episodes pooled over seeds.
fn policy_summary(name: &str, runs: &[Evaluated], fixed: Option<&[Evaluated]>) -> Value {
    let per = |f: &dyn Fn(&kalsim_host_sim::report::EpisodeRow) -> f64| -> Vec<f64> {
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
fn edge_probe(cfg: &EnvConfig, markets: &Markets, episodes: u32) -> Result<Value, CliError> {
    let mut env = kalsim_host_sim::env::Env::new(cfg.clone(), markets.clone())
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let ix = kalsim_host_sim::policy::ObsIndex::resolve();
    let f = |n: &str| kalsim_host_sim::policy::feature_index(n).unwrap_or(0);
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
            .map_err(|e| CliError::runtime(e.to_string()))?;
        loop {
            decisions += 1;
            let g = |i: usize| f64::from(obs[i]);
            let fee = kalsim_host_sim::policy::forecast_fee;
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
                .map_err(|e| CliError::runtime(e.to_string()))?;
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

pub(super) fn experiment_cmd(a: &ExperimentArgs) -> CliResult {
    if a.seeds == 0 || a.episodes == 0 {
        return Err(CliError::input("--seeds and --episodes must be at least 1"));
    }
    let started = std::time::Instant::now();
    let mut base = load_config(&a.env)?;
    if let Some(e) = a.edge_bps {
        base.data.synthetic_edge_bps = e;
    }
    let all = load_data(&base)?;
    let (markets, eval_base, eval_markets, split) = split_markets(a, &base, &all)?;
    eprintln!("evaluation: {split}");
    create_dir(&a.out)?;
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    // Every (mode, seed) run, trained in parallel; each is deterministic on its own.
    let mut work: Vec<(&str, u64)> = Vec::new();
    for sizing in ["variable", "fixed"] {
        for k in 0..a.seeds {
            work.push((sizing, a.train.seed + u64::from(k)));
        }
    }
    let queue = Mutex::new(work.clone().into_iter().enumerate().collect::<Vec<_>>());
    let results: Mutex<Vec<Option<Result<kalsim_host_sim::train::Policy, CliError>>>> =
        Mutex::new((0..work.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.min(work.len()) {
            s.spawn(|| {
                loop {
                    let next = queue.lock().map(|mut q| q.pop()).unwrap_or(None);
                    let Some((i, (sizing, seed))) = next else {
                        break;
                    };
                    let mut cfg = base.clone();
                    cfg.sizing =
                        kalsim_host_sim::env::parse_name("sizing", sizing).unwrap_or_default();
                    let mut opts = a.train.clone();
                    opts.seed = seed;
                    let label = format!("{sizing}/{seed}");
                    let r = ppo_config(&opts).and_then(|ppo| {
                        train_one(&cfg, &markets, &opts, ppo, &label, None, jobs == 1)
                    });
                    eprintln!(
                        "trained ppo-{label} ({:.0} s since start)",
                        started.elapsed().as_secs_f64()
                    );
                    if let Ok(mut res) = results.lock() {
                        res[i] = Some(r);
                    }
                }
            });
        }
    });
    let trained = results
        .into_inner()
        .map_err(|_| CliError::runtime("a training thread panicked"))?;
    let mut evals: [Vec<Evaluated>; 2] = [Vec::new(), Vec::new()];
    let mut runs = Vec::new();
    for ((sizing, seed), policy) in work.iter().zip(trained) {
        let policy = policy.ok_or_else(|| CliError::runtime("a training run did not finish"))??;
        let path = a.out.join(format!("{sizing}-seed{seed}.json"));
        write_file(&path, &policy.to_json())?;
        let mut agent =
            TrainedPolicy::from_json(&policy.to_json(), &format!("ppo-{sizing}-{seed}"), *seed)
                .map_err(|e| CliError::runtime(e.to_string()))?;
        agent.greedy = !a.stochastic;
        let mut ecfg = eval_base.clone();
        ecfg.sizing = kalsim_host_sim::env::parse_name("sizing", sizing).unwrap_or_default();
        let e = evaluate(&ecfg, &eval_markets, &mut agent, a.episodes)?;
        runs.push(json!({
            "sizing": sizing, "train_seed": seed, "checkpoint": path.display().to_string(),
            "aggregate": e.report.aggregate, "sizing_by_signal": e.sizing,
            "r_size_signed_edge": e.report.size_edge_r(),
        }));
        evals[usize::from(*sizing == "fixed")].push(e);
    }
    let [var, fixed] = evals;
    let mut policies = vec![
        policy_summary("ppo-variable", &var, Some(&fixed)),
        policy_summary("ppo-fixed", &fixed, None),
    ];
    let mut fixed_cfg = eval_base.clone();
    fixed_cfg.sizing = kalsim_host_sim::env::Sizing::Fixed;
    let mut var_cfg = eval_base.clone();
    var_cfg.sizing = kalsim_host_sim::env::Sizing::Variable;
    for (name, cfg) in [
        ("forecast-kelly", &var_cfg),
        ("forecast-fixed", &fixed_cfg),
        ("oracle", &var_cfg),
        ("hold", &var_cfg),
    ] {
        let mut p = policy_with_context(name, 0, PolicyContext::from_config(cfg))
            .map_err(|e| CliError::input(e.to_string()))?;
        let e = evaluate(cfg, &eval_markets, p.as_mut(), a.episodes)?;
        runs.push(json!({"baseline": name, "aggregate": e.report.aggregate, "r_size_signed_edge": e.report.size_edge_r()}));
        policies.push(policy_summary(name, std::slice::from_ref(&e), None));
    }
    let probe = edge_probe(&var_cfg, &eval_markets, a.episodes)?;
    let crit = criteria(&policies);
    let mut table = format!(
        "{:<15} {:>28} {:>30} {:>7} {:>8}  fills per tier\n",
        "policy", "total return % [95% CI]", "Sharpe/episode [95% CI]", "HOLD %", "r(size,edge)"
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
    let elapsed = started.elapsed().as_secs_f64();
    let doc = json!({
        "schema": "kalsim-experiment/3",
        "steps": a.train.steps,
        "envs": a.train.envs,
        "seeds": a.seeds,
        "jobs": jobs,
        "eval_episodes": a.episodes,
        "eval_policy": if a.stochastic { "stochastic" } else { "greedy" },
        "evaluation": split,
        "config": base,
        "eval_config": eval_base,
        "ppo": ppo_config(&a.train)?,
        "policies": policies,
        "criteria": crit,
        "edge_probe": probe,
        "runs": runs,
        "wall_seconds": elapsed,
    });
    let path = a.out.join("experiment.json");
    write_file(
        &path,
        &serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )?;
    emit(&format!(
        "fixed vs variable sizing: PPO, {} steps × {} seed(s) per mode ({} jobs); {} evaluation on {} episodes of {split}\n{table}criteria: {crit}\nwrote {} ({elapsed:.0} s)\n",
        a.train.steps,
        a.seeds,
        jobs,
        if a.stochastic { "stochastic" } else { "greedy" },
        a.episodes,
        Path::new(&path).display()
    ));
    Ok(())
}
