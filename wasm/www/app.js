// kalsim sandbox: runs the WASM environment on the main thread (episodes, charts) and the
// PPO trainer in a Web Worker (worker.js). State for tests is mirrored on window.kalsimState.
import init, * as k from './pkg/kalsim_wasm.js';
import { lineChart, barChart, scatter, pearson } from './charts.js';
import { makeContext, hold, randomPolicy, imbalancePolicy, kellyPolicy, mulberry32 } from './policies.js';

const $ = (id) => document.getElementById(id);
const ACTION_LABELS = ['HOLD'];
for (const intent of ['BY', 'SY', 'BN', 'SN']) for (const t of ['S', 'M', 'L', 'H', 'G']) ACTION_LABELS.push(intent + t);
for (let i = 21; i < 25; i++) ACTION_LABELS.push('r' + i);

const state = {
  ready: false, error: null, running: false, training: false,
  episodes: 0, steps: 0, done: false, policy: null,
  equity: [], trips: [], actionHist: new Array(25).fill(0),
  lastInfo: null, metrics: null, finalPvCents: null, totalReturn: null,
  learning: [], trainIterations: 0, trainTimesteps: 0, policyJson: null, trainRequest: null,
  comparison: null, dataSummary: null,
};
window.kalsimState = state;

let dataset = null;
let datasetKey = '';
let captureText = null;
let env = null;
let obs = null;
let mask = null;
let act = hold;
let script = [];
let scriptPos = 0;
let lastAction = null;
let trip = null;
let prevPv = 0;
let trained = null;
let worker = null;

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').style.color = isError ? '#ffb4ab' : '';
}

function fail(e) {
  state.error = String(e && e.message ? e.message : e);
  status(state.error, true);
  console.error(e);
}

// ---------------------------------------------------------------- configuration and data

function num(id) {
  const v = Number($(id).value);
  if (!Number.isFinite(v)) throw new Error(`${id}: not a number`);
  return v;
}

function configObject(sizing) {
  const sizes = $('sizes').value.split(',').map((s) => Number(s.trim()));
  return {
    sizes,
    sizing: sizing || $('sizing').value,
    fixed_size: num('fixedSize'),
    pricing: $('pricing').value,
    sell_mode: $('sellMode').value,
    initial_cash_cents: num('initialCash'),
    max_steps: num('maxSteps'),
    limits: {
      max_position_per_market: num('maxPos'),
      max_position_value_cents: num('maxValue'),
      max_portfolio_fraction_bps: num('maxFrac'),
      min_cash_buffer_cents: num('cashBuffer'),
    },
    fees: { taker_rate_e4: num('takerRate'), maker_rate_e4: num('makerRate'), maker_fees: $('makerFees').checked },
    data: {
      synthetic_markets: num('dataMarkets'),
      synthetic_events: num('dataEvents'),
      synthetic_seed: num('dataSeed'),
      lenient: $('dataLenient').checked,
    },
  };
}

function source() {
  return document.querySelector('input[name=source]:checked').value;
}

function ensureData() {
  const key = source() === 'synthetic'
    ? `s:${$('dataSeed').value}:${$('dataMarkets').value}:${$('dataEvents').value}`
    : `c:${captureText ? captureText.length : 0}:${$('dataLenient').checked}`;
  if (dataset && key === datasetKey) return dataset;
  if (dataset) dataset.free();
  dataset = null;
  if (source() === 'synthetic') {
    dataset = k.Dataset.synthetic(num('dataMarkets'), num('dataEvents'), BigInt($('dataSeed').value || 0));
  } else {
    if (!captureText) throw new Error('choose a Kalshi JSONL capture file first');
    dataset = k.loadCapture(captureText, { lenient: $('dataLenient').checked, name: $('captureFile').files[0]?.name || 'capture' });
  }
  datasetKey = key;
  const s = dataset.summary();
  state.dataSummary = s;
  $('dataSummary').textContent = `${s.markets} market(s), ${s.events.reduce((a, b) => a + b, 0)} events` +
    (s.skipped ? `, ${s.skipped} line(s) skipped` : '') + (s.gaps ? `, ${s.gaps} gap(s)` : '') +
    ` — ${s.tickers.slice(0, 3).join(', ')}${s.tickers.length > 3 ? ', …' : ''}`;
  return dataset;
}

