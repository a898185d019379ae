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

mod actor;
#[cfg(feature = "cli")]
pub mod cli;
mod feed;
mod log;
mod policy;
mod signal;

pub use actor::{
    Actor, ActorConfig, ActorReport, Clock, DecisionRecord, LiveVenue, StopReason, Verdict,
    engine_config_for,
};
pub use feed::{Feed, FeedEvent, TapeFeed, WsFeed};
pub use log::{DecisionLog, obs_hash};
pub use policy::{LivePolicy, env_policy_meta};
pub use signal::{KillSwitch, install_signal_handlers};
