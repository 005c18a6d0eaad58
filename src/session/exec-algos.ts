import type { ChildFill, ExecutionQuality } from '../../contracts/exec-algo';

/**
 * Pure parts of the execution algorithms (workflow-safe): slice schedules, order-type choice and execution
 * quality. Integer share quantities; rounding by largest remainder so slices always sum to the parent qty.
 */
export function twapSchedule(qty: number, slices: number): number[] {
  if (!Number.isInteger(qty) || qty <= 0) throw new RangeError(`qty: ${qty} must be a positive integer`);
  if (!Number.isInteger(slices) || slices <= 0)
    throw new RangeError(`slices: ${slices} must be a positive integer`);
  return proportional(qty, new Array<number>(slices).fill(1));
}

export function vwapSchedule(qty: number, curve: readonly number[]): number[] {
  if (!curve.length || curve.some((w) => !(w >= 0)) || curve.every((w) => w === 0))
    throw new RangeError('volumeCurve: needs non-negative weights, not all zero');
  return proportional(qty, curve);
}

function proportional(qty: number, weights: readonly number[]): number[] {
  const total = weights.reduce((s, w) => s + w, 0);
  const raw = weights.map((w) => (qty * w) / total);
  const out = raw.map(Math.floor);
  let left = qty - out.reduce((s, x) => s + x, 0);
  const order = raw
    .map((r, i) => ({ i, frac: r - Math.floor(r) }))
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) out[order[k]!.i]!++;
  return out;
}

/** Relative volume per slice from historical bars' minute-of-day volumes (average over days). */
export function volumeCurve(minuteVolumes: readonly number[][], slices: number): number[] {
  const days = minuteVolumes.length;
  if (!days) return new Array<number>(slices).fill(1);
  const minutes = Math.min(...minuteVolumes.map((d) => d.length));
  const per = Math.max(1, Math.floor(minutes / slices));
  const out: number[] = [];
  for (let s = 0; s < slices; s++) {
    let v = 0;
    for (const d of minuteVolumes)
      for (let m = s * per; m < Math.min(minutes, (s + 1) * per); m++) v += d[m]!;
    out.push(v / days);
  }
  return out.every((v) => v === 0) ? new Array<number>(slices).fill(1) : out;
}

/**
 * The quoted spread in basis points of the mid from the newest quote at or before `atMs`, when it is fresh (no
 * older than `maxAgeMs`) and two-sided and not crossed; null otherwise (the caller then assumes a spread).
 */
export function quotedSpreadBps(
  quote: { readonly ts: number; readonly bid: number; readonly ask: number } | undefined,
  atMs: number,
  maxAgeMs: number,
): number | null {
  if (!quote || quote.ts > atMs || quote.ts < atMs - maxAgeMs) return null;
  const { bid, ask } = quote;
  if (!(bid > 0) || !(ask > 0) || ask < bid) return null;
  return ((ask - bid) / ((ask + bid) / 2)) * 10_000;
}

/**
 * Market vs marketable limit: a market order when urgency is high or the spread is tight; otherwise a limit
 * through the far touch by a small buffer, which fills like a market order in normal conditions but caps the
 * price paid when the book is thin.
 */
export function chooseOrderType(a: {
  side: 'buy' | 'sell';
  refPrice: number;
  spreadBps: number;
  urgency: 'low' | 'normal' | 'high';
}): { type: 'market' } | { type: 'limit'; limitPrice: number } {
  if (a.urgency === 'high' || a.spreadBps <= 5) return { type: 'market' };
  const through = (a.spreadBps / 2 + (a.urgency === 'low' ? 2 : 10)) / 10_000;
  const px = a.side === 'buy' ? a.refPrice * (1 + through) : a.refPrice * (1 - through);
  return { type: 'limit', limitPrice: Math.round(px * 100) / 100 };
}

export function executionQuality(
  side: 'buy' | 'sell',
  qty: number,
  arrivalPrice: number,
  fills: readonly ChildFill[],
  lastPrice: number,
): ExecutionQuality {
  const filledQty = fills.reduce((s, f) => s + f.filledQty, 0);
  if (!filledQty) return { filledQty: 0, avgPrice: null, slippageBps: null, implementationShortfall: null };
  const notional = fills.reduce((s, f) => s + f.filledQty * (f.avgPrice ?? 0), 0);
  const avg = notional / filledQty;
  const sign = side === 'buy' ? 1 : -1;
  const slippageBps = (sign * (avg - arrivalPrice) * 10_000) / arrivalPrice;
  const executionCost = sign * (avg - arrivalPrice) * filledQty;
  const opportunityCost = sign * (lastPrice - arrivalPrice) * (qty - filledQty);
  return { filledQty, avgPrice: avg, slippageBps, implementationShortfall: executionCost + opportunityCost };
}