function makeEnv(sizing) {
  const cfg = configObject(sizing);
  const e = k.Env.fromDataset(cfg, ensureData());
  $('configError').textContent = '';
  return { env: e, cfg };
}

function makePolicy(name, cfg, seed) {
  const ctx = makeContext(k.obsSchema(), cfg);
  switch (name) {
    case 'hold': return hold;
    case 'random': return randomPolicy(mulberry32(seed));
    case 'imbalance': return imbalancePolicy(ctx);
    case 'kelly': return kellyPolicy(ctx);
    case 'trained':
      if (!trained) throw new Error('no trained policy yet: train first');
      return (o, m) => trained.act(o, m, true);
    case 'scripted': {
      const acts = script.slice();
      let i = 0;
      return () => (i < acts.length ? acts[i++] : null);
    }
    default: throw new Error(`unknown policy ${name}`);
  }
}

// ---------------------------------------------------------------- episode

function resetEpisode() {
  if (env) env.free();
  env = null;
  const { env: e, cfg } = makeEnv();
  env = e;
  const seed = Number($('episodeSeed').value || 0);
  const r = env.reset(BigInt(seed));
  obs = r.obs;
  mask = r.mask;
  state.policy = $('policy').value;
  script = $('script').value.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  scriptPos = 0;
  act = makePolicy(state.policy, cfg, seed);
  state.equity = [r.info.portfolio_value_cents / 100];
  state.trips = [];
  state.actionHist = new Array(25).fill(0);
  state.lastInfo = r.info;
  state.metrics = null;
  state.finalPvCents = null;
  state.totalReturn = null;
  state.steps = 0;
  state.done = false;
  lastAction = null;
  trip = null;
  prevPv = r.info.portfolio_value_cents;
  renderAll();
  status(`episode ready: ${env.ticker}, ${env.marketEvents} events, policy ${state.policy}`);
}

/** Track round trips (flat → flat): size = largest |position|, profit = PV change (SPEC §9). */
function trackTrip(info, ended) {
  const pos = info.position;
  const pv = info.portfolio_value_cents;
  if (!trip && pos !== 0) trip = { startPv: prevPv, size: 0 };
  if (trip) {
    trip.size = Math.max(trip.size, Math.abs(pos));
    if (pos === 0 || ended) {
      state.trips.push({ x: trip.size, y: (pv - trip.startPv) / 100 });
      trip = null;
    }
  }
  prevPv = pv;
}

/** One step; false when the episode is over (or the script ran out). */
function stepOnce() {
  if (!env || state.done) return false;
  const a = act(obs, mask);
  if (a === null || a === undefined) {
    finishEpisode('script ended');
    return false;
  }
  env.stepFast(a);
  obs = env.observation();
  mask = env.actionMask();
  const info = env.info();
  lastAction = a;
  state.actionHist[Math.min(24, a)]++;
  state.steps++;
  state.lastInfo = info;
  state.equity.push(info.portfolio_value_cents / 100);
  const ended = env.terminated || env.truncated;
  trackTrip(info, ended);
  if (ended) finishEpisode(env.terminated ? 'terminated' : 'truncated');
  return !ended;
}

function finishEpisode(why) {
  state.done = true;
  state.running = false;
  state.metrics = env.metrics();
  state.finalPvCents = state.lastInfo.portfolio_value_cents;
  state.totalReturn = state.metrics.total_return;
  state.episodes++;
  renderAll();
  updateReportLink();
  status(`episode ${why} after ${state.steps} steps: PV $${(state.finalPvCents / 100).toFixed(2)}, return ${(100 * state.totalReturn).toFixed(3)} %`);
}

function runLoop() {
  if (!state.running) return;
  const n = Number($('speed').value);
  try {
    for (let i = 0; i < n && stepOnce(); i++);
  } catch (e) {
    state.running = false;
    fail(e);
  }
  renderAll();
  if (state.running && !state.done) requestAnimationFrame(runLoop);
}

// ---------------------------------------------------------------- fixed vs variable

