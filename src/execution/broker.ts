/**
 * The Broker port: what the trading session needs from a broker, in plain numbers and epoch-ms times.
 * Implemented by the Alpaca adapter (real SDK over HTTP: Alpaca paper/live or the local simulator, whose
 * matching engine is the backtester's SimBroker). Strategies never see a broker; only the execution activities
 * do. It speaks the model's vocabulary: an `OrderSpec` goes in, `Order`s, `Holding`s and `TradingEvent`s come
 * out; Alpaca's wire shapes stay in the adapter and the simulator (simulator/wire.ts).
 */
import type { TradingEvent } from '../model/events';
import type { Order, OrderSpec } from '../model/order';
import type { Holding } from '../model/position';

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

export interface SubmitResult {
  readonly order: Order;
  /** true when an order with this client order id already existed: nothing new was placed. */
  readonly alreadyExisted: boolean;
}

export interface OrderQuery {
  readonly status?: 'open' | 'closed' | 'all';
  readonly limit?: number;
  readonly symbols?: readonly string[];
}

export interface EventSubscription {
  close(): Promise<void>;
}

export interface Broker {
  /** Idempotent by clientOrderId: looks the id up first, and a duplicate at placement counts as success. */
  submitOrder(order: OrderSpec): Promise<SubmitResult>;
  getOrderByClientOrderId(clientOrderId: string): Promise<Order | undefined>;
  /** Top-level orders, legs nested (`Order.legs`). */
  listOrders(query?: OrderQuery): Promise<Order[]>;
  cancelOrder(orderId: string): Promise<void>;
  cancelAllOrders(): Promise<number>;
  getPositions(): Promise<Holding[]>;
  /** Market order closing the whole position; undefined when flat. */
  closePosition(symbol: string): Promise<Order | undefined>;
  getAccount(): Promise<BrokerAccount>;
  getClock(): Promise<MarketClock>;
  getCalendar(start: string, end: string): Promise<CalendarDay[]>;
  /** The venue's order events as they happen (accepted, fills, cancels, expiries, rejections, replacements). */
  subscribeOrderEvents(listener: (event: TradingEvent) => void): Promise<EventSubscription>;
  close(): Promise<void>;
}
