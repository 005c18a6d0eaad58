import {
  ApplicationFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  executeChild,
  log,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { BackfillSummary } from '../contracts/backfill';
import type { FeatureActivities } from '../contracts/features';
import {
  sessionWorkflowId,
  type DailyRoutineInput,
  type DailyRoutineResult,
  type DayReport,
  type ExecutionActivities,
  type RoutineActivities,
  type SessionActivities,
  type ShutdownActivities,
} from '../contracts/session';
import { routineInputProblem } from '../contracts/session-input';
import { TASK_QUEUES } from '../contracts/task-queues';
import { NYSE, nyDate, nyseDayInfo } from '../src/market/calendar';
import { backfillWorkflow } from './backfill.workflow';
import { startDayStream } from './day-stream';
import { tradingSessionWorkflow } from './trading-session.workflow';

function activities(input: DailyRoutineInput) {
  const retry = {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['ConfigError', 'ValidationError', 'PermanentError'],
  };
  return {
    exec: proxyActivities<ExecutionActivities>({
      taskQueue: input.taskQueues?.execution ?? TASK_QUEUES.execution,
      startToCloseTimeout: '2 minutes',
      retry,
    }),
    io: proxyActivities<SessionActivities & RoutineActivities & FeatureActivities & ShutdownActivities>({
      taskQueue: input.taskQueues?.io ?? TASK_QUEUES.io,
      startToCloseTimeout: '15 minutes',
      retry,
    }),
  };
}

/**
 * The venue's trading day: paper and live by the broker's clock (the local simulator may live on another day
 * than the calendar's), replay by the workflow clock.
 */
async function venueDate(input: DailyRoutineInput, exec: ReturnType<typeof activities>['exec']) {
  if (input.mode === 'replay') return nyDate(Date.now());
  return nyDate((await exec.venueClock({})).venueNow);
}

/** Bad input fails the routine at once, naming the field (contracts/session-input.ts); no retry can fix it. */
function checkInput(input: DailyRoutineInput): void {
  const problem = routineInputProblem(input);
  if (problem) throw ApplicationFailure.nonRetryable(problem, 'ValidationError');
}

/** A step that may fail without stopping the routine: its failure is noted, and the desk goes on. */
async function optional(steps: string[], name: string, fn: () => Promise<string>): Promise<void> {
  try {
    steps.push(`${name}: ${await fn()}`);
  } catch (e) {
    const msg = (e as { cause?: Error }).cause?.message ?? (e as Error).message;
    steps.push(`${name}: FAILED (${msg})`);
    log.warn(`routine step failed: ${name}`, { error: msg });
  }
}

/**
 * Pre-market routine (a Schedule at 09:00 America/New_York on weekdays), what a desk does before the open:
 * reconcile with the broker (a mode mismatch stops here), backfill the previous session's gap, refresh the
 * features, pin the day's model (a champion as it stands at the open), pick the universe, start the day's
 * market-data stream and the session with the configured strategy and model (one per account, mode and date:
 * a second start is a no-op). Holidays are skipped by the schedule and checked again here.
 */
export async function preMarketRoutineWorkflow(input: DailyRoutineInput): Promise<DailyRoutineResult> {
  checkInput(input);
  const { exec, io } = activities(input);
  const date = await venueDate(input, exec);
  const day = nyseDayInfo(date);
  const session = NYSE.sessionFor(date);
  if (day.holiday || !session) return { date, skipped: day.holiday ?? 'weekend', sessionWorkflowId: null };
  const workflowId = sessionWorkflowId(input.account, date, input.mode);
  const steps: string[] = [];

  const account = await exec.reconcile({ sessionId: workflowId, mode: input.mode });
  steps.push(
    `reconcile: equity ${account.equity.toFixed(2)}, ${account.positions.length} positions, ${account.orders.length} open orders`,
  );

  const prev = NYSE.previousSession(session.openMs);
  const source = input.backfillSource;
  if (source)
    await optional(steps, `backfill ${nyDate(prev.openMs)}`, async () => {
      const r: BackfillSummary = await executeChild(backfillWorkflow, {
        workflowId: `${workflowInfo().workflowId}-backfill-${nyDate(prev.openMs)}`,
        taskQueue: input.taskQueues?.io ?? workflowInfo().taskQueue,
        args: [
          {
            symbols: [...input.candidates],
            timeframes: ['1m'],
            fromMs: prev.openMs,
            toMs: prev.closeMs,
            source,
            mode: 'gap-fill',
          },
        ],
      });
      return `${r.rowsStored} rows stored from ${source.kind} (gap fill)`;
    });
  else steps.push('backfill: skipped (no backfillSource configured)');

  const featureSet = input.featureSet === undefined ? 'core' : input.featureSet;
  if (featureSet !== null)
    await optional(steps, `features ${featureSet}`, async () => {
      const r = await io.computeFeatures({
        symbols: [...input.candidates],
        featureSet,
        fromMs: prev.openMs,
        toMs: session.openMs,
        publishOnline: true,
      });
      return `${r.written} vectors (version ${r.version.slice(0, 8)}) through ${nyDate(prev.openMs)}`;
    });

  let modelId: string | undefined;
  if (input.modelId) {
    const pinned = await io.preMarketModel({ modelId: input.modelId });
    modelId = pinned.modelId ?? undefined;
    steps.push(`model: ${pinned.note}`);
  }

  const prep = await io.prepareSession({
    date,
    candidates: input.candidates,
    maxSymbols: input.maxSymbols ?? 100,
    maxBars: null,
    grid: 'calendar',
  });
  steps.push(`universe: ${prep.universe.length} of ${input.candidates.length} candidates`);

  const sessionInput = {
    sessionId: workflowId,
    account: input.account,
    mode: input.mode,
    date,
    candidates: prep.universe,
    maxSymbols: prep.universe.length,
    ...(modelId ? { modelId } : {}),
    ...(input.strategy ? { strategy: input.strategy } : {}),
    ...(input.seed !== undefined ? { seed: input.seed } : {}),
    ...(input.limits ? { limits: input.limits } : {}),
    ...(input.execution ? { execution: input.execution } : {}),
    ...(input.stream ? { stream: input.stream } : {}),
    ...(input.maxBars !== undefined ? { maxBars: input.maxBars } : {}),
    ...(input.taskQueues ? { taskQueues: input.taskQueues } : {}),
  };
  if (input.mode !== 'replay') {
    const streamId = await startDayStream(sessionInput, prep.universe);
    steps.push(`stream: ${streamId}`);
  }
  try {
    await startChild(tradingSessionWorkflow, {
      workflowId,
      taskQueue: input.taskQueues?.io ?? workflowInfo().taskQueue,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [sessionInput],
    });
    steps.push(`session: ${workflowId} (${input.strategy?.name ?? 'default strategy'})`);
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    steps.push(`session: ${workflowId} already started`);
  }
  return { date, skipped: null, sessionWorkflowId: workflowId, universe: prep.universe, steps };
}

/**
 * Post-market routine (16:30 America/New_York): is the account flat (alert either way); backfill the day's
 * gaps and check that every minute is stored; the day's report (P&L, orders, fills, slippage against the
 * arrival price) stored for `trader session report --date`; then the retrain trigger hook.
 */
export async function postMarketRoutineWorkflow(input: DailyRoutineInput): Promise<DailyRoutineResult> {
  checkInput(input);
  const { exec, io } = activities(input);
  const date = await venueDate(input, exec);
  const day = nyseDayInfo(date);
  const session = NYSE.sessionFor(date);
  if (day.holiday || !session) return { date, skipped: day.holiday ?? 'weekend', sessionWorkflowId: null };
  const workflowId = sessionWorkflowId(input.account, date, input.mode);
  const steps: string[] = [];

  const check = await exec.verifyFlat({});
  await io.alert({
    severity: check.flat ? 'info' : 'critical',
    text: check.flat
      ? `Post-market ${date} (${input.account}): flat, no open orders.`
      : `Post-market ${date} (${input.account}): NOT flat — ${check.positions.length} position(s), ${check.openOrders} open order(s).`,
  });
  steps.push(
    `flat: ${check.flat ? 'yes' : `NO (${check.positions.length} positions, ${check.openOrders} open orders)`}`,
  );

  const universe = (await io.sessionUniverse({ sessionId: workflowId })) ?? [...input.candidates];
  const source = input.backfillSource;
  if (source)
    await optional(steps, `backfill ${date}`, async () => {
      const r: BackfillSummary = await executeChild(backfillWorkflow, {
        workflowId: `${workflowInfo().workflowId}-backfill-${date}`,
        taskQueue: input.taskQueues?.io ?? workflowInfo().taskQueue,
        args: [
          {
            symbols: universe,
            timeframes: ['1m'],
            fromMs: session.openMs,
            toMs: session.closeMs,
            source,
            mode: 'gap-fill',
          },
        ],
      });
      return `${r.rowsStored} rows stored from ${source.kind} (gap fill)`;
    });
  else steps.push('backfill: skipped (no backfillSource configured)');

  const data = await io.validateDay({ date, symbols: universe });
  const missing = Object.values(data.missing).reduce((a, b) => a + b, 0);
  steps.push(`validation: ${missing} of ${data.expectedMinutes * universe.length} minutes missing`);

  const orders = await exec.sessionOrders({ sessionId: workflowId, symbols: universe });
  const report: DayReport = await io.dayReport({
    date,
    account: input.account,
    mode: input.mode,
    sessionId: workflowId,
    orders,
    data,
    flat: check.flat,
  });
  steps.push(
    `report: P&L ${report.pnl.daily ?? '-'}, ${report.orders.placed} orders, slippage ${report.slippage.avgBps ?? '-'} bps`,
  );

  const retrain = await io.postMarketRetrainHook({ date, account: input.account, mode: input.mode, report });
  steps.push(`retrain: ${retrain.note}`);
  return { date, skipped: null, sessionWorkflowId: workflowId, universe, steps, report };
}
