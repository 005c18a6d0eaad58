import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { killSignal, type SessionResult } from '../../contracts/session';
import { trainAndServe, windowDataset } from '../../src/backtest/model-backtest';
import { sessionBounds } from '../../src/execution/simulator/calendar';
import type { SimBroker } from '../../src/execution/sim-broker';
import type { SimulatorServer } from '../../src/execution/simulator/server';
import { COMPACT_FEATURE_SET } from '../../src/features/sets';
import { NYSE, addDays } from '../../src/market/calendar';
import { barsToColumns, type Bar } from '../../src/model/bar';
import { startDashboardServer, type DashboardServer } from '../../src/monitoring/dashboard/server';
import type { SessionView } from '../../src/monitoring/dashboard/sessions';
import type { DashboardSnapshot } from '../../src/monitoring/dashboard/snapshot';
import { ModelRegistry } from '../../src/models/registry/registry';
import { featureMatrices } from '../../src/models/serving/model-port';
import { sessionModelPorts } from '../../src/models/serving/session-models';
import { DEFAULT_XGBOOST_SPEC } from '../../src/models/spec';
import { upsertBars } from '../../src/storage/bar-store';
import { createAuditedWorkers, type AuditedWorkers } from '../support/audited-workers';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { SESSION_DATE, sessionInput, startReplaySimulator } from '../support/session-harness';
import { syntheticDayBars } from '../support/sim-bars';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM)
  ? false
  : `headless Chromium not found at ${CHROMIUM}: install Debian package chromium or set CHROMIUM_PATH`;
/** Where the screenshots go; CI can keep them as artifacts. */
const SHOT_DIR = process.env.TEST_ARTIFACTS_DIR ?? join(tmpdir(), 'trader-test-artifacts');
const SYMBOLS = ['DSH1', 'DSH2', 'DSH3', 'DSH4', 'DSH5'];
const creds = { keyId: 'PKDASHBOARD', secret: 'dashboard-secret' };

/** "$1,234.56" / "-$0.50" → number */
function money(text: string | null): number {
  const m = /^(-?)\$([\d,]+\.\d\d)\*?$/.exec((text ?? '').trim());
  assert.ok(m, `a dollar amount: "${text}"`);
  return (m[1] ? -1 : 1) * Number(m[2]!.replace(/,/g, ''));
}

/**
 * Issue 16, the live dashboard: real replayed sessions through Temporal (audited execution, so fills reach the
 * audit log; a registered XGBoost champion serving one of them), the dashboard reading them from Temporal and
 * PostgreSQL, rendered in headless Chromium: a running and a finished session, their realised and unrealised
 * P&L adding up to equity − start equity, fills, risk, and the model panel.
 */
