#!/usr/bin/env bash
# CI fuzz smoke: build every cargo-fuzz target and run each for ${FUZZ_SECONDS:-20} s.
# Exits non-zero on a crash. Skips (exit 0, with a message) when the nightly toolchain is
# absent. Installs cargo-fuzz when missing (first build: allow ~3-6 min of compiling).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: SKIPPED (no nightly toolchain: rustup toolchain install nightly)"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
cd fuzz
TARGETS=(decode_action core_step jsonl_parser jsonl_structured config)
if grep -q '^name = "c_abi"' Cargo.toml; then TARGETS+=(c_abi); fi
cargo +nightly fuzz build
# Scratch corpora so CI never rewrites the committed seeds.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
status=0
for t in "${TARGETS[@]}"; do
    mkdir -p "$scratch/$t"
    log="$scratch/$t.log"
    if nice -n 19 cargo +nightly fuzz run "$t" "$scratch/$t" "corpus/$t" -- \
        -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=512 -max_len=65536 \
        -print_final_stats=1 >"$log" 2>&1; then
        echo "fuzz $t: ok ($(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') execs)"
    else
        echo "fuzz $t: CRASH"
        tail -40 "$log"
        status=1
    fi
done
exit $status
