//! [`Actor`]: the decision loop.

mod config;
mod decide;
mod events;
mod reconcile;
mod risk;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use kalsim_core::{Engine, Rng, Side};
use serde_json::{Value, json};

use super::feed::{Feed, FeedEvent};
use super::kill::KillWatchdog;
use super::log::DecisionLog;
use super::policy::LivePolicy;
use super::record::{ActorReport, DecisionRecord, StopReason};
use super::signal::KillSwitch;
use super::venues::LiveVenue;
use crate::env::{ConfigError, MarketSession};

pub use config::{AccountRisk, ActorConfig, Clock, OrderEntry, engine_config_for};
use risk::{Breaker, RiskState};

/// Our order working at the venue in one market.
#[derive(Clone, Debug)]
struct Working {
    order_id: String,
    client_order_id: String,
    /// Contracts the order was placed for (0 when adopted without knowing).
    initial: u32,
    /// Consecutive reconciliations that did not list it (reads lag writes).
    misses: u32,
    /// When the first of those misses was.
    first_miss: Option<Instant>,
}

/// A submit without a clear answer (it may be live): nothing new is sent in its market until
/// a look-up, an order update or a reconciliation finds it, or look-ups have missed it
/// twice at least [`GONE_AFTER`] apart (reads lag writes, as for a tracked order).
#[derive(Clone, Debug)]
struct Unresolved {
    client_order_id: String,
    /// Look-ups that did not find it.
    misses: u32,
    /// When the first of those misses was.
    first_miss: Option<Instant>,
    /// When it was last looked up.
    last_look: Option<Instant>,
}

impl Unresolved {
    fn new(client_order_id: String) -> Unresolved {
        Unresolved {
            client_order_id,
            misses: 0,
            first_miss: None,
            last_look: None,
        }
    }
}

/// Why a market is not trading.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Halt {
    /// Paused by the exchange (`deactivated`, status `inactive`, an order refused as
    /// `trading_paused`): trading resumes when the venue reports the market active again.
    Paused(String),
    /// Closed, determined or settled: for good.
    Closed(String),
}

impl Halt {
    fn reason(&self) -> &str {
        match self {
            Halt::Paused(why) | Halt::Closed(why) => why,
        }
    }
}

struct Market {
    ticker: String,
    /// The mirror: engine, observation state, exchange clock, horizon (as in replay).
    session: MarketSession,
    synced: bool,
    last_update: Option<Instant>,
    /// The time feature when the session's exchange clock cannot give it: a frozen clock,
    /// or a wall-clock fallback for an event without an exchange timestamp.
    dt_override: Option<i64>,
    working: Option<Working>,
    /// A submit without a clear answer (it may be live).
    unresolved: Option<Unresolved>,
    last_order_at: Option<Instant>,
    /// The venue's position: adopted at start, then moved by every fill (live venues); the
    /// mirror's on simulated venues. Contracts, +YES / −NO.
    venue_position: i64,
    /// The venue's position differed from ours by this at the last reconciliation.
    position_mismatch: Option<i64>,
    /// Refused for trading (price grid or counts the core cannot represent).
    refused: Option<String>,
    /// Not trading: paused, or closed, determined or settled.
    closed: Option<Halt>,
    /// `close_ts` from the lifecycle, Unix seconds.
    close_ts: Option<i64>,
    /// Determined result (the mirror settled on it).
    result: Option<Side>,
    /// The venue settled (its payout credited once).
    settled: bool,
    /// The market's price grid and status were read.
    checked: bool,
    breaker: Breaker,
}

impl Market {
    /// Whether `coid` is this market's unresolved submit.
    fn unresolved_is(&self, coid: &str) -> bool {
        self.unresolved
            .as_ref()
            .is_some_and(|u| u.client_order_id == coid)
    }
}

