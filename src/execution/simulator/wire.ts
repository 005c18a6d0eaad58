import { randomUUID } from 'node:crypto';
import type { Bar } from '../../model/bar';
import type {
  BrokerAccount,
  BrokerOrder,
  BrokerPosition,
  CalendarDay,
  MarketClock,
  OrderClass,
  OrderRequest,
  OrderSide,
  OrderType,
  TimeInForce,
} from '../broker';

/**
 * Alpaca's JSON wire shapes (snake_case, decimal strings for money and quantities, RFC 3339 times), produced
 * from and parsed into the Broker port's plain types. Shapes follow docs.alpaca.markets; canned examples live
 * in test/fixtures/alpaca/.
 */
const num = (x: number | undefined): string | null => (x === undefined ? null : trimNum(x));
function trimNum(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Math.round(x * 1e6) / 1e6);
}
const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function assetIdFor(symbol: string): string {
  // Stable UUID-shaped id per symbol (the simulator has no asset master).
  let h = 0;
  for (const c of symbol) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const hex = h.toString(16).padStart(8, '0');
  return `${hex}-0000-4000-8000-${hex.padEnd(12, '0').slice(0, 12)}`;
}

export function orderToWire(o: BrokerOrder, updatedAt = o.submittedAt): Record<string, unknown> {
  const terminalAt =
    o.status === 'filled' || o.status === 'canceled' || o.status === 'expired' ? iso(updatedAt) : null;
  return {
    id: o.id,
    client_order_id: o.clientOrderId,
    created_at: iso(o.submittedAt),
    updated_at: iso(updatedAt),
    submitted_at: iso(o.submittedAt),
    filled_at: o.status === 'filled' ? terminalAt : null,
    expired_at: o.status === 'expired' ? terminalAt : null,
    canceled_at: o.status === 'canceled' ? terminalAt : null,
    failed_at: null,
    replaced_at: null,
    replaced_by: null,
    replaces: null,
    asset_id: assetIdFor(o.symbol),
    symbol: o.symbol,
    asset_class: 'us_equity',
    notional: null,
    qty: trimNum(o.qty),
    filled_qty: trimNum(o.filledQty),
    filled_avg_price: num(o.filledAvgPrice),
    order_class: o.orderClass === 'simple' ? '' : o.orderClass,
    order_type: o.type,
    type: o.type,
    side: o.side,
    position_intent: o.side === 'buy' ? 'buy_to_open' : 'sell_to_close',
    time_in_force: o.timeInForce,
    limit_price: num(o.limitPrice),
    stop_price: num(o.stopPrice),
    status: o.status,
    extended_hours: false,
    legs: o.legs ? o.legs.map((l) => orderToWire(l, updatedAt)) : null,
    trail_percent: num(o.trailPercent),
    trail_price: num(o.trailPrice),
    hwm: null,
    subtag: null,
    source: null,
    expires_at: null,
  };
}

export function orderFromWire(w: Record<string, any>): BrokerOrder {
  const n = (v: unknown) => (v === null || v === undefined || v === '' ? undefined : Number(v));
  const t = (v: unknown) => (v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : 0);
  return {
    id: String(w.id),
    clientOrderId: String(w.client_order_id ?? w.clientOrderId),
    symbol: String(w.symbol),
    side: w.side as OrderSide,
    type: (w.type ?? w.order_type ?? w.orderType) as OrderType,
    orderClass: ((w.order_class ?? w.orderClass) || 'simple') as OrderClass,
    timeInForce: (w.time_in_force ?? w.timeInForce) as TimeInForce,
    qty: Number(w.qty),
    filledQty: Number(w.filled_qty ?? w.filledQty ?? 0),
    filledAvgPrice: n(w.filled_avg_price ?? w.filledAvgPrice),
    limitPrice: n(w.limit_price ?? w.limitPrice),
    stopPrice: n(w.stop_price ?? w.stopPrice),
    trailPrice: n(w.trail_price ?? w.trailPrice),
    trailPercent: n(w.trail_percent ?? w.trailPercent),
    status: w.status,
    submittedAt: t(w.submitted_at ?? w.submittedAt),
    legs:
      Array.isArray(w.legs) && w.legs.length
        ? w.legs.map((l: Record<string, any>) => orderFromWire(l))
        : undefined,
  };
}

/** POST /v2/orders body → OrderRequest; throws with the field name on a malformed body. */
export function orderRequestFromWire(body: Record<string, any>): OrderRequest {
  const need = (field: string) => {
    if (body[field] === undefined || body[field] === null || body[field] === '')
      throw new Error(`${field} is required`);
    return body[field];
  };
  const n = (v: unknown, field: string) => {
    if (v === undefined || v === null || v === '') return undefined;
    const x = Number(v);
    if (!Number.isFinite(x)) throw new Error(`${field}: "${String(v)}" is not a number`);
    return x;
  };
  const tp = body.take_profit as Record<string, unknown> | undefined;
  const sl = body.stop_loss as Record<string, unknown> | undefined;
  const cls = (body.order_class || 'simple') as OrderClass;
  return {
    // Alpaca generates an id when the client sends none.
    clientOrderId: body.client_order_id ? String(body.client_order_id) : randomUUID(),
    symbol: String(need('symbol')).toUpperCase(),
    side: need('side') as OrderSide,
    qty: n(need('qty'), 'qty')!,
    type: need('type') as OrderType,
    timeInForce: need('time_in_force') as TimeInForce,
    limitPrice: n(body.limit_price, 'limit_price'),
    stopPrice: n(body.stop_price, 'stop_price'),
    trailPrice: n(body.trail_price, 'trail_price'),
    trailPercent: n(body.trail_percent, 'trail_percent'),
    orderClass: cls,
    takeProfit: tp ? { limitPrice: n(tp.limit_price, 'take_profit.limit_price')! } : undefined,
    stopLoss: sl
      ? {
          stopPrice: n(sl.stop_price, 'stop_loss.stop_price')!,
          limitPrice: n(sl.limit_price, 'stop_loss.limit_price'),
        }
      : undefined,
  };
}

