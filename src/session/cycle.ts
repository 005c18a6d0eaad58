import type {
  Decision,
  PlannedOrder,
  RiskState,
  SessionPosition,
  SessionRiskLimits,
  SessionState,
} from '../../contracts/session';
import { fnv1a64Hex, makeClientOrderId } from '../model/client-order-id';
import { checkCommand, riskLimits, type RiskPosition, type RiskState as EngineRiskState } from '../risk';

/**
 * The trading session's per-bar decisions as pure functions (no I/O, no clock, no randomness): the workflow
 * runs them between activities, and the in-process day runner runs the very same code, which is what makes
 * the parity test meaningful. Unit-tested without Temporal.
 */

/** Sequence numbers inside one (session, bar, symbol): strategy orders 0-1, liquidation 8, end of day 9. */
export const SEQ = { strategy: 0, flip: 1, liquidate: 8, endOfDay: 9 } as const;

export interface PlanInput {
  readonly sessionId: string;
  readonly barTs: number;
  readonly decisions: readonly Decision[];
  readonly positions: readonly SessionPosition[];
  readonly equity: number;
  readonly limits: SessionRiskLimits;
  readonly riskState: RiskState;
}

export interface Denial {
  readonly symbol: string;
  readonly reason: string;
}

/**
 * Risk gate between strategy targets and orders: clips targets to the position limit and the gross-exposure
 * limit, allows only reductions when REDUCING and nothing when HALTED, splits a long↔short flip into a close
 * and an open (Alpaca refuses a sell larger than the long position), and caps order notional and count.
 */
export function planCycleOrders(input: PlanInput): { orders: PlannedOrder[]; denied: Denial[] } {
  const orders: PlannedOrder[] = [];
  const denied: Denial[] = [];
  const held = new Map(input.positions.map((p) => [p.symbol, p.qty]));
  let gross = input.positions.reduce((s, p) => s + Math.abs(p.marketValue), 0);
  const decisions = [...input.decisions].sort((a, b) =>
    a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0,
  );
  for (const d of decisions) {
    if (!(d.refPrice > 0) || !Number.isFinite(d.targetQty)) {
      denied.push({
        symbol: d.symbol,
        reason: `refPrice/targetQty: invalid (${d.refPrice}, ${d.targetQty})`,
      });
      continue;
    }
    const current = held.get(d.symbol) ?? 0;
    let target = Math.trunc(d.targetQty);
    if (input.riskState === 'HALTED') {
      if (target !== current) denied.push({ symbol: d.symbol, reason: 'risk state HALTED: no orders' });
      continue;
    }
    const maxQty = Math.floor((input.limits.maxPositionPct * input.equity) / d.refPrice);
    if (Math.abs(target) > maxQty) {
      denied.push({
        symbol: d.symbol,
        reason: `maxPositionPct: target ${target} clipped to ${Math.sign(target) * maxQty}`,
      });
      target = Math.sign(target) * maxQty;
    }
    if (
      input.riskState === 'REDUCING' &&
      (Math.abs(target) > Math.abs(current) || Math.sign(target) * Math.sign(current) < 0)
    ) {
      denied.push({ symbol: d.symbol, reason: 'risk state REDUCING: only reductions allowed' });
      target = Math.sign(current) === Math.sign(target) ? target : 0;
      if (Math.abs(target) > Math.abs(current)) target = current;
    }
    // Gross exposure: an increase may use only the room left under the limit.
    const addValue = (Math.abs(target) - Math.abs(current)) * d.refPrice;
    const room = input.limits.maxGrossExposurePct * input.equity - gross;
    if (addValue > 0 && addValue > room) {
      const allowed = Math.max(0, Math.floor(room / d.refPrice));
      denied.push({ symbol: d.symbol, reason: `maxGrossExposurePct: increase clipped to ${allowed} shares` });
      target = Math.sign(target) * Math.min(Math.abs(target), Math.abs(current) + allowed);
    }
    if (target === current) continue;
    const legs: Array<{ qty: number; seq: number }> =
      current !== 0 && target !== 0 && Math.sign(current) !== Math.sign(target)
        ? [
            { qty: -current, seq: SEQ.strategy },
            { qty: target, seq: SEQ.flip },
          ]
        : [{ qty: target - current, seq: SEQ.strategy }];
    for (const leg of legs) {
      let qty = Math.abs(leg.qty);
      const capQty = Math.floor(input.limits.maxOrderNotional / d.refPrice);
      if (qty > capQty) {
        denied.push({ symbol: d.symbol, reason: `maxOrderNotional: ${qty} shares clipped to ${capQty}` });
        qty = capQty;
      }
      if (qty <= 0) continue;
      if (orders.length >= input.limits.maxOrdersPerCycle) {
        denied.push({
          symbol: d.symbol,
          reason: `maxOrdersPerCycle: ${input.limits.maxOrdersPerCycle} reached`,
        });
        continue;
      }
      orders.push({
        clientOrderId: makeClientOrderId({
          session: input.sessionId,
          barTs: input.barTs,
          symbol: d.symbol,
          seq: leg.seq,
        }),
        symbol: d.symbol,
        side: leg.qty > 0 ? 'buy' : 'sell',
        qty,
        type: 'market',
        timeInForce: 'day',
        refPrice: d.refPrice,
        reason: `target ${target} from ${current}`,
      });
    }
    gross += (Math.abs(target) - Math.abs(current)) * d.refPrice;
  }
  return { orders, denied };
}

