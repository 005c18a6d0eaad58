import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import type { SessionResult } from '../contracts/session';
import { createTestDatabase } from '../test/support/db';
import {
  SESSION_DATE,
  seedReplayDay,
  sessionInput,
  startSessionEnv,
  workflowBundle,
} from '../test/support/session-harness';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTemporalDevServer, stopProcessGroup, type StartedTemporal } from '../src/stack/temporal';
import { connectTemporal } from '../test/support/temporal';
import { syntheticDayBars } from '../test/support/sim-bars';
import { NYSE } from '../src/market/calendar';
import { upsertBars } from '../src/storage/bar-store';
import { median, percentile, writeResults, type BenchRow } from './lib';

/**
 * Session cycle latency through Temporal on the simulator: per bar, from the cycle's first activity being
 * scheduled (the timer has fired; replay here runs without timers, which the dev server fires with ~1 s
 * granularity) to the submit activity completing, i.e. every order acknowledged by the simulator over HTTP.
 * Peer: a bare echo activity round trip on the same server in the same run. History events per session-day
 * are measured per cycle and scaled to a 390-bar regular session.
 */
/** Universe sizes with the cheap sma-trend (orders on most bars), then the multi-timeframe reference strategy. */
const CASES: ReadonlyArray<{ n: number; mtf: boolean }> = [
  { n: 10, mtf: false },
  { n: 100, mtf: false },
  { n: 500, mtf: false },
  { n: 100, mtf: true },
];
const BARS = 40;
/** Runs per universe size; p50/p99 are the medians over runs (the machine is shared and noisy). */
const RUNS = 3;
const REGULAR_SESSION_BARS = 390;
const STRATEGY = { name: 'sma-trend' as const, fast: 2, slow: 4, weight: 0.01 };
/**
 * The reference strategy on 1m, 5m and 15m bars the kernel builds from the minutes, warmed up on the day before
 * (stored) so it trades from the open; universe filters opened up for synthetic symbols.
 */
const MTF_STRATEGY = {
  name: 'reference-ai' as const,
  timeframes: ['1m', '5m', '15m'] as const,
  params: {
    minConsensus: 0.5,
    volumeConfirm: 0.5,
    minRewardRisk: 1,
    universe: { minPrice: 1, minDollarVolume: 0, activeRelVolume: 0, activeAtrFraction: 0, focusTopN: 20 },
  },
};

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const ms = (e: HistoryEvent) =>
  Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);

/**
 * Cycle durations from a session history: from the first activity a cycle schedules (the replay step that plays
 * its bar, when the previous cycle did not already, or its decide) to the activity that carried its orders out
 * completing (every order acknowledged by the simulator). Cycles without orders are left out: they acknowledge
 * nothing.
 */
function cycleDurations(events: HistoryEvent[]): { cycles: number[]; eventsPerCycle: number } {
  const names = new Map<number, string>();
  const cycles: number[] = [];
  let start: number | null = null;
  let syncAt: number | null = null;
  let firstIdx = -1;
  let lastIdx = -1;
  let cycleCount = 0;
  events.forEach((e, i) => {
    const sched = e.activityTaskScheduledEventAttributes;
    if (sched) {
      const name = sched.activityType?.name ?? '';
      names.set(Number(e.eventId), name);
      if (name === 'decide') {
        start = syncAt ?? ms(e);
        syncAt = null;
      } else if (name === 'replayStep' && start === null) syncAt = ms(e);
    }
    const done = e.activityTaskCompletedEventAttributes;
    const name = done ? names.get(Number(done.scheduledEventId)) : undefined;
    if (done && (name === 'replayStep' || name === 'execute') && start !== null) {
      if (acksIn(done.result?.payloads?.[0]?.data) > 0) {
        cycles.push(ms(e) - start);
        if (firstIdx < 0) firstIdx = i;
        lastIdx = i;
        cycleCount++;
      }
      start = null;
    }
  });
  const eventsPerCycle = cycleCount > 1 ? (lastIdx - firstIdx) / (cycleCount - 1) : 0;
  return { cycles, eventsPerCycle };
}

