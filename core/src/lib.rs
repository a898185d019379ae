//! # kalsim-core
//!
//! The `no_std`, allocation-free rules of kalsim (see `SPEC.md`): units, the 25-action codec
//! with five size tiers, order intents and pricing, the Kalshi order book and matching,
//! fees, Kalshi netting and portfolio value, position limits and action masks, the step,
//! observations and metrics. Every front-end (host-sim, WASM, C ABI, Python) runs this crate.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod account;
pub mod action;
pub mod book;
pub mod engine;
pub mod fees;
pub mod limits;
pub mod metrics;
pub mod obs;
pub mod order;
pub mod queue;
pub mod rng;
pub mod units;

pub use account::{Account, MarkMode};
pub use action::{ACTION_COUNT, Action, ActionError, Intent, SizeTable, SizingMode, Tier};
pub use book::{BookError, OrderBook, Side};
pub use engine::{
    Engine, EngineConfig, EventOutcome, INVALID_ACTION_MAX_CODE, InvalidAction, OrderEcho,
    StepError, StepOutcome, WorkingOrder, check_order, invalid_action_name,
};
pub use fees::FeeSchedule;
pub use limits::{LimitViolation, Limits, PreparedLimits};
pub use metrics::SizingMetrics;
pub use obs::{ForecastView, OBS_DIM, OBS_FEATURES, OBS_SCHEMA_VERSION, ObsExtra, ObsState};
pub use order::{OrderPlan, PricingMode, SellMode, SweepRemainder};
pub use queue::{QueueModel, QueueModelKind};
pub use rng::Rng;
pub use units::{Bps, CentiContracts, Cents, Contracts, Price, PriceOutOfRange};
