//! One environment: one market per episode, Gymnasium semantics.

use std::fmt;

use kalsim_core::{
    ACTION_COUNT, BookError, Engine, EngineConfig, InvalidAction, OBS_DIM, OrderPlan, Rng, Side,
    SizingMetrics, StepError, Tier,
};
use serde::Serialize;

use super::config::DecisionInterval;
use super::session::MarketSession;
use super::{EnvConfig, Markets};
use crate::data::MarketTape;

/// The `info` of SPEC §7, flat and `Copy` so every front-end can carry it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct StepInfo {
    /// Steps taken this episode.
    pub step: u32,
    /// Index of the market in the dataset.
    pub market_index: u32,
    /// Index of the current event in the market's tape.
    pub event_index: u32,
    /// Cash, cents.
    pub cash_cents: i64,
    /// Signed position (+YES / −NO), contracts.
    pub position: i64,
    /// Portfolio value, cents.
    pub portfolio_value_cents: i64,
    /// Fees paid this episode, cents.
    pub fees_paid_cents: i64,
    /// Realised P&L gross of fees, cents.
    pub realized_pnl_cents: i64,
    /// Intent of the last order placed (0 = none, 1..=4 as the codec).
    pub last_order_intent: u8,
    /// Tier index of the last order (0..=4), 255 when none.
    pub last_order_tier: u8,
    /// Size of the last order placed, contracts (`last_order_size`, plan §9).
    pub last_order_size: u32,
    /// Limit price of the last order in its intent's contract, cents.
    pub last_order_limit_cents: u8,
    /// Contracts of the last order filled so far.
    pub last_order_filled: u32,
    /// Average fill price of the last order in its intent's contract, cents (0 if unfilled).
    pub last_order_avg_fill_price: f64,
    /// Why this step's action ran as HOLD: 0 none, 1..=7 limit rules, 8 reserved (see `invalid_action_name`).
    pub invalid_action: u8,
    /// Contracts filled during this step (taker and resting).
    pub filled_this_step: u32,
    /// Fees charged during this step, cents.
    pub fee_this_step_cents: i64,
    /// Remaining contracts of the working order, 0 when none.
    pub working_order_remaining: u32,
    /// 0 not settled, 1 settled YES, 2 settled NO.
    pub settled: u8,
}

/// Name of an `invalid_action` code: `none`, a limit rule, or `reserved` (the core's
/// definition, [`kalsim_core::invalid_action_name`]).
pub use kalsim_core::invalid_action_name;

/// What `step` returns besides the observation (written to the caller's buffer).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StepResult {
    /// `(PV_{t+1} − PV_t) × reward_scale`.
    pub reward: f64,
    /// The market settled, or PV fell to zero or below.
    pub terminated: bool,
    /// The data ended without a result, or `max_steps` was reached.
    pub truncated: bool,
    /// SPEC §7 info.
    pub info: StepInfo,
}

/// Why the environment could not do what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvError {
    /// `step` before the first `reset`.
    NotReset,
    /// `step` after the episode ended, without `reset`.
    EpisodeOver,
    /// The action could not be executed (out of range, or masked in strict mode).
    Step(StepError),
    /// The dataset holds no market.
    NoMarkets,
    /// A tape event was rejected by the book.
    Data {
        /// Market ticker.
        ticker: String,
        /// Event index in its tape.
        event: usize,
        /// The book's reason.
        error: BookError,
    },
    /// The configuration needs exchange timestamps (`decision_interval = { ms }` or
    /// `order_latency_ms > 0`) but this market's data carries none.
    NoTimestamps {
        /// Market ticker.
        ticker: String,
    },
    /// A caller's buffer has the wrong length.
    Buffer {
        /// Which buffer.
        name: &'static str,
        /// Required length.
        expected: usize,
        /// Given length.
        got: usize,
    },
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvError::NotReset => f.write_str("step called before reset"),
            EnvError::EpisodeOver => f.write_str("step called after the episode ended; call reset"),
            EnvError::Step(e) => write!(f, "{e}"),
            EnvError::NoMarkets => f.write_str("the dataset holds no market"),
            EnvError::Data {
                ticker,
                event,
                error,
            } => write!(f, "market {ticker}, event {event}: {error}"),
            EnvError::NoTimestamps { ticker } => write!(
                f,
                "market {ticker} carries no exchange timestamps, which decision_interval.ms \
                 and order_latency_ms need"
            ),
            EnvError::Buffer {
                name,
                expected,
                got,
            } => {
                write!(f, "buffer {name} has length {got}, expected {expected}")
            }
        }
    }
}

