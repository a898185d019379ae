// Baselines by name and evaluation runs through WASM: the host's policies and report, errors
// as JS Errors, and `Baseline` stepping an `Env` agreeing with `evaluate` on the same seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kalsim } from './load.mjs';

const informed = { data: { preset: 'informed', synthetic_markets: 6, synthetic_events: 300, synthetic_seed: 11 } };

test('baselineNames lists the host baselines', () => {
  assert.deepEqual(kalsim.baselineNames(), ['hold', 'random', 'fixed', 'kelly', 'forecast-kelly', 'forecast-fixed', 'oracle']);
});

test('Dataset.fromConfig: the informed preset carries forecasts and a latent probability', () => {
  const data = kalsim.Dataset.fromConfig(informed);
  assert.equal(data.numMarkets, 6);
  const env = kalsim.Env.fromDataset(informed, data);
  const present = kalsim.obsSchema().find((f) => f.name === 'forecast_present').index;
  let seen = false;
  let obs = env.reset(1n).obs;
  while (!env.done) {
    if (obs[present] === 1) seen = true;
    assert.equal(typeof env.latentProbability, 'number');
    env.stepFast(0);
    obs = env.observation();
  }
  assert.ok(seen, 'a forecast reaches the observation');
  env.free();
  // Default synthetic markets carry the generator's latent path too (for the oracle only);
  // a capture has none.
  const plain = new kalsim.Env({ data: { synthetic_markets: 1, synthetic_events: 50 } });
  plain.reset(0n);
  assert.ok(plain.latentProbability >= 0 && plain.latentProbability <= 1);
  plain.free();
  const capture = '{"type":"orderbook_snapshot","msg":{"market_ticker":"C","yes":[[40,10]],"no":[[55,10]]}}\n'
    + '{"type":"orderbook_delta","msg":{"market_ticker":"C","side":"yes","price":40,"delta":1}}\n'
    + '{"type":"orderbook_delta","msg":{"market_ticker":"C","side":"yes","price":40,"delta":1}}\n';
  const cap = new kalsim.Env(undefined, capture);
  cap.reset(0n);
  assert.equal(cap.latentProbability, undefined);
  cap.free();
  data.free();
  assert.throws(() => kalsim.Dataset.fromConfig({ data: { preset: 'bogus' } }), /preset/);
  assert.throws(() => kalsim.Dataset.fromConfig({ data: { files: ['x.jsonl'] } }), /cannot be read here/);
});

test('evaluate: errors are JS Errors with the host message', () => {
  const data = kalsim.Dataset.fromConfig(informed);
  assert.throws(() => kalsim.evaluate(informed, data, 'nope', 1, 0n), /unknown policy "nope"/);
  assert.throws(() => kalsim.evaluate(informed, data, 'hold', 0, 0n), /episodes/);
  assert.throws(() => kalsim.evaluate(informed, data, '{"format": 1}', 1, 0n), Error);
  assert.throws(() => new kalsim.Baseline('nope', 0, informed), /unknown policy/);
  const trainer = new kalsim.Trainer(informed, { n_steps: 16, hidden: [8] }, 2);
  trainer.start(0n);
  trainer.iterate();
  const json = trainer.policyJson();
  trainer.free();
  assert.throws(() => kalsim.evaluate({ ...informed, sizing: 'fixed' }, data, json, 1, 0n), /does not fit/);
  const ev = kalsim.evaluate(informed, data, json, 2, 0n);
  assert.equal(ev.report.policy, 'trained');
  data.free();
});

test('evaluate: report, opening trades and size_edge_r; Baseline over Env takes the same path', () => {
  const data = kalsim.Dataset.fromConfig(informed);
  for (const name of kalsim.baselineNames()) {
    const ev = kalsim.evaluate(informed, data, name, 1, 5n);
    const t = ev.openingTrades;
    assert.ok(t.filled instanceof Uint32Array && t.edge instanceof Float64Array);
    assert.equal(t.filled.length, t.edge.length);
    assert.ok(ev.equityCents instanceof Float64Array);
    assert.equal(ev.report.aggregate.episodes, 1);
    assert.equal(ev.report.aggregate.position_size_distribution['5'], ev.report.aggregate.fills_per_tier[0]);
    assert.ok(ev.sizeEdgeR === null || (ev.sizeEdgeR >= -1 && ev.sizeEdgeR <= 1));
    assert.equal(ev.report.seed, '5');
    // The same policy stepped from JS: same final PV, never a masked action.
    const env = kalsim.Env.fromDataset(informed, data);
    const policy = new kalsim.Baseline(name, 5n, informed);
    let { obs, mask } = env.reset(5n);
    while (!env.done) {
      const a = policy.act(obs, mask, env.latentProbability);
      assert.equal(mask[a], 1, `${name}: action ${a} is masked`);
      env.stepFast(a);
      obs = env.observation();
      mask = env.actionMask();
    }
    assert.equal(env.info().portfolio_value_cents, ev.equityCents[ev.equityCents.length - 1], `${name}: same final PV`);
    policy.free();
    env.free();
  }
  // The reference policies open trades on forecasts; the oracle's sizes follow its edge.
  const fk = kalsim.evaluate(informed, data, 'forecast-kelly', 6, 0n);
  assert.ok(fk.openingTrades.filled.length > 0);
  assert.equal(typeof fk.sizeEdgeR, 'number');
  data.free();
});
