#!/usr/bin/env bash
# Deeper fuzz campaigns: run every target (or those named after the time) for N seconds each,
# one at a time, at the lowest CPU priority, with overflow checks and AddressSanitizer on.
#
#   fuzz/run.sh [seconds-per-target] [target ...]      (default 600 s, all targets)
#
# New corpus entries go to fuzz/corpus-work/<target>/ (git-ignored; it grows across campaigns);
# the committed seeds in fuzz/corpus/<target>/ are read, never written. Minimise before
# committing anything new: cargo +nightly fuzz cmin <target> corpus-work/<target>.
# Crashes go to fuzz/artifacts/<target>/ — turn each into a test in
# host-sim/tests/fuzz_regressions.rs with the input inline. Logs: fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET="${1:-600}"
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=(decode_action core_step jsonl_parser jsonl_structured config)
    if grep -q '^name = "c_abi"' Cargo.toml; then TARGETS+=(c_abi); fi
fi
mkdir -p logs
cargo +nightly fuzz build
status=0
for t in "${TARGETS[@]}"; do
    echo "== $t: ${SECONDS_PER_TARGET}s"
    mkdir -p "corpus/$t" "corpus-work/$t"
    if nice -n 19 cargo +nightly fuzz run "$t" "corpus-work/$t" "corpus/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=512 -max_len=65536 \
        -print_final_stats=1 >"logs/$t.log" 2>&1; then
        echo "   ok: $(grep -E '^stat::number_of_executed_units' "logs/$t.log" || tail -1 "logs/$t.log")"
    else
        echo "   CRASH in $t (see fuzz/logs/$t.log and fuzz/artifacts/$t/)"
        grep -E 'panicked|ERROR: |Test unit written' "logs/$t.log" | head -5 || true
        status=1
    fi
done
exit $status
