import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import {
  HPO_WORKFLOW,
  LEARNING_CYCLE_WORKFLOW,
  learningCycleWorkflowId,
  type HpoInput,
  type HpoResult,
  type LearningConfig,
  type LearningCycleInput,
  type LearningCycleResult,
  type LearningRetrainTemplate,
} from '../../contracts/learning';
import { TASK_QUEUES } from '../../contracts/task-queues';
import { loadConfig } from '../../src/config/config';
import { learningConfig } from '../../src/learning/policy';
import { driftRows, readLearningStatus, type LearningStatus } from '../../src/learning/status';
import { nyDate } from '../../src/market/calendar';
import { ModelRegistry } from '../../src/models/registry/registry';
import { temporalDataConverter } from '../../src/stack/data-converter';
import { resolveDatabaseUrl, resolveTemporalAddress } from '../../src/stack/resolve';
import { createPool } from '../../src/storage/pool';
import { applyLearningSchedule, nextLearningRun } from '../../src/session/schedules';
import { waitForWorkflow } from '../workflow-result';
import { retrainSpecFromOptions, type RetrainOptions } from './models';

const queues = () => {
  const prefix = process.env.TASK_QUEUE_PREFIX ?? '';
  return { io: `${prefix}${TASK_QUEUES.io}`, training: `${prefix}${TASK_QUEUES.training}` };
};

async function withTemporal<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const connection = await Connection.connect({ address: resolveTemporalAddress(config) });
  try {
    return await fn(
      new Client({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        dataConverter: temporalDataConverter(),
      }),
    );
  } finally {
    await connection.close();
  }
}

/** `--config` (JSON object of LearningConfig fields), checked with the policy's own validation. */
export function learningConfigFrom(json: string | undefined): Partial<LearningConfig> | undefined {
  if (json === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new Error(`--config: not valid JSON (${(e as Error).message})`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('--config: must be a JSON object');
  try {
    learningConfig(v as Partial<LearningConfig>);
  } catch (e) {
    throw new Error(`--config: ${(e as Error).message}`);
  }
  return v as Partial<LearningConfig>;
}

function retrainTemplate(opts: {
  symbol?: string;
  spec?: string;
  featureSet?: string;
  maxRows?: string;
}): LearningRetrainTemplate | undefined {
  const t: { -readonly [K in keyof LearningRetrainTemplate]: LearningRetrainTemplate[K] } = {};
  if (opts.symbol) t.symbol = opts.symbol;
  if (opts.spec) t.spec = retrainSpecFromOptions({ spec: opts.spec } as RetrainOptions);
  if (opts.featureSet) t.featureSet = opts.featureSet;
  if (opts.maxRows) {
    const n = Number(opts.maxRows);
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`--max-rows: must be a positive integer, got "${opts.maxRows}"`);
    t.maxRows = n;
  }
  return Object.keys(t).length ? t : undefined;
}

const f3 = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(3));

