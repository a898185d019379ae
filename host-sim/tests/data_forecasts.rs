//! Forecast messages (SPEC §10) and the informed generator: the JSONL it writes loads back to
//! the identical tapes; side files join by market and time; bad values are typed errors.

use kalsim_host_sim::data::{DataErrorKind, LoadOptions, Mode, informed, join_forecasts, load_str};

#[test]
fn informed_jsonl_loads_back_to_the_identical_tapes() {
    let tapes = informed::markets(5, 6, 300);
    assert!(
        tapes
            .iter()
            .all(|t| t.events.len() == 301 && !t.forecasts.is_empty())
    );
    assert!(tapes.iter().all(|t| t.latent_ppm.len() == t.events.len()));
    let text = informed::write_jsonl(&tapes);
    let ds = load_str("informed.jsonl", &text, &LoadOptions::default()).unwrap();
    assert_eq!(ds.markets.len(), tapes.len());
    for (mut want, got) in tapes.into_iter().zip(ds.markets) {
        // The latent probability never leaves the generator.
        want.latent_ppm.clear();
        assert_eq!(got, want, "{}", want.ticker);
        assert_eq!(
            ds.report.markets[&want.ticker].forecasts,
            want.forecasts.len() as u64
        );
    }
    // Same seed, same markets; another seed, other markets.
    assert_eq!(informed::market(5, 3, 300), informed::market(5, 3, 300));
    assert_ne!(informed::market(5, 3, 300), informed::market(1_005, 3, 300));
}

#[test]
fn forecast_precision_spans_the_preset_range() {
    let tapes = informed::markets(7, 200, 200);
    let sds: Vec<u32> = tapes
        .iter()
        .flat_map(|t| t.forecasts.iter().map(|f| f.stderr_ppm))
        .collect();
    let lo = *sds.iter().min().unwrap();
    let hi = *sds.iter().max().unwrap();
    assert!(lo <= 20_000 && hi >= 150_000, "stderr spans {lo}..{hi} ppm");
}

const CAPTURE: &str = r#"{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"A","yes":[[40,100]],"no":[[55,100]],"ts_ms":1000}}
{"type":"forecast","msg":{"market_ticker":"A","p_yes":"0.6132","stderr":"0.0500","ts_ms":1100}}
{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"A","side":"yes","price":40,"delta":5,"ts_ms":2000}}
{"type":"orderbook_delta","sid":1,"seq":3,"msg":{"market_ticker":"A","side":"yes","price":40,"delta":5,"ts_ms":3000}}
"#;

#[test]
fn forecasts_in_a_capture_and_in_a_side_file() {
    let mut ds = load_str("cap.jsonl", CAPTURE, &LoadOptions::default()).unwrap();
    let a = &ds.markets[0];
    assert_eq!(a.forecasts.len(), 1);
    assert_eq!(
        (
            a.forecasts[0].event,
            a.forecasts[0].p_yes_ppm,
            a.forecasts[0].stderr_ppm
        ),
        (1, 613_200, 50_000),
        "stamped 1100, after the snapshot at 1000: known from the next event (2000) on"
    );
    // Side file: joined at the first event at or after its time; floats read too.
    let side = r#"{"type":"forecast","msg":{"market_ticker":"A","p_yes":0.7,"stderr":0.1,"ts_ms":2500}}
{"type":"forecast","msg":{"market_ticker":"A","p_yes":"0.2","stderr":"0.01","ts_ms":9000}}
"#;
    join_forecasts(&mut ds, "side.jsonl", side, Mode::Strict).unwrap();
    let a = &ds.markets[0];
    assert_eq!(a.forecasts.len(), 2);
    assert_eq!(
        (a.forecasts[1].event, a.forecasts[1].p_yes_ppm),
        (2, 700_000)
    );
    assert_eq!(ds.report.forecasts_after_end, 1);
}

