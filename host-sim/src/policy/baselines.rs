//! The baseline policies.

use kalsim_core::{ACTION_COUNT, Rng};

use super::signal::{SignalFilter, holding_contracts};
use super::{BookSignal, HOLD, ObsIndex, Policy, PolicyContext, action_id, masked_or_hold};

const BUY_YES: u32 = 1;
const SELL_YES: u32 = 2;
const BUY_NO: u32 = 3;
const SELL_NO: u32 = 4;
const MEDIUM: usize = 1;
/// Default weight of the previous signal average (about a 10-step memory).
const SMOOTHING: f64 = 0.9;

/// Always HOLD.
#[derive(Clone, Copy, Debug, Default)]
pub struct HoldPolicy;

impl Policy for HoldPolicy {
    fn act(&mut self, _obs: &[f32], _mask: &[bool; ACTION_COUNT]) -> u32 {
        HOLD
    }
    fn name(&self) -> String {
        "hold".into()
    }
}

/// Uniform over the allowed actions (HOLD included), from a seeded [`Rng`].
#[derive(Clone, Debug)]
pub struct RandomPolicy {
    rng: Rng,
}

impl RandomPolicy {
    /// A random policy whose draws are fixed by `seed`.
    pub fn new(seed: u64) -> RandomPolicy {
        RandomPolicy {
            rng: Rng::derive(seed, 0x7261_6e64),
        }
    }
}

impl Policy for RandomPolicy {
    fn act(&mut self, _obs: &[f32], mask: &[bool; ACTION_COUNT]) -> u32 {
        let allowed = mask.iter().filter(|m| **m).count() as u64;
        if allowed == 0 {
            return HOLD;
        }
        let k = self.rng.below(allowed) as usize;
        mask.iter()
            .enumerate()
            .filter(|(_, m)| **m)
            .nth(k)
            .map_or(HOLD, |(a, _)| a as u32)
    }
    fn name(&self) -> String {
        "random".into()
    }
}

/// The sell action of `intent` at Medium when allowed, else the smallest tier that fits the
/// holding (reduce-only sells are masked unless the holding covers them), else HOLD.
fn sell_fitting(intent: u32, mask: &[bool; ACTION_COUNT]) -> u32 {
    let medium = action_id(intent, MEDIUM);
    if mask[medium as usize] {
        return medium;
    }
    (0..5)
        .map(|t| action_id(intent, t))
        .find(|a| mask[*a as usize])
        .unwrap_or(HOLD)
}

/// Fixed-size signal rule: when flat and the (smoothed) book signal exceeds `entry`, buy the
/// favoured contract at Medium (action 2 for YES, 12 for NO); when holding and the signal
/// reverses past `exit`, sell the held contract (Medium, or the tier that fits the holding).
///
/// The defaults (entry 0.35, exit 0.3, smoothing 0.9) come from a small sweep on the default
/// synthetic data (16 markets, seed 0): entry/exit pairs from 0.2 to 0.65 and smoothing from 0
/// to 0.97 all land within ±0.2 % of break-even after spread and fees, so this is a reference
/// point, not a strategy.
#[derive(Clone, Debug)]
pub struct FixedPolicy {
    ix: ObsIndex,
    /// Smoothing of the signal over steps.
    pub filter: SignalFilter,
    /// Entry threshold on the signal (default 0.35).
    pub entry: f64,
    /// Exit threshold: sell YES when the signal falls below `−exit` (NO: above `+exit`),
    /// default 0.3.
    pub exit: f64,
}

impl Default for FixedPolicy {
    fn default() -> Self {
        FixedPolicy {
            ix: ObsIndex::resolve(),
            filter: SignalFilter::new(SMOOTHING),
            entry: 0.35,
            exit: 0.3,
        }
    }
}

impl Policy for FixedPolicy {
    fn act(&mut self, obs: &[f32], mask: &[bool; ACTION_COUNT]) -> u32 {
        let s = self
            .filter
            .update(obs, BookSignal::read(&self.ix, obs).value);
        // Any holding counts: the tier scale cancels out of the sign.
        let held = holding_contracts(&self.ix, obs, 1_000);
        let action = if held == 0 {
            if s > self.entry {
                action_id(BUY_YES, MEDIUM)
            } else if s < -self.entry {
                action_id(BUY_NO, MEDIUM)
            } else {
                HOLD
            }
        } else if held > 0 && s < -self.exit {
            sell_fitting(SELL_YES, mask)
        } else if held < 0 && s > self.exit {
            sell_fitting(SELL_NO, mask)
        } else {
            HOLD
        };
        masked_or_hold(action, mask)
    }
    fn name(&self) -> String {
        "fixed".into()
    }
}

