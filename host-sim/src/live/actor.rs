//! [`Actor`]: the decision loop.

mod reconcile;

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use kalsim_core::order::intent_contract;
use kalsim_core::{
    ACTION_COUNT, Action, Cents, Engine, EngineConfig, Intent, LimitViolation, OBS_DIM, ObsState,
    OrderPlan, Rng, SellMode, Side, Tier, action::decode, limits::Exposure,
};
use serde_json::{Value, json};

use super::feed::{Feed, FeedEvent};
use super::log::{DecisionLog, obs_hash};
use super::policy::LivePolicy;
use super::record::{ActorReport, DecisionRecord, StopReason, Verdict};
use super::signal::KillSwitch;
use super::venues::LiveVenue;
use crate::env::{ConfigError, EnvConfig};
use crate::venue::{OrderAck, OrderAction, OrderRequest, VenueError};

/// Where the observation's "time since the previous event" comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Clock {
    /// The exchange timestamps of a market's messages when they carry them (as the
    /// environment does in replay), else wall-clock time between its updates (live default).
    #[default]
    Wall,
    /// Always 0: matches a replay of a capture without timestamps (parity tests).
    Frozen,
}

/// Settings of an [`Actor`].
#[derive(Clone, Debug)]
pub struct ActorConfig {
    /// The environment the policy was trained in (sizes, pricing, limits, fees, cash).
    pub env: EnvConfig,
    /// Markets to trade.
    pub tickers: Vec<String>,
    /// Prefix of every `client_order_id` (`[A-Za-z0-9-]`, at most 32 chars); must differ
    /// between runs on a real venue, or the venue resolves new orders to old ones.
    pub run_id: String,
    /// Seed of the engines and of a sampling policy.
    pub seed: u64,
    /// Log decisions, send nothing.
    pub dry_run: bool,
    /// Least time between two orders in one market (0 = no throttle).
    pub min_order_interval: Duration,
    /// Consecutive venue errors that open the circuit breaker (trading stops for the rest
    /// of the run; decisions are still logged).
    pub breaker_threshold: u32,
    /// Reconcile positions and balance with the venue every this many decisions (0 = only at
    /// start, after venue errors and at the end).
    pub reconcile_every: u64,
    /// Stop after this many decisions.
    pub max_decisions: Option<u64>,
    /// Stop when no update arrived for this long.
    pub idle_exit: Option<Duration>,
    /// Longest wait for an update before the kill switch is polled again.
    pub poll_interval: Duration,
    /// Denominator of the observation's episode progress (the environment's horizon:
    /// `max_steps`, or the tape's events − 1); 0 leaves progress at 0.
    pub horizon_steps: u32,
    /// Time source of the observation.
    pub clock: Clock,
}

impl ActorConfig {
    /// Defaults: live clock, 1 s throttle, breaker after 5 errors, reconcile every 50
    /// decisions, 200 ms polls, horizon = the config's `max_steps`.
    pub fn new(env: EnvConfig, tickers: Vec<String>, run_id: &str) -> ActorConfig {
        ActorConfig {
            horizon_steps: env.max_steps,
            env,
            tickers,
            run_id: sanitize_run_id(run_id),
            seed: 0,
            dry_run: false,
            min_order_interval: Duration::from_secs(1),
            breaker_threshold: 5,
            reconcile_every: 50,
            max_decisions: None,
            idle_exit: None,
            poll_interval: Duration::from_millis(200),
            clock: Clock::Wall,
        }
    }

    /// The engine configuration of `ticker` (the environment's, maker fees resolved).
    pub fn engine_config(&self, ticker: &str) -> Result<EngineConfig, ConfigError> {
        engine_config_for(&self.env, ticker)
    }
}

/// The environment's engine configuration for `ticker` (maker-fee markets resolved as the
/// environment does).
pub fn engine_config_for(env: &EnvConfig, ticker: &str) -> Result<EngineConfig, ConfigError> {
    let mut cfg = env.engine_config()?;
    if env.fees.maker_fee_markets.iter().any(|t| t == ticker) {
        cfg.fees.maker_fees = true;
    }
    Ok(cfg)
}

fn sanitize_run_id(id: &str) -> String {
    let s: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(32)
        .collect();
    if s.is_empty() { "kalsim".into() } else { s }
}

