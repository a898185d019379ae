//! SPEC §9 episode metrics as a flat C struct.

use kalsim_core::SizingMetrics;

use crate::{KALSIM_ACTION_COUNT, KALSIM_TIER_COUNT};

/// SPEC §9 metrics of one episode (so far).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct kalsim_metrics {
    /// `(final PV - initial PV) / initial PV`.
    pub total_return: f64,
    /// Mean / std of per-step returns (not annualised; 0 when undefined).
    pub sharpe: f64,
    /// Largest fall from a peak of PV, as a fraction of that peak.
    pub max_drawdown: f64,
    /// Fraction of round trips (flat to flat) with positive profit.
    pub win_rate: f64,
    /// Fees paid, cents.
    pub fees_cents: i64,
    /// Fraction of steps whose action was HOLD (0).
    pub hold_fraction: f64,
    /// Pearson correlation of round-trip size and profit (0 when undefined).
    pub size_efficiency: f64,
    /// Orders that filled at least one contract, by size tier (`position_size_distribution`).
    pub fills_per_tier: [u64; KALSIM_TIER_COUNT],
    /// Actions taken, by id.
    pub action_histogram: [u64; KALSIM_ACTION_COUNT],
    /// Largest |position| reached, contracts.
    pub max_position_reached: u64,
    /// Trades whose tier differs from the previous trade's.
    pub size_changes: u64,
    /// Steps whose action ran as HOLD because it was masked or reserved.
    pub invalid_actions: u64,
    /// Mean size of winning round trips, contracts (0 when none).
    pub avg_winning_position_size: f64,
    /// Mean size of losing round trips, contracts (0 when none).
    pub avg_losing_position_size: f64,
    /// Mean |position| per step, contracts.
    pub avg_position_size: f64,
    /// Round trips completed.
    pub round_trips: u64,
    /// Steps recorded.
    pub steps: u64,
    /// Portfolio value at the start, cents.
    pub initial_pv_cents: i64,
    /// Portfolio value now, cents.
    pub final_pv_cents: i64,
}

impl From<&SizingMetrics> for kalsim_metrics {
    fn from(m: &SizingMetrics) -> Self {
        kalsim_metrics {
            total_return: m.total_return(),
            sharpe: m.sharpe(),
            max_drawdown: m.max_drawdown,
            win_rate: m.win_rate(),
            fees_cents: m.fees_cents,
            hold_fraction: m.hold_fraction(),
            size_efficiency: m.size_efficiency(),
            fills_per_tier: m.fills_per_tier,
            action_histogram: m.action_histogram,
            max_position_reached: m.max_position_reached,
            size_changes: m.size_changes,
            invalid_actions: m.invalid_actions,
            avg_winning_position_size: m.winning_sizes.mean(),
            avg_losing_position_size: m.losing_sizes.mean(),
            avg_position_size: m.position_sizes.mean(),
            round_trips: m.round_trips(),
            steps: m.steps(),
            initial_pv_cents: m.initial_pv,
            final_pv_cents: m.final_pv,
        }
    }
}
