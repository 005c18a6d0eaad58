import { Client, Connection } from '@temporalio/client';
import { resolveDatabaseUrl, resolveTemporalAddress } from '../../src/stack/resolve';
import { temporalDataConverter } from '../../src/stack/data-converter';
import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { RETRAIN_WORKFLOW, type RetrainInput, type RetrainResult } from '../../contracts/retrain';
import { TASK_QUEUES } from '../../contracts/task-queues';
import { loadConfig } from '../../src/config/config';
import { ModelRegistry, type ModelStatus } from '../../src/models/registry/registry';
import { DEFAULT_XGBOOST_SPEC } from '../../src/models/spec';
import { createPool } from '../../src/storage/pool';
import { waitForWorkflow } from '../workflow-result';

async function withRegistry<T>(fn: (r: ModelRegistry) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const pool = createPool(await resolveDatabaseUrl(config), { max: 2 });
  try {
    return await fn(new ModelRegistry(pool, config.artifactDir));
  } finally {
    await pool.end();
  }
}

export function register(program: Command): void {
  const models = program.command('models').description('model registry and retraining');

  models
    .command('list')
    .description('list registered models (newest first)')
    .option('--name <name>', 'only this model name')
    .option('--status <status>', 'candidate | champion | retired | rejected')
    .option('--json', 'print JSON')
    .action(async (opts: { name?: string; status?: ModelStatus; json?: boolean }) => {
      const list = await withRegistry((r) => r.list({ name: opts.name, status: opts.status }));
      if (opts.json) {
        console.log(JSON.stringify(list, null, 2));
        return;
      }
      if (list.length === 0) console.log('no models registered yet: run `npm run trader -- models retrain`');
      console.table(
        list.map((m) => {
          const s = (m.metrics as { summary?: { netPnl?: number; hitRate?: number } }).summary ?? {};
          return {
            id: m.id,
            name: m.name,
            status: m.status,
            objective: m.spec.objective,
            symbol: m.symbol,
            oosNetPnl: s.netPnl?.toFixed(2),
            hitRate: s.hitRate?.toFixed(3),
            created: new Date(m.createdAt).toISOString(),
          };
        }),
      );
    });

  models
    .command('show <id>')
    .description('show one model: spec, training range, data hash, OOS metrics, artifacts, model card')
    .action(async (id: string) => {
      const m = await withRegistry((r) => r.get(id));
      if (!m) {
        console.error(`models show: no model "${id}"`);
        process.exitCode = 1;
        return;
      }
      console.log(m.modelCard);
      console.log(`status: ${m.status}\nartifacts: ${JSON.stringify(m.artifacts, null, 2)}`);
    });

  models
    .command('retrain')
    .description(
      'start RetrainWorkflow (dataset → train → walk-forward → register → gate → promote/reject → alert)',
    )
    .option('--name <name>', 'model name (champion is per name)', 'spy-5m')
    .option('--csv <path>', 'bars CSV under SHARED_DATA_DIR', 'pyalgotrade_ninjatrader/1min/SPY.csv.gz')
    .option('--symbol <symbol>', 'symbol of the bars', 'SPY')
    .option('--from <iso>', 'use 1m bars from the database from this time (with --to) instead of a CSV')
    .option('--to <iso>', 'end of the database range')
    .option('--objective <objective>', 'dollar_profit | squared_error', 'dollar_profit')
    .option('--rounds <n>', 'boosting rounds', String(DEFAULT_XGBOOST_SPEC.rounds))
    .option('--max-rows <n>', 'keep only the most recent N rows')
    .option('--wait', 'wait for the result and print it')
    .action(
      async (opts: {
        name: string;
        csv: string;
        symbol: string;
        from?: string;
        to?: string;
        objective: string;
        rounds: string;
        maxRows?: string;
        wait?: boolean;
      }) => {
        const config = loadConfig();
        const address = resolveTemporalAddress(config);
        if (opts.objective !== 'dollar_profit' && opts.objective !== 'squared_error')
          throw new Error(`--objective: must be dollar_profit or squared_error, got "${opts.objective}"`);
        const rounds = Number(opts.rounds);
        if (!Number.isInteger(rounds) || rounds <= 0)
          throw new Error(`--rounds: must be a positive integer, got "${opts.rounds}"`);
        const source: RetrainInput['source'] =
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
        const input: RetrainInput = {
          name: opts.name,
          source,
          spec: { ...DEFAULT_XGBOOST_SPEC, objective: opts.objective, rounds },
          maxRows: opts.maxRows ? Number(opts.maxRows) : undefined,
        };
        const connection = await Connection.connect({ address });
        try {
          const client = new Client({
            connection,
            namespace: config.TEMPORAL_NAMESPACE,
            dataConverter: temporalDataConverter(),
          });
          const workflowId = `retrain-${opts.name}-${randomUUID()}`;
          const handle = await client.workflow.start(RETRAIN_WORKFLOW, {
            taskQueue: TASK_QUEUES.io,
            workflowId,
            args: [input],
          });
          console.log(
            `started ${RETRAIN_WORKFLOW} ${workflowId} on task queue ${TASK_QUEUES.io} (training activities on ${TASK_QUEUES.training})`,
          );
          if (opts.wait) {
            const r = await waitForWorkflow<RetrainResult>(handle);
            console.log(
              `${r.modelId}: ${r.decision} — ${r.gate.reason}; OOS net P&L ${r.oos.netPnl.toFixed(2)}, ONNX parity ${r.parityMaxAbsDiff.toExponential(2)}`,
            );
          }
        } finally {
          await connection.close();
        }
      },
    );
}
