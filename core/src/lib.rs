//! # kalsim-core
//!
//! The `no_std`, allocation-free rules of kalsim (see `SPEC.md`): units, the 25-action codec
//! with five size tiers, order intents and pricing, the Kalshi order book and matching,
//! fees, Kalshi netting and portfolio value, position limits and action masks, the step,
//! observations and metrics. Every front-end (host-sim, WASM, C ABI, Python) runs this crate.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod action;
pub mod book;
pub mod rng;
pub mod units;

pub use action::{ACTION_COUNT, Action, ActionError, Intent, SizeTable, SizingMode, Tier};
pub use book::{BookError, OrderBook, Side};
pub use rng::Rng;
pub use units::{Bps, CentiContracts, Cents, Contracts, Price, PriceOutOfRange};
