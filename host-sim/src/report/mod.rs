//! Evaluation runs and their reports (SPEC §9, plan §8): run a policy for some episodes,
//! collect the sizing metrics per episode, aggregate them and keep the series the plots need.
//!
//! [`RunReport`] serialises to `report.json` (schema [`REPORT_SCHEMA`]). Aggregates are means
//! over episodes, except the pooled counts (`*_pooled`, histograms, round trips), which sum
//! or recompute over all episodes together. Plotting lives in [`plot`] (feature `cli`).

#[cfg(feature = "cli")]
pub mod plot;
mod probe;

pub use probe::{SizingProbe, SizingStats};

use std::collections::BTreeMap;

use kalsim_core::metrics::{Correlation, RoundTrips};
use kalsim_core::{ACTION_COUNT, OBS_DIM, SizingMetrics};
use serde::Serialize;

use crate::env::{Env, EnvConfig, EnvError, Markets};
use crate::policy::Policy;

/// Version tag of `report.json`.
pub const REPORT_SCHEMA: &str = "kalsim-run-report/1";

/// One round trip (flat → flat, or flat → episode end).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RoundTrip {
    /// Episode index in the run.
    pub episode: u32,
    /// Largest |position| reached, contracts.
    pub size: u64,
    /// Net profit (realised P&L − fees, plus the mark of a holding open at the end), cents.
    pub profit_cents: i64,
}

/// The metrics of one episode.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpisodeRow {
    /// Episode index in the run.
    pub episode: u32,
    /// Market ticker.
    pub market: String,
    /// Steps taken.
    pub steps: u64,
    /// How it ended: `settled_yes`, `settled_no`, `truncated` or `bankrupt`.
    pub end: &'static str,
    /// PV at reset, cents.
    pub initial_pv_cents: i64,
    /// PV at the end, cents.
    pub final_pv_cents: i64,
    /// (final − initial) / initial.
    pub total_return: f64,
    /// Mean / std of per-step returns (not annualised).
    pub sharpe: f64,
    /// Largest fall from a peak, fraction of the peak.
    pub max_drawdown: f64,
    /// Share of round trips with positive profit.
    pub win_rate: f64,
    /// Round trips completed.
    pub round_trips: u64,
    /// Fees paid, cents.
    pub fees_cents: i64,
    /// Share of steps whose action was HOLD.
    pub hold_fraction: f64,
    /// Orders that filled, by tier Small..Giant.
    pub fills_per_tier: [u64; 5],
    /// Mean size of winning round trips, contracts (0 when none).
    pub avg_winning_position_size: f64,
    /// Mean size of losing round trips, contracts (0 when none).
    pub avg_losing_position_size: f64,
    /// Correlation of round-trip size and profit.
    pub size_efficiency: f64,
    /// Largest |position| reached, contracts.
    pub max_position_reached: u64,
    /// Trades whose tier differs from the previous trade's.
    pub size_changes: u64,
    /// Masked actions executed as HOLD.
    pub invalid_actions: u64,
    /// Mean |position| per step, contracts.
    pub avg_position_size: f64,
    /// Actions taken, by id.
    pub action_histogram: [u64; ACTION_COUNT],
}

impl EpisodeRow {
    fn from_metrics(
        episode: u32,
        market: String,
        end: &'static str,
        m: &SizingMetrics,
    ) -> EpisodeRow {
        EpisodeRow {
            episode,
            market,
            steps: m.steps(),
            end,
            initial_pv_cents: m.initial_pv,
            final_pv_cents: m.final_pv,
            total_return: m.total_return(),
            sharpe: m.sharpe(),
            max_drawdown: m.max_drawdown,
            win_rate: m.win_rate(),
            round_trips: m.round_trips(),
            fees_cents: m.fees_cents,
            hold_fraction: m.hold_fraction(),
            fills_per_tier: m.fills_per_tier,
            avg_winning_position_size: m.winning_sizes.mean(),
            avg_losing_position_size: m.losing_sizes.mean(),
            size_efficiency: m.size_efficiency(),
            max_position_reached: m.max_position_reached,
            size_changes: m.size_changes,
            invalid_actions: m.invalid_actions,
            avg_position_size: m.position_sizes.mean(),
            action_histogram: m.action_histogram,
        }
    }
}

