//! `kalsim run` and `kalsim compare`.

use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::{CliError, CliResult, EnvArgs, EvalArgs, emit, table};
use kalsim_host_sim::env::{EnvConfig, Markets, load_markets};
use kalsim_host_sim::policy::Policy;
use kalsim_host_sim::report::{RunReport, plot, run_episodes};

/// Options of `kalsim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A baseline (`hold`, `random`, `fixed`, `kelly`) or a trained policy `.json` file.
    #[arg(long, default_value = "kelly", value_name = "NAME|policy.json")]
    pub policy: String,
    #[command(flatten)]
    pub env: EnvArgs,
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Directory for report.json and the plots.
    #[arg(long, default_value = "out/run", value_name = "DIR")]
    pub out: PathBuf,
}

/// Options of `kalsim compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Policies to compare, comma-separated (baselines or `.json` files).
    #[arg(long, value_delimiter = ',', default_value = "fixed,kelly")]
    pub policies: Vec<String>,
    #[command(flatten)]
    pub env: EnvArgs,
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Directory for compare.json.
    #[arg(long, default_value = "out/compare", value_name = "DIR")]
    pub out: PathBuf,
}

/// The configuration: the file (if any), then the command-line overrides, validated.
pub(super) fn load_config(a: &EnvArgs) -> Result<EnvConfig, CliError> {
    let mut cfg = match &a.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::input(format!("config file {}: {e}", path.display())))?;
            let name = path.display().to_string();
            EnvConfig::from_named_str(&name, &text)
                .map_err(|e| CliError::input(format!("{name}: {e}")))?
        }
        None => EnvConfig::default(),
    };
    if !a.data.is_empty() {
        cfg.data.files = a.data.iter().map(|p| p.display().to_string()).collect();
    }
    if let Some(r) = &a.results {
        cfg.data.results = r.display().to_string();
    }
    if a.lenient {
        cfg.data.lenient = true;
    }
    if let Some(s) = &a.sizing {
        cfg.sizing = kalsim_host_sim::env::parse_name("--sizing", s)
            .map_err(|e| CliError::input(e.to_string()))?;
    }
    if let Some(p) = &a.preset {
        cfg.apply_preset(p);
    }
    if !a.forecasts.is_empty() {
        cfg.data.forecasts = a
            .forecasts
            .iter()
            .map(|p| p.display().to_string())
            .collect();
    }
    cfg.engine_config()
        .map_err(|e| CliError::input(e.to_string()))?;
    Ok(cfg)
}

pub(super) fn load_data(cfg: &EnvConfig) -> Result<Markets, CliError> {
    let (markets, report) = load_markets(cfg).map_err(|e| CliError::input(e.to_string()))?;
    let source = if cfg.data.files.is_empty() {
        format!(
            "synthetic (seed {}, {} events per market)",
            cfg.data.synthetic_seed, cfg.data.synthetic_events
        )
    } else {
        cfg.data.files.join(", ")
    };
    eprintln!("loaded {} market(s) from {source}", markets.len());
    if report.skipped_total > 0 || report.gap_total > 0 {
        eprint!("{report}");
    }
    Ok(markets)
}

/// A baseline by name, or a trained policy file (checked against the environment).
pub(super) fn make_policy(
    spec: &str,
    seed: u64,
    cfg: &EnvConfig,
) -> Result<Box<dyn Policy>, CliError> {
    kalsim_host_sim::experiment::load_policy(spec, seed, cfg)
        .map_err(|e| CliError::input(format!("--policy: {e}")))
}

fn progress_bar(episodes: u32, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(episodes as u64);
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix:>8} [{bar:30}] {pos}/{len} episodes, {msg} ({elapsed})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_owned());
    bar
}

pub(super) fn evaluate(
    cfg: &EnvConfig,
    markets: &Markets,
    policy: &mut dyn Policy,
    a: &EvalArgs,
) -> Result<RunReport, CliError> {
    if a.episodes == 0 {
        return Err(CliError::input("--episodes must be at least 1"));
    }
    let bar = progress_bar(a.episodes, &policy.name());
    let report = run_episodes(cfg, markets.clone(), policy, a.episodes, a.seed, &mut |p| {
        if p.episode_done {
            bar.inc(1);
        }
        if p.total_steps % 1024 == 0 || p.episode_done {
            bar.set_message(format!("{} steps", p.total_steps));
        }
    })
    .map_err(|e| CliError::runtime(e.to_string()))?;
    bar.finish_and_clear();
    Ok(report)
}

pub(super) fn write_file(path: &Path, text: &str) -> CliResult {
    std::fs::write(path, text).map_err(|e| CliError::runtime(format!("{}: {e}", path.display())))
}

pub(super) fn create_dir(dir: &Path) -> CliResult {
    std::fs::create_dir_all(dir).map_err(|e| CliError::runtime(format!("{}: {e}", dir.display())))
}

pub(super) fn run_cmd(a: &RunArgs) -> CliResult {
    let cfg = load_config(&a.env)?;
    if a.eval.episodes == 0 {
        return Err(CliError::input("--episodes must be at least 1"));
    }
    let mut policy = make_policy(&a.policy, a.eval.seed, &cfg)?;
    let markets = load_data(&cfg)?;
    let report = evaluate(&cfg, &markets, policy.as_mut(), &a.eval)?;
    create_dir(&a.out)?;
    let json_path = a.out.join("report.json");
    write_file(&json_path, &report.to_json())?;
    let plots = plot::write_plots(&report, &a.out).map_err(CliError::runtime)?;
    emit(&format!(
        "{}\nwrote {} and {} plot files (PNG + SVG) in {}\n",
        table::summary(&[&report]),
        json_path.display(),
        plots.len(),
        a.out.display()
    ));
    Ok(())
}

pub(super) fn compare_cmd(a: &CompareArgs) -> CliResult {
    let names: Vec<&str> = a
        .policies
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Err(CliError::input("--policies: name at least one policy"));
    }
    let cfg = load_config(&a.env)?;
    if a.eval.episodes == 0 {
        return Err(CliError::input("--episodes must be at least 1"));
    }
    // Resolve every policy before the (possibly long) runs, so a typo fails fast.
    let mut policies = names
        .iter()
        .map(|n| make_policy(n, a.eval.seed, &cfg))
        .collect::<Result<Vec<_>, _>>()?;
    let markets = load_data(&cfg)?;
    let mut reports = Vec::with_capacity(policies.len());
    for p in &mut policies {
        reports.push(evaluate(&cfg, &markets, p.as_mut(), &a.eval)?);
    }
    let refs: Vec<&RunReport> = reports.iter().collect();
    emit(&table::summary(&refs));
    create_dir(&a.out)?;
    let doc = serde_json::json!({
        "schema": "kalsim-compare/1",
        "seed": a.eval.seed,
        "episodes": a.eval.episodes,
        "config": cfg,
        "policies": reports.iter().map(|r| serde_json::json!({
            "policy": r.policy,
            "aggregate": r.aggregate,
            "per_episode": r.per_episode,
            "action_histogram": r.action_histogram.to_vec(),
        })).collect::<Vec<_>>(),
    });
    let path = a.out.join("compare.json");
    write_file(
        &path,
        &serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )?;
    emit(&format!("\nwrote {}\n", path.display()));
    Ok(())
}
