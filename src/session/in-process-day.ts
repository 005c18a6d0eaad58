import {
  DEFAULT_SESSION_LIMITS,
  type ExecutionActivities,
  type SessionActivities,
  type SessionInput,
  type SessionResult,
  type SessionState,
} from '../../contracts/session';
import { initialSessionState, round2, runCycle, sessionResult, type StateCell } from './cycle-runner';

/**
 * Runs a whole session day in process, with no Temporal: the same prepare → reconcile → per-bar cycle →
 * end-of-day code the workflow runs, over directly called activity implementations. This is the backtest
 * side of the parity check (same strategy, model and risk settings → same order-list hash).
 */
export async function runSessionDayInProcess(
  input: SessionInput,
  io: Pick<SessionActivities, 'prepareSession' | 'decideCycle'>,
  exec: Pick<
    ExecutionActivities,
    'reconcile' | 'syncPortfolio' | 'submitOrders' | 'cancelOpenOrders' | 'advanceReplay'
  >,
): Promise<SessionResult> {
  let state: SessionState = initialSessionState({ ...DEFAULT_SESSION_LIMITS, ...(input.limits ?? {}) });
  const cell: StateCell = { get: () => state, set: (s) => (state = s) };
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
    equity: recon.equity,
    startEquity: recon.equity,
    runs: 1,
  };
  while (state.nextBar < state.barTimes.length)
    await runCycle({ io, exec }, cell, input, state.barTimes[state.nextBar]!);
  if (input.mode === 'replay' && state.barTimes.length)
    await exec.advanceReplay({ untilTs: state.barTimes[state.barTimes.length - 1]! });
  const snap = await exec.syncPortfolio({ sessionId: input.sessionId, advanceReplayTo: null });
  state = {
    ...state,
    positions: snap.positions,
    equity: snap.equity,
    done: true,
    dailyPnl: round2(snap.equity - state.startEquity),
  };
  return sessionResult(input, state);
}