/// Means over episodes plus pooled counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Aggregate {
    /// Episodes.
    pub episodes: u32,
    /// Steps over all episodes.
    pub steps: u64,
    /// Mean total return per episode.
    pub total_return: f64,
    /// Mean per-episode Sharpe.
    pub sharpe: f64,
    /// Mean per-episode max drawdown.
    pub max_drawdown: f64,
    /// Worst per-episode max drawdown.
    pub max_drawdown_worst: f64,
    /// Mean per-episode win rate.
    pub win_rate: f64,
    /// Winning round trips / all round trips over the run.
    pub win_rate_pooled: f64,
    /// Round trips over the run.
    pub round_trips: u64,
    /// Mean fees per episode, cents.
    pub fees_cents: f64,
    /// Fees over the run, cents.
    pub fees_cents_total: i64,
    /// HOLD steps / all steps.
    pub hold_fraction: f64,
    /// Fills per tier over the run.
    pub fills_per_tier: [u64; 5],
    /// `position_size_distribution`: fills per contract size, e.g. `{"5": 10, "10": 25}`.
    pub position_size_distribution: BTreeMap<u32, u64>,
    /// Mean size of winning round trips over the run, contracts.
    pub avg_winning_position_size: f64,
    /// Mean size of losing round trips over the run, contracts.
    pub avg_losing_position_size: f64,
    /// Mean per-episode size efficiency.
    pub size_efficiency: f64,
    /// Size/profit correlation over all round trips of the run.
    pub size_efficiency_pooled: f64,
    /// Largest |position| over the run, contracts.
    pub max_position_reached: u64,
    /// Mean size changes per episode.
    pub size_changes_per_episode: f64,
    /// Masked actions executed as HOLD over the run.
    pub invalid_actions: u64,
    /// Mean of per-episode average |position|, contracts.
    pub avg_position_size: f64,
}

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunReport {
    /// [`REPORT_SCHEMA`].
    pub schema: &'static str,
    /// Policy name.
    pub policy: String,
    /// Reset seed of the run.
    pub seed: u64,
    /// Observation schema version the policy saw.
    pub obs_schema_version: u32,
    /// The environment configuration.
    pub config: EnvConfig,
    /// Contracts per tier as traded (all equal in fixed sizing).
    pub tier_sizes: [u32; 5],
    /// Markets in the dataset.
    pub markets: usize,
    /// One row per episode.
    pub per_episode: Vec<EpisodeRow>,
    /// Aggregates.
    pub aggregate: Aggregate,
    /// Actions taken over the run, by id (sums to `aggregate.steps`).
    pub action_histogram: [u64; ACTION_COUNT],
    /// PV after reset and after every step, cents, episodes concatenated.
    pub equity_curve_cents: Vec<i64>,
    /// Index in `equity_curve_cents` where each episode starts.
    pub episode_starts: Vec<usize>,
    /// Every round trip of the run.
    pub round_trips: Vec<RoundTrip>,
    /// Every opening trade of the run (one that increased |position|): contracts filled and
    /// the signed forecast edge in the trade's direction at the decision (SPEC §8 features
    /// `forecast_edge_yes` / `forecast_edge_no`; only when a forecast was known).
    #[serde(skip)]
    pub opening_trades: Vec<OpeningTrade>,
}

/// One opening trade and the forecast edge it was made on.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct OpeningTrade {
    /// Episode index.
    pub episode: u32,
    /// Contracts filled during the step.
    pub filled: u32,
    /// Forecast edge in the direction of the trade at the decision, probability units.
    pub edge: f64,
}

impl RunReport {
    /// Pearson r between filled contracts and the signed forecast edge over opening trades;
    /// `None` when undefined (fewer than two trades, or no variation in either).
    pub fn size_edge_r(&self) -> Option<f64> {
        pearson(
            self.opening_trades
                .iter()
                .map(|t| (f64::from(t.filled), t.edge)),
        )
    }
}

