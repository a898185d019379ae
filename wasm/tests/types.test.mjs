// The TypeScript types that ship with the package (src/types.d.ts, a custom section of the
// generated .d.ts) against real objects from the module: every declared interface's field
// list must equal the keys the module returns, so a field added to or removed from the
// host's StepInfo, Aggregate, EpisodeRow, ... fails here instead of drifting silently.
// (The objects are serde's output of the host's structs, which live outside this crate, so
// the types cannot be derived here; see README.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { kalsim, wasmDir } from './load.mjs';

/** `{Name: [field, ...]}` of every `export interface` in a .d.ts text (top-level fields). */
export function interfaces(text) {
  const src = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const out = {};
  const re = /export interface (\w+)\s*\{/g;
  let m;
  while ((m = re.exec(src))) {
    let depth = 1;
    let i = re.lastIndex;
    let seg = '';
    const fields = [];
    const flush = () => {
      const f = /^\s*(\w+)\??\s*:/.exec(seg);
      if (f) fields.push(f[1]);
      seg = '';
    };
    for (; i < src.length && depth > 0; i++) {
      const c = src[i];
      if ('{(['.includes(c)) depth++;
      if ('})]'.includes(c)) depth--;
      if (depth === 1 && (c === ';' || c === '\n')) flush();
      else if (depth > 0) seg += c;
    }
    flush();
    out[m[1]] = fields;
  }
  return out;
}

const declared = interfaces(readFileSync(path.join(wasmDir, 'src', 'types.d.ts'), 'utf8'));
const sorted = (xs) => [...xs].sort();
function pin(name, obj) {
  assert.ok(declared[name], `types.d.ts declares ${name}`);
  assert.deepEqual(sorted(declared[name]), sorted(Object.keys(obj)), `${name}: types.d.ts vs the module's object`);
}

test('the parser reads nested types as one field', () => {
  const t = interfaces('export interface A { a: number; b?: { x: number; y: string }; /** c */ c: (number | null)[];\n d: Record<string, number> }');
  assert.deepEqual(t.A, ['a', 'b', 'c', 'd']);
});

test('types.d.ts matches the objects the module returns (no drift)', () => {
  const cfg = { max_steps: 40, data: { synthetic_markets: 2, synthetic_events: 120 } };
  const env = new kalsim.Env(cfg);
  const r = env.reset(1n);
  pin('ResetResult', r);
  pin('StepInfo', r.info);
  const s = env.step(1);
  pin('StepResult', s);
  pin('StepInfo', s.info);
  pin('StepInfo', env.info());
  pin('EpisodeMetrics', env.metrics());
  const book = env.bookLevels(3);
  pin('BookLevels', book);
  pin('BookLevel', book.yes[0]);
  pin('ObsFeature', kalsim.obsSchema()[0]);
  pin('DecodedAction', kalsim.decodeAction(7));
  pin('OrderCheck', kalsim.validateOrder(10, 0, 100000, 50));
  env.free();

  const venv = new kalsim.VecEnv(cfg, 2);
  pin('VecStepResult', venv.reset(0));
  pin('StepInfo', venv.infos()[0]);
  venv.free();

  const data = kalsim.Dataset.fromConfig(cfg);
  pin('LoadSummary', data.summary());
  const ev = kalsim.evaluate(cfg, data, 'kelly', 2, 3n);
  pin('Evaluation', ev);
  pin('RunReport', ev.report);
  pin('Aggregate', ev.report.aggregate);
  pin('EpisodeRow', ev.report.per_episode[0]);
  pin('Evaluation', kalsim.evaluateScript(cfg, data, Uint32Array.from([1, 0, 6]), 3n));
  data.free();

  const t = new kalsim.Trainer(cfg, { n_steps: 16, minibatch_size: 32, n_epochs: 1, hidden: [8] }, 2);
  t.start(1);
  pin('IterStats', t.iterate());
  const policy = kalsim.Policy.fromJson(t.policyJson());
  pin('PolicyMeta', policy.meta());
  policy.free();
  t.free();
});
