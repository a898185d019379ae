//! `kalsim record` end to end on loopback: the WebSocket client records the exchange's raw
//! frames (snapshots, deltas, trades, lifecycle, a deci-cent market's sub-cent levels, a
//! sequence gap and its resync) into rotating JSONL files, which the replay loader and
//! `kalsim validate-data` read: every file on its own, and all of them together, rebuilding
//! the exchange's final books exactly.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use kalsim_core::{Price, Side};
use kalsim_exchange::{Exchange, ExchangeConfig, Faults};
use kalsim_host_sim::data::{self, GenConfig, LoadOptions, Mode, generate_string};
use kalsim_host_sim::live::KillSwitch;
use kalsim_host_sim::live::recorder::{Recorder, record_from};
use kalsim_host_sim::venue::ws::Channels;
use kalsim_host_sim::venue::{Credentials, MarketDataClient, MarketDataConfig};
use serde_json::{Value, json};

const TEST_KEY_PEM: &str = include_str!("../../tests/fixtures/TEST_ONLY_rsa2048_private_key.pem");
const KEY_ID: &str = "test-key-id";
const KALSIM: &str = env!("CARGO_BIN_EXE_kalsim");

#[test]
fn recorded_frames_replay_and_validate() {
    let creds = Credentials::from_pem(KEY_ID, TEST_KEY_PEM).unwrap();
    let dir = std::env::temp_dir().join(format!("kalsim-record-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = generate_string(&GenConfig {
        markets: 2,
        events: 150,
        seed: 3,
    });
    let mut script: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| {
            matches!(
                v["type"].as_str(),
                Some("orderbook_snapshot" | "orderbook_delta" | "market_lifecycle_v2")
            )
        })
        .collect();
    let t0 = script[0]["msg"]["market_ticker"]
        .as_str()
        .unwrap()
        .to_owned();
    let deci = "KXDECI-26JAN01-REC".to_owned();
    script.insert(
        2,
        json!({"type": "orderbook_snapshot", "msg": {"market_ticker": deci,
        "yes_dollars_fp": [["0.0450", "10.00"], ["0.3000", "5.00"]],
        "no_dollars_fp": [["0.6000", "7.00"]]}}),
    );
    for i in 0..4 {
        script.insert(
            20 + 10 * i,
            json!({"type": "orderbook_delta", "msg": {"market_ticker": deci,
            "side": "yes", "price_dollars": "0.0470", "delta_fp": "2.00"}}),
        );
        script.insert(25 + 10 * i, json!({"type": "trade", "msg": {"market_ticker": t0,
            "trade_id": format!("t{i}"), "yes_price_dollars": "0.4500", "no_price_dollars": "0.5500",
            "count_fp": "3.00", "taker_side": "yes", "ts": 1_700_000_000 + i}}));
    }
    let n = script.len();
    let mut cfg = ExchangeConfig::new(KEY_ID, creds.public_key());
    cfg.ws_script = script;
    cfg.ws_interval = Duration::from_millis(1);
    let ex = Exchange::start(cfg).unwrap();
    ex.set_faults(Faults {
        ws_gap_at: Some(n / 2),
        ..Faults::default()
    });
    let tickers: Vec<String> = vec![
        t0.clone(),
        text.lines()
            .find_map(|l| {
                let v: Value = serde_json::from_str(l).ok()?;
                let t = v["msg"]["market_ticker"].as_str()?.to_owned();
                (t != t0).then_some(t)
            })
            .unwrap(),
        deci.clone(),
    ];
    let mut md = MarketDataConfig::new(ex.ws_url(), tickers.clone());
    md.keep_raw = true;
    md.channels = Channels {
        lifecycle: true,
        trades: true,
        ..Channels::default()
    };
    let mut client = MarketDataClient::connect(md, &creds).unwrap();
    let mut rec = Recorder::new(&dir, 120).unwrap();
    record_from(
        &mut client,
        &mut rec,
        &KillSwitch::new(None),
        None,
        Some(Duration::from_millis(1500)),
    )
    .unwrap();
    let report = rec.finish().unwrap();
    assert!(ex.ws_script_done());
    assert!(report.files.len() >= 3, "{report:?}");
    assert!(report.resyncs >= 1, "the gap is recorded: {report:?}");
    let all: Vec<Value> = report
        .files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    for kind in [
        "orderbook_snapshot",
        "orderbook_delta",
        "trade",
        "market_lifecycle_v2",
        "kalsim_resync",
    ] {
        assert!(all.iter().any(|v| v["type"] == kind), "no {kind} recorded");
    }
    // Every file starts with fresh snapshots, so each loads on its own.
    let lenient = LoadOptions {
        mode: Mode::Lenient,
        results: None,
    };
    for f in &report.files {
        let ds = data::load_files(std::slice::from_ref(f), &lenient)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(!ds.markets.is_empty(), "{}", f.display());
    }
    // All together they rebuild the exchange's final books of the cent markets.
    let files: Vec<PathBuf> = report.files.clone();
    let ds = data::load_files(&files, &lenient).unwrap();
    for t in &tickers[..2] {
        let tape = ds
            .markets
            .iter()
            .find(|m| &m.ticker == t)
            .expect("market replayed");
        let mut book = kalsim_core::OrderBook::new();
        for ev in &tape.events {
            tape.apply_to_book(ev, &mut book).unwrap();
        }
        let truth = ex.ws_book(t).unwrap();
        for side in [Side::Yes, Side::No] {
            for c in 1..=99 {
                let p = Price::new(c).unwrap();
                assert_eq!(
                    book.depth(side, p),
                    truth.depth(side, p),
                    "{t} {side:?} {c}"
                );
            }
        }
    }
    // `kalsim validate-data --lenient` reads them, reporting the sub-cent levels as skips.
    let out = Command::new(KALSIM)
        .arg("validate-data")
        .arg("--lenient")
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&tickers[0]) && stdout.contains(&tickers[1]),
        "{stdout}"
    );
    let both = format!("{stdout}{stderr}").to_lowercase();
    assert!(
        both.contains("skip") || both.contains("sub-cent") || both.contains("subcent"),
        "{both}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
