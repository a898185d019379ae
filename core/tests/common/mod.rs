//! Helpers shared by the core's integration tests: prices, depth and small hand-built books.
#![allow(dead_code)]

use kalsim_core::{CentiContracts, Cents, Engine, EngineConfig, Price};

/// A price in cents (panics on a bad literal: test input only).
pub fn p(cents: u8) -> Price {
    Price::new(cents).unwrap()
}

/// Whole contracts of depth.
pub fn c(contracts: u64) -> CentiContracts {
    CentiContracts(contracts * 100)
}

/// An engine with `config` and a snapshot of `yes` / `no` bids given as `(cents, contracts)`.
pub fn engine_with(config: EngineConfig, yes: &[(u8, u64)], no: &[(u8, u64)]) -> Engine {
    let mut e = Engine::new(config, 7);
    snapshot(&mut e, yes, no);
    e
}

/// Replace the engine's book with a snapshot of `(cents, contracts)` bids.
pub fn snapshot(e: &mut Engine, yes: &[(u8, u64)], no: &[(u8, u64)]) {
    let y: Vec<_> = yes.iter().map(|&(pr, n)| (p(pr), c(n))).collect();
    let n: Vec<_> = no.iter().map(|&(pr, q)| (p(pr), c(q))).collect();
    e.apply_snapshot(&y, &n).unwrap();
}

/// The small book of most scenarios: YES bid 40 / NO bid 55, so YES ask 45, NO ask 60.
/// Deep enough (1 000 contracts a level) that every tier fills at the top level.
pub fn deep_book(config: EngineConfig) -> Engine {
    engine_with(
        config,
        &[(40, 1_000), (39, 1_000)],
        &[(55, 1_000), (54, 1_000)],
    )
}

/// Cash of an engine, cents.
pub fn cash(e: &Engine) -> i64 {
    e.account().cash().0
}

/// `EngineConfig` with initial cash in cents.
pub fn with_cash(cents: i64) -> EngineConfig {
    EngineConfig {
        initial_cash: Cents(cents),
        ..EngineConfig::default()
    }
}