export function printStatus(s: LearningStatus, next: number | null): void {
  console.log(`${s.name}`);
  console.log(
    `  champion: ${s.champion ? `${s.champion.id}${s.champion.since ? ` since ${new Date(s.champion.since).toISOString()}` : ''} (out-of-sample hit rate ${f3(s.champion.oosHitRate)})` : 'none'}`,
  );
  if (!s.shadows.length) console.log('  shadow challengers: none');
  for (const sh of s.shadows) {
    const r = sh.record;
    console.log(
      `  shadow: ${sh.id}: ${r ? `${r.days} days, ${r.pairs} paired predictions, P&L ${r.challengerPnl.toFixed(4)} vs champion ${r.championPnl.toFixed(4)}, hit ${f3(r.challengerHitRate)} vs ${f3(r.championHitRate)}${r.gate ? `, p=${r.gate.pValue.toFixed(3)}` : ''}` : 'no record yet'}`,
    );
  }
  const d = s.drift;
  if (d)
    console.log(
      `  drift (${d.day}): scores PSI ${f3(d.predictionPsi)}, max feature PSI ${f3(d.maxFeaturePsi)}, live hit ${f3(d.liveHitRate)} on ${d.liveRows} vs expected ${f3(d.expectedHitRate)}; SPRT ${d.sequential.sprt.verdict} (LLR ${d.sequential.sprt.llr.toFixed(2)}), CUSUM ${d.sequential.cusum.s.toFixed(2)}${d.sequential.cusum.alarm ? ' ALARM' : ''}${d.breach ? ` — BREACH: ${d.reasons.join('; ')}` : ''}`,
    );
  else console.log('  drift: no report yet');
  console.log(
    `  regime: ${s.regime ? `${s.regime.symbol} ${s.regime.state} (volatility ${s.regime.volRatio.toFixed(2)}× baseline, trend z ${s.regime.trendZ.toFixed(2)}, ${s.regime.days} days)` : 'n/a'}`,
  );
  console.log(
    `  next retrain: ${s.scheduledRetrainInDays === null ? 'on drift only' : `scheduled in ${s.scheduledRetrainInDays} learning day(s)`}; next learning cycle: ${next ? new Date(next).toISOString() : 'no schedule (`learning schedule --name ' + s.name + '`)'}`,
  );
  if (s.recentDays.length) console.log('  last decisions:');
  for (const day of s.recentDays.slice(0, 5)) {
    const x = day.decisions;
    const parts = [
      x.retrain
        ? `retrain (${x.retrain.trigger}${x.retrain.outcome ? ` → ${x.retrain.outcome}` : ''})`
        : null,
      x.promote ? `promote ${x.promote.modelId}` : null,
      ...x.reject.map((r) => `reject ${r.modelId}`),
    ].filter(Boolean);
    console.log(
      `    ${day.day}: ${parts.length ? parts.join(', ') : 'no change'}${x.notes.length ? ` (${x.notes.join('; ')})` : ''}`,
    );
  }
}