export function positionToWire(p: BrokerPosition, lastdayPrice = p.currentPrice): Record<string, unknown> {
  const cost = p.avgEntryPrice * p.qty;
  return {
    asset_id: assetIdFor(p.symbol),
    symbol: p.symbol,
    exchange: 'NASDAQ',
    asset_class: 'us_equity',
    asset_marginable: true,
    qty: trimNum(p.qty),
    qty_available: trimNum(p.qty),
    avg_entry_price: trimNum(p.avgEntryPrice),
    side: p.qty >= 0 ? 'long' : 'short',
    market_value: trimNum(p.marketValue),
    cost_basis: trimNum(cost),
    unrealized_pl: trimNum(p.unrealizedPl),
    unrealized_plpc: trimNum(cost ? p.unrealizedPl / Math.abs(cost) : 0),
    unrealized_intraday_pl: trimNum(p.unrealizedPl),
    unrealized_intraday_plpc: trimNum(cost ? p.unrealizedPl / Math.abs(cost) : 0),
    current_price: trimNum(p.currentPrice),
    lastday_price: trimNum(lastdayPrice),
    change_today: trimNum(lastdayPrice ? (p.currentPrice - lastdayPrice) / lastdayPrice : 0),
  };
}

export function positionFromWire(w: Record<string, any>): BrokerPosition {
  const qty = Number(w.qty);
  return {
    symbol: String(w.symbol),
    // Alpaca reports a short position's qty as a negative number already; side confirms it.
    qty: w.side === 'short' && qty > 0 ? -qty : qty,
    avgEntryPrice: Number(w.avg_entry_price ?? w.avgEntryPrice),
    marketValue: Number(w.market_value ?? w.marketValue),
    unrealizedPl: Number(w.unrealized_pl ?? w.unrealizedPl),
    currentPrice: Number(w.current_price ?? w.currentPrice),
  };
}

export function accountToWire(
  a: BrokerAccount,
  positions: readonly BrokerPosition[],
  now: number,
): Record<string, unknown> {
  const longMv = positions.filter((p) => p.qty > 0).reduce((s, p) => s + p.marketValue, 0);
  const shortMv = positions.filter((p) => p.qty < 0).reduce((s, p) => s + p.marketValue, 0);
  return {
    id: a.id,
    account_number: a.id,
    status: a.status,
    crypto_status: 'ACTIVE',
    currency: 'USD',
    buying_power: trimNum(a.buyingPower),
    regt_buying_power: trimNum(a.buyingPower),
    daytrading_buying_power: trimNum(a.buyingPower),
    non_marginable_buying_power: trimNum(a.buyingPower),
    cash: trimNum(a.cash),
    accrued_fees: '0',
    pending_transfer_in: '0',
    portfolio_value: trimNum(a.equity),
    pattern_day_trader: false,
    trading_blocked: false,
    transfers_blocked: false,
    account_blocked: false,
    created_at: '2024-01-02T14:30:00Z',
    trade_suspended_by_user: false,
    multiplier: '1',
    shorting_enabled: true,
    equity: trimNum(a.equity),
    last_equity: trimNum(a.lastEquity),
    long_market_value: trimNum(longMv),
    short_market_value: trimNum(shortMv),
    initial_margin: '0',
    maintenance_margin: '0',
    last_maintenance_margin: '0',
    sma: '0',
    daytrade_count: 0,
    balance_asof: new Date(now).toISOString().slice(0, 10),
  };
}

export function accountFromWire(w: Record<string, any>): BrokerAccount {
  return {
    id: String(w.id),
    status: String(w.status),
    cash: Number(w.cash),
    equity: Number(w.equity),
    buyingPower: Number(w.buying_power ?? w.buyingPower),
    lastEquity: Number(w.last_equity ?? w.lastEquity ?? w.equity),
  };
}

export function clockToWire(c: MarketClock, nyOffsetMinutes: number): Record<string, unknown> {
  return {
    timestamp: isoWithOffset(c.timestamp, nyOffsetMinutes),
    is_open: c.isOpen,
    next_open: isoWithOffset(c.nextOpen, nyOffsetMinutes),
    next_close: isoWithOffset(c.nextClose, nyOffsetMinutes),
  };
}

export function calendarDayToWire(d: CalendarDay): Record<string, unknown> {
  return {
    date: d.date,
    open: d.open,
    close: d.close,
    session_open: '0400',
    session_close: '2000',
    settlement_date: d.date,
  };
}

export function barToWire(b: Bar): Record<string, unknown> {
  return {
    t: new Date(b.ts).toISOString(),
    o: b.open,
    h: b.high,
    l: b.low,
    c: b.close,
    v: b.volume,
    n: b.tradeCount ?? 0,
    vw: b.vwap ?? b.close,
  };
}

function isoWithOffset(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().replace('Z', '');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export function alpacaError(code: number, message: string): { code: number; message: string } {
  return { code, message };
}
