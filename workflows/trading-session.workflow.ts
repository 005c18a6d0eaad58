import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  DEFAULT_OPERATOR_LIMITS,
  algoDoneSignal,
  DEFAULT_STRATEGY,
  decidedBy,
  algoStopSignal,
  killSignal,
  liquidateUpdate,
  pauseUpdate,
  resumeUpdate,
  setModelUpdate,
  setRiskLimitsUpdate,
  statusQuery,
  validateOperatorLimits,
  type ControlRef,
  type ExecutionActivities,
  type SessionActivities,
  type SessionInput,
  type SessionResult,
  type SessionState,
  type SessionStatus,
} from '../contracts/session';
import { sessionInputProblem } from '../contracts/session-input';
import { TASK_QUEUES } from '../contracts/task-queues';
import { executionAlgoWorkflow } from './exec-algo.workflow';
import {
  appendControl,
  initialSessionState,
  round2,
  runCycle,
  sessionResult,
  stopAlgos,
  type AlgoOps,
  type CycleOps,
  type StateCell,
} from '../src/session/cycle';
import { liveVenue, replayVenue, type Clock } from '../src/session/venue';
import { nyDate } from '../src/market/calendar';
import { startDayStream } from './day-stream';
import { recordingFailure } from './failure-metric';

/**
 * One trading day for one account, as a driver of the trading kernel: reconcile with the broker and pick the
 * universe before the open, then one cycle per bar — wait for the bar's close at the venue, read the account,
 * let the kernel decide (the decide activity), carry the decision out — then the day's report. Controls: pause,
 * resume, setRiskLimits and liquidate updates with validators, a kill signal, a status query. Continue-as-new
 * carries plain JSON state. The venue (a replayed day on the simulator, or a paper/live broker) is chosen once.
 */
export async function tradingSessionWorkflow(input: SessionInput): Promise<SessionResult> {
  return recordingFailure(
    'tradingSessionWorkflow',
    { monitoringQueue: input.taskQueues?.io ?? TASK_QUEUES.io, critical: true },
    () => tradingSession(input),
  );
}

