//! The observation vector of SPEC §8, schema version [`OBS_SCHEMA_VERSION`].
//!
//! A fixed-length `f32` vector, market-agnostic (nothing identifies the market), computed from
//! integer state with `libm` so every target gives the same bits. Every feature is finite and
//! clipped to its documented range. [`OBS_FEATURES`] is the published schema: index, name,
//! group, scaling and range of each feature. Changing any of it bumps the version.

use crate::book::Side;
use crate::engine::Engine;
use crate::queue::QueueModel;

/// Version of the observation schema. Policies record it; a mismatch refuses to load.
/// Version 2 added the forecast group and the time to settlement (SPEC §8).
pub const OBS_SCHEMA_VERSION: u32 = 2;
/// Length of the observation vector.
pub const OBS_DIM: usize = 40;
/// Mids remembered for change and volatility features.
const HISTORY: usize = 32;

/// One feature of the schema.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Feature {
    /// Stable snake_case name.
    pub name: &'static str,
    /// `market`, `portfolio`, `sizing`, `working_order` or `forecast`.
    pub group: &'static str,
    /// How the raw quantity is scaled.
    pub scaling: &'static str,
    /// Lowest value after clipping.
    pub min: f32,
    /// Highest value after clipping.
    pub max: f32,
}

const fn f(
    name: &'static str,
    group: &'static str,
    scaling: &'static str,
    min: f32,
    max: f32,
) -> Feature {
    Feature {
        name,
        group,
        scaling,
        min,
        max,
    }
}