/** Market orders that close every position; deterministic ids (one per symbol per bar). */
export function flattenOrders(
  sessionId: string,
  barTs: number,
  positions: readonly SessionPosition[],
  seq: number,
  reason: string,
): PlannedOrder[] {
  return [...positions]
    .filter((p) => p.qty !== 0)
    .sort((a, b) => (a.symbol < b.symbol ? -1 : 1))
    .map((p) => ({
      clientOrderId: makeClientOrderId({ session: sessionId, barTs, symbol: p.symbol, seq }),
      symbol: p.symbol,
      side: p.qty > 0 ? ('sell' as const) : ('buy' as const),
      qty: Math.abs(p.qty),
      type: 'market' as const,
      timeInForce: 'day' as const,
      refPrice: p.qty ? Math.abs(p.marketValue / p.qty) : 0,
      reason,
    }));
}

/** Daily-loss breaker: half the limit → REDUCING, the limit → HALTED. HALTED is sticky for the day. */
export function nextRiskState(
  current: RiskState,
  startEquity: number,
  equity: number,
  limits: SessionRiskLimits,
): RiskState {
  if (current === 'HALTED') return 'HALTED';
  const loss = startEquity > 0 ? (startEquity - equity) / startEquity : 0;
  if (loss >= limits.maxDailyLossPct) return 'HALTED';
  if (loss >= limits.maxDailyLossPct / 2) return 'REDUCING';
  return current === 'REDUCING' ? 'REDUCING' : 'ACTIVE';
}

export function foldOrderHash(prev: string, orders: readonly PlannedOrder[]): string {
  let h = prev;
  for (const o of orders) h = fnv1a64Hex(`${h}|${o.clientOrderId}|${o.side}|${o.qty}`);
  return h;
}

export const EMPTY_ORDER_HASH = '0000000000000000';

/** Control log bounded so the carried state stays small across continue-as-new. */
export function appendControl(state: SessionState, at: number, action: string, detail: string): SessionState {
  const controls = [...state.controls, { at, action, detail }];
  return { ...state, controls: controls.slice(-50) };
}

/**
 * Runs each planned order through the shared RiskEngine (src/risk: loss limits, stale data, PDT, buying power,
 * single-position, position-count, open-risk and correlation limits) as if the approved ones before it had
 * filled at their reference price. Denied orders are dropped with the engine's rule and reason.
 */
export function checkWithRiskEngine(
  orders: readonly PlannedOrder[],
  ctx: {
    barTs: number;
    barMs: number;
    equity: number;
    buyingPower: number;
    startEquity: number;
    positions: readonly SessionPosition[];
    limits: SessionRiskLimits;
    riskState: RiskState;
    /** symbols with a bar at barTs (their data is fresh) */
    dataTs: readonly string[];
  },
): { orders: PlannedOrder[]; denied: Denial[] } {
  const limits = riskLimits({
    maxPositionFraction: ctx.limits.maxPositionPct,
    dailyLossLimit: ctx.limits.maxDailyLossPct,
  });
  const book = new Map<string, RiskPosition>(
    ctx.positions.map((p) => [
      p.symbol,
      { symbol: p.symbol, qty: p.qty, price: p.qty ? Math.abs(p.marketValue / p.qty) : p.avgEntryPrice },
    ]),
  );
  const lastDataTs = Object.fromEntries(ctx.dataTs.map((s) => [s, ctx.barTs]));
  let buyingPower = ctx.buyingPower;
  const approved: PlannedOrder[] = [];
  const denied: Denial[] = [];
  for (const o of orders) {
    const state: EngineRiskState = {
      mode: ctx.riskState,
      now: ctx.barTs + ctx.barMs,
      equity: ctx.equity,
      buyingPower,
      dayStartEquity: ctx.startEquity,
      monthStartEquity: ctx.startEquity,
      quarterStartEquity: ctx.startEquity,
      positions: [...book.values()],
      lastDataTs,
      dayTradesInWindow: 0,
    };
    const decision = checkCommand(
      {
        kind: 'submit',
        order: {
          clientOrderId: o.clientOrderId,
          symbol: o.symbol,
          side: o.side,
          qty: o.qty,
          type: o.type,
          timeInForce: o.timeInForce,
          limitPrice: o.limitPrice,
        },
        refPrice: o.refPrice,
      },
      state,
      limits,
    );
    if (!decision.approved) {
      denied.push({ symbol: o.symbol, reason: `risk engine ${decision.rule}: ${decision.reason}` });
      continue;
    }
    approved.push(o);
    const prev = book.get(o.symbol);
    const qty = (prev?.qty ?? 0) + (o.side === 'buy' ? o.qty : -o.qty);
    if (!decision.riskReducing) buyingPower -= o.qty * o.refPrice;
    if (qty === 0) book.delete(o.symbol);
    else book.set(o.symbol, { symbol: o.symbol, qty, price: o.refPrice });
  }
  return { orders: approved, denied };
}