function runEpisodes(sizing, policyName, seed, episodes) {
  const { env: e, cfg } = makeEnv(sizing);
  const agg = { returns: [], fees: 0, trips: [], sharpe: [], maxDd: 0, wins: 0, roundTrips: 0, avgPos: [], steps: 0, changes: 0, finalPv: 0, invalid: 0 };
  try {
    for (let ep = 0; ep < episodes; ep++) {
      let r = ep === 0 ? e.reset(BigInt(seed)) : e.reset();
      const policy = makePolicy(policyName === 'scripted' ? 'imbalance' : policyName, cfg, seed + ep);
      let o = r.obs;
      let m = r.mask;
      let t = null;
      let prev = r.info.portfolio_value_cents;
      for (;;) {
        e.stepFast(policy(o, m));
        o = e.observation();
        m = e.actionMask();
        const info = e.info();
        const ended = e.terminated || e.truncated;
        if (!t && info.position !== 0) t = { startPv: prev, size: 0 };
        if (t) {
          t.size = Math.max(t.size, Math.abs(info.position));
          if (info.position === 0 || ended) { agg.trips.push({ x: t.size, y: (info.portfolio_value_cents - t.startPv) / 100 }); t = null; }
        }
        prev = info.portfolio_value_cents;
        if (ended) break;
      }
      const mt = e.metrics();
      agg.returns.push(mt.total_return);
      agg.fees += mt.fees_paid_cents;
      agg.sharpe.push(mt.sharpe);
      agg.maxDd = Math.max(agg.maxDd, mt.max_drawdown);
      agg.wins += mt.win_rate * mt.round_trips;
      agg.roundTrips += mt.round_trips;
      agg.avgPos.push(mt.avg_position_size);
      agg.steps += mt.steps;
      agg.changes += mt.size_changes_per_episode;
      agg.invalid += mt.invalid_actions;
      agg.finalPv += mt.final_pv_cents;
    }
  } finally {
    e.free();
  }
  const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    sizing: sizing === 'fixed' ? `fixed ${cfg.fixed_size}` : `variable [${cfg.sizes.join(', ')}]`,
    episodes,
    mean_return_pct: 100 * mean(agg.returns),
    sum_pnl_dollars: agg.returns.reduce((a, r) => a + r * cfg.initial_cash_cents / 100, 0),
    fees_dollars: agg.fees / 100,
    mean_sharpe: mean(agg.sharpe),
    max_drawdown_pct: 100 * agg.maxDd,
    round_trips: agg.roundTrips,
    win_rate: agg.roundTrips ? agg.wins / agg.roundTrips : 0,
    size_efficiency: pearson(agg.trips),
    avg_position_size: mean(agg.avgPos),
    size_changes: agg.changes,
    invalid_actions: agg.invalid,
    steps: agg.steps,
  };
}

function compare() {
  const policyName = $('policy').value;
  const seed = Number($('episodeSeed').value || 0);
  const episodes = Math.min(8, ensureData().numMarkets);
  const rows = ['fixed', 'variable'].map((s) => runEpisodes(s, policyName, seed, episodes));
  state.comparison = { policy: policyName, seed, rows };
  renderComparison();
  updateReportLink();
  status(`compared fixed and variable sizing over ${episodes} episode(s), policy ${policyName}, seed ${seed}`);
}

// ---------------------------------------------------------------- training (worker)

function startTraining() {
  if (worker) return;
  const cfg = configObject();
  cfg.max_steps = num('trainMaxSteps');
  const msg = {
    cmd: 'train',
    config: cfg,
    capture: source() === 'capture' ? captureText : null,
    numEnvs: num('trainEnvs'),
    iterations: num('trainIters'),
    seed: num('trainSeed'),
    ppo: {
      n_steps: num('trainSteps'),
      minibatch_size: Math.min(256, num('trainSteps') * num('trainEnvs')),
      learning_rate: num('trainLr'),
      hidden: $('trainHidden').value.split(',').map((s) => Number(s.trim())).filter((x) => x > 0),
      seed: num('trainSeed'),
    },
  };
  if (msg.capture === null && source() === 'capture') throw new Error('choose a capture file first');
  // What was trained, for the report and for reproducing the run elsewhere (Node, native).
  state.trainRequest = { ...msg, capture: msg.capture === null ? null : `${msg.capture.length} bytes` };
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  state.training = true;
  state.learning = [];
  state.trainIterations = 0;
  $('trainStart').disabled = true;
  $('trainStop').disabled = false;
  $('trainProgress').max = msg.iterations;
  $('trainProgress').value = 0;
  $('trainStatus').textContent = 'starting…';
  worker.onmessage = (ev) => {
    const m = ev.data;
    if (m.type === 'iter') {
      state.trainIterations = m.stats.iteration;
      state.trainTimesteps = m.stats.timesteps;
      state.learning.push(m.stats);
      $('trainProgress').value = m.stats.iteration;
      $('trainStatus').textContent = `iteration ${m.stats.iteration}/${msg.iterations}: ${m.stats.timesteps} steps, ` +
        `${m.stats.episodes} episode(s), mean return ${m.stats.mean_episode_return.toFixed(3)}, ` +
        `entropy ${m.stats.entropy.toFixed(3)}, ${Math.round(m.stepsPerSec)} steps/s`;
      renderLearning();
    } else if (m.type === 'done') {
      state.policyJson = m.policy;
      if (trained) trained.free();
      trained = k.Policy.fromJson(m.policy);
      const url = URL.createObjectURL(new Blob([m.policy], { type: 'application/json' }));
      $('exportPolicy').href = url;
      $('exportPolicy').classList.remove('disabled');
      $('trainStatus').textContent += m.stopped ? ' — stopped' : ' — done';
      stopWorker();
      updateReportLink();
    } else if (m.type === 'error') {
      stopWorker();
      fail(m.message);
      $('trainStatus').textContent = 'error: ' + m.message;
    }
  };
  worker.onerror = (e) => { stopWorker(); fail(e.message || 'worker failed'); };
  worker.postMessage(msg);
}