/// Quarter-Kelly sizing of the book signal.
///
/// The signal (smoothed as in [`FixedPolicy`]) becomes a probability estimate `p = mid + k·signal`. Buying a contract at its ask
/// `c` (YES ask for YES, NO ask for NO, with `q = 1 − p` for NO) has edge
/// `e = p − c − fee(c)`, where `fee(c) = 0.07·c·(1 − c)` is the per-contract taker fee; the
/// Kelly fraction of a binary bet paying 1 is `e / (1 − c)`, of which a quarter is staked:
/// `contracts = ¼·e/(1 − c) · PV / c`, PV read from the observation. The target position is
/// reached with the allowed tier nearest to the difference (ties go to the smaller tier);
/// nothing is traded for a difference under half the smallest tier. A holding is sold when its
/// estimated value falls below what selling now returns (bid minus fee), i.e. the edge flipped.
#[derive(Clone, Debug)]
pub struct KellyPolicy {
    ix: ObsIndex,
    /// Smoothing of the signal over steps.
    pub filter: SignalFilter,
    ctx: PolicyContext,
    /// Probability shift per unit of signal (default 0.08).
    pub k: f64,
    /// Fraction of full Kelly staked (default 0.25).
    pub kelly_fraction: f64,
}

impl KellyPolicy {
    /// A Kelly policy for the environment described by `ctx`.
    pub fn new(ctx: PolicyContext) -> KellyPolicy {
        KellyPolicy {
            ix: ObsIndex::resolve(),
            filter: SignalFilter::new(SMOOTHING),
            ctx,
            k: 0.08,
            kelly_fraction: 0.25,
        }
    }

    /// Desired signed position in contracts (+YES / −NO) for this observation and `signal`.
    pub fn target_contracts(&self, obs: &[f32], signal: f64) -> f64 {
        let mid = ObsIndex::get(obs, self.ix.mid);
        let p = (mid + self.k * signal).clamp(0.01, 0.99);
        let pv = (1.0 + ObsIndex::get(obs, self.ix.pv_return)) * self.ctx.initial_cash_cents as f64;
        let stake = |prob: f64, c: f64| -> f64 {
            if !(0.01..=0.99).contains(&c) {
                return 0.0;
            }
            let edge = prob - c - fee_per_contract(c);
            if edge <= 0.0 {
                return 0.0;
            }
            let f = self.kelly_fraction * edge / (1.0 - c);
            // PV is in cents, the price in dollars per contract: c·100 cents per contract.
            f * pv.max(0.0) / (c * 100.0)
        };
        let yes = stake(p, ObsIndex::get(obs, self.ix.yes_ask));
        let no = stake(1.0 - p, ObsIndex::get(obs, self.ix.no_ask));
        if yes > 0.0 { yes } else { -no }
    }

    /// The allowed tier of `intent` whose size is nearest to `contracts` (ties: smaller).
    fn nearest_tier(&self, intent: u32, contracts: f64, mask: &[bool; ACTION_COUNT]) -> u32 {
        let mut best: Option<(f64, u32)> = None;
        for (t, size) in self.ctx.sizes.iter().enumerate() {
            let a = action_id(intent, t);
            if !mask[a as usize] {
                continue;
            }
            let d = (*size as f64 - contracts).abs();
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, a));
            }
        }
        best.map_or(HOLD, |(_, a)| a)
    }
}

fn fee_per_contract(c: f64) -> f64 {
    0.07 * c * (1.0 - c)
}

impl Policy for KellyPolicy {
    fn act(&mut self, obs: &[f32], mask: &[bool; ACTION_COUNT]) -> u32 {
        let ix = &self.ix;
        let held = holding_contracts(ix, obs, self.ctx.sizes[4]);
        let sig = BookSignal::read(ix, obs);
        let signal = self.filter.update(obs, sig.value);
        let p = (sig.mid + self.k * signal).clamp(0.01, 0.99);
        let smallest = self.ctx.sizes[0] as f64;
        if held > 0 {
            let bid = ObsIndex::get(obs, ix.yes_bid);
            if p < bid - fee_per_contract(bid) {
                return self.nearest_tier(SELL_YES, held as f64, mask);
            }
        } else if held < 0 {
            let bid = ObsIndex::get(obs, ix.no_bid);
            if 1.0 - p < bid - fee_per_contract(bid) {
                return self.nearest_tier(SELL_NO, (-held) as f64, mask);
            }
        }
        let target = self.target_contracts(obs, signal);
        let held_f = held as f64;
        let action = if target > 0.0 && held >= 0 {
            // Add YES up to the target; never trim a holding the estimate still favours.
            let diff = target - held_f;
            if diff < smallest / 2.0 {
                HOLD
            } else {
                self.nearest_tier(BUY_YES, diff, mask)
            }
        } else if target < 0.0 && held <= 0 {
            let diff = -target + held_f;
            if diff < smallest / 2.0 {
                HOLD
            } else {
                self.nearest_tier(BUY_NO, diff, mask)
            }
        } else if target > 0.0 {
            // Holding NO while the estimate favours YES: close the NO first.
            self.nearest_tier(SELL_NO, -held_f, mask)
        } else if target < 0.0 {
            self.nearest_tier(SELL_YES, held_f, mask)
        } else {
            HOLD
        };
        masked_or_hold(action, mask)
    }
    fn name(&self) -> String {
        "kelly".into()
    }
}
