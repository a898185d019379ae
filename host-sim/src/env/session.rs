//! [`MarketSession`]: one market as a decision-maker sees it — the core engine, the
//! observation's memory, the exchange clock, the forecast known so far and the episode
//! horizon. The environment's step (replay) and the live actor both drive one per market,
//! so what a policy observes and how its decision is counted is defined once (SPEC §7, §8).
//!
//! The order of one decision, in both front-ends:
//!
//! 1. book events are applied ([`MarketSession::apply_snapshot`],
//!    [`MarketSession::apply_delta`], [`MarketSession::apply_tape_event`]), each moving the
//!    clock to its exchange timestamp when it carries one;
//! 2. [`MarketSession::observe`] writes the observation of the state now: the mask first,
//!    then the features built with it, with progress `decisions / horizon` and the time
//!    feature the exchange time elapsed since the previous decision;
//! 3. [`MarketSession::begin_decision`] (or [`MarketSession::act`]) counts the decision and
//!    starts its clock; the action is executed on the engine.

use kalsim_core::{
    ACTION_COUNT, BookError, CentiContracts, Engine, EventOutcome, ForecastView, ObsExtra,
    ObsState, Price, Side, StepError, StepOutcome,
};

use crate::data::{Forecast, MarketTape, TapeEvent};

/// One market's engine, observation state, clock and horizon (see the module docs).
#[derive(Clone, Debug)]
pub struct MarketSession {
    engine: Engine,
    obs: ObsState,
    /// Decisions in the episode (the denominator of progress); 0 when unknown (live).
    horizon: u32,
    /// Decisions taken so far.
    decisions: u32,
    /// The latest exchange timestamp seen, ms.
    last_ts: Option<i64>,
    /// `last_ts` when the previous decision was taken.
    decision_ts: Option<i64>,
    /// Exchange time now (the last known one), ms: forecast age, time to settlement.
    now_ms: i64,
    /// The latest forecast known, and the exchange time it became known.
    forecast: Option<(Forecast, i64)>,
    /// When the market settles, exchange ms, if known.
    close_ts_ms: Option<i64>,
    mask: [bool; ACTION_COUNT],
}

impl MarketSession {
    /// A session over `engine` with `horizon` decisions (0 = unknown: progress stays 0).
    pub fn new(engine: Engine, horizon: u32) -> MarketSession {
        let mask = engine.action_mask();
        MarketSession {
            engine,
            obs: ObsState::new(),
            horizon,
            decisions: 0,
            last_ts: None,
            decision_ts: None,
            now_ms: 0,
            forecast: None,
            close_ts_ms: None,
            mask,
        }
    }

    /// A session at the start of `tape`: the clock at its first timestamp, its settlement
    /// time known, and its first event not yet applied.
    pub fn for_tape(engine: Engine, horizon: u32, tape: &MarketTape) -> MarketSession {
        let mut s = MarketSession::new(engine, horizon);
        s.last_ts = tape.events.first().and_then(|e| e.ts_ms);
        s.now_ms = MarketSession::start_ms(tape);
        s.close_ts_ms = tape.close_ts_ms;
        s
    }

    /// The exchange time a session over `tape` starts at: its first timestamp (events
    /// before it carry none), 0 when it has none.
    pub fn start_ms(tape: &MarketTape) -> i64 {
        tape.events.iter().find_map(|e| e.ts_ms).unwrap_or(0)
    }

    /// The core engine (book, account, orders).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The core engine, mutably (to execute a decision, settle, cancel).
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// Decisions taken so far.
    pub const fn decisions(&self) -> u32 {
        self.decisions
    }

    /// The horizon of `progress` (0 = unknown).
    pub const fn horizon(&self) -> u32 {
        self.horizon
    }

    /// Exchange time now (the last known one), ms.
    pub const fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// The latest forecast known, if any.
    pub fn forecast(&self) -> Option<Forecast> {
        self.forecast.map(|f| f.0)
    }

    /// The mask of the last [`observe`](Self::observe).
    pub const fn mask(&self) -> &[bool; ACTION_COUNT] {
        &self.mask
    }

