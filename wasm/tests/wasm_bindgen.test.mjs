// Runs the Rust-side adapter tests (wasm/tests/web.rs) in Node through
// wasm-bindgen-test-runner, so `npm test` covers them too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { repoRoot } from './load.mjs';

const runner = [process.env.WASM_BINDGEN_TEST_RUNNER, path.join(homedir(), '.cargo', 'bin', 'wasm-bindgen-test-runner')]
  .find((p) => p && existsSync(p));

test('wasm-bindgen-test (wasm/tests/web.rs)', { skip: runner ? false : 'wasm-bindgen-test-runner not found', timeout: 600_000 }, () => {
  const r = spawnSync('cargo', ['test', '-p', 'kalsim-wasm', '--target', 'wasm32-unknown-unknown', '--test', 'web'], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER: runner },
    maxBuffer: 1 << 26,
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /3 passed/);
});
