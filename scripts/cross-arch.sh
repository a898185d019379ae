#!/usr/bin/env bash
# The same bits on another architecture (issue 15): cross-builds kalsim for
# aarch64-unknown-linux-gnu and runs it under qemu-user, then compares bits with x86-64:
#   1. the golden vectors (tests/vectors/, blessed on x86-64) replayed on aarch64;
#   2. a short PPO training run and the evaluation of its checkpoint, on both presets:
#      checkpoint, per-iteration CSV and report.json must be byte-identical to the x86-64
#      run (the aarch64 side is a release build on 2 VecEnv threads, the x86-64 side a
#      debug build on 1).
# Installs what it needs when missing (Debian qemu-user and the aarch64 cross gcc, the Rust
# target). Bounded to a few minutes: small markets and a few thousand steps.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
T=aarch64-unknown-linux-gnu

have() { command -v "$1" >/dev/null 2>&1; }
if ! have qemu-aarch64 || ! have aarch64-linux-gnu-gcc || [ ! -d /usr/aarch64-linux-gnu/lib ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross >/dev/null
fi
if ! rustup target list --installed | grep -qx "$T"; then
  rustup target add "$T"
fi
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"

echo "-- golden vectors on aarch64 (qemu-user)"
cargo test --release --locked -p kalsim-tests --test golden --target "$T"

echo "-- a short training run and its evaluation: aarch64 vs x86-64"
cargo build --release --locked -p kalsim-cli --bin kalsim --target "$T"
# The x86-64 side is the debug build the test suite already made: the bits must not depend
# on the optimisation level either.
cargo build --locked -p kalsim-cli --bin kalsim
X86="$ROOT/target/debug/kalsim"
ARM="$ROOT/target/$T/release/kalsim"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/small.toml" <<'TOML'
[data]
synthetic_markets = 6
synthetic_events = 300
TOML
run() { # arch preset threads command...
  local arch=$1 preset=$2 threads=$3
  shift 3
  local out="$work/$arch-$preset"
  "$@" train --config "$work/small.toml" --preset "$preset" --steps 8192 --envs 8 \
    --threads "$threads" --seed 5 -o "$out/policy.json" >"$out.log" 2>&1 || { cat "$out.log"; return 1; }
  "$@" run --config "$work/small.toml" --preset "$preset" --policy "$out/policy.json" \
    --episodes 4 --out "$out/run" >>"$out.log" 2>&1 || { cat "$out.log"; return 1; }
}
status=0
for preset in default informed; do
  run x86 "$preset" 1 "$X86"
  run arm "$preset" 2 qemu-aarch64 -L /usr/aarch64-linux-gnu "$ARM"
  for f in policy.json train.csv run/report.json; do
    if cmp -s "$work/x86-$preset/$f" "$work/arm-$preset/$f"; then
      echo "   $preset $f: identical ($(sha256sum <"$work/x86-$preset/$f" | cut -c1-16))"
    else
      echo "   $preset $f: DIFFERS between x86-64 and aarch64" >&2
      status=1
    fi
  done
done
exit $status
