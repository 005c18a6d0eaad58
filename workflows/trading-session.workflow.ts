import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  DEFAULT_SESSION_LIMITS,
  algoDoneSignal,
  algoStopSignal,
  killSignal,
  liquidateUpdate,
  pauseUpdate,
  resumeUpdate,
  setRiskLimitsUpdate,
  statusQuery,
  validateExecutionRouting,
  validateLimitsPatch,
  type ExecutionActivities,
  type SessionActivities,
  type SessionInput,
  type SessionResult,
  type SessionState,
  type SessionStatus,
} from '../contracts/session';
import { TASK_QUEUES } from '../contracts/task-queues';
import { executionAlgoWorkflow } from './exec-algo.workflow';
import { appendControl, reconciledOpenedAt } from '../src/session/cycle';
import {
  applySnapshot,
  initialSessionState,
  round2,
  runCycle,
  sessionResult,
  stopAlgos,
  type AlgoOps,
  type CycleOps,
  type StateCell,
} from '../src/session/cycle-runner';

/**
 * One trading day for one account: pre-open reconciliation and universe selection, then one cycle per bar
 * (timer → decide on io → risk in the workflow → submit on execution with deterministic client order ids →
 * sync), controls (pause/resume/setRiskLimits/liquidate updates with validators, kill signal, status query),
 * end-of-day flatten and report; continue-as-new carries plain JSON state.
 */
