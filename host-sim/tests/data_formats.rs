//! Both Kalshi formats, the REST response, the committed sample capture and results files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kalsim_core::{CentiContracts, OrderBook, Price, Side};
use kalsim_host_sim::data::{LoadOptions, MarketTape, load_files, load_results_json, load_str};

fn p(c: u8) -> Price {
    Price::new(c).unwrap()
}

/// Rebuild a market's final book from its tape.
fn replay(tape: &MarketTape) -> OrderBook {
    let mut book = OrderBook::new();
    for ev in &tape.events {
        tape.apply_to_book(ev, &mut book).unwrap();
    }
    book
}

const LEGACY: &str = r#"{"type":"orderbook_snapshot","sid":7,"seq":1,"msg":{"market_ticker":"T","yes":[[40,300],[38,120]],"no":[[56,5],[54,146]]}}
{"type":"orderbook_delta","sid":7,"seq":2,"msg":{"market_ticker":"T","price":41,"delta":12,"side":"yes","ts":"2025-01-01T00:00:01.500Z"}}
{"type":"orderbook_delta","sid":7,"seq":3,"msg":{"market_ticker":"T","price":56,"delta":-5,"side":"no","ts_ms":1735689602000}}
"#;

const FIXED_POINT: &str = r#"{"type":"orderbook_snapshot","sid":9,"seq":10,"msg":{"market_ticker":"T","yes_dollars_fp":[["0.4000","300.00"],["0.38","120"]],"no_dollars_fp":[["0.5600","5.00"],["0.5400","146.00"]]}}
{"type":"orderbook_delta","sid":9,"seq":11,"msg":{"market_ticker":"T","price_dollars":"0.4100","delta_fp":"12.00","side":"yes","ts":"2025-01-01T00:00:01.500Z"}}
{"type":"orderbook_delta","sid":9,"seq":12,"msg":{"market_ticker":"T","price_dollars":"0.5600","delta_fp":"-5.00","side":"no","ts_ms":1735689602000}}
"#;

#[test]
fn legacy_and_fixed_point_give_the_same_tape_and_book() {
    let opts = LoadOptions::default();
    let a = load_str("legacy.jsonl", LEGACY, &opts).unwrap();
    let b = load_str("fp.jsonl", FIXED_POINT, &opts).unwrap();
    assert_eq!(a.markets.len(), 1);
    // Same events (timestamps included) and the same book.
    assert_eq!(a.markets[0].events, b.markets[0].events);
    let (ba, bb) = (replay(&a.markets[0]), replay(&b.markets[0]));
    assert_eq!(ba, bb);
    assert_eq!(ba.best_bid(Side::Yes), Some(p(41)));
    assert_eq!(ba.best_bid(Side::No), Some(p(54)));
    assert_eq!(ba.depth(Side::Yes, p(40)), CentiContracts(30_000));
    assert_eq!(a.markets[0].events[1].ts_ms, Some(1_735_689_601_500));
    assert_eq!(a.markets[0].events[2].ts_ms, Some(1_735_689_602_000));
}

#[test]
fn rest_orderbook_response_is_a_snapshot() {
    let opts = LoadOptions::default();
    let rest = r#"{"ticker":"T","orderbook_fp":{"yes_dollars":[["0.4000","300.00"],["0.3800","120.00"]],"no_dollars":[["0.5600","5.00"],["0.5400","146.00"]]}}"#;
    let d = load_str("rest.json", rest, &opts).unwrap();
    assert_eq!(d.markets[0].ticker, "T");
    let legacy_snapshot = LEGACY.lines().next().unwrap();
    let l = load_str("legacy.jsonl", legacy_snapshot, &opts).unwrap();
    assert_eq!(replay(&d.markets[0]), replay(&l.markets[0]));

    // Without a ticker key the source name names the market.
    let bare = r#"{"orderbook_fp":{"yes_dollars":[["0.4000","300.00"]],"no_dollars":[]}}"#;
    let d = load_str("KXABC-25", bare, &opts).unwrap();
    assert_eq!(d.markets[0].ticker, "KXABC-25");
}

