import { randomUUID } from 'node:crypto';
import type { Fill, OrderEvent, TradingEvent } from '../../model/events';
import type {
  Order,
  OrderClass,
  OrderSide,
  OrderSpec,
  OrderStatus,
  OrderType,
  TimeInForce,
} from '../../model/order';
import { marketValue, unrealizedPnl, type Holding } from '../../model/position';
import type { BrokerAccount, CalendarDay, MarketClock } from '../broker';

/**
 * Alpaca's JSON wire shapes (snake_case, decimal strings for money and quantities, RFC 3339 times), produced
 * from and parsed into the model's types: an `OrderSpec` in, `Order`, `Holding` and order events out. The
 * simulator answers with them; the Alpaca adapter reads the SDK's objects with them (camelCase accepted too).
 * Shapes follow docs.alpaca.markets; canned examples live in test/fixtures/alpaca/.
 */
const num = (x: number | undefined): string | null => (x === undefined ? null : trimNum(x));
/**
 * A number as Alpaca's JSON carries it: a decimal string. Exact (the shortest round-trip form): crypto
 * quantities have 9 decimals and a rounded quantity or price would make the client's books differ from ours.
 */
function trimNum(x: number): string {
  return String(x);
}
const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function assetIdFor(symbol: string): string {
  // Stable UUID-shaped id per symbol (the simulator has no asset master).
  let h = 0;
  for (const c of symbol) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const hex = h.toString(16).padStart(8, '0');
  return `${hex}-0000-4000-8000-${hex.padEnd(12, '0').slice(0, 12)}`;
}

export function orderToWire(o: Order, updatedAt = o.updatedAt): Record<string, unknown> {
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
    // a leg waiting for its parent is "held" at Alpaca
    status: o.held ? 'held' : o.status,
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

/**
 * Alpaca's order statuses the model has no word for, as the nearest model status (open stays open, done stays
 * done). "held" is a leg waiting for its parent: status new, `held` set.
 */
const ALPACA_STATUS: Readonly<Record<string, OrderStatus>> = {
  held: 'new',
  pending_replace: 'accepted',
  stopped: 'accepted',
  suspended: 'accepted',
  pending_review: 'pending_new',
  accepted_for_bidding: 'pending_new',
  calculated: 'done_for_day',
};

export function orderFromWire(w: Record<string, any>): Order {
  const n = (v: unknown) => (v === null || v === undefined || v === '' ? undefined : Number(v));
  const t = (v: unknown) => (v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : 0);
  const status = String(w.status);
  const submittedAt = t(w.submitted_at ?? w.submittedAt);
  const legs =
    Array.isArray(w.legs) && w.legs.length
      ? (w.legs as Array<Record<string, any>>).map((l) => orderFromWire(l))
      : undefined;
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
    status: ALPACA_STATUS[status] ?? (status as OrderStatus),
    ...(status === 'held' ? { held: true } : {}),
    submittedAt,
    updatedAt: t(w.updated_at ?? w.updatedAt) || submittedAt,
    ...(legs ? { legs } : {}),
  };
}

