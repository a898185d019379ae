//! Criterion benchmarks of the core's hot paths: the action codec, the action mask and one full
//! step (`step_action` + one `apply_delta` + `portfolio_value`) on a realistic book.
//!
//! Run: `cargo bench -p kalsim-core -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kalsim_core::action::decode;
use kalsim_core::{CentiContracts, Engine, EngineConfig, Price, PricingMode, SellMode, Side};

fn p(c: u8) -> Price {
    Price::new(c).unwrap()
}

/// 20 levels a side (YES bids 41..=22, NO bids 56..=37; YES ask 44), fractional depths.
type Ladder = Vec<(Price, CentiContracts)>;

fn realistic_book() -> (Ladder, Ladder) {
    let yes = (0..20)
        .map(|i| (p(41 - i), CentiContracts(5_000 + 1_337 * i as u64)))
        .collect();
    let no = (0..20)
        .map(|i| (p(56 - i), CentiContracts(4_000 + 1_111 * i as u64)))
        .collect();
    (yes, no)
}

/// An engine on that book holding +30 YES with a passive working order.
fn realistic_engine() -> Engine {
    let config = EngineConfig {
        sell_mode: SellMode::ReduceOnly,
        ..EngineConfig::default()
    };
    let mut e = Engine::new(config, 42);
    let (yes, no) = realistic_book();
    e.apply_snapshot(&yes, &no).unwrap();
    e.step_action(3).unwrap(); // BUY_YES Large: +20
    e.step_action(2).unwrap(); // BUY_YES Medium: +10
    e.apply_snapshot(&yes, &no).unwrap();
    // A working order: a thin best level makes an aggressive order rest its remainder.
    let thin_no = [(p(56), CentiContracts(300))];
    let mut no_thin = no.clone();
    no_thin[0] = thin_no[0];
    e.apply_snapshot(&yes, &no_thin).unwrap();
    e.step_action(1).unwrap(); // BUY_YES Small: 3 fill at 44, 2 rest at 44
    assert!(e.working_order().is_some());
    e
}

fn bench_decode(c: &mut Criterion) {
    c.bench_function("decode/all_25", |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for id in 0u32..25 {
                if decode(black_box(id)).is_ok() {
                    acc += 1;
                }
            }
            acc
        })
    });
    c.bench_function("decode/one", |b| {
        let mut id = 0u32;
        b.iter(|| {
            id = if id == 24 { 0 } else { id + 1 };
            decode(black_box(id))
        })
    });
}

fn bench_mask(c: &mut Criterion) {
    let e = realistic_engine();
    c.bench_function("action_mask/20_levels_position_working_order", |b| {
        b.iter(|| black_box(&e).action_mask())
    });
    let passive = {
        let mut cfg = *e.config();
        cfg.pricing = PricingMode::Passive;
        let mut p = Engine::new(cfg, 1);
        let (yes, no) = realistic_book();
        p.apply_snapshot(&yes, &no).unwrap();
        p
    };
    c.bench_function("action_mask/passive_flat", |b| {
        b.iter(|| black_box(&passive).action_mask())
    });
}

fn bench_step(c: &mut Criterion) {
    let base = realistic_engine();
    let mut k = 0u32;
    c.bench_function("full_step/step_action+apply_delta+portfolio_value", |b| {
        b.iter_batched_ref(
            || {
                k = k.wrapping_add(1);
                // Alternate a trade (BUY_YES Medium / SELL_YES Small) and HOLD.
                let action = [2u32, 0, 6, 0][k as usize % 4];
                (base.clone(), action)
            },
            |(e, action)| {
                e.step_action(black_box(*action)).unwrap();
                e.apply_delta(black_box(Side::Yes), black_box(p(41)), black_box(-150))
                    .unwrap();
                black_box(e.portfolio_value())
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench_decode, bench_mask, bench_step);
criterion_main!(benches);
