import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import type { BackfillInput } from '../../../contracts/backfill';
import type { DatasetRef, RetrainModelSpec } from '../../../contracts/retrain';
import { startSimulatorServer, type SimulatorServer } from '../../../src/execution/simulator/server';
import { checkPanels, formatPanelReport, readDashboards } from '../../../src/monitoring/panel-check';
import { packActions } from '../../../src/trading/packed-actions';
import type { Action } from '../../../src/trading/kernel';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { prometheusSkipReason } from '../../support/prometheus';
import { startAlertChain, SLACK_CHANNELS, type AlertChain } from '../../support/prometheus-alert-chain';
import { startWorkerProcess, type WorkerProcess } from '../../support/prometheus-worker';
import { readableText } from '../../support/slack-stub';
import { connectTemporal, type TemporalTestContext } from '../../support/temporal';

/**
 * Issue 16: every alert rule shown firing through the real chain. A real worker process (workers/dev.ts, wired
 * as in production) emits the metrics from the real code paths; a real Prometheus scrapes it every second and
 * evaluates deploy/prometheus/rules/trader-alerts.yml (`for:` minutes as seconds); a real Alertmanager running
 * deploy/prometheus/alertmanager.yml posts to the Slack stub's chat.postMessage, one channel per severity.
 * Rules whose metrics the trading session and the model loop will emit are listed, with why they are pending,
 * in ./alert-scenarios.ts (checked by alert-coverage.test.ts).
 *
 * The worker's metrics clock runs from 2024-03-12 15:00 New York (a regular session), so market-open and
 * staleness read a known trading day whatever time CI runs.
 */
const CLOCK_START = Date.parse('2024-03-12T19:00:00Z'); // 15:00 EDT
const DAY = '2024-03-12';
const minute = 60_000;

/** A day of 1m bars 09:30–14:50 New York (newest ends 14:51: 9 minutes old at 15:00), `bad` of them with high < low. */
function oneMinuteCsv(bad: number): string {
  const lines = ['ts,open,high,low,close,volume'];
  const open = Date.parse(`${DAY}T13:30:00Z`);
  for (let i = 0; open + i * minute <= Date.parse(`${DAY}T18:50:00Z`); i++) {
    const ts = new Date(open + i * minute).toISOString().replace('.000Z', 'Z');
    const p = 100 + Math.sin(i / 15);
    // ohlc_inconsistent: the high is below the low (rejected, not stored)
    const [hi, lo] = i < bad ? [p - 0.5, p + 0.5] : [p + 0.2, p - 0.2];
    lines.push(`${ts},${p.toFixed(2)},${hi.toFixed(2)},${lo.toFixed(2)},${p.toFixed(2)},${1000 + i}`);
  }
  return `${lines.join('\n')}\n`;
}