describe('live dashboard: running and finished sessions in headless Chromium', { skip }, () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let dir: string;
  let modelId: string;
  let dashboard: DashboardServer;
  let browser: Browser;
  const sims: SimulatorServer[] = [];
  const workers: AuditedWorkers[] = [];

  /** A simulator replaying the stored day and audited workers trading at it. */
  async function venue(): Promise<AuditedWorkers & { sim: SimulatorServer }> {
    const sim = await startReplaySimulator(db, SYMBOLS, { keyId: creds.keyId, secretKey: creds.secret });
    sims.push(sim);
    const w = await createAuditedWorkers(t, db, {
      brokerUrl: sim.url,
      replayUrl: sim.url,
      keyId: creds.keyId,
      secret: creds.secret,
      predictions: sessionModelPorts({ pool: db.pool, artifactDir: dir }),
    });
    workers.push(w);
    return { ...w, sim };
  }

  /** The simulator's own books (its SimBroker account): realised, unrealised and costs, the oracle. */
  function books(sim: SimulatorServer) {
    const a = (sim.exchange as unknown as { broker: SimBroker }).broker.account();
    return {
      realized: a.realizedPnl,
      unrealized: a.unrealizedPnl,
      costs: a.commissions + a.regulatoryFees + a.borrowFees,
    };
  }

  async function snapshot(): Promise<DashboardSnapshot> {
    const r = await fetch(`${dashboard.url}/api/dashboard`);
    assert.equal(r.status, 200);
    return (await r.json()) as DashboardSnapshot;
  }

  /** Polls the dashboard's own API (not a clock) until `pick` finds what the test waits for. */
  async function waitFor<T>(what: string, pick: (s: DashboardSnapshot) => T | undefined): Promise<T> {
    let last: DashboardSnapshot | undefined;
    for (let i = 0; i < 600; i++) {
      last = await snapshot();
      const hit = pick(last);
      if (hit !== undefined) return hit;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`dashboard never showed ${what}: ${JSON.stringify(last?.sessions)}`);
  }

  /** The cells of a session's row as the page shows them, read at once (the page re-renders every 2 s). */
  async function row(page: Page, sessionId: string) {
    // a string: the test is type-checked without the DOM library
    const cells = (await page.evaluate(`(() => {
      const tr = document.querySelector('#sessions tr.session[data-session="${sessionId}"]');
      const cell = {};
      for (const td of tr.querySelectorAll('td')) cell[td.className.split(' ')[0]] = td.textContent;
      return { status: tr.dataset.status, text: tr.textContent, cell };
    })()`)) as { status: string; text: string; cell: Record<string, string> };
    const c = cells.cell;
    return {
      status: cells.status,
      text: cells.text,
      start: money(c.start!),
      equity: money(c.equity!),
      realized: money(c.realized!),
      unrealized: money(c.unrealized!),
      costs: money(c.costs!),
      sum: money(c.sum!),
      pnl: money(c.pnl!),
      check: c.check!,
      fills: parseInt(c.fills!, 10),
      orders: Number(c.orders),
    };
  }

  function assertAddsUp(r: Awaited<ReturnType<typeof row>>, what: string) {
    assert.ok(
      Math.abs(r.realized + r.unrealized - r.costs - r.sum) < 0.011,
      `${what}: the sum column is the sum`,
    );
    assert.ok(r.costs >= 0, `${what}: costs are a cost (${r.costs})`);
    assert.ok(
      Math.abs(r.sum - r.pnl) < 0.011,
      `${what}: realised + unrealised = equity − start (${JSON.stringify(r)})`,
    );
    assert.ok(Math.abs(r.equity - r.start - r.pnl) < 0.011, `${what}: equity − start`);
    assert.match(r.check, /adds up/, `${what}: check`);
  }

  async function shot(page: Page, name: string): Promise<string> {
    mkdirSync(SHOT_DIR, { recursive: true });
    const file = join(SHOT_DIR, name);
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(statSync(file).size > 30_000, 'screenshot has content');
    console.log(`dashboard screenshot: ${file}`);
    return file;
  }

  before(async () => {
    db = await createTestDatabase('tt_dash_sessions');
    dir = mkdtempSync(join(tmpdir(), 'dash-sessions-'));
    // eight sessions of history (the model's training window and warm-up), then the replayed day
    const days: string[] = [];
    for (let d = addDays(SESSION_DATE, -1); days.length < 8; d = addDays(d, -1))
      if (NYSE.sessionFor(d)) days.unshift(d);
    const history: Bar[] = days.flatMap((date, k) =>
      syntheticDayBars({ date, symbols: SYMBOLS, minutes: 390, seed: 100 + k }),
    );
    const day = syntheticDayBars({ date: SESSION_DATE, symbols: SYMBOLS, minutes: 390, seed: 23 });
    await upsertBars(db.pool, [...history, ...day], 'test-synthetic', true);
    const registry = new ModelRegistry(db.pool, dir);
    const cols = SYMBOLS.map((s) =>
      barsToColumns(
        s,
        '1m',
        history.filter((b) => b.symbol === s),
      ),
    );
    const from = history[0]!.ts;
    const to = sessionBounds(SESSION_DATE).open;
    const served = await trainAndServe(registry, {
      id: 'dash-xgb-1',
      name: 'dash',
      spec: DEFAULT_XGBOOST_SPEC,
      dataset: windowDataset(featureMatrices(COMPACT_FEATURE_SET, cols), COMPACT_FEATURE_SET, 6, from, to),
      trainFrom: from,
      trainTo: to,
    });
    modelId = served.id;
    await served.close();
    await registry.promote(modelId);
    t = await connectTemporal();
    dashboard = await startDashboardServer({
      port: 0,
      source: { kind: 'urls', urls: [] },
      sampleIntervalMs: 500,
      sessions: () => ({ pool: db.pool, client: t.client }),
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  after(async () => {
    await browser?.close();
    await dashboard?.close();
    for (const w of workers) await w.shutdown().catch(() => undefined);
    for (const s of sims) await s.close().catch(() => undefined);
    await t?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when one session has finished and another is running, then the page shows both with P&L that adds up, fills, risk and the model', async () => {
    // the finished one: the default indicator strategy (no model), 40 bars, flat at its shortened close
    const wf = await venue();
    const finished = sessionInput(wf, SYMBOLS, { maxBars: 40 });
    const doneResult = (await t.client.workflow.execute('tradingSessionWorkflow', {
      taskQueue: wf.ioQueue,
      workflowId: `test-dash-${finished.sessionId}`,
      args: [finished],
    })) as SessionResult;
    assert.ok(doneResult.ordersPlaced > 0, 'the finished session traded');

    // the running one: the champion through the model-signal strategy, one bar every 400 ms
    const wr = await venue();
    const running = sessionInput(wr, SYMBOLS, {
      modelId,
      strategy: { name: 'model-signal', weight: 0.04, timeframe: '5m' },
      seed: 7,
      maxBars: 390,
      replayBarDelayMs: 400,
    });
    const handle = await t.client.workflow.start('tradingSessionWorkflow', {
      taskQueue: wr.ioQueue,
      workflowId: `test-dash-${running.sessionId}`,
      args: [running],
    });
    try {
      // wait until it has closed a trade and holds a position (neither realised nor unrealised P&L is trivially
      // zero) and the model's predictions are journaled
      await waitFor('the running session with an open position and predictions', (s) => {
        const r = s.sessions.running.find((x) => x.sessionId === running.sessionId);
        return r &&
          r.realized !== 0 &&
          r.positions.some((p) => p.qty !== 0 && p.unrealized !== 0) &&
          r.model.latest.length
          ? r
          : undefined;
      });

      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const foreign: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(dashboard.url)) foreign.push(r.url());
      });
      await page.goto(`${dashboard.url}/`);
      await page.waitForSelector(
        `#sessions tr.session[data-session="${running.sessionId}"][data-status="running"]`,
      );
      await page.waitForSelector(
        `#sessions tr.session[data-session="${finished.sessionId}"][data-status="finished"]`,
      );
      assert.equal(
        await page.evaluate('typeof window.echarts'),
        'object',
        'ECharts loaded from the dashboard',
      );

      // the finished session: equity is the broker's, and realised + unrealised equals its change
      const f = await row(page, finished.sessionId);
      assertAddsUp(f, 'finished');
      assert.equal(f.pnl, doneResult.dailyPnl, "the session's own daily P&L (broker equity − start)");
      assert.equal(f.start, 100_000);
      assert.equal(f.unrealized, 0, 'flat at its close');
      // against the simulator's own books: realised from its fills, costs from its fee and commission models
      const fb = books(wf.sim);
      assert.ok(Math.abs(f.realized - fb.realized) < 0.011, `realised ${f.realized} vs books ${fb.realized}`);
      assert.ok(Math.abs(f.costs - fb.costs) < 0.011, `costs ${f.costs} vs books ${fb.costs}`);
      assert.ok(f.costs > 0, 'the simulator charges commissions');
      assert.equal(f.orders, doneResult.ordersPlaced);
      assert.ok(f.fills >= doneResult.ordersPlaced, 'a fill (or more) per placed order');
      assert.match(f.text, /indicators/);

      // the running one: marked at the last close, with open positions
      await page.click(`#sessions tr.session[data-session="${running.sessionId}"]`);
      const r = await row(page, running.sessionId);
      assert.equal(r.status, 'running');
      assertAddsUp(r, 'running');
      assert.ok(r.fills > 0 && r.orders > 0);
      assert.notEqual(r.realized, 0, 'a closed trade: realised P&L while running');
      assert.notEqual(r.unrealized, 0, 'an open position: unrealised P&L while running');
      assert.match(r.text, new RegExp(`${modelId}[\\s\\S]*ACTIVE`));
      assert.equal(await page.locator('#session-risk-title').textContent(), running.sessionId);
      assert.equal(await page.locator('#session-risk-badge').textContent(), 'ACTIVE');
      assert.ok(
        Number(await page.getAttribute('#gauge-session-exposure', 'data-value')) > 0,
        'gross exposure',
      );
      assert.ok((await page.locator('#gauge-session-exposure svg').count()) > 0, 'ECharts drew the gauge');
      assert.ok((await page.locator('#session-positions tr.session-position').count()) > 0);
      assert.ok((await page.locator('#session-fills tr.fill').count()) > 0);
      // the model panel: the champion decides; its latest predictions with confidence
      assert.equal(await page.locator('#model-deciding').textContent(), `model ${modelId}`);
      assert.ok((await page.locator('#model-latest tr.prediction').count()) >= 1);
      assert.match((await page.locator('#model-latest').textContent()) ?? '', new RegExp(`${modelId}traded`));
      const conf = Number(await page.getAttribute('#gauge-model-confidence', 'data-value'));
      assert.ok(conf > 0 && conf <= 1, `mean confidence ${conf}`);
      // the summary's realised / unrealised are the running sessions'
      const s = await snapshot();
      const mine = s.sessions.running.find((x) => x.sessionId === running.sessionId)!;
      assert.ok(mine.positions.some((p) => p.qty !== 0));
      const file = await shot(page, 'dashboard-sessions-running.png');
      assert.ok(file);

      // selecting the finished session: indicators decide, no prediction
      await page.click(`#sessions tr.session[data-session="${finished.sessionId}"]`);
      assert.equal(await page.locator('#model-deciding').textContent(), 'indicators (no model)');
      assert.equal(await page.locator('#model-latest tr.prediction').count(), 0);
      assert.deepEqual(errors, []);
      assert.deepEqual(foreign, [], 'nothing fetched from outside the dashboard (no CDN)');
      await page.close();

      // stopped while holding positions: finished now, and its open positions are marked at the broker's
      // final prices — realised + unrealised still equals the broker's equity − start
      await handle.signal(killSignal, { reason: 'dashboard test: stop the running session' });
      const killed = (await handle.result()) as SessionResult;
      const after = await waitFor('the stopped session as finished', (x) =>
        x.sessions.finished.find((v: SessionView) => v.sessionId === running.sessionId),
      );
      assert.equal(after.pnl, killed.dailyPnl);
      assert.ok(after.addsUp);
      assert.equal(after.fillsAfterAccount, 0);
      if (killed.finalPositions.length) assert.notEqual(after.unrealized, 0, 'open at the kill: unrealised');
      const rb = books(wr.sim);
      assert.ok(
        Math.abs(after.realized - rb.realized) < 0.011,
        `realised ${after.realized} vs ${rb.realized}`,
      );
      assert.ok(
        Math.abs(after.unrealized - rb.unrealized) < 0.011,
        `unrealised ${after.unrealized} vs ${rb.unrealized}`,
      );
      assert.ok(Math.abs((after.costs ?? NaN) - rb.costs) < 0.011, `costs ${after.costs} vs ${rb.costs}`);
      const page2 = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page2.goto(`${dashboard.url}/`);
      await page2.waitForSelector(
        `#sessions tr.session[data-session="${running.sessionId}"][data-status="finished"]`,
      );
      const k = await row(page2, running.sessionId);
      assertAddsUp(k, 'stopped');
      assert.equal(k.pnl, killed.dailyPnl);
      await shot(page2, 'dashboard-sessions-finished.png');
      await page2.close();
    } finally {
      await handle.terminate().catch(() => undefined);
    }
  });
});