/// The published schema, in index order.
pub const OBS_FEATURES: [Feature; OBS_DIM] = [
    f(
        "yes_bid",
        "market",
        "best YES bid cents / 100 (last valid if empty)",
        0.0,
        1.0,
    ),
    f(
        "yes_ask",
        "market",
        "best YES ask cents / 100 (last valid if empty)",
        0.0,
        1.0,
    ),
    f(
        "no_bid",
        "market",
        "best NO bid cents / 100 (last valid if empty)",
        0.0,
        1.0,
    ),
    f(
        "no_ask",
        "market",
        "best NO ask cents / 100 (last valid if empty)",
        0.0,
        1.0,
    ),
    f("mid", "market", "YES mid cents / 100", 0.0, 1.0),
    f(
        "spread",
        "market",
        "YES ask − YES bid, cents / 100",
        -1.0,
        1.0,
    ),
    f(
        "microprice",
        "market",
        "depth-weighted YES top-of-book price / 100",
        0.0,
        1.0,
    ),
    f(
        "yes_top_depth",
        "market",
        "ln(1 + YES best-level contracts) / 16",
        0.0,
        1.0,
    ),
    f(
        "no_top_depth",
        "market",
        "ln(1 + NO best-level contracts) / 16",
        0.0,
        1.0,
    ),
    f(
        "yes_depth5",
        "market",
        "ln(1 + YES top-5-level contracts) / 16",
        0.0,
        1.0,
    ),
    f(
        "no_depth5",
        "market",
        "ln(1 + NO top-5-level contracts) / 16",
        0.0,
        1.0,
    ),
    f(
        "imbalance",
        "market",
        "(YES top-5 − NO top-5) / (YES top-5 + NO top-5)",
        -1.0,
        1.0,
    ),
    f(
        "mid_change_1",
        "market",
        "mid change over the last event, cents / 10",
        -1.0,
        1.0,
    ),
    f(
        "mid_change_10",
        "market",
        "mid change over the last 10 events, cents / 20",
        -1.0,
        1.0,
    ),
    f(
        "volatility_20",
        "market",
        "std of 1-event mid changes over 20 events, cents / 5",
        0.0,
        1.0,
    ),
    f(
        "time_since_event",
        "market",
        "ln(1 + seconds since the previous event) / 10",
        0.0,
        1.0,
    ),
    f("episode_progress", "market", "step / max steps", 0.0, 1.0),
    f(
        "yes_quoted",
        "market",
        "1 if the YES side has a tradable bid",
        0.0,
        1.0,
    ),
    f(
        "no_quoted",
        "market",
        "1 if the NO side has a tradable bid",
        0.0,
        1.0,
    ),
    f(
        "position",
        "portfolio",
        "position / max_position_per_market (+YES, −NO)",
        -1.0,
        1.0,
    ),
    f("cash", "portfolio", "cash / initial cash", 0.0, 2.0),
    f("pv_return", "portfolio", "PV / initial cash − 1", -1.0, 1.0),
    f(
        "unrealized_pnl",
        "portfolio",
        "unrealised P&L / initial cash × 10",
        -1.0,
        1.0,
    ),
    f("exposure", "portfolio", "position value / PV", 0.0, 1.0),
    f(
        "position_size",
        "sizing",
        "|position| / largest size tier",
        0.0,
        5.0,
    ),
    f(
        "avg_position_size",
        "sizing",
        "mean |position| this episode / largest size tier",
        0.0,
        5.0,
    ),
    f(
        "max_capacity",
        "sizing",
        "largest tier any trade action allows now / largest tier",
        0.0,
        1.0,
    ),
    f(
        "order_present",
        "working_order",
        "1 if a working order rests",
        0.0,
        1.0,
    ),
    f(
        "order_side",
        "working_order",
        "+1 YES bid (buys YES), −1 YES ask (buys NO), 0 none",
        -1.0,
        1.0,
    ),
    f(
        "order_distance",
        "working_order",
        "(order YES-book price − mid) / 100",
        -1.0,
        1.0,
    ),
    f(
        "order_queue_ahead",
        "working_order",
        "ln(1 + contracts ahead in queue) / 16",
        0.0,
        1.0,
    ),
    f(
        "order_remaining",
        "working_order",
        "remaining contracts / largest size tier",
        0.0,
        1.0,
    ),
    f(
        "forecast_present",
        "forecast",
        "1 once the data has shown a forecast this episode",
        0.0,
        1.0,
    ),
    f(
        "forecast_p_yes",
        "forecast",
        "latest forecast probability of YES (0 when none)",
        0.0,
        1.0,
    ),
    f(
        "forecast_edge_yes",
        "forecast",
        "forecast p − YES ask / 100 (0 when none)",
        -1.0,
        1.0,
    ),
    f(
        "forecast_edge_no",
        "forecast",
        "(1 − forecast p) − NO ask / 100 (0 when none)",
        -1.0,
        1.0,
    ),
    f(
        "forecast_stderr",
        "forecast",
        "the forecast's stated standard error, probability units (0 when none)",
        0.0,
        1.0,
    ),
    f(
        "forecast_age",
        "forecast",
        "ln(1 + seconds since the forecast) / 10 (0 when none)",
        0.0,
        1.0,
    ),
    f(
        "settlement_known",
        "market",
        "1 if the data knows when the market settles",
        0.0,
        1.0,
    ),
    f(
        "time_to_settlement",
        "market",
        "ln(1 + seconds to settlement) / 16 (0 when unknown)",
        0.0,
        1.0,
    ),
];

/// The latest forecast the data has shown (SPEC §10), for the observation's forecast group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ForecastView {
    /// Forecast probability of YES, parts per million (0..=1 000 000).
    pub p_yes_ppm: u32,
    /// Stated standard error, parts per million.
    pub stderr_ppm: u32,
    /// Exchange time since the forecast, ms (≥ 0).
    pub age_ms: i64,
}

/// What the observation needs beyond the engine: data the host knows (SPEC §8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObsExtra {
    /// The latest forecast, if the data has shown one this episode.
    pub forecast: Option<ForecastView>,
    /// Exchange time until the market settles, ms, when the data knows it.
    pub time_to_settlement_ms: Option<i64>,
}

