/**
 * The emergency close-out's order plan: one closing order per position at a time, sent once and escalated by
 * replacement, never duplicated — also when two shutdowns work the same account at once.
 *
 * Each step reads the venue (open orders, recent orders, then positions, in that order) and plans:
 * - every open order that is not a closing order is canceled, and its symbol waits until nothing is open;
 * - a symbol with a working closing order waits; at the step that raises the escalation level, a working
 *   closing order less aggressive than the new level (a market order, or a limit further from the last price
 *   than the level's band) is canceled and replaced at a later step, once the venue says it is final;
 * - a position with nothing open gets one closing order: a market order at level 0, a marketable limit order
 *   at level ≥ 1 (last price ∓ band, band = base × 2^(level-1)).
 *
 * Closing order ids are `esd-<NY date>-<symbol>-<n>`, n = how many closing orders of that symbol the venue holds
 * for the day. The id is a function of the venue's state, not of the run: two shutdowns that plan at once derive
 * the same id and the venue's duplicate-id check lets only one order through. Pure: tested without a venue.
 */
import { isOpenOrder, type Order, type OrderSide, type OrderSpec } from '../model/order';
import type { Holding } from '../model/position';

export const CLOSING_ORDER_PREFIX = 'esd-';

/** The day part of closing order ids: the America/New_York calendar date, YYYYMMDD. */
export function closeOutDateKey(nowMs: number): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'America/New_York',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(nowMs));
  return parts.replace(/-/g, '');
}

export function closingOrderId(dateKey: string, symbol: string, n: number): string {
  return `${CLOSING_ORDER_PREFIX}${dateKey}-${symbol}-${n}`;
}

export function isClosingOrder(clientOrderId: string): boolean {
  return clientOrderId.startsWith(CLOSING_ORDER_PREFIX);
}

/** The marketable limit price at escalation `level` (≥ 1): through the last price by the level's band. */
export function marketableLimitPrice(
  side: OrderSide,
  lastPrice: number,
  level: number,
  baseBandBps: number,
): number {
  const band = (baseBandBps / 10_000) * 2 ** (level - 1);
  const raw = side === 'sell' ? lastPrice * (1 - band) : lastPrice * (1 + band);
  // Alpaca's tick: cents at or above $1, hundredths of a cent below; round through the price, never away
  const tick = raw >= 1 ? 100 : 10_000;
  const rounded = side === 'sell' ? Math.floor(raw * tick) / tick : Math.ceil(raw * tick) / tick;
  return Math.max(rounded, 1 / tick);
}

export interface CloseOutInput {
  /** open orders, legs nested (read first) */
  readonly open: readonly Order[];
  /** the venue's most recent orders of any status (read second) */
  readonly recent: readonly Order[];
  /** positions (read last, so no fill of an order missing above can hide in them) */
  readonly positions: readonly Holding[];
  /** 0: market; ≥ 1: marketable limit with band base × 2^(level-1) */
  readonly level: number;
  readonly baseBandBps: number;
  /**
   * The step that raises the level: working closing orders less aggressive than the new level are replaced.
   * Other steps leave working orders alone (a limit order is not chased as the price moves).
   */
  readonly escalating: boolean;
  readonly dateKey: string;
  /** symbols given up on (a permanent error): nothing is sent or replaced for them */
  readonly skip: ReadonlySet<string>;
}

export interface CloseOutPlan {
  /** open orders that are not closing orders (or legs of them): cancel */
  readonly cancel: readonly Order[];
  /** closing orders below the requested level: cancel now, replace once final */
  readonly replace: readonly Order[];
  readonly send: readonly OrderSpec[];
  /** symbols with an order still open (working, or canceled and not final yet) */
  readonly waiting: readonly string[];
}

export function planCloseOut(input: CloseOutInput): CloseOutPlan {
  // One view per order: the later read (recent) wins, so an order seen open and then final counts as final.
  const byId = new Map<string, Order>();
  for (const o of [...input.open, ...input.recent]) byId.set(o.id, o);
  const orders = [...byId.values()];
  const openNow = (o: Order) => isOpenOrder(o) || (o.legs ?? []).some(isOpenOrder);

  const cancel: Order[] = [];
  const replace: Order[] = [];
  const send: OrderSpec[] = [];
  const waiting = new Set<string>();
  const lastPrice = new Map(input.positions.map((p) => [p.symbol, p.lastPrice]));

  for (const o of orders) {
    if (!openNow(o)) continue;
    waiting.add(o.symbol);
    if (isClosingOrder(o.clientOrderId)) {
      if (o.status === 'pending_cancel' || input.skip.has(o.symbol)) continue;
      const price = lastPrice.get(o.symbol);
      if (input.escalating && price !== undefined && belowLevel(o, input.level, price, input.baseBandBps))
        replace.push(o);
      continue;
    }
    if (o.status === 'pending_cancel') continue;
    // a parent still working is canceled with its legs; a filled parent's open legs one by one
    if (isOpenOrder(o)) cancel.push(o);
    else for (const l of o.legs ?? []) if (isOpenOrder(l) && l.status !== 'pending_cancel') cancel.push(l);
  }

  for (const p of input.positions) {
    if (p.qty === 0 || waiting.has(p.symbol) || input.skip.has(p.symbol)) continue;
    const prefix = `${CLOSING_ORDER_PREFIX}${input.dateKey}-${p.symbol}-`;
    const n = orders.filter((o) => o.clientOrderId.startsWith(prefix)).length;
    const side: OrderSide = p.qty > 0 ? 'sell' : 'buy';
    const base = {
      clientOrderId: closingOrderId(input.dateKey, p.symbol, n),
      symbol: p.symbol,
      side,
      qty: Math.abs(p.qty),
      timeInForce: 'day' as const,
      tag: { intent: 'exit' as const, reason: `emergency close-out, level ${input.level}` },
    };
    send.push(
      input.level === 0 || !(p.lastPrice > 0)
        ? { ...base, type: 'market' }
        : {
            ...base,
            type: 'limit',
            limitPrice: marketableLimitPrice(side, p.lastPrice, input.level, input.baseBandBps),
          },
    );
  }
  return { cancel, replace, send, waiting: [...waiting].sort() };
}

/** A working closing order less aggressive than `level` asks for. */
function belowLevel(o: Order, level: number, lastPrice: number, baseBandBps: number): boolean {
  if (level === 0 || !(lastPrice > 0)) return false;
  if (o.type === 'market') return true;
  if (o.limitPrice === undefined) return false;
  const target = marketableLimitPrice(o.side, lastPrice, level, baseBandBps);
  return o.side === 'sell' ? o.limitPrice > target : o.limitPrice < target;
}
