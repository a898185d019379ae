// Trainer and Policy through WASM: errors, determinism, and the same checkpoint bytes as
// the native trainer (wasm/examples/native_ref.rs, run through cargo when available).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { kalsim, repoRoot } from './load.mjs';

// Keep in sync with wasm/examples/native_ref.rs.
const TRAIN_ENV = { max_steps: 60, data: { synthetic_markets: 3, synthetic_events: 300, synthetic_seed: 5 } };
const TRAIN_PPO = { n_steps: 32, minibatch_size: 64, n_epochs: 2, hidden: [16, 16], seed: 3 };

function trainWasm() {
  const t = new kalsim.Trainer(TRAIN_ENV, TRAIN_PPO, 4);
  t.start(11);
  const stats = [];
  for (let i = 0; i < 3; i++) stats.push(t.iterate());
  const json = t.policyJson();
  t.free();
  return { json, stats };
}

test('trainer errors are JS Errors', () => {
  assert.throws(() => new kalsim.Trainer({}, { bogus: 1 }, 2), /unknown field `bogus`/);
  assert.throws(() => new kalsim.Trainer({}, { n_steps: 0 }, 2), /n_steps/);
  assert.throws(() => new kalsim.Trainer({}, { hidden: [100000] }, 2), /hidden/);
  assert.throws(() => new kalsim.Trainer({}, {}, 0), /numEnvs/);
  assert.throws(() => new kalsim.Trainer({ pricing: 'x' }, {}, 2), /pricing/);
  assert.throws(() => kalsim.Policy.fromJson('{}'), Error);
  assert.throws(() => kalsim.Policy.fromJson('nope'), Error);
});

test('training is deterministic and reports statistics', () => {
  const a = trainWasm();
  const b = trainWasm();
  assert.equal(a.json, b.json);
  assert.equal(a.stats.length, 3);
  assert.equal(a.stats[2].iteration, 3);
  assert.equal(a.stats[2].timesteps, 3 * 32 * 4);
  assert.equal(a.stats[0].action_histogram.length, 25);
  assert.ok(a.stats.some((s) => s.episodes > 0));
});

test('policy: act never picks a masked action, probabilities, compatibility', () => {
  const p = kalsim.Policy.fromJson(trainWasm().json);
  assert.equal(p.meta().sizing, 'variable');
  const env = new kalsim.Env(TRAIN_ENV);
  let r = env.reset(2);
  let obs = r.obs;
  let mask = r.mask;
  p.seed(9);
  while (!env.done) {
    const greedy = p.act(obs, mask);
    const sampled = p.act(obs, mask, false);
    assert.equal(mask[greedy], 1);
    assert.equal(mask[sampled], 1);
    const probs = p.actionProbs(obs, mask);
    assert.equal(probs.length, 25);
    for (let i = 0; i < 25; i++) if (!mask[i]) assert.equal(probs[i], 0);
    const out = env.step(greedy);
    obs = out.obs;
    mask = env.actionMask();
  }
  assert.ok(Number.isFinite(p.value(obs)));
  assert.throws(() => p.act(new Float32Array(31), mask), /length 31/);
  assert.throws(() => p.act(obs, new Uint8Array(24)), /length 24/);
  p.checkCompatible(TRAIN_ENV);
  assert.throws(() => p.checkCompatible({ sizing: 'fixed' }), /sizing/);
  assert.equal(kalsim.Policy.fromJson(p.toJson()).toJson(), p.toJson());
});

test('WASM training gives the native checkpoint bytes', (t) => {
  const probe = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('cargo not available');
    return;
  }
  const r = spawnSync('cargo', ['run', '-q', '--release', '-p', 'kalsim-wasm', '--example', 'native_ref', '--', 'train'], {
    cwd: repoRoot, encoding: 'utf8', maxBuffer: 1 << 26,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(trainWasm().json, r.stdout.trim());
});
