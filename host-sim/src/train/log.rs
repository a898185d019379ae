//! Per-iteration statistics and their CSV / JSON-lines writers.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::ACTION_COUNT;

/// What one PPO iteration (one rollout plus its update) did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IterStats {
    /// Iteration number, from 1.
    pub iteration: u64,
    /// Environment steps taken so far in this run (all envs, including autoreset steps).
    pub timesteps: u64,
    /// Mean undiscounted return of the episodes that finished during this rollout
    /// (`NaN`-free: 0 when none finished; see `episodes`).
    pub mean_episode_return: f32,
    /// Mean length in steps of the episodes that finished during this rollout (0 if none).
    pub mean_episode_length: f32,
    /// Number of episodes that finished during this rollout.
    pub episodes: u32,
    /// Mean entropy (nats) of the masked action distribution over the update's minibatches.
    pub entropy: f32,
    /// Mean approximate KL divergence old → new (the `(r − 1) − ln r` estimator).
    pub approx_kl: f32,
    /// Fraction of samples whose probability ratio left `[1 − clip, 1 + clip]`.
    pub clip_fraction: f32,
    /// Mean value loss (`½ (V − R)²`, clipped if configured).
    pub value_loss: f32,
    /// Mean clipped-surrogate policy loss.
    pub policy_loss: f32,
    /// Explained variance of the rollout's value predictions against its returns.
    pub explained_variance: f32,
    /// Fraction of chosen actions that were HOLD.
    pub hold_fraction: f32,
    /// How often each of the 25 actions was chosen in this rollout.
    pub action_histogram: [u32; ACTION_COUNT],
    /// Of the trade actions chosen, how many per size tier (Small..Giant).
    pub size_tiers: [u32; 5],
    /// Learning rate used for this update.
    pub learning_rate: f32,
}

/// The outcome of [`super::Trainer::train`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    /// Iterations run.
    pub iterations: u64,
    /// Environment steps taken (all envs).
    pub timesteps: u64,
    /// Episodes finished over the whole run.
    pub episodes: u64,
    /// True when the callback asked to stop before the budget was spent.
    pub stopped_early: bool,
    /// Statistics of the last iteration, if any ran.
    pub last: Option<IterStats>,
}

const SCALAR_COLUMNS: &str = "iteration,timesteps,mean_episode_return,mean_episode_length,episodes,\
entropy,approx_kl,clip_fraction,value_loss,policy_loss,explained_variance,hold_fraction,learning_rate";

/// Writes the CSV header matching [`write_csv_row`] (scalars, then `action_0..action_24`,
/// then `tier_0..tier_4`).
pub fn write_csv_header(mut out: impl Write) -> io::Result<()> {
    write!(out, "{SCALAR_COLUMNS}")?;
    for a in 0..ACTION_COUNT {
        write!(out, ",action_{a}")?;
    }
    for t in 0..5 {
        write!(out, ",tier_{t}")?;
    }
    writeln!(out)
}

/// Writes one CSV row for `stats` (columns as in [`write_csv_header`]).
pub fn write_csv_row(stats: &IterStats, mut out: impl Write) -> io::Result<()> {
    let s = stats;
    write!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{},{},{}",
        s.iteration,
        s.timesteps,
        s.mean_episode_return,
        s.mean_episode_length,
        s.episodes,
        s.entropy,
        s.approx_kl,
        s.clip_fraction,
        s.value_loss,
        s.policy_loss,
        s.explained_variance,
        s.hold_fraction,
        s.learning_rate
    )?;
    for c in s.action_histogram.iter().chain(&s.size_tiers) {
        write!(out, ",{c}")?;
    }
    writeln!(out)
}

/// Writes `stats` as one JSON object followed by a newline (JSON Lines).
pub fn write_json_line(stats: &IterStats, mut out: impl Write) -> io::Result<()> {
    serde_json::to_writer(&mut out, stats).map_err(io::Error::other)?;
    writeln!(out)
}
