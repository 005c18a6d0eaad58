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
import {
  DEFAULT_OPERATOR_LIMITS,
  killSignal,
  setRiskLimitsUpdate,
  statusQuery,
  type SessionInput,
  type SessionResult,
} from '../../../contracts/session';
import type { SimulatorServer } from '../../../src/execution/simulator/server';
import { referenceBins } from '../../../src/learning/psi';
import { ModelRegistry } from '../../../src/models/registry/registry';
import { metricsRegistry } from '../../../src/monitoring/metrics';
import { checkPanels, formatPanelReport, readDashboards } from '../../../src/monitoring/panel-check';
import { savePredictions } from '../../../src/storage/prediction-repo';
import { packActions } from '../../../src/trading/packed-actions';
import type { Action } from '../../../src/trading/kernel';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { prometheusSkipReason, until } from '../../support/prometheus';
import { startAlertChain, SLACK_CHANNELS, type AlertChain } from '../../support/prometheus-alert-chain';
import { seedReplayDay, startReplaySimulator } from '../../support/session-harness';
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
/** The replayed session's symbols (apart from the backfill scenario's AAA) and its stored minutes. */
const SESSION_SYMBOLS = ['HLTA', 'HLTB', 'HLTC', 'HLTD'];
const SESSION_MINUTES = 150;

/**
 * Metrics a worker of another role emits, or that need a part this worker's scenarios do not run; the coverage
 * test fails on any other declared trader_* metric without a sample after the scenarios.
 */