function stopWorker() {
  if (worker) worker.terminate();
  worker = null;
  state.training = false;
  $('trainStart').disabled = false;
  $('trainStop').disabled = true;
}

// ---------------------------------------------------------------- rendering

function renderStats() {
  const i = state.lastInfo;
  if (!i) return;
  const cells = [
    ['step', i.step], ['market', env ? env.ticker : ''], ['cash', `$${(i.cash_cents / 100).toFixed(2)}`],
    ['position', i.position], ['PV', `$${(i.portfolio_value_cents / 100).toFixed(2)}`],
    ['fees', `$${(i.fees_paid_cents / 100).toFixed(2)}`], ['working', i.working_order_remaining],
    ['last order', i.last_order_size ? `${i.last_order_filled}/${i.last_order_size} @ ${i.last_order_limit_cents}¢` : '—'],
    ['invalid', i.invalid_action_name],
  ];
  if (state.metrics) cells.push(['return', `${(100 * state.metrics.total_return).toFixed(3)} %`], ['Sharpe', state.metrics.sharpe.toFixed(3)]);
  $('stats').innerHTML = cells.map(([k2, v]) => `<div><span>${k2}</span><b>${v}</b></div>`).join('');
}

function renderBook() {
  if (!env) return;
  const b = env.bookLevels(8);
  $('ticker').textContent = env.ticker;
  const rows = [];
  for (let r = 0; r < 8; r++) {
    const y = b.yes[r];
    const n = b.no[r];
    rows.push(`<tr><td>${y ? y.price + '¢' : ''}</td><td>${y ? y.contracts.toFixed(2) : ''}</td><td>${n ? n.price + '¢' : ''}</td><td>${n ? n.contracts.toFixed(2) : ''}</td></tr>`);
  }
  $('book').querySelector('tbody').innerHTML = rows.join('');
}

function renderMask() {
  if (!mask) return;
  const cells = [];
  for (let a = 0; a < 25; a++) {
    const cls = [mask[a] ? 'on' : '', a === lastAction ? 'last' : '', a === 0 ? 'hold' : ''].join(' ');
    cells.push(`<div class="${cls}" title="action ${a}">${a} ${ACTION_LABELS[a]}</div>`);
  }
  $('mask').innerHTML = cells.join('');
  $('lastAction').textContent = lastAction === null ? '' : `last action ${lastAction} (${ACTION_LABELS[lastAction]})`;
}

function renderCharts() {
  const initial = state.equity.length ? state.equity[0] : 0;
  lineChart($('equity'), [{ ys: state.equity, color: '#2e5aac' }], { xlabel: 'step', baseline: initial });
  const m = state.metrics || (env ? env.metrics() : null);
  if (m) {
    const labels = Object.keys(m.position_size_distribution).sort((a, b) => a - b);
    barChart($('sizeHist'), labels, labels.map((l) => m.position_size_distribution[l]), { color: '#1a7f4b' });
  }
  scatter($('scatter'), state.trips, { xlabel: 'round-trip size (contracts)' });
  const r = pearson(state.trips);
  $('corr').textContent = `n = ${state.trips.length}, r = ${r.toFixed(3)}` + (m ? ` (core size_efficiency ${m.size_efficiency.toFixed(3)})` : '');
  const colors = (i) => (i === 0 ? '#667085' : i <= 5 ? '#1a7f4b' : i <= 10 ? '#7fb89a' : i <= 15 ? '#b42318' : i <= 20 ? '#d98a82' : '#c0c4cc');
  barChart($('actionHist'), ACTION_LABELS.map((_, i) => String(i)), state.actionHist, { color: colors, labelEvery: 2 });
}

