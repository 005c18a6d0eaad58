/**
 * The day's report from what the broker says happened (orders, fills) and what the decisions saw (the arrival
 * price: the last close before each order's decision, whose time its client order id carries). Pure.
 */
import type { DayOrder, DayReport, SessionMode } from '../../contracts/session';
import { parseClientOrderId } from '../model/client-order-id';

export interface DayReportInput {
  readonly date: string;
  readonly account: string;
  readonly mode: SessionMode;
  readonly sessionId: string;
  readonly tradedModels: readonly string[];
  readonly orders: readonly DayOrder[];
  /** the close of `symbol`'s newest bar closed by `decidedAt` (undefined when none is stored) */
  readonly arrival: (symbol: string, decidedAt: number) => number | undefined;
  readonly session: {
    readonly dailyPnl: number | null;
    readonly startEquity: number | null;
  } | null;
  readonly data: DayReport['data'];
  readonly flat: boolean | null;
}

/** Signed slippage of a fill against the arrival price, bps: positive is worse for the order's side. */
export function slippageBps(side: 'buy' | 'sell', avgPrice: number, arrival: number): number {
  return ((side === 'buy' ? 1 : -1) * (avgPrice - arrival) * 10_000) / arrival;
}

export function buildDayReport(r: DayReportInput): DayReport {
  let filled = 0;
  let partiallyFilled = 0;
  let unfilled = 0;
  let shares = 0;
  let notional = 0;
  let weighted = 0;
  let weight = 0;
  let worst: number | null = null;
  const bySymbol = new Map<
    string,
    { orders: number; filledQty: number; notional: number; weighted: number; weight: number }
  >();
  for (const o of r.orders) {
    const s = bySymbol.get(o.symbol) ?? { orders: 0, filledQty: 0, notional: 0, weighted: 0, weight: 0 };
    bySymbol.set(o.symbol, s);
    s.orders++;
    if (o.filledQty <= 0 || o.avgPrice === null) {
      unfilled++;
      continue;
    }
    if (o.filledQty < o.qty) partiallyFilled++;
    else filled++;
    const n = o.filledQty * o.avgPrice;
    shares += o.filledQty;
    notional += n;
    s.filledQty += o.filledQty;
    s.notional += n;
    const decidedAt = parseClientOrderId(o.clientOrderId)?.barTs;
    const arrival = decidedAt === undefined ? undefined : r.arrival(o.symbol, decidedAt);
    if (arrival === undefined || !(arrival > 0)) continue;
    const bps = slippageBps(o.side, o.avgPrice, arrival);
    weighted += bps * n;
    weight += n;
    s.weighted += bps * n;
    s.weight += n;
    worst = worst === null ? bps : Math.max(worst, bps);
  }
  const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
  const pnl = r.session?.dailyPnl ?? null;
  const start = r.session?.startEquity ?? null;
  return {
    date: r.date,
    account: r.account,
    mode: r.mode,
    sessionId: r.sessionId,
    tradedModels: r.tradedModels,
    pnl: {
      daily: pnl,
      startEquity: start,
      endEquity: pnl !== null && start !== null ? round(start + pnl) : null,
    },
    orders: { placed: r.orders.length, filled, partiallyFilled, unfilled },
    fills: { shares: round(shares, 6), notional: round(notional) },
    slippage: {
      avgBps: weight > 0 ? round(weighted / weight) : null,
      worstBps: worst === null ? null : round(worst),
      bySymbol: [...bySymbol.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([symbol, s]) => ({
          symbol,
          orders: s.orders,
          filledQty: round(s.filledQty, 6),
          notional: round(s.notional),
          slippageBps: s.weight > 0 ? round(s.weighted / s.weight) : null,
        })),
    },
    data: r.data,
    flat: r.flat,
  };
}

/** The report as an operator reads it (`trader session report`). */
export function formatDayReport(d: DayReport): string {
  const money = (x: number | null) => (x === null ? '-' : x.toFixed(2));
  const lines = [
    `day ${d.date}  account ${d.account}  ${d.mode}  session ${d.sessionId}`,
    `  decided by: ${d.tradedModels?.length ? `model ${d.tradedModels.join(', ')}` : 'no model (indicator signals, or a strategy without one)'}`,
    `  P&L ${money(d.pnl.daily)}  (equity ${money(d.pnl.startEquity)} -> ${money(d.pnl.endEquity)})  flat at the end: ${d.flat === null ? '-' : d.flat ? 'yes' : 'NO'}`,
    `  orders ${d.orders.placed}: filled ${d.orders.filled}, partially ${d.orders.partiallyFilled}, unfilled ${d.orders.unfilled}; ${d.fills.shares} shares, $${d.fills.notional.toFixed(2)} traded`,
    `  slippage vs arrival (the last close at the decision): avg ${d.slippage.avgBps ?? '-'} bps, worst ${d.slippage.worstBps ?? '-'} bps (positive = worse)`,
  ];
  if (d.data) {
    const missing = Object.entries(d.data.missing).filter(([, n]) => n > 0);
    lines.push(
      `  data: ${d.data.expectedMinutes} minutes expected per symbol; ${missing.length ? `missing ${missing.map(([s, n]) => `${s} ${n}`).join(', ')}` : 'none missing'}`,
    );
  }
  for (const s of d.slippage.bySymbol)
    lines.push(
      `    ${s.symbol.padEnd(8)} orders ${String(s.orders).padStart(4)}  filled ${String(s.filledQty).padStart(8)}  $${s.notional.toFixed(2).padStart(12)}  slippage ${s.slippageBps ?? '-'} bps`,
    );
  return lines.join('\n');
}