export async function tradingSessionWorkflow(input: SessionInput): Promise<SessionResult> {
  const info = workflowInfo();
  // Queues come from the input so tests and multi-tenant deployments can isolate them; defaults are the
  // production queues.
  const io = proxyActivities<SessionActivities>({
    taskQueue: input.taskQueues?.io ?? TASK_QUEUES.io,
    startToCloseTimeout: input.activityTimeoutMs ?? 30_000,
    retry: { initialInterval: '200 ms', backoffCoefficient: 2, maximumInterval: '5 seconds' },
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
  let state: SessionState =
    input.carried ?? initialSessionState({ ...DEFAULT_SESSION_LIMITS, ...(input.limits ?? {}) });
  // state carried by a run from before execution algorithms has none in flight
  if (!state.algos) state = { ...state, algos: [] };
  let pendingControls: Array<{ action: string; detail: string }> = [];

  const status = (): SessionStatus => ({
    sessionId: input.sessionId,
    mode: input.mode,
    account: input.account,
    date: input.date,
    modelId: input.modelId ?? null,
    state,
  });
  const control = (action: string, detail: string) => {
    state = appendControl(state, Date.now(), action, detail);
    pendingControls.push({ action, detail });
  };

  // ---- handlers first: controls work from the first workflow task on, also across continue-as-new ----------
  setHandler(statusQuery, status);
  setHandler(
    pauseUpdate,
    ({ reason }) => {
      state = { ...state, paused: true };
      control('pause', reason);
      return status();
    },
    {
      validator: ({ reason }) => {
        if (state.killed || state.done) throw new Error('session: already ended');
        if (state.paused) throw new Error('session: already paused');
        if (!reason?.trim()) throw new Error('reason: must not be empty');
      },
    },
  );
  setHandler(
    resumeUpdate,
    ({ reason }) => {
      state = { ...state, paused: false };
      control('resume', reason);
      return status();
    },
    {
      validator: ({ reason }) => {
        if (state.killed || state.done) throw new Error('session: already ended');
        if (!state.paused) throw new Error('session: not paused');
        if (state.riskState === 'HALTED')
          throw new Error('riskState: HALTED by the daily-loss breaker; a halted day cannot resume');
        if (!reason?.trim()) throw new Error('reason: must not be empty');
      },
    },
  );
  setHandler(
    setRiskLimitsUpdate,
    (patch) => {
      state = { ...state, limits: { ...state.limits, ...patch }, limitsVersion: state.limitsVersion + 1 };
      control('setRiskLimits', JSON.stringify(patch));
      return status();
    },
    {
      validator: (patch) => {
        if (state.killed || state.done) throw new Error('session: already ended');
        const problem = validateLimitsPatch(patch ?? {});
        if (problem) throw new Error(problem);
      },
    },
  );
  setHandler(
    liquidateUpdate,
    ({ reason }) => {
      state = { ...state, liquidateRequested: true };
      control('liquidate', reason);
      return status();
    },
    {
      validator: ({ reason }) => {
        if (state.killed || state.done) throw new Error('session: already ended');
        if (!reason?.trim()) throw new Error('reason: must not be empty');
      },
    },
  );
  // kill is a signal: durable even when no worker is up, acted on at the next workflow task.
  setHandler(killSignal, ({ reason }) => {
    if (state.killed) return;
    state = { ...state, killed: true };
    control('kill', reason || 'no reason given');
  });

  const flushControls = async () => {
    const batch = pendingControls;
    pendingControls = [];
    for (const c of batch)
      await io.recordControl({
        sessionId: input.sessionId,
        action: c.action,
        detail: c.detail,
        workflowId: info.workflowId,
        runId: info.runId,
      });
  };
  setHandler(algoDoneSignal, ({ parentId }) => {
    state = { ...state, algos: state.algos.filter((a) => a.parentId !== parentId) };
  });

  const cell: StateCell = { get: () => state, set: (next) => (state = next) };
  const routingProblem = validateExecutionRouting(input.execution ?? {});
  if (routingProblem) throw ApplicationFailure.nonRetryable(routingProblem, 'ValidationError');
  const algos: AlgoOps = {
    async start(workflowId, algoInput) {
      await startChild(executionAlgoWorkflow, {
        workflowId,
        taskQueue: input.taskQueues?.io ?? TASK_QUEUES.io,
        args: [{ ...algoInput, taskQueues: input.taskQueues, activityTimeoutMs: input.activityTimeoutMs }],
        // the session continues as new and stops its algorithms itself: they must outlive a run of it
        parentClosePolicy: ParentClosePolicy.ABANDON,
        searchAttributes: {
          SessionDate: [input.date],
          Mode: [input.mode],
          Account: [input.account],
        },
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
  // (patched: a session started before execution algorithms existed goes on sending every order at once)
  const ops: CycleOps = { io, exec, ...(patched('session-exec-algos') ? { algos } : {}) };

  // ---- pre-open (first run only) -------------------------------------------------------------------------
  if (!input.carried) {
    upsertSearchAttributes({
      SessionDate: [input.date],
      Mode: [input.mode],
      Account: [input.account],
      ...(input.modelId ? { ModelId: [input.modelId] } : {}),
    });
    const prep = await io.prepareSession({
      date: input.date,
      candidates: input.candidates,
      maxSymbols: input.maxSymbols ?? 100,
      maxBars: input.maxBars ?? null,
    });
    const recon = await exec.reconcile({ sessionId: input.sessionId });
    state = {
      ...state,
      universe: prep.universe,
      barTimes: prep.barTimes,
      barMs: prep.barMs,
      positions: recon.positions,
      openOrders: recon.orders,
      openedAt: reconciledOpenedAt(recon.positions),
      equity: recon.equity,
      cash: recon.cash,
      buyingPower: recon.buyingPower,
      startEquity: recon.equity,
      peakEquity: recon.equity,
    };
    upsertSearchAttributes({ Symbols: symbolsForSearch(prep.universe) });
    log.info('session prepared', {
      sessionId: input.sessionId,
      symbols: prep.universe.length,
      bars: prep.barTimes.length,
    });
  }
  state = { ...state, runs: state.runs + 1 };

  // ---- one cycle per bar ---------------------------------------------------------------------------------
  let cyclesThisRun = 0;
  while (state.nextBar < state.barTimes.length && !state.killed) {
    const barTs = state.barTimes[state.nextBar]!;
    // Timer to the bar's close plus a settle delay (workflow time), or the replay's pace. Replay with no delay
    // skips the timer: the server fires timers with about one second of granularity.
    const wait =
      input.mode === 'replay'
        ? (input.replayBarDelayMs ?? 0)
        : barTs + state.barMs + (input.settleMs ?? 2_000) - Date.now();
    if (wait > 0) await condition(() => state.killed, wait);
    if (state.killed) break;
    await runCycle(ops, cell, input, barTs);
    cyclesThisRun++;
    await flushControls();

    const lowered =
      input.continueAsNewAfterCycles !== undefined && cyclesThisRun >= input.continueAsNewAfterCycles;
    if (
      (workflowInfo().continueAsNewSuggested || lowered) &&
      state.nextBar < state.barTimes.length &&
      !state.killed
    ) {
      // Finish in-flight update handlers so no accepted control is lost, then carry plain JSON state.
      await condition(allHandlersFinished);
      await flushControls();
      return continueAsNew<typeof tradingSessionWorkflow>({ ...input, carried: state });
    }
  }

  // ---- end of day / kill ---------------------------------------------------------------------------------
  if (state.killed) {
    await stopAlgos(ops, cell, input.sessionId, null, 'session killed');
    await exec.cancelOpenOrders({ reason: 'session killed' });
  } else if (input.mode === 'replay' && state.lastBarTs !== null) {
    await exec.advanceReplay({ untilTs: state.barTimes[state.barTimes.length - 1]! });
  }
  applySnapshot(
    cell,
    await exec.syncPortfolio({ sessionId: input.sessionId, advanceReplayTo: null }),
    state.lastBarTs === null ? 0 : state.lastBarTs + state.barMs,
  );
  state = { ...state, done: true, dailyPnl: round2(state.equity - state.startEquity) };
  await condition(allHandlersFinished);
  await flushControls();
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
