//! The synthetic generator against the parser: round trip, determinism, streaming a big file.

use std::io::BufReader;
use std::path::PathBuf;

use kalsim_core::{OrderBook, Side};
use kalsim_host_sim::data::r#gen::{
    GenModel, generate_string_model, generate_with_books, generate_with_books_model,
};
use kalsim_host_sim::data::{
    BookEvent, GenConfig, LoadOptions, MarketTape, generate, generate_string, load_files,
    load_reader, load_str, validate,
};

fn replay(tape: &MarketTape) -> OrderBook {
    let mut book = OrderBook::new();
    for ev in &tape.events {
        tape.apply_to_book(ev, &mut book).unwrap();
    }
    book
}

#[test]
fn round_trip_rebuilds_the_generators_books() {
    let cfg = GenConfig {
        markets: 6,
        events: 1_500,
        seed: 7,
    };
    let mut bytes = Vec::new();
    let truth = generate_with_books(&cfg, &mut bytes).unwrap();
    let d = load_reader(
        "gen.jsonl",
        BufReader::new(&bytes[..]),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(d.markets.len(), 6);
    assert_eq!(d.report.skipped_total, 0);
    assert_eq!(d.report.gap_total, 0);
    assert_eq!(d.report.ignored_types.get("subscribed"), Some(&3));
    let text = String::from_utf8(bytes).unwrap();
    // Both wire forms are exercised.
    for needle in [
        "\"yes\":[[",
        "_dollars_fp\":[[",
        "\"delta\":",
        "\"delta_fp\":",
        "\"ts\":\"2025-",
    ] {
        assert!(text.contains(needle), "missing {needle}");
    }
    let mut results = [0u32; 2];
    for (tape, want) in d.markets.iter().zip(&truth) {
        assert_eq!(tape.ticker, want.ticker);
        assert_eq!(tape.events.len(), 1 + cfg.events as usize);
        assert!(matches!(tape.events[0].event, BookEvent::Snapshot { .. }));
        assert_eq!(replay(tape), want.book, "{}", tape.ticker);
        assert_eq!(tape.result, Some(want.result));
        results[want.result as usize] += 1;
        // Realistic books: both sides quoted, 1..=3¢ spread at the end.
        let (y, n) = (
            want.book.best_bid(Side::Yes).unwrap(),
            want.book.best_bid(Side::No).unwrap(),
        );
        let spread = 100 - y.cents() - n.cents();
        assert!((1..=40).contains(&spread), "spread {spread}");
    }
    let summary = validate(&d);
    assert!(summary.markets.iter().all(|m| m.errors == 0));
    assert!(summary.markets.iter().all(|m| m.spread_cents.min >= 1));
    let table = summary.to_string();
    assert!(table.contains("KXSIM-25JAN01-M0000"), "{table}");
}

#[test]
fn signal_strength_varies_across_markets() {
    let cfg = GenConfig {
        markets: 24,
        events: 10,
        seed: 3,
    };
    let truth = generate_with_books(&cfg, std::io::sink()).unwrap();
    let weak = truth
        .iter()
        .filter(|m| m.signal_strength_bps < 3_000)
        .count();
    let strong = truth
        .iter()
        .filter(|m| m.signal_strength_bps >= 4_000)
        .count();
    assert!(weak > 0 && strong > 0, "weak {weak} strong {strong}");
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    let cfg = GenConfig {
        markets: 3,
        events: 300,
        seed: 42,
    };
    let a = generate_string(&cfg);
    let b = generate_string(&cfg);
    assert_eq!(a, b);
    let mut via_writer = Vec::new();
    generate(&cfg, &mut via_writer).unwrap();
    assert_eq!(a.as_bytes(), &via_writer[..]);
    let c = generate_string(&GenConfig { seed: 43, ..cfg });
    assert_ne!(a, c);
    assert!(load_str("a", &a, &LoadOptions::default()).is_ok());
}

#[test]
fn zero_events_still_settles() {
    let cfg = GenConfig {
        markets: 2,
        events: 0,
        seed: 1,
    };
    let d = load_str("z", &generate_string(&cfg), &LoadOptions::default()).unwrap();
    assert_eq!(d.markets.len(), 2);
    assert!(
        d.markets
            .iter()
            .all(|m| m.events.len() == 1 && m.result.is_some())
    );
}

#[test]
fn large_file_streams_through_load_files() {
    let cfg = GenConfig {
        markets: 20,
        events: 10_000,
        seed: 11,
    };
    let dir = std::env::temp_dir().join(format!("kalsim-data-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join("big.jsonl");
    {
        let file = std::fs::File::create(&path).unwrap();
        generate(&cfg, std::io::BufWriter::new(file)).unwrap();
    }
    let d = load_files(std::slice::from_ref(&path), &LoadOptions::default());
    std::fs::remove_dir_all(&dir).unwrap();
    let d = d.unwrap();
    assert_eq!(d.markets.len(), 20);
    // 3 subscribed + 20 snapshots + 200k deltas + 20 results.
    assert_eq!(d.report.lines, 3 + 20 + 200_000 + 20);
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn edge_zero_is_the_original_model_byte_for_byte() {
    // Pinned from the generator before the `edge_bps` knob existed.
    let text = generate_string(&GenConfig {
        markets: 3,
        events: 300,
        seed: 42,
    });
    assert_eq!(text.len(), 154_104);
    assert_eq!(fnv1a(text.as_bytes()), 0x0043_743d_59b1_39c2);
    let cfg = GenConfig {
        markets: 3,
        events: 300,
        seed: 42,
    };
    assert_eq!(generate_string_model(&cfg, GenModel::default()), text);
    assert_eq!(GenModel::default().edge_bps, 0);
}

/// Range of the YES best bid over a market's tape.
fn bid_range(tape: &MarketTape) -> i64 {
    let mut book = OrderBook::new();
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for ev in &tape.events {
        tape.apply_to_book(ev, &mut book).unwrap();
        if let Some(b) = book.best_bid(Side::Yes) {
            lo = lo.min(i64::from(b.cents()));
            hi = hi.max(i64::from(b.cents()));
        }
    }
    hi - lo
}

#[test]
fn edge_adds_information_shocks_and_stays_valid() {
    let base = GenConfig {
        markets: 16,
        events: 2_000,
        seed: 5,
    };
    let shocked = GenModel { edge_bps: 1_500 };
    let mut bytes = Vec::new();
    let truth = generate_with_books_model(&base, shocked, &mut bytes).unwrap();
    assert_eq!(
        generate_string_model(&base, shocked).as_bytes(),
        &bytes[..],
        "deterministic"
    );
    let text = String::from_utf8(bytes).unwrap();
    assert_ne!(text, generate_string(&base));
    let d = load_str("edge", &text, &LoadOptions::default()).unwrap();
    assert_eq!(d.report.skipped_total, 0);
    assert_eq!(d.report.gap_total, 0);
    let plain = load_str("plain", &generate_string(&base), &LoadOptions::default()).unwrap();
    for (tape, want) in d.markets.iter().zip(&truth) {
        assert_eq!(tape.events.len(), 1 + base.events as usize);
        assert_eq!(replay(tape), want.book, "{}", tape.ticker);
    }
    // Shocks move prices further than the random walk alone.
    let range = |ms: &[MarketTape]| ms.iter().map(bid_range).sum::<i64>();
    let (r_edge, r_plain) = (range(&d.markets), range(&plain.markets));
    assert!(r_edge > r_plain, "edge {r_edge} vs plain {r_plain}");
}

/// SPEC §10's shared path: the tapes the generator yields directly are the tapes its JSONL
/// loads into (the latent path aside, which never leaves the generator), with and without
/// the opt-in information shocks.
#[test]
fn tapes_equal_the_loaded_jsonl() {
    use kalsim_host_sim::data::r#gen::{GenModel, generate_string_model, generate_tapes_model};
    for edge_bps in [0, 1_500] {
        let cfg = GenConfig {
            markets: 5,
            events: 700,
            seed: 21,
        };
        let model = GenModel { edge_bps };
        let text = generate_string_model(&cfg, model);
        let loaded = kalsim_host_sim::data::load_str("gen", &text, &LoadOptions::default())
            .unwrap()
            .markets;
        let direct = generate_tapes_model(&cfg, model);
        assert_eq!(direct.len(), loaded.len());
        for (mut d, l) in direct.into_iter().zip(loaded) {
            assert_eq!(d.latent_ppm.len(), d.events.len());
            d.latent_ppm.clear();
            assert_eq!(d, l, "{}", l.ticker);
        }
    }
}
