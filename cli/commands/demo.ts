import { Client, Connection } from '@temporalio/client';
import { DefaultLogger } from '@temporalio/worker';
import { temporalDataConverter } from '../../src/stack/data-converter';
import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { TASK_QUEUES } from '../../contracts/task-queues';
import { loadConfig, type AppConfig } from '../../src/config/config';
import { stackUp, type StackState } from '../../src/stack/stack';
import { RETRAIN_WORKFLOW, type RetrainInput, type RetrainResult } from '../../contracts/retrain';
import { DEFAULT_XGBOOST_SPEC } from '../../src/models/spec';
import { backtestDemoStep } from './backtest';
import { demoBackfillInput, runBackfill } from './data';
import { loadVenueDay, sessionDemoStep } from '../session-demo';
import type { BackfillInput } from '../../contracts/backfill';
import { ensureVenueDatabase } from '../../src/stack/venue';
import { runLearningDemo } from '../learning-demo';
import { computeAndStoreFeatures } from '../../src/features/store-service';
import { featureSetByName } from '../../src/features/sets';
import { createCache } from '../../src/storage/cache';
import { createPool } from '../../src/storage/pool';
import { executeWorkflow } from '../workflow-result';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runBacktestPipeline } from '../../src/backtest/pipeline';
import { ModelRegistry } from '../../src/models/registry/registry';
import { LEARNING_DEMO_NAME } from '../learning-demo';
import { installRuntime } from '../../workers/run-worker';
import { demoMonitoringUnavailable, startDemoMonitoring, type DemoMonitoring } from '../demo-monitoring';

/**
 * The demo's days: the history (backfilled into the store: features, training and the session's warm-up use
 * it) and, after it, the paper venue's day, which only the venue's own database holds — the paper session gets
 * its bars through the simulator's market-data stream.
 */
export function demoDays(sharedDataDir: string | undefined): { history: BackfillInput; venueDay: string } {
  const input = demoBackfillInput(sharedDataDir);
  // the last day of the data: Lean's minute files end on 2013-10-11; the synthetic month on 2024-01-31
  const venueDay = input.source.kind === 'csv' ? '2013-10-11' : '2024-01-31';
  return { history: { ...input, toMs: Date.parse(`${venueDay}T00:00:00Z`) }, venueDay };
}

/**
 * The history the model steps learn from (continuous learning, the walk-forward model backtest): they need weeks
 * of minutes, and Lean's minute files hold one week. With ../shared/data: PyAlgoTrade's SPY minutes of January
 * 2011 (20 sessions, real); without it the synthetic month of the demo's history serves.
 */
export function modelDays(sharedDataDir: string | undefined): BackfillInput {
  if (sharedDataDir && existsSync(join(sharedDataDir, 'pyalgotrade_ninjatrader', '1min', 'SPY.csv.gz')))
    return {
      symbols: ['SPY'],
      timeframes: ['1m'],
      fromMs: Date.UTC(2011, 0, 1),
      toMs: Date.UTC(2011, 1, 1),
      source: { kind: 'csv', dataset: 'pyalgotrade_ninjatrader' },
      maxParallel: 1,
    };
  return demoDays(sharedDataDir).history;
}

/** One step of the demo: it prints what it did and where to look. */
interface DemoStep {
  readonly title: string;
  run(ctx: DemoContext): Promise<string>;
}

interface DemoContext {
  readonly config: AppConfig;
  readonly state: StackState;
  readonly client: Client;
}

/**
 * The end-to-end demo, in the order a quant would do it: bring the stack up, load data through a backfill,
 * compute features, train and register a model, backtest it into an HTML report, then trade a paper session
 * through Temporal on the local Alpaca-compatible simulator as a live venue, its bars through the stream.
 */
