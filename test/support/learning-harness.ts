/**
 * The learning loop's test harness: io and training workers in this process (the activities workers/ wires on
 * those queues), the learning cycle started day by day, and a stand-in for the live session's side of the loop
 * — each day's predictions of the champion (role 'traded') and of every shadow challenger (role 'shadow'),
 * computed from the stored bars up to the day's close by the backtest/session prediction code and written to
 * the predictions table, as a session does when it resolves `champion:<name>` at its decisions.
 */
import { Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createHpoTrainingActivities } from '../../activities/hpo.activities';
import { createLearningActivities } from '../../activities/learning.activities';
import { createModelIoActivities } from '../../activities/models-io.activities';
import { createMonitoringActivities } from '../../activities/monitoring.activities';
import { createTrainingActivities } from '../../activities/training.activities';
import type { LearningCycleInput, LearningCycleResult } from '../../contracts/learning';
import { learningCycleWorkflowId } from '../../contracts/learning';
import { COMPACT_FEATURE_SET } from '../../src/features';
import type { Bar, BarColumns } from '../../src/model/bar';
import { type ModelRegistry } from '../../src/models/registry/registry';
import {
  featureMatrices,
  journalRows,
  scoreSeries,
  type ScoredRow,
} from '../../src/models/serving/model-port';
import { loadServedModel } from '../../src/models/serving/served-model';
import { SlackAlerter } from '../../src/monitoring/alerting/slack-alerter';
import { AuditLog } from '../../src/monitoring/audit/audit-log';
import { PgBarSource } from '../../src/storage/bar-store';
import { savePredictions } from '../../src/storage/prediction-repo';
import { uniqueQueue, WORKFLOWS_PATH, type TemporalTestContext } from './temporal';

export interface LearningWorkers {
  readonly ioQueue: string;
  readonly trainingQueue: string;
  readonly alerts: string[];
  run<T>(fn: () => Promise<T>): Promise<T>;
}

export async function learningWorkers(
  t: TemporalTestContext,
  pool: Pool,
  artifactDir: string,
): Promise<LearningWorkers> {
  const ioQueue = uniqueQueue('learn-io');
  const trainingQueue = uniqueQueue('learn-training');
  const alerts: string[] = [];
  const log = () => undefined;
  const alerter = new SlackAlerter({
    channels: { critical: '#c', warning: '#w', info: '#i' },
    log: (l) => alerts.push(l),
    dedupWindowMs: 0,
    rateLimit: { perMinute: 10_000, burst: 10_000 },
  });
  const io = await Worker.create({
    connection: t.nativeConnection,
    taskQueue: ioQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: {
      ...createModelIoActivities({ pool, artifactDir, log }),
      ...createLearningActivities({ pool, artifactDir, log }),
      ...createMonitoringActivities({ alerter, audit: new AuditLog(pool) }),
    },
  });
  const training = await Worker.create({
    connection: t.nativeConnection,
    taskQueue: trainingQueue,
    activities: {
      ...createTrainingActivities({ pool, artifactDir, log }),
      ...createHpoTrainingActivities({ pool, log }),
    },
  });
  return {
    ioQueue,
    trainingQueue,
    alerts,
    run: (fn) => io.runUntil(training.runUntil(fn)),
  };
}

/** Bars in the columns the kernel and the feature code take. */
export function barColumns(symbol: string, bars: readonly Bar[]): BarColumns {
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

/**
 * A session's predictions of one day: the champion's (traded) and each shadow's, scored by ONNX Runtime on the
 * compact feature set from the stored bars up to the day's close. Returns the traded model and its rows.
 */
export async function sessionPredictions(
  pool: Pool,
  registry: ModelRegistry,
  o: {
    name: string;
    symbol: string;
    day: { day: string; openMs: number; closeMs: number };
    historyDays?: number;
  },
): Promise<{ traded: string | null; shadows: string[]; rows: ScoredRow[] }> {
  const champion = await registry.champion(o.name);
  const shadows = await registry.shadows(o.name);
  const from = o.day.openMs - (o.historyDays ?? 7) * 86_400_000;
  const bars = await new PgBarSource(pool).barsBetween([o.symbol], from, o.day.closeMs - 60_000);
  const series = [barColumns(o.symbol, bars)];
  const all: ScoredRow[] = [];
  for (const [role, id] of [
    ...(champion ? [['traded', champion.id] as const] : []),
    ...shadows.map((m) => ['shadow', m.id] as const),
  ]) {
    const served = await loadServedModel(registry, id);
    try {
      const mats = featureMatrices(COMPACT_FEATURE_SET, series);
      const scored = await scoreSeries(served, COMPACT_FEATURE_SET, mats, {
        fromTs: o.day.openMs + 1,
        toTs: o.day.closeMs + 1,
      });
      all.push(...journalRows(scored, mats, role));
    } finally {
      await served.close();
    }
  }
  await savePredictions(
    pool,
    all.map((r) => ({
      source: `session-${o.name}-${o.day.day}`,
      modelId: r.modelId,
      role: r.role,
      symbol: r.symbol,
      ts: r.ts,
      timeframe: r.timeframe,
      score: r.score,
      expectedReturn: r.expectedReturn,
      confidence: r.confidence,
      horizonBars: r.horizonBars,
      inputsHash: r.inputsHash,
    })),
  );
  return {
    traded: champion?.id ?? null,
    shadows: shadows.map((m) => m.id),
    rows: all.filter((r) => r.role === 'traded'),
  };
}

/** Runs the learning cycle of one day and waits for it. */
export async function learningCycle(
  t: TemporalTestContext,
  w: LearningWorkers,
  input: LearningCycleInput & { day: string },
): Promise<LearningCycleResult> {
  return t.client.workflow.execute<(i: LearningCycleInput) => Promise<LearningCycleResult>>(
    'learningCycleWorkflow',
    {
      taskQueue: w.ioQueue,
      workflowId: `${learningCycleWorkflowId(input.name, input.day)}-${w.ioQueue}`,
      args: [{ ...input, taskQueues: { io: w.ioQueue, training: w.trainingQueue } }],
    },
  );
}