struct Market {
    ticker: String,
    engine: Engine,
    obs: ObsState,
    synced: bool,
    steps: u32,
    last_update: Option<Instant>,
    last_ts_ms: Option<i64>,
    dt_ms: i64,
    /// Venue order id of our working order.
    working: Option<String>,
    last_order_at: Option<Instant>,
    /// The venue's position as last known (adopted on live venues), contracts.
    venue_position: i64,
}

/// The live actor (see the module docs).
pub struct Actor<V: LiveVenue> {
    config: ActorConfig,
    venue: V,
    policy: LivePolicy,
    log: DecisionLog,
    kill: KillSwitch,
    markets: Vec<Market>,
    index: HashMap<String, usize>,
    venue_cash: i64,
    seq: u64,
    consecutive_errors: u32,
    breaker_open: bool,
    needs_reconcile: bool,
    report: ActorReport,
}

impl<V: LiveVenue> fmt::Debug for Actor<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Actor")
            .field("tickers", &self.config.tickers)
            .field("policy", &self.policy.name())
            .field("decisions", &self.report.decisions)
            .finish_non_exhaustive()
    }
}

fn ack_json(ack: &OrderAck) -> Value {
    json!({
        "order_id": ack.order_id,
        "status": format!("{:?}", ack.status).to_lowercase(),
        "filled": ack.filled.0,
        "remaining": ack.remaining.0,
    })
}

fn err_json(stage: &str, e: &VenueError) -> Value {
    json!({ "error": e.to_string(), "stage": stage })
}

/// Signed position change of `filled` contracts of an order.
fn signed_fill(contract: Side, action: OrderAction, filled: u32) -> i64 {
    let n = i64::from(filled);
    match (contract, action) {
        (Side::Yes, OrderAction::Buy) | (Side::No, OrderAction::Sell) => n,
        _ => -n,
    }
}

impl<V: LiveVenue> Actor<V> {
    /// An actor trading `config.tickers` on `venue` with `policy`, logging to `log`.
    pub fn new(
        config: ActorConfig,
        venue: V,
        policy: LivePolicy,
        log: DecisionLog,
        kill: KillSwitch,
    ) -> Result<Actor<V>, ConfigError> {
        let mut markets = Vec::with_capacity(config.tickers.len());
        let mut index = HashMap::new();
        for (i, t) in config.tickers.iter().enumerate() {
            let engine = Engine::new(
                config.engine_config(t)?,
                Rng::derive(config.seed, i as u64 + 1).next_u64(),
            );
            index.insert(t.clone(), i);
            markets.push(Market {
                ticker: t.clone(),
                engine,
                obs: ObsState::new(),
                synced: false,
                steps: 0,
                last_update: None,
                last_ts_ms: None,
                dt_ms: 0,
                working: None,
                last_order_at: None,
                venue_position: 0,
            });
        }
        let venue_cash = markets.iter().map(|m| m.engine.account().cash().0).sum();
        Ok(Actor {
            config,
            venue,
            policy,
            log,
            kill,
            markets,
            index,
            venue_cash,
            seq: 0,
            consecutive_errors: 0,
            breaker_open: false,
            needs_reconcile: true,
            report: ActorReport {
                decisions: 0,
                orders_sent: 0,
                venue_errors: 0,
                breaker_trips: 0,
                reconciliations: 0,
                discrepancies: 0,
                cancelled_on_stop: 0,
                book_errors: 0,
                log_errors: 0,
                stop: StopReason::FeedEnded,
            },
        })
    }

    /// The venue.
    pub fn venue(&self) -> &V {
        &self.venue
    }

    /// The venue, mutably (for inspection between runs).
    pub fn venue_mut(&mut self) -> &mut V {
        &mut self.venue
    }

    /// The mirror engine of `ticker`.
    pub fn engine(&self, ticker: &str) -> Option<&Engine> {
        self.index.get(ticker).map(|&i| &self.markets[i].engine)
    }

    /// The position the actor believes the venue holds in `ticker` (adopted from the venue on
    /// live venues, the mirror's otherwise), contracts.
    pub fn venue_position(&self, ticker: &str) -> Option<i64> {
        self.index
            .get(ticker)
            .map(|&i| self.markets[i].venue_position)
    }

