import { ApplicationFailure, proxyActivities, setHandler } from '@temporalio/workflow';
import {
  BackfillInputSchema,
  backfillProgressQuery,
  describeIssues,
  type BackfillChunk,
  type BackfillInput,
  type BackfillProgress,
  type BackfillSummary,
  type ChunkResult,
  type DataActivities,
} from '../contracts/backfill';
import { recordingFailure } from './failure-metric';

const { planBackfill } = proxyActivities<DataActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5, initialInterval: '1 second' },
});

// A chunk heartbeats after every committed batch; a dead worker is noticed within the heartbeat
// timeout and the retry resumes from the last heartbeated cursor.
const { ingestChunk } = proxyActivities<DataActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 10,
  },
});

function add(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/**
 * Backfill: symbols × timeframes × range × source, in symbol-month chunks with bounded parallelism.
 * Idempotent (upserts; findings are replaced per chunk), so running it twice leaves identical data.
 */
export async function backfillWorkflow(raw: BackfillInput): Promise<BackfillSummary> {
  return recordingFailure('backfillWorkflow', {}, () => backfill(raw));
}

async function backfill(raw: BackfillInput): Promise<BackfillSummary> {
  // Bad input fails the workflow at once, naming the field; no retry can fix it.
  const parsed = BackfillInputSchema.safeParse(raw);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(
      `backfill input: ${describeIssues(parsed.error.issues)}`,
      'ValidationError',
    );
  const input = parsed.data;
  const state = {
    planned: false,
    totalChunks: 0,
    completedChunks: 0,
    running: [] as string[],
    failed: [] as Array<{ key: string; error: string }>,
    rowsStored: 0,
    rowsChanged: 0,
    rejected: 0,
    rejectedByRule: {} as Record<string, number>,
    findingsByRule: {} as Record<string, number>,
  };
  setHandler(backfillProgressQuery, (): BackfillProgress => ({
    ...state,
    running: [...state.running],
    failed: [...state.failed],
  }));

  const maxParallel = input.maxParallel ?? 4;
  const chunks: BackfillChunk[] = await planBackfill(input);
  state.planned = true;
  state.totalChunks = chunks.length;

  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < chunks.length) {
      const chunk = chunks[next++]!;
      state.running.push(chunk.key);
      try {
        const r: ChunkResult = await ingestChunk(chunk);
        state.rowsStored += r.rowsStored;
        state.rowsChanged += r.rowsChanged;
        state.rejected += r.rejected;
        add(state.rejectedByRule, r.rejectedByRule);
        add(state.findingsByRule, r.findingsByRule);
        state.completedChunks++;
      } catch (e) {
        state.failed.push({
          key: chunk.key,
          error: e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e),
        });
      } finally {
        state.running.splice(state.running.indexOf(chunk.key), 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(maxParallel, chunks.length) }, lane));
  return { ...state, running: [], mode: input.mode ?? 'full' };
}
