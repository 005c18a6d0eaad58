import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Command } from 'commander';
import { RETRAIN_WORKFLOW, type RetrainInput, type RetrainResult } from '../../contracts/retrain';
import { TASK_QUEUES } from '../../contracts/task-queues';
import { loadConfig } from '../../src/config/config';
import { registerEnsemble } from '../../src/models/ensemble/registered';
import { ModelRegistry, type ModelRecord, type ModelStatus } from '../../src/models/registry/registry';
import { loadServedModel, servingInfo } from '../../src/models/serving/served-model';
import {
  DEFAULT_SPECS,
  MODEL_KINDS,
  parseModelSpec,
  type ModelKind,
  type ModelSpec,
} from '../../src/models/spec';
import { temporalDataConverter } from '../../src/stack/data-converter';
import { resolveDatabaseUrl, resolveTemporalAddress } from '../../src/stack/resolve';
import { createPool } from '../../src/storage/pool';
import { waitForWorkflow } from '../workflow-result';
import { importanceChanges } from '../../src/learning/importance';
import { MODEL_STATUSES } from '../../src/models/registry/registry';
import { AuditLog } from '../../src/monitoring/audit/audit-log';
import { recordLearningDecision } from '../../src/monitoring/metrics';
import { operatorName, switchSessionsAfterRollback } from './session';

async function withRegistry<T>(fn: (r: ModelRegistry, pool: Pool) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const pool = createPool(await resolveDatabaseUrl(config), { max: 2 });
  try {
    return await fn(new ModelRegistry(pool, config.artifactDir), pool);
  } finally {
    await pool.end();
  }
}

function statusOption(v: string | undefined): ModelStatus | undefined {
  if (v === undefined) return undefined;
  if (!(MODEL_STATUSES as readonly string[]).includes(v))
    throw new Error(`--status: must be one of ${MODEL_STATUSES.join(', ')}, got "${v}"`);
  return v as ModelStatus;
}

/**
 * What changed in feature importance along a name's models, oldest first: per consecutive pair the features
 * whose share of the importance rose or fell most (gain, and permutation on the out-of-sample fold when measured).
 */
