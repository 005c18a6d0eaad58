/**
 * Positions with average price and realized/unrealized P&L. Signed quantity: negative is short. A fill that
 * crosses zero closes the old position (realizing P&L) and opens the remainder at the fill price.
 */
import type { OrderSide } from './order';

/**
 * A position as any venue reports it (LEAN's "holding"): what the Broker port returns for Alpaca and the
 * simulator alike. Market value and unrealized P&L follow from it (`marketValue`, `unrealizedPnl`).
 */
export interface Holding {
  readonly symbol: string;
  /** signed: negative is short */
  readonly qty: number;
  /** average entry price */
  readonly avgPrice: number;
  /** the price the position is marked at */
  readonly lastPrice: number;
}

/** A position in our own ledger: the holding plus what only the ledger knows. */
export interface Position extends Holding {
  readonly realizedPnl: number;
  /** epoch ms the current (non-zero) position was opened; 0 when flat */
  readonly openedAt: number;
}

export function flatPosition(symbol: string, lastPrice = 0): Position {
  return { symbol, qty: 0, avgPrice: 0, realizedPnl: 0, lastPrice, openedAt: 0 };
}

export interface PositionFillResult {
  readonly position: Position;
  /** P&L realized by this fill (before costs) */
  readonly realized: number;
  /** quantity that closed existing exposure (>= 0) */
  readonly closedQty: number;
}

export function applyFillToPosition(
  p: Position,
  side: OrderSide,
  qty: number,
  price: number,
  ts: number,
): PositionFillResult {
  const delta = side === 'buy' ? qty : -qty;
  const q0 = p.qty;
  const q1 = q0 + delta;
  let realized = 0;
  let closedQty = 0;
  let avg = p.avgPrice;
  let openedAt = p.openedAt;
  if (q0 === 0 || Math.sign(q0) === Math.sign(delta)) {
    // opening or adding: weighted average
    avg = (avg * Math.abs(q0) + price * qty) / Math.abs(q1);
    if (q0 === 0) openedAt = ts;
  } else {
    closedQty = Math.min(Math.abs(q0), qty);
    realized = closedQty * (price - avg) * Math.sign(q0);
    if (Math.abs(q1) < 1e-12) {
      avg = 0;
      openedAt = 0;
    } else if (Math.sign(q1) !== Math.sign(q0)) {
      avg = price; // flipped: remainder opened at this price
      openedAt = ts;
    }
  }
  const qty1 = Math.abs(q1) < 1e-12 ? 0 : q1;
  return {
    position: {
      symbol: p.symbol,
      qty: qty1,
      avgPrice: avg,
      realizedPnl: p.realizedPnl + realized,
      lastPrice: price,
      openedAt,
    },
    realized,
    closedQty,
  };
}

export function unrealizedPnl(p: Holding): number {
  return p.qty === 0 ? 0 : (p.lastPrice - p.avgPrice) * p.qty;
}

export function marketValue(p: Holding): number {
  return p.qty * p.lastPrice;
}