impl std::error::Error for EnvError {}

impl From<StepError> for EnvError {
    fn from(e: StepError) -> Self {
        EnvError::Step(e)
    }
}

/// Orders in flight at once under `order_latency_ms`; beyond it the oldest is superseded.
const MAX_IN_FLIGHT: usize = 32;

/// An order decided at one event that reaches the book later (`order_latency_ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct InFlight {
    plan: OrderPlan,
    tier: Tier,
    /// Exchange time at which it reaches the book, ms.
    arrives_ms: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Fresh,
    Running,
    Done,
}

/// One kalsim environment.
#[derive(Clone, Debug)]
pub struct Env {
    config: EnvConfig,
    engine_config: EngineConfig,
    markets: Markets,
    maker_fee_market: Vec<bool>,
    order: Vec<u32>,
    base_seed: u64,
    episode: u64,
    /// The market of this episode: engine, observation state, clock, horizon, forecast.
    session: MarketSession,
    metrics: SizingMetrics,
    market: usize,
    event: usize,
    pv: i64,
    phase: Phase,
    order_counted: bool,
    settled: u8,
    /// Orders decided but not yet at the book, oldest first (capacity reserved once).
    in_flight: Vec<InFlight>,
    /// Orders dropped this episode: superseded in flight, or failing the limits on arrival.
    dropped_orders: u32,
    /// Index of the next forecast of the tape not yet known.
    next_forecast: usize,
}

impl Env {
    /// An environment over `markets` (not yet reset).
    pub fn new(
        config: EnvConfig,
        markets: Markets,
    ) -> Result<Env, Box<dyn std::error::Error + Send + Sync>> {
        let engine_config = config.engine_config()?;
        if markets.is_empty() {
            return Err(Box::new(EnvError::NoMarkets));
        }
        let maker_fee_market = markets
            .iter()
            .map(|m| config.fees.maker_fee_markets.contains(&m.ticker))
            .collect();
        let order = (0..markets.len() as u32).collect();
        let needs_time = matches!(config.decision_interval, DecisionInterval::Ms(_))
            || config.order_latency_ms > 0;
        if needs_time
            && let Some(m) = markets
                .iter()
                .find(|m| m.events.iter().all(|e| e.ts_ms.is_none()))
        {
            return Err(Box::new(EnvError::NoTimestamps {
                ticker: m.ticker.clone(),
            }));
        }
        // Before the first reset the empty book allows HOLD only (SPEC §6: HOLD always).
        let session = MarketSession::new(Engine::new(engine_config, 0), 1);
        Ok(Env {
            session,
            config,
            engine_config,
            markets,
            maker_fee_market,
            order,
            base_seed: 0,
            episode: 0,
            metrics: SizingMetrics::new(0),
            market: 0,
            event: 0,
            pv: 0,
            phase: Phase::Fresh,
            order_counted: false,
            settled: 0,
            in_flight: Vec::with_capacity(MAX_IN_FLIGHT),
            dropped_orders: 0,
            next_forecast: 0,
        })
    }

    /// The generator's latent probability of YES at the current event, in [0, 1]: only for
    /// synthetic markets, and only for the `oracle` reference policy (SPEC §10). It is never
    /// part of the observation or the reward.
    pub fn latent_probability(&self) -> Option<f64> {
        self.markets[self.market]
            .latent_ppm
            .get(self.event)
            .map(|&p| p as f64 / 1e6)
    }

    /// The latest forecast known at the current event (SPEC §10), if any.
    pub fn forecast(&self) -> Option<crate::data::Forecast> {
        self.session.forecast()
    }

    /// Make the tape's forecasts up to the current event known, then write the observation.
    fn observe(&mut self, obs: &mut [f32]) {
        let tape = &self.markets[self.market];
        while let Some(f) = tape.forecasts.get(self.next_forecast) {
            if f.event as usize > self.event {
                break;
            }
            let known = f.ts_ms.unwrap_or(self.session.now_ms());
            self.session.set_forecast(*f, known);
            self.next_forecast += 1;
        }
        self.session.observe(obs);
    }

