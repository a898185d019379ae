//! The live actor: market data → the training observation → policy → limits → venue.
//!
//! One loop, one thread, blocking. For every book update of a market the actor follows
//! ([`Feed`]), it applies the update to that market's **mirror** [`Engine`](kalsim_core::Engine)
//! (the same book, account and working order the environment keeps), builds the observation
//! with [`ObsState::observe`](kalsim_core::ObsState::observe) exactly as training does, asks the
//! policy for an action under the engine's mask, checks it with
//! [`Engine::plan_order`](kalsim_core::Engine::plan_order), and sends the order
//! ([`intent_to_order`](crate::venue::intent_to_order) via
//! [`OrderRequest::from_intent`](crate::venue::OrderRequest::from_intent)) with a unique,
//! deterministic `client_order_id` per decision. One decision per update, after the update:
//! the environment's alignment (act on event `t`, then apply `t + 1`).
//!
//! Safety rails: a per-market throttle, a circuit breaker after consecutive venue errors
//! (trading stops, decisions are still logged), a kill switch (file or SIGINT/SIGTERM) that
//! cancels every working order and exits, periodic reconciliation of positions and balance,
//! and a JSONL decision log. A policy checkpoint that does not fit the environment refuses to
//! start ([`LivePolicy::load`]).
//!
//! # Venues
//!
//! - **paper** ([`PaperVenue`](crate::venue::PaperVenue)): the actor pushes every book update
//!   into the venue, whose engines execute orders with the environment's step. The mirror and
//!   the venue run the same engine on the same data, so they never disagree (reconciliation
//!   checks it), and a replay through the paper venue takes the same decisions as an `Env`
//!   replay of the same data (`tests/live_actor.rs` checks actions and observation hashes).
//! - **kalshi** ([`KalshiVenue`](crate::venue::KalshiVenue)): real orders. Positions and the
//!   balance are the venue's: acknowledgements update the actor's view of the position
//!   (cash conservatively: limit price plus worst-case fee for buys, nothing for sells) and
//!   every reconciliation adopts the venue's numbers. Every order is checked twice: by the
//!   mirror's [`Engine::plan_order`](kalsim_core::Engine::plan_order) (the policy's mask)
//!   and by the same limits against the venue's position, balance and portfolio value
//!   ([`Verdict::VenueLimit`]). The mirror's own account keeps simulating fills against the
//!   live book (the core has no way to overwrite an account), so on this venue the
//!   observation's portfolio features are the simulated ones.
//!
//! # Decision log (JSON Lines)
//!
//! `{"kind": "decision", "seq", "ticker", "step", "obs_hash" (16 hex digits of FNV-1a over
//! the observation's f32 bits), "action", "intent", "tier", "size", "price" (the intent's
//! contract, cents), "verdict" (hold, sent, masked, venue_limit, throttled, breaker_open,
//! dry_run, invalid_action, venue_error), "reason" (the limit, when refused),
//! "client_order_id", "venue" (the ack or the error), "position", "cash_cents"}`; also
//! `start`, `reconcile` (positions, balance, discrepancies), `fills` (executions since the
//! previous reconciliation), `out_of_sync`, `book_error`,
//! `breaker_open`, `cancel_all` and `stop` lines.
//!
//! # Not covered
//!
//! - The observation's time feature uses the messages' exchange timestamps (`ts_ms` / `ts`),
//!   as the environment does in replay; only messages without one fall back to wall-clock
//!   time ([`Clock::Wall`]). Settlement messages are not surfaced by the WebSocket client, so
//!   markets are never settled by the actor.
//! - The circuit breaker stays open until the process restarts.

mod actor;
#[cfg(feature = "cli")]
pub mod cli;
mod feed;
mod kill;
mod log;
mod policy;
mod record;
#[cfg(feature = "cli")]
pub mod recorder;
mod signal;
mod venues;

pub use actor::{AccountRisk, Actor, ActorConfig, Clock, OrderEntry, engine_config_for};
pub use feed::{Feed, FeedEvent, TapeFeed, WsFeed};
pub use kill::{KillOutcome, KillWatchdog};
pub use log::{DecisionLog, obs_hash};
pub use policy::{LivePolicy, env_policy_meta};
pub use record::{ActorReport, DecisionRecord, StopReason, Verdict};
pub use signal::{KillSwitch, install_signal_handlers};
pub use venues::{KillSweeper, LiveVenue};
