//! Position-sizing metrics of SPEC §9 as fixed-size, allocation-free accumulators.
//!
//! Streaming statistics use Welford's updates (B. P. Welford, 1962) in `f64`, fed in step
//! order, so the same sequence gives the same bits on every target.

use crate::action::{ACTION_COUNT, TIER_COUNT};

/// Streaming mean and variance (Welford).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Welford {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    /// Add one value.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }
    /// Count.
    pub const fn count(&self) -> u64 {
        self.n
    }
    /// Mean, 0 when empty.
    pub const fn mean(&self) -> f64 {
        self.mean
    }
    /// Sample standard deviation, 0 with fewer than two values.
    pub fn std(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            libm::sqrt(self.m2 / (self.n - 1) as f64)
        }
    }
}

/// Streaming Pearson correlation (Welford-style co-moments).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Correlation {
    n: u64,
    mean_x: f64,
    mean_y: f64,
    m2_x: f64,
    m2_y: f64,
    c_xy: f64,
}

impl Correlation {
    /// Add one pair.
    #[inline]
    pub fn push(&mut self, x: f64, y: f64) {
        self.n += 1;
        let n = self.n as f64;
        let dx = x - self.mean_x;
        let dy = y - self.mean_y;
        self.mean_x += dx / n;
        self.mean_y += dy / n;
        self.m2_x += dx * (x - self.mean_x);
        self.m2_y += dy * (y - self.mean_y);
        self.c_xy += dx * (y - self.mean_y);
    }
    /// Pairs seen.
    pub const fn count(&self) -> u64 {
        self.n
    }
    /// Pearson r, 0 when undefined (fewer than two pairs or a constant series).
    pub fn r(&self) -> f64 {
        if self.n < 2 || self.m2_x <= 0.0 || self.m2_y <= 0.0 {
            return 0.0;
        }
        let r = self.c_xy / libm::sqrt(self.m2_x * self.m2_y);
        r.clamp(-1.0, 1.0)
    }
}

/// Everything SPEC §9 asks for, accumulated step by step.
#[derive(Clone, Debug, PartialEq)]
pub struct SizingMetrics {
    /// Actions taken, by id (25 bins).
    pub action_histogram: [u64; ACTION_COUNT],
    /// Orders that filled at least one contract, by size tier (`position_size_distribution`).
    pub fills_per_tier: [u64; TIER_COUNT],
    /// Steps whose action was executed as HOLD because it was masked.
    pub invalid_actions: u64,
    /// Trades whose tier differs from the previous trade's.
    pub size_changes: u64,
    /// Largest |position| reached, contracts.
    pub max_position_reached: u64,
    /// Fees paid, cents.
    pub fees_cents: i64,
    /// Round trips (flat → flat): size vs net profit.
    pub round_trip_corr: Correlation,
    /// Winning round trips' sizes.
    pub winning_sizes: Welford,
    /// Losing (profit ≤ 0) round trips' sizes.
    pub losing_sizes: Welford,
    /// Per-step returns (PV change / initial cash).
    pub step_returns: Welford,
    /// |position| per step, contracts.
    pub position_sizes: Welford,
    /// Highest PV seen, cents.
    pub peak_pv: i64,
    /// Largest fall from a peak, as a fraction of that peak.
    pub max_drawdown: f64,
    /// PV at the start, cents.
    pub initial_pv: i64,
    /// PV now, cents.
    pub final_pv: i64,
    last_tier: Option<u8>,
    trips: RoundTrips,
    steps: u64,
}

/// Whether going from position `before` to `after` (signed contracts) passes through flat
/// without stopping there: from long YES to long NO or back (SPEC §9 round trips).
#[inline]
pub const fn flips(before: i64, after: i64) -> bool {
    (before > 0 && after < 0) || (before < 0 && after > 0)
}

/// SPEC §9 round trips, from the position and net P&L after each step: a trip runs from
/// flat to flat; its size is the largest |position| reached, its profit the change of the
/// net P&L (realised − fees) over it. A step that flips the position (long YES to long NO,
/// say) passes through flat: it ends the trip there (its order's fee counted in it) and
/// starts the next one. [`SizingMetrics`] and the run reports both count trips with it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoundTrips {
    max_abs: u64,
    start_net: i64,
    last_position: i64,
}

impl RoundTrips {
    /// No trip open, net P&L 0.
    pub const fn new() -> RoundTrips {
        RoundTrips {
            max_abs: 0,
            start_net: 0,
            last_position: 0,
        }
    }

    /// After a step: signed `position` and `net_pnl_cents` (realised − fees) now. Returns
    /// the trip this step ended, as `(size, profit_cents)`.
    pub fn step(&mut self, position: i64, net_pnl_cents: i64) -> Option<(u64, i64)> {
        let flipped = flips(self.last_position, position);
        self.last_position = position;
        let abs = position.unsigned_abs();
        let ended = if flipped || abs == 0 {
            self.close(net_pnl_cents)
        } else {
            None
        };
        if abs > 0 {
            self.max_abs = self.max_abs.max(abs);
        } else {
            self.start_net = net_pnl_cents;
        }
        ended
    }

