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
import { FNV1A64_EMPTY, RESERVED_SEQ, foldOrderList } from '../model/client-order-id';
import { breakerStep, flattenOrders, riskStep, strategyOpenOrders, withSnapshot } from './cycle';
import { unpackCommands } from './packed-commands';

/**
 * One bar's cycle, shared by the TradingSession workflow (ops = activity proxies) and tests that drive it
 * in process (ops = the same activity implementations called directly). Deterministic given the ops'
 * answers, free of Node and Temporal imports, so the workflow bundle can include it.
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

/** The broker's portfolio at the start of bar `barTs` into the state (positions, equity, day trades, stops). */
export function applySnapshot(cell: StateCell, snap: PortfolioSnapshot, barTs: number): void {
  cell.set(withSnapshot(cell.get(), snap, barTs));
}

/**
 * Submits the orders and folds every one the broker was asked to place into the order-list hash (the
 * backtester hashes its submits the same way, broker rejections included).
 */
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
  const s = cell.get();
  let hash = s.orderHash;
  for (const o of orders) hash = foldOrderList(hash, hash === FNV1A64_EMPTY ? 0 : 1, o);
  const placed = orders.filter((o) => ok.has(o.clientOrderId)).length;
  cell.set({
    ...s,
    ordersPlaced: s.ordersPlaced + placed,
    orderHash: hash,
    deniedCount: s.deniedCount + (orders.length - placed),
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
    applySnapshot(cell, pre.snapshot, barTs);
  } else {
    applySnapshot(
      cell,
      await ops.exec.syncPortfolio({
        sessionId: input.sessionId,
        advanceReplayTo: input.mode === 'replay' ? barTs : null,
      }),
      barTs,
    );
  }
  const s = cell.get();
  const at = barTs + s.barMs; // the decision time: this bar's close, as in a backtest
  const nextBarTs = input.mode === 'replay' ? (s.barTimes[s.nextBar + 1] ?? null) : null;
  const closing = s.liquidateRequested || s.nextBar >= flattenIndex(s, input);
  // Loss breakers first (as in the backtester): the strategy then sees their flatten orders as open.
  const breaker = closing ? null : breakerStep(input.sessionId, s, at);
  const openOrders = breaker ? breaker.openOrders : s.openOrders;
  // The strategy sees every bar, paused or not, so its indicators and bookkeeping match a backtest's.
  const decided = await ops.io.decideCycle({
    sessionId: input.sessionId,
    date: input.date,
    barTs,
    barMs: s.barMs,
    prevDecisionTs: s.lastDecisionTs,
    symbols: s.universe,
    portfolio: {
      equity: s.equity,
      cash: s.cash,
      buyingPower: s.buyingPower,
      peakEquity: s.peakEquity,
      positions: s.positions.map((p) => ({
        symbol: p.symbol,
        qty: p.qty,
        avgPrice: p.avgEntryPrice,
        openedAt: s.openedAt[p.symbol] ?? 0,
      })),
      openOrders: strategyOpenOrders(openOrders),
    },
    strategy: input.strategy ?? DEFAULT_STRATEGY,
    seed: input.seed ?? 1,
    limits: s.limits,
    modelId: input.modelId ?? null,
  });
  // Risk on the state as it is now: a limit changed or a pause sent during the decide call applies to this bar.
  const now = { ...cell.get(), lastDecisionTs: at, openOrders };
  cell.set(now);
  if (!breaker) {
    const endOfDay = !now.liquidateRequested;
    const seq = endOfDay ? RESERVED_SEQ.endOfDay : RESERVED_SEQ.liquidate;
    const reason = endOfDay ? 'end of day flatten' : 'liquidate requested';
    const orders = flattenOrders(input.sessionId, at, now.positions, seq, reason);
    if (orders.length || now.openOrders.length) await ops.exec.cancelOpenOrders({ reason });
    await submitPlanned(ops, cell, input.sessionId, orders, nextBarTs);
  } else {
    const step = riskStep({
      state: now,
      at,
      decided: { ...decided, commands: unpackCommands(decided.commands) },
    });
    const paused = cell.get().paused;
    cell.set({
      ...cell.get(),
      riskState: step.mode,
      riskReason: step.reason,
      riskStops: paused ? now.riskStops : step.riskStops,
      deniedCount: now.deniedCount + step.denied.length,
    });
    // A breaker's flatten goes out even while paused; the strategy's orders only when not paused.
    const batches = [breaker.batch, ...(paused ? [] : [step.batch])].filter(
      (b) => b.orders.length || b.cancelSymbols.length,
    );
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      if (b.cancelSymbols.length)
        await ops.exec.cancelOpenOrders({ reason: 'replaced by a flatten', symbols: b.cancelSymbols });
      await submitPlanned(ops, cell, input.sessionId, b.orders, i === batches.length - 1 ? nextBarTs : null);
    }
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
    riskReason: 'start of day',
    limits,
    limitsVersion: 0,
    positions: [],
    openOrders: [],
    startEquity: 0,
    equity: 0,
    cash: 0,
    buyingPower: 0,
    peakEquity: 0,
    openedAt: {},
    dayTrades: 0,
    riskStops: {},
    lastDecisionTs: null,
    lastBarTs: null,
    ordersPlaced: 0,
    orderHash: FNV1A64_EMPTY,
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