    /// Whether the circuit breaker is open.
    pub fn breaker_open(&self) -> bool {
        self.breaker_open
    }

    fn note(&mut self, line: Value) {
        // A log that cannot be written must not stop a risk-reducing path; count it.
        if self.log.write(&line).is_err() {
            self.report.log_errors += 1;
        }
    }

    /// Run until a stop condition; `hook` sees every decision after it was logged.
    pub fn run(
        &mut self,
        feed: &mut dyn Feed,
        mut hook: impl FnMut(&DecisionRecord),
    ) -> ActorReport {
        self.note(json!({"kind": "start", "run_id": self.config.run_id,
            "policy": self.policy.name(), "tickers": self.config.tickers,
            "dry_run": self.config.dry_run, "live_venue": self.venue.is_live()}));
        self.reconcile();
        let mut last_event = Instant::now();
        let stop = loop {
            if let Some(why) = self.kill.tripped() {
                break StopReason::Killed(why);
            }
            if self
                .config
                .max_decisions
                .is_some_and(|n| self.report.decisions >= n)
            {
                break StopReason::MaxDecisions;
            }
            match feed.next_event(self.config.poll_interval) {
                Err(e) => break StopReason::FeedError(e.to_string()),
                Ok(None) => {
                    if feed.exhausted() {
                        break StopReason::FeedEnded;
                    }
                    if self
                        .config
                        .idle_exit
                        .is_some_and(|d| last_event.elapsed() >= d)
                    {
                        break StopReason::Idle;
                    }
                }
                Ok(Some(ev)) => {
                    last_event = Instant::now();
                    if let Some(i) = self.apply(ev) {
                        let rec = self.decide(i);
                        hook(&rec);
                        if self.config.reconcile_every > 0
                            && self.report.decisions % self.config.reconcile_every == 0
                        {
                            self.reconcile();
                        }
                    }
                }
            }
        };
        self.cancel_all();
        self.reconcile();
        self.report.stop = stop.clone();
        let r = self.report.clone();
        self.note(json!({"kind": "stop", "reason": stop.to_string(),
            "decisions": r.decisions, "orders_sent": r.orders_sent,
            "venue_errors": r.venue_errors, "breaker_trips": r.breaker_trips,
            "reconciliations": r.reconciliations, "discrepancies": r.discrepancies,
            "cancelled_on_stop": r.cancelled_on_stop}));
        r
    }

    /// Apply one feed event to the mirror (and a simulated venue); the market to decide in.
    fn apply(&mut self, ev: FeedEvent) -> Option<usize> {
        let event_ts = match &ev {
            FeedEvent::Snapshot { ts_ms, .. } | FeedEvent::Delta { ts_ms, .. } => *ts_ms,
            FeedEvent::OutOfSync { .. } => None,
        };
        let (ticker, result) = match &ev {
            FeedEvent::OutOfSync { tickers, reason } => {
                for t in tickers {
                    if let Some(&i) = self.index.get(t) {
                        self.markets[i].synced = false;
                    }
                }
                self.note(json!({"kind": "out_of_sync", "tickers": tickers, "reason": reason}));
                return None;
            }
            FeedEvent::Snapshot {
                ticker, yes, no, ..
            } => {
                let i = *self.index.get(ticker)?;
                let r = self.markets[i]
                    .engine
                    .apply_snapshot(yes, no)
                    .map_err(|e| e.to_string())
                    .and_then(|_| {
                        self.venue
                            .on_snapshot(ticker, yes, no)
                            .map_err(|e| e.to_string())
                    });
                if r.is_ok() {
                    self.markets[i].synced = true;
                }
                (ticker.clone(), r.map(|()| i))
            }
            FeedEvent::Delta {
                ticker,
                side,
                price,
                delta_centi,
                ..
            } => {
                let i = *self.index.get(ticker)?;
                if !self.markets[i].synced {
                    return None;
                }
                let r = self.markets[i]
                    .engine
                    .apply_delta(*side, *price, *delta_centi)
                    .map_err(|e| e.to_string())
                    .and_then(|_| {
                        self.venue
                            .on_delta(ticker, *side, *price, *delta_centi)
                            .map_err(|e| e.to_string())
                    });
                (ticker.clone(), r.map(|()| i))
            }
        };
        match result {
            Ok(i) => {
                let live = self.venue.is_live();
                let m = &mut self.markets[i];
                let now = Instant::now();
                m.dt_ms = match (self.config.clock, event_ts, m.last_ts_ms, m.last_update) {
                    (Clock::Frozen, ..) => 0,
                    // Exchange time, exactly as the environment computes it in replay (0 until
                    // a previous message carried a timestamp).
                    (Clock::Wall, Some(now_ts), prev_ts, _) => prev_ts.map_or(0, |p| now_ts - p),
                    (Clock::Wall, None, _, Some(t)) => now.duration_since(t).as_millis() as i64,
                    (Clock::Wall, ..) => 0,
                };
                m.last_update = Some(now);
                if event_ts.is_some() {
                    m.last_ts_ms = event_ts;
                }
                if !live && m.engine.working_order().is_none() {
                    // Filled by this event on the simulated venue too (same engine, same data).
                    m.working = None;
                }
                if !live {
                    m.venue_position = m.engine.account().position();
                }
                Some(i)
            }
            Err(e) => {
                self.report.book_errors += 1;
                if let Some(&i) = self.index.get(&ticker) {
                    self.markets[i].synced = false;
                }
                self.note(json!({"kind": "book_error", "ticker": ticker, "error": e}));
                None
            }
        }
    }

