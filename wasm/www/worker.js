// Training worker: runs the WASM PPO trainer iteration by iteration so the page stays
// responsive; yields between iterations so a `stop` message is seen promptly.
import init, * as k from './pkg/kalsim_wasm.js';

let stop = false;
const ready = init();

self.onmessage = async (ev) => {
  const m = ev.data;
  if (m.cmd === 'stop') {
    stop = true;
    return;
  }
  if (m.cmd !== 'train') return;
  let trainer = null;
  try {
    await ready;
    stop = false;
    trainer = new k.Trainer(m.config, m.ppo, m.numEnvs, m.capture ?? undefined);
    trainer.start(BigInt(m.seed));
    for (let i = 0; i < m.iterations && !stop; i++) {
      const t0 = performance.now();
      const before = trainer.timesteps;
      const stats = trainer.iterate();
      const dt = (performance.now() - t0) / 1000;
      self.postMessage({ type: 'iter', stats, stepsPerSec: (trainer.timesteps - before) / Math.max(dt, 1e-6) });
      await new Promise((r) => setTimeout(r, 0));
    }
    const policy = trainer.policyJson();
    // The greedy checkpoint evaluated by the module (SPEC §9 report, size vs forecast edge).
    let evaluation = null;
    if (m.evaluate) {
      const data = m.capture ? k.loadCapture(m.capture, { lenient: m.config.data.lenient }) : k.Dataset.fromConfig(m.evaluate.config);
      try {
        const episodes = Math.max(1, Math.min(m.evaluate.episodes, data.numMarkets));
        evaluation = k.evaluate(m.evaluate.config, data, policy, episodes, BigInt(m.evaluate.seed));
      } finally {
        data.free();
      }
    }
    self.postMessage({ type: 'done', policy, stopped: stop, evaluation });
  } catch (e) {
    self.postMessage({ type: 'error', message: String(e && e.message ? e.message : e) });
  } finally {
    if (trainer) trainer.free();
  }
};
