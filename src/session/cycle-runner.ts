import {
  DEFAULT_STRATEGY,
  type ExecutionActivities,
  type ExecutionRouting,
  type PlannedOrder,
  type PortfolioSnapshot,
  type AlgoInFlight,
  type SessionActivities,
  type SessionInput,
  type SessionResult,
  type SessionState,
} from '../../contracts/session';
import type { ExecAlgoInput } from '../../contracts/exec-algo';
import {
  FNV1A64_EMPTY,
  MAX_ALGO_SLICES,
  RESERVED_SEQ,
  algoSliceSeq,
  foldOrderList,
  makeClientOrderId,
  parseClientOrderId,
} from '../model/client-order-id';
import {
  breakerStep,
  executionRouting,
  flattenOrders,
  riskStep,
  routesToAlgo,
  strategyOpenOrders,
  withSnapshot,
} from './cycle';
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
  readonly io: Pick<SessionActivities, 'decideCycle'> & Partial<Pick<SessionActivities, 'algoVolumeCurve'>>;
  readonly exec: Pick<ExecutionActivities, 'syncPortfolio' | 'submitOrders' | 'cancelOpenOrders'>;
  /** execution algorithms (child workflows in the session); without them every order is sent at once */
  readonly algos?: AlgoOps;
}

/** What the cycle needs to run execution algorithms; the workflow implements it with child workflows. */
export interface AlgoOps {
  /** starts the algorithm (idempotent by workflow id); it signals algoDone when it ends */
  start(workflowId: string, input: ExecAlgoInput): Promise<void>;
  /** asks it to send no more slices */
  stop(workflowId: string, reason: string): Promise<void>;
  /** waits (workflow time) until `done()` or the timeout; true when done */
  waitFor(done: () => boolean, timeoutMs: number): Promise<boolean>;
  /** workflow time, ms */
  now(): number;
}

/** How long a session waits for stopped algorithms to confirm before it cancels and flattens anyway. */
export const ALGO_STOP_WAIT_MS = 30_000;

/**
 * Stops the algorithms working `symbols` (all when null), waits until each has confirmed (algoDone) so no
 * further slice can reach the broker, then cancels their slices still working; returns how many it stopped.
 * One that does not confirm in time is dropped from the state anyway: the cancel catches a late slice.
 */
export async function stopAlgos(
  ops: CycleOps,
  cell: StateCell,
  sessionId: string,
  symbols: readonly string[] | null,
  reason: string,
): Promise<number> {
  const hit = cell.get().algos.filter((a) => symbols === null || symbols.includes(a.symbol));
  return endAlgos(ops, cell, sessionId, hit, reason, ALGO_STOP_WAIT_MS);
}

/**
 * An algorithm that has not confirmed its end by its deadline (its worker down for long, its workflow failed)
 * is not waited on forever: it is told to stop and its working slices are canceled, so one that wakes up later
 * cannot add to a position the session no longer counts as pending. No wait: its confirmation is not expected.
 */
export async function expireAlgos(ops: CycleOps, cell: StateCell, sessionId: string): Promise<number> {
  if (!ops.algos) return 0;
  const t = ops.algos.now();
  const expired = cell.get().algos.filter((a) => a.until <= t);
  return endAlgos(ops, cell, sessionId, expired, 'no algoDone by its deadline', 0);
}

/** Signals `algoStop` to each, waits up to `waitMs` for their algoDone, forgets them and cancels their slices. */
async function endAlgos(
  ops: CycleOps,
  cell: StateCell,
  sessionId: string,
  hit: readonly AlgoInFlight[],
  reason: string,
  waitMs: number,
): Promise<number> {
  if (!hit.length || !ops.algos) return 0;
  for (const a of hit) await ops.algos.stop(a.workflowId, reason);
  const ids = new Set(hit.map((a) => a.workflowId));
  if (waitMs > 0) await ops.algos.waitFor(() => !cell.get().algos.some((a) => ids.has(a.workflowId)), waitMs);
  const s = cell.get();
  cell.set({ ...s, algos: s.algos.filter((a) => !ids.has(a.workflowId)) });
  // A slice already working (a marketable limit not yet filled) would still add exposure: cancel it too.
  const slices = hit.flatMap((a) => sliceIds(sessionId, a));
  if (slices.length) await ops.exec.cancelOpenOrders({ reason, clientOrderIds: slices });
  return hit.length;
}

