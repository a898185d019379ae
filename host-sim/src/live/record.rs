//! What the actor reports: one [`DecisionRecord`] per decision, the [`ActorReport`] of a run.

use std::fmt;

use kalsim_core::{Intent, LimitViolation, Tier};
use serde_json::{Value, json};

/// What became of one decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The policy chose HOLD.
    Hold,
    /// The order was sent and the venue accepted it.
    Sent,
    /// The engine's limits (the mask's rules) refuse it; executed as HOLD.
    Masked(LimitViolation),
    /// The limits refuse it against the venue's own position and balance (live venues).
    VenueLimit(LimitViolation),
    /// The market's throttle: too soon after its previous order.
    Throttled,
    /// The circuit breaker is open.
    BreakerOpen,
    /// `--dry-run`: not sent.
    DryRun,
    /// A reserved or out-of-range action; executed as HOLD.
    InvalidAction,
    /// The venue failed (cancel or place), or a submit got no clear answer.
    VenueError,
    /// The market is refused for trading (a price grid or count the core cannot represent).
    MarketRefused,
    /// The market is paused, closed or settled.
    MarketClosed,
    /// An account-level stop (daily loss limit, maximum drawdown) refuses new exposure.
    RiskStop,
    /// An earlier submit in this market is still unresolved (may be live); nothing new is
    /// sent until a look-up settles it.
    Unresolved,
}

impl Verdict {
    /// Stable snake_case name.
    pub const fn name(self) -> &'static str {
        match self {
            Verdict::Hold => "hold",
            Verdict::Sent => "sent",
            Verdict::Masked(_) => "masked",
            Verdict::VenueLimit(_) => "venue_limit",
            Verdict::Throttled => "throttled",
            Verdict::BreakerOpen => "breaker_open",
            Verdict::DryRun => "dry_run",
            Verdict::InvalidAction => "invalid_action",
            Verdict::VenueError => "venue_error",
            Verdict::MarketRefused => "market_refused",
            Verdict::MarketClosed => "market_closed",
            Verdict::RiskStop => "risk_stop",
            Verdict::Unresolved => "unresolved",
        }
    }
}

/// One decision, as logged.
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionRecord {
    /// Decision number in the run (0-based, all markets).
    pub seq: u64,
    /// Market ticker.
    pub ticker: String,
    /// Decisions taken in this market before this one (the environment's step).
    pub step: u32,
    /// FNV-1a of the observation's bits.
    pub obs_hash: u64,
    /// Action id chosen by the policy.
    pub action: u32,
    /// Its intent (HOLD for HOLD and invalid actions).
    pub intent: Intent,
    /// Its tier, for trade actions.
    pub tier: Option<Tier>,
    /// Order size in contracts (0 when no order was planned).
    pub size: u32,
    /// Limit price in the intent's contract, cents (0 when no order was planned).
    pub price_cents: u8,
    /// What happened.
    pub verdict: Verdict,
    /// The order's `client_order_id`, when one was built.
    pub client_order_id: Option<String>,
    /// The venue's answer (ack or error), `null` when nothing was sent.
    pub venue: Value,
    /// The mirror engine's position after the decision, contracts.
    pub position: i64,
    /// The mirror engine's cash after the decision, cents.
    pub cash_cents: i64,
    /// Why, for verdicts without a limit name (refused or closed market, risk stop).
    pub note: Option<String>,
}

impl DecisionRecord {
    pub(crate) fn to_json(&self) -> Value {
        let reason = match self.verdict {
            Verdict::Masked(v) | Verdict::VenueLimit(v) => Value::from(v.name()),
            _ => self.note.clone().map_or(Value::Null, Value::from),
        };
        json!({
            "kind": "decision",
            "seq": self.seq,
            "ticker": self.ticker,
            "step": self.step,
            "obs_hash": format!("{:016x}", self.obs_hash),
            "action": self.action,
            "intent": self.intent.name(),
            "tier": self.tier.map(Tier::name),
            "size": self.size,
            "price": self.price_cents,
            "verdict": self.verdict.name(),
            "reason": reason,
            "client_order_id": self.client_order_id,
            "venue": self.venue,
            "position": self.position,
            "cash_cents": self.cash_cents,
        })
    }
}

/// Why the run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// `max_decisions` reached.
    MaxDecisions,
    /// No update for `idle_exit`.
    Idle,
    /// The feed has nothing more (a replay ended).
    FeedEnded,
    /// Kill switch: file, signal or flag.
    Killed(&'static str),
    /// The feed failed for good.
    FeedError(String),
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::MaxDecisions => f.write_str("max decisions reached"),
            StopReason::Idle => f.write_str("no market data for the idle timeout"),
            StopReason::FeedEnded => f.write_str("market data ended"),
            StopReason::Killed(why) => write!(f, "killed ({why})"),
            StopReason::FeedError(e) => write!(f, "market data failed: {e}"),
        }
    }
}

/// Counters of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorReport {
    /// Decisions taken (and logged).
    pub decisions: u64,
    /// Orders the venue accepted.
    pub orders_sent: u64,
    /// Venue calls that failed.
    pub venue_errors: u64,
    /// Times the circuit breaker opened.
    pub breaker_trips: u64,
    /// Reconciliations that completed.
    pub reconciliations: u64,
    /// Differences found by reconciliation.
    pub discrepancies: u64,
    /// Orders cancelled on the way out (kill switch or end of run).
    pub cancelled_on_stop: u64,
    /// Book updates the mirrors could not apply (the market then waits for a snapshot).
    pub book_errors: u64,
    /// Log lines that could not be written.
    pub log_errors: u64,
    /// Fills applied to the positions (each trade id once).
    pub fills_applied: u64,
    /// Markets settled (each once).
    pub settlements: u64,
    /// Markets refused for trading.
    pub markets_refused: u64,
    /// Time from the kill switch to no order of ours resting, milliseconds (killed runs).
    pub kill_cleared_ms: Option<u64>,
    /// Why the run ended.
    pub stop: StopReason,
}