/** POST /v2/orders body → OrderSpec; throws with the field name on a malformed body. */
export function orderSpecFromWire(body: Record<string, any>): OrderSpec {
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

export function positionToWire(p: Holding, lastdayPrice = p.lastPrice): Record<string, unknown> {
  const cost = p.avgPrice * p.qty;
  const pl = unrealizedPnl(p);
  return {
    asset_id: assetIdFor(p.symbol),
    symbol: p.symbol,
    exchange: 'NASDAQ',
    asset_class: 'us_equity',
    asset_marginable: true,
    qty: trimNum(p.qty),
    qty_available: trimNum(p.qty),
    avg_entry_price: trimNum(p.avgPrice),
    side: p.qty >= 0 ? 'long' : 'short',
    market_value: trimNum(marketValue(p)),
    cost_basis: trimNum(cost),
    unrealized_pl: trimNum(pl),
    unrealized_plpc: trimNum(cost ? pl / Math.abs(cost) : 0),
    unrealized_intraday_pl: trimNum(pl),
    unrealized_intraday_plpc: trimNum(cost ? pl / Math.abs(cost) : 0),
    current_price: trimNum(p.lastPrice),
    lastday_price: trimNum(lastdayPrice),
    change_today: trimNum(lastdayPrice ? (p.lastPrice - lastdayPrice) / lastdayPrice : 0),
  };
}

/** Alpaca's position (snake_case, or the SDK's camelCase) as a holding: its market value and P&L follow from it. */
export function positionFromWire(w: Record<string, any>): Holding {
  const qty = Number(w.qty);
  return {
    symbol: String(w.symbol),
    // Alpaca reports a short position's qty as a negative number already; side confirms it.
    qty: w.side === 'short' && qty > 0 ? -qty : qty,
    avgPrice: Number(w.avg_entry_price ?? w.avgEntryPrice),
    lastPrice: Number(w.current_price ?? w.currentPrice),
  };
}

export function accountToWire(
  a: BrokerAccount,
  positions: readonly Holding[],
  now: number,
): Record<string, unknown> {
  const longMv = positions.filter((p) => p.qty > 0).reduce((s, p) => s + marketValue(p), 0);
  const shortMv = positions.filter((p) => p.qty < 0).reduce((s, p) => s + marketValue(p), 0);
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

/** Alpaca's trade_updates event name for an order event (undefined for events Alpaca does not stream). */
export function alpacaEventName(e: TradingEvent): string | undefined {
  switch (e.type) {
    case 'OrderAccepted':
      return 'new';
    case 'OrderPartiallyFilled':
      return 'partial_fill';
    case 'OrderFilled':
      return 'fill';
    case 'OrderCanceled':
      return 'canceled';
    case 'OrderExpired':
      return 'expired';
    case 'OrderRejected':
      return 'rejected';
    case 'OrderReplaced':
      return 'replaced';
    default:
      return undefined;
  }
}

/** An order event as a trade_updates message's `data` (undefined for events Alpaca does not stream). */
export function tradeUpdateToWire(e: OrderEvent): Record<string, unknown> | undefined {
  const event = alpacaEventName(e);
  if (event === undefined || !('order' in e)) return undefined;
  const fill = e.type === 'OrderFilled' || e.type === 'OrderPartiallyFilled' ? e : undefined;
  return {
    event,
    execution_id: `${e.order.id}:${e.order.filledQty}`,
    order: {
      ...orderToWire(e.order, e.ts),
      ...(e.type === 'OrderReplaced' ? { replaced_by: e.replacedById } : {}),
    },
    timestamp: new Date(e.ts).toISOString(),
    ...(fill
      ? {
          price: String(fill.fill.price),
          qty: String(fill.fill.qty),
          position_qty: String(fill.positionQty),
        }
      : {}),
  };
}

/**
 * A trade_updates message (raw JSON or the SDK's parsed form) as the order event it reports; undefined for the
 * events the model has no event for (pending_new, pending_cancel, done_for_day, …). `receivedTs`: when we got it.
 */
export function orderEventFromWire(u: Record<string, any>, receivedTs: number): OrderEvent | undefined {
  const order = orderFromWire(u.order as Record<string, any>);
  const at = u.timestamp instanceof Date ? u.timestamp.getTime() : Date.parse(String(u.timestamp));
  const ts = Number.isFinite(at) ? at : order.updatedAt;
  const event = String(u.event);
  const executionId = u.execution_id ?? u.executionId;
  const base = {
    eventId: `alpaca:${executionId ?? `${order.id}:${event}:${ts}`}`,
    ts,
    receivedTs,
    orderId: order.id,
    clientOrderId: order.clientOrderId,
  };
  switch (event) {
    case 'new':
      return { ...base, type: 'OrderAccepted', order };
    case 'fill':
    case 'partial_fill': {
      const fill: Fill = {
        orderId: order.id,
        clientOrderId: order.clientOrderId,
        symbol: order.symbol,
        side: order.side,
        qty: Number(u.qty),
        price: Number(u.price),
        ts,
        commission: 0,
        regulatoryFees: 0,
        slippage: 0,
      };
      const positionQty = Number(u.position_qty ?? u.positionQty);
      return event === 'fill'
        ? { ...base, type: 'OrderFilled', fill, order, positionQty }
        : { ...base, type: 'OrderPartiallyFilled', fill, order, positionQty };
    }
    case 'canceled':
      return { ...base, type: 'OrderCanceled', reason: 'canceled at the venue', order };
    case 'expired':
      return { ...base, type: 'OrderExpired', order };
    case 'rejected':
      return { ...base, type: 'OrderRejected', reason: 'rejected by the venue', order };
    case 'replaced': {
      const by = u.order?.replaced_by ?? u.order?.replacedBy;
      return { ...base, type: 'OrderReplaced', replacedById: by ? String(by) : '', order };
    }
    default:
      return undefined;
  }
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