/** Every client order id an algorithm may have used for its slices (they are deterministic). */
export function sliceIds(sessionId: string, a: AlgoInFlight): string[] {
  const p = parseClientOrderId(a.parentId);
  if (!p) return [];
  const out: string[] = [];
  for (let i = 0; i < Math.min(a.slices, MAX_ALGO_SLICES); i++)
    out.push(
      makeClientOrderId({
        session: sessionId,
        barTs: p.barTs,
        symbol: a.symbol,
        seq: algoSliceSeq(p.seq, i),
      }),
    );
  return out;
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
  algo?: { readonly ids: ReadonlySet<string>; readonly routing: Required<ExecutionRouting> },
): Promise<void> {
  if (!orders.length) return;
  const toAlgo = (o: PlannedOrder) =>
    ops.algos !== undefined && algo !== undefined && algo.ids.has(o.clientOrderId);
  const direct = orders.filter((o) => !toAlgo(o));
  // the orders sent at once first (a flip's exit leg before the algorithm's first slice of its entry leg)
  const { acks, portfolio } = direct.length
    ? await ops.exec.submitOrders({ sessionId, orders: direct, advanceReplayTo: nextBarTs })
    : { acks: [], portfolio: null };
  let started = 0;
  for (const o of orders)
    if (toAlgo(o)) {
      await startAlgo(ops, cell, sessionId, o, algo!.routing);
      started++;
    }
  const ok = new Set(acks.filter((a) => !a.rejected).map((a) => a.clientOrderId));
  const s = cell.get();
  // every approved order in the strategy's order, the ones an algorithm works included (as one order each)
  let hash = s.orderHash;
  for (const o of orders) hash = foldOrderList(hash, hash === FNV1A64_EMPTY ? 0 : 1, o);
  const placed = direct.filter((o) => ok.has(o.clientOrderId)).length + started;
  cell.set({
    ...s,
    ordersPlaced: s.ordersPlaced + placed,
    orderHash: hash,
    deniedCount: s.deniedCount + (orders.length - placed),
    prefetched: portfolio && nextBarTs !== null ? { barTs: nextBarTs, snapshot: portfolio } : null,
  });
}

/** Hands an approved entry to an execution algorithm (a child workflow with a deterministic id). */
async function startAlgo(
  ops: CycleOps,
  cell: StateCell,
  sessionId: string,
  o: PlannedOrder,
  r: Required<ExecutionRouting>,
): Promise<void> {
  const algos = ops.algos!;
  const parts = parseClientOrderId(o.clientOrderId);
  const decidedAt = parts?.barTs ?? algos.now();
  const curve =
    r.algo === 'vwap' && ops.io.algoVolumeCurve
      ? await ops.io.algoVolumeCurve({
          symbol: o.symbol,
          fromTs: decidedAt,
          slices: r.slices,
          // volume is known per bar: a slice shorter than a bar (replay's wall-clock pacing) is shaped per bar
          intervalMs: Math.max(r.intervalMs, cell.get().barMs),
          lookbackDays: r.volumeLookbackDays,
        })
      : undefined;
  const workflowId = `${sessionId}/algo/${o.clientOrderId}`;
  await algos.start(workflowId, {
    sessionId,
    decidedAt,
    symbol: o.symbol,
    side: o.side,
    qty: o.qty,
    algo: r.algo,
    slices: r.slices,
    intervalMs: r.intervalMs,
    ...(curve ? { volumeCurve: curve } : {}),
    arrivalPrice: o.refPrice,
    spreadBps: r.spreadBps,
    urgency: r.urgency,
    parentOrderId: o.clientOrderId,
  });
  const s = cell.get();
  const startQty = s.positions.find((p) => p.symbol === o.symbol)?.qty ?? 0;
  const until = algos.now() + (r.slices + 2) * r.intervalMs + ALGO_STOP_WAIT_MS;
  cell.set({
    ...s,
    algos: [
      ...s.algos,
      {
        workflowId,
        parentId: o.clientOrderId,
        symbol: o.symbol,
        side: o.side,
        qty: o.qty,
        startQty,
        slices: r.slices,
        until,
      },
    ],
  });
}

