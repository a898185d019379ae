// End to end in a real browser: serve wasm/www on 127.0.0.1, drive the sandbox in Debian's
// Chromium through playwright-core (never downloads a browser), check that a scripted
// episode ends on the native PV of a golden vector, that the charts hold data, that training
// in the worker produces a learning curve and a policy, that the informed preset's
// size-vs-edge chart is drawn from the module's numbers (equal to Node's), and write a screenshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { kalsim, wasmDir, repoRoot, rawSeed } from './load.mjs';
import { serve, launchChromium } from './serve.mjs';

const www = path.join(wasmDir, 'www');
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const vectorFile = path.join(repoRoot, 'tests', 'vectors', 'all_25_actions_cycle.json');
const skip = !existsSync(chromium) ? `${chromium} not found` : !existsSync(vectorFile) ? `${vectorFile} missing` : false;

test('sandbox in Chromium: scripted episode = native, charts, training, screenshot', { skip, timeout: 420_000 }, async () => {
  const { chromium: pw } = await import('playwright-core');
  const text = readFileSync(vectorFile, 'utf8');
  const v = JSON.parse(text);
  const server = await serve(www);
  const port = server.address().port;
  const { browser, profile } = await launchChromium(pw, chromium);
  const errors = [];
  try {
    const page = browser.pages()[0] || (await browser.newPage());
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(`http://127.0.0.1:${port}/index.html`);
    await page.waitForFunction(() => window.kalsimState && window.kalsimState.ready, null, { timeout: 30_000 });

    // 1. The golden vector's configuration and actions, scripted through the UI.
    const cfg = v.config;
    await page.fill('#dataSeed', String(cfg.data.synthetic_seed));
    await page.fill('#dataMarkets', String(cfg.data.synthetic_markets));
    await page.fill('#dataEvents', String(cfg.data.synthetic_events));
    await page.selectOption('#sizing', cfg.sizing);
    await page.selectOption('#pricing', cfg.pricing);
    await page.fill('#maxSlippage', String(cfg.max_slippage_cents));
    await page.fill('#orderLatency', String(cfg.order_latency_ms));
    const [unit, every] = Object.entries(cfg.decision_interval)[0];
    await page.selectOption('#decisionUnit', unit);
    await page.fill('#decisionValue', String(every));
    await page.selectOption('#dataPreset', cfg.data.preset || 'default');
    await page.selectOption('#sellMode', cfg.sell_mode);
    await page.fill('#sizes', cfg.sizes.join(','));
    await page.fill('#episodeSeed', String(rawSeed(text)));
    await page.fill('#script', v.steps.map((s) => s.action).join(','));
    await page.selectOption('#policy', 'scripted');
    await page.click('#loadData');
    await page.click('#run');
    await page.waitForFunction(() => window.kalsimState.done, null, { timeout: 30_000 });
    const scripted = await page.evaluate(() => ({ steps: window.kalsimState.steps, info: window.kalsimState.lastInfo }));
    const last = v.steps[v.steps.length - 1].info;
    assert.equal(scripted.steps, v.steps.length);
    assert.equal(scripted.info.portfolio_value_cents, last.portfolio_value_cents, 'final PV equals native');
    assert.equal(scripted.info.cash_cents, last.cash_cents);
    assert.equal(scripted.info.position, last.position);
    assert.equal(scripted.info.fees_paid_cents, last.fees_paid_cents);

    // 2. A full episode with the Rust Kelly baseline on default-size data: charts hold data.
    await page.fill('#dataMarkets', '4');
    await page.fill('#dataEvents', '1000');
    await page.selectOption('#policy', 'kelly');
    await page.click('#loadData');
    await page.click('#run');
    await page.waitForFunction(() => window.kalsimState.done, null, { timeout: 60_000 });
    const ep = await page.evaluate(() => {
      const s = window.kalsimState;
      return { steps: s.steps, equity: s.equity.length, actions: s.metrics.action_histogram.reduce((a, b) => a + b, 0), trips: s.trips.length, metrics: s.metrics };
    });
    assert.ok(ep.steps > 100, `steps ${ep.steps}`);
    assert.equal(ep.equity, ep.steps + 1);
    assert.equal(ep.actions, ep.steps);
    assert.ok(ep.metrics && ep.metrics.steps === ep.steps);
    assert.ok(ep.trips >= 1, 'round trips recorded');

    // 3. Fixed vs variable on the same data and seed.
    await page.click('#compare');
    await page.waitForFunction(() => window.kalsimState.comparison !== null, null, { timeout: 60_000 });
    const cmp = await page.evaluate(() => window.kalsimState.comparison);
    assert.equal(cmp.rows.length, 2);
    assert.match(cmp.rows[0].sizing, /^fixed/);

    const outDir = path.join(wasmDir, 'test-output');
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: path.join(outDir, 'sandbox-episode.png'), fullPage: true });

    // 4. A Kalshi JSONL capture from disk (file input); training below runs on it.
    const capture = kalsim.generateSynthetic(2, 400, 9);
    await page.setInputFiles('#captureFile', { name: 'capture.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(capture) });
    await page.waitForFunction(() => /^2 market\(s\)/.test(document.getElementById('dataSummary').textContent), null, { timeout: 30_000 });
    assert.equal(await page.evaluate(() => document.querySelector('input[name=source]:checked').value), 'capture');
    await page.selectOption('#policy', 'fixed');
    await page.click('#run');
    await page.waitForFunction(() => window.kalsimState.done, null, { timeout: 60_000 });
    const cap = await page.evaluate(() => ({ steps: window.kalsimState.steps, tickers: window.kalsimState.dataSummary.tickers }));
    assert.equal(cap.steps, 400);
    assert.equal(cap.tickers.length, 2);

    // 5. Training in the worker for a short budget; the page stays responsive.
    await page.fill('#trainEnvs', '4');
    await page.fill('#trainSteps', '64');
    await page.fill('#trainIters', '4');
    await page.click('#trainStart');
    await page.waitForFunction(() => window.kalsimState.training === true, null, { timeout: 10_000 });
    const t0 = Date.now();
    assert.equal(await page.evaluate(() => 1 + 1), 2);
    assert.ok(Date.now() - t0 < 2000, 'main thread responsive while training');
    await page.waitForFunction(() => window.kalsimState.policyJson !== null, null, { timeout: 180_000 });
    const tr = await page.evaluate(() => ({ it: window.kalsimState.trainIterations, curve: window.kalsimState.learning.length, policy: window.kalsimState.policyJson.length }));
    assert.equal(tr.it, 4);
    assert.equal(tr.curve, 4);
    assert.ok(tr.policy > 100);
    // The browser worker's checkpoint has the same bytes as the same training in Node.
    const req = await page.evaluate(() => ({ ...window.kalsimState.trainRequest, policyJson: window.kalsimState.policyJson }));
    const nodeTrainer = new kalsim.Trainer(req.config, req.ppo, req.numEnvs, capture);
    nodeTrainer.start(BigInt(req.seed));
    for (let i = 0; i < req.iterations; i++) nodeTrainer.iterate();
    assert.ok(nodeTrainer.policyJson() === req.policyJson, 'Chromium and Node train the same checkpoint');
    nodeTrainer.free();

    // 5b. The informed preset: the Rust forecast-kelly baseline's size-vs-edge chart holds
    // the module's numbers, equal to the same evaluation in Node.
    await page.check('input[name=source][value=synthetic]');
    await page.selectOption('#dataPreset', 'informed');
    await page.fill('#dataSeed', '11');
    await page.fill('#dataMarkets', '8');
    await page.fill('#dataEvents', '600');
    await page.fill('#evalEpisodes', '4');
    await page.selectOption('#policy', 'forecast-kelly');
    await page.click('#loadData');
    await page.click('#evaluate');
    await page.waitForFunction(() => window.kalsimState.evaluation && window.kalsimState.evaluation.policy === 'forecast-kelly', null, { timeout: 60_000 });
    const fk = await page.evaluate(() => window.kalsimState.evaluation);
    assert.ok(fk.openingTrades.filled.length > 0, 'forecast-kelly opens trades on informed markets');
    assert.equal(fk.openingTrades.edge.length, fk.openingTrades.filled.length);
    assert.equal(typeof fk.sizeEdgeR, 'number');
    const nodeData = kalsim.Dataset.fromConfig(fk.config);
    const nodeFk = kalsim.evaluate(fk.config, nodeData, 'forecast-kelly', fk.episodes, BigInt(fk.seed));
    assert.equal(fk.sizeEdgeR, nodeFk.sizeEdgeR, 'size_edge_r: Chromium = Node');
    assert.deepEqual(fk.openingTrades.filled, Array.from(nodeFk.openingTrades.filled));
    assert.deepEqual(fk.openingTrades.edge, Array.from(nodeFk.openingTrades.edge));
    assert.deepEqual(fk.report.aggregate, nodeFk.report.aggregate);
    assert.match(await page.textContent('#sizeEdgeCorr'), /Pearson r = -?\d/);

    // 5c. A short training run on the informed preset: the worker evaluates the checkpoint
    // and the chart shows the module's numbers (equal to Node evaluating the same bytes).
    await page.fill('#trainIters', '2');
    await page.click('#trainStart');
    await page.waitForFunction(() => window.kalsimState.training === false && window.kalsimState.evaluation && window.kalsimState.evaluation.source === 'training', null, { timeout: 180_000 });
    const te = await page.evaluate(() => ({ ev: window.kalsimState.evaluation, policyJson: window.kalsimState.policyJson, req: window.kalsimState.trainRequest }));
    assert.equal(te.req.config.data.preset, 'informed');
    assert.equal(JSON.parse(te.policyJson).format, 'kalsim-policy');
    const nodeTe = kalsim.evaluate(te.ev.config, nodeData, te.policyJson, te.ev.episodes, BigInt(te.ev.seed));
    assert.deepEqual(te.ev.openingTrades.filled, Array.from(nodeTe.openingTrades.filled));
    assert.equal(te.ev.sizeEdgeR, nodeTe.sizeEdgeR, 'trained size_edge_r: Chromium = Node');
    assert.deepEqual(te.ev.report.aggregate, nodeTe.report.aggregate);
    nodeData.free();
    await page.screenshot({ path: path.join(outDir, 'sandbox-informed.png'), fullPage: true });

    // 6. The trained policy runs an episode.
    await page.selectOption('#policy', 'trained');
    await page.click('#run');
    await page.waitForFunction(() => window.kalsimState.done && window.kalsimState.policy === 'trained', null, { timeout: 60_000 });
    const href = await page.getAttribute('#exportPolicy', 'href');
    assert.match(href || '', /^blob:/);
    const exported = await page.evaluate(async () => {
      const policy = await (await fetch(document.getElementById('exportPolicy').href)).json();
      const report = await (await fetch(document.getElementById('exportReport').href)).json();
      return { format: policy.format, report: report.format, metrics: report.episode.metrics !== null, comparison: report.comparison !== null, training: report.training.iterations.length };
    });
    assert.deepEqual(exported, { format: 'kalsim-policy', report: 'kalsim-sandbox-report', metrics: true, comparison: true, training: 2 });

    await page.screenshot({ path: path.join(outDir, 'sandbox.png'), fullPage: true });
    assert.deepEqual(errors, [], `page errors: ${errors.join('; ')}`);
  } finally {
    await browser.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