export function importanceReport(
  models: readonly ModelRecord[],
  top = 5,
): Array<{
  from: string;
  to: string;
  method: string;
  changes: ReturnType<typeof importanceChanges>;
}> {
  const measured = [...models].filter((m) => m.featureImportance).sort((a, b) => a.createdAt - b.createdAt);
  const out: ReturnType<typeof importanceReport> = [];
  for (let i = 1; i < measured.length; i++) {
    const a = measured[i - 1]!.featureImportance!;
    const b = measured[i]!.featureImportance!;
    if (a.method === b.method)
      out.push({
        from: measured[i - 1]!.id,
        to: measured[i]!.id,
        method: a.method,
        changes: importanceChanges(a.values, b.values).slice(0, top),
      });
    if (a.permutation && b.permutation)
      out.push({
        from: measured[i - 1]!.id,
        to: measured[i]!.id,
        method: 'oos-permutation',
        changes: importanceChanges(a.permutation.values, b.permutation.values).slice(0, top),
      });
  }
  return out;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export interface RetrainOptions {
  name: string;
  csv: string;
  symbol: string;
  from?: string;
  to?: string;
  kind?: string;
  spec?: string;
  objective?: string;
  rounds?: string;
  epochs?: string;
  window?: string;
  featureSet?: string;
  horizon?: string;
  folds?: string;
  maxRows?: string;
  leakageCanary?: boolean;
}

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: must be a positive integer, got "${v}"`);
  return n;
}

/** The spec `models retrain` trains: a --spec file, else the kind's default with the flags applied; validated. */
export function retrainSpecFromOptions(
  opts: RetrainOptions,
  readFile = (p: string) => readFileSync(p, 'utf8'),
): ModelSpec {
  let raw: Record<string, unknown>;
  if (opts.spec) {
    try {
      raw = JSON.parse(readFile(opts.spec)) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`--spec ${opts.spec}: ${(err as Error).message}`);
    }
  } else {
    const kind = (opts.kind ?? 'xgboost') as ModelKind;
    if (!MODEL_KINDS.includes(kind))
      throw new Error(`--kind: must be one of ${MODEL_KINDS.join(', ')}, got "${opts.kind}"`);
    raw = { ...DEFAULT_SPECS[kind] };
  }
  const xgbOnly = { '--objective': opts.objective, '--rounds': opts.rounds };
  const nnOnly = { '--epochs': opts.epochs, '--window': opts.window };
  const isXgb = raw.kind === 'xgboost';
  for (const [flag, v] of Object.entries(isXgb ? nnOnly : xgbOnly))
    if (v !== undefined) throw new Error(`${flag}: does not apply to a ${String(raw.kind)} model`);
  if (opts.objective !== undefined) {
    if (opts.objective !== 'dollar_profit' && opts.objective !== 'squared_error')
      throw new Error(`--objective: must be dollar_profit or squared_error, got "${opts.objective}"`);
    raw.objective = opts.objective;
  }
  const rounds = positiveInt('--rounds', opts.rounds);
  if (rounds) raw.rounds = rounds;
  const epochs = positiveInt('--epochs', opts.epochs);
  if (epochs) raw.epochs = epochs;
  const window = positiveInt('--window', opts.window);
  if (window) raw.window = window;
  const parsed = parseModelSpec(raw);
  if (!parsed.ok) throw new Error(`${opts.spec ? `--spec ${opts.spec}` : '--kind'}: ${parsed.error}`);
  return parsed.spec;
}

/** The workflow input of `models retrain` (exported for tests). */
export function retrainInputFromOptions(
  opts: RetrainOptions,
  readFile?: (p: string) => string,
): RetrainInput {
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
  return {
    name: opts.name,
    source,
    spec: retrainSpecFromOptions(opts, readFile),
    ...(opts.featureSet ? { featureSet: opts.featureSet } : {}),
    ...(opts.horizon ? { horizonMinutes: positiveInt('--horizon', opts.horizon) } : {}),
    ...(opts.folds ? { folds: positiveInt('--folds', opts.folds) } : {}),
    ...(opts.maxRows ? { maxRows: positiveInt('--max-rows', opts.maxRows) } : {}),
    ...(opts.leakageCanary ? { leakageCanary: true } : {}),
  };
}

function row(m: ModelRecord) {
  const s = (m.metrics as { summary?: { netPnl?: number; hitRate?: number } }).summary ?? {};
  return {
    id: m.id,
    name: m.name,
    kind: m.kind,
    status: m.status,
    featureSet: m.featureSet,
    trained: `${day(m.trainFrom)}..${day(m.trainTo)}`,
    symbol: m.symbol,
    oosNetPnl: s.netPnl?.toFixed(2),
    hitRate: s.hitRate?.toFixed(3),
    created: new Date(m.createdAt).toISOString(),
  };
}

export function register(program: Command): void {
  const models = program.command('models').description('model registry, retraining, ensembles and serving');

  models
    .command('list')
    .description('list registered models (newest first) with kind and training range')
    .option('--name <name>', 'only this model name')
    .option('--status <status>', MODEL_STATUSES.join(' | '))
    .option('--kind <kind>', `only this kind: ${[...MODEL_KINDS, 'ensemble'].join(' | ')}`)
    .option('--json', 'print JSON')
    .action(async (opts: { name?: string; status?: ModelStatus; kind?: string; json?: boolean }) => {
      const status = statusOption(opts.status);
      const all = await withRegistry((r) => r.list({ name: opts.name, status }));
      const list = opts.kind ? all.filter((m) => m.kind === opts.kind) : all;
      if (opts.json) {
        console.log(JSON.stringify(list, null, 2));
        return;
      }
      if (list.length === 0) console.log('no models registered yet: run `npm run trader -- models retrain`');
      console.table(list.map(row));
    });

  models
    .command('rollback')
    .description(
      'reinstate the previous champion of a name at once (audited): running sessions that traded the rolled-back model trade it from their next decision',
    )
    .requiredOption('--name <name>', 'model name')
    .requiredOption('--reason <text>', 'why (audit log)')
    .option('--operator <name>', 'who acts, for the audit log (default: your user name)')
    .option('--json', 'print JSON')
    .action(async (opts: { name: string; reason: string; operator?: string; json?: boolean }) => {
      const operator = `cli:${operatorName(opts.operator)}`;
      const r = await withRegistry(async (reg, pool) => {
        const out = await reg.rollback(opts.name, { actor: operator, reason: opts.reason });
        await new AuditLog(pool).append({
          actor: operator,
          operator,
          action: 'model.rolled_back',
          subject: out.to,
          reason: opts.reason,
          details: { name: opts.name, from: out.from, to: out.to },
        });
        recordLearningDecision(opts.name, 'rollback');
        return out;
      });
      // running sessions that traded the rolled-back model trade the reinstated one from their next decision
      const sessions = await switchSessionsAfterRollback({
        fromId: r.from,
        toId: r.to,
        reason: `rollback of ${opts.name}: ${opts.reason}`,
        operator: operatorName(opts.operator),
      });
      for (const s of sessions)
        console.error(
          s.refused
            ? `session ${s.workflowId}: NOT switched (${s.refused})`
            : `session ${s.workflowId}: now trades ${r.to}`,
        );
      if (opts.json) console.log(JSON.stringify(r));
      else
        console.log(
          `${opts.name}: champion ${r.from} → ${r.to} (rolled back by ${operator}: ${opts.reason}); ${sessions.length} running session(s) switched`,
        );
      if (sessions.some((s) => s.refused)) process.exitCode = 1;
    });

  models
    .command('promote <id>')
    .description('make a model the champion of its name (the previous champion is retired; audited)')
    .requiredOption('--reason <text>', 'why (audit log)')
    .option('--operator <name>', 'who acts, for the audit log (default: your user name)')
    .action(async (id: string, opts: { reason: string; operator?: string }) => {
      const operator = `cli:${operatorName(opts.operator)}`;
      await withRegistry(async (reg, pool) => {
        const m = await reg.get(id);
        if (!m) throw new Error(`models promote: no model "${id}"`);
        await reg.promote(id, { actor: operator, reason: opts.reason });
        await new AuditLog(pool).append({
          actor: operator,
          operator,
          action: 'model.promoted',
          subject: id,
          reason: opts.reason,
          details: { name: m.name, via: 'cli' },
        });
        recordLearningDecision(m.name, 'promote');
      });
      console.log(`${id} is the champion (${operator}: ${opts.reason})`);
    });

  models
    .command('importance')
    .description(
      "feature importance along a name's models: which features rose or fell between consecutive models (gain, and permutation on the out-of-sample fold)",
    )
    .requiredOption('--name <name>', 'model name')
    .option('--top <n>', 'features per pair', '5')
    .option('--json', 'print JSON')
    .action(async (opts: { name: string; top: string; json?: boolean }) => {
      const top = positiveInt('--top', opts.top) ?? 5;
      const list = await withRegistry((r) => r.list({ name: opts.name }));
      const report = importanceReport(list, top);
      if (opts.json) {
        console.log(JSON.stringify(report, null, 2));
        return;
      }
      if (!report.length) {
        console.log(
          `${opts.name}: fewer than two models with feature importance (${list.length} registered); retrain to measure`,
        );
        return;
      }
      const pct = (x: number | null) => (x === null ? '   —  ' : `${(x * 100).toFixed(1).padStart(5)}%`);
      for (const r of report) {
        console.log(`${r.from} → ${r.to} (${r.method}):`);
        for (const c of r.changes)
          console.log(
            `  ${c.change >= 0 ? 'rose' : 'fell'} ${c.feature.padEnd(28)} ${pct(c.before)} → ${pct(c.after)}  rank ${c.rankBefore ?? '—'} → ${c.rankAfter ?? '—'}`,
          );
      }
    });

  models
    .command('show <id>')
    .description(
      'one model: kind, training range, feature set, serving contract, OOS metrics, feature importance, card',
    )
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const m = await withRegistry((r) => r.get(id));
      if (!m) {
        console.error(`models show: no model "${id}"`);
        process.exitCode = 1;
        return;
      }
      if (opts.json) {
        console.log(JSON.stringify(m, null, 2));
        return;
      }
      console.log(m.modelCard);
      console.log(`kind: ${m.kind}\nstatus: ${m.status}`);
      console.log(
        `training range: ${new Date(m.trainFrom).toISOString()} .. ${new Date(m.trainTo).toISOString()}`,
      );
      console.log(`feature set: ${m.featureSet} v${m.featureSetVersion}`);
      if (m.kind !== 'ensemble') {
        const s = servingInfo(m);
        console.log(
          `serving: window ${s.window}, horizon ${s.horizonMinutes} min, output ${s.output} (${s.scoreUnits}); parity vs ${s.parity.reference}: ${s.parity.maxAbsDiff.toExponential(2)} (tolerance ${s.parity.tolerance})`,
        );
      }
      const imp = m.featureImportance;
      if (imp) {
        const top = Object.entries(imp.values)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 10);
        console.log(`feature importance (${imp.method}, top ${top.length}):`);
        for (const [f, v] of top) console.log(`  ${f}: ${v.toPrecision(4)}`);
      } else console.log('feature importance: not measured for this kind yet');
      if (imp?.permutation) {
        const top = Object.entries(imp.permutation.values)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 10);
        console.log(
          `permutation importance (out-of-sample fold ${imp.permutation.fold}, ${imp.permutation.rows} rows, net P&L lost when shuffled):`,
        );
        for (const [f, v] of top) console.log(`  ${f}: ${v.toFixed(2)}`);
      }
      const history = await withRegistry((r) => r.statusHistory(m.name, 200));
      const mine = history.filter((e) => e.modelId === m.id).reverse();
      if (mine.length) {
        console.log('status history:');
        for (const e of mine)
          console.log(
            `  ${new Date(e.at).toISOString()} ${e.from ?? '—'} → ${e.to} by ${e.actor}${e.reason ? `: ${e.reason}` : ''}`,
          );
      }
      console.log(`artifacts: ${JSON.stringify(m.artifacts, null, 2)}`);
    });

  models
    .command('serving <ref>')
    .description(
      'load a model the way the trading kernel serves it (ONNX Runtime) and print its serving contract: <ref> is a model id, champion:<name> or an ensemble id',
    )
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: { json?: boolean }) => {
      await withRegistry(async (r) => {
        const m = await loadServedModel(r, ref);
        try {
          const { score: _score, close: _close, ...contract } = m;
          if (opts.json) console.log(JSON.stringify(contract, null, 2));
          else {
            console.log(`${m.id} (${m.kind}, ${m.name})`);
            console.log(
              `  input: ${m.window} × ${m.featureNames.length} features of ${m.featureSet} v${m.featureSetVersion}`,
            );
            console.log(
              `  horizon: ${m.horizonBars} bars of ${m.barMs / 60_000} min; score units ${m.scoreUnits}`,
            );
            console.log(
              `  runtime: onnxruntime on ${m.runtime.executionProvider.name}${m.runtime.executionProvider.fallbackReason ? ` (CUDA not used: ${m.runtime.executionProvider.fallbackReason})` : ''}`,
            );
            if (m.parity)
              console.log(
                `  parity vs ${m.parity.reference}: ${m.parity.maxAbsDiff.toExponential(2)} on ${m.parity.rows} rows`,
              );
            for (const mem of m.members)
              console.log(`  member ${mem.id} (${mem.kind}) weight ${mem.weight.toFixed(3)}`);
          }
        } finally {
          await m.close();
        }
      });
    });

  models
    .command('ensemble')
    .description(
      'register an ensemble of registered models: weights from recent out-of-sample P&L, a trade needs --min-consensus members agreeing',
    )
    .requiredOption('--name <name>', 'ensemble name')
    .requiredOption('--members <ids>', 'comma-separated model ids (same feature set and horizon)')
    .option('--min-consensus <n>', 'members that must agree (default: 3 of 5, i.e. ceil(0.6 × members))')
    .option('--lookback <days>', 'recent out-of-sample days that set the weights', '20')
    .action(async (opts: { name: string; members: string; minConsensus?: string; lookback: string }) => {
      const members = opts.members
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const spec = {
        kind: 'ensemble',
        members,
        minConsensus: opts.minConsensus ? Number(opts.minConsensus) : Math.ceil(0.6 * members.length),
        lookback: Number(opts.lookback),
      };
      const rec = await withRegistry((r) => registerEnsemble(r, { name: opts.name, spec }));
      console.log(
        `registered ensemble ${rec.id}: ${members.length} members, at least ${spec.minConsensus} must agree; serve it with \`models serving ${rec.id}\``,
      );
    });

  models
    .command('retrain')
    .description(
      'start RetrainWorkflow (dataset → train → leakage screen + walk-forward → register + ONNX parity → gate → promote/reject → alert)',
    )
    .option('--name <name>', 'model name (champion is per name)', 'spy-5m')
    .option('--kind <kind>', `model family: ${MODEL_KINDS.join(' | ')}`, 'xgboost')
    .option('--spec <file>', 'JSON model spec (any kind; overrides --kind)')
    .option('--csv <path>', 'bars CSV under SHARED_DATA_DIR', 'pyalgotrade_ninjatrader/1min/SPY.csv.gz')
    .option('--symbol <symbol>', 'symbol of the bars', 'SPY')
    .option('--from <iso>', 'use 1m bars from the database from this time (with --to) instead of a CSV')
    .option('--to <iso>', 'end of the database range')
    .option('--feature-set <name>', 'models.minute-basic (default) or a src/features set (core, compact)')
    .option('--horizon <minutes>', 'label horizon in minutes (default 5)')
    .option('--folds <n>', 'walk-forward folds (default 4)')
    .option('--objective <objective>', 'xgboost: dollar_profit | squared_error')
    .option('--rounds <n>', 'xgboost: boosting rounds')
    .option('--epochs <n>', 'neural nets: training epochs')
    .option('--window <n>', 'neural nets: feature rows per input window')
    .option('--max-rows <n>', 'keep only the most recent N rows')
    .option(
      '--leakage-canary',
      'self-test: add a feature built from the future return; the model must be refused',
    )
    .option('--wait', 'wait for the result and print it')
    .action(async (opts: RetrainOptions & { wait?: boolean }) => {
      const config = loadConfig();
      // A deployment with TASK_QUEUE_PREFIX runs its workers on prefixed queues: the workflow and its activities too.
      const prefix = process.env.TASK_QUEUE_PREFIX ?? '';
      const queues = { io: `${prefix}${TASK_QUEUES.io}`, training: `${prefix}${TASK_QUEUES.training}` };
      const input: RetrainInput = {
        ...retrainInputFromOptions(opts),
        ...(prefix ? { taskQueues: queues } : {}),
      };
      const connection = await Connection.connect({ address: resolveTemporalAddress(config) });
      try {
        const client = new Client({
          connection,
          namespace: config.TEMPORAL_NAMESPACE,
          dataConverter: temporalDataConverter(),
        });
        const workflowId = `retrain-${opts.name}-${randomUUID()}`;
        const handle = await client.workflow.start(RETRAIN_WORKFLOW, {
          taskQueue: queues.io,
          workflowId,
          args: [input],
        });
        console.log(
          `started ${RETRAIN_WORKFLOW} ${workflowId} (${input.spec.kind}) on task queue ${queues.io} (training activities on ${queues.training})`,
        );
        if (opts.wait) {
          const r = await waitForWorkflow<RetrainResult>(handle);
          console.log(
            `${r.modelId} (${r.kind ?? 'xgboost'}): ${r.decision} — ${r.gate.reason}; OOS net P&L ${r.oos.netPnl.toFixed(2)}, ONNX parity ${r.parityMaxAbsDiff.toExponential(2)}`,
          );
        }
      } finally {
        await connection.close();
      }
    });
}
