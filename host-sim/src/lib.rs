//! # kalsim-host-sim
//!
//! kalsim on `std`: Kalshi replay and synthetic markets, the Gymnasium-style environment and
//! vector environment, training, metrics and reports, and the `kalsim` CLI.
#![deny(missing_docs)]

#[cfg(feature = "cli")]
pub mod bench;
#[cfg(feature = "cli")]
pub mod cli;
pub mod data;
pub mod env;
#[cfg(feature = "live")]
pub mod live;
pub mod policy;
pub mod report;
pub mod train;
#[cfg(feature = "live")]
pub mod venue;
pub mod wire;
