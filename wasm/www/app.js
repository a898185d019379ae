// kalsim sandbox: runs the WASM environment on the main thread (episodes, charts) and the
// PPO trainer in a Web Worker (worker.js). State for tests is mirrored on window.kalsimState.
// Every number shown comes from the WASM module (policies, metrics, reports); this file only
// wires the controls and renders.
import init, * as k from './pkg/kalsim_wasm.js';
import { lineChart, barChart, scatter } from './charts.js';

const $ = (id) => document.getElementById(id);
// Action names from the module's codec (SPEC §2): `[short label, full name]` per id.
let ACTION_NAMES = [];

function actionNames() {
  const out = [];
  for (let a = 0; a < 25; a++) {
    try {
      const d = k.decodeAction(a);
      const full = d.tier < 0 ? d.intentName : `${d.intentName} ${d.tierName}`;
      const short = d.tier < 0 ? d.intentName : d.intentName.split('_').map((w) => w[0]).join('') + d.tierName[0];
      out.push([short, full]);
    } catch (e) {
      out.push([`r${a}`, `reserved: ${e.message}`]);
    }
  }
  return out;
}

const state = {
  ready: false, error: null, running: false, training: false,
  episodes: 0, steps: 0, done: false, policy: null,
  // `trips`: the finished episode's round trips `{x: size, y: profit $}`, from the host's
  // episode runner (`episodeReport`); `metrics`: its SPEC §9 row (`kalsim run --episodes 1`).
  equity: [], trips: [], episodeReport: null,
  lastInfo: null, metrics: null, finalPvCents: null, totalReturn: null,
  learning: [], trainIterations: 0, trainTimesteps: 0, policyJson: null, trainRequest: null,
  // The episode's configuration and reset seed (what `kalsim run --config --seed` takes).
  config: null, seed: 0,
  comparison: null, dataSummary: null, baselines: [],
  // The last checkpoint trained under each sizing mode (JSON), for the fixed-vs-variable table.
  trainedBySizing: { variable: null, fixed: null },
  // The last evaluation run (Evaluate button or after training), as the WASM module returned it.
  evaluation: null,
};
window.kalsimState = state;

let dataset = null;
let datasetKey = '';
let captureText = null;
let env = null;
let obs = null;
let mask = null;
let act = null;
let script = [];
let scriptPos = 0;
let lastAction = null;
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
    max_slippage_cents: num('maxSlippage'),
    order_latency_ms: num('orderLatency'),
    decision_interval: { [$('decisionUnit').value]: num('decisionValue') },
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
      preset: $('dataPreset').value,
    },
  };
}

function source() {
  return document.querySelector('input[name=source]:checked').value;
}

