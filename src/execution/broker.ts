/**
 * The Broker port: what the trading session needs from a broker, in plain numbers and epoch-ms times.
 * Implemented by the Alpaca adapter (real SDK over HTTP: Alpaca paper/live or the local simulator) and by
 * the in-process client over the simulator's exchange engine. Strategies never see a broker; only the
 * execution activities do.
 */
import type { OrderClass, OrderSide, OrderSpec, OrderType, TimeInForce } from '../model/order';

// One order vocabulary for strategies, the simulated broker and this port (Alpaca semantics).
export type { OrderClass, OrderSide, OrderType, TimeInForce } from '../model/order';
export type BrokerOrderStatus =
  | 'new'
  | 'accepted'
  | 'pending_new'
  | 'held'
  | 'partially_filled'
  | 'filled'
  | 'canceled'
  | 'expired'
  | 'rejected'
  | 'pending_cancel'
  | 'done_for_day'
  | 'replaced';

export const OPEN_ORDER_STATUSES: readonly BrokerOrderStatus[] = [
  'new',
  'accepted',
  'pending_new',
  'held',
  'partially_filled',
  'pending_cancel',
];

/** What the port submits: a strategy's OrderSpec without its strategy-side tag. */
export type OrderRequest = Omit<OrderSpec, 'tag'>;

export interface BrokerOrder {
  readonly id: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly orderClass: OrderClass;
  readonly timeInForce: TimeInForce;
  readonly qty: number;
  readonly filledQty: number;
  readonly filledAvgPrice?: number;
  readonly limitPrice?: number;
  readonly stopPrice?: number;
  readonly trailPrice?: number;
  readonly trailPercent?: number;
  readonly status: BrokerOrderStatus;
  /** epoch ms */
  readonly submittedAt: number;
  readonly legs?: readonly BrokerOrder[];
}

export interface BrokerPosition {
  readonly symbol: string;
  /** signed: negative is short */
  readonly qty: number;
  readonly avgEntryPrice: number;
  readonly marketValue: number;
  readonly unrealizedPl: number;
  readonly currentPrice: number;
}

export interface BrokerAccount {
  readonly id: string;
  readonly status: string;
  readonly cash: number;
  readonly equity: number;
  readonly buyingPower: number;
  readonly lastEquity: number;
}

export interface MarketClock {
  readonly timestamp: number;
  readonly isOpen: boolean;
  readonly nextOpen: number;
  readonly nextClose: number;
}

export interface CalendarDay {
  /** YYYY-MM-DD (exchange date) */
  readonly date: string;
  /** HH:MM America/New_York */
  readonly open: string;
  readonly close: string;
}

export type TradeUpdateEvent =
  'new' | 'fill' | 'partial_fill' | 'canceled' | 'expired' | 'rejected' | 'replaced' | 'done_for_day';

export interface TradeUpdate {
  readonly event: TradeUpdateEvent | string;
  readonly order: BrokerOrder;
  readonly timestamp: number;
  readonly price?: number;
  readonly qty?: number;
  readonly positionQty?: number;
}

export interface SubmitResult {
  readonly order: BrokerOrder;
  /** true when an order with this client order id already existed: nothing new was placed. */
  readonly alreadyExisted: boolean;
}

export interface OrderQuery {
  readonly status?: 'open' | 'closed' | 'all';
  readonly limit?: number;
  readonly symbols?: readonly string[];
}

export interface TradeUpdateSubscription {
  close(): Promise<void>;
}

export interface Broker {
  /** Idempotent by clientOrderId: looks the id up first, and a duplicate at placement counts as success. */
  submitOrder(request: OrderRequest): Promise<SubmitResult>;
  getOrderByClientOrderId(clientOrderId: string): Promise<BrokerOrder | undefined>;
  listOrders(query?: OrderQuery): Promise<BrokerOrder[]>;
  cancelOrder(orderId: string): Promise<void>;
  cancelAllOrders(): Promise<number>;
  getPositions(): Promise<BrokerPosition[]>;
  /** Market order closing the whole position; undefined when flat. */
  closePosition(symbol: string): Promise<BrokerOrder | undefined>;
  getAccount(): Promise<BrokerAccount>;
  getClock(): Promise<MarketClock>;
  getCalendar(start: string, end: string): Promise<CalendarDay[]>;
  subscribeTradeUpdates(onUpdate: (update: TradeUpdate) => void): Promise<TradeUpdateSubscription>;
  close(): Promise<void>;
}

export function isOpenStatus(status: BrokerOrderStatus): boolean {
  return OPEN_ORDER_STATUSES.includes(status);
}

/** Validates an order request before it reaches any broker; names the field and the problem. */
export function validateOrderRequest(r: OrderRequest): string | undefined {
  if (!r.clientOrderId) return 'clientOrderId: must not be empty';
  if (r.clientOrderId.length > 128)
    return `clientOrderId: ${r.clientOrderId.length} chars exceeds Alpaca's 128`;
  if (!r.symbol) return 'symbol: must not be empty';
  if (!(r.qty > 0) || !Number.isFinite(r.qty)) return `qty: ${r.qty} must be a positive number`;
  if (
    (r.type === 'limit' || r.type === 'stop_limit') &&
    !(r.limitPrice! > 0) &&
    !(r.orderClass === 'oco' && r.takeProfit)
  )
    return `limitPrice: required and positive for a ${r.type} order`;
  if ((r.type === 'stop' || r.type === 'stop_limit') && !(r.stopPrice! > 0))
    return `stopPrice: required and positive for a ${r.type} order`;
  if (r.type === 'trailing_stop' && !(r.trailPrice! > 0) && !(r.trailPercent! > 0))
    return 'trailPrice/trailPercent: one is required for a trailing_stop order';
  if (r.orderClass === 'bracket' && (!r.takeProfit || !r.stopLoss))
    return 'takeProfit/stopLoss: both are required for a bracket order';
  if (r.orderClass === 'oco' && (!r.takeProfit || !r.stopLoss))
    return 'takeProfit/stopLoss: both are required for an oco order';
  if (r.orderClass === 'oto' && !r.takeProfit && !r.stopLoss)
    return 'takeProfit/stopLoss: one is required for an oto order';
  return undefined;
}