    /// Orders dropped this episode under `order_latency_ms`: superseded while in flight
    /// (more than 32 at once) or failing the limits when they reached the book.
    pub const fn dropped_orders(&self) -> u32 {
        self.dropped_orders
    }

    /// Decisions in an episode over `tape` (the horizon of `episode_progress`).
    fn decisions_in(&self, tape: &MarketTape) -> u32 {
        let len = tape.events.len();
        if len < 2 {
            return 1;
        }
        if let DecisionInterval::Events(k) = self.config.decision_interval {
            return ((len - 1).div_ceil(k.max(1) as usize)) as u32;
        }
        let mut count = 0u32;
        let mut at = 0usize;
        // The clock the steps run on: the tape's first timestamp, as the session starts it.
        let mut ts = MarketSession::start_ms(tape);
        while at + 1 < len {
            let (next, next_ts) = next_decision(&self.config.decision_interval, tape, at, ts);
            at = next;
            ts = next_ts;
            count += 1;
        }
        count.max(1)
    }

    /// Length of the observation vector.
    pub const fn obs_dim(&self) -> usize {
        OBS_DIM
    }
    /// The configuration.
    pub fn config(&self) -> &EnvConfig {
        &self.config
    }
    /// The markets.
    pub fn markets(&self) -> &Markets {
        &self.markets
    }
    /// The core engine (book, account, orders).
    pub fn engine(&self) -> &Engine {
        self.session.engine()
    }
    /// The market session of this episode (engine, observation state, clock, horizon).
    pub fn session(&self) -> &MarketSession {
        &self.session
    }
    /// This episode's sizing metrics so far.
    pub fn metrics(&self) -> &SizingMetrics {
        &self.metrics
    }
    /// The market of the current episode.
    pub fn market(&self) -> &MarketTape {
        &self.markets[self.market]
    }
    /// Episodes started since the last seeded reset.
    pub const fn episode(&self) -> u64 {
        self.episode
    }
    /// True after the episode ended and before the next reset.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Gymnasium `reset`: with a seed, reseed and restart the market cycle; without, go on to
    /// the next market. Writes the first observation and returns the info.
    pub fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<StepInfo, EnvError> {
        check_len("obs", obs.len(), OBS_DIM)?;
        match seed {
            Some(s) => {
                self.base_seed = s;
                self.episode = 0;
                // The market order is a seeded Fisher–Yates shuffle.
                let mut rng = Rng::derive(s, 0x6d61_726b_6574);
                self.order = (0..self.markets.len() as u32).collect();
                for i in (1..self.order.len()).rev() {
                    let j = rng.below(i as u64 + 1) as usize;
                    self.order.swap(i, j);
                }
            }
            None if self.phase == Phase::Fresh => {}
            None => self.episode += 1,
        }
        self.market = self.order[(self.episode % self.order.len() as u64) as usize] as usize;
        let mut cfg = self.engine_config;
        if self.maker_fee_market[self.market] {
            cfg.fees.maker_fees = true;
        }
        let engine = Engine::new(
            cfg,
            Rng::derive(self.base_seed, self.episode + 1).next_u64(),
        );
        self.event = 0;
        self.order_counted = false;
        self.settled = 0;
        self.in_flight.clear();
        self.dropped_orders = 0;
        let markets = self.markets.clone();
        let tape = &markets[self.market];
        let decisions = self.decisions_in(tape);
        let horizon = if self.config.max_steps > 0 {
            self.config.max_steps.min(decisions)
        } else {
            decisions
        }
        .max(1);
        self.session = MarketSession::for_tape(engine, horizon, tape);
        self.apply_event(0)?;
        self.pv = self.session.engine().portfolio_value().0;
        self.metrics = SizingMetrics::new(self.pv);
        self.phase = Phase::Running;
        self.next_forecast = 0;
        self.observe(obs);
        Ok(self.info(None, 0, 0))
    }

    /// The action mask of SPEC §6 (HOLD always, reserved never).
    pub fn action_mask(&self) -> [bool; ACTION_COUNT] {
        *self.session.mask()
    }

    /// Write the mask as bytes (1 = allowed).
    pub fn action_mask_into(&self, out: &mut [u8]) {
        for (o, m) in out.iter_mut().zip(*self.session.mask()) {
            *o = m as u8;
        }
    }

