/**
 * Orders: the kinds we trade (market, limit, stop, stop-limit, trailing stop; bracket / OCO / OTO classes),
 * and the status transition table. Field names follow Alpaca's order request so an order spec passes through
 * the Broker port unchanged. One spec and one order type from the strategy to the venue and back. Pure and
 * JSON-friendly: workflows import this.
 */
export type OrderSide = 'buy' | 'sell';
export type OrderType = 'market' | 'limit' | 'stop' | 'stop_limit' | 'trailing_stop';
export type TimeInForce = 'day' | 'gtc' | 'ioc' | 'fok' | 'opg' | 'cls';
export type OrderClass = 'simple' | 'bracket' | 'oco' | 'oto';
export type OrderStatus =
  | 'pending_new'
  | 'new'
  | 'accepted'
  | 'partially_filled'
  | 'filled'
  | 'pending_cancel'
  | 'canceled'
  | 'expired'
  | 'rejected'
  | 'replaced'
  | 'done_for_day';

/** Why an order exists: carried into fills and trades so P&L can be attributed. */
export interface OrderTag {
  readonly tier?: 1 | 2 | 3;
  readonly model?: string;
  readonly timeframe?: string;
  /** 'entry' opens or adds; 'exit' reduces or closes; the risk engine treats exits as risk-reducing. */
  readonly intent?: 'entry' | 'exit';
  readonly reason?: string;
}

/**
 * What a strategy asks for, and what every venue is given: the simulated broker and the Broker port take this
 * very type (Alpaca's field names and semantics); the tag stays on our side of the venue.
 */
export interface OrderSpec {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly qty: number;
  readonly type: OrderType;
  readonly timeInForce: TimeInForce;
  readonly limitPrice?: number;
  readonly stopPrice?: number;
  readonly trailPrice?: number;
  readonly trailPercent?: number;
  readonly orderClass?: OrderClass;
  readonly takeProfit?: { readonly limitPrice: number };
  readonly stopLoss?: { readonly stopPrice: number; readonly limitPrice?: number };
  readonly tag?: OrderTag;
}

/**
 * An order as a venue holds it — the simulated broker, the simulator's API and Alpaca alike: the spec plus the
 * venue's state. Plain data: state changes produce a new object.
 */
export interface Order extends OrderSpec {
  readonly id: string;
  readonly status: OrderStatus;
  readonly orderClass: OrderClass;
  readonly filledQty: number;
  readonly filledAvgPrice?: number;
  /** epoch ms the order reached the broker */
  readonly submittedAt: number;
  readonly updatedAt: number;
  /** a leg waiting for its parent to fill (bracket / OTO children): Alpaca's status "held" */
  readonly held?: boolean;
  readonly parentId?: string;
  /** bracket / OCO / OTO legs, nested as Alpaca lists them */
  readonly legs?: readonly Order[];
  readonly rejectReason?: string;
  // The simulated broker's matching state (absent from a real venue's orders):
  /** epoch ms from which the order may fill: the next bar at the earliest, plus latency */
  readonly eligibleAt?: number;
  /** stop/trailing stop has been triggered */
  readonly triggered?: boolean;
  /** high-water (sell) or low-water (buy) mark for trailing stops */
  readonly trailMark?: number;
  /** ids of its legs in the simulated broker's book */
  readonly legIds?: readonly string[];
}

export const OPEN_STATUSES: readonly OrderStatus[] = [
  'pending_new',
  'new',
  'accepted',
  'partially_filled',
  'pending_cancel',
];

