import {
  DEFAULT_EXECUTION_ROUTING,
  type AlgoInFlight,
  type DecideResult,
  type ExecutionRouting,
  type PlannedOrder,
  type PortfolioSnapshot,
  type RiskState as SessionRiskMode,
  type SessionInput,
  type SessionOpenOrder,
  type SessionPosition,
  type SessionRiskLimits,
  type SessionState,
} from '../../contracts/session';
import type { Command } from '../model/command';
import {
  ALGO_SLICE_SEQ_BASE,
  RESERVED_SEQ,
  makeClientOrderId,
  parseClientOrderId,
} from '../model/client-order-id';
import { evaluateMode } from '../risk/engine';
import { gateCommands } from '../risk/gate';
import { riskLimits, type RiskLimits, type RiskPosition, type RiskState } from '../risk/types';
import { DEFAULT_SIZING, type SizingConfig } from '../risk/sizing';

/**
 * The trading session's per-bar risk step as pure functions (no I/O, no clock, no randomness), run by the
 * workflow between its activities. The rules are the backtester's: the same circuit breakers (evaluateMode),
 * the same gate over the strategy's commands (gateCommands → checkCommand) on a risk state built the same way
 * from the broker's view, and the same client order ids — which is what makes the parity test meaningful.
 * The session adds operator caps on top (order notional, gross exposure, orders per cycle, pause).
 */

/** The shared risk engine's limits for a session's settings (the rest are the engine's defaults). */
export function riskLimitsFor(limits: SessionRiskLimits): RiskLimits {
  return riskLimits({ maxPositionFraction: limits.maxPositionPct, dailyLossLimit: limits.maxDailyLossPct });
}

/** The sizing rule a session's strategy gets: the backtester's defaults with the session's position limit. */
export function sizingFor(limits: SessionRiskLimits): SizingConfig {
  return { ...DEFAULT_SIZING, maxPositionFraction: limits.maxPositionPct, fractional: false };
}

export interface Denial {
  readonly symbol: string;
  readonly reason: string;
}

/**
 * Folds a broker snapshot into the session state as the backtester's trade tracking would: positions opened
 * today get an open time, a position opened today that closes is a day trade, and a position that closes or
 * flips loses its protective stop.
 */
export function withSnapshot(state: SessionState, snap: PortfolioSnapshot, barTs: number): SessionState {
  const before = new Map(state.positions.map((p) => [p.symbol, p.qty]));
  const openedAt: Record<string, number> = {};
  const riskStops: Record<string, number> = { ...state.riskStops };
  let dayTrades = state.dayTrades;
  for (const p of snap.positions) {
    const prev = before.get(p.symbol) ?? 0;
    if (prev !== 0 && Math.sign(prev) === Math.sign(p.qty)) {
      if (state.openedAt[p.symbol] !== undefined) openedAt[p.symbol] = state.openedAt[p.symbol]!;
      continue;
    }
    if (prev !== 0) {
      // flipped: the old position closed at this bar
      if ((state.openedAt[p.symbol] ?? 0) > 0) dayTrades++;
      delete riskStops[p.symbol];
    }
    openedAt[p.symbol] = barTs;
  }
  const now = new Set(snap.positions.map((p) => p.symbol));
  for (const [symbol, qty] of before) {
    if (qty === 0 || now.has(symbol)) continue;
    if ((state.openedAt[symbol] ?? 0) > 0) dayTrades++;
    delete riskStops[symbol];
  }
  return {
    ...state,
    positions: snap.positions,
    openOrders: withAlgoOrders(snap.orders, state.algos, snap.positions),
    equity: snap.equity,
    cash: snap.cash,
    buyingPower: snap.buyingPower,
    peakEquity: Math.max(state.peakEquity, snap.equity),
    openedAt,
    dayTrades,
    riskStops,
  };
}

/**
 * The open orders as the session works with them: while an execution algorithm works an order, its slices are
 * its own business and the approved order itself stays open (as it would at a broker that sliced it), with
 * the position change since the algorithm started as its filled quantity. The strategy sees that one order,
 * and the risk engine counts what is left of it as a pending entry.
 */