/**
 * A strategy's cancel of single orders. An order an execution algorithm works is its parent id: the algorithm is
 * stopped and every slice it may have sent is canceled (slice ids are deterministic).
 */
async function cancelByStrategy(
  ops: CycleOps,
  cell: StateCell,
  sessionId: string,
  ids: readonly string[],
): Promise<void> {
  const worked = cell.get().algos.filter((a) => ids.includes(a.parentId));
  for (const a of worked) await stopAlgos(ops, cell, sessionId, [a.symbol], 'canceled by the strategy');
  const toCancel = ids.filter((id) => !worked.some((a) => a.parentId === id));
  if (toCancel.length)
    await ops.exec.cancelOpenOrders({ reason: 'canceled by the strategy', clientOrderIds: toCancel });
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
  await expireAlgos(ops, cell, input.sessionId);
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
  const routing = executionRouting(input, s.barMs);
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
    ...(ops.algos && routing.algoMaxParticipation !== null ? { avgVolumeBars: routing.volumeBars } : {}),
  });
  // Risk on the state as it is now: a limit changed or a pause sent during the decide call applies to this bar.
  const now = { ...cell.get(), lastDecisionTs: at, openOrders };
  cell.set(now);
  if (!breaker) {
    const endOfDay = !now.liquidateRequested;
    const seq = endOfDay ? RESERVED_SEQ.endOfDay : RESERVED_SEQ.liquidate;
    const reason = endOfDay ? 'end of day flatten' : 'liquidate requested';
    // Paper/live: a slice may have filled since this bar's snapshot; re-read positions once the algorithms
    // have stopped and their working slices are canceled, so the flatten closes what is actually held.
    const stopped = await stopAlgos(ops, cell, input.sessionId, null, reason);
    let orders = flattenOrders(input.sessionId, at, now.positions, seq, reason);
    if (stopped || orders.length || now.openOrders.length) await ops.exec.cancelOpenOrders({ reason });
    if (stopped && input.mode !== 'replay') {
      const snap = await ops.exec.syncPortfolio({ sessionId: input.sessionId, advanceReplayTo: null });
      applySnapshot(cell, snap, barTs);
      orders = flattenOrders(input.sessionId, at, cell.get().positions, seq, reason);
    }
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
    // Algorithms work entries: a breaker, a risk mode that allows no new exposure or a pause stops them all.
    if (breaker.batch.orders.length || step.mode !== 'ACTIVE' || paused)
      await stopAlgos(
        ops,
        cell,
        input.sessionId,
        null,
        paused ? 'session paused' : `risk ${step.mode}: ${step.reason}`,
      );
    const entries = new Set(step.entryIds);
    const algo = {
      ids: new Set(
        step.batch.orders
          .filter((o) =>
            routesToAlgo(o, entries.has(o.clientOrderId), routing, decided.avgVolume?.[o.symbol]),
          )
          .map((o) => o.clientOrderId),
      ),
      routing,
    };
    // A breaker's flatten goes out even while paused; the strategy's orders only when not paused.
    const batches = [breaker.batch, ...(paused ? [] : [step.batch])].filter(
      (b) => b.orders.length || b.cancelSymbols.length || b.cancelIds?.length,
    );
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      if (b.cancelSymbols.length) {
        await stopAlgos(ops, cell, input.sessionId, b.cancelSymbols, 'replaced by a flatten');
        await ops.exec.cancelOpenOrders({ reason: 'replaced by a flatten', symbols: b.cancelSymbols });
      }
      if (b.cancelIds?.length) await cancelByStrategy(ops, cell, input.sessionId, b.cancelIds);
      await submitPlanned(
        ops,
        cell,
        input.sessionId,
        b.orders,
        i === batches.length - 1 ? nextBarTs : null,
        b === step.batch ? algo : undefined,
      );
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
    algos: [],
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