function ensureData() {
  const key = source() === 'synthetic'
    ? `s:${$('dataPreset').value}:${$('dataSeed').value}:${$('dataMarkets').value}:${$('dataEvents').value}`
    : `c:${captureText ? captureText.length : 0}:${$('dataLenient').checked}`;
  if (dataset && key === datasetKey) return dataset;
  if (dataset) dataset.free();
  dataset = null;
  if (source() === 'synthetic') {
    dataset = k.Dataset.fromConfig(configObject());
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

/** `(obs, mask, env) → action`: a host baseline by name (Rust), the trained policy or the script. */
function makePolicy(name, cfg, seed) {
  if (state.baselines.includes(name)) {
    const p = new k.Baseline(name, BigInt(seed), cfg);
    const f = (o, m, e) => p.act(o, m, e.latentProbability);
    f.free = () => p.free();
    return f;
  }
  switch (name) {
    case 'trained': {
      const p = k.Policy.fromJson(trainedJson(cfg.sizing));
      const f = (o, m) => p.act(o, m, true);
      f.free = () => p.free();
      return f;
    }
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
  state.config = cfg;
  state.seed = seed;
  script = $('script').value.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  scriptPos = 0;
  if (act && act.free) act.free();
  act = makePolicy(state.policy, cfg, seed);
  state.equity = [r.info.portfolio_value_cents / 100];
  state.trips = [];
  state.episodeReport = null;
  state.lastInfo = r.info;
  state.metrics = null;
  state.finalPvCents = null;
  state.totalReturn = null;
  state.steps = 0;
  state.done = false;
  lastAction = null;
  renderAll();
  status(`episode ready: ${env.ticker}, ${env.marketEvents} events, policy ${state.policy}`);
}

/** One step; false when the episode is over (or the script ran out). */
function stepOnce() {
  if (!env || state.done) return false;
  const a = act(obs, mask, env);
  if (a === null || a === undefined) {
    finishEpisode('script ended');
    return false;
  }
  env.stepFast(a);
  obs = env.observation();
  mask = env.actionMask();
  const info = env.info();
  lastAction = a;
  state.steps++;
  state.lastInfo = info;
  state.equity.push(info.portfolio_value_cents / 100);
  const ended = env.terminated || env.truncated;
  if (ended) finishEpisode(env.terminated ? 'terminated' : 'truncated');
  return !ended;
}

/**
 * The episode as the host's runner reports it (`kalsim run --episodes 1` with the episode
 * seed): the same policy, data, config and seed, so the same steps as the one just stepped
 * here. A script runs through `evaluateScript` (truncated where it ends).
 */
function episodeReport() {
  const cfg = configObject();
  const seed = BigInt(Number($('episodeSeed').value || 0));
  if (state.policy === 'scripted') return k.evaluateScript(cfg, ensureData(), Uint32Array.from(script), seed);
  return k.evaluate(cfg, ensureData(), policySpec(state.policy), 1, seed);
}

function finishEpisode(why) {
  state.done = true;
  state.running = false;
  const ev = episodeReport();
  const row = ev.report.per_episode[0];
  if (row.final_pv_cents !== state.lastInfo.portfolio_value_cents || row.steps !== state.steps) {
    throw new Error(`episode runner disagrees with the stepped episode: PV ${row.final_pv_cents} vs ${state.lastInfo.portfolio_value_cents}, steps ${row.steps} vs ${state.steps}`);
  }
  state.episodeReport = ev.report;
  // One episode: the aggregate's size distribution is this episode's.
  state.metrics = { ...row, position_size_distribution: ev.report.aggregate.position_size_distribution };
  state.trips = Array.from(ev.roundTrips.size, (size, i) => ({ x: size, y: ev.roundTrips.profitCents[i] / 100 }));
  state.finalPvCents = row.final_pv_cents;
  state.totalReturn = row.total_return;
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

/** The checkpoint trained with `sizing` (a policy only acts under the sizing it was trained with), else the last one. */
function trainedJson(sizing) {
  const json = state.trainedBySizing[sizing] || state.policyJson;
  if (!json) throw new Error('no trained policy yet: train first');
  return json;
}

/** The policy as `evaluate` takes it: a baseline name or the trained checkpoint's JSON. */
function policySpec(name) {
  if (state.baselines.includes(name)) return name;
  if (name === 'trained') return trainedJson($('sizing').value);
  throw new Error(`policy ${name} cannot be evaluated (choose a baseline or the trained policy)`);
}

/** Evaluation episodes: the eval count, at most one pass over the markets. */
function evalEpisodes() {
  return Math.max(1, Math.min(num('evalEpisodes'), ensureData().numMarkets));
}

/** The rows the comparison shows: the host's SPEC §9 aggregate, as `kalsim run` reports it. */
function comparisonRow(label, ev) {
  const a = ev.report.aggregate;
  return {
    sizing: label,
    episodes: a.episodes,
    mean_return_pct: 100 * a.total_return,
    fees_dollars: a.fees_cents_total / 100,
    mean_sharpe: a.sharpe,
    max_drawdown_worst_pct: 100 * a.max_drawdown_worst,
    round_trips: a.round_trips,
    win_rate_pooled: a.win_rate_pooled,
    size_efficiency_pooled: a.size_efficiency_pooled,
    size_edge_r: ev.sizeEdgeR === null ? 'undefined' : ev.sizeEdgeR,
    opening_trades: ev.openingTrades.filled.length,
    hold_fraction: a.hold_fraction,
    avg_position_size: a.avg_position_size,
    size_changes_per_episode: a.size_changes_per_episode,
    invalid_actions: a.invalid_actions,
    steps: a.steps,
  };
}

/**
 * Size-choosing policies and the fixed-size counterpart each is compared with, as `kalsim
 * experiment` pairs them: `forecast-kelly` (variable sizes) against `forecast-fixed` (the same
 * rule targeting the fixed size, under fixed sizing); the others against themselves under
 * `sizing = fixed`, where the environment trades every trade action at `fixed_size` (what
 * `kalsim run --sizing fixed` does). Policies that do not choose sizes (`hold`, `fixed`, a
 * script) fall back to the forecast pair on the informed preset and to `kelly` otherwise.
 */
const SIZING_PAIRS = {
  'forecast-kelly': 'forecast-fixed', 'forecast-fixed': 'forecast-fixed',
  kelly: 'kelly', oracle: 'oracle', random: 'random',
};

/** The columns of the fixed-vs-variable table: `{label, policy, spec, sizing}`. */
function comparisonColumns() {
  let chooser = $('policy').value;
  if (!(chooser in SIZING_PAIRS)) chooser = $('dataPreset').value === 'informed' && source() === 'synthetic' ? 'forecast-kelly' : 'kelly';
  if (chooser === 'forecast-fixed') chooser = 'forecast-kelly';
  const counterpart = SIZING_PAIRS[chooser];
  const sizes = configObject('variable').sizes.join(', ');
  const fixedSize = num('fixedSize');
  const cols = [
    { label: `${chooser}: chooses sizes [${sizes}]`, policy: chooser, spec: chooser, sizing: 'variable' },
    counterpart === chooser
      ? { label: `${chooser}: forced to fixed ${fixedSize} (sizing = fixed)`, policy: chooser, spec: chooser, sizing: 'fixed' }
      : { label: `${counterpart}: same rule, fixed ${fixedSize}`, policy: counterpart, spec: counterpart, sizing: 'fixed' },
  ];
  for (const sizing of ['variable', 'fixed']) {
    const json = state.trainedBySizing[sizing];
    if (json) cols.push({ label: `PPO trained with ${sizing} sizing`, policy: `trained-${sizing}`, spec: json, sizing });
  }
  return cols;
}

/** A size-choosing policy against the same forced to fixed size (and the trained pair). */
function compare() {
  const seed = Number($('episodeSeed').value || 0);
  const episodes = evalEpisodes();
  const columns = [];
  const skipped = [];
  for (const c of comparisonColumns()) {
    const config = configObject(c.sizing);
    let ev;
    try {
      ev = k.evaluate(config, ensureData(), c.spec, episodes, BigInt(seed));
    } catch (e) {
      // A checkpoint trained on other data or settings does not fit (the host checks it).
      if (c.spec === c.policy) throw e;
      skipped.push(`${c.label} (${e.message})`);
      continue;
    }
    columns.push({ label: c.label, policy: c.policy, sizing: c.sizing, config, report: ev.report, row: comparisonRow(c.label, ev) });
  }
  state.comparison = { seed, episodes, columns, rows: columns.map((c) => c.row), skipped };
  renderComparison();
  updateReportLink();
  status(`compared ${columns.map((c) => c.label).join(' | ')} over ${episodes} episode(s), seed ${seed}` +
    (skipped.length ? `; left out: ${skipped.join('; ')}` : ''));
}

/** Keep an evaluation (from the module, here or in the worker) and draw it. */
function showEvaluation(ev, meta) {
  state.evaluation = {
    ...meta,
    sizeEdgeR: ev.sizeEdgeR,
    sizeProfitR: ev.sizeProfitR,
    report: ev.report,
    openingTrades: { episode: Array.from(ev.openingTrades.episode), filled: Array.from(ev.openingTrades.filled), edge: Array.from(ev.openingTrades.edge) },
  };
  renderSizeEdge();
  updateReportLink();
}

function evaluateSelected() {
  const policyName = $('policy').value;
  const spec = policySpec(policyName);
  const seed = Number($('episodeSeed').value || 0);
  const episodes = evalEpisodes();
  const cfg = configObject();
  const ev = k.evaluate(cfg, ensureData(), spec, episodes, BigInt(seed));
  showEvaluation(ev, { source: 'evaluate', policy: policyName, episodes, seed, config: cfg });
  const a = ev.report.aggregate;
  status(`evaluated ${policyName} over ${episodes} episode(s): mean return ${(100 * a.total_return).toFixed(3)} %, ` +
    `${ev.openingTrades.filled.length} opening trade(s), size-vs-edge r ${ev.sizeEdgeR === null ? 'undefined' : ev.sizeEdgeR.toFixed(3)}`);
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
    // After training, the worker evaluates the greedy checkpoint on the episode settings.
    evaluate: { config: configObject(), episodes: num('evalEpisodes'), seed: Number($('episodeSeed').value || 0) },
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
      state.trainedBySizing[msg.config.sizing] = m.policy;
      const url = URL.createObjectURL(new Blob([m.policy], { type: 'application/json' }));
      $('exportPolicy').href = url;
      $('exportPolicy').classList.remove('disabled');
      $('trainStatus').textContent += m.stopped ? ' — stopped' : ' — done';
      if (m.evaluation) {
        const e = msg.evaluate;
        showEvaluation(m.evaluation, { source: 'training', policy: 'trained', episodes: m.evaluation.report.aggregate.episodes, seed: e.seed, config: e.config });
      }
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
    cells.push(`<div class="${cls}" title="action ${a}: ${ACTION_NAMES[a][1]}">${a} ${ACTION_NAMES[a][0]}</div>`);
  }
  $('mask').innerHTML = cells.join('');
  $('lastAction').textContent = lastAction === null ? '' : `last action ${lastAction} (${ACTION_NAMES[lastAction][1]})`;
}

function renderCharts() {
  const initial = state.equity.length ? state.equity[0] : 0;
  lineChart($('equity'), [{ ys: state.equity, color: '#2e5aac' }], { xlabel: 'step', baseline: initial });
  const m = state.metrics || (env ? env.metrics() : null);
  if (m) {
    const labels = Object.keys(m.position_size_distribution).sort((a, b) => a - b);
    barChart($('sizeHist'), labels, labels.map((l) => m.position_size_distribution[l]), { color: '#1a7f4b' });
  }
  scatter($('scatter'), state.trips, { xlabel: 'round-trip size (contracts)', empty: state.done ? 'no round trips' : 'round trips appear when the episode ends' });
  $('corr').textContent = state.episodeReport ? `n = ${state.trips.length}, size_efficiency r = ${m.size_efficiency.toFixed(3)} (host report)` : '';
  const colors = (i) => (i === 0 ? '#667085' : i <= 5 ? '#1a7f4b' : i <= 10 ? '#7fb89a' : i <= 15 ? '#b42318' : i <= 20 ? '#d98a82' : '#c0c4cc');
  const hist = m ? m.action_histogram : new Array(25).fill(0);
  barChart($('actionHist'), hist.map((_, i) => String(i)), hist, { color: colors, labelEvery: 2 });
}

/** The size-vs-edge scatter of the last evaluation (numbers from `evaluate`). */
function renderSizeEdge() {
  const ev = state.evaluation;
  const t = ev ? ev.openingTrades : { filled: [], edge: [] };
  const points = t.edge.map((x, i) => ({ x, y: t.filled[i] }));
  scatter($('sizeEdge'), points, { xlabel: 'signed forecast edge at the decision (probability)', empty: ev ? 'no opening trade on a forecast' : 'press Evaluate, or train' });
  if (!ev) return;
  const r = ev.sizeEdgeR === null ? 'undefined' : ev.sizeEdgeR.toFixed(3);
  $('sizeEdgeCorr').textContent = `— ${ev.policy}, n = ${t.filled.length}, Pearson r = ${r}`;
  const a = ev.report.aggregate;
  $('evalSummary').textContent = `${ev.source === 'training' ? 'after training: ' : ''}${ev.report.policy} over ${a.episodes} episode(s), seed ${ev.seed}: ` +
    `mean return ${(100 * a.total_return).toFixed(3)} %, Sharpe ${a.sharpe.toFixed(3)}, hold fraction ${a.hold_fraction.toFixed(3)}, ` +
    `fills per tier [${a.fills_per_tier.join(', ')}], round trips ${a.round_trips}`;
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
    episode: { seed: Number($('episodeSeed').value || 0), policy: state.policy, steps: state.steps, done: state.done, final_info: state.lastInfo, metrics: state.metrics, equity_dollars: state.equity, round_trips: state.trips, report: state.episodeReport },
    comparison: state.comparison,
    evaluation: state.evaluation,
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
  ACTION_NAMES = actionNames();
  state.baselines = k.baselineNames();
  const select = $('policy');
  for (const name of state.baselines.slice().reverse()) select.insertBefore(new Option(name, name, false, name === 'kelly'), select.firstChild);
  select.value = 'kelly';
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
  $('evaluate').onclick = guard(evaluateSelected);
  $('dataPreset').onchange = guard(() => { datasetKey = ''; ensureData(); resetEpisode(); });
  $('trainStart').onclick = guard(startTraining);
  $('trainStop').onclick = () => { if (worker) worker.postMessage({ cmd: 'stop' }); };
  $('policy').onchange = guard(resetEpisode);
  if (!k.Policy) {
    $('trainStart').disabled = true;
    $('trainStatus').textContent = 'this build has no trainer';
  }
  renderLearning();
  renderSizeEdge();
  resetEpisode();
  state.ready = true;
  status(`ready — kalsim ${k.version()}, observation schema v${k.obsSchemaVersion()} (${k.obsDim()} features)`);
}

main().catch(fail);
