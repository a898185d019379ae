// Steps per second of the WASM environment in Node and in Chromium, on the same synthetic
// data and action cycles as the native reference (`cargo run --release -p kalsim-wasm
// --example native_ref -- bench 8 5000 1000000`). Usage: node tests/bench.mjs [steps].
// Prints one JSON object per line. A benchmark, not a test.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { kalsim, wasmDir } from './load.mjs';
import { serve, launchChromium } from './serve.mjs';

const STEPS = Number(process.argv[2] || 1_000_000);

// Runs in Node and (as source text) in the page: `k` is the module.
function benchBody(k, steps) {
  const out = [];
  const env = new k.Env({ data: { synthetic_markets: 8, synthetic_events: 5000, synthetic_seed: 7 } });
  const buf = new Float32Array(env.obsDim);
  const cycles = { hold: [0], trade_cycle: [0, 1, 0, 6, 0, 11, 0, 16] };
  for (const [name, cycle] of Object.entries(cycles)) {
    for (const api of ['stepFast', 'step']) {
      const n = api === 'step' ? Math.floor(steps / 5) : steps;
      env.reset(1);
      let sum = 0;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        if (env.done) env.reset();
        if (api === 'stepFast') {
          sum += env.stepFast(cycle[i % cycle.length]);
          env.observationInto(buf);
        } else {
          sum += env.step(cycle[i % cycle.length]).reward;
        }
      }
      const dt = (performance.now() - t0) / 1000;
      out.push({ policy: name, api, steps: n, seconds: +dt.toFixed(4), steps_per_sec: Math.round(n / dt), reward_sum: sum });
    }
  }
  const v = new k.VecEnv({ data: { synthetic_markets: 8, synthetic_events: 5000, synthetic_seed: 7 } }, 16);
  v.reset(1);
  const acts = new Uint32Array(16);
  const n = Math.floor(steps / 16);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) v.stepFast(acts);
  const dt = (performance.now() - t0) / 1000;
  out.push({ policy: 'hold', api: 'VecEnv(16).stepFast', steps: n * 16, seconds: +dt.toFixed(4), steps_per_sec: Math.round((n * 16) / dt) });
  const tr = new k.Trainer({ max_steps: 200, data: { synthetic_markets: 8, synthetic_events: 2000, synthetic_seed: 7 } },
    { n_steps: 128, minibatch_size: 256, n_epochs: 4, hidden: [64, 64], seed: 0 }, 8);
  tr.start(0);
  const t1 = performance.now();
  for (let i = 0; i < 5; i++) tr.iterate();
  const dt1 = (performance.now() - t1) / 1000;
  out.push({ api: 'Trainer.iterate (8 envs × 128, [64, 64], 5 iterations)', steps: tr.timesteps, seconds: +dt1.toFixed(4), steps_per_sec: Math.round(tr.timesteps / dt1) });
  tr.free();
  return out;
}

for (const r of benchBody(kalsim, STEPS)) console.log(JSON.stringify({ host: `node ${process.version}`, ...r }));

const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
if (existsSync(chromium)) {
  const { chromium: pw } = await import('playwright-core');
  const server = await serve(path.join(wasmDir, 'www'));
  const { browser } = await launchChromium(pw, chromium);
  try {
    const page = browser.pages()[0] || (await browser.newPage());
    await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
    const version = browser.browser()?.version() ?? 'chromium';
    const rows = await page.evaluate(async ([src, steps]) => {
      const k = await import('./pkg/kalsim_wasm.js');
      await k.default();
      // eslint-disable-next-line no-new-func
      const body = new Function(`return (${src})`)();
      return body(k, steps);
    }, [benchBody.toString(), STEPS]);
    for (const r of rows) console.log(JSON.stringify({ host: `chromium ${version}`, ...r }));
  } finally {
    await browser.close();
    server.close();
  }
}