export function withAlgoOrders(
  orders: readonly SessionOpenOrder[],
  algos: readonly AlgoInFlight[],
  positions: readonly SessionPosition[],
): SessionOpenOrder[] {
  if (!algos.length) return [...orders];
  const working = new Set(algos.map((a) => a.symbol));
  const out = orders.filter((o) => {
    if (!working.has(o.symbol)) return true;
    const seq = parseClientOrderId(o.clientOrderId)?.seq ?? 0;
    return seq < ALGO_SLICE_SEQ_BASE;
  });
  for (const a of algos) {
    const qty = positions.find((p) => p.symbol === a.symbol)?.qty ?? 0;
    const moved = (a.side === 'buy' ? 1 : -1) * (qty - a.startQty);
    out.push({
      clientOrderId: a.parentId,
      symbol: a.symbol,
      side: a.side,
      qty: a.qty,
      filledQty: Math.max(0, Math.min(a.qty, moved)),
      limitPrice: null,
      child: false,
    });
  }
  return out;
}

/** The session's execution routing: defaults, then the input's choices; the slice interval resolved. */
export function executionRouting(input: SessionInput, barMs: number): Required<ExecutionRouting> {
  const r = { ...DEFAULT_EXECUTION_ROUTING, ...(input.execution ?? {}) };
  const intervalMs =
    r.intervalMs ?? (input.mode === 'replay' ? Math.max(1_000, input.replayBarDelayMs ?? 0) : barMs);
  return { ...r, intervalMs };
}

/**
 * An approved order goes to an execution algorithm when it is a plain market entry (of at least 2 shares) at or
 * above the notional threshold, or larger than the allowed share of the symbol's average bar volume.
 */
export function routesToAlgo(
  order: PlannedOrder,
  entry: boolean,
  routing: Pick<ExecutionRouting, 'algoMinNotional'> &
    Partial<Pick<ExecutionRouting, 'algoMaxParticipation'>>,
  avgVolume?: number,
): boolean {
  if (!entry || order.qty < 2) return false;
  if (order.type !== 'market' || (order.orderClass !== undefined && order.orderClass !== 'simple'))
    return false;
  if (routing.algoMinNotional !== null && order.qty * order.refPrice >= routing.algoMinNotional) return true;
  const cap = routing.algoMaxParticipation ?? null;
  return cap !== null && avgVolume !== undefined && order.qty > cap * avgVolume;
}

/** Positions held at reconciliation were not opened today: open time 0 keeps them out of the day-trade count. */
export function reconciledOpenedAt(positions: readonly SessionPosition[]): Record<string, number> {
  return Object.fromEntries(positions.map((p) => [p.symbol, 0]));
}

/** Per symbol, the close time of its newest bar: `at` unless the decision reported it stale or missing. */
export function dataTimes(
  universe: readonly string[],
  at: number,
  staleData: Readonly<Record<string, number | null>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of universe) {
    const stale = staleData[s];
    if (stale === undefined) out[s] = at;
    else if (stale !== null) out[s] = stale;
  }
  return out;
}

/** The risk engine's view of the session at a decision, built as the backtester builds it from its broker. */
export function sessionRiskState(
  state: SessionState,
  at: number,
  decided: Pick<DecideResult, 'volatilityRatio' | 'staleData' | 'prices'>,
  mode: SessionRiskMode = state.riskState,
  modeReason: string = state.riskReason,
): RiskState {
  const positions: RiskPosition[] = state.positions.map((p) => ({
    symbol: p.symbol,
    qty: p.qty,
    price: p.currentPrice,
    stopPrice: state.riskStops[p.symbol],
  }));
  const held = new Map(state.positions.map((p) => [p.symbol, p]));
  const pendingEntries: RiskPosition[] = [];
  for (const o of state.openOrders) {
    if (o.child || o.exit) continue;
    const q = held.get(o.symbol)?.qty ?? 0;
    const signed = o.side === 'buy' ? 1 : -1;
    if (q !== 0 && Math.sign(q) !== signed) continue;
    pendingEntries.push({
      symbol: o.symbol,
      qty: signed * (o.qty - o.filledQty),
      price: held.get(o.symbol)?.currentPrice ?? decided.prices[o.symbol] ?? o.limitPrice ?? 0,
      stopPrice: state.riskStops[o.symbol],
    });
  }
  return {
    mode,
    modeReason,
    now: at,
    equity: state.equity,
    buyingPower: state.buyingPower,
    dayStartEquity: state.startEquity,
    monthStartEquity: state.startEquity,
    quarterStartEquity: state.startEquity,
    positions,
    pendingEntries,
    lastDataTs: dataTimes(state.universe, at, decided.staleData),
    dayTradesInWindow: state.dayTrades,
    volatilityRatio: decided.volatilityRatio,
  };
}