    fn decide(&mut self, i: usize) -> DecisionRecord {
        let seq = self.seq;
        self.seq += 1;
        let horizon = self.config.horizon_steps;
        let m = &mut self.markets[i];
        let progress = if horizon > 0 {
            (f64::from(m.steps) / f64::from(horizon)).min(1.0)
        } else {
            0.0
        };
        let mut obs = [0f32; OBS_DIM];
        // The environment's order: the mask, then the observation built with it.
        let mask: [bool; ACTION_COUNT] = m.engine.action_mask();
        m.obs
            .observe_with_mask(&m.engine, progress, m.dt_ms, &mask, &mut obs);
        let action = self.policy.act(&obs, &mask);
        let m = &mut self.markets[i];
        let mut rec = DecisionRecord {
            seq,
            ticker: m.ticker.clone(),
            step: m.steps,
            obs_hash: obs_hash(&obs),
            action,
            intent: Intent::Hold,
            tier: None,
            size: 0,
            price_cents: 0,
            verdict: Verdict::Hold,
            client_order_id: None,
            venue: Value::Null,
            position: 0,
            cash_cents: 0,
        };
        m.steps += 1;
        match decode(action) {
            Ok(Action::Hold) => {}
            Ok(Action::Trade { intent, tier }) => {
                rec.intent = intent;
                rec.tier = Some(tier);
                self.trade(i, intent, tier, &mut rec);
            }
            Err(_) => rec.verdict = Verdict::InvalidAction,
        }
        let acct = self.markets[i].engine.account();
        rec.position = acct.position();
        rec.cash_cents = acct.cash().0;
        self.report.decisions += 1;
        self.note(rec.to_json());
        rec
    }

