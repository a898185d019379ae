//! `kalsim train` (PPO with invalid-action masking on a VecEnv) and `kalsim experiment`
//! (plan §7: "compare performance metrics between fixed and variable sizing").

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::run::{create_dir, load_config, load_data, write_file};
use super::{CliError, CliResult, EnvArgs, emit};
use kalsim_host_sim::env::{EnvConfig, Markets};
use kalsim_host_sim::experiment::{TrainOptions, train_policy};
use kalsim_host_sim::train::{self, PpoConfig};

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
    /// Threads of the PPO update (2 at most are used; results are identical for any count).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// PPO hyper-parameters (JSON, keys of `PpoConfig`; missing keys keep their defaults).
    #[arg(long, value_name = "ppo.json")]
    pub ppo: Option<PathBuf>,
    /// Seed of the network initialisation, the sampling and the environments.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl TrainOpts {
    /// The library's training options: `--ppo` read and checked, `--seed` applied.
    pub(super) fn options(&self) -> Result<TrainOptions, CliError> {
        let ppo = match &self.ppo {
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
        if self.envs == 0 {
            return Err(CliError::input("--envs must be at least 1"));
        }
        if self.steps == 0 {
            return Err(CliError::input("--steps must be at least 1"));
        }
        Ok(TrainOptions {
            steps: self.steps,
            envs: self.envs,
            threads: self.threads,
            seed: self.seed,
            ppo,
        })
    }
}

/// Train one policy with a progress bar, collecting `(iteration, trade actions per tier)`
/// for the sizing plot; `log` receives the CSV rows.
fn train_one_tracked(
    cfg: &EnvConfig,
    markets: &Markets,
    o: &TrainOptions,
    label: &str,
    log: Option<&mut dyn Write>,
    tiers: &mut Vec<(u64, [u32; 5])>,
) -> Result<train::Policy, CliError> {
    let bar = ProgressBar::new(o.steps);
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix:>10} [{bar:30}] {pos}/{len} steps, {msg} ({elapsed}, eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_owned());
    let (policy, summary) = train_policy(cfg, markets, o, log, &mut |s| {
        tiers.push((s.iteration, s.size_tiers));
        bar.set_position(s.timesteps.min(o.steps));
        bar.set_message(format!(
            "return {:.3}, entropy {:.2}, HOLD {:.0}%",
            s.mean_episode_return,
            s.entropy,
            s.hold_fraction * 100.0
        ));
        true
    })?;
    bar.finish_and_clear();
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
    Ok(policy)
}

pub(super) fn train_cmd(a: &TrainArgs) -> CliResult {
    let cfg = load_config(&a.env)?;
    let opts = a.train.options()?;
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
    let mut tiers = Vec::new();
    let policy = train_one_tracked(&cfg, &markets, &opts, &label, Some(&mut log), &mut tiers)?;
    let dir = a
        .output
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let sizes = if cfg.is_fixed() {
        [cfg.fixed_size; 5]
    } else {
        cfg.sizes
    };
    kalsim_host_sim::report::plot::write_training_sizing(&tiers, sizes, dir)
        .map_err(CliError::runtime)?;
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
