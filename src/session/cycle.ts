/**
 * One bar of a trading session, as the workflow orchestrates it: read the account at the venue, let the kernel
 * decide (the decide activity runs the backtester's kernel: breakers, strategy, risk engine, flattening), then
 * carry its actions out — large entries through an execution algorithm (a child workflow), the rest at the
 * venue at once — and fold every placed order into the order-list hash the backtester computes.
 *
 * Every trading rule lives in the kernel (src/trading); what is here is orchestration only: execution
 * algorithms (routing, stopping them before the orders they work are canceled), the venue, the hash. Pure and
 * deterministic given the activities' answers, free of Node and Temporal imports, so the workflow bundle
 * includes it; tests drive it in process with the same activity implementations.
 *
 * State goes through a cell rather than a parameter: update handlers may change it (pause, limits) while an
 * activity is in flight, and the cycle must see and keep those changes.
 */
import {
  DEFAULT_EXECUTION_ROUTING,
  DEFAULT_STRATEGY,
  type AccountSnapshot,
  type AlgoInFlight,
  type ExecutionActivities,
  type ExecutionRouting,
  type SessionActivities,
  type SessionInput,
  type SessionResult,
  type SessionState,
} from '../../contracts/session';
import type { ExecAlgoInput } from '../../contracts/exec-algo';
import {
  ALGO_SLICE_SEQ_BASE,
  FNV1A64_EMPTY,
  MAX_ALGO_SLICES,
  algoSliceSeq,
  foldOrderList,
  makeClientOrderId,
  parseClientOrderId,
} from '../model/client-order-id';
import type { OperatorLimits } from '../risk/types';
import type { AccountOrder } from '../trading/account';
import type { Action, KernelStart } from '../trading/kernel';
import { packActions, unpackActions } from '../trading/packed-actions';
import { wallOf, type Venue } from './venue';