/** Orders sent together after the cancels before them (a flatten replaces the symbol's open orders). */
export interface OrderBatch {
  /** symbols whose open orders are canceled before the batch (a flatten replaces them) */
  readonly cancelSymbols: string[];
  /** single open orders the strategy canceled, by client order id (sent before the batch as well) */
  readonly cancelIds?: string[];
  readonly orders: PlannedOrder[];
}

export interface BreakerResult {
  /** the loss breakers' flatten (daily/monthly/quarterly loss → HALTED): empty when none fired */
  readonly batch: OrderBatch;
  /** the open orders as they will be once the batch is sent: what the strategy is shown */
  readonly openOrders: SessionOpenOrder[];
}

/**
 * The loss breakers, before the strategy runs (the backtester flattens before calling onBar, so the strategy
 * sees the flatten orders as open and the replaced orders as gone). Loss is known from equity alone; the
 * volatility breaker, which needs this bar's data, is evaluated after the decision (riskStep).
 */
export function breakerStep(sessionId: string, state: SessionState, at: number): BreakerResult {
  const ev = evaluateMode(
    sessionRiskState(state, at, { volatilityRatio: 1, staleData: {}, prices: {} }),
    riskLimitsFor(state.limits),
  );
  if (!ev.flatten) return { batch: { cancelSymbols: [], orders: [] }, openOrders: [...state.openOrders] };
  const orders = flattenOrders(sessionId, at, state.positions, RESERVED_SEQ.breaker, `breaker: ${ev.reason}`);
  const flattened = new Set(orders.map((o) => o.symbol));
  const cancelSymbols = [
    ...new Set(state.openOrders.filter((o) => flattened.has(o.symbol) && !o.child).map((o) => o.symbol)),
  ];
  const openOrders: SessionOpenOrder[] = [
    ...state.openOrders.filter((o) => !flattened.has(o.symbol) || o.child),
    ...orders.map((o) => ({
      clientOrderId: o.clientOrderId,
      symbol: o.symbol,
      side: o.side,
      qty: o.qty,
      filledQty: 0,
      limitPrice: null,
      child: false,
      exit: true,
    })),
  ];
  return { batch: { cancelSymbols, orders }, openOrders };
}

export interface RiskStepResult {
  readonly mode: SessionRiskMode;
  readonly reason: string;
  /** the strategy's approved commands as orders, after the cancels they need */
  readonly batch: OrderBatch;
  /** client order ids of the batch's orders that add exposure (entries); the rest only reduce it */
  readonly entryIds: readonly string[];
  readonly denied: Denial[];
  /** stops to remember for the open-risk limit (approved, risk-increasing submits that carry one) */
  readonly riskStops: Record<string, number>;
}

/** A decide activity's result with its commands unpacked. */
export type Decision = Omit<DecideResult, 'commands'> & { readonly commands: readonly Command[] };

/**
 * One bar's risk step after the strategy decided: all breakers (the volatility spike needs this bar's data),
 * then the strategy's commands through the shared gate on the risk state the backtester would build, then the
 * session's operator caps. `state.openOrders` must already be the post-breaker open orders.
 */
