//! [`SizingProbe`]: how a policy's chosen size follows the book signal (the experiment's
//! sizing-by-signal table).

use kalsim_core::{Action, Intent};

use crate::policy::{BookSignal, ObsIndex, Policy};

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
        self.act_with(obs, mask, &crate::policy::ActContext::default())
    }

    fn act_with(
        &mut self,
        obs: &[f32],
        mask: &[bool; kalsim_core::ACTION_COUNT],
        ctx: &crate::policy::ActContext,
    ) -> u32 {
        let a = self.inner.act_with(obs, mask, ctx);
        let signal = BookSignal::read(&self.ix, obs).value;
        let st = &mut self.stats;
        st.steps += 1;
        st.abs_signal_all += signal.abs();
        // The buys (SPEC §2), by the core's codec: +1 for YES, −1 for NO.
        let buy = match kalsim_core::action::decode(a) {
            Ok(Action::Trade {
                intent: Intent::BuyYes,
                tier,
            }) => Some((tier.index(), 1.0)),
            Ok(Action::Trade {
                intent: Intent::BuyNo,
                tier,
            }) => Some((tier.index(), -1.0)),
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
