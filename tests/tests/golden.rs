//! Golden vectors (SPEC §11): the Rust side. Every file in `tests/vectors/` is replayed and
//! must match bit for bit; the C, Python and WASM suites replay the same files.
//! `KALSIM_BLESS=1` regenerates the files from the cases below.
//!
//! Regenerated (issue 11) when sweep pricing became the default (SPEC §3) and the
//! consumed-liquidity overlay became `min(overlay, displayed)` across deltas and snapshots
//! (SPEC §4): every case's fills, marks and rewards moved with those rules; the cases
//! `sweep_latency_events` and `sweep_rest_ms_interval` were added for the new options.

use std::path::PathBuf;

use kalsim_host_sim::env::EnvConfig;
use kalsim_tests::{ActionScript, Vector, record, replay};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

fn small(markets: u32, events: u32, seed: u64) -> EnvConfig {
    let mut c = EnvConfig::default();
    c.data.synthetic_markets = markets;
    c.data.synthetic_events = events;
    c.data.synthetic_seed = seed;
    c
}

fn cases() -> Vec<Vector> {
    let mut out = Vec::new();
    let c = small(2, 250, 7);
    out.push(
        record(
            "default_random_masked",
            "Default configuration (variable sizing, sweep pricing with 2¢ slippage and IOC remainders, \
             reduce-only, liquidation marks) on \
             2 synthetic markets × 250 events (generator seed 7); actions uniform over the mask from Rng(1); \
             one whole episode to settlement.",
            &c,
            42,
            ActionScript::RandomMasked(1),
            10_000,
        )
        .unwrap(),
    );
    out.push(
        record(
            "all_25_actions_cycle",
            "Default configuration; the actions 0..=24 in turn, so masked trade actions and the reserved ids \
             21..=24 are executed as HOLD with their reason (SPEC §6); 120 steps.",
            &c,
            3,
            ActionScript::Cycle,
            120,
        )
        .unwrap(),
    );
    let mut f = small(3, 300, 11);
    f.sizing = kalsim_host_sim::env::Sizing::Fixed;
    f.pricing = kalsim_core::PricingMode::Passive;
    f.mark = kalsim_core::MarkMode::Mid;
    f.fees.maker_fees = true;
    f.queue_model = kalsim_host_sim::env::QueueModel::Probabilistic;
    f.trade_prob_bps = 6_000;
    let mut q = small(2, 300, 13);
    q.pricing = kalsim_core::PricingMode::Passive;
    out.push(
        record(
            "passive_fifo_resting",
            "Passive pricing with the default FIFO queue model on 2 synthetic markets × 300 events (seed 13): \
             HOLD 90 % of the time, otherwise uniform over the mask from Rng(17), so resting orders live long \
             enough to be reached by the queue and by crossing.",
            &q,
            8,
            ActionScript::Sparse(17, 9_000),
            10_000,
        )
        .unwrap(),
    );
    out.push(
        record(
            "fixed_passive_mid_probabilistic",
            "Fixed sizing (10), passive pricing (resting orders), mid marks, maker fees on, probabilistic queue \
             model (60 % trades) on 3 synthetic markets × 300 events (seed 11); any action id from Rng(5), \
             masked ones included.",
            &f,
            99,
            ActionScript::RandomAny(5),
            10_000,
        )
        .unwrap(),
    );
    let mut s = small(2, 200, 23);
    s.sell_mode = kalsim_core::SellMode::SellToOpen;
    s.pricing = kalsim_core::PricingMode::Mid;
    s.max_steps = 150;
    s.initial_cash_cents = 20_000;
    s.reward_scale = 1.0;
    out.push(
        record(
            "sell_to_open_mid_truncated",
            "Sell-to-open netting, mid pricing, $200 initial cash, reward in cents, max_steps 150 (truncation) \
             on 2 synthetic markets × 200 events (seed 23); actions uniform over the mask from Rng(9).",
            &s,
            5,
            ActionScript::RandomMasked(9),
            10_000,
        )
        .unwrap(),
    );
    let mut l = small(2, 300, 29);
    l.order_latency_ms = 300;
    l.decision_interval = kalsim_host_sim::env::DecisionInterval::Events(5);
    out.push(
        record(
            "sweep_latency_events",
            "Default sweep pricing with a 300 ms order latency (orders reach the book at the first event \
             ≥ 300 ms of exchange time after the decision) and a decision every 5 events, on 2 synthetic \
             markets × 300 events (seed 29); HOLD 60 %, else uniform over the mask from Rng(31).",
            &l,
            17,
            ActionScript::Sparse(31, 6_000),
            10_000,
        )
        .unwrap(),
    );
    let mut r = small(2, 300, 37);
    r.sweep_remainder = kalsim_core::SweepRemainder::Rest;
    r.max_slippage_cents = 1;
    r.mark = kalsim_core::MarkMode::Mid;
    r.decision_interval = kalsim_host_sim::env::DecisionInterval::Ms(2_000);
    out.push(
        record(
            "sweep_rest_ms_interval",
            "Sweep pricing with 1¢ slippage whose remainders rest, mid marks, a decision at the first event \
             ≥ 2 s after the previous one, on 2 synthetic markets × 300 events (seed 37); actions uniform \
             over the mask from Rng(41).",
            &r,
            23,
            ActionScript::RandomMasked(41),
            10_000,
        )
        .unwrap(),
    );
    out
}

#[test]
fn golden_vectors_match() {
    let dir = vectors_dir();
    if std::env::var_os("KALSIM_BLESS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for v in cases() {
            let text = serde_json::to_string(&v).unwrap();
            std::fs::write(dir.join(format!("{}.json", v.name)), text + "\n").unwrap();
        }
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 4,
        "expected the golden vectors in {}",
        dir.display()
    );
    for path in files {
        let v: Vector = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v.format, "kalsim-golden");
        assert!(!v.steps.is_empty());
        let now = replay(&v).unwrap();
        assert_eq!(now.reset, v.reset, "{}: reset differs", v.name);
        for (i, (a, b)) in now.steps.iter().zip(v.steps.iter()).enumerate() {
            assert_eq!(a, b, "{}: step {i} differs", v.name);
        }
    }
}

#[test]
fn cases_are_recorded_identically_twice() {
    // Recording is itself deterministic: the same case gives the same vector.
    assert_eq!(cases(), cases());
}