export interface CycleOps {
  readonly io: Pick<SessionActivities, 'decide'> & Partial<Pick<SessionActivities, 'algoVolumeCurve'>>;
  readonly exec: Pick<ExecutionActivities, 'cancelOpenOrders'>;
  readonly venue: Venue;
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

export interface StateCell {
  get(): SessionState;
  set(next: SessionState): void;
}

/**
 * Paper/live: how long after a bar's close (venue time) the decision waits for the stream to store every symbol's
 * bar; then it decides on what is stored (a symbol without its bar takes no new entries: stale data).
 */
export const BAR_WAIT_MS = 15_000;

/** How long a session waits for stopped algorithms to confirm before it cancels and flattens anyway. */
export const ALGO_STOP_WAIT_MS = 30_000;

export async function runCycle(
  ops: CycleOps,
  cell: StateCell,
  input: SessionInput,
  barTs: number,
): Promise<void> {
  await expireAlgos(ops, cell, input.sessionId);
  const account = await ops.venue.account(barTs);
  const s = { ...cell.get(), account };
  cell.set(s);
  const at = barTs + s.barMs;
  const nextBarTs = s.barTimes[s.nextBar + 1] ?? null;
  const routing = executionRouting(input, s.barMs);
  const decided = await ops.io.decide({
    sessionId: input.sessionId,
    date: input.date,
    barTs,
    barMs: s.barMs,
    prevDecisionTs: s.lastDecisionTs,
    symbols: s.universe,
    // while an algorithm works an order, the kernel sees that one order (not its slices)
    account: withAlgoOrders(account, s.algos),
    controls: { paused: s.paused, liquidate: s.liquidateRequested, limits: s.limits },
    strategy: input.strategy ?? DEFAULT_STRATEGY,
    seed: input.seed ?? 1,
    modelId: s.modelId !== undefined ? s.modelId : (input.modelId ?? null),
    start: s.start,
    tradeFrom: s.tradeFrom,
    dayEndsAt: s.dayEndsAt,
    waitForBarsUntil: s.venue ? wallOf(s.venue, at + BAR_WAIT_MS) : null,
    flattenBeforeCloseMs: (input.flattenBarsBeforeClose ?? 2) * s.barMs,
    ...(ops.algos && routing.algoMaxParticipation !== null ? { avgVolumeBars: routing.volumeBars } : {}),
    // live quotes: an algorithm's order-type choice uses the symbol's quoted spread when a fresh one is stored
    ...(ops.algos ? { quoteMaxAgeMs: routing.quoteMaxAgeMs } : {}),
  });
  const now = cell.get();
  let denied = 0;
  for (const n of Object.values(decided.denied)) denied += n;
  cell.set({
    ...now,
    lastDecisionTs: at,
    riskState: decided.mode,
    riskReason: decided.modeReason,
    deniedCount: now.deniedCount + denied,
    dayTrades: decided.dayTrades,
  });
  const actions = unpackActions(decided.actions);

  // Algorithms work entries: a risk mode that allows no new exposure, or a pause, stops them all; a cancel of
  // what an algorithm works stops it first (it confirms, then its slices are canceled), so no slice lands later.
  const direct: Action[] = [];
  const toAlgo: Array<Extract<Action, { kind: 'submit' }>> = [];
  if (decided.mode !== 'ACTIVE' || now.paused)
    await stopAlgos(
      ops,
      cell,
      input.sessionId,
      null,
      now.paused ? 'session paused' : `risk ${decided.mode}: ${decided.modeReason}`,
    );
  for (const a of actions) {
    if (a.kind === 'cancelAll') await stopAlgos(ops, cell, input.sessionId, null, a.reason);
    else if (a.kind === 'cancelSymbol') await stopAlgos(ops, cell, input.sessionId, [a.symbol], a.reason);
    else if (a.kind === 'cancel') {
      const worked = cell.get().algos.find((x) => x.parentId === a.clientOrderId);
      if (worked) {
        await stopAlgos(ops, cell, input.sessionId, [worked.symbol], a.reason);
        continue; // the parent is the session's own bookkeeping: the broker knows only its slices
      }
    } else if (ops.algos && a.entry && routesToAlgo(a, routing, decided.avgVolume?.[a.order.symbol])) {
      toAlgo.push(a);
      continue;
    }
    direct.push(a);
  }
  // the orders sent at once first (a flip's exit leg before the algorithm's first slice of its entry leg)
  const acks = await ops.venue.execute(direct.length ? packActions(direct) : null, nextBarTs);
  for (const a of toAlgo)
    await startAlgo(ops, cell, input.sessionId, a, {
      ...routing,
      spreadBps: decided.spreadBps?.[a.order.symbol] ?? routing.spreadBps,
    });

  const ok = new Set(acks.filter((x) => !x.rejected).map((x) => x.clientOrderId));
  const after = cell.get();
  // every submitted order in the kernel's order, the ones an algorithm works included (as one order each)
  let hash = after.orderHash;
  let submitted = 0;
  let placed = toAlgo.length;
  for (const a of actions) {
    if (a.kind !== 'submit') continue;
    hash = foldOrderList(hash, hash === FNV1A64_EMPTY ? 0 : 1, a.order);
    submitted++;
    if (ok.has(a.order.clientOrderId)) placed++;
  }
  cell.set({
    ...after,
    ordersPlaced: after.ordersPlaced + placed,
    orderHash: hash,
    deniedCount: after.deniedCount + (submitted - placed),
    nextBar: after.nextBar + 1,
    lastBarTs: barTs,
    cycles: after.cycles + 1,
  });
}

/**
 * The account as the kernel works with it: while an execution algorithm works an order, its slices are its own
 * business and the approved order itself stays open (as it would at a broker that sliced it), with the position
 * change since the algorithm started as its filled quantity. The kernel sees that one order, and its risk
 * engine counts what is left of it as a working entry.
 */
export function withAlgoOrders(account: AccountSnapshot, algos: readonly AlgoInFlight[]): AccountSnapshot {
  if (!algos.length) return account;
  const working = new Set(algos.map((a) => a.symbol));
  const orders: AccountOrder[] = account.orders.filter((o) => {
    if (!working.has(o.symbol)) return true;
    const seq = parseClientOrderId(o.clientOrderId)?.seq ?? 0;
    return seq < ALGO_SLICE_SEQ_BASE;
  });
  for (const a of algos) {
    const qty = account.positions.find((p) => p.symbol === a.symbol)?.qty ?? 0;
    const moved = (a.side === 'buy' ? 1 : -1) * (qty - a.startQty);
    orders.push({
      clientOrderId: a.parentId,
      symbol: a.symbol,
      side: a.side,
      qty: a.qty,
      filledQty: Math.max(0, Math.min(a.qty, moved)),
      limitPrice: null,
      leg: false,
    });
  }
  return { ...account, orders };
}

/** The session's execution routing: defaults, then the input's choices; the slice interval resolved. */
export function executionRouting(input: SessionInput, barMs: number): Required<ExecutionRouting> {
  const r = { ...DEFAULT_EXECUTION_ROUTING, ...(input.execution ?? {}) };
  const intervalMs =
    r.intervalMs ?? (input.mode === 'replay' ? Math.max(1_000, input.replayBarDelayMs ?? 0) : barMs);
  return { ...r, intervalMs };
}

/**
 * An entry goes to an execution algorithm when it is a plain market order (of at least 2 shares) at or above
 * the notional threshold, or larger than the allowed share of the symbol's average bar volume.
 */
export function routesToAlgo(
  a: Extract<Action, { kind: 'submit' }>,
  routing: Pick<ExecutionRouting, 'algoMinNotional'> &
    Partial<Pick<ExecutionRouting, 'algoMaxParticipation'>>,
  avgVolume?: number,
): boolean {
  const o = a.order;
  if (!a.entry || o.qty < 2) return false;
  if (o.type !== 'market' || (o.orderClass !== undefined && o.orderClass !== 'simple')) return false;
  if (routing.algoMinNotional !== null && o.qty * a.refPrice >= routing.algoMinNotional) return true;
  const cap = routing.algoMaxParticipation ?? null;
  return cap !== null && avgVolume !== undefined && o.qty > cap * avgVolume;
}

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

/** Hands an approved entry to an execution algorithm (a child workflow with a deterministic id). */
async function startAlgo(
  ops: CycleOps,
  cell: StateCell,
  sessionId: string,
  a: Extract<Action, { kind: 'submit' }>,
  r: Required<ExecutionRouting>,
): Promise<void> {
  const algos = ops.algos!;
  const o = a.order;
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
    arrivalPrice: a.refPrice,
    spreadBps: r.spreadBps,
    urgency: r.urgency,
    parentOrderId: o.clientOrderId,
  });
  const s = cell.get();
  const startQty = s.account.positions.find((p) => p.symbol === o.symbol)?.qty ?? 0;
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

