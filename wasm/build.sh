#!/usr/bin/env bash
# Build the WASM module for the browser (wasm/www/pkg, ES module) and Node (wasm/pkg-node),
# then optimise both with binaryen's wasm-opt (npm package, installed by `npm install` here).
# Needs: the wasm32-unknown-unknown target and the wasm-bindgen CLI 0.2.130 (matching the
# crate's pinned version; a mismatch is a hard error). Never uses wasm-pack.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

bindgen="${WASM_BINDGEN:-$(command -v wasm-bindgen || echo "$HOME/.cargo/bin/wasm-bindgen")}"
want="0.2.130"
have="$("$bindgen" --version | awk '{print $2}')"
if [ "$have" != "$want" ]; then
  echo "build.sh: wasm-bindgen CLI is $have, the crate pins $want (cargo install wasm-bindgen-cli --version $want)" >&2
  exit 1
fi

# WASM SIMD (simd128) lets LLVM vectorise the trainer's matrix loops: ~3× faster PPO, the
# same bits (LLVM only vectorises where IEEE semantics are kept; the golden-vector and
# checkpoint-bytes tests run on this build). Needs Chrome/Edge 91+, Firefox 89+, Safari
# 16.4+, Node 16.4+. KALSIM_WASM_SIMD=0 builds for engines without it.
simd="${KALSIM_WASM_SIMD:-1}"
if [ "$simd" = "1" ]; then
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:-} -C target-feature=+simd128"
  simd_opt=(--enable-simd)
else
  simd_opt=()
fi
cargo build -p kalsim-wasm --target wasm32-unknown-unknown --release
wasm="$root/target/wasm32-unknown-unknown/release/kalsim_wasm.wasm"

"$bindgen" --target web --out-dir "$here/www/pkg" "$wasm"
"$bindgen" --target nodejs --out-dir "$here/pkg-node" "$wasm"
# The nodejs target is CommonJS; wasm/package.json says "type": "module".
echo '{"type": "commonjs"}' > "$here/pkg-node/package.json"

if [ ! -x "$here/node_modules/.bin/wasm-opt" ]; then
  (cd "$here" && npm install --no-audit --no-fund)
fi
opt="$here/node_modules/.bin/wasm-opt"
for f in "$here/www/pkg/kalsim_wasm_bg.wasm" "$here/pkg-node/kalsim_wasm_bg.wasm"; do
  # wasm-bindgen output uses these post-MVP features (Rust's default wasm32 target enables them).
  "$opt" -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-multivalue --enable-reference-types "${simd_opt[@]}" "$f" -o "$f.opt"
  mv "$f.opt" "$f"
done
ls -l "$here/www/pkg/kalsim_wasm_bg.wasm"