    fn trade(&mut self, i: usize, intent: Intent, tier: Tier, rec: &mut DecisionRecord) {
        let plan = match self.markets[i].engine.plan_order(intent, tier) {
            Ok(p) => p,
            Err(v) => {
                rec.verdict = Verdict::Masked(v);
                return;
            }
        };
        rec.size = plan.size.0;
        rec.price_cents = plan.intent_price.cents();
        if self.venue.is_live()
            && let Err(v) = self.venue_guard(i, &plan)
        {
            rec.verdict = Verdict::VenueLimit(v);
            return;
        }
        if self.breaker_open {
            rec.verdict = Verdict::BreakerOpen;
            return;
        }
        if self.config.dry_run {
            rec.verdict = Verdict::DryRun;
            return;
        }
        let now = Instant::now();
        if !self.config.min_order_interval.is_zero()
            && self.markets[i]
                .last_order_at
                .is_some_and(|t| now.duration_since(t) < self.config.min_order_interval)
        {
            rec.verdict = Verdict::Throttled;
            return;
        }
        if self.needs_reconcile && !self.reconcile() {
            rec.verdict = Verdict::VenueError;
            rec.venue = json!({"error": "reconciliation failed", "stage": "reconcile"});
            return;
        }
        // Re-check against the venue's numbers just adopted.
        if self.venue.is_live()
            && let Err(v) = self.venue_guard(i, &plan)
        {
            rec.verdict = Verdict::VenueLimit(v);
            return;
        }
        let ticker = self.markets[i].ticker.clone();
        // One working order per market: cancel it first; if that fails, send nothing.
        if let Some(id) = self.markets[i].working.clone() {
            match self.venue.cancel_order(&ticker, &id) {
                Ok(()) | Err(VenueError::NotFound(_)) => self.markets[i].working = None,
                Err(e) => {
                    rec.verdict = Verdict::VenueError;
                    rec.venue = err_json("cancel", &e);
                    self.venue_failed();
                    return;
                }
            }
        }
        let coid = format!("{}-{}-{}", self.config.run_id, i, rec.seq);
        let Some(req) =
            OrderRequest::from_intent(&ticker, intent, plan.size, plan.intent_price, &coid)
        else {
            return;
        };
        rec.client_order_id = Some(coid);
        self.markets[i].last_order_at = Some(now);
        match self.venue.place_order(&req) {
            Ok(ack) => {
                self.consecutive_errors = 0;
                self.report.orders_sent += 1;
                rec.verdict = Verdict::Sent;
                rec.venue = ack_json(&ack);
                let live = self.venue.is_live();
                let m = &mut self.markets[i];
                // The mirror executes the same action (on a simulated venue: the same step).
                let _ = m.engine.step_action(rec.action);
                m.working = (ack.remaining.0 > 0).then(|| ack.order_id.clone());
                if live {
                    m.venue_position += signed_fill(req.contract, req.action, ack.filled.0);
                    if req.action == OrderAction::Buy {
                        // Conservative until the next reconciliation: the limit price and
                        // the worst-case fee.
                        let cfg = m.engine.config();
                        self.venue_cash -= i64::from(ack.filled.0) * i64::from(req.price.cents())
                            + cfg.fees.worst_case_taker(ack.filled.0, req.price).0;
                    }
                } else {
                    m.venue_position = m.engine.account().position();
                }
            }
            Err(e) => {
                rec.verdict = Verdict::VenueError;
                rec.venue = err_json("place", &e);
                // Whatever was working was cancelled above; the mirror follows.
                self.markets[i].engine.cancel_working();
                self.venue_failed();
            }
        }
    }

    /// SPEC §6 against the venue's own position and balance (live venues).
    fn venue_guard(&self, i: usize, plan: &OrderPlan) -> Result<(), LimitViolation> {
        let m = &self.markets[i];
        let cfg = m.engine.config();
        let pos = m.venue_position;
        if plan.intent.is_sell() && cfg.sell_mode == SellMode::ReduceOnly {
            let held = match intent_contract(plan.intent) {
                Side::Yes => pos.max(0),
                Side::No => (-pos).max(0),
            };
            if held < i64::from(plan.size.0) {
                return Err(LimitViolation::InsufficientHoldings);
            }
        }
        let exposure = Exposure {
            position: pos,
            cash: Cents(self.venue_cash),
            portfolio_value: Cents(self.venue_pv()),
        };
        cfg.limits
            .check(exposure, plan.buys, plan.size.0, plan.buy_limit, &cfg.fees)
    }

    /// The venue's cash plus every position marked at the mirror's last best bid, cents.
    fn venue_pv(&self) -> i64 {
        let marks: i64 = self
            .markets
            .iter()
            .map(|m| {
                let (side, n) = if m.venue_position >= 0 {
                    (Side::Yes, m.venue_position)
                } else {
                    (Side::No, -m.venue_position)
                };
                let bid = m.engine.last_prices().bid(m.engine.book(), side);
                n * i64::from(bid.cents())
            })
            .sum();
        self.venue_cash + marks
    }

    fn venue_failed(&mut self) {
        self.report.venue_errors += 1;
        self.consecutive_errors += 1;
        self.needs_reconcile = true;
        if !self.breaker_open && self.consecutive_errors >= self.config.breaker_threshold.max(1) {
            self.breaker_open = true;
            self.report.breaker_trips += 1;
            self.note(json!({"kind": "breaker_open",
                "consecutive_errors": self.consecutive_errors}));
        }
    }
}