#[test]
fn sample_capture_loads_with_exact_books() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sample_capture.jsonl");
    let d = load_files(&[path], &LoadOptions::default()).unwrap();
    let tickers: Vec<&str> = d.markets.iter().map(|m| m.ticker.as_str()).collect();
    assert_eq!(
        tickers,
        ["KXFEDDECISION-25DEC-H0", "KXHIGHNY-25JUN10-B85.5"]
    );

    let fed = replay(&d.markets[0]);
    assert_eq!(fed.best_bid(Side::Yes), Some(p(40)));
    assert_eq!(fed.best_bid(Side::No), Some(p(56)));
    assert_eq!(fed.depth(Side::No, p(55)), CentiContracts(3_000));
    assert_eq!(d.markets[0].result, None);

    let ny = replay(&d.markets[1]);
    assert_eq!(ny.depth(Side::Yes, p(12)), CentiContracts(140_647_486));
    assert_eq!(ny.depth(Side::Yes, p(17)), CentiContracts(1_000));
    assert_eq!(ny.best_bid(Side::Yes), Some(p(18)));
    assert_eq!(ny.best_bid(Side::No), Some(p(80)));
    assert_eq!(d.markets[1].result, Some(Side::No));

    let r = &d.report;
    assert_eq!(r.lines, 11);
    assert_eq!(r.blank_lines, 1);
    assert_eq!(r.ignored_types.get("subscribed"), Some(&2));
    assert_eq!(r.ignored_types.get("trade"), Some(&1));
    assert_eq!(r.ignored_types.get("ticker"), Some(&1));
    assert_eq!(r.markets["KXFEDDECISION-25DEC-H0"].deltas, 2);
    assert_eq!(r.markets["KXHIGHNY-25JUN10-B85.5"].snapshots, 1);
    assert_eq!(r.skipped_total, 0);
}

