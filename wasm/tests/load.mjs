// Shared helpers: load the Node build of the WASM module (wasm/pkg-node, built by build.sh).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
export const wasmDir = path.resolve(here, '..');
export const repoRoot = path.resolve(wasmDir, '..');
const pkg = path.join(wasmDir, 'pkg-node', 'kalsim_wasm.js');
if (!existsSync(pkg)) {
  throw new Error(`${pkg} is missing: run wasm/build.sh first`);
}
export const kalsim = createRequire(import.meta.url)(pkg);

/** The seed of a golden vector as a BigInt (JSON.parse would round seeds above 2^53). */
export function rawSeed(text) {
  const m = /"seed"\s*:\s*(\d+)/.exec(text);
  if (!m) throw new Error('golden vector without a seed');
  return BigInt(m[1]);
}