impl ObsExtra {
    /// No forecast, no settlement time: the forecast group and time to settlement are zero.
    pub const NONE: ObsExtra = ObsExtra {
        forecast: None,
        time_to_settlement_ms: None,
    };
}

/// Mid changes in the volatility window.
const VOL_WINDOW: usize = 20;

/// The last input and output of one feature that costs a `libm` call: the same input gives
/// the same bits, so an unchanged input (a book level, a time that did not move) skips the
/// call. Starts at input 0, whose output is exactly 0 for every feature memoised here.
#[derive(Clone, Copy, Debug)]
struct Memo {
    key: u64,
    val: f64,
}

impl Memo {
    const ZERO: Memo = Memo { key: 0, val: 0.0 };

    #[inline(always)]
    fn get(&mut self, key: u64, f: impl FnOnce() -> f64) -> f64 {
        if key != self.key {
            self.key = key;
            self.val = f();
        }
        self.val
    }
}

/// `ln(1 + ms / 1000) / 10`, the scaling of the time since the previous decision and of
/// the forecast's age (SPEC §8), for a time in ms. Times below [`MS_TERMS`] ms — most
/// gaps between book events — are looked up in a table shared by every observation in the
/// process and filled on first use: the same bits as the formula (the table caches it,
/// and `log1p` is a pure function), without a `libm` call per event.
#[inline]
fn ms_term(ms: u64) -> f64 {
    #[cfg(target_has_atomic = "64")]
    if let Some(slot) = MS_TERM_TABLE.get(ms as usize) {
        use core::sync::atomic::Ordering::Relaxed;
        let bits = slot.load(Relaxed);
        if bits != UNSET {
            return f64::from_bits(bits);
        }
        let v = ms_term_formula(ms);
        // Threads racing here store the same bits.
        slot.store(v.to_bits(), Relaxed);
        return v;
    }
    ms_term_formula(ms)
}

#[inline]
fn ms_term_formula(ms: u64) -> f64 {
    libm::log1p(ms as f64 / 1000.0) / 10.0
}

/// Times with a slot in the table of [`ms_term`], ms.
#[cfg(any(test, target_has_atomic = "64"))]
const MS_TERMS: usize = 4096;

/// Not filled yet: a NaN `ms_term` never returns (its input is finite and non-negative).
#[cfg(target_has_atomic = "64")]
const UNSET: u64 = u64::MAX;

#[cfg(target_has_atomic = "64")]
static MS_TERM_TABLE: [core::sync::atomic::AtomicU64; MS_TERMS] =
    [const { core::sync::atomic::AtomicU64::new(UNSET) }; MS_TERMS];

/// `ln(1 + x) / 16` of a depth in centi-contracts, the depth features' scaling.
#[inline]
fn ln16_centi(centi: u64) -> f64 {
    libm::log1p(centi as f64 / 100.0) / 16.0
}

/// Per-episode memory the observation needs (recent mids, time, average position), and
/// memos of its costly terms (SPEC §8 values are unchanged by them: see `Memo`).
#[derive(Clone, Debug)]
pub struct ObsState {
    mids_x2: [u16; HISTORY],
    len: usize,
    head: usize,
    abs_position_sum: u64,
    steps: u64,
    /// Σ and Σ² of the last [`VOL_WINDOW`] changes of `mids_x2` (exact integers: the
    /// volatility's f64 sums of half-cent changes are exact, so this gives the same bits).
    diff_sum: i64,
    diff_sq_sum: u64,
    /// Memos: YES/NO top depth, YES/NO top-5 depth, queue ahead, time since the event,
    /// forecast age, time to settlement, and the volatility (keyed by its window sums).
    memo: [Memo; 9],
}

const M_TOP_YES: usize = 0;
const M_TOP_NO: usize = 1;
const M_D5_YES: usize = 2;
const M_D5_NO: usize = 3;
const M_QUEUE: usize = 4;
const M_DT: usize = 5;
const M_AGE: usize = 6;
const M_TTS: usize = 7;
const M_VOL: usize = 8;