#[test]
fn results_file_overrides_and_fills() {
    let results = load_results_json(r#"{"T": "yes", "OTHER": "no"}"#).unwrap();
    let opts = LoadOptions {
        results: Some(results),
        ..LoadOptions::default()
    };
    let text = format!(
        "{LEGACY}{}\n",
        r#"{"type":"market_lifecycle_v2","sid":3,"msg":{"market_ticker":"T","result":"no"}}"#
    );
    let d = load_str("x", &text, &opts).unwrap();
    assert_eq!(d.markets[0].result, Some(Side::Yes));
    assert_eq!(d.report.unmatched_results, 1);

    let d = load_str("x", &text, &LoadOptions::default()).unwrap();
    assert_eq!(d.markets[0].result, Some(Side::No));

    let err = load_results_json(r#"{"T": "maybe"}"#).unwrap_err();
    assert!(err.to_string().contains("\"maybe\""), "{err}");
    assert!(load_results_json("[1,2]").is_err());
    let _: BTreeMap<String, Side> = load_results_json("{}").unwrap();
}

#[test]
fn several_files_merge_into_one_dataset() {
    let dir = std::env::temp_dir().join(format!("kalsim-data-merge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
    std::fs::write(&a, LEGACY).unwrap();
    // The second capture is another connection: its seq numbering restarts.
    std::fs::write(
        &b,
        r#"{"type":"orderbook_delta","sid":1,"seq":1,"msg":{"market_ticker":"T","price":41,"delta":-2,"side":"yes"}}
{"type":"orderbook_snapshot","sid":1,"seq":2,"msg":{"market_ticker":"A","yes":[[10,1]]}}
"#,
    )
    .unwrap();
    let d = load_files(&[a, b.clone()], &LoadOptions::default());
    let missing = load_files(&[dir.join("nope.jsonl")], &LoadOptions::default());
    std::fs::remove_dir_all(&dir).unwrap();
    let d = d.unwrap();
    assert_eq!(d.markets.len(), 2);
    assert_eq!(d.markets[0].ticker, "A");
    assert_eq!(d.markets[1].events.len(), 4);
    assert_eq!(
        replay(&d.markets[1]).depth(Side::Yes, p(41)),
        CentiContracts(1_000)
    );
    assert_eq!(d.report.sources.len(), 2);
    let e = missing.unwrap_err();
    assert_eq!(e.kind.name(), "io");
    assert!(e.to_string().contains("nope.jsonl"), "{e}");
}

/// A lifecycle message's close time is kept also when it arrives before the market's first
/// snapshot (SPEC §10: nothing is silently dropped); one for a market that never gets a
/// book is counted as ignored.
#[test]
fn lifecycle_close_time_before_the_first_snapshot_is_kept() {
    let text = [
        r#"{"type":"market_lifecycle_v2","msg":{"market_ticker":"T","close_ts":1700000000}}"#,
        r#"{"type":"market_lifecycle_v2","msg":{"market_ticker":"GONE","close_ts":1700000500}}"#,
        r#"{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"T","yes":[[40,10]],"no":[[55,10]]}}"#,
    ]
    .join("\n");
    let ds = load_str("t.jsonl", &text, &LoadOptions::default()).unwrap();
    assert_eq!(ds.markets[0].close_ts_ms, Some(1_700_000_000_000));
    assert_eq!(ds.report.ignored_types.values().sum::<u64>(), 1);
}

/// A settlement result in the middle of a market's capture settles it there (SPEC §7): the
/// tape ends at the book event before the result; later book events are counted, dropped.
#[test]
fn a_result_mid_capture_ends_the_tape_there() {
    use kalsim_host_sim::env::{Env, EnvConfig};
    let text = [
        r#"{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"T","yes":[[40,10]],"no":[[55,10]]}}"#,
        r#"{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"T","side":"yes","price":40,"delta":5}}"#,
        r#"{"type":"market_lifecycle_v2","msg":{"market_ticker":"T","result":"yes"}}"#,
        r#"{"type":"orderbook_delta","sid":1,"seq":3,"msg":{"market_ticker":"T","side":"yes","price":40,"delta":5}}"#,
        r#"{"type":"orderbook_delta","sid":1,"seq":4,"msg":{"market_ticker":"T","side":"yes","price":40,"delta":5}}"#,
        r#"{"type":"orderbook_snapshot","sid":2,"seq":1,"msg":{"market_ticker":"U","yes":[[40,10]],"no":[[55,10]]}}"#,
        r#"{"type":"orderbook_delta","sid":2,"seq":2,"msg":{"market_ticker":"U","side":"yes","price":40,"delta":5}}"#,
    ]
    .join("\n");
    let ds = load_str("t.jsonl", &text, &LoadOptions::default()).unwrap();
    let t = &ds.markets[0];
    assert_eq!(
        (t.ticker.as_str(), t.events.len(), t.result),
        ("T", 2, Some(Side::Yes))
    );
    assert_eq!(ds.markets[1].events.len(), 2, "another market is untouched");
    assert_eq!(ds.report.events_after_result, 2);
    assert!(
        ds.report
            .to_string()
            .contains("2 book event(s) after a settlement result")
    );
    // The episode settles at the result: one step from the snapshot to the delta before it.
    let mut env = Env::new(EnvConfig::default(), ds.markets.into()).unwrap();
    let mut obs = vec![0.0; kalsim_core::OBS_DIM];
    env.reset(Some(0), &mut obs).unwrap();
    while env.market().ticker != "T" {
        env.reset(None, &mut obs).unwrap();
    }
    let r = env.step(0, &mut obs).unwrap();
    assert!(r.terminated && r.info.settled == 1, "{:?}", r.info);
}