export function register(program: Command): void {
  const learning = program
    .command('learning')
    .description('continuous learning: drift, shadow challengers, retraining and promotion as workflows');

  learning
    .command('status')
    .description(
      'champion, shadow challengers, drift, regime, next retrain and the newest decisions per model name',
    )
    .option('--name <name>', 'one model name (default: every name with a champion or a challenger)')
    .option('--json', 'print JSON')
    .action(async (opts: { name?: string; json?: boolean }) => {
      const config = loadConfig();
      const pool = createPool(await resolveDatabaseUrl(config), { max: 2 });
      try {
        const registry = new ModelRegistry(pool, config.artifactDir);
        const names = opts.name ? [opts.name] : await registry.activeNames();
        const all = [];
        for (const n of names) all.push(await readLearningStatus(pool, registry, n));
        let next = new Map<string, number | null>();
        try {
          next = await withTemporal(async (c) => {
            const m = new Map<string, number | null>();
            for (const n of names) m.set(n, await nextLearningRun(c, n));
            return m;
          });
        } catch {
          /* Temporal not reachable: status from the database only */
        }
        if (opts.json) {
          console.log(
            JSON.stringify(
              all.map((s) => ({ ...s, nextCycleAt: next.get(s.name) ?? null })),
              null,
              2,
            ),
          );
          return;
        }
        if (!all.length)
          console.log('no model has a champion or a challenger yet: `npm run trader -- models retrain`');
        for (const s of all) printStatus(s, next.get(s.name) ?? null);
      } finally {
        await pool.end();
      }
    });

  learning
    .command('drift')
    .description(
      "a model's daily drift reports (feature and score PSI, live vs expected, sequential tests, regime)",
    )
    .requiredOption('--model <id>', 'model id')
    .option('--days <n>', 'newest days', '10')
    .option('--json', 'print JSON')
    .action(async (opts: { model: string; days: string; json?: boolean }) => {
      const config = loadConfig();
      const pool = createPool(await resolveDatabaseUrl(config), { max: 2 });
      try {
        const rows = await driftRows(pool, opts.model, Number(opts.days) || 10);
        if (opts.json) console.log(JSON.stringify(rows, null, 2));
        else if (!rows.length)
          console.log(`${opts.model}: no drift report yet (the learning cycle writes one per trading day)`);
        else
          console.table(
            rows.map((r) => ({
              day: r.day,
              scoresPsi: f3(r.predictionPsi),
              maxFeaturePsi: f3(r.maxFeaturePsi),
              live: `${f3(r.liveHitRate)} (${r.liveRows})`,
              expected: f3(r.expectedHitRate),
              sprt: `${r.sequential.sprt.verdict} ${r.sequential.sprt.llr.toFixed(2)}`,
              cusum: r.sequential.cusum.s.toFixed(2),
              regime: r.regime?.state ?? 'n/a',
              breach: r.breach ? r.reasons.join('; ') : '',
            })),
          );
      } finally {
        await pool.end();
      }
    });

  learning
    .command('run')
    .description(
      'run the learning cycle of a name now (drift → shadow records → promote/reject → retrain into shadow)',
    )
    .requiredOption('--name <name>', 'model name')
    .option('--day <date>', 'New York trading day YYYY-MM-DD (default: today)')
    .option('--config <json>', 'policy settings, e.g. \'{"shadowDays":5,"retrainEveryDays":20}\'')
    .option('--symbol <symbol>', "retrain on this symbol (default: the champion's)")
    .option('--spec <file>', "retrain with this JSON spec (default: the champion's)")
    .option('--feature-set <name>', "retrain on this feature set (default: the champion's)")
    .option('--max-rows <n>', 'retrain on the newest N rows of the window')
    .option('--wait', 'wait for the result and print it')
    .action(
      async (opts: {
        name: string;
        day?: string;
        config?: string;
        symbol?: string;
        spec?: string;
        featureSet?: string;
        maxRows?: string;
        wait?: boolean;
      }) => {
        const day = opts.day ?? nyDate(Date.now());
        if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`--day: "${day}" is not a date YYYY-MM-DD`);
        const q = queues();
        const retrain = retrainTemplate(opts);
        const config = learningConfigFrom(opts.config);
        const input: LearningCycleInput = {
          name: opts.name,
          day,
          ...(config ? { config } : {}),
          ...(retrain ? { retrain } : {}),
          taskQueues: q,
        };
        await withTemporal(async (client) => {
          const workflowId = `${learningCycleWorkflowId(opts.name, day)}-${randomUUID().slice(0, 8)}`;
          const handle = await client.workflow.start(LEARNING_CYCLE_WORKFLOW, {
            taskQueue: q.io,
            workflowId,
            args: [input],
          });
          console.log(`started ${LEARNING_CYCLE_WORKFLOW} ${workflowId} for ${opts.name} on ${day}`);
          if (opts.wait) {
            const r = await waitForWorkflow<LearningCycleResult>(handle);
            if (r.skipped) console.log(`${day}: skipped (${r.skipped})`);
            else
              console.log(
                JSON.stringify(
                  { champion: r.championId, decisions: r.decisions, drift: r.drift?.reasons },
                  null,
                  2,
                ),
              );
          }
        });
      },
    );

  learning
    .command('schedule')
    .description(
      "create or update the name's learning Schedule: its learning cycle after the close on every NYSE trading day (America/New_York, holidays skipped)",
    )
    .requiredOption('--name <name>', 'model name')
    .option('--hour <h>', 'New York hour (16-23)', '16')
    .option('--minute <m>', 'minute', '45')
    .option('--config <json>', 'policy settings, e.g. \'{"shadowDays":5,"retrainEveryDays":20}\'')
    .option('--symbol <symbol>', "retrain on this symbol (default: the champion's)")
    .option('--spec <file>', "retrain with this JSON spec (default: the champion's)")
    .option('--feature-set <name>', "retrain on this feature set (default: the champion's)")
    .option('--max-rows <n>', 'retrain on the newest N rows of the window')
    .action(
      async (opts: {
        name: string;
        hour: string;
        minute: string;
        config?: string;
        symbol?: string;
        spec?: string;
        featureSet?: string;
        maxRows?: string;
      }) => {
        const q = queues();
        const config = learningConfigFrom(opts.config);
        const retrain = retrainTemplate(opts);
        const r = await withTemporal((client) =>
          applyLearningSchedule(client, {
            input: {
              name: opts.name,
              ...(config ? { config } : {}),
              ...(retrain ? { retrain } : {}),
              taskQueues: q,
            },
            taskQueue: q.io,
            fromYear: new Date().getUTCFullYear(),
            hour: Number(opts.hour),
            minute: Number(opts.minute),
          }),
        );
        console.log(
          `${r.scheduleId}: ${r.outcome} (${opts.hour}:${opts.minute.padStart(2, '0')} America/New_York, trading days)`,
        );
      },
    );

  learning
    .command('hpo')
    .description(
      'Bayesian hyperparameter search (TPE) as a workflow: trials run in parallel on the training queue, a killed worker never repeats a finished trial',
    )
    .requiredOption('--name <name>', 'model name (the search id starts with it)')
    .option('--spec <file>', 'base JSON spec (default: xgboost defaults)')
    .option('--kind <kind>', 'base spec kind when no --spec is given', 'xgboost')
    .option('--csv <path>', 'bars CSV under SHARED_DATA_DIR', 'pyalgotrade_ninjatrader/1min/SPY.csv.gz')
    .option('--symbol <symbol>', 'symbol of the bars', 'SPY')
    .option('--from <iso>', 'use 1m bars from the database from this time (with --to)')
    .option('--to <iso>', 'end of the database range')
    .option('--feature-set <name>', 'models.minute-basic (default) or a src/features set')
    .option('--space <json>', 'search space, e.g. \'{"max_depth":{"kind":"int","min":2,"max":6}}\'')
    .option('--trials <n>', 'trials', '16')
    .option('--parallel <n>', 'trials at once', '2')
    .option('--folds <n>', 'walk-forward folds per trial', '3')
    .option('--max-rows <n>', 'keep only the most recent N rows')
    .option('--seed <n>', 'seed', '1')
    .option('--wait', 'wait for the result and print it')
    .action(
      async (opts: {
        name: string;
        spec?: string;
        kind: string;
        csv: string;
        symbol: string;
        from?: string;
        to?: string;
        featureSet?: string;
        space?: string;
        trials: string;
        parallel: string;
        folds: string;
        maxRows?: string;
        seed: string;
        wait?: boolean;
      }) => {
        const int = (flag: string, v: string) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n <= 0)
            throw new Error(`${flag}: must be a positive integer, got "${v}"`);
          return n;
        };
        const spec = retrainSpecFromOptions({ spec: opts.spec, kind: opts.kind } as RetrainOptions);
        let space: HpoInput['space'];
        if (opts.space) {
          try {
            space = JSON.parse(opts.space) as HpoInput['space'];
          } catch (e) {
            throw new Error(`--space: not valid JSON (${(e as Error).message})`);
          }
        }
        const source: HpoInput['source'] =
          opts.from || opts.to
            ? {
                kind: 'db',
                symbol: opts.symbol,
                fromMs: Date.parse(opts.from ?? ''),
                toMs: Date.parse(opts.to ?? ''),
              }
            : { kind: 'shared-csv', path: opts.csv, symbol: opts.symbol };
        if (source.kind === 'db' && !(Number.isFinite(source.fromMs) && Number.isFinite(source.toMs)))
          throw new Error('--from/--to: both must be ISO timestamps');
        const q = queues();
        const searchId = `hpo-${opts.name}-${randomUUID().slice(0, 8)}`;
        const input: HpoInput = {
          searchId,
          name: opts.name,
          source,
          spec,
          ...(opts.featureSet ? { featureSet: opts.featureSet } : {}),
          ...(space ? { space } : {}),
          ...(opts.maxRows ? { maxRows: int('--max-rows', opts.maxRows) } : {}),
          trials: int('--trials', opts.trials),
          parallel: int('--parallel', opts.parallel),
          folds: int('--folds', opts.folds),
          seed: int('--seed', opts.seed),
          taskQueues: q,
        };
        await withTemporal(async (client) => {
          const handle = await client.workflow.start(HPO_WORKFLOW, {
            taskQueue: q.io,
            workflowId: searchId,
            args: [input],
          });
          console.log(
            `started ${HPO_WORKFLOW} ${searchId}: ${input.trials} trials, ${input.parallel} at once on ${q.training}`,
          );
          if (opts.wait) {
            const r = await waitForWorkflow<HpoResult>(handle);
            for (const t of r.trials)
              console.log(`  trial ${t.trial}: ${t.score.toFixed(2)} ${JSON.stringify(t.params)}`);
            console.log(
              `best: trial ${r.best.trial} (OOS net P&L ${r.best.score.toFixed(2)}): ${JSON.stringify(r.spec)}`,
            );
          }
        });
      },
    );
}
