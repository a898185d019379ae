//! Reference policies on forecasts (SPEC §10): `forecast-kelly`, `forecast-fixed` and
//! `oracle`, one rule with three inputs.
//!
//! # The rule
//!
//! 1. **Probability estimate `μ`.** `forecast-kelly` / `forecast-fixed`: the forecast `f`
//!    with stated error `σ`, shrunk toward the market mid `m` by a normal–normal posterior
//!    with the prior `N(m, τ²)`, `τ =` [`PRIOR_STD`] = 0.05 (the book is taken as an unbiased
//!    but imprecise estimate of the latent): `μ = (m/τ² + f/σ²) / (1/τ² + 1/σ²)`. `oracle`:
//!    the generator's latent probability (synthetic data only; a reference for what full
//!    information earns, not a bound: Kelly maximises growth, not mean return).
//! 2. **After-cost edge** of buying each contract at its ask `a` with the taker fee per
//!    contract `φ(a) = 0.07·a·(1 − a)`: YES `e = μ − a_yes − φ(a_yes)`, NO
//!    `e = (1 − μ) − a_no − φ(a_no)`.
//! 3. **Target.** For the side with positive edge (at most one can have it), at cost
//!    `k = a + φ(a)`: the Kelly fraction `f* = (μ − k)/(1 − k)` (NO: `((1 − μ) − k)/(1 − k)`)
//!    and the target holding `⌊¼·f*·PV / k⌋` contracts (quarter Kelly of the bankroll);
//!    `forecast-fixed` targets 10 contracts instead (the plan's fixed size).
//! 4. **Action.** Buy that contract, the largest allowed tier not above `target − held`
//!    (snapped down; nothing when below the smallest tier). Otherwise, when the held
//!    contract's edge after costs has turned negative — selling it at its bid `b` now is worth
//!    more than holding: `μ_held < b − φ(b)` — sell it, the largest allowed tier not above
//!    the holding. Else HOLD.
//!
//! Everything is read from the observation (SPEC §8) by feature name, except the oracle's
//! latent probability, which only the evaluation loop passes ([`ActContext`]).

use kalsim_core::ACTION_COUNT;

use super::{ActContext, HOLD, ObsIndex, Policy, PolicyContext, action_id, feature_index};

/// Prior standard deviation of the latent probability around the market mid (τ).
pub const PRIOR_STD: f64 = 0.05;
/// Share of the Kelly fraction bet (quarter Kelly).
const KELLY_SHARE: f64 = 0.25;
/// Contracts targeted by `forecast-fixed`.
const FIXED_TARGET: f64 = 10.0;
/// Kalshi's taker rate.
const TAKER_RATE: f64 = 0.07;

const BUY_YES: u32 = 1;
const SELL_YES: u32 = 2;
const BUY_NO: u32 = 3;
const SELL_NO: u32 = 4;

/// The normal–normal posterior mean of the latent probability from a forecast `f` with
/// error `sigma`, around the prior mean `mid` with [`PRIOR_STD`].
pub fn forecast_posterior(f: f64, sigma: f64, mid: f64) -> f64 {
    if sigma <= 0.0 {
        return f;
    }
    let (wp, wf) = (1.0 / (PRIOR_STD * PRIOR_STD), 1.0 / (sigma * sigma));
    (mid * wp + f * wf) / (wp + wf)
}

/// The taker fee per contract at `price` (probability units), before rounding up: the
/// after-cost edge of the rule, `φ(a) = 0.07·a·(1 − a)`.
pub fn fee(price: f64) -> f64 {
    TAKER_RATE * price * (1.0 - price)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Forecast,
    Latent,
}

/// `forecast-kelly`, `forecast-fixed` or `oracle` (see the module docs).
#[derive(Clone, Debug)]
pub struct ForecastRule {
    ctx: PolicyContext,
    ix: ObsIndex,
    present: usize,
    p_yes: usize,
    stderr: usize,
    source: Source,
    fixed: bool,
}

