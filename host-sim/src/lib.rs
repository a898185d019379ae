//! # kalsim-host-sim
//!
//! kalsim on `std`, one module per job, the dependency arrows pointing one way:
//!
//! - [`wire`]: Kalshi's message formats (fixed point, market data, orders, timestamps);
//! - [`data`]: captures (replay), the synthetic generators, validation, forecasts;
//! - [`env`]: [`env::MarketSession`], the Gymnasium-style [`env::Env`] and [`env::VecEnv`];
//! - [`policy`]: the baselines and trained policies behind one trait;
//! - [`report`]: evaluation runs and the SPEC §9 metrics (plots with feature `cli`);
//! - [`train`]: the PPO trainer (it sees the environment only through `train::BatchEnv`);
//! - [`experiment`]: training runs and the sizing experiment as plan → tasks → gather, shared
//!   by the CLI, the C ABI (Python) and Ray;
//! - [`venue`] and [`live`] (feature `live`): order routing to Kalshi or a simulation, the
//!   live actor, recording.
//!
//! The `kalsim` binary is the `kalsim-cli` crate beside this one. The default features
//! build the environment without the network stack.
#![deny(missing_docs)]

pub mod data;
pub mod env;
pub mod experiment;
#[cfg(feature = "live")]
pub mod live;
pub mod policy;
pub mod report;
pub mod train;
#[cfg(feature = "live")]
pub mod venue;
pub mod wire;
