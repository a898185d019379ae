//! Shared pieces of the kalsim fuzz targets: a byte cursor that never fails (exhausted input
//! reads as zeros) and the invariants every target asserts after each operation.

use kalsim_core::{
    Account, Bps, CentiContracts, Cents, Contracts, Engine, EngineConfig, FeeSchedule, Limits,
    MarkMode, OBS_DIM, OBS_FEATURES, Price, PricingMode, QueueModelKind, SellMode, SizeTable,
};
// The configuration bounds have one definition, in host-sim; the generator below stays inside
// them (and reaches their edges) without restating them.
use kalsim_host_sim::env::bounds::{
    MAX_INITIAL_CASH_CENTS, MAX_POSITION_PER_MARKET, MAX_RATE_E4, MAX_SIZE, MAX_TRADE_PROB_BPS,
};

/// `MAX_SIZE` in the cursor's unit.
const MAX_SIZE_U64: u64 = MAX_SIZE as u64;
/// `MAX_POSITION_PER_MARKET` in the cursor's unit.
const MAX_POSITION_U64: u64 = MAX_POSITION_PER_MARKET as u64;
/// `MAX_RATE_E4` in the cursor's unit.
const MAX_RATE_U64: u64 = MAX_RATE_E4 as u64;
/// `MAX_INITIAL_CASH_CENTS` in the cursor's unit (positive by definition).
const MAX_CASH_U64: u64 = MAX_INITIAL_CASH_CENTS as u64;

/// Reads fuzz bytes as numbers; past the end everything is zero.
#[derive(Debug)]
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// A cursor over `data`.
    pub fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes { data }
    }
    /// True when no bytes remain.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    /// Bytes left.
    pub fn rest(&self) -> &'a [u8] {
        self.data
    }
    /// One byte.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }
    /// Little-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    /// Little-endian u32.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    /// Little-endian u64.
    pub fn u64(&mut self) -> u64 {
        (self.u32() as u64) | ((self.u32() as u64) << 32)
    }
    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.u64() % (hi - lo + 1)
    }
    /// A price 1..=99.
    pub fn price(&mut self) -> Price {
        Price::new(1 + self.u8() % 99).unwrap()
    }
    /// A depth, centi-contracts, biased toward interesting scales (whole contracts, tens of
    /// millions of contracts, the representable maximum).
    pub fn depth(&mut self) -> CentiContracts {
        CentiContracts(match self.u8() % 6 {
            0 => self.range(0, 1_000),
            1 => self.range(1, 100) * 100,
            2 => self.range(1_000_000_000, 10_000_000_000),
            3 => i64::MAX as u64 - self.range(0, 1_000),
            4 => self.u64(),
            _ => self.range(0, 10_000_000),
        })
    }
}

