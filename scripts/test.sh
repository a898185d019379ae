#!/usr/bin/env bash
# Sets up what the tests need (when missing) and runs every test suite of kalsim:
# Rust (core, host-sim, cross-crate properties and golden vectors), the C ABI with its C/C++
# hosts and the Python package, and the WASM module in Node and in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

step() { printf '\n== %s\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "Rust workspace tests"
cargo test --workspace --locked

if [ -f ffi/run_tests.sh ]; then
  step "C ABI, C/C++ hosts and Python"
  bash ffi/run_tests.sh
fi

if [ -f wasm/build.sh ]; then
  step "WASM build, Node and browser tests"
  bash wasm/build.sh
  (cd wasm && npm test)
fi

step "all test suites passed"