    /// Gymnasium `step` (SPEC §7): act on the book at the current event, advance the data to
    /// the next decision point (`decision_interval`), matching the working order and
    /// delivering orders in flight (`order_latency_ms`) at every event on the way; settle or
    /// truncate at the end, and write the next observation. The reward is the PV change over
    /// the whole interval.
    pub fn step(&mut self, action: u32, obs: &mut [f32]) -> Result<StepResult, EnvError> {
        check_len("obs", obs.len(), OBS_DIM)?;
        match self.phase {
            Phase::Fresh => return Err(EnvError::NotReset),
            Phase::Done => return Err(EnvError::EpisodeOver),
            Phase::Running => {}
        }
        // The tier of the order this decision sends (SPEC §9 counts a trade's tier when it is
        // placed; an order in flight is placed now and fills, if ever, when it arrives).
        let (outcome, traded_tier, mut filled, mut fee) = if self.config.order_latency_ms == 0 {
            let o = self.session.act(action)?;
            if o.placed.is_some() {
                self.order_counted = o.filled > 0;
            }
            (o, o.placed.map(|p| p.tier as u8), o.filled, o.fee_cents)
        } else {
            let (o, tier) = self.submit_later(action)?;
            (o, tier.map(|t| t as u8), 0, 0)
        };
        let mut terminated = false;
        let mut truncated = false;
        // Short borrows of the tape, no `Arc` clone: every env of a VecEnv shares the same
        // markets, and a refcount touched by every step of every thread is one cache line
        // bouncing between the cores.
        let len = self.markets[self.market].events.len();
        let result = self.markets[self.market].result;
        let (target, _) = next_decision(
            &self.config.decision_interval,
            &self.markets[self.market],
            self.event,
            self.session.now_ms(),
        );
        while self.event + 1 < len && self.event < target {
            let next = self.event + 1;
            let ev = self.apply_event(next)?;
            filled += ev.filled;
            fee += ev.fee_cents;
            self.count_resting_fill(ev.filled);
            self.event = next;
            let (f, c) = self.deliver_arrived();
            filled += f;
            fee += c;
        }
        if self.event + 1 >= len {
            match result {
                Some(result) => {
                    self.session.engine_mut().settle(result);
                    self.in_flight.clear();
                    self.settled = if result == Side::Yes { 1 } else { 2 };
                    terminated = true;
                }
                None => truncated = true,
            }
        }
        if self.config.max_steps > 0 && self.session.decisions() >= self.config.max_steps {
            truncated = !terminated;
        }
        let pv = self.session.engine().portfolio_value().0;
        if pv <= 0 {
            terminated = true;
            truncated = false;
        }
        let reward = (pv - self.pv) as f64 * self.config.reward_scale;
        self.pv = pv;
        let engine = self.session.engine();
        let acct = engine.account();
        let net = acct.realized_pnl().0 - acct.fees_paid().0;
        self.metrics.record(
            outcome.action,
            traded_tier,
            outcome.filled > 0,
            outcome.invalid.is_some(),
            acct.position(),
            net,
            acct.fees_paid().0,
            pv,
        );
        if terminated || truncated {
            self.metrics.finish(net, engine.unrealized_pnl().0);
            self.phase = Phase::Done;
        }
        self.observe(obs);
        Ok(StepResult {
            reward,
            terminated,
            truncated,
            info: self.info(outcome.invalid, filled, fee),
        })
    }

    /// A resting order's first fill counts the order in the tier metrics once.
    fn count_resting_fill(&mut self, filled: u32) {
        if filled > 0 && !self.order_counted {
            self.order_counted = true;
            if let Some(o) = self.session.engine().last_order() {
                self.metrics.record_resting_fill(o.tier as u8);
            }
        }
    }

    /// Decide now, reach the book later (`order_latency_ms`): the action is checked against
    /// the state now (mask, limits at the limit price of now) and its plan goes in flight.
    /// Returns the decision's outcome and the tier of the order sent, if one was.
    fn submit_later(
        &mut self,
        action: u32,
    ) -> Result<(kalsim_core::StepOutcome, Option<Tier>), EnvError> {
        let (outcome, planned) = self.session.engine_mut().decide(action)?;
        self.session.begin_decision();
        let sent = planned.map(|(_, tier)| tier);
        if let Some((plan, tier)) = planned {
            if self.in_flight.len() == MAX_IN_FLIGHT {
                self.in_flight.remove(0);
                self.dropped_orders += 1;
            }
            self.in_flight.push(InFlight {
                plan,
                tier,
                arrives_ms: self.session.now_ms() + i64::from(self.config.order_latency_ms),
            });
        }
        Ok((outcome, sent))
    }