impl Default for ObsState {
    fn default() -> ObsState {
        ObsState::new()
    }
}

/// The schema's ranges as flat arrays (the clip loop reads them contiguously and vectorises).
const OBS_MIN: [f32; OBS_DIM] = range(false);
const OBS_MAX: [f32; OBS_DIM] = range(true);

const fn range(max: bool) -> [f32; OBS_DIM] {
    let mut a = [0.0; OBS_DIM];
    let mut i = 0;
    while i < OBS_DIM {
        a[i] = if max {
            OBS_FEATURES[i].max
        } else {
            OBS_FEATURES[i].min
        };
        i += 1;
    }
    a
}

/// Clip to `[lo, hi]`, mapping NaN to 0.
#[inline]
fn clip(x: f64, lo: f32, hi: f32) -> f32 {
    let v = x as f32;
    if v.is_nan() { 0.0 } else { v.clamp(lo, hi) }
}

impl ObsState {
    /// Empty memory (start of an episode).
    pub const fn new() -> ObsState {
        ObsState {
            mids_x2: [0; HISTORY],
            len: 0,
            head: 0,
            abs_position_sum: 0,
            steps: 0,
            diff_sum: 0,
            diff_sq_sum: 0,
            memo: [Memo::ZERO; 9],
        }
    }

    fn mid_ago(&self, k: usize) -> Option<u16> {
        if k >= self.len {
            return None;
        }
        Some(self.mids_x2[(self.head + HISTORY - 1 - k) % HISTORY])
    }

    /// Write the observation for `engine` into `out` (length [`OBS_DIM`]) and remember this
    /// event's mid. `progress` is `step / max_steps`; `dt_ms` the time since the previous event.
    pub fn observe<Q: QueueModel>(
        &mut self,
        engine: &Engine<Q>,
        progress: f64,
        dt_ms: i64,
        out: &mut [f32],
    ) {
        self.observe_with_mask(engine, progress, dt_ms, &engine.action_mask(), out);
    }

    /// [`ObsState::observe`] with the engine's current action mask already computed (the
    /// environment computes it once per step for both the observation and the caller), and
    /// no forecast or settlement time.
    pub fn observe_with_mask<Q: QueueModel>(
        &mut self,
        engine: &Engine<Q>,
        progress: f64,
        dt_ms: i64,
        mask: &[bool; crate::action::ACTION_COUNT],
        out: &mut [f32],
    ) {
        self.observe_full(engine, progress, dt_ms, mask, &ObsExtra::NONE, out);
    }

