//! Structure-aware loader fuzzing: real-format Kalshi lines (the committed capture fixture and
//! the synthetic generator's output) parsed as JSON, their numbers and strings mutated from
//! fuzz bytes, re-serialised and loaded in strict and lenient mode.
#![no_main]

use std::sync::OnceLock;

use kalsim_fuzz::{Bytes, check_data_error, check_replay};
use kalsim_host_sim::data::{self, GenConfig, LoadOptions, Mode};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const FIXTURE: &str = include_str!("../../host-sim/tests/fixtures/sample_capture.jsonl");

fn seed_lines() -> &'static [Value] {
    static LINES: OnceLock<Vec<Value>> = OnceLock::new();
    LINES.get_or_init(|| {
        let generated = data::generate_string(&GenConfig {
            markets: 2,
            events: 12,
            seed: 3,
        });
        FIXTURE
            .lines()
            .chain(generated.lines())
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    })
}

/// JSON pointers of every leaf (and container) under `v`.
fn paths(v: &Value, prefix: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{prefix}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                paths(x, p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{prefix}/{i}");
                out.push(p.clone());
                paths(x, p, out);
            }
        }
        _ => {}
    }
}

const STRINGS: &[&str] = &[
    "yes",
    "no",
    "maybe",
    "YES",
    "",
    "0.5600",
    "0.0000",
    "1.0000",
    "0.995",
    "0.01",
    "0.99",
    "-0.50",
    "1406474.86",
    "0.001",
    "12.345",
    "-2.50",
    "1e3",
    "NaN",
    "inf",
    "99999999999999999999",
    "18446744073709551616.00",
    "9223372036854775807",
    "2025-06-10T14:03:07.412Z",
    "2025-13-99T99:99:99Z",
    "orderbook_delta",
    "orderbook_snapshot",
    "market_lifecycle_v2",
    "\u{0}",
    "ü",
    "0x10",
    " 1",
    "1 ",
    ".5",
    "5.",
    "--1",
];

fn mutate_value(b: &mut Bytes<'_>) -> Value {
    match b.u8() % 10 {
        0 => Value::from(b.u64() as i64),
        1 => Value::from(b.u8() as i64 - 28),
        2 => Value::from(b.u64()),
        3 => {
            serde_json::Number::from_f64(f64::from_bits(b.u64())).map_or(Value::Null, Value::Number)
        }
        4 => Value::from(STRINGS[b.u8() as usize % STRINGS.len()]),
        5 => Value::from(format!("{}.{:02}", b.u16() % 200, b.u8() % 100)),
        6 => Value::from(format!("0.{:04}", b.u16() % 10_000)),
        7 => Value::Null,
        8 => Value::Array(vec![Value::from(b.u8() as i64), Value::from(b.u32())]),
        _ => Value::from(-(b.u32() as i64)),
    }
}

fn mutated_line(b: &mut Bytes<'_>) -> String {
    let lines = seed_lines();
    let mut v = lines[b.u16() as usize % lines.len()].clone();
    let mut ps = Vec::new();
    paths(&v, String::new(), &mut ps);
    for _ in 0..(b.u8() % 4) {
        if ps.is_empty() {
            break;
        }
        let p = &ps[b.u16() as usize % ps.len()];
        let choice = b.u8() % 8;
        if choice == 0 {
            // Remove the key or element.
            if let Some((parent, key)) = p.rsplit_once('/')
                && let Some(container) = v.pointer_mut(parent)
            {
                match container {
                    Value::Object(m) => {
                        m.remove(&key.replace("~1", "/").replace("~0", "~"));
                    }
                    Value::Array(a) => {
                        if let Ok(i) = key.parse::<usize>()
                            && i < a.len()
                        {
                            a.remove(i);
                        }
                    }
                    _ => {}
                }
            }
        } else if let Some(slot) = v.pointer_mut(p) {
            *slot = mutate_value(b);
        }
        ps.clear();
        paths(&v, String::new(), &mut ps);
    }
    serde_json::to_string(&v).unwrap()
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes::new(data);
    let n = 1 + b.u8() % 12;
    let mut text = String::new();
    for _ in 0..n {
        if b.u8() % 3 == 0 {
            // An unmutated seed line keeps later deltas meaningful.
            let lines = seed_lines();
            text.push_str(&lines[b.u16() as usize % lines.len()].to_string());
        } else {
            text.push_str(&mutated_line(&mut b));
        }
        text.push('\n');
    }
    for mode in [Mode::Strict, Mode::Lenient] {
        let opts = LoadOptions {
            mode,
            results: None,
        };
        match data::load_str("fuzz.jsonl", &text, &opts) {
            Ok(ds) => check_replay(&ds, b.rest()),
            Err(e) => check_data_error(&e),
        }
    }
});
