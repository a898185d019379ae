//! Shared helpers for kalsim's cross-crate tests: proptest strategies over the core and the
//! golden-vector format (SPEC §11).
#![deny(missing_docs)]

pub mod golden;
pub mod strategies;

pub use golden::{ActionScript, ResetRecord, StepInfoRecord, StepRecord, Vector, record, replay};
pub use strategies::*;