/// Pearson correlation of `(x, y)` pairs, `None` when undefined.
pub fn pearson(pairs: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let (mut n, mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0f64, 0f64, 0f64, 0f64, 0f64, 0f64);
    for (x, y) in pairs {
        n += 1.0;
        sx += x;
        sy += y;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
    }
    let vx = n * sxx - sx * sx;
    let vy = n * syy - sy * sy;
    (n > 1.0 && vx > 0.0 && vy > 0.0).then(|| (n * sxy - sx * sy) / (vx.sqrt() * vy.sqrt()))
}

/// Progress of a run, passed to the callback after every step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Episode index.
    pub episode: u32,
    /// Steps taken over the whole run.
    pub total_steps: u64,
    /// True on the step that ended an episode.
    pub episode_done: bool,
}

/// Run `policy` for `episodes` episodes on one [`Env`]: `reset(Some(seed))` first, then
/// `reset(None)` (the next market in the seeded order). `progress` is called after every step.
pub fn run_episodes(
    config: &EnvConfig,
    markets: Markets,
    policy: &mut dyn Policy,
    episodes: u32,
    seed: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunReport, Box<dyn std::error::Error + Send + Sync>> {
    let mut env = Env::new(config.clone(), markets.clone())?;
    let mut obs = vec![0.0f32; OBS_DIM];
    let mut rows = Vec::with_capacity(episodes as usize);
    let mut equity = Vec::new();
    let mut starts = Vec::with_capacity(episodes as usize);
    let mut trips = Vec::new();
    let mut opening = Vec::new();
    let mut total_steps = 0u64;
    let edge_ix = (
        crate::policy::feature_index("forecast_present"),
        crate::policy::feature_index("forecast_edge_yes"),
        crate::policy::feature_index("forecast_edge_no"),
    );
    for ep in 0..episodes {
        let info = env.reset(if ep == 0 { Some(seed) } else { None }, &mut obs)?;
        let initial = info.portfolio_value_cents;
        starts.push(equity.len());
        equity.push(initial);
        // SPEC §9 round trips, counted as `SizingMetrics` counts them.
        let mut tracker = RoundTrips::new();
        let trip = |(size, profit_cents): (u64, i64)| RoundTrip {
            episode: ep,
            size,
            profit_cents,
        };
        let end = loop {
            let mask = env.action_mask();
            let ctx = crate::policy::ActContext {
                latent_probability: env.latent_probability(),
            };
            let action = policy.act_with(&obs, &mask, &ctx);
            let before = env.engine().account().position();
            let edge = match (action, edge_ix) {
                // BUY_YES / SELL_NO buy YES; BUY_NO / SELL_YES buy NO (SPEC §3).
                (1..=5 | 16..=20, (Some(p), Some(y), _)) if obs[p] > 0.5 => Some(obs[y]),
                (6..=15, (Some(p), _, Some(n))) if obs[p] > 0.5 => Some(obs[n]),
                _ => None,
            };
            let r = env.step(action, &mut obs).map_err(|e: EnvError| {
                format!("episode {ep}, step {}: {e}", env.metrics().steps() + 1)
            })?;
            if let Some(edge) = edge
                && r.info.filled_this_step > 0
                && r.info.position.unsigned_abs() > before.unsigned_abs()
            {
                opening.push(OpeningTrade {
                    episode: ep,
                    filled: r.info.filled_this_step,
                    edge: f64::from(edge),
                });
            }
            total_steps += 1;
            let pv = r.info.portfolio_value_cents;
            equity.push(pv);
            let net = r.info.realized_pnl_cents - r.info.fees_paid_cents;
            trips.extend(tracker.step(r.info.position, net).map(trip));
            let done = r.terminated || r.truncated;
            progress(Progress {
                episode: ep,
                total_steps,
                episode_done: done,
            });
            if done {
                // A holding still open is valued at its mark: PV − initial PV.
                trips.extend(tracker.finish(pv - initial).map(trip));
                break match r.info.settled {
                    1 => "settled_yes",
                    2 => "settled_no",
                    _ if pv <= 0 => "bankrupt",
                    _ => "truncated",
                };
            }
        };
        rows.push(EpisodeRow::from_metrics(
            ep,
            env.market().ticker.clone(),
            end,
            env.metrics(),
        ));
    }
    let tier_sizes = if config.is_fixed() {
        [config.fixed_size; 5]
    } else {
        config.sizes
    };
    let aggregate = aggregate(&rows, &trips, tier_sizes);
    let mut action_histogram = [0u64; ACTION_COUNT];
    for r in &rows {
        for (a, n) in action_histogram.iter_mut().zip(r.action_histogram) {
            *a += n;
        }
    }
    Ok(RunReport {
        schema: REPORT_SCHEMA,
        policy: policy.name(),
        seed,
        obs_schema_version: kalsim_core::OBS_SCHEMA_VERSION,
        config: config.clone(),
        tier_sizes,
        markets: markets.len(),
        per_episode: rows,
        aggregate,
        action_histogram,
        equity_curve_cents: equity,
        episode_starts: starts,
        round_trips: trips,
        opening_trades: opening,
    })
}

fn mean(rows: &[EpisodeRow], f: impl Fn(&EpisodeRow) -> f64) -> f64 {
    if rows.is_empty() {
        0.0
    } else {
        rows.iter().map(f).sum::<f64>() / rows.len() as f64
    }
}

/// Aggregate episode rows and the run's round trips.
pub fn aggregate(rows: &[EpisodeRow], trips: &[RoundTrip], tier_sizes: [u32; 5]) -> Aggregate {
    let steps: u64 = rows.iter().map(|r| r.steps).sum();
    let holds: u64 = rows.iter().map(|r| r.action_histogram[0]).sum();
    let mut fills = [0u64; 5];
    for r in rows {
        for (f, n) in fills.iter_mut().zip(r.fills_per_tier) {
            *f += n;
        }
    }
    let mut dist = BTreeMap::new();
    for (size, n) in tier_sizes.iter().zip(fills) {
        *dist.entry(*size).or_insert(0) += n;
    }
    let mut corr = Correlation::default();
    let (mut win_n, mut win_sum, mut lose_n, mut lose_sum) = (0u64, 0f64, 0u64, 0f64);
    for t in trips {
        corr.push(t.size as f64, t.profit_cents as f64);
        if t.profit_cents > 0 {
            win_n += 1;
            win_sum += t.size as f64;
        } else {
            lose_n += 1;
            lose_sum += t.size as f64;
        }
    }
    let ratio = |a: f64, n: u64| if n == 0 { 0.0 } else { a / n as f64 };
    Aggregate {
        episodes: rows.len() as u32,
        steps,
        total_return: mean(rows, |r| r.total_return),
        sharpe: mean(rows, |r| r.sharpe),
        max_drawdown: mean(rows, |r| r.max_drawdown),
        max_drawdown_worst: rows.iter().map(|r| r.max_drawdown).fold(0.0, f64::max),
        win_rate: mean(rows, |r| r.win_rate),
        win_rate_pooled: ratio(win_n as f64, trips.len() as u64),
        round_trips: trips.len() as u64,
        fees_cents: mean(rows, |r| r.fees_cents as f64),
        fees_cents_total: rows.iter().map(|r| r.fees_cents).sum(),
        hold_fraction: ratio(holds as f64, steps),
        fills_per_tier: fills,
        position_size_distribution: dist,
        avg_winning_position_size: ratio(win_sum, win_n),
        avg_losing_position_size: ratio(lose_sum, lose_n),
        size_efficiency: mean(rows, |r| r.size_efficiency),
        size_efficiency_pooled: corr.r(),
        max_position_reached: rows
            .iter()
            .map(|r| r.max_position_reached)
            .max()
            .unwrap_or(0),
        size_changes_per_episode: mean(rows, |r| r.size_changes as f64),
        invalid_actions: rows.iter().map(|r| r.invalid_actions).sum(),
        avg_position_size: mean(rows, |r| r.avg_position_size),
    }
}

impl RunReport {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Pearson correlation of round-trip size and profit over the run (0 when undefined).
    pub fn size_profit_correlation(&self) -> f64 {
        self.aggregate.size_efficiency_pooled
    }
}