/** How many orders an execute/replayStep result acknowledged (its payload is plain JSON in the bench). */
function acksIn(data: Uint8Array | null | undefined): number {
  if (!data) return 0;
  try {
    return (JSON.parse(Buffer.from(data).toString('utf8')) as { acks?: unknown[] }).acks?.length ?? 0;
  } catch {
    return 0;
  }
}

/** The histories of a workflow's runs in order, following continue-as-new from its first run. */
async function sessionHistories(
  client: Client,
  workflowId: string,
  firstRunId: string,
): Promise<HistoryEvent[][]> {
  const out: HistoryEvent[][] = [];
  let runId: string | null | undefined = firstRunId;
  while (runId) {
    const events: HistoryEvent[] =
      (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    out.push(events);
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return out;
}

/** Full regular sessions of synthetic bars on the `days` trading days before the replayed one (warm-up history). */
async function seedHistoryDays(
  db: Awaited<ReturnType<typeof createTestDatabase>>,
  symbols: readonly string[],
  days: number,
  seed: number,
): Promise<void> {
  let t = NYSE.sessionFor(SESSION_DATE)!.openMs;
  for (let d = 0; d < days; d++) {
    const s = NYSE.previousSession(t);
    t = s.openMs;
    await upsertBars(
      db.pool,
      syntheticDayBars({ date: s.date, symbols, minutes: 390, seed: seed + d }),
      'bench-synthetic',
      true,
    );
  }
}

export async function main(): Promise<void> {
  // A dev server of its own, configured like `stack up` (eager activity dispatch), unless TEMPORAL_ADDRESS names one.
  let server: StartedTemporal | undefined;
  if (!process.env.TEMPORAL_ADDRESS) {
    server = await startTemporalDevServer({
      dataDir: mkdtempSync(join(tmpdir(), 'bench-session-')),
      port: 7733,
      uiPort: 8733,
      namespace: 'default',
    });
    console.log(`bench/session: Temporal dev server at ${server.address} (started for this run)`);
  }
  const db = await createTestDatabase('tt_bench_session');
  const t = await connectTemporal(server?.address);
  const rows: BenchRow[] = [];
  const creds = { keyId: 'PKBENCH', secret: 'bench-secret' };
  let p50At100 = NaN;
  try {
    // Peer: bare echo activity round trips (workflow and activity on different queues, like the session).
    const wfQueue = `bench-echo-wf-${randomUUID()}`;
    const actQueue = `bench-echo-act-${randomUUID()}`;
    const echoActs = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: actQueue,
      activities: {
        async echo(x: unknown) {
          return x;
        },
      },
    });
    const echoWf = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: wfQueue,
      workflowBundle: await workflowBundle(),
    });
    const echoMs = await echoWf.runUntil(
      echoActs.runUntil(async () => {
        const handle = await t.client.workflow.start('echoActivityWorkflow', {
          taskQueue: wfQueue,
          workflowId: `bench-echo-${randomUUID()}`,
          args: [{ count: 40, taskQueue: actQueue }],
        });
        await handle.result();
        const events = (await handle.fetchHistory()).events ?? [];
        const sched = new Map<number, number>();
        const rts: number[] = [];
        for (const e of events) {
          if (e.activityTaskScheduledEventAttributes) sched.set(Number(e.eventId), ms(e));
          const done = e.activityTaskCompletedEventAttributes;
          if (done) rts.push(ms(e) - sched.get(Number(done.scheduledEventId))!);
        }
        return median(rts);
      }),
    );

    let eventsPerCycle100 = NaN;
    for (const { n, mtf } of CASES) {
      const symbols = Array.from({ length: n }, (_, i) => `${mtf ? 'M' : 'S'}${String(i).padStart(3, '0')}`);
      await seedReplayDay(db, symbols, BARS, 100 + n);
      if (mtf) await seedHistoryDays(db, symbols, 2, 900 + n);
      const suffix = mtf ? '_mtf' : '';
      const p50s: number[] = [];
      const p99s: number[] = [];
      let orders = 0;
      let samples = 0;
      for (let run = 0; run < RUNS; run++) {
        // A fresh simulator per run: each replays the same stored day from its open.
        const env = await startSessionEnv(t, db, symbols, creds);
        try {
          const input = sessionInput(env.workers, symbols, {
            strategy: mtf ? { ...MTF_STRATEGY, timeframes: [...MTF_STRATEGY.timeframes] } : STRATEGY,
            limits: {
              maxPositionFraction: 0.01,
              maxGrossExposure: 2,
              dailyLossLimit: 0.5,
              maxOrderNotional: 100_000,
              maxOrdersPerCycle: 1_000,
            },
          });
          const handle = await t.client.workflow.start('tradingSessionWorkflow', {
            taskQueue: env.workers.ioQueue,
            workflowId: `bench-session-${n}-${randomUUID()}`,
            args: [input],
          });
          const result = (await handle.result()) as SessionResult;
          // every run of the session: at 500 symbols the decide payloads make the server suggest
          // continue-as-new, and the last run alone holds only the day's final cycles
          const cycles: number[] = [];
          const perRun: Array<{ eventsPerCycle: number; cycles: number }> = [];
          for (const events of await sessionHistories(
            t.client,
            handle.workflowId,
            handle.firstExecutionRunId,
          )) {
            const d = cycleDurations(events);
            cycles.push(...d.cycles);
            if (d.cycles.length > 1)
              perRun.push({ eventsPerCycle: d.eventsPerCycle, cycles: d.cycles.length });
          }
          const weight = perRun.reduce((a, r) => a + r.cycles, 0);
          const eventsPerCycle = weight
            ? perRun.reduce((a, r) => a + r.eventsPerCycle * r.cycles, 0) / weight
            : 0;
          p50s.push(percentile(cycles, 50));
          p99s.push(percentile(cycles, 99));
          orders = result.ordersPlaced;
          samples = cycles.length;
          if (n === 100 && !mtf) eventsPerCycle100 = eventsPerCycle;
          console.log(
            `${n} symbols, run ${run + 1}: ${result.runs} workflow run(s), ${cycles.length} cycles with orders, ${result.ordersPlaced} orders, p50 ${p50s.at(-1)} ms, p99 ${p99s.at(-1)} ms, ${eventsPerCycle.toFixed(1)} events/cycle`,
          );
        } finally {
          await env.close();
        }
      }
      const p50 = median(p50s);
      const p99 = median(p99s);
      if (n === 100 && !mtf) p50At100 = p50;
      const what = mtf
        ? `reference-ai on 1m/5m/15m bars (built by the kernel from the minutes)`
        : 'sma-trend on 1m';
      rows.push({
        metric: `cycle_p50_ms_${n}_symbols${suffix}`,
        value: p50,
        unit: 'ms',
        peer: { name: 'echo activity round trip', value: echoMs },
        ratio: echoMs / p50,
        note: `${what}; median of ${RUNS} runs (${p50s.join(', ')}); ${orders} orders over ${samples} cycles with orders per run; ratio = echo/cycle (bigger is better)`,
      });
      rows.push({
        metric: `cycle_p99_ms_${n}_symbols${suffix}`,
        value: p99,
        unit: 'ms',
        note: `${what}; median of ${RUNS} runs (${p99s.join(', ')}), ${samples} cycles each; the shared RiskEngine caps positions at 10 at $100k equity`,
        ...(n === 100 ? { target: { op: '<' as const, value: 250 } } : {}),
      });
    }
    rows.push({
      metric: 'history_events_per_day',
      value: Math.round(eventsPerCycle100 * REGULAR_SESSION_BARS + 20),
      unit: 'events',
      target: { op: '<=', value: 51_200 },
      note: `${eventsPerCycle100.toFixed(1)} events per cycle at 100 symbols × ${REGULAR_SESSION_BARS} bars + pre-open/end-of-day; continue-as-new splits it across runs when the server suggests`,
    });
    rows.push({
      metric: 'echo_activity_roundtrip_ms',
      value: echoMs,
      unit: 'ms',
      target: { op: '<=', value: 250 },
    });
    rows.push({
      metric: 'cycle_to_echo_ratio_100_symbols',
      value: p50At100 / echoMs,
      unit: 'x',
      note: 'a replay cycle is 2 activities (decide on io, submit on execution; the submit also plays the next bar) plus workflow tasks',
    });
  } finally {
    await t.close();
    await db.drop();
    if (server) await stopProcessGroup(server.pid);
  }
  writeResults('session', rows);
}