export const METRICS_EMITTED_ELSEWHERE: Readonly<Record<string, string>> = {
  trader_data_bar_store_latency_seconds: 'the real-time market-data consumer (a paper/live day stream)',
  trader_model_prediction: 'a session trading a registered ONNX model (sessionModelPorts)',
  trader_model_confidence_ratio: 'a session trading a registered ONNX model (sessionModelPorts)',
  trader_model_feature_drift_max: "the drift monitor with the model's feature set known and a week of bars",
  trader_model_expected_hit_rate_ratio:
    'the drift monitor for a model with an out-of-sample performance record',
  trader_learning_champion_info: 'the learning cycle (learningCycleWorkflow) and models promote/rollback',
  trader_learning_shadows_quantity: 'the learning cycle',
  trader_learning_days_to_retrain_quantity: 'the learning cycle',
  trader_learning_decisions_total: 'the learning cycle',
  trader_market_regime_state: 'the drift monitor, for a model whose symbol has a year of daily bars',
  trader_gpu_utilization_ratio: 'a host where nvidia-smi answers',
  trader_gpu_memory_used_bytes: 'a host where nvidia-smi answers',
};

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
    const testsStartedMs = Date.now();

    before(async () => {
      db = await createTestDatabase('tt_alert_scenarios');
      t = await connectTemporal();
      // The execution queue's broker: the Alpaca-compatible simulator with $100,000 replaying the stored day of
      // the session scenario (larger orders are refused for buying power).
      await seedReplayDay(db, SESSION_SYMBOLS, SESSION_MINUTES, 5);
      sim = await startReplaySimulator(db, SESSION_SYMBOLS, { keyId: 'ALERTS', secretKey: 'ALERTS' });
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
      // Arrange: eight limit buys of $500,000 each against $100,000 of buying power.
      const actions: Action[] = Array.from({ length: 8 }, (_, i) => ({
        kind: 'submit',
        order: {
          clientOrderId: `${prefix}reject-${i}`,
          symbol: 'AAA',
          side: 'buy',
          qty: 5_000,
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
      // the workflow recorded its own failure too (recordWorkflowFailure), before failing
      await until(
        'trader_workflow_failures_total{workflow_type="backfillWorkflow"} in Prometheus',
        async () => {
          const recorded = await chain.prometheus.query(
            'sum(trader_workflow_failures_total{workflow_type="backfillWorkflow"})',
          );
          return recorded[0]?.value === 1 ? true : undefined;
        },
        30_000,
      );
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

    test('when a replayed session loses past a tiny daily loss limit, then the HALT reaches Slack as daily-loss breached, limit breach and approaching, and TraderRiskHalted once the limit is raised', async () => {
      // Arrange: a replayed day on the worker's queues with a $10 daily loss limit on $100,000.
      const input: SessionInput = {
        sessionId: `${prefix}halt`,
        account: 'paper',
        mode: 'replay',
        date: DAY,
        candidates: SESSION_SYMBOLS,
        maxSymbols: SESSION_SYMBOLS.length,
        taskQueues: { io: `${prefix}io`, execution: `${prefix}execution` },
        limits: { ...DEFAULT_OPERATOR_LIMITS, dailyLossLimit: 0.0001 },
        seed: 3,
        // paced, so the day is still running when the operator acts on the alert
        replayBarDelayMs: 400,
      };
      const handle = await t.client.workflow.start('tradingSessionWorkflow', {
        taskQueue: `${prefix}io`,
        workflowId: input.sessionId,
        args: [input],
      });
      // Act: the kernel's daily-loss breaker trips (HALTED, flatten).
      let riskState = 'ACTIVE';
      for (let i = 0; i < 600 && riskState !== 'HALTED'; i++) {
        const status = await handle.query(statusQuery);
        assert.equal(status.state.done, false, 'the day ended without a HALT');
        riskState = status.state.riskState;
        if (riskState !== 'HALTED') await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(riskState, 'HALTED');

      // Assert: the daily-loss alerts and the breach, from the session's own metrics.
      const breached = await chain.expectAlertInSlack('TraderDailyLossLimitBreached', { account: 'paper' });
      assert.equal(breached.message.channel, SLACK_CHANNELS.critical);
      assert.match(readableText(breached.message), /Daily loss limit breached on paper/);
      const breach = await chain.expectAlertInSlack('TraderRiskLimitBreach', {
        account: 'paper',
        limit: 'daily_loss',
      });
      assert.equal(breach.message.channel, SLACK_CHANNELS.critical);
      assert.match(readableText(breach.message), /Risk limit daily_loss breached on paper/);
      const approaching = await chain.expectAlertInSlack('TraderDailyLossApproaching', { account: 'paper' });
      assert.equal(approaching.message.channel, SLACK_CHANNELS.warning);
      // TraderRiskHalted is inhibited while the daily-loss alert fires for the account (one event, one page).

      // Act: the operator raises the limit; the day stays HALTED (a breaker's HALT lasts the day).
      await handle.executeUpdate(setRiskLimitsUpdate, {
        args: [{ dailyLossLimit: 0.5 }, { operator: 'alert-scenarios' }],
      });
      const halted = await chain.expectAlertInSlack('TraderRiskHalted', { account: 'paper' });
      assert.equal(halted.message.channel, SLACK_CHANNELS.critical);
      assert.match(readableText(halted.message), /Risk engine HALTED on paper/);

      await handle.signal(killSignal, { reason: 'scenario over', operator: 'alert-scenarios' });
      const result = (await handle.result()) as SessionResult;
      assert.ok(result.ordersPlaced > 0, 'the session traded');
      assert.deepEqual(result.finalPositions, [], 'the breaker flattened the account');

      // the session's other metrics: fills with slippage, realised P&L, what decided the trades
      const fills = await chain.prometheus.query('sum(trader_orders_filled_total)');
      assert.ok((fills[0]?.value ?? 0) > 0, 'fills counted');
      const slippage = await chain.prometheus.query('sum(trader_order_slippage_bps_count)');
      assert.ok((slippage[0]?.value ?? 0) > 0, 'slippage observed against the decision price');
      const model = await chain.prometheus.query(
        'trader_session_model_info{account="paper",model="indicator-fallback"}',
      );
      assert.equal(model[0]?.value, 1);
      // flat at the end: realised P&L of the day equals the account's daily P&L
      const realised = await chain.prometheus.query(
        `sum(trader_pnl_realized_dollars{ticker=~"${SESSION_SYMBOLS.join('|')}"})`,
      );
      const unrealised = await chain.prometheus.query(
        `sum(trader_pnl_unrealized_dollars{ticker=~"${SESSION_SYMBOLS.join('|')}"})`,
      );
      const daily = await chain.prometheus.query('trader_daily_pnl_dollars{account="paper"}');
      assert.ok(Math.abs(daily[0]!.value) > 0, 'the day lost money');
      assert.equal(unrealised[0]?.value, 0);
      assert.ok(
        Math.abs(realised[0]!.value - daily[0]!.value) < 0.05,
        `realised ${realised[0]!.value} + unrealised 0 = daily P&L ${daily[0]!.value}`,
      );
    });

    test('when the drift monitor finds a day of scores far from the out-of-sample ones, then TraderModelDrift reaches #trading-warnings', async () => {
      // Arrange: a registered model whose out-of-sample scores spread over [-0.5, 0.5], and a day of scores near 0.9.
      const registry = new ModelRegistry(db.pool, join(dir, 'models'));
      const oos = Array.from({ length: 500 }, (_, i) => -0.5 + i / 500);
      await registry.register(
        {
          id: `${prefix}drift-1`,
          name: `${prefix}drift`,
          kind: 'xgboost',
          spec: { kind: 'xgboost' } as never,
          featureSet: 'not-a-feature-set',
          featureSetVersion: '1',
          symbol: 'HLTA',
          trainFrom: 0,
          trainTo: 1,
          dataHash: 'x',
          metrics: { drift: { scores: referenceBins(oos) } },
          workflowId: null,
        },
        { modelCard: '' },
      );
      const open = Date.parse(`${DAY}T13:30:00Z`);
      await savePredictions(
        db.pool,
        Array.from({ length: 100 }, (_, i) => ({
          source: `${prefix}drift-day`,
          modelId: `${prefix}drift-1`,
          role: 'traded' as const,
          symbol: 'HLTA',
          ts: open + (i + 1) * minute,
          timeframe: '1m',
          score: 0.85 + (i % 10) / 100,
          expectedReturn: 0.001,
          confidence: 0.9,
          horizonBars: 5,
          inputsHash: 'x',
        })),
      );
      // Act: the drift monitor workflow on the worker's io queue.
      const report = await run<{ predictionPsi: number | null; breach: boolean }>(
        'driftMonitorWorkflow',
        `${prefix}io`,
        [
          {
            modelId: `${prefix}drift-1`,
            name: `${prefix}drift`,
            day: DAY,
            taskQueues: { io: `${prefix}io` },
          },
        ],
      );
      assert.ok((report.predictionPsi ?? 0) > 0.25, `PSI ${report.predictionPsi}`);
      // Assert: PSI above 0.25 for the rule's 30 minutes (seconds here) reaches the warning channel.
      const { message } = await chain.expectAlertInSlack('TraderModelDrift', { model: `${prefix}drift-1` });
      assert.equal(message.channel, SLACK_CHANNELS.warning);
      assert.match(readableText(message), new RegExp(`Prediction drift on model ${prefix}drift-1`));
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
          'Turnover (dollars per minute)',
          'Slippage vs decision price (bps, + = worse)',
          'Slippage distribution',
        ],
        'Trader / Risk': [
          'Risk state',
          'Daily P&L vs loss limit',
          'Open risk (fraction of equity)',
          'Drawdown from peak',
          'Limit breaches (range)',
        ],
        'Trader / P&L': ['Realized P&L by ticker', 'Unrealized P&L by ticker'],
        'Trader / Models': [
          'What decides the trades (per account)',
          'Drift (PSI, > 0.25 significant)',
          'Training runs by outcome (range)',
          'Training duration (mean per run)',
        ],
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

    test('when the scenarios have run, then every declared trader_* metric was scraped from the worker but those emitted elsewhere', async () => {
      // Every metric name Prometheus scraped from the worker's /metrics during the scenarios (a gauge of positions
      // is gone once the day is flat, so the whole window counts, not only the last scrape).
      const params = new URLSearchParams({
        'match[]': `{__name__=~"trader_.+",instance="${worker.target}"}`,
        start: String(Math.floor(testsStartedMs / 1000) - 60),
        end: String(Math.ceil(Date.now() / 1000) + 1),
      });
      const r = await fetch(`${chain.prometheus.url}/api/v1/label/__name__/values?${params}`);
      const body = (await r.json()) as { status: string; data: string[] };
      assert.equal(body.status, 'success');
      const sampled = new Set(body.data);
      const declared = (await metricsRegistry.getMetricsAsJSON()).map((m) => m.name);
      assert.ok(declared.length > 40, `declared: ${declared.length}`);
      const missing = declared.filter(
        (name) =>
          !(name in METRICS_EMITTED_ELSEWHERE) &&
          ![name, `${name}_count`, `${name}_total`].some((n) => sampled.has(n)),
      );
      assert.deepEqual(missing, [], `declared metrics never scraped: ${missing.join(', ')}`);
      // an exception that this worker does emit after all is no exception: drop it from the list
      const emitted = Object.keys(METRICS_EMITTED_ELSEWHERE).filter((n) =>
        [n, `${n}_count`].some((x) => sampled.has(x)),
      );
      assert.deepEqual(emitted, [], `listed as emitted elsewhere but scraped here: ${emitted.join(', ')}`);
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
