//! Arbitrary bytes → the Kalshi JSONL loader in strict and lenient mode: `Ok` or a typed error
//! naming the source and line, never a panic; memory bounded (run with `-rss_limit_mb=512`).
//! A dataset that loads must replay through an `Env` without a data error.
#![no_main]

use kalsim_fuzz::check_replay;
use kalsim_host_sim::data::{self, LoadOptions, Mode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for mode in [Mode::Strict, Mode::Lenient] {
        let opts = LoadOptions {
            mode,
            results: None,
        };
        let from_reader = data::load_reader("fuzz.jsonl", data, &opts);
        if let Ok(text) = std::str::from_utf8(data) {
            let from_str = data::load_str("fuzz.jsonl", text, &opts);
            // The two entry points agree on valid UTF-8.
            match (&from_reader, &from_str) {
                (Ok(a), Ok(b)) => assert_eq!(a.markets, b.markets),
                (Err(a), Err(b)) => assert_eq!(a.kind, b.kind, "{a} vs {b}"),
                (a, b) => panic!("load_reader {a:?} but load_str {b:?}"),
            }
        }
        match from_reader {
            Ok(ds) => check_replay(&ds, data),
            Err(e) => kalsim_fuzz::check_data_error(&e),
        }
    }
});