/** 5m bars 09:30–14:15 New York: the newest ends 14:20, 40 minutes old at 15:00. */
function fiveMinuteCsv(): string {
  const lines = ['ts,open,high,low,close,volume'];
  const open = Date.parse(`${DAY}T13:30:00Z`);
  for (let i = 0; open + i * 5 * minute <= Date.parse(`${DAY}T18:15:00Z`); i++) {
    const ts = new Date(open + i * 5 * minute).toISOString().replace('.000Z', 'Z');
    const p = 100 + Math.sin(i / 5);
    lines.push(
      `${ts},${p.toFixed(2)},${(p + 0.3).toFixed(2)},${(p - 0.3).toFixed(2)},${p.toFixed(2)},${5000 + i}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

describe(
  'alert rules firing through Prometheus, Alertmanager and Slack',
  { skip: prometheusSkipReason },
  () => {
    let db: TestDatabase;
    let t: TemporalTestContext;
    let sim: SimulatorServer;
    let worker: WorkerProcess;
    let chain: AlertChain;
    let driver: Worker;
    let driverRun: Promise<void>;
    const dir = mkdtempSync(join(tmpdir(), 'alert-scenarios-'));
    const prefix = `alerts-${randomUUID().slice(0, 8)}-`;
    const driverQueue = `${prefix}scenario-driver`;

    before(async () => {
      db = await createTestDatabase('tt_alert_scenarios');
      t = await connectTemporal();
      // The execution queue's broker: the Alpaca-compatible simulator with $1,000, so larger orders are refused.
      sim = await startSimulatorServer({ keyId: 'ALERTS', secretKey: 'ALERTS', startingCash: 1_000 });
      const data = join(dir, 'data');
      mkdirSync(join(data, 'alerts', '1min'), { recursive: true });
      mkdirSync(join(data, 'alerts', '5min'), { recursive: true });
      writeFileSync(join(data, 'alerts', '1min', 'AAA.csv.gz'), gzipSync(oneMinuteCsv(25)));
      writeFileSync(join(data, 'alerts', '5min', 'AAA.csv.gz'), gzipSync(fiveMinuteCsv()));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DATABASE_URL: db.url,
        TRADER_DATA_DIR: join(dir, 'trader'),
        SHARED_DATA_DIR: data,
        APCA_API_BASE_URL: sim.url,
        APCA_API_KEY_ID: 'ALERTS',
        APCA_API_SECRET_KEY: 'ALERTS',
        TRADING_MODE: 'paper',
      };
      // Slack is reached only through Alertmanager here; the worker's own alerter writes to its log.
      delete env.SLACK_BOT_TOKEN;
      delete env.SLACK_API_URL;
      const [w] = await Promise.all([
        startWorkerProcess({ queuePrefix: prefix, env, metricsClockStartMs: CLOCK_START }),
        (async () => {
          driver = await Worker.create({
            connection: t.nativeConnection,
            taskQueue: driverQueue,
            workflowsPath: require.resolve('../../support/workflows/monitoring-scenarios.workflow'),
          });
          driverRun = driver.run();
        })(),
      ]);
      worker = w;
      chain = await startAlertChain({ jobs: { 'trader-workers': [worker.target] } });
      await chain.prometheus.waitForTargets('trader-workers', 1);
    });

    after(async () => {
      driver?.shutdown();
      await driverRun?.catch(() => undefined);
      await worker?.stop();
      await chain?.stop();
      await sim?.close();
      await t?.close();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    const run = async <T>(workflow: string, queue: string, args: unknown[]): Promise<T> =>
      t.client.workflow.execute(workflow, { taskQueue: queue, workflowId: `${queue}-${randomUUID()}`, args });

    test('when the worker runs during a regular session by the calendar, then trader_market_open reads 1 in Prometheus', async () => {
      const open = await chain.prometheus.query(`max(trader_market_open{instance="${worker.target}"})`);
      assert.equal(open[0]?.value, 1);
    });

    test('when more than 5 orders in 10 minutes are refused by the broker, then TraderOrderRejectsSpike reaches #trading-warnings', async () => {
      // Arrange: eight limit buys of $10,000 each against $1,000 of buying power.
      const actions: Action[] = Array.from({ length: 8 }, (_, i) => ({
        kind: 'submit',
        order: {
          clientOrderId: `${prefix}reject-${i}`,
          symbol: 'AAA',
          side: 'buy',
          qty: 100,
          type: 'limit',
          limitPrice: 100,
          timeInForce: 'day',
        },
        refPrice: 100,
        entry: true,
      }));
      // Act: the execution worker's `execute` activity submits them to the simulator.
      const rejected = await run<Array<string | null>>('executeOrdersScenario', driverQueue, [
        {
          executionQueue: `${prefix}execution`,
          sessionId: `${prefix}session`,
          actions: packActions(actions),
        },
      ]);
      assert.equal(rejected.filter(Boolean).length, 8, `every order refused: ${JSON.stringify(rejected)}`);

      // Assert: the real chain delivers the rule's alert to the warning channel.
      const { message } = await chain.expectAlertInSlack('TraderOrderRejectsSpike');
      assert.equal(message.channel, SLACK_CHANNELS.warning);
      assert.match(readableText(message), /100% of orders rejected in 10 minutes/);
    });

    test('when two training runs fail, then TraderTrainingFailures reaches #trading-warnings for the model family', async () => {
      const dataset: DatasetRef = {
        path: join(dir, 'no-such-dataset.bin'),
        dataHash: 'none',
        symbol: 'AAA',
        featureSet: 'models.minute-basic',
        featureSetVersion: '1',
        featureNames: [],
        rows: 0,
        fromMs: 0,
        toMs: 0,
        horizonMinutes: 5,
      };
      const spec = {
        kind: 'xgboost',
        objective: 'squared_error',
        rounds: 5,
        params: {},
        costRate: 0,
        positionPenalty: 0,
      } as RetrainModelSpec;
      for (const n of [1, 2]) {
        const outcome = await run<string>('trainOnceScenario', driverQueue, [
          { trainingQueue: `${prefix}training`, runKey: `${prefix}train-${n}`, dataset, spec },
        ]);
        assert.equal(outcome, 'failed');
      }
      const { message } = await chain.expectAlertInSlack('TraderTrainingFailures', { model: 'xgboost' });
      assert.equal(message.channel, SLACK_CHANNELS.warning);
      assert.match(readableText(message), /2 failed training runs in 6 hours/);
    });

    test('when a workflow fails on the worker, then TraderWorkflowFailures (Temporal SDK metric) reaches #trading-warnings', async () => {
      const bad = {
        symbols: ['not a symbol'],
        timeframes: ['1m'],
        fromMs: 0,
        toMs: 1,
        source: { kind: 'synthetic', seed: 1 },
      };
      await assert.rejects(run('backfillWorkflow', `${prefix}io`, [bad]), /workflow execution failed/i);
      const { message } = await chain.expectAlertInSlack('TraderWorkflowFailures', {
        workflow_type: 'backfillWorkflow',
      });
      assert.equal(message.channel, SLACK_CHANNELS.warning);
      assert.match(readableText(message), /Workflow backfillWorkflow failing/);
    });

    test('when a backfill stores bars that stop minutes before now, with 25 bad rows, then stale-data (1m and 5m) and data-quality alerts reach Slack and ingestion is counted', async () => {
      // Act: the real backfill workflow on the worker's io queue reads the CSV set from SHARED_DATA_DIR.
      const input: BackfillInput = {
        symbols: ['AAA'],
        timeframes: ['1m', '5m'],
        fromMs: Date.parse(`${DAY}T00:00:00Z`),
        toMs: Date.parse(`${DAY}T23:59:00Z`),
        source: { kind: 'csv', dataset: 'alerts' },
      };
      const summary = await run<{ rowsStored: number; rejected: number }>('backfillWorkflow', `${prefix}io`, [
        input,
      ]);
      assert.equal(summary.rejected, 25);

      // Assert: each rule's message in its channel.
      const rejects = await chain.expectAlertInSlack('TraderDataQualityRejectsHigh', {
        symbol: 'AAA',
        reason: 'ohlc_inconsistent',
      });
      assert.equal(rejects.message.channel, SLACK_CHANNELS.info);
      assert.match(readableText(rejects.message), /25 bars rejected in 15 minutes/);
      const stale = await chain.expectAlertInSlack('TraderStaleData', { symbol: 'AAA', timeframe: '1m' });
      assert.equal(stale.message.channel, SLACK_CHANNELS.warning);
      assert.match(readableText(stale.message), /Stale 1m data for AAA/);
      const slow = await chain.expectAlertInSlack('TraderStaleDataSlowTimeframes', {
        symbol: 'AAA',
        timeframe: '5m',
      });
      assert.equal(slow.message.channel, SLACK_CHANNELS.warning);

      const ingested = await chain.prometheus.query(
        `sum by (timeframe) (trader_data_bars_ingested_total{symbol="AAA"})`,
      );
      const byTf = Object.fromEntries(ingested.map((s) => [s.metric.timeframe, s.value]));
      assert.equal(byTf['1m']! + byTf['5m']!, summary.rowsStored, JSON.stringify(byTf));
      assert.equal(byTf['5m'], 58);
    });

    test('when the scenarios have run, then the Grafana panels fed by these code paths have data in Prometheus', async (t) => {
      const report = await checkPanels({
        prometheusUrl: chain.prometheus.url,
        dashboards: readDashboards(join(__dirname, '../../../deploy/grafana/dashboards')),
        rangeMs: 10 * minute,
        scrapeIntervalS: 1,
      });
      t.diagnostic(formatPanelReport(report));
      const fed = {
        'Trader / Data health': [
          'Market open',
          'Stalest 1m symbol',
          'Newest bar per symbol',
          'Staleness by symbol',
          'Bars stored (since worker start)',
          'Validation rejects by reason (since worker start)',
        ],
        'Trader / Execution quality': [
          'Orders per minute',
          'Order rejects by reason (since worker start)',
          'Reject share (10m)',
        ],
        'Trader / Models': ['Training runs by outcome (range)', 'Training duration (mean per run)'],
        'Trader / Temporal and system': [
          'Workers polling',
          'Worker versions',
          'Task slots used',
          'Pollers and sticky cache',
          'Workflows completed / failed per minute',
          'Workflow task execution latency p95',
          'Schedule-to-start latency p95 (backlog)',
          'Activity execution latency p95 and failures',
          'Worker process CPU (cores)',
          'Memory: workers and GPUs',
          'Event loop lag p99',
        ],
      };
      const missing = Object.entries(fed).flatMap(([dashboard, panels]) =>
        panels
          .filter(
            (panel) =>
              !report.panels.some((p) => p.dashboard === dashboard && p.panel === panel && p.hasData),
          )
          .map((panel) => `${dashboard} / ${panel}`),
      );
      assert.deepEqual(missing, []);
      assert.ok(
        report.panels.every((p) => p.queries.every((q) => !q.error)),
        'Prometheus accepts every panel query',
      );
    });

    test('when the worker process is killed, then TraderWorkerDown reaches #trading-critical', async () => {
      worker.kill();
      const { alert, message } = await chain.expectAlertInSlack('TraderWorkerDown', {
        instance: worker.target,
      });
      assert.equal(alert.labels.severity, 'critical');
      assert.equal(message.channel, SLACK_CHANNELS.critical);
      assert.match(
        readableText(message),
        new RegExp(`Prometheus cannot scrape ${worker.target.replace(/\./g, '\\.')}`),
      );
    });
  },
);