export function riskStep(input: {
  readonly state: SessionState;
  /** decision time: the close of the bar */
  readonly at: number;
  readonly decided: Decision;
}): RiskStepResult {
  const { state, at, decided } = input;
  const limits = riskLimitsFor(state.limits);
  const ev = evaluateMode(sessionRiskState(state, at, decided), limits);
  const cancelSymbols = new Set<string>();
  const cancelIds = new Set<string>();
  const orders: PlannedOrder[] = [];
  const entryIds: string[] = [];
  const denied: Denial[] = [];
  const riskStops: Record<string, number> = { ...state.riskStops };
  const held = new Map(state.positions.map((p) => [p.symbol, p]));
  const hasOpen = (symbol: string) => state.openOrders.some((o) => o.symbol === symbol && !o.child);

  const gate = gateCommands(
    decided.commands,
    sessionRiskState(state, at, decided, ev.mode, ev.reason),
    limits,
  );
  for (const d of gate.denied)
    denied.push({ symbol: d.symbol, reason: `risk engine ${d.rule}: ${d.reason}` });

  let gross = state.positions.reduce((s, p) => s + Math.abs(p.marketValue), 0);
  let increasing = 0;
  for (const { command: c, riskReducing } of gate.approved) {
    if (c.kind === 'cancel') {
      // A strategy cancel: that one order, as the backtester's broker cancels it (an order an execution
      // algorithm works is stopped and its slices canceled by the cycle).
      const o = state.openOrders.find((x) => x.clientOrderId === c.clientOrderId);
      if (o) cancelIds.add(o.clientOrderId);
      continue;
    }
    if (c.kind === 'flatten') {
      const p = held.get(c.symbol);
      if (hasOpen(c.symbol)) cancelSymbols.add(c.symbol);
      if (!p || p.qty === 0) continue;
      orders.push(flattenOrder(c.clientOrderId, p, c.reason));
      continue;
    }
    const { tag, ...spec } = c.order;
    const notional = spec.qty * c.refPrice;
    if (!riskReducing) {
      if (notional > state.limits.maxOrderNotional) {
        denied.push({
          symbol: spec.symbol,
          reason: `maxOrderNotional: ${notional.toFixed(2)} > ${state.limits.maxOrderNotional}`,
        });
        continue;
      }
      if (gross + notional > state.limits.maxGrossExposurePct * state.equity) {
        denied.push({
          symbol: spec.symbol,
          reason: `maxGrossExposurePct: ${((gross + notional) / state.equity).toFixed(3)} > ${state.limits.maxGrossExposurePct}`,
        });
        continue;
      }
      if (increasing >= state.limits.maxOrdersPerCycle) {
        denied.push({
          symbol: spec.symbol,
          reason: `maxOrdersPerCycle: ${state.limits.maxOrdersPerCycle} reached`,
        });
        continue;
      }
      increasing++;
      gross += notional;
      if (c.riskStopPrice !== undefined) riskStops[spec.symbol] = c.riskStopPrice;
    }
    orders.push({ ...spec, refPrice: c.refPrice, reason: tag?.reason ?? (riskReducing ? 'exit' : 'entry') });
    if (!riskReducing) entryIds.push(spec.clientOrderId);
  }
  return {
    mode: ev.mode,
    reason: ev.reason,
    batch: {
      cancelSymbols: [...cancelSymbols],
      // a symbol being flattened has all its orders canceled already
      cancelIds: [...cancelIds].filter((id) => {
        const o = state.openOrders.find((x) => x.clientOrderId === id);
        return o !== undefined && !cancelSymbols.has(o.symbol);
      }),
      orders,
    },
    entryIds,
    denied,
    riskStops,
  };
}

function flattenOrder(clientOrderId: string, p: SessionPosition, reason: string): PlannedOrder {
  return {
    clientOrderId,
    symbol: p.symbol,
    side: p.qty > 0 ? 'sell' : 'buy',
    qty: Math.abs(p.qty),
    type: 'market',
    timeInForce: 'day',
    refPrice: p.currentPrice,
    reason,
  };
}

/** Market orders that close every position; deterministic ids (one per symbol per bar), by symbol. */
export function flattenOrders(
  sessionId: string,
  at: number,
  positions: readonly SessionPosition[],
  seq: number,
  reason: string,
): PlannedOrder[] {
  return [...positions]
    .filter((p) => p.qty !== 0)
    .sort((a, b) => (a.symbol < b.symbol ? -1 : 1))
    .map((p) =>
      flattenOrder(makeClientOrderId({ session: sessionId, barTs: at, symbol: p.symbol, seq }), p, reason),
    );
}

/** The open orders as the strategy's portfolio view lists them (as the backtester's broker lists them). */
export function strategyOpenOrders(
  orders: readonly SessionOpenOrder[],
): Array<{ symbol: string; clientOrderId: string }> {
  return orders.map((o) => ({ symbol: o.symbol, clientOrderId: o.clientOrderId }));
}

/** Control log bounded so the carried state stays small across continue-as-new. */
export function appendControl(state: SessionState, at: number, action: string, detail: string): SessionState {
  const controls = [...state.controls, { at, action, detail }];
  return { ...state, controls: controls.slice(-50) };
}