impl ForecastRule {
    fn new(ctx: PolicyContext, source: Source, fixed: bool) -> ForecastRule {
        let f = |n: &str| feature_index(n).unwrap_or(usize::MAX);
        ForecastRule {
            ctx,
            ix: ObsIndex::resolve(),
            present: f("forecast_present"),
            p_yes: f("forecast_p_yes"),
            stderr: f("forecast_stderr"),
            source,
            fixed,
        }
    }

    /// Quarter Kelly on the forecast posterior.
    pub fn kelly(ctx: PolicyContext) -> ForecastRule {
        ForecastRule::new(ctx, Source::Forecast, false)
    }

    /// The same rule with a fixed target of 10 contracts.
    pub fn fixed(ctx: PolicyContext) -> ForecastRule {
        ForecastRule::new(ctx, Source::Forecast, true)
    }

    /// Quarter Kelly on the latent probability (synthetic data only).
    pub fn oracle(ctx: PolicyContext) -> ForecastRule {
        ForecastRule::new(ctx, Source::Latent, false)
    }

    /// The probability estimate μ now, if there is one.
    fn estimate(&self, obs: &[f32], ctx: &ActContext) -> Option<f64> {
        let g = |i: usize| ObsIndex::get(obs, i);
        match self.source {
            Source::Latent => ctx.latent_probability,
            Source::Forecast if g(self.present) > 0.5 => Some(forecast_posterior(
                g(self.p_yes),
                g(self.stderr),
                g(self.ix.mid),
            )),
            Source::Forecast => None,
        }
    }

    /// The largest allowed tier of `intent` whose size is at most `room` contracts.
    fn tier_within(&self, intent: u32, room: f64, mask: &[bool; ACTION_COUNT]) -> u32 {
        (0..5)
            .rev()
            .map(|t| (t, action_id(intent, t)))
            .find(|&(t, a)| mask[a as usize] && f64::from(self.ctx.sizes[t]) <= room)
            .map_or(HOLD, |(_, a)| a)
    }
}

impl Policy for ForecastRule {
    fn act(&mut self, obs: &[f32], mask: &[bool; ACTION_COUNT]) -> u32 {
        self.act_with(obs, mask, &ActContext::default())
    }

    fn act_with(&mut self, obs: &[f32], mask: &[bool; ACTION_COUNT], ctx: &ActContext) -> u32 {
        let Some(mu) = self.estimate(obs, ctx) else {
            return HOLD;
        };
        let g = |i: usize| ObsIndex::get(obs, i);
        let (ask_y, ask_n) = (g(self.ix.yes_ask), g(self.ix.no_ask));
        let (bid_y, bid_n) = (g(self.ix.yes_bid), g(self.ix.no_bid));
        let pv = (g(self.ix.pv_return) + 1.0) * self.ctx.initial_cash_cents as f64 / 100.0;
        let position =
            libm::round(g(self.ix.position) * f64::from(self.ctx.max_position_per_market));
        let held_yes = position.max(0.0);
        let held_no = (-position).max(0.0);
        for (intent, win, ask, held) in [
            (BUY_YES, mu, ask_y, held_yes),
            (BUY_NO, 1.0 - mu, ask_n, held_no),
        ] {
            if ask <= 0.0 || ask >= 1.0 {
                continue;
            }
            let cost = ask + fee(ask);
            if win - cost <= 0.0 {
                continue;
            }
            let target = if self.fixed {
                FIXED_TARGET
            } else {
                let kelly = (win - cost) / (1.0 - cost);
                libm::floor(KELLY_SHARE * kelly * pv / cost)
            };
            return self.tier_within(intent, target - held, mask);
        }
        // No side to buy: reduce a holding whose edge after costs turned negative.
        for (intent, win, bid, held) in [
            (SELL_YES, mu, bid_y, held_yes),
            (SELL_NO, 1.0 - mu, bid_n, held_no),
        ] {
            if held > 0.0 && win < bid - fee(bid) {
                return self.tier_within(intent, held, mask);
            }
        }
        HOLD
    }

    fn name(&self) -> String {
        match (self.source, self.fixed) {
            (Source::Latent, _) => "oracle".into(),
            (Source::Forecast, true) => "forecast-fixed".into(),
            (Source::Forecast, false) => "forecast-kelly".into(),
        }
    }
}