    /// Move the clock to an event's exchange time (events without one keep the last).
    pub fn note_time(&mut self, ts_ms: Option<i64>) {
        if let Some(t) = ts_ms {
            self.last_ts = Some(t);
            self.now_ms = t;
        }
    }

    /// The market's settlement time became known (or moved), exchange ms.
    pub fn set_close_ts_ms(&mut self, close_ts_ms: Option<i64>) {
        self.close_ts_ms = close_ts_ms;
    }

    /// A forecast became known at exchange time `known_ms` (SPEC §10).
    pub fn set_forecast(&mut self, forecast: Forecast, known_ms: i64) {
        self.forecast = Some((forecast, known_ms));
    }

    /// Replace the book with a snapshot at exchange time `ts_ms`.
    pub fn apply_snapshot(
        &mut self,
        yes: &[(Price, CentiContracts)],
        no: &[(Price, CentiContracts)],
        ts_ms: Option<i64>,
    ) -> Result<EventOutcome, BookError> {
        let out = self.engine.apply_snapshot(yes, no)?;
        self.note_time(ts_ms);
        Ok(out)
    }

    /// Apply a depth change at exchange time `ts_ms`.
    pub fn apply_delta(
        &mut self,
        side: Side,
        price: Price,
        delta_centi: i64,
        ts_ms: Option<i64>,
    ) -> Result<EventOutcome, BookError> {
        let out = self.engine.apply_delta(side, price, delta_centi)?;
        self.note_time(ts_ms);
        Ok(out)
    }

    /// Apply one event of `tape` (its levels live in the tape).
    pub fn apply_tape_event(
        &mut self,
        tape: &MarketTape,
        event: &TapeEvent,
    ) -> Result<EventOutcome, BookError> {
        let out = tape.apply_to_engine(event, &mut self.engine)?;
        self.note_time(event.ts_ms);
        Ok(out)
    }

    /// Exchange time since the previous decision, ms (0 before the first, or while either
    /// end has no timestamp).
    pub fn dt_ms(&self) -> i64 {
        match (self.decision_ts, self.last_ts) {
            (Some(a), Some(b)) => b - a,
            _ => 0,
        }
    }

    /// Progress through the episode, in `[0, 1]` (0 when the horizon is unknown).
    pub fn progress(&self) -> f64 {
        if self.horizon == 0 {
            return 0.0;
        }
        (f64::from(self.decisions) / f64::from(self.horizon)).min(1.0)
    }

    /// Write the observation of the state now (SPEC §8) into `obs` (length [`OBS_DIM`](kalsim_core::OBS_DIM))
    /// and remember its mask.
    pub fn observe(&mut self, obs: &mut [f32]) -> &[bool; ACTION_COUNT] {
        let dt = self.dt_ms();
        self.observe_with_dt(dt, obs)
    }

    /// [`observe`](Self::observe) with the time feature given by the caller (a live feed
    /// without exchange timestamps measures it on its own clock).
    pub fn observe_with_dt(&mut self, dt_ms: i64, obs: &mut [f32]) -> &[bool; ACTION_COUNT] {
        self.mask = self.engine.action_mask();
        let extra = ObsExtra {
            forecast: self.forecast.map(|(f, known)| ForecastView {
                p_yes_ppm: f.p_yes_ppm,
                stderr_ppm: f.stderr_ppm,
                age_ms: self.now_ms.saturating_sub(known),
            }),
            time_to_settlement_ms: self.close_ts_ms.map(|c| c.saturating_sub(self.now_ms)),
        };
        let progress = self.progress();
        self.obs
            .observe_full(&self.engine, progress, dt_ms, &self.mask, &extra, obs);
        &self.mask
    }

    /// Count a decision taken now and start its clock (the action is executed by the
    /// caller, now or later).
    pub fn begin_decision(&mut self) {
        self.engine.begin_step();
        self.decisions = self.decisions.saturating_add(1);
        self.decision_ts = self.last_ts;
    }

    /// Take `action` now on the book: count the decision and execute it (SPEC §3, §6).
    pub fn act(&mut self, action: u32) -> Result<StepOutcome, StepError> {
        let out = self.engine.step_action(action)?;
        self.begin_decision();
        Ok(out)
    }
}