/// A forecast in a capture is never known before its own time: at the latest book event
/// when stamped no later than it (or unstamped), else from the next event on; one stamped
/// after the market's last event is dropped and counted.
#[test]
fn capture_forecasts_are_not_known_before_their_time() {
    let capture = r#"{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"A","yes":[[40,100]],"no":[[55,100]],"ts_ms":1000}}
{"type":"forecast","msg":{"market_ticker":"A","p_yes":"0.10","stderr":"0.01","ts_ms":1000}}
{"type":"forecast","msg":{"market_ticker":"A","p_yes":"0.20","stderr":"0.01"}}
{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"A","side":"yes","price":40,"delta":5}}
{"type":"forecast","msg":{"market_ticker":"A","p_yes":"0.30","stderr":"0.01","ts_ms":1500}}
{"type":"forecast","msg":{"market_ticker":"A","p_yes":"0.40","stderr":"0.01","ts_ms":900}}
{"type":"orderbook_delta","sid":1,"seq":3,"msg":{"market_ticker":"A","side":"yes","price":40,"delta":5,"ts_ms":3000}}
{"type":"forecast","msg":{"market_ticker":"A","p_yes":"0.50","stderr":"0.01","ts_ms":3000}}
{"type":"forecast","msg":{"market_ticker":"A","p_yes":"0.60","stderr":"0.01","ts_ms":3001}}
"#;
    let ds = load_str("cap.jsonl", capture, &LoadOptions::default()).unwrap();
    let a = &ds.markets[0];
    let known: Vec<(u32, u32)> = a.forecasts.iter().map(|f| (f.event, f.p_yes_ppm)).collect();
    // 0.30 is stamped after the delta (which carries the snapshot's 1000): known at event 2;
    // 0.40, stamped earlier but read after it, not before it; 0.60 after the last event.
    assert_eq!(
        known,
        [
            (0, 100_000),
            (0, 200_000),
            (2, 300_000),
            (2, 400_000),
            (2, 500_000)
        ]
    );
    assert_eq!(ds.report.forecasts_after_end, 1);
    assert_eq!(ds.report.markets["A"].forecasts, 5);
}

#[test]
fn bad_forecasts_are_typed_errors_naming_file_line_and_field() {
    let mut ds = load_str("cap.jsonl", CAPTURE, &LoadOptions::default()).unwrap();
    let cases = [
        (
            r#"{"type":"forecast","msg":{"market_ticker":"A","p_yes":"1.2","stderr":"0.1","ts_ms":1}}"#,
            "msg.p_yes",
        ),
        (
            r#"{"type":"forecast","msg":{"market_ticker":"A","p_yes":"0.5","stderr":"-0.1","ts_ms":1}}"#,
            "msg.stderr",
        ),
        (
            r#"{"type":"forecast","msg":{"market_ticker":"ZZZ","p_yes":"0.5","stderr":"0.1","ts_ms":1}}"#,
            "msg.market_ticker",
        ),
        (
            r#"{"type":"forecast","msg":{"market_ticker":"A","p_yes":"0.5","stderr":"0.1"}}"#,
            "msg.ts_ms",
        ),
    ];
    for (line, field) in cases {
        let text = format!("\n{line}\n");
        let e = join_forecasts(&mut ds, "side.jsonl", &text, Mode::Strict).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert_eq!(e.field.as_deref(), Some(field), "{e}");
        assert!(e.to_string().contains("side.jsonl"), "{e}");
    }
    // In a capture: the unknown market is found at the end of the load.
    let text = format!(
        "{CAPTURE}{}\n",
        r#"{"type":"forecast","msg":{"market_ticker":"B","p_yes":"0.5","stderr":"0.1"}}"#
    );
    let e = load_str("cap.jsonl", &text, &LoadOptions::default()).unwrap_err();
    assert!(matches!(e.kind, DataErrorKind::UnknownMarket { .. }), "{e}");
    let lenient = LoadOptions {
        mode: Mode::Lenient,
        ..LoadOptions::default()
    };
    let ds = load_str("cap.jsonl", &text, &lenient).unwrap();
    assert_eq!(ds.report.skipped_total, 1);
}

#[test]
fn a_time_split_keeps_the_book_forecasts_and_result() {
    let tape = informed::market(3, 1, 300);
    let cut = 200;
    let (train, eval) = tape.split_at(cut);
    assert_eq!(train.events.len(), cut);
    assert_eq!(train.result, None);
    assert_eq!(eval.events.len(), 1 + 300 + 1 - cut);
    assert_eq!(eval.result, tape.result);
    // The held-out part starts from the book at the cut and ends at the same book.
    assert_eq!(informed::final_book(&eval), informed::final_book(&tape));
    assert_eq!(informed::final_book(&train), {
        let mut b = kalsim_core::OrderBook::new();
        for e in &tape.events[..cut] {
            tape.apply_to_book(e, &mut b).unwrap();
        }
        b
    });
    // Forecasts follow their events; the one known at the cut is carried over.
    let before = tape
        .forecasts
        .iter()
        .filter(|f| (f.event as usize) < cut)
        .count();
    assert_eq!(train.forecasts.len(), before);
    assert_eq!(eval.forecasts.len(), tape.forecasts.len() - before + 1);
    assert_eq!(eval.forecasts[0].event, 0);
    assert_eq!(eval.latent_ppm.len(), eval.events.len());
}