/// An `EngineConfig` within the ranges `EnvConfig::engine_config` accepts (the valid
/// configuration space), derived from fuzz bytes.
pub fn engine_config(b: &mut Bytes<'_>) -> EngineConfig {
    let sizes = match b.u8() % 4 {
        0 => SizeTable::DEFAULT,
        mode => {
            // Five strictly increasing sizes, the largest ≤ MAX_SIZE contracts.
            let step_max = match mode {
                1 => 20,
                2 => 1_000,
                _ => MAX_SIZE_U64 / 5,
            };
            let mut s = [0u32; 5];
            let mut prev = 0u64;
            for x in &mut s {
                prev += b.range(1, step_max);
                *x = prev as u32;
            }
            SizeTable::new(s).unwrap_or(SizeTable::DEFAULT)
        }
    };
    let sizes = if b.u8() % 4 == 0 {
        sizes
            .with_fixed(Contracts(b.range(1, MAX_SIZE_U64) as u32))
            .unwrap_or(sizes)
    } else {
        sizes
    };
    let limits = match b.u8() % 4 {
        0 => Limits::PLAN,
        // Everything permissive but the cash: the regime where only rule 4 protects cash.
        1 => Limits {
            max_position_per_market: MAX_POSITION_PER_MARKET,
            max_position_value: Cents(i64::MAX),
            max_portfolio_fraction: Bps(MAX_RATE_E4),
            min_cash_buffer: Cents(0),
        },
        _ => Limits {
            max_position_per_market: b.range(0, MAX_POSITION_U64) as u32,
            max_position_value: Cents(match b.u8() % 3 {
                0 => b.range(0, 100_000) as i64,
                1 => i64::MAX,
                _ => (b.u64() >> 1) as i64,
            }),
            max_portfolio_fraction: Bps(b.range(0, MAX_RATE_U64) as u32),
            min_cash_buffer: Cents(match b.u8() % 3 {
                0 => 0,
                1 => b.range(0, 10_000) as i64,
                _ => (b.u64() >> 1) as i64,
            }),
        },
    };
    let fees = match b.u8() % 4 {
        0 => FeeSchedule::KALSHI,
        1 => FeeSchedule {
            maker_fees: true,
            ..FeeSchedule::KALSHI
        },
        2 => FeeSchedule::FREE,
        _ => FeeSchedule {
            taker_rate_e4: b.range(0, MAX_RATE_U64) as u32,
            maker_rate_e4: b.range(0, MAX_RATE_U64) as u32,
            maker_fees: b.u8() & 1 == 1,
        },
    };
    EngineConfig {
        sizes,
        limits,
        pricing: match b.u8() % 4 {
            0 => PricingMode::Aggressive,
            1 => PricingMode::Passive,
            2 => PricingMode::Mid,
            _ => PricingMode::Sweep,
        },
        max_slippage_cents: b.u8() % 8,
        sweep_remainder: if b.u8() & 1 == 0 {
            kalsim_core::SweepRemainder::Cancel
        } else {
            kalsim_core::SweepRemainder::Rest
        },
        sell_mode: if b.u8() & 1 == 0 {
            SellMode::ReduceOnly
        } else {
            SellMode::SellToOpen
        },
        fees,
        mark: if b.u8() & 1 == 0 {
            MarkMode::Liquidation
        } else {
            MarkMode::Mid
        },
        strict: b.u8() & 1 == 1,
        initial_cash: Cents(match b.u8() % 4 {
            0 => 100_000,
            1 => b.range(1, 10_000) as i64,
            2 => MAX_INITIAL_CASH_CENTS,
            _ => b.range(1, MAX_CASH_U64) as i64,
        }),
        queue: if b.u8() & 1 == 0 {
            QueueModelKind::Fifo
        } else {
            QueueModelKind::Probabilistic {
                trade_prob_bps: b.range(0, u64::from(MAX_TRADE_PROB_BPS)) as u32,
            }
        },
    }
}

/// Snapshot levels for one side: up to 12 levels, duplicates allowed (the book rejects them).
pub fn levels(b: &mut Bytes<'_>) -> Vec<(Price, CentiContracts)> {
    let n = b.u8() % 13;
    (0..n).map(|_| (b.price(), b.depth())).collect()
}

/// The account invariants of SPEC §5/§6 that must hold after every operation.
pub fn check_account(account: &Account, limits: &Limits, what: &str) {
    assert!(
        account.cash().0 >= 0,
        "{what}: cash went negative: {account:?}"
    );
    assert!(
        account.position().unsigned_abs() <= limits.max_position_per_market as u64,
        "{what}: |position| above max_position_per_market {}: {account:?}",
        limits.max_position_per_market
    );
    assert_eq!(
        account.ledger_discrepancy(),
        0,
        "{what}: ledger does not reconcile: {account:?}"
    );
    // Portfolio value at the extreme marks is representable (no overflow anywhere in PV).
    let held_value = (account.position().unsigned_abs() as i64)
        .checked_mul(100)
        .expect("position value overflows");
    account
        .cash()
        .0
        .checked_add(held_value)
        .expect("portfolio value overflows");
}

/// Every engine invariant, including the PV computation itself.
pub fn check_engine(engine: &Engine, what: &str) {
    check_account(engine.account(), &engine.config().limits, what);
    let pv = engine.portfolio_value();
    assert!(pv.0 >= engine.account().cash().0, "{what}: negative mark");
    let _ = engine.unrealized_pnl();
    if let Some(w) = engine.working_order() {
        assert!(w.remaining > 0, "{what}: empty working order kept");
        assert!(w.remaining <= w.plan.size.0);
    }
}