    /// At episode end: close the open trip, if any, at `net_cents` (net P&L plus the mark
    /// of what is still held).
    pub fn finish(&mut self, net_cents: i64) -> Option<(u64, i64)> {
        self.close(net_cents)
    }

    fn close(&mut self, net_cents: i64) -> Option<(u64, i64)> {
        if self.max_abs == 0 {
            return None;
        }
        let trip = (self.max_abs, net_cents - self.start_net);
        self.max_abs = 0;
        self.start_net = net_cents;
        Some(trip)
    }
}

impl SizingMetrics {
    /// Fresh accumulators for an episode starting at `initial_pv` cents.
    pub const fn new(initial_pv: i64) -> SizingMetrics {
        SizingMetrics {
            action_histogram: [0; ACTION_COUNT],
            fills_per_tier: [0; TIER_COUNT],
            invalid_actions: 0,
            size_changes: 0,
            max_position_reached: 0,
            fees_cents: 0,
            round_trip_corr: Correlation {
                n: 0,
                mean_x: 0.0,
                mean_y: 0.0,
                m2_x: 0.0,
                m2_y: 0.0,
                c_xy: 0.0,
            },
            winning_sizes: Welford {
                n: 0,
                mean: 0.0,
                m2: 0.0,
            },
            losing_sizes: Welford {
                n: 0,
                mean: 0.0,
                m2: 0.0,
            },
            step_returns: Welford {
                n: 0,
                mean: 0.0,
                m2: 0.0,
            },
            position_sizes: Welford {
                n: 0,
                mean: 0.0,
                m2: 0.0,
            },
            peak_pv: initial_pv,
            max_drawdown: 0.0,
            initial_pv,
            final_pv: initial_pv,
            last_tier: None,
            trips: RoundTrips::new(),
            steps: 0,
        }
    }

