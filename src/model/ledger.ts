/**
 * The account ledger: cash, positions, equity and buying power. Plain JSON data and pure functions so the
 * same numbers can be carried in workflow state. Costs (commission, fees, borrow) come out of cash.
 */
import type { Fill } from './events';
import { applyFillToPosition, flatPosition, marketValue, type Position } from './position';

export interface Ledger {
  readonly cash: number;
  readonly positions: Readonly<Record<string, Position>>;
  readonly realizedPnl: number;
  readonly commissions: number;
  readonly regulatoryFees: number;
  readonly borrowFees: number;
  /** buying power multiple of equity: 1 for a cash account, 2 (overnight) / 4 (intraday) for margin */
  readonly marginMultiplier: number;
}

export function newLedger(cash: number, marginMultiplier = 1): Ledger {
  if (!(cash >= 0) || !Number.isFinite(cash))
    throw new RangeError(`cash: ${cash} must be a finite non-negative number`);
  if (!(marginMultiplier >= 1)) throw new RangeError(`marginMultiplier: ${marginMultiplier} must be >= 1`);
  return {
    cash,
    positions: {},
    realizedPnl: 0,
    commissions: 0,
    regulatoryFees: 0,
    borrowFees: 0,
    marginMultiplier,
  };
}

export function applyFill(l: Ledger, f: Fill): Ledger {
  const p0 = l.positions[f.symbol] ?? flatPosition(f.symbol);
  const r = applyFillToPosition(p0, f.side, f.qty, f.price, f.ts);
  const notional = f.qty * f.price;
  const cash = l.cash + (f.side === 'buy' ? -notional : notional) - f.commission - f.regulatoryFees;
  const positions = { ...l.positions };
  if (r.position.qty === 0) delete positions[f.symbol];
  else positions[f.symbol] = r.position;
  return {
    ...l,
    cash,
    positions,
    realizedPnl: l.realizedPnl + r.realized,
    commissions: l.commissions + f.commission,
    regulatoryFees: l.regulatoryFees + f.regulatoryFees,
  };
}

export function markPrice(l: Ledger, symbol: string, price: number): Ledger {
  const p = l.positions[symbol];
  if (!p) return l;
  return { ...l, positions: { ...l.positions, [symbol]: { ...p, lastPrice: price } } };
}

export function chargeBorrow(l: Ledger, amount: number): Ledger {
  return { ...l, cash: l.cash - amount, borrowFees: l.borrowFees + amount };
}

export function longMarketValue(l: Ledger): number {
  let v = 0;
  for (const p of Object.values(l.positions)) if (p.qty > 0) v += marketValue(p);
  return v;
}

export function shortMarketValue(l: Ledger): number {
  let v = 0;
  for (const p of Object.values(l.positions)) if (p.qty < 0) v += marketValue(p);
  return v;
}

export function equity(l: Ledger): number {
  return l.cash + longMarketValue(l) + shortMarketValue(l);
}

export function grossExposure(l: Ledger): number {
  return longMarketValue(l) - shortMarketValue(l);
}

/** What new exposure the account can still open: equity × multiplier − gross exposure, never negative. */
export function buyingPower(l: Ledger): number {
  return Math.max(0, equity(l) * l.marginMultiplier - grossExposure(l));
}
