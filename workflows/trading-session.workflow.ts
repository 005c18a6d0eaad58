import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  DEFAULT_SESSION_LIMITS,
  DEFAULT_STRATEGY,
  killSignal,
  liquidateUpdate,
  pauseUpdate,
  resumeUpdate,
  setRiskLimitsUpdate,
  statusQuery,
  validateLimitsPatch,
  type ExecutionActivities,
  type PlannedOrder,
  type PortfolioSnapshot,
  type SessionActivities,
  type SessionInput,
  type SessionResult,
  type SessionState,
  type SessionStatus,
} from '../contracts/session';
import { TASK_QUEUES } from '../contracts/task-queues';
import { EMPTY_ORDER_HASH, SEQ, appendControl, flattenOrders, foldOrderHash, nextRiskState, planCycleOrders } from '../src/session/cycle';

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
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '200 ms', backoffCoefficient: 2, maximumInterval: '5 seconds' },
  });
  const exec = proxyActivities<ExecutionActivities>({
    taskQueue: input.taskQueues?.execution ?? TASK_QUEUES.execution,
    startToCloseTimeout: '30 seconds',
    heartbeatTimeout: '20 seconds',
    retry: {
      initialInterval: '200 ms',
      backoffCoefficient: 2,
      maximumInterval: '5 seconds',
      nonRetryableErrorTypes: ['OrderRejectedError', 'PermanentError', 'ConfigError', 'ValidationError'],
    },
  });
  const strategy = input.strategy ?? DEFAULT_STRATEGY;
  let state: SessionState = input.carried ?? initialState(input);
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
        if (state.riskState === 'HALTED') throw new Error('riskState: HALTED by the daily-loss breaker; a halted day cannot resume');
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
    for (const c of batch) await io.recordControl({ sessionId: input.sessionId, action: c.action, detail: c.detail, workflowId: info.workflowId, runId: info.runId });
  };
  const applySnapshot = (snap: PortfolioSnapshot) => {
    state = { ...state, positions: snap.positions, equity: snap.equity, riskState: nextRiskState(state.riskState, state.startEquity, snap.equity, state.limits) };
  };
  const submit = async (orders: PlannedOrder[]) => {
    if (!orders.length) return;
    const acks = await exec.submitOrders({ sessionId: input.sessionId, orders });
    const placed = orders.filter((o) => acks.find((a) => a.clientOrderId === o.clientOrderId && !a.rejected));
    state = { ...state, ordersPlaced: state.ordersPlaced + placed.length, orderHash: foldOrderHash(state.orderHash, placed), deniedCount: state.deniedCount + (orders.length - placed.length) };
  };

  // ---- pre-open (first run only) -------------------------------------------------------------------------
  if (!input.carried) {
    upsertSearchAttributes({ SessionDate: [input.date], Mode: [input.mode], Account: [input.account], ...(input.modelId ? { ModelId: [input.modelId] } : {}) });
    const prep = await io.prepareSession({ date: input.date, candidates: input.candidates, maxSymbols: input.maxSymbols ?? 100, maxBars: input.maxBars ?? null });
    const recon = await exec.reconcile({ sessionId: input.sessionId });
    state = { ...state, universe: prep.universe, barTimes: prep.barTimes, barMs: prep.barMs, positions: recon.positions, equity: recon.equity, startEquity: recon.equity };
    upsertSearchAttributes({ Symbols: [...prep.universe] });
    log.info('session prepared', { sessionId: input.sessionId, symbols: prep.universe.length, bars: prep.barTimes.length });
  }
  state = { ...state, runs: state.runs + 1 };

  // ---- one cycle per bar ---------------------------------------------------------------------------------
  const flattenAt = Math.max(0, state.barTimes.length - 1 - (input.flattenBarsBeforeClose ?? 2));
  let cyclesThisRun = 0;
  while (state.nextBar < state.barTimes.length && !state.killed) {
    const barTs = state.barTimes[state.nextBar]!;
    // Timer to the bar's close plus a settle delay (workflow time), or the replay's accelerated pace.
    // Replay with no delay skips the timer: the server fires timers with ~1 s granularity.
    const wait = input.mode === 'replay' ? (input.replayBarDelayMs ?? 0) : barTs + state.barMs + (input.settleMs ?? 2_000) - Date.now();
    if (wait > 0) await condition(() => state.killed, wait);
    if (state.killed) break;
    // Replay: the simulator plays the bar (fills from the previous cycle happen here) in the same call.
    applySnapshot(await exec.syncPortfolio({ sessionId: input.sessionId, advanceReplayTo: input.mode === 'replay' ? barTs : null }));

    const endOfDay = state.nextBar >= flattenAt;
    if (state.riskState === 'HALTED' || state.liquidateRequested || endOfDay) {
      const seq = endOfDay ? SEQ.endOfDay : SEQ.liquidate;
      const reason = endOfDay ? 'end of day flatten' : state.liquidateRequested ? 'liquidate requested' : 'daily loss breaker';
      const orders = flattenOrders(input.sessionId, barTs, state.positions, seq, reason);
      if (orders.length) await exec.cancelOpenOrders({ reason });
      await submit(orders);
    } else if (!state.paused) {
      const decisions = await io.decideCycle({
        sessionId: input.sessionId,
        barTs,
        barMs: state.barMs,
        symbols: state.universe,
        positions: state.positions,
        equity: state.equity,
        strategy,
        modelId: input.modelId ?? null,
      });
      const plan = planCycleOrders({ sessionId: input.sessionId, barTs, decisions, positions: state.positions, equity: state.equity, limits: state.limits, riskState: state.riskState });
      state = { ...state, deniedCount: state.deniedCount + plan.denied.length };
      await submit(plan.orders);
    }
    state = { ...state, nextBar: state.nextBar + 1, lastBarTs: barTs, cycles: state.cycles + 1 };
    cyclesThisRun++;
    await flushControls();

    const lowered = input.continueAsNewAfterCycles !== undefined && cyclesThisRun >= input.continueAsNewAfterCycles;
    if ((workflowInfo().continueAsNewSuggested || lowered) && state.nextBar < state.barTimes.length && !state.killed) {
      // Finish in-flight update handlers so no accepted control is lost, then carry plain JSON state.
      await condition(allHandlersFinished);
      await flushControls();
      return continueAsNew<typeof tradingSessionWorkflow>({ ...input, carried: state });
    }
  }

  // ---- end of day / kill ---------------------------------------------------------------------------------
  if (state.killed) {
    await exec.cancelOpenOrders({ reason: 'session killed' });
  } else if (input.mode === 'replay' && state.lastBarTs !== null) {
    await exec.advanceReplay({ untilTs: state.barTimes[state.barTimes.length - 1]! });
  }
  applySnapshot(await exec.syncPortfolio({ sessionId: input.sessionId }));
  state = { ...state, done: true, dailyPnl: round2(state.equity - state.startEquity) };
  await condition(allHandlersFinished);
  await flushControls();
  await io.recordSessionReport({ sessionId: input.sessionId, date: input.date, account: input.account, mode: input.mode, state });
  if (!Number.isFinite(state.dailyPnl ?? NaN)) throw ApplicationFailure.nonRetryable('dailyPnl: not finite', 'InvariantError');
  return {
    sessionId: input.sessionId,
    ordersPlaced: state.ordersPlaced,
    orderHash: state.orderHash,
    dailyPnl: state.dailyPnl ?? 0,
    finalPositions: state.positions,
    killed: state.killed,
    runs: state.runs,
  };
}

function initialState(input: SessionInput): SessionState {
  return {
    universe: [],
    barTimes: [],
    barMs: 60_000,
    nextBar: 0,
    paused: false,
    killed: false,
    liquidateRequested: false,
    riskState: 'ACTIVE',
    limits: { ...DEFAULT_SESSION_LIMITS, ...(input.limits ?? {}) },
    limitsVersion: 0,
    positions: [],
    startEquity: 0,
    equity: 0,
    lastBarTs: null,
    ordersPlaced: 0,
    orderHash: EMPTY_ORDER_HASH,
    deniedCount: 0,
    runs: 0,
    cycles: 0,
    controls: [],
    done: false,
    dailyPnl: null,
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