/// Observations finite and inside the published schema's ranges.
pub fn check_obs(obs: &[f32], what: &str) {
    assert_eq!(obs.len(), OBS_DIM);
    for (i, (&x, f)) in obs.iter().zip(OBS_FEATURES.iter()).enumerate() {
        assert!(
            x.is_finite() && x >= f.min && x <= f.max,
            "{what}: obs[{i}] {} = {x} outside {}..={}",
            f.name,
            f.min,
            f.max
        );
    }
}

/// A load error names its source and (except for I/O) the line.
pub fn check_data_error(e: &kalsim_host_sim::data::DataError) {
    assert!(!e.source_name.is_empty(), "error without a source: {e:?}");
    if !matches!(e.kind, kalsim_host_sim::data::DataErrorKind::Io { .. }) {
        assert!(e.line.is_some(), "error without a line: {e:?}");
    }
    assert!(!e.to_string().is_empty());
}

/// Every market of a loaded dataset replays through an `Env` (default configuration, actions
/// drawn from `actions`) without a data error, with the invariants holding at every step.
pub fn check_replay(ds: &kalsim_host_sim::data::Dataset, actions: &[u8]) {
    use kalsim_host_sim::data::BookEvent;
    use kalsim_host_sim::env::{Env, EnvConfig};
    if ds.markets.is_empty() {
        return;
    }
    for m in &ds.markets {
        assert!(
            matches!(
                m.events.first().map(|e| e.event),
                Some(BookEvent::Snapshot { .. })
            ),
            "market {} does not start with a snapshot",
            m.ticker
        );
    }
    let markets = std::sync::Arc::new(ds.markets.clone());
    let mut env = Env::new(EnvConfig::default(), markets).expect("env over loaded markets");
    let mut obs = [0f32; OBS_DIM];
    let mut a = actions.iter().cycle();
    for episode in 0..ds.markets.len() {
        let seed = if episode == 0 { Some(1) } else { None };
        env.reset(seed, &mut obs).expect("reset over loaded market");
        check_obs(&obs, "reset");
        loop {
            let action = u32::from(a.next().copied().unwrap_or(0) % 25);
            let r = env.step(action, &mut obs).expect("step over loaded market");
            check_engine(env.engine(), "replay step");
            check_obs(&obs, "replay step");
            assert!(r.reward.is_finite());
            if r.terminated || r.truncated {
                break;
            }
        }
    }
}

/// A configuration JSON at (or one step past) the edges of `kalsim_host_sim::env::bounds`,
/// on a tiny synthetic dataset, and whether it lies inside every bound (so must be accepted).
pub fn bounded_config_json(b: &mut Bytes<'_>) -> (String, bool) {
    use kalsim_host_sim::env::bounds::MAX_REWARD_SCALE;
    let mut inside = true;
    let mut pick = |b: &mut Bytes<'_>, at: u64, past: u64| {
        if b.u8() % 8 == 0 {
            inside = false;
            past
        } else {
            at
        }
    };
    let cash = pick(b, MAX_CASH_U64, MAX_CASH_U64 + 1);
    let largest = pick(b, MAX_SIZE_U64, MAX_SIZE_U64 + 1);
    let position = pick(b, MAX_POSITION_U64, MAX_POSITION_U64 + 1);
    let rate = pick(b, MAX_RATE_U64, MAX_RATE_U64 + 1);
    let fraction = pick(b, MAX_RATE_U64, MAX_RATE_U64 + 1);
    let scale = match b.u8() % 8 {
        0 => {
            inside = false;
            MAX_REWARD_SCALE * 2.0
        }
        1 => -MAX_REWARD_SCALE,
        2 => MAX_REWARD_SCALE,
        _ => 0.01,
    };
    let json = format!(
        "{{\"initial_cash_cents\":{cash},\"sizes\":[1,2,3,4,{largest}],\"reward_scale\":{scale:?},\
         \"limits\":{{\"max_position_per_market\":{position},\"max_portfolio_fraction_bps\":{fraction}}},\
         \"fees\":{{\"taker_rate_e4\":{rate}}},\"max_steps\":20,\
         \"data\":{{\"synthetic_markets\":1,\"synthetic_events\":20}}}}"
    );
    (json, inside)
}