    /// Orders in flight whose arrival time has come reach the book, oldest first; an order
    /// that no longer passes the limits (fills changed the account meanwhile) is dropped.
    fn deliver_arrived(&mut self) -> (u32, i64) {
        let (mut filled, mut fee) = (0, 0);
        while let Some(first) = self.in_flight.first().copied() {
            if first.arrives_ms > self.session.now_ms() {
                break;
            }
            self.in_flight.remove(0);
            let engine = self.session.engine_mut();
            if engine.check_planned(&first.plan).is_err() {
                self.dropped_orders += 1;
                continue;
            }
            let (_, f, c) = engine.execute_plan(first.plan, first.tier);
            self.order_counted = f > 0;
            if f > 0 {
                self.metrics.record_resting_fill(first.tier as u8);
            }
            filled += f;
            fee += c;
        }
        (filled, fee)
    }

    fn apply_event(&mut self, index: usize) -> Result<kalsim_core::EventOutcome, EnvError> {
        let tape = &self.markets[self.market];
        let r = self.session.apply_tape_event(tape, &tape.events[index]);
        r.map_err(|error| EnvError::Data {
            ticker: tape.ticker.clone(),
            event: index,
            error,
        })
    }

    fn info(&self, invalid: Option<InvalidAction>, filled: u32, fee: i64) -> StepInfo {
        let engine = self.session.engine();
        let acct = engine.account();
        let last = engine.last_order();
        StepInfo {
            step: self.session.decisions(),
            market_index: self.market as u32,
            event_index: self.event as u32,
            cash_cents: acct.cash().0,
            position: acct.position(),
            portfolio_value_cents: self.pv,
            fees_paid_cents: acct.fees_paid().0,
            realized_pnl_cents: acct.realized_pnl().0,
            last_order_intent: last.map_or(0, |o| o.intent as u8),
            last_order_tier: last.map_or(255, |o| o.tier as u8),
            last_order_size: last.map_or(0, |o| o.size),
            last_order_limit_cents: last.map_or(0, |o| o.limit.cents()),
            last_order_filled: last.map_or(0, |o| o.filled),
            last_order_avg_fill_price: last.map_or(0.0, |o| o.avg_fill_price()),
            invalid_action: invalid.map_or(0, InvalidAction::code),
            filled_this_step: filled,
            fee_this_step_cents: fee,
            working_order_remaining: engine.working_order().map_or(0, |w| w.remaining),
            settled: self.settled,
        }
    }
}

/// The event index of the next decision after the one at `at` (time `at_ms`), and the
/// exchange time there (SPEC §7): `events = k` → `at + k`; `ms = t` → the first event at
/// least `t` ms later (events without a timestamp carry the previous one). Capped at the
/// last event.
fn next_decision(
    interval: &DecisionInterval,
    tape: &MarketTape,
    at: usize,
    at_ms: i64,
) -> (usize, i64) {
    let last = tape.events.len().saturating_sub(1);
    match *interval {
        DecisionInterval::Events(k) => {
            let next = at.saturating_add(k.max(1) as usize).min(last);
            let mut ts = at_ms;
            for e in &tape.events[at.min(last)..=next] {
                if let Some(t) = e.ts_ms {
                    ts = t;
                }
            }
            (next, ts)
        }
        DecisionInterval::Ms(t) => {
            let target = at_ms.saturating_add(i64::from(t));
            let mut ts = at_ms;
            let mut i = at;
            while i < last {
                i += 1;
                if let Some(e) = tape.events[i].ts_ms {
                    ts = e;
                }
                if ts >= target {
                    break;
                }
            }
            (i, ts)
        }
    }
}

fn check_len(name: &'static str, got: usize, expected: usize) -> Result<(), EnvError> {
    if got == expected {
        Ok(())
    } else {
        Err(EnvError::Buffer {
            name,
            expected,
            got,
        })
    }
}