async function tradingSession(input: SessionInput): Promise<SessionResult> {
  // Queues come from the input so tests and multi-tenant deployments can isolate them.
  const io = proxyActivities<SessionActivities>({
    taskQueue: input.taskQueues?.io ?? TASK_QUEUES.io,
    startToCloseTimeout: input.activityTimeoutMs ?? 30_000,
    retry: {
      initialInterval: '200 ms',
      backoffCoefficient: 2,
      maximumInterval: '5 seconds',
      nonRetryableErrorTypes: ['ValidationError', 'StateLostError'],
    },
  });
  const exec = proxyActivities<ExecutionActivities>({
    taskQueue: input.taskQueues?.execution ?? TASK_QUEUES.execution,
    startToCloseTimeout: input.activityTimeoutMs ?? 30_000,
    heartbeatTimeout: '20 seconds',
    retry: {
      initialInterval: '200 ms',
      backoffCoefficient: 2,
      maximumInterval: '5 seconds',
      nonRetryableErrorTypes: ['OrderRejectedError', 'PermanentError', 'ConfigError', 'ValidationError'],
    },
  });
  // Bad input fails the session at once, naming the field (one strict schema: contracts/session-input.ts); no
  // retry can fix it. Pure, so replay-safe.
  const problem = sessionInputProblem(input);
  if (problem) throw ApplicationFailure.nonRetryable(problem, 'ValidationError');

  let state: SessionState =
    input.carried ?? initialSessionState({ ...DEFAULT_OPERATOR_LIMITS, ...(input.limits ?? {}) });
  const cell: StateCell = { get: () => state, set: (next) => (state = next) };
  const controls = registerControls(input, cell);
  setHandler(algoDoneSignal, ({ parentId }) => {
    state = { ...state, algos: state.algos.filter((a) => a.parentId !== parentId) };
  });

  const clock: Clock = { now: () => Date.now(), wait: (interrupted, ms) => condition(interrupted, ms) };
  // ---- pre-open (first run only) -------------------------------------------------------------------------
  if (!input.carried) {
    upsertSearchAttributes({
      SessionDate: [input.date],
      TradingMode: [input.mode],
      Account: [input.account],
      ...(input.modelId ? { ModelId: [input.modelId] } : {}),
    });
    // the worker's broker must be of the session's mode (never a paper session on a live account)
    const account = await exec.reconcile({ sessionId: input.sessionId, mode: input.mode });
    // paper/live trade the venue's current day only: a past day is a replay
    const venue = input.mode === 'replay' ? null : await exec.venueClock({});
    if (venue) {
      const today = nyDate(venue.venueNow);
      if (today !== input.date)
        throw ApplicationFailure.nonRetryable(
          `date: ${input.date} is not the venue's current trading day (${today}); a ${input.mode} session trades today only — replay a past day with --mode replay`,
          'ValidationError',
        );
    }
    const prep = await io.prepareSession({
      date: input.date,
      candidates: input.candidates,
      maxSymbols: input.maxSymbols ?? 100,
      maxBars: input.maxBars ?? null,
      grid: venue ? 'calendar' : 'stored',
    });
    const start = await io.sessionAnchors({
      account: input.account,
      mode: input.mode,
      date: input.date,
      equity: account.equity,
    });
    // a late start skips the bars that closed before it (the kernel warms up on them instead)
    const first = venue ? prep.barTimes.findIndex((t) => t + prep.barMs >= venue.venueNow) : 0;
    const nextBar = first < 0 ? prep.barTimes.length : first;
    state = {
      ...state,
      universe: prep.universe,
      barTimes: prep.barTimes,
      barMs: prep.barMs,
      dayEndsAt: prep.dayEndsAt,
      nextBar,
      tradeFrom: (prep.barTimes[nextBar] ?? 0) + prep.barMs,
      venue,
      account,
      start,
    };
    upsertSearchAttributes({ Symbols: symbolsForSearch(prep.universe) });
    // paper/live: the day's bars come from the market-data stream (one per account and day: a running one is kept)
    if (venue) await startDayStream(input, prep.universe);
    log.info('session prepared', {
      sessionId: input.sessionId,
      symbols: prep.universe.length,
      bars: prep.barTimes.length - nextBar,
    });
  }
  state = { ...state, runs: state.runs + 1 };
  // The venue, chosen once: a replayed day on the simulator, or a paper/live broker timed by the venue's clock
  // (read at the start: a simulator may run its day at another pace than the wall clock).
  const venue =
    state.venue === null
      ? replayVenue(input.sessionId, exec, clock, input.replayBarDelayMs ?? 0)
      : liveVenue(input.sessionId, exec, clock, input.settleMs ?? 0, state.venue);
  const ops: CycleOps = { io, exec, venue, algos: algoOps(input) };

  // ---- one cycle per bar ---------------------------------------------------------------------------------
  let cyclesThisRun = 0;
  while (state.nextBar < state.barTimes.length && !state.killed) {
    const barTs = state.barTimes[state.nextBar]!;
    if (await ops.venue.untilClose(barTs, state.barMs, () => state.killed)) break;
    await runCycle(ops, cell, input, barTs);
    cyclesThisRun++;
    await controls.flush(io);
    const lowered =
      input.continueAsNewAfterCycles !== undefined && cyclesThisRun >= input.continueAsNewAfterCycles;
    if (
      (workflowInfo().continueAsNewSuggested || lowered) &&
      state.nextBar < state.barTimes.length &&
      !state.killed
    ) {
      // Finish in-flight update handlers so no accepted control is lost, then carry plain JSON state.
      await condition(allHandlersFinished);
      await controls.flush(io);
      return continueAsNew<typeof tradingSessionWorkflow>({ ...input, carried: state });
    }
  }

  // ---- end of day / kill ---------------------------------------------------------------------------------
  if (state.killed) {
    await stopAlgos(ops, cell, input.sessionId, null, 'session killed');
    await exec.cancelOpenOrders({ reason: 'session killed' });
  }
  const account = await ops.venue.finalAccount(state.lastBarTs);
  state = { ...state, account, done: true, dailyPnl: round2(account.equity - state.start.equity) };
  await condition(allHandlersFinished);
  await controls.flush(io);
  await io.recordSessionReport({
    sessionId: input.sessionId,
    date: input.date,
    account: input.account,
    mode: input.mode,
    state,
  });
  if (!Number.isFinite(state.dailyPnl ?? NaN))
    throw ApplicationFailure.nonRetryable('dailyPnl: not finite', 'InvariantError');
  return sessionResult(input, state);

  /** Execution algorithms as child workflows that outlive a run of the session (it continues as new). */
  function algoOps(i: SessionInput): AlgoOps {
    return {
      async start(workflowId, algoInput) {
        await startChild(executionAlgoWorkflow, {
          workflowId,
          taskQueue: i.taskQueues?.io ?? TASK_QUEUES.io,
          args: [{ ...algoInput, taskQueues: i.taskQueues, activityTimeoutMs: i.activityTimeoutMs }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          searchAttributes: { SessionDate: [i.date], TradingMode: [i.mode], Account: [i.account] },
        });
      },
      async stop(workflowId, reason) {
        try {
          await getExternalWorkflowHandle(workflowId).signal(algoStopSignal, { reason });
        } catch (e) {
          // already finished: its done signal is on its way or has arrived
          log.info('algorithm already finished', { workflowId, error: String(e) });
        }
      },
      waitFor: (done, timeoutMs) => condition(done, timeoutMs),
      now: () => Date.now(),
    };
  }
}

/**
 * The operator's controls: handlers registered before the first await, so they work from the first workflow
 * task on (also across continue-as-new). Each validator rejects a control the session cannot take, before it is
 * accepted; accepted controls are logged in the state and written to the audit log after the cycle, with the
 * operator the control names and where Temporal recorded its sender (the update's id, the kill signal's ordinal).
 */
function registerControls(input: SessionInput, cell: StateCell) {
  type Pending = { action: string; detail: string; operator: string | null; ref: ControlRef; at: number };
  let pending: Pending[] = [];
  // The first run's start is audited like a control: who started the session is on its start event.
  if (!input.carried)
    pending.push({
      action: 'start',
      detail: `${input.mode} ${input.date} ${input.strategy?.name ?? 'default strategy'}`,
      operator: null,
      ref: { start: true },
      at: Date.now(),
    });
  let killSignals = 0;
  const modelNow = () => {
    const m = cell.get().modelId;
    return m !== undefined ? m : (input.modelId ?? null);
  };
  const status = (): SessionStatus => ({
    sessionId: input.sessionId,
    mode: input.mode,
    account: input.account,
    date: input.date,
    modelId: modelNow(),
    decidedBy: decidedBy(input.strategy ?? DEFAULT_STRATEGY, modelNow()),
    state: cell.get(),
  });
  const control = (
    patch: Partial<SessionState>,
    action: string,
    detail: string,
    operator: string | undefined,
    ref: ControlRef,
  ) => {
    cell.set(appendControl({ ...cell.get(), ...patch }, Date.now(), action, detail));
    pending.push({ action, detail, operator: operator?.trim() || null, ref, at: Date.now() });
    return status();
  };
  const updateRef = (): ControlRef => ({ updateId: currentUpdateInfo()?.id ?? 'unknown' });
  const checkOperator = (operator: unknown) => {
    if (operator === undefined) return;
    if (typeof operator !== 'string' || !operator.trim() || operator.length > 200)
      throw new Error('operator: must be a non-empty name of at most 200 characters, or left out');
  };
  const assertOpen = () => {
    const s = cell.get();
    if (s.killed || s.done) throw new Error('session: already ended');
  };
  const needReason = ({ reason, operator }: { reason?: string; operator?: string }) => {
    assertOpen();
    if (!reason?.trim()) throw new Error('reason: must not be empty');
    checkOperator(operator);
  };

  setHandler(statusQuery, status);
  setHandler(
    pauseUpdate,
    ({ reason, operator }) => control({ paused: true }, 'pause', reason, operator, updateRef()),
    {
      validator: (args) => {
        needReason(args);
        if (cell.get().paused) throw new Error('session: already paused');
      },
    },
  );
  setHandler(
    resumeUpdate,
    ({ reason, operator }) => control({ paused: false }, 'resume', reason, operator, updateRef()),
    {
      validator: (args) => {
        needReason(args);
        const s = cell.get();
        if (!s.paused) throw new Error('session: not paused');
        if (s.riskState === 'HALTED')
          throw new Error('riskState: HALTED by the daily-loss breaker; a halted day cannot resume');
      },
    },
  );
  setHandler(
    setRiskLimitsUpdate,
    (patch, meta?: { operator?: string }) => {
      const s = cell.get();
      return control(
        { limits: { ...s.limits, ...patch }, limitsVersion: s.limitsVersion + 1 },
        'setRiskLimits',
        JSON.stringify(patch),
        meta?.operator,
        updateRef(),
      );
    },
    {
      validator: (patch, meta?: { operator?: string }) => {
        assertOpen();
        const problem = validateOperatorLimits(patch ?? {});
        if (problem) throw new Error(problem);
        checkOperator(meta?.operator);
      },
    },
  );
  setHandler(
    setModelUpdate,
    ({ modelId, reason, operator }) => {
      upsertSearchAttributes({ ModelId: [modelId] });
      return control({ modelId }, 'setModel', `${modelNow()} → ${modelId}: ${reason}`, operator, updateRef());
    },
    {
      validator: (args) => {
        needReason(args);
        if (typeof args.modelId !== 'string' || !/^[A-Za-z0-9._-]{1,200}$/.test(args.modelId))
          throw new Error('modelId: must be a registered model id (letters, digits, . _ -)');
        if (!modelNow())
          throw new Error(
            'modelId: this session trades no model; a session switches only from one model to another',
          );
        if (args.modelId === modelNow())
          throw new Error(`modelId: the session already trades ${args.modelId}`);
      },
    },
  );
  setHandler(
    liquidateUpdate,
    ({ reason, operator }) =>
      control({ liquidateRequested: true }, 'liquidate', reason, operator, updateRef()),
    { validator: (args) => needReason(args) },
  );
  // kill is a signal: durable even when no worker is up, acted on at the next workflow task. Its ordinal among
  // this run's kill signals finds its event (and sender) in the history.
  setHandler(killSignal, (args) => {
    const ordinal = ++killSignals;
    if (cell.get().killed) return;
    const operator = typeof args?.operator === 'string' ? args.operator : undefined;
    control({ killed: true }, 'kill', args?.reason || 'no reason given', operator, {
      signal: 'kill',
      ordinal,
    });
  });

  return {
    /** Writes the accepted controls to the audit log (after the cycle: an update never waits on an activity). */
    async flush(io: Pick<SessionActivities, 'recordControl'>): Promise<void> {
      const batch = pending;
      pending = [];
      const { workflowId, runId } = workflowInfo();
      for (const c of batch)
        await io.recordControl({
          sessionId: input.sessionId,
          action: c.action,
          detail: c.detail,
          workflowId,
          runId,
          operator: c.operator,
          ref: c.ref,
          atMs: c.at,
        });
    },
  };
}

/** The Symbols search attribute holds at most 2 KB: the first symbols that fit (all of a normal universe). */
function symbolsForSearch(universe: readonly string[]): string[] {
  const out: string[] = [];
  let bytes = 2;
  for (const s of universe) {
    bytes += s.length + 3;
    if (bytes > 1_900) break;
    out.push(s);
  }
  return out;
}
