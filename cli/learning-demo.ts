/**
 * The demo's learning step: one post-market learning cycle on the demo's stored bars. A champion trained on the
 * first weeks and a challenger trained on a later window (entering shadow, as the loop's retrains do); the last
 * two trading days' predictions of both are journaled the way a live session journals them (the champion's as
 * 'traded', the challenger's as 'shadow', from the stored bars with the model port's feature code); then
 * `learningCycleWorkflow` runs for the last day on the io and training queues: drift reports of both models, the
 * challenger's shadow record against the champion, and the policy's decision.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { LEARNING_CYCLE_WORKFLOW, type LearningCycleResult } from '../contracts/learning';
import { RETRAIN_WORKFLOW, type RetrainInput, type RetrainResult } from '../contracts/retrain';
import { TASK_QUEUES } from '../contracts/task-queues';
import { COMPACT_FEATURE_SET } from '../src/features';
import { NYSE } from '../src/market/calendar';
import type { Bar, BarColumns } from '../src/model/bar';
import { ModelRegistry } from '../src/models/registry/registry';
import { featureMatrices, journalRows, scoreSeries } from '../src/models/serving/model-port';
import { loadServedModel } from '../src/models/serving/served-model';
import { PgBarSource } from '../src/storage/bar-store';
import { savePredictions } from '../src/storage/prediction-repo';
import { executeWorkflow } from './workflow-result';

/** The model name the learning step trains a champion and a challenger under (the demo's session trades it). */
export const LEARNING_DEMO_NAME = 'demo-learn';
const NAME = LEARNING_DEMO_NAME;

function columns(symbol: string, bars: readonly Bar[]): BarColumns {
  const col = (f: (b: Bar) => number) => Float64Array.from(bars, f);
  return {
    symbol,
    timeframe: '1m',
    ts: col((b) => b.ts),
    open: col((b) => b.open),
    high: col((b) => b.high),
    low: col((b) => b.low),
    close: col((b) => b.close),
    volume: col((b) => b.volume),
  };
}

export async function runLearningDemo(o: {
  readonly client: Client;
  readonly pool: Pool;
  readonly artifactDir: string;
  readonly symbol: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** task queues (tests run their own workers); default io and training */
  readonly taskQueues?: { readonly io: string; readonly training: string };
  readonly log?: (line: string) => void;
}): Promise<string> {
  const queues = o.taskQueues ?? { io: TASK_QUEUES.io, training: TASK_QUEUES.training };
  const log = o.log ?? ((l: string) => console.log(l));
  const { rows } = await o.pool.query<{ d: string }>(
    `select distinct to_char((ts at time zone 'America/New_York')::date, 'YYYY-MM-DD') as d from bars
      where symbol = $1 and timeframe = '1m' and ts >= $2 and ts < $3 order by 1`,
    [o.symbol, new Date(o.fromMs), new Date(o.toMs)],
  );
  const days = rows.map((r) => r.d).filter((d) => NYSE.sessionFor(d));
  if (days.length < 10)
    throw new Error(`learning demo: ${o.symbol} has ${days.length} trading days of 1m bars; 10 are needed`);
  const session = (d: string) => NYSE.sessionFor(d)!;
  const n = days.length;
  const spec = {
    kind: 'xgboost' as const,
    objective: 'squared_error' as const,
    rounds: 30,
    params: { max_depth: 2, eta: 0.1, nthread: 1, seed: 1 },
    costRate: 0.0001,
    positionPenalty: 0,
  };
  const train = (fromDay: string, toDay: string) =>
    executeWorkflow<RetrainResult>(o.client, RETRAIN_WORKFLOW, {
      taskQueue: queues.io,
      workflowId: `demo-learn-retrain-${randomUUID()}`,
      args: [
        {
          name: NAME,
          source: {
            kind: 'db',
            symbol: o.symbol,
            fromMs: session(fromDay).openMs,
            toMs: session(toDay).closeMs,
          },
          featureSet: 'compact',
          spec,
          folds: 2,
          embargoMinutes: 10,
          promotion: 'shadow',
          taskQueues: queues,
        } satisfies RetrainInput,
      ],
      workflowExecutionTimeout: '10 minutes',
    });
  const registry = new ModelRegistry(o.pool, o.artifactDir);
  const champion = await train(days[0]!, days[n - 5]!);
  await registry.promote(champion.modelId, { actor: 'cli:demo', reason: 'the demo’s first champion' });
  const challenger = await train(days[n - 9]!, days[n - 3]!);
  log(`   champion ${champion.modelId}; challenger ${challenger.modelId} in ${challenger.decision}`);

  // the last two days as a session journals them: champion traded, challenger in shadow
  for (const day of days.slice(n - 2)) {
    const s = session(day);
    const bars = await new PgBarSource(o.pool).barsBetween(
      [o.symbol],
      s.openMs - 7 * 86_400_000,
      s.closeMs - 60_000,
    );
    const mats = featureMatrices(COMPACT_FEATURE_SET, [columns(o.symbol, bars)]);
    for (const [role, id] of [
      ['traded', champion.modelId],
      ['shadow', challenger.modelId],
    ] as const) {
      if (role === 'shadow' && challenger.decision !== 'shadow') continue;
      const served = await loadServedModel(registry, id);
      try {
        const scored = await scoreSeries(served, COMPACT_FEATURE_SET, mats, {
          fromTs: s.openMs + 1,
          toTs: s.closeMs + 1,
        });
        await savePredictions(
          o.pool,
          journalRows(scored, mats, role).map((r) => ({ ...r, source: `demo-session-${day}` })),
        );
      } finally {
        await served.close();
      }
    }
  }

  const day = days[n - 1]!;
  const r = await executeWorkflow<LearningCycleResult>(o.client, LEARNING_CYCLE_WORKFLOW, {
    taskQueue: queues.io,
    workflowId: `demo-learning-${day}-${randomUUID().slice(0, 8)}`,
    args: [
      {
        name: NAME,
        day,
        config: { shadowDays: 2, driftWindowDays: 2, retrainEveryDays: 0 },
        taskQueues: queues,
      },
    ],
    workflowExecutionTimeout: '10 minutes',
  });
  const d = r.drift;
  if (d)
    log(
      `   drift of ${d.modelId} on ${day}: scores PSI ${d.predictionPsi?.toFixed(3) ?? 'n/a'}, max feature PSI ${d.maxFeaturePsi?.toFixed(3) ?? 'n/a'} (${d.featureRows} rows), live hit ${d.live.hitRate?.toFixed(3) ?? 'n/a'} on ${d.live.rows} vs expected ${d.expected?.hitRate.toFixed(3) ?? 'n/a'}, SPRT ${d.sequential.sprt.verdict}${d.breach ? `; breach: ${d.reasons.join('; ')}` : ''}; regime ${d.regime?.state ?? 'n/a'}`,
    );
  for (const s of r.shadows)
    log(
      `   shadow ${s.modelId}: ${s.days} days, ${s.pairs} paired predictions, P&L ${s.challengerPnl.toFixed(4)} vs champion ${s.championPnl.toFixed(4)}${s.gate ? `, p=${s.gate.pValue.toFixed(3)}` : ''}`,
    );
  const x = r.decisions!;
  const decision = x.promote
    ? `PROMOTED ${x.promote.modelId}`
    : x.reject.length
      ? `REJECTED ${x.reject.map((j) => j.modelId).join(', ')}`
      : `no promotion yet (${x.notes.join('; ') || 'nothing to decide'})`;
  return `learning cycle of ${NAME} on ${day}: ${decision}; see \`npm run trader -- learning status --name ${NAME}\``;
}