/**
 * Allowed status moves. Anything not listed is impossible (a filled order cannot be canceled, a canceled one
 * cannot fill) and `transition` throws, so a broker bug or an out-of-order event is caught, not absorbed.
 */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending_new: ['new', 'accepted', 'rejected', 'canceled'],
  new: [
    'accepted',
    'partially_filled',
    'filled',
    'pending_cancel',
    'canceled',
    'expired',
    'rejected',
    'replaced',
    'done_for_day',
  ],
  accepted: [
    'new',
    'partially_filled',
    'filled',
    'pending_cancel',
    'canceled',
    'expired',
    'rejected',
    'replaced',
    'done_for_day',
  ],
  partially_filled: [
    'partially_filled',
    'filled',
    'pending_cancel',
    'canceled',
    'expired',
    'replaced',
    'done_for_day',
  ],
  pending_cancel: ['canceled', 'filled', 'partially_filled'],
  filled: [],
  canceled: [],
  expired: [],
  rejected: [],
  replaced: [],
  done_for_day: ['new', 'partially_filled', 'canceled', 'expired'],
};

export class InvalidOrderTransitionError extends Error {
  constructor(
    readonly orderId: string,
    readonly from: OrderStatus,
    readonly to: OrderStatus,
  ) {
    super(`order ${orderId}: status cannot move from ${from} to ${to}`);
    this.name = 'InvalidOrderTransitionError';
  }
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ORDER_TRANSITIONS[from].includes(to);
}

/** The new status, or throws InvalidOrderTransitionError naming the order and both statuses. */
export function transition(orderId: string, from: OrderStatus, to: OrderStatus): OrderStatus {
  if (!canTransition(from, to)) throw new InvalidOrderTransitionError(orderId, from, to);
  return to;
}

export function isOpenOrder(o: { status: OrderStatus }): boolean {
  return OPEN_STATUSES.includes(o.status);
}

/** Validates an order spec; returns a message naming the field and the problem, or undefined when valid. */
export function validateOrderSpec(r: OrderSpec): string | undefined {
  if (!r.clientOrderId) return 'clientOrderId: must not be empty';
  if (r.clientOrderId.length > 128) return `clientOrderId: ${r.clientOrderId.length} chars exceeds 128`;
  if (!r.symbol) return 'symbol: must not be empty';
  if (r.side !== 'buy' && r.side !== 'sell') return `side: "${String(r.side)}" must be buy or sell`;
  if (!(r.qty > 0) || !Number.isFinite(r.qty)) return `qty: ${r.qty} must be a positive finite number`;
  const cls = r.orderClass ?? 'simple';
  if ((r.type === 'limit' || r.type === 'stop_limit') && !(r.limitPrice! > 0) && cls !== 'oco')
    return `limitPrice: required and positive for a ${r.type} order`;
  if ((r.type === 'stop' || r.type === 'stop_limit') && !(r.stopPrice! > 0))
    return `stopPrice: required and positive for a ${r.type} order`;
  if (r.type === 'trailing_stop' && !(r.trailPrice! > 0) && !(r.trailPercent! > 0))
    return 'trailPrice/trailPercent: one is required for a trailing_stop order';
  if ((cls === 'bracket' || cls === 'oco') && (!r.takeProfit || !r.stopLoss))
    return `takeProfit/stopLoss: both are required for a ${cls} order`;
  if (cls === 'oto' && !r.takeProfit && !r.stopLoss)
    return 'takeProfit/stopLoss: one is required for an oto order';
  if (r.takeProfit && !(r.takeProfit.limitPrice > 0)) return 'takeProfit.limitPrice: must be positive';
  if (r.stopLoss && !(r.stopLoss.stopPrice > 0)) return 'stopLoss.stopPrice: must be positive';
  if (cls === 'bracket' && r.takeProfit && r.stopLoss) {
    const tp = r.takeProfit.limitPrice;
    const sl = r.stopLoss.stopPrice;
    if (r.side === 'buy' && !(tp > sl))
      return `takeProfit.limitPrice: ${tp} must be above stopLoss.stopPrice ${sl} for a buy bracket`;
    if (r.side === 'sell' && !(tp < sl))
      return `takeProfit.limitPrice: ${tp} must be below stopLoss.stopPrice ${sl} for a sell bracket`;
  }
  return undefined;
}