/// The live actor (see the [module docs](crate::live)).
pub struct Actor<V: LiveVenue> {
    config: ActorConfig,
    venue: V,
    policy: LivePolicy,
    log: DecisionLog,
    kill: KillSwitch,
    markets: Vec<Market>,
    index: HashMap<String, usize>,
    /// The venue's cash: adopted, then moved by fills, fees and settlements (live venues).
    venue_cash: i64,
    /// Micro-dollars of fees taken from `venue_cash` beyond the exact fees, under one cent
    /// (a fee finer than a cent is rounded up; the next fees are taken from this first).
    fee_credit_micros: i64,
    /// Our cash less the venue's at the last reconciliation, when they differed.
    cash_mismatch: Option<i64>,
    seen_fills: HashSet<String>,
    /// Per order of ours: (market index, fills the venue reported, fills applied), contracts.
    /// A market whose orders have more reported than applied is synced from REST before
    /// anything new is sent there (a lost or late fill message must not hide a position).
    order_fills: HashMap<String, (usize, u32, u32)>,
    seq: u64,
    needs_reconcile: bool,
    /// A fills listing was cut short: the next reconciliation adopts the venue's positions
    /// and cash at once (missing fills cannot be applied one by one).
    fills_lost: bool,
    started: bool,
    risk: RiskState,
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

fn unix_now_s() -> u64 {
    crate::venue::auth::now_ms() / 1000
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
                session: MarketSession::new(engine, config.horizon_steps),
                synced: false,
                last_update: None,
                dt_override: None,
                working: None,
                unresolved: None,
                last_order_at: None,
                venue_position: 0,
                position_mismatch: None,
                refused: None,
                closed: None,
                close_ts: None,
                result: None,
                settled: false,
                checked: false,
                breaker: Breaker::new(config.breaker_threshold, config.breaker_cool_down),
            });
        }
        let venue_cash = markets
            .iter()
            .map(|m| m.session.engine().account().cash().0)
            .sum();
        Ok(Actor {
            risk: RiskState::new(config.risk),
            config,
            venue,
            policy,
            log,
            kill,
            markets,
            index,
            venue_cash,
            fee_credit_micros: 0,
            cash_mismatch: None,
            seen_fills: HashSet::new(),
            order_fills: HashMap::new(),
            seq: 0,
            needs_reconcile: true,
            fills_lost: false,
            started: false,
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
                fills_applied: 0,
                settlements: 0,
                markets_refused: 0,
                kill_cleared_ms: None,
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
        self.index
            .get(ticker)
            .map(|&i| self.markets[i].session.engine())
    }

    /// The position the actor believes the venue holds in `ticker` (adopted from the venue
    /// and moved by fills on live venues, the mirror's otherwise), contracts.
    pub fn venue_position(&self, ticker: &str) -> Option<i64> {
        self.index
            .get(ticker)
            .map(|&i| self.markets[i].venue_position)
    }

    /// The cash the actor believes the venue holds, cents.
    pub fn venue_cash(&self) -> i64 {
        self.venue_cash
    }

    /// The order id of our working order in `ticker`, if any.
    pub fn working_order(&self, ticker: &str) -> Option<String> {
        let i = *self.index.get(ticker)?;
        self.markets[i].working.as_ref().map(|w| w.order_id.clone())
    }

    /// Why `ticker` is refused for trading, if it is.
    pub fn refused(&self, ticker: &str) -> Option<String> {
        let i = *self.index.get(ticker)?;
        self.markets[i].refused.clone()
    }

    /// Whether any market's circuit breaker is open.
    pub fn breaker_open(&self) -> bool {
        self.markets.iter().any(|m| m.breaker.is_open())
    }

    /// Why new exposure is stopped on every market, if it is.
    pub fn risk_stop(&self) -> Option<String> {
        self.risk.stopped.clone()
    }

    fn note(&mut self, line: Value) {
        // A log that cannot be written must not stop a risk-reducing path; count it.
        if self.log.write(&line).is_err() {
            self.report.log_errors += 1;
        }
    }

    fn drain_warnings(&mut self) {
        for w in self.venue.drain_warnings() {
            self.note(json!({"kind": "venue_warning", "warning": w}));
        }
    }

    /// Run until a stop condition; `hook` sees every decision after it was logged.
    pub fn run(
        &mut self,
        feed: &mut dyn Feed,
        mut hook: impl FnMut(&DecisionRecord),
    ) -> ActorReport {
        let watchdog = self.venue.kill_sweeper().map(|sweeper| {
            KillWatchdog::spawn(
                self.kill.clone(),
                self.venue.abort_flag(),
                sweeper,
                self.config.own_prefix(),
                self.config.tickers.clone(),
                self.config.kill_deadline,
            )
        });
        self.note(json!({"kind": "start", "run_id": self.config.run_id,
            "order_prefix": self.config.own_prefix(), "environment": self.config.environment,
            "policy": self.policy.name(), "tickers": self.config.tickers,
            "dry_run": self.config.dry_run, "live_venue": self.venue.is_live()}));
        self.start_up();
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
            self.check_close_times();
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
        let killed = matches!(stop, StopReason::Killed(_));
        if let Some(w) = watchdog {
            let outcome = w.finish();
            if outcome.tripped {
                self.report.kill_cleared_ms = outcome.cleared_ms;
                self.note(json!({"kind": "kill", "cleared_ms": outcome.cleared_ms,
                    "sweeps": outcome.sweeps, "last_error": outcome.last_error}));
            }
        }
        if let Some(a) = self.venue.abort_flag() {
            // The watchdog is done; the actor's own client may talk to the venue again.
            a.store(false, std::sync::atomic::Ordering::SeqCst);
        }
        let t0 = Instant::now();
        self.cancel_all();
        if killed && self.report.kill_cleared_ms.is_none() {
            self.report.kill_cleared_ms = Some(t0.elapsed().as_millis() as u64);
        }
        self.reconcile();
        self.report.stop = stop.clone();
        let r = self.report.clone();
        self.note(json!({"kind": "stop", "reason": stop.to_string(),
            "decisions": r.decisions, "orders_sent": r.orders_sent,
            "venue_errors": r.venue_errors, "breaker_trips": r.breaker_trips,
            "reconciliations": r.reconciliations, "discrepancies": r.discrepancies,
            "fills_applied": r.fills_applied, "settlements": r.settlements,
            "cancelled_on_stop": r.cancelled_on_stop, "kill_cleared_ms": r.kill_cleared_ms}));
        r
    }

    /// Markets whose close time has passed stop trading.
    fn check_close_times(&mut self) {
        let now = unix_now_s() as i64;
        let due: Vec<usize> = (0..self.markets.len())
            .filter(|&i| {
                let m = &self.markets[i];
                !matches!(m.closed, Some(Halt::Closed(_))) && m.close_ts.is_some_and(|t| t <= now)
            })
            .collect();
        for i in due {
            self.close_market(i, "closed: close time passed");
        }
    }

    /// Apply one feed event; the market to decide in, for book events.
    fn apply(&mut self, ev: FeedEvent) -> Option<usize> {
        let event_ts = match &ev {
            FeedEvent::Snapshot { ts_ms, .. } | FeedEvent::Delta { ts_ms, .. } => *ts_ms,
            _ => None,
        };
        let (ticker, result) = match ev {
            FeedEvent::OutOfSync { tickers, reason } => {
                for t in &tickers {
                    if let Some(&i) = self.index.get(t) {
                        self.markets[i].synced = false;
                    }
                }
                self.note(json!({"kind": "out_of_sync", "tickers": tickers, "reason": reason}));
                // Fills may have been missed while disconnected.
                self.needs_reconcile = true;
                return None;
            }
            FeedEvent::Fill(f) => {
                self.on_fill(&f, "ws");
                return None;
            }
            FeedEvent::Order(o) => {
                self.on_order_update(&o);
                return None;
            }
            FeedEvent::Lifecycle(l) => {
                self.on_lifecycle(&l);
                return None;
            }
            FeedEvent::Note {
                kind,
                ticker,
                detail,
            } => {
                self.note(json!({"kind": kind, "ticker": ticker, "detail": detail}));
                return None;
            }
            FeedEvent::Snapshot {
                ticker, yes, no, ..
            } => {
                let i = *self.index.get(&ticker)?;
                let r = self.markets[i]
                    .session
                    .apply_snapshot(&yes, &no, event_ts)
                    .map_err(|e| e.to_string())
                    .and_then(|_| {
                        self.venue
                            .on_snapshot(&ticker, &yes, &no)
                            .map_err(|e| e.to_string())
                    });
                if r.is_ok() {
                    self.markets[i].synced = true;
                }
                (ticker, r.map(|()| i))
            }
            FeedEvent::Delta {
                ticker,
                side,
                price,
                delta_centi,
                ..
            } => {
                let i = *self.index.get(&ticker)?;
                if !self.markets[i].synced {
                    return None;
                }
                let r = self.markets[i]
                    .session
                    .apply_delta(side, price, delta_centi, event_ts)
                    .map_err(|e| e.to_string())
                    .and_then(|_| {
                        self.venue
                            .on_delta(&ticker, side, price, delta_centi)
                            .map_err(|e| e.to_string())
                    });
                (ticker, r.map(|()| i))
            }
        };
        match result {
            Ok(i) => {
                let live = self.venue.is_live();
                let m = &mut self.markets[i];
                let now = Instant::now();
                // Exchange time through the session, exactly as the environment computes it
                // in replay; the wall clock only for a message without a timestamp.
                m.dt_override = match (self.config.clock, event_ts, m.last_update) {
                    (Clock::Frozen, ..) => Some(0),
                    (Clock::Wall, Some(_), _) => None,
                    (Clock::Wall, None, Some(t)) => Some(now.duration_since(t).as_millis() as i64),
                    (Clock::Wall, None, None) => Some(0),
                };
                m.last_update = Some(now);
                if !live && m.session.engine().working_order().is_none() {
                    // Filled by this event on the simulated venue too (same engine, same data).
                    m.working = None;
                }
                if !live {
                    m.venue_position = m.session.engine().account().position();
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
}

/// A tracked order missing from listings counts as gone only after two misses at least this
/// far apart (and is then cancelled anyway, in case the listing still lagged); an unresolved
/// submit is given up only after two look-up misses at least this far apart.
pub(crate) const GONE_AFTER: Duration = Duration::from_secs(2);

/// A short wait used between REST fill syncs of a market with fills pending.
pub(crate) const RESOLVE_PAUSE: Duration = Duration::from_millis(20);

/// The least time between two look-ups of an unresolved submit (decisions in between are
/// refused without a request).
pub(crate) const LOOK_UP_EVERY: Duration = Duration::from_millis(100);