export const demoSteps: DemoStep[] = [
  {
    title: 'walking skeleton: Temporal → io worker → PostgreSQL',
    async run({ client }) {
      const workflowId = `demo-skeleton-${randomUUID()}`;
      const r = await executeWorkflow<{ pingId: number }>(client, 'skeletonWorkflow', {
        taskQueue: TASK_QUEUES.io,
        workflowId,
        args: [{ message: 'demo' }],
        workflowExecutionTimeout: '2 minutes',
      });
      return `workflow ${workflowId} stored ping #${r.pingId}`;
    },
  },
  {
    title:
      'data: backfill 1-minute bars through BackfillWorkflow (real ../shared/data, else labelled synthetic)',
    async run({ client, config, state }) {
      const { history: input, venueDay } = demoDays(config.sharedDataDir);
      const summary = await runBackfill(client, input, {
        quiet: true,
        workflowId: `demo-backfill-${randomUUID()}`,
      });
      const rejected = Object.entries({ ...summary.findingsByRule })
        .map(([rule, n]) => `${rule}=${n}`)
        .join(', ');
      const models = modelDays(config.sharedDataDir);
      const modelRows =
        models === input
          ? 0
          : (
              await runBackfill(client, models, {
                quiet: true,
                workflowId: `demo-backfill-models-${randomUUID()}`,
              })
            ).rowsStored;
      // the paper venue's day goes into the venue's own database, never into the store
      const venuePool = createPool(await ensureVenueDatabase(state.postgres.url), { max: 2 });
      let venueRows: number;
      try {
        venueRows = await loadVenueDay(venuePool, input, venueDay, config.sharedDataDir);
      } finally {
        await venuePool.end();
      }
      const extra = modelRows
        ? `; the model steps' history: ${models.symbols.join(', ')} ${new Date(models.fromMs).toISOString().slice(0, 7)} from ${models.source.kind === 'csv' ? models.source.dataset : models.source.kind} (${modelRows} rows)`
        : '';
      return `${input.source.kind === 'synthetic' ? 'SYNTHETIC' : 'real'} bars for ${input.symbols.join(', ')}: ${summary.rowsStored} rows stored${rejected ? `; findings: ${rejected}` : ''}; the venue's day ${venueDay} (${venueRows} rows) in its own database${extra}`;
    },
  },
  {
    title:
      'features: the `core` multi-timeframe feature set (1m…1d) into PostgreSQL (offline) and Redis (online)',
    async run({ config, state }) {
      const backfill = demoDays(config.sharedDataDir).history;
      const pool = createPool(state.postgres.url, { max: 4 });
      const cache = await createCache({
        url: state.redis.url,
        logger: { warn: (m) => console.log(`   ${m}`) },
      });
      try {
        const set = featureSetByName('core');
        const r = await computeAndStoreFeatures(
          { pool, cache },
          { symbols: [...backfill.symbols], fromMs: backfill.fromMs, toMs: backfill.toMs, set },
        );
        return `${set.names.length} features (set ${r.featureSet}@${r.version.slice(0, 8)}) for ${r.symbols.length} symbols: ${r.written} vectors stored, latest published to ${cache.kind === 'redis' ? 'Redis' : 'the in-process cache'}`;
      } finally {
        await cache.close();
        await pool.end();
      }
    },
  },
  {
    title:
      'training: RetrainWorkflow (dataset on io → XGBoost with the dollar-profit objective on training → walk-forward → registry → gate)',
    async run({ client, config }) {
      const backfill = demoDays(config.sharedDataDir).history;
      const input: RetrainInput = {
        name: 'demo-xgb',
        source: { kind: 'db', symbol: backfill.symbols[0]!, fromMs: backfill.fromMs, toMs: backfill.toMs },
        featureSet: 'core',
        spec: { ...DEFAULT_XGBOOST_SPEC, rounds: 60 },
        folds: 3,
      };
      const r = await executeWorkflow<RetrainResult>(client, RETRAIN_WORKFLOW, {
        taskQueue: TASK_QUEUES.io,
        workflowId: `demo-retrain-${randomUUID()}`,
        args: [input],
        workflowExecutionTimeout: '15 minutes',
      });
      const o = r.oos;
      const oos = `net P&L $${o.netPnl.toFixed(0)}, Sharpe ${o.sharpe.toFixed(2)}, hit rate ${(o.hitRate * 100).toFixed(1)}%, ${o.trades} trades`;
      return `model ${r.modelId} ${r.decision.toUpperCase()} by the gate; out-of-sample ${oos}; ONNX parity ${r.parityMaxAbsDiff.toExponential(1)}`;
    },
  },
  {
    title:
      'continuous learning: a champion and a challenger in shadow → one post-market learning cycle (drift report, shadow decision)',
    async run({ client, config, state }) {
      const backfill = modelDays(config.sharedDataDir);
      const pool = createPool(state.postgres.url, { max: 4 });
      try {
        return await runLearningDemo({
          client,
          pool,
          artifactDir: config.artifactDir,
          symbol: backfill.symbols[0]!,
          fromMs: backfill.fromMs,
          toMs: backfill.toMs,
        });
      } finally {
        await pool.end();
      }
    },
  },
  {
    title: backtestDemoStep.title,
    run: () => backtestDemoStep.run(),
  },
  {
    title:
      'model backtest: walk-forward XGBoost (each window trained only on the days before it) → model-signal trades its predictions → scoreboard against buy-and-hold, indicator-only and flat',
    async run({ config, state }) {
      const history = modelDays(config.sharedDataDir);
      const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      const DAY = 86_400_000;
      const pool = createPool(state.postgres.url, { max: 4 });
      try {
        const out = await runBacktestPipeline(
          {
            symbols: history.symbols,
            timeframes: ['1m'],
            from: day(history.fromMs),
            to: day(history.toMs),
            db: true,
            cash: 100_000,
            seed: 1,
            mcRuns: 200,
            report: join(config.TRADER_DATA_DIR, 'reports', 'demo-model-backtest.html'),
            json: join(config.TRADER_DATA_DIR, 'reports', 'demo-model-backtest.json'),
            model: {
              kind: 'walk-forward',
              spec: { ...DEFAULT_XGBOOST_SPEC, rounds: 60 },
              name: 'demo-wf',
              horizonBars: 5,
              retrainEveryMs: 7 * DAY,
              trainWindowMs: 14 * DAY,
            },
            featureSet: 'compact',
            strategy: 'model-signal',
            title: `Demo model backtest: walk-forward XGBoost on ${history.symbols.join(', ')} 1m (${history.source.kind === 'synthetic' ? 'SYNTHETIC' : 'real'} bars)`,
          },
          { pool, registry: new ModelRegistry(pool, config.artifactDir), now: Date.now() },
        );
        const sb = out.scoreboard!;
        const ic = sb.overall.rankIc === null ? '-' : sb.overall.rankIc.toFixed(3);
        const rows = sb.baselines.map((b) => `${b.name} $${b.netProfit.toFixed(0)}`).join(', ');
        return `${sb.windows.length} windows, ${sb.overall.predictions} out-of-sample predictions, rank IC ${ic}; net after costs: ${rows}; report: ${out.reportPath}`;
      } finally {
        await pool.end();
      }
    },
  },
  {
    title: sessionDemoStep.title,
    run: (ctx) => {
      const { history, venueDay } = demoDays(ctx.config.sharedDataDir);
      return sessionDemoStep.run(ctx, history.symbols, venueDay, `champion:${LEARNING_DEMO_NAME}`);
    },
  },
];

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the whole system end to end on this machine (paper trading on the local simulator)')
    .action(async () => {
      const config = loadConfig();
      const unavailable = demoMonitoringUnavailable();
      // The session step runs workers in this process: their state changes at INFO would bury the demo's output.
      // An activity-only worker (the session's execution queue) is expected to have no workflows: not worth a line.
      // With Prometheus, the runtime's own exporter serves their SDK metrics (merged into this process's /metrics).
      const runtimeMetricsUrl = await installRuntime(!unavailable, {
        logger: new DefaultLogger('WARN', (entry) => {
          if (!entry.message.startsWith('No workflows registered'))
            console.warn(`[${entry.level}] ${entry.message}`, entry.meta ?? '');
        }),
      });
      console.log('== stack up');
      const state = await stackUp(config);
      console.log(`   Temporal UI: ${state.temporal.uiUrl ?? state.temporal.address}`);
      let monitoring: DemoMonitoring | undefined;
      if (unavailable) console.log(`== ${unavailable}`);
      else {
        console.log('== monitoring: a Prometheus for the demo');
        monitoring = await startDemoMonitoring({ config, state, runtimeMetricsUrl });
        console.log(`   ${monitoring.describe}`);
      }
      const steps: DemoStep[] = monitoring
        ? [
            ...demoSteps,
            { title: monitoring.panelCheckStep.title, run: () => monitoring.panelCheckStep.run() },
          ]
        : demoSteps;
      const connection = await Connection.connect({ address: state.temporal.address });
      const client = new Client({
        connection,
        namespace: state.temporal.namespace,
        dataConverter: temporalDataConverter(),
      });
      try {
        for (const [i, step] of steps.entries()) {
          const t0 = Date.now();
          console.log(`== ${i + 1}/${steps.length} ${step.title}`);
          const summary = await step.run({ config, state, client });
          console.log(`   ${summary} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        }
      } finally {
        await connection.close();
        await monitoring?.stop();
      }
      console.log(
        `\nDone. Watch the workflows in the Temporal UI: ${state.temporal.uiUrl ?? '(your Temporal UI)'}`,
      );
      console.log('Stop everything with: npm run trader -- stack down');
    });
}
