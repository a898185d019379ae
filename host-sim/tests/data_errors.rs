//! Every kind of bad input: a typed error naming file, line and field (strict), or a counted
//! skip (lenient).

use kalsim_core::Side;
use kalsim_host_sim::data::{DataError, DataErrorKind, LoadOptions, Mode, load_str};

const SNAP: &str = r#"{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"T","yes":[[40,10]],"no":[[55,10]]}}"#;

fn strict(text: &str) -> DataError {
    load_str("cap.jsonl", text, &LoadOptions::default()).unwrap_err()
}

fn lenient() -> LoadOptions {
    LoadOptions {
        mode: Mode::Lenient,
        results: None,
    }
}

fn delta(seq: u64, body: &str) -> String {
    format!(
        r#"{{"type":"orderbook_delta","sid":1,"seq":{seq},"msg":{{"market_ticker":"T",{body}}}}}"#
    )
}

/// The bad line at line 3 after a snapshot and a blank line; check strict and lenient.
fn check(bad_line: &str, kind: &str, field: Option<&str>, message: &str) {
    check_then(bad_line, 3, kind, field, message);
}

/// As [`check`], with the seq of the good delta that follows (a line that does not consume
/// sid 1's seq is followed by seq 2).
fn check_then(bad_line: &str, next_seq: u64, kind: &str, field: Option<&str>, message: &str) {
    let good = delta(next_seq, r#""price":40,"delta":1,"side":"yes""#);
    let text = format!("{SNAP}\n\n{bad_line}\n{good}\n");
    let e = strict(&text);
    assert_eq!(e.kind.name(), kind, "{e}");
    assert_eq!(e.line, Some(3), "{e}");
    assert_eq!(e.field.as_deref(), field, "{e}");
    let shown = e.to_string();
    assert!(shown.starts_with("cap.jsonl:3: "), "{shown}");
    assert!(shown.contains(message), "{shown}");

    let d = load_str("cap.jsonl", &text, &lenient()).unwrap();
    assert_eq!(d.report.skipped_total, 1);
    assert_eq!(d.report.skipped_by_kind.get(kind), Some(&1));
    assert_eq!(d.report.skipped[0], e);
    // The good line after the bad one still applies.
    assert_eq!(d.markets[0].events.len(), 2);
}

#[test]
fn malformed_json() {
    check_then(
        r#"{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"#,
        2,
        "json",
        None,
        "malformed JSON",
    );
}

#[test]
fn unknown_side() {
    check(
        &delta(2, r#""price":40,"delta":1,"side":"maybe""#),
        "bad_value",
        Some("msg.side"),
        r#"unknown side string "maybe""#,
    );
}

#[test]
fn wrong_type() {
    check(
        &delta(2, r#""price":true,"delta":1,"side":"yes""#),
        "bad_value",
        Some("msg.price"),
        "a boolean",
    );
}

/// A value of a JSON type the field cannot hold at all (an array for a number, a number for
/// the ticker) is a `json` error naming the field.
#[test]
fn wrong_json_type_names_the_field() {
    // The line is not read, so its seq is not consumed: the next delta is seq 2.
    check_then(
        &delta(2, r#""price":40,"delta":[1],"side":"yes""#),
        2,
        "json",
        Some("msg.delta"),
        "invalid type",
    );
    check_then(
        r#"{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":5,"price":40,"delta":1,"side":"yes"}}"#,
        2,
        "json",
        Some("msg.market_ticker"),
        "invalid type",
    );
}

#[test]
fn price_zero_and_hundred() {
    check(
        &delta(2, r#""price":0,"delta":1,"side":"yes""#),
        "price_out_of_range",
        Some("msg.price"),
        "price 0 is outside 1..=99",
    );
    check(
        &delta(
            2,
            r#""price_dollars":"1.0000","delta_fp":"1.00","side":"yes""#,
        ),
        "price_out_of_range",
        Some("msg.price_dollars"),
        "price 100 is outside 1..=99",
    );
}

#[test]
fn price_out_of_range_in_snapshot_names_the_level() {
    let e = strict(
        r#"{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"T","yes":[[40,10],[105,1]]}}"#,
    );
    assert_eq!(
        e.to_string(),
        r#"cap.jsonl:1: field "msg.yes[1][0]": price 105 is outside 1..=99"#
    );
}

#[test]
fn sub_cent_price() {
    check(
        &delta(
            2,
            r#""price_dollars":"0.5650","delta_fp":"1.00","side":"no""#,
        ),
        "sub_cent_price",
        Some("msg.price_dollars"),
        r#""0.5650" is not a whole number of cents"#,
    );
}

#[test]
fn negative_depth() {
    check(
        &delta(2, r#""price":40,"delta":-11,"side":"yes""#),
        "negative_depth",
        Some("msg.delta"),
        "leaves negative depth",
    );
    check(
        &delta(
            2,
            r#""price_dollars":"0.4000","delta_fp":"-10.01","side":"yes""#,
        ),
        "negative_depth",
        Some("msg.delta_fp"),
        "delta -1001 centi-contracts",
    );
}

#[test]
fn crossed_book() {
    check(
        &delta(2, r#""price":45,"delta":1,"side":"yes""#),
        "crossed",
        Some("msg.price"),
        "crossed book: best yes bid 45¢ + best no bid 55¢",
    );
    let e = strict(
        r#"{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"T","yes":[[50,1]],"no":[[50,1]]}}"#,
    );
    assert_eq!(
        e.kind,
        DataErrorKind::Crossed {
            yes_bid: 50,
            no_bid: 50
        }
    );
}

#[test]
fn delta_before_snapshot() {
    let text = format!(
        "{}\n{SNAP}\n",
        r#"{"type":"orderbook_delta","sid":1,"seq":0,"msg":{"market_ticker":"T","price":40,"delta":1,"side":"yes"}}"#
    );
    let e = strict(&text);
    assert_eq!(e.line, Some(1));
    assert_eq!(e.field.as_deref(), Some("msg.market_ticker"));
    assert_eq!(
        e.kind,
        DataErrorKind::DeltaBeforeSnapshot { ticker: "T".into() }
    );
    let d = load_str("cap.jsonl", &text, &lenient()).unwrap();
    assert_eq!(
        d.report.skipped_by_kind.get("delta_before_snapshot"),
        Some(&1)
    );
    assert_eq!(d.report.markets["T"].skipped, 1);
}

#[test]
fn missing_fields() {
    check(
        &delta(2, r#""delta":1,"side":"yes""#),
        "missing_field",
        Some("msg.price"),
        "missing",
    );
    check(
        r#"{"sid":1,"seq":2,"msg":{}}"#,
        "missing_field",
        Some("type"),
        "missing",
    );
}

#[test]
fn bad_result() {
    check_then(
        r#"{"type":"market_lifecycle_v2","sid":2,"msg":{"market_ticker":"T","result":"maybe"}}"#,
        2,
        "bad_result",
        Some("msg.result"),
        r#""maybe""#,
    );
}

#[test]
fn sequence_gap_strict_and_lenient_resync() {
    let text = [
        SNAP.to_owned(),
        r#"{"type":"orderbook_snapshot","sid":2,"seq":1,"msg":{"market_ticker":"U","yes":[[10,10]]}}"#.to_owned(),
        delta(2, r#""price":40,"delta":1,"side":"yes""#),
        // seq 3 and 4 lost.
        delta(5, r#""price":40,"delta":1,"side":"yes""#),
        delta(6, r#""price":40,"delta":-11,"side":"yes""#),
        r#"{"type":"orderbook_delta","sid":2,"seq":2,"msg":{"market_ticker":"U","price":10,"delta":5,"side":"yes"}}"#.to_owned(),
        r#"{"type":"orderbook_snapshot","sid":1,"seq":7,"msg":{"market_ticker":"T","yes":[[41,10]],"no":[[55,10]]}}"#.to_owned(),
        delta(8, r#""price":41,"delta":-4,"side":"yes""#),
    ]
    .join("\n");
    let e = strict(&text);
    assert_eq!(
        e.kind,
        DataErrorKind::SequenceGap {
            sid: 1,
            expected: 3,
            seen: 5
        }
    );
    assert_eq!(e.line, Some(4));
    assert_eq!(
        e.to_string(),
        r#"cap.jsonl:4: field "seq": sequence gap on sid 1: expected seq 3, saw 5"#
    );

    let d = load_str("cap.jsonl", &text, &lenient()).unwrap();
    let r = &d.report;
    assert_eq!(r.gap_total, 1);
    assert_eq!(r.gaps[0], e);
    assert_eq!(r.skipped_total, 0);
    // Two deltas of T dropped until its snapshot; U (sid 2) untouched.
    assert_eq!(r.dropped_while_desynced, 2);
    let t = r.markets["T"];
    assert_eq!(
        (
            t.gaps,
            t.resyncs,
            t.dropped_while_desynced,
            t.deltas,
            t.snapshots
        ),
        (1, 1, 2, 2, 2)
    );
    assert_eq!(r.markets["U"].gaps, 0);
    assert_eq!(r.markets["U"].deltas, 1);
    assert_eq!(d.markets[0].ticker, "T");
    assert_eq!(d.markets[0].events.len(), 4);
    assert_eq!(d.markets[0].result, None::<Side>);
}

#[test]
fn invalid_utf8_is_one_bad_line() {
    let mut bytes = format!("{SNAP}\n").into_bytes();
    bytes.extend_from_slice(b"{\"type\":\"orderbook_delta\",\"sid\":1,\"seq\":2,\"msg\":{\"market_ticker\":\"\xff\"}}\n");
    bytes.extend_from_slice(delta(3, r#""price":40,"delta":1,"side":"yes""#).as_bytes());
    let e = kalsim_host_sim::data::load_reader("cap.jsonl", &bytes[..], &LoadOptions::default())
        .unwrap_err();
    assert_eq!((e.kind.name(), e.line), ("json", Some(2)));
    let d = kalsim_host_sim::data::load_reader("cap.jsonl", &bytes[..], &lenient()).unwrap();
    assert_eq!(d.report.skipped_by_kind.get("json"), Some(&1));
}

#[test]
fn duplicate_snapshot_level_names_the_side() {
    let e = strict(
        r#"{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"T","no_dollars_fp":[["0.5500","1.00"],["0.55","2"]]}}"#,
    );
    assert_eq!(e.kind.name(), "duplicate_level");
    assert_eq!(e.field.as_deref(), Some("msg.no_dollars_fp"));
}

#[test]
fn lenient_counts_are_exact_beyond_the_listed_cap() {
    let mut text = format!("{SNAP}\n");
    for _ in 0..250 {
        text.push_str("not json\n");
    }
    let d = load_str("cap.jsonl", &text, &lenient()).unwrap();
    assert_eq!(d.report.skipped_total, 250);
    assert_eq!(d.report.skipped.len(), kalsim_host_sim::data::MAX_LISTED);
    assert!(d.report.to_string().contains("and 150 more"));
}
