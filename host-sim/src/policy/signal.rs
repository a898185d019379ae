//! Observation features by name, and the order-book signal the baselines trade on.

use kalsim_core::{OBS_DIM, OBS_FEATURES};

/// Index of the feature named `name` in the published observation schema.
pub fn feature_index(name: &str) -> Option<usize> {
    OBS_FEATURES.iter().position(|f| f.name == name)
}

/// The indices of the features the baselines read, resolved once by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObsIndex {
    /// Best YES bid / 100.
    pub yes_bid: usize,
    /// Best YES ask / 100.
    pub yes_ask: usize,
    /// Best NO bid / 100.
    pub no_bid: usize,
    /// Best NO ask / 100.
    pub no_ask: usize,
    /// YES mid / 100.
    pub mid: usize,
    /// YES spread / 100.
    pub spread: usize,
    /// Depth-weighted YES top-of-book price / 100.
    pub microprice: usize,
    /// Top-5 depth imbalance in −1..=1 (+ = YES bids heavier).
    pub imbalance: usize,
    /// Signed position / max position per market.
    pub position: usize,
    /// |position| / largest size tier.
    pub position_size: usize,
    /// PV / initial cash − 1.
    pub pv_return: usize,
}

impl ObsIndex {
    /// Resolve every index from [`OBS_FEATURES`]. Panics only if the core's schema lost one of
    /// these features, which a unit test pins.
    pub fn resolve() -> ObsIndex {
        let ix = |name: &str| {
            feature_index(name)
                .unwrap_or_else(|| panic!("observation schema has no feature {name:?}"))
        };
        ObsIndex {
            yes_bid: ix("yes_bid"),
            yes_ask: ix("yes_ask"),
            no_bid: ix("no_bid"),
            no_ask: ix("no_ask"),
            mid: ix("mid"),
            spread: ix("spread"),
            microprice: ix("microprice"),
            imbalance: ix("imbalance"),
            position: ix("position"),
            position_size: ix("position_size"),
            pv_return: ix("pv_return"),
        }
    }

    /// Feature `i` of `obs`, 0 when the vector is too short or the value is not finite.
    pub fn get(obs: &[f32], i: usize) -> f64 {
        match obs.get(i) {
            Some(v) if v.is_finite() => *v as f64,
            _ => 0.0,
        }
    }
}

impl Default for ObsIndex {
    fn default() -> Self {
        ObsIndex::resolve()
    }
}

/// The book signal: half top-5 depth imbalance, half microprice offset from the mid in units
/// of the half-spread, each clamped to −1..=1, so the signal is in −1..=1 and positive means
/// "YES is under-priced". The synthetic generator (SPEC §10) shows imbalance
/// `s·tanh(25·(p − mid))`, so both parts lean toward the latent probability `p`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BookSignal {
    /// Signal in −1..=1.
    pub value: f64,
    /// YES mid, probability units.
    pub mid: f64,
}

impl BookSignal {
    /// Read the signal off an observation (length [`OBS_DIM`]; anything else gives 0).
    pub fn read(ix: &ObsIndex, obs: &[f32]) -> BookSignal {
        if obs.len() != OBS_DIM {
            return BookSignal {
                value: 0.0,
                mid: 0.5,
            };
        }
        let mid = ObsIndex::get(obs, ix.mid);
        let imbalance = ObsIndex::get(obs, ix.imbalance).clamp(-1.0, 1.0);
        let half_spread = (ObsIndex::get(obs, ix.spread) / 2.0).max(0.005);
        let micro = ObsIndex::get(obs, ix.microprice);
        let micro_offset = ((micro - mid) / half_spread).clamp(-1.0, 1.0);
        BookSignal {
            value: 0.5 * imbalance + 0.5 * micro_offset,
            mid,
        }
    }
}

/// The holding read from an observation: signed contracts (+YES / −NO).
pub(crate) fn holding_contracts(ix: &ObsIndex, obs: &[f32], largest_tier: u32) -> i64 {
    let size = ObsIndex::get(obs, ix.position_size) * largest_tier as f64;
    let size = size.round() as i64;
    let sign = ObsIndex::get(obs, ix.position);
    if sign < 0.0 { -size } else { size }
}

/// An exponential moving average of the book signal over the steps of an episode.
///
/// The synthetic books carry the information persistently but the noise afresh every event,
/// so a short average raises the signal-to-noise ratio. A new episode is detected from the
/// `episode_progress` feature going back (it is 0 after every reset), which restarts the
/// average; `decay = 0` disables the smoothing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SignalFilter {
    /// Weight of the previous average, 0..1.
    pub decay: f64,
    progress_ix: usize,
    last_progress: f64,
    ema: Option<f64>,
}

impl SignalFilter {
    /// A filter with the given decay.
    pub fn new(decay: f64) -> SignalFilter {
        SignalFilter {
            decay: decay.clamp(0.0, 0.999),
            progress_ix: feature_index("episode_progress").unwrap_or(usize::MAX),
            last_progress: f64::INFINITY,
            ema: None,
        }
    }

    /// Feed the raw signal of this observation, get the smoothed one.
    pub fn update(&mut self, obs: &[f32], raw: f64) -> f64 {
        let progress = ObsIndex::get(obs, self.progress_ix);
        if progress < self.last_progress {
            self.ema = None;
        }
        self.last_progress = progress;
        let v = match self.ema {
            Some(prev) => self.decay * prev + (1.0 - self.decay) * raw,
            None => raw,
        };
        self.ema = Some(v);
        v
    }
}