function renderLearning() {
  // Iterations in which no episode finished carry no return.
  const ys = state.learning.filter((s) => s.episodes > 0).map((s) => s.mean_episode_return);
  lineChart($('learning'), [{ ys, color: '#b42318', label: 'mean episode return ($), iterations with finished episodes' }], { xlabel: 'iteration' });
}

function renderComparison() {
  const c = state.comparison;
  if (!c) return;
  const keys = Object.keys(c.rows[0]).filter((x) => x !== 'sizing');
  const f = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v);
  $('comparison').innerHTML = `<thead><tr><th>metric</th>${c.rows.map((r) => `<th>${r.sizing}</th>`).join('')}</tr></thead><tbody>` +
    keys.map((key) => `<tr><td>${key}</td>${c.rows.map((r) => `<td>${f(r[key])}</td>`).join('')}</tr>`).join('') + '</tbody>';
}

let lastRender = 0;
function renderAll(force = true) {
  const now = performance.now();
  if (!force && now - lastRender < 30) return;
  lastRender = now;
  renderStats();
  renderBook();
  renderMask();
  renderCharts();
}

/** The run report (SPEC §9 metrics, equity, round trips, comparison, learning curve). */
function buildReport() {
  return {
    format: 'kalsim-sandbox-report',
    version: 1,
    kalsim: k.version(),
    obs_schema_version: k.obsSchemaVersion(),
    config: configObject(),
    data: { source: source(), summary: state.dataSummary },
    episode: { seed: Number($('episodeSeed').value || 0), policy: state.policy, steps: state.steps, done: state.done, final_info: state.lastInfo, metrics: state.metrics, equity_dollars: state.equity, round_trips: state.trips, action_histogram: state.actionHist },
    comparison: state.comparison,
    training: state.learning.length ? { request: state.trainRequest, iterations: state.learning } : null,
  };
}

/** Point the download link at a fresh report (called when something finished). */
function updateReportLink() {
  const a = $('exportReport');
  if (a.href && a.href.startsWith('blob:')) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(new Blob([JSON.stringify(buildReport(), null, 1)], { type: 'application/json' }));
  a.classList.remove('disabled');
}

// ---------------------------------------------------------------- wiring

function guard(fn) {
  return (...args) => {
    try {
      fn(...args);
    } catch (e) {
      state.running = false;
      $('configError').textContent = e.message || String(e);
      fail(e);
    }
  };
}

async function main() {
  await init();
  $('loadData').onclick = guard(() => { datasetKey = ''; ensureData(); resetEpisode(); });
  $('captureFile').onchange = guard(async () => {
    const f = $('captureFile').files[0];
    if (!f) return;
    captureText = await f.text();
    document.querySelector('input[name=source][value=capture]').checked = true;
    datasetKey = '';
    guard(() => { ensureData(); resetEpisode(); })();
  });
  $('reset').onclick = guard(resetEpisode);
  $('step').onclick = guard(() => {
    if (!env || state.done) resetEpisode();
    stepOnce();
    renderAll();
  });
  $('run').onclick = guard(() => {
    if (!env || state.done) resetEpisode();
    state.running = true;
    requestAnimationFrame(runLoop);
  });
  $('pause').onclick = () => { state.running = false; };
  $('compare').onclick = guard(compare);
  $('trainStart').onclick = guard(startTraining);
  $('trainStop').onclick = () => { if (worker) worker.postMessage({ cmd: 'stop' }); };
  $('policy').onchange = guard(resetEpisode);
  if (!k.Policy) {
    $('trainStart').disabled = true;
    $('trainStatus').textContent = 'this build has no trainer';
  }
  renderLearning();
  resetEpisode();
  state.ready = true;
  status(`ready — kalsim ${k.version()}, observation schema v${k.obsSchemaVersion()} (${k.obsDim()} features)`);
}

main().catch(fail);