    /// The whole observation: [`ObsState::observe_with_mask`] plus what the host knows
    /// beyond the engine (the latest forecast, the time to settlement).
    pub fn observe_full<Q: QueueModel>(
        &mut self,
        engine: &Engine<Q>,
        progress: f64,
        dt_ms: i64,
        mask: &[bool; crate::action::ACTION_COUNT],
        extra: &ObsExtra,
        out: &mut [f32],
    ) {
        let book = engine.book();
        let last = engine.last_prices();
        let cfg = engine.config();
        let yes_bid = last.bid(book, Side::Yes).cents() as i64;
        let no_bid = last.bid(book, Side::No).cents() as i64;
        let yes_ask = 100 - no_bid;
        let no_ask = 100 - yes_bid;
        let mid_x2 = (yes_bid + yes_ask) as u16;
        // The volatility window: the change into this mid enters, the one 20 changes ago
        // leaves (both still in the ring of the last 32 mids).
        if let Some(prev) = self.mid_ago(0) {
            let d = i64::from(mid_x2) - i64::from(prev);
            self.diff_sum += d;
            self.diff_sq_sum += d.unsigned_abs() * d.unsigned_abs();
            if let (Some(a), Some(b)) = (self.mid_ago(VOL_WINDOW - 1), self.mid_ago(VOL_WINDOW)) {
                let old = i64::from(a) - i64::from(b);
                self.diff_sum -= old;
                self.diff_sq_sum -= old.unsigned_abs() * old.unsigned_abs();
            }
        }
        self.mids_x2[self.head] = mid_x2;
        self.head = (self.head + 1) % HISTORY;
        self.len = (self.len + 1).min(HISTORY);
        let acct = engine.account();
        self.abs_position_sum += acct.position().unsigned_abs();
        self.steps += 1;

        let (top_yes_c, d5_yes_c) = book.top_depths(Side::Yes);
        let (top_no_c, d5_no_c) = book.top_depths(Side::No);
        let top_yes = top_yes_c as f64 / 100.0;
        let top_no = top_no_c as f64 / 100.0;
        let d5_yes = d5_yes_c as f64 / 100.0;
        let d5_no = d5_no_c as f64 / 100.0;
        // Microprice: bid weighted by the ask side's depth and vice versa.
        let micro = if top_yes + top_no > 0.0 {
            (yes_bid as f64 * top_no + yes_ask as f64 * top_yes) / (top_yes + top_no)
        } else {
            mid_x2 as f64 / 2.0
        };
        let imbalance = if d5_yes + d5_no > 0.0 {
            (d5_yes - d5_no) / (d5_yes + d5_no)
        } else {
            0.0
        };
        let change = |k: usize| {
            self.mid_ago(k)
                .map_or(0.0, |m| (mid_x2 as f64 - m as f64) / 2.0)
        };
        let (change_1, change_10) = (change(1), change(10));
        // Σ d and Σ d² of the half-cent changes d = Δmid_x2 / 2, from the exact window sums.
        let n = self.len.saturating_sub(1).min(VOL_WINDOW) as u64;
        let (s1, s2) = (self.diff_sum, self.diff_sq_sum);
        let vol_key = (s2 << 24) | (((s1 + 0x8000) as u64 & 0xffff) << 8) | n;
        let vol = if n > 1 && s2 != 0 {
            self.memo[M_VOL].get(vol_key, || {
                let (sum, sum_sq, n) = (s1 as f64 / 2.0, s2 as f64 / 4.0, n as f64);
                libm::sqrt(((sum_sq - sum * sum / n) / (n - 1.0)).max(0.0))
            })
        } else {
            0.0
        };
        let memo = &mut self.memo;
        let ln_top_yes = memo[M_TOP_YES].get(top_yes_c, || ln16_centi(top_yes_c));
        let ln_top_no = memo[M_TOP_NO].get(top_no_c, || ln16_centi(top_no_c));
        let ln_d5_yes = memo[M_D5_YES].get(d5_yes_c, || ln16_centi(d5_yes_c));
        let ln_d5_no = memo[M_D5_NO].get(d5_no_c, || ln16_centi(d5_no_c));
        let dt = dt_ms.max(0) as u64;
        let ln_dt = memo[M_DT].get(dt, || ms_term(dt));

        let initial = acct.initial_cash().0.max(1) as f64;
        let pv = engine.portfolio_value().0;
        let largest = cfg.sizes.sizes()[4].max(1) as f64;
        let position = acct.position();
        let held_price = match acct.held_side() {
            Some(side) => last.bid(book, side).cents() as f64,
            None => 0.0,
        };
        let exposure_value = position.unsigned_abs() as f64 * held_price;
        let mut capacity = 0.0;
        for tier in crate::action::Tier::ALL {
            if (0..4).any(|k| mask[1 + k * 5 + tier.index()]) {
                capacity = cfg.sizes.size(tier).0 as f64 / largest;
            }
        }

        let vals: [f64; OBS_DIM] = [
            yes_bid as f64 / 100.0,
            yes_ask as f64 / 100.0,
            no_bid as f64 / 100.0,
            no_ask as f64 / 100.0,
            mid_x2 as f64 / 200.0,
            (yes_ask - yes_bid) as f64 / 100.0,
            micro / 100.0,
            ln_top_yes,
            ln_top_no,
            ln_d5_yes,
            ln_d5_no,
            imbalance,
            change_1 / 10.0,
            change_10 / 20.0,
            vol / 5.0,
            ln_dt,
            progress,
            book.best_bid(Side::Yes).is_some() as u8 as f64,
            book.best_bid(Side::No).is_some() as u8 as f64,
            position as f64 / cfg.limits.max_position_per_market.max(1) as f64,
            acct.cash().0 as f64 / initial,
            pv as f64 / initial - 1.0,
            engine.unrealized_pnl().0 as f64 / initial * 10.0,
            if pv > 0 {
                exposure_value / pv as f64
            } else {
                1.0
            },
            position.unsigned_abs() as f64 / largest,
            self.abs_position_sum as f64 / self.steps as f64 / largest,
            capacity,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
        ];
        let out = &mut out[..OBS_DIM];
        for i in 0..OBS_DIM {
            // `clip` (the same compares as `f32::clamp`, so signed zeros keep their bits).
            let v = vals[i] as f32;
            let c = if v < OBS_MIN[i] { OBS_MIN[i] } else { v };
            let c = if c > OBS_MAX[i] { OBS_MAX[i] } else { c };
            out[i] = if v.is_nan() { 0.0 } else { c };
        }
        if let Some(w) = engine.working_order() {
            let yes_price = w.plan.yes_book_price().cents() as f64;
            out[27] = 1.0;
            out[28] = match w.plan.buys {
                Side::Yes => 1.0,
                Side::No => -1.0,
            };
            out[29] = clip((yes_price - mid_x2 as f64 / 2.0) / 100.0, -1.0, 1.0);
            let q = w.queue_ahead_centi;
            out[30] = clip(self.memo[M_QUEUE].get(q, || ln16_centi(q)), 0.0, 1.0);
            out[31] = clip(w.remaining as f64 / largest, 0.0, 1.0);
        }
        if let Some(fc) = extra.forecast {
            let p = fc.p_yes_ppm.min(1_000_000) as f64 / 1e6;
            out[32] = 1.0;
            out[33] = clip(p, 0.0, 1.0);
            out[34] = clip(p - yes_ask as f64 / 100.0, -1.0, 1.0);
            out[35] = clip((1.0 - p) - no_ask as f64 / 100.0, -1.0, 1.0);
            out[36] = clip(fc.stderr_ppm as f64 / 1e6, 0.0, 1.0);
            let age = fc.age_ms.max(0) as u64;
            let ln_age = self.memo[M_AGE].get(age, || ms_term(age));
            out[37] = clip(ln_age, 0.0, 1.0);
        }
        if let Some(t) = extra.time_to_settlement_ms {
            out[38] = 1.0;
            let t = t.max(0) as u64;
            let ln_t = self.memo[M_TTS].get(t, || libm::log1p(t as f64 / 1000.0) / 16.0);
            out[39] = clip(ln_t, 0.0, 1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::units::{CentiContracts, Price};
    use crate::{Engine, EngineConfig};

    /// The volatility as the schema defines it: the sample std of the last 20 one-event
    /// changes, summed directly from the ring of mids (the pre-incremental code).
    fn direct_volatility(s: &ObsState) -> f64 {
        let (mut sum, mut sum_sq, mut n) = (0.0, 0.0, 0.0);
        for k in 0..VOL_WINDOW {
            if let (Some(a), Some(b)) = (s.mid_ago(k), s.mid_ago(k + 1)) {
                let d = (a as f64 - b as f64) / 2.0;
                sum += d;
                sum_sq += d * d;
                n += 1.0;
            }
        }
        if n > 1.0 {
            libm::sqrt(((sum_sq - sum * sum / n) / (n - 1.0)).max(0.0))
        } else {
            0.0
        }
    }

    fn ln16(x: f64) -> f64 {
        libm::log1p(x.max(0.0)) / 16.0
    }

    /// The incremental window sums, the one-walk depths and the memos give the bits of the
    /// direct formulas, on a random walk of the book with trades, over several episodes.
    #[test]
    fn the_shared_time_table_has_the_bits_of_the_formula() {
        // Twice: the first pass fills the table, the second reads it; past its end the
        // formula is computed each time.
        for _ in 0..2 {
            for ms in (0..MS_TERMS as u64 + 50).chain([10_000, 3_600_000, u32::MAX as u64]) {
                let want = libm::log1p(ms as f64 / 1000.0) / 10.0;
                assert_eq!(ms_term(ms).to_bits(), want.to_bits(), "{ms} ms");
            }
        }
    }

    #[test]
    fn incremental_features_equal_the_direct_formulas() {
        let mut rng = Rng::new(5);
        let mut out = [0.0f32; OBS_DIM];
        for episode in 0..6 {
            let mut e: Engine = Engine::new(EngineConfig::default(), episode);
            let lvl = |p: u8, n: u64| (Price::new(p).unwrap(), CentiContracts(n));
            e.apply_snapshot(
                &[lvl(40, 5_000), lvl(38, 9_000)],
                &[lvl(55, 4_000), lvl(50, 700)],
            )
            .unwrap();
            let mut state = ObsState::new();
            for step in 0..600u64 {
                let side = if rng.below(2) == 0 {
                    Side::Yes
                } else {
                    Side::No
                };
                let price = Price::new(20 + rng.below(40) as u8).unwrap();
                let _ = e.apply_delta(side, price, rng.below(6_000) as i64 - 2_500);
                if rng.below(4) == 0 {
                    let mask = e.action_mask();
                    let a = rng.below(21) as u32;
                    if mask[a as usize] {
                        e.step_action(a).unwrap();
                    }
                }
                let extra = ObsExtra {
                    forecast: (step % 3 == 0).then_some(ForecastView {
                        p_yes_ppm: 400_000,
                        stderr_ppm: 20_000,
                        age_ms: (step / 7 * 250) as i64,
                    }),
                    time_to_settlement_ms: Some(1_000_000 - (step / 2) as i64 * 100),
                };
                let dt = (rng.below(3) * 40) as i64;
                state.observe_full(&e, 0.5, dt, &e.action_mask(), &extra, &mut out);
                let book = e.book();
                let want = [
                    (7, ln16(book.top_depth(Side::Yes, 1) as f64 / 100.0)),
                    (8, ln16(book.top_depth(Side::No, 1) as f64 / 100.0)),
                    (9, ln16(book.top_depth(Side::Yes, 5) as f64 / 100.0)),
                    (10, ln16(book.top_depth(Side::No, 5) as f64 / 100.0)),
                    (14, direct_volatility(&state) / 5.0),
                    (15, libm::log1p(dt as f64 / 1000.0) / 10.0),
                ];
                for (i, v) in want {
                    assert_eq!(
                        out[i].to_bits(),
                        clip(v, 0.0, 1.0).to_bits(),
                        "feature {i}, step {step}"
                    );
                }
                if let Some(fc) = extra.forecast {
                    let v = libm::log1p(fc.age_ms as f64 / 1000.0) / 10.0;
                    assert_eq!(
                        out[37].to_bits(),
                        clip(v, 0.0, 1.0).to_bits(),
                        "age, step {step}"
                    );
                }
                let t = extra.time_to_settlement_ms.unwrap();
                let v = libm::log1p(t as f64 / 1000.0) / 16.0;
                assert_eq!(
                    out[39].to_bits(),
                    clip(v, 0.0, 1.0).to_bits(),
                    "tts, step {step}"
                );
                if let Some(w) = e.working_order() {
                    let v = ln16(w.queue_ahead_centi as f64 / 100.0);
                    assert_eq!(
                        out[30].to_bits(),
                        clip(v, 0.0, 1.0).to_bits(),
                        "queue, step {step}"
                    );
                }
            }
        }
    }
}
