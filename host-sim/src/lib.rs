//! # kalsim-host-sim
//!
//! kalsim on `std`: Kalshi replay and synthetic markets, the Gymnasium-style environment and
//! vector environment, training, metrics and reports, and the `kalsim` CLI.
#![deny(missing_docs)]
pub mod data;
pub mod env;
pub mod train;
#[cfg(feature = "live")]
pub mod venue;