    /// Record one step.
    ///
    /// `action` is the id taken, `traded_tier` the tier of an order placed this step,
    /// `tier_filled` whether that order filled anything immediately, `invalid` whether it was
    /// executed as HOLD, `position` after the step, `net_pnl_cents` = realised P&L − fees so
    /// far, `fees_cents` total so far, `pv_cents` after the step.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        action: u8,
        traded_tier: Option<u8>,
        tier_filled: bool,
        invalid: bool,
        position: i64,
        net_pnl_cents: i64,
        fees_cents: i64,
        pv_cents: i64,
    ) {
        self.steps += 1;
        if (action as usize) < ACTION_COUNT {
            self.action_histogram[action as usize] += 1;
        }
        if invalid {
            self.invalid_actions += 1;
        }
        if let Some(t) = traded_tier {
            if self.last_tier.is_some_and(|prev| prev != t) {
                self.size_changes += 1;
            }
            self.last_tier = Some(t);
            if tier_filled && (t as usize) < TIER_COUNT {
                self.fills_per_tier[t as usize] += 1;
            }
        }
        let abs = position.unsigned_abs();
        self.max_position_reached = self.max_position_reached.max(abs);
        self.position_sizes.push(abs as f64);
        if let Some((size, profit)) = self.trips.step(position, net_pnl_cents) {
            self.add_trip(size, profit);
        }
        self.fees_cents = fees_cents;
        let denom = self.initial_pv.max(1) as f64;
        self.step_returns
            .push((pv_cents - self.final_pv) as f64 / denom);
        self.final_pv = pv_cents;
        if pv_cents > self.peak_pv {
            self.peak_pv = pv_cents;
        } else if self.peak_pv > 0 {
            let dd = (self.peak_pv - pv_cents) as f64 / self.peak_pv as f64;
            if dd > self.max_drawdown {
                self.max_drawdown = dd;
            }
        }
    }

    /// Record a fill that happened between steps (a resting order) for the tier distribution.
    pub fn record_resting_fill(&mut self, tier: u8) {
        if (tier as usize) < TIER_COUNT {
            self.fills_per_tier[tier as usize] += 1;
        }
    }

    /// Close the open round trip at episode end (settlement or truncation) with the final net P&L.
    pub fn finish(&mut self, net_pnl_cents: i64, unrealized_cents: i64) {
        if let Some((size, profit)) = self.trips.finish(net_pnl_cents + unrealized_cents) {
            self.add_trip(size, profit);
        }
    }

    fn add_trip(&mut self, size: u64, profit: i64) {
        let size = size as f64;
        self.round_trip_corr.push(size, profit as f64);
        if profit > 0 {
            self.winning_sizes.push(size);
        } else {
            self.losing_sizes.push(size);
        }
    }

    /// Steps recorded.
    pub const fn steps(&self) -> u64 {
        self.steps
    }
    /// Fraction of steps whose action id was HOLD (0).
    pub fn hold_fraction(&self) -> f64 {
        if self.steps == 0 {
            0.0
        } else {
            self.action_histogram[0] as f64 / self.steps as f64
        }
    }
    /// `size_efficiency`: correlation of round-trip size and profit (0 when undefined).
    pub fn size_efficiency(&self) -> f64 {
        self.round_trip_corr.r()
    }
    /// Round trips completed.
    pub const fn round_trips(&self) -> u64 {
        self.round_trip_corr.count()
    }
    /// Fraction of round trips with positive profit.
    pub fn win_rate(&self) -> f64 {
        let n = self.round_trips();
        if n == 0 {
            0.0
        } else {
            self.winning_sizes.count() as f64 / n as f64
        }
    }
    /// `(final − initial) / initial`.
    pub fn total_return(&self) -> f64 {
        (self.final_pv - self.initial_pv) as f64 / self.initial_pv.max(1) as f64
    }
    /// Mean / std of per-step returns (not annualised; 0 when undefined).
    pub fn sharpe(&self) -> f64 {
        let s = self.step_returns.std();
        if s > 0.0 {
            self.step_returns.mean() / s
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_matches_two_pass() {
        let xs = [5.0, 10.0, 20.0, 50.0, 100.0, 10.0];
        let ys = [1.0, -2.0, 4.0, 9.0, 30.0, 0.5];
        let mut c = Correlation::default();
        for (x, y) in xs.iter().zip(ys.iter()) {
            c.push(*x, *y);
        }
        let n = xs.len() as f64;
        let mx = xs.iter().sum::<f64>() / n;
        let my = ys.iter().sum::<f64>() / n;
        let sxy: f64 = xs
            .iter()
            .zip(ys.iter())
            .map(|(x, y)| (x - mx) * (y - my))
            .sum();
        let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
        let syy: f64 = ys.iter().map(|y| (y - my) * (y - my)).sum();
        let r = sxy / (sxx * syy).sqrt();
        assert!((c.r() - r).abs() < 1e-12);
        assert_eq!(Correlation::default().r(), 0.0);
    }

    #[test]
    fn round_trips_and_drawdown() {
        let mut m = SizingMetrics::new(1_000);
        // Open 10, grow to 30, close with +50 net; open 5, close with −20.
        m.record(1, Some(1), true, false, 10, 0, 2, 990);
        m.record(3, Some(2), true, false, 30, 0, 4, 1_100);
        m.record(6, Some(2), true, false, 0, 50, 6, 1_050);
        m.record(11, Some(0), true, false, -5, 50, 7, 1_000);
        m.record(16, Some(0), true, false, 0, 30, 8, 1_030);
        assert_eq!(m.round_trips(), 2);
        assert_eq!(m.winning_sizes.mean(), 30.0);
        assert_eq!(m.losing_sizes.mean(), 5.0);
        assert_eq!(m.size_changes, 2);
        assert_eq!(m.max_position_reached, 30);
        assert_eq!(m.fills_per_tier, [2, 1, 2, 0, 0]);
        assert!((m.max_drawdown - 100.0 / 1_100.0).abs() < 1e-12);
        assert!((m.size_efficiency() - 1.0).abs() < 1e-12);
        assert_eq!(m.win_rate(), 0.5);
    }

    #[test]
    fn a_flip_through_flat_ends_one_round_trip_and_starts_the_next() {
        let mut m = SizingMetrics::new(1_000);
        // Long 10 YES; one BUY_NO of 50 closes them (+30 net) and opens 40 NO; those close
        // flat with −40 more; a last flip from 20 YES to 10 NO stays open to the end.
        m.record(1, Some(1), true, false, 10, 0, 1, 1_000);
        m.record(9, Some(3), true, false, -40, 30, 3, 1_010);
        m.record(1, Some(3), true, false, 0, -10, 5, 990);
        m.record(3, Some(2), true, false, 20, -10, 6, 985);
        m.record(8, Some(1), true, false, -10, 0, 7, 990);
        m.finish(0, 5);
        assert_eq!(m.round_trips(), 4);
        // Sizes 10 (+30), 40 (−40), 20 (+10), 10 (+5 unrealised at the end).
        assert_eq!(m.winning_sizes.count(), 3);
        assert_eq!(m.winning_sizes.mean(), (10.0 + 20.0 + 10.0) / 3.0);
        assert_eq!(m.losing_sizes.mean(), 40.0);
        assert!(flips(1, -1) && flips(-3, 2) && !flips(0, 5) && !flips(5, 0) && !flips(2, 7));
    }

    #[test]
    fn round_trips_end_at_flat_and_at_flips_through_flat() {
        let mut t = RoundTrips::new();
        // (position, realised − fees) after each step.
        let trips: Vec<(u64, i64)> = [(10, -1), (-40, 28), (0, -10), (5, -11), (0, -12)]
            .into_iter()
            .filter_map(|(pos, net)| t.step(pos, net))
            .collect();
        assert_eq!(trips, [(10, 28), (40, -38), (5, -2)]);
        assert_eq!(t.finish(-20), None, "nothing open");
        t.step(-3, -12);
        assert_eq!(t.finish(-15), Some((3, -3)));
    }
}
