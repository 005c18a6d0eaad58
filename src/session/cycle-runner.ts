import {
  DEFAULT_STRATEGY,
  type ExecutionActivities,
  type PlannedOrder,
  type PortfolioSnapshot,
  type SessionActivities,
  type SessionInput,
  type SessionResult,
  type SessionState,
} from '../../contracts/session';
import {
  EMPTY_ORDER_HASH,
  SEQ,
  checkWithRiskEngine,
  flattenOrders,
  foldOrderHash,
  nextRiskState,
  planCycleOrders,
} from './cycle';

/**
 * One bar's cycle, shared by the TradingSession workflow (ops = activity proxies) and the in-process day
 * runner (ops = the same activity implementations called directly). Deterministic given the ops' answers,
 * free of Node and Temporal imports, so the workflow bundle can include it.
 *
 * State goes through a cell rather than a parameter: update handlers may change it (pause, limits) while an
 * activity is in flight, and the cycle must see and keep those changes.
 */
export interface CycleOps {
  readonly io: Pick<SessionActivities, 'decideCycle'>;
  readonly exec: Pick<ExecutionActivities, 'syncPortfolio' | 'submitOrders' | 'cancelOpenOrders'>;
}

export interface StateCell {
  get(): SessionState;
  set(next: SessionState): void;
}

export function applySnapshot(cell: StateCell, snap: PortfolioSnapshot): void {
  const s = cell.get();
  cell.set({
    ...s,
    positions: snap.positions,
    equity: snap.equity,
    buyingPower: snap.buyingPower,
    riskState: nextRiskState(s.riskState, s.startEquity, snap.equity, s.limits),
  });
}

export async function submitPlanned(
  ops: CycleOps,
  cell: StateCell,
  sessionId: string,
  orders: PlannedOrder[],
  nextBarTs: number | null = null,
): Promise<void> {
  if (!orders.length) return;
  const { acks, portfolio } = await ops.exec.submitOrders({ sessionId, orders, advanceReplayTo: nextBarTs });
  const ok = new Set(acks.filter((a) => !a.rejected).map((a) => a.clientOrderId));
  const placed = orders.filter((o) => ok.has(o.clientOrderId));
  const s = cell.get();
  cell.set({
    ...s,
    ordersPlaced: s.ordersPlaced + placed.length,
    orderHash: foldOrderHash(s.orderHash, placed),
    deniedCount: s.deniedCount + (orders.length - placed.length),
    prefetched: portfolio && nextBarTs !== null ? { barTs: nextBarTs, snapshot: portfolio } : null,
  });
}

/** Index of the bar at which intraday positions are flattened (their orders fill on the next bar). */
export function flattenIndex(state: SessionState, input: SessionInput): number {
  return Math.max(0, state.barTimes.length - 1 - (input.flattenBarsBeforeClose ?? 2));
}

export async function runCycle(
  ops: CycleOps,
  cell: StateCell,
  input: SessionInput,
  barTs: number,
): Promise<void> {
  // Replay: the simulator plays this bar first (fills of the previous cycle's orders happen here) — already done
  // by the previous cycle's submit call when it placed orders, else now.
  const pre = cell.get().prefetched;
  if (pre && pre.barTs === barTs) {
    cell.set({ ...cell.get(), prefetched: null });
    applySnapshot(cell, pre.snapshot);
  } else {
    applySnapshot(
      cell,
      await ops.exec.syncPortfolio({
        sessionId: input.sessionId,
        advanceReplayTo: input.mode === 'replay' ? barTs : null,
      }),
    );
  }
  const s = cell.get();
  const nextBarTs = input.mode === 'replay' ? (s.barTimes[s.nextBar + 1] ?? null) : null;
  const endOfDay = s.nextBar >= flattenIndex(s, input);
  if (s.riskState === 'HALTED' || s.liquidateRequested || endOfDay) {
    const seq = endOfDay ? SEQ.endOfDay : SEQ.liquidate;
    const reason = endOfDay
      ? 'end of day flatten'
      : s.liquidateRequested
        ? 'liquidate requested'
        : 'daily loss breaker';
    const orders = flattenOrders(input.sessionId, barTs, s.positions, seq, reason);
    if (orders.length) await ops.exec.cancelOpenOrders({ reason });
    await submitPlanned(ops, cell, input.sessionId, orders, nextBarTs);
  } else if (!s.paused) {
    const decisions = await ops.io.decideCycle({
      sessionId: input.sessionId,
      barTs,
      barMs: s.barMs,
      symbols: s.universe,
      positions: s.positions,
      equity: s.equity,
      strategy: input.strategy ?? DEFAULT_STRATEGY,
      modelId: input.modelId ?? null,
    });
    // Risk gate on the state as it is now: a limit changed during the decide call applies to this bar.
    const now = cell.get();
    const planned = planCycleOrders({
      sessionId: input.sessionId,
      barTs,
      decisions,
      positions: now.positions,
      equity: now.equity,
      limits: now.limits,
      riskState: now.riskState,
    });
    // Then the shared risk engine (src/risk), the same one the backtester runs, order by order.
    const checked = checkWithRiskEngine(planned.orders, {
      barTs,
      barMs: now.barMs,
      equity: now.equity,
      buyingPower: now.buyingPower,
      startEquity: now.startEquity,
      positions: now.positions,
      limits: now.limits,
      riskState: now.riskState,
      dataTs: decisions.map((d) => d.symbol),
    });
    const plan = { orders: checked.orders, denied: [...planned.denied, ...checked.denied] };
    cell.set({ ...now, deniedCount: now.deniedCount + plan.denied.length });
    if (!cell.get().paused) await submitPlanned(ops, cell, input.sessionId, plan.orders, nextBarTs);
  }
  // Replay: every cycle ends by playing the next bar. A submit call already did it; a cycle without orders does
  // it here, so the next cycle starts from a fresh portfolio without an extra round trip.
  if (nextBarTs !== null && cell.get().prefetched?.barTs !== nextBarTs) {
    const snapshot = await ops.exec.syncPortfolio({ sessionId: input.sessionId, advanceReplayTo: nextBarTs });
    cell.set({ ...cell.get(), prefetched: { barTs: nextBarTs, snapshot } });
  }
  const after = cell.get();
  cell.set({ ...after, nextBar: after.nextBar + 1, lastBarTs: barTs, cycles: after.cycles + 1 });
}

export function initialSessionState(limits: SessionState['limits']): SessionState {
  return {
    universe: [],
    barTimes: [],
    barMs: 60_000,
    nextBar: 0,
    paused: false,
    killed: false,
    liquidateRequested: false,
    riskState: 'ACTIVE',
    limits,
    limitsVersion: 0,
    positions: [],
    startEquity: 0,
    equity: 0,
    buyingPower: 0,
    lastBarTs: null,
    ordersPlaced: 0,
    orderHash: EMPTY_ORDER_HASH,
    deniedCount: 0,
    runs: 0,
    cycles: 0,
    controls: [],
    done: false,
    dailyPnl: null,
    prefetched: null,
  };
}

export function sessionResult(input: SessionInput, s: SessionState): SessionResult {
  return {
    sessionId: input.sessionId,
    ordersPlaced: s.ordersPlaced,
    orderHash: s.orderHash,
    dailyPnl: s.dailyPnl ?? 0,
    finalPositions: s.positions,
    killed: s.killed,
    runs: s.runs,
  };
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
