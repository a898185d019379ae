// Every golden vector (tests/vectors/*.json, written by the native Rust suite) through WASM:
// observations, masks and infos bit for bit, rewards with ===.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { kalsim, repoRoot, rawSeed } from './load.mjs';

const dir = path.join(repoRoot, 'tests', 'vectors');

function bits(f32) {
  return Array.from(new Uint32Array(f32.buffer, f32.byteOffset, f32.length));
}

function checkInfo(got, want, where) {
  for (const [k, v] of Object.entries(want)) {
    assert.ok(k in got, `${where}: info lacks ${k}`);
    assert.ok(Object.is(got[k], v) || got[k] === v, `${where}: info.${k} = ${got[k]}, native ${v}`);
  }
}

if (!existsSync(dir)) {
  test('golden vectors', { skip: `${dir} does not exist` }, () => {});
} else {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  test('golden vector directory is not empty', () => {
    assert.ok(files.length > 0, `${dir} holds no *.json`);
  });
  for (const file of files) {
    test(`golden ${file}`, () => {
      const text = readFileSync(path.join(dir, file), 'utf8');
      const v = JSON.parse(text);
      assert.equal(v.format, 'kalsim-golden');
      assert.equal(v.version, 1);
      const env = new kalsim.Env(v.config);
      const r = env.reset(rawSeed(text));
      assert.deepEqual(bits(r.obs), v.reset.obs_bits, `${v.name}: reset obs`);
      assert.deepEqual(Array.from(r.mask), v.reset.mask, `${v.name}: reset mask`);
      checkInfo(r.info, v.reset.info, `${v.name} reset`);
      v.steps.forEach((s, i) => {
        const where = `${v.name} step ${i} (action ${s.action})`;
        const out = env.step(s.action);
        assert.deepEqual(bits(out.obs), s.obs_bits, `${where}: obs`);
        assert.ok(out.reward === s.reward, `${where}: reward ${out.reward} !== native ${s.reward}`);
        assert.equal(out.terminated, s.terminated, `${where}: terminated`);
        assert.equal(out.truncated, s.truncated, `${where}: truncated`);
        assert.deepEqual(Array.from(env.actionMask()), s.mask, `${where}: mask`);
        checkInfo(out.info, s.info, where);
      });
    });
  }
}
