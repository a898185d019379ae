//! The live actor: market data → the training observation → policy → limits → venue.
//! `docs/live.md` is the user's guide and the record of the Kalshi V2 contract.
//!
//! One loop, one thread, blocking. For every book update of a market the actor follows
//! ([`Feed`]), it applies the update to that market's **mirror** [`Engine`](kalsim_core::Engine)
//! (the same book, account and working order the environment keeps), builds the observation
//! with [`ObsState::observe`](kalsim_core::ObsState::observe) exactly as training does, asks the
//! policy for an action under the engine's mask, checks it with
//! [`Engine::plan_order`](kalsim_core::Engine::plan_order), and sends the order
//! ([`intent_to_order`](crate::venue::intent_to_order) via
//! [`OrderRequest::from_intent`](crate::venue::OrderRequest::from_intent), with the V2 options
//! of [`OrderEntry`]) under a unique, deterministic `client_order_id`
//! (`{prefix}-{run}-{market}-{decision}`). One decision per update, after the update: the
//! environment's alignment (act on event `t`, then apply `t + 1`). Fills, order updates and
//! market lifecycle from the feed are applied between decisions.
//!
//! Safety rails: a per-market throttle; a per-market circuit breaker that half-opens after a
//! cool-down; account-level limits (SPEC §6 rules 3–4 on the shared account, a daily loss
//! limit and a maximum drawdown, [`AccountRisk`]); a kill switch (file, SIGINT/SIGTERM or
//! flag) whose watchdog thread cancels every resting order of ours within its bound through
//! an independent client ([`KillWatchdog`]); reconciliation that adopts a venue difference
//! only when it shows twice; adoption on restart of the venue's positions and our own resting
//! orders (found by prefix), leaving orders we did not place alone; and a JSONL decision log.
//! A policy checkpoint that does not fit the environment refuses to start
//! ([`LivePolicy::load`]).
//!
//! # Venues
//!
//! - **paper** ([`PaperVenue`](crate::venue::PaperVenue)): the actor pushes every book update
//!   into the venue, whose engines execute orders with the environment's step. The mirror and
//!   the venue run the same engine on the same data, so they never disagree (reconciliation
//!   checks it), and a replay through the paper venue takes the same decisions as an `Env`
//!   replay of the same data (`tests/live_actor.rs` checks actions and observation hashes).
//! - **kalshi** ([`KalshiVenue`](crate::venue::KalshiVenue)): real orders. The venue's
//!   position and cash are adopted at start and then move with every fill (each trade id
//!   once, fees from the fill) and settlement; every order is checked by the mirror's
//!   [`Engine::plan_order`](kalsim_core::Engine::plan_order) (the policy's mask) and by the
//!   same limits against the venue's position and the shared account
//!   ([`Verdict::VenueLimit`]). The mirror's own account keeps simulating fills against the
//!   live book (the core has no way to overwrite an account), so on this venue the
//!   observation's portfolio features are the simulated ones;
//!   [`ActorConfig::venue_mask`] makes the policy's mask follow the venue's account instead.
//!
//! # Decision log (JSON Lines)
//!
//! `{"kind": "decision", "seq", "ticker", "step", "obs_hash" (16 hex digits of FNV-1a over
//! the observation's f32 bits), "action", "intent", "tier", "size", "price" (the intent's
//! contract, cents), "verdict" ([`Verdict::name`]), "reason" (the limit or why),
//! "client_order_id", "venue" (the ack or the error), "position", "cash_cents"}`; also
//! `start`, `fill`, `order_update`, `lifecycle`, `market_closed`, `market_reopened`,
//! `result`, `settlement`, `reconcile`, `resolved`, `market_refused`, `risk_stop`,
//! `breaker_open`, `out_of_sync`, `sub_cent_skipped`, `unparsed`, `venue_warning`,
//! `book_error`, `kill`, `cancel_all` and `stop` lines (`docs/live.md` lists their fields).
//!
//! # Not covered
//!
//! - The observation's time feature uses the messages' exchange timestamps (`ts_ms` / `ts`),
//!   as the environment does in replay; only messages without one fall back to wall-clock
//!   time ([`Clock::Wall`]).
//! - Forecasts (SPEC §10) are not read from a live feed: the observation's forecast group
//!   stays empty live, while replay of a capture with forecasts fills it. Replay and live
//!   build the observation through the same [`MarketSession`](crate::env::MarketSession).

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