export function initialSessionState(limits: OperatorLimits): SessionState {
  const account: AccountSnapshot = { equity: 0, cash: 0, buyingPower: 0, positions: [], orders: [] };
  const start: KernelStart = { equity: 0 };
  return {
    universe: [],
    barTimes: [],
    barMs: 60_000,
    dayEndsAt: null,
    tradeFrom: 0,
    venue: null,
    nextBar: 0,
    paused: false,
    killed: false,
    liquidateRequested: false,
    riskState: 'ACTIVE',
    riskReason: 'start of day',
    limits,
    limitsVersion: 0,
    account,
    start,
    lastDecisionTs: null,
    lastBarTs: null,
    ordersPlaced: 0,
    orderHash: FNV1A64_EMPTY,
    deniedCount: 0,
    dayTrades: 0,
    runs: 0,
    cycles: 0,
    controls: [],
    done: false,
    dailyPnl: null,
    algos: [],
  };
}

export function sessionResult(input: SessionInput, s: SessionState): SessionResult {
  return {
    sessionId: input.sessionId,
    ordersPlaced: s.ordersPlaced,
    orderHash: s.orderHash,
    dailyPnl: s.dailyPnl ?? 0,
    finalPositions: s.account.positions,
    killed: s.killed,
    runs: s.runs,
  };
}

/** Control log bounded so the carried state stays small across continue-as-new. */
export function appendControl(state: SessionState, at: number, action: string, detail: string): SessionState {
  const controls = [...state.controls, { at, action, detail }];
  return { ...state, controls: controls.slice(-50) };
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
