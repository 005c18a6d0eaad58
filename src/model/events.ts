/**
 * Immutable, past-tense events: one discriminated union on `type`. Every event carries an event id, the time
 * it happened (`ts`, venue time) and the time we received it (`receivedTs`). The simulated broker emits the
 * order events, and the Broker port emits the same ones for every venue (the Alpaca adapter maps Alpaca's
 * trade updates to them at its edge), so whatever reads order events has one input in backtest, paper and live.
 */
import type { Order, OrderSide, OrderSpec } from './order';

export interface EventBase {
  readonly eventId: string;
  /** epoch ms the event happened at the venue */
  readonly ts: number;
  /** epoch ms we learned of it (ts + latency in simulation) */
  readonly receivedTs: number;
}

/**
 * One execution. Costs are positive dollars paid. Alpaca's trade updates carry no costs: a fill from Alpaca has
 * commission, regulatoryFees and slippage 0 (Alpaca books its fees as account activities).
 */
export interface Fill {
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly qty: number;
  readonly price: number;
  readonly ts: number;
  readonly commission: number;
  /** SEC fee + FINRA TAF (sells only) */
  readonly regulatoryFees: number;
  /** dollars lost to spread + impact versus the reference price (informational; already in `price`) */
  readonly slippage: number;
  readonly tag?: OrderSpec['tag'];
}

export interface OrderSubmitted extends EventBase {
  readonly type: 'OrderSubmitted';
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly spec: OrderSpec;
}
export interface OrderAccepted extends EventBase {
  readonly type: 'OrderAccepted';
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly order: Order;
}
export interface OrderRejected extends EventBase {
  readonly type: 'OrderRejected';
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly reason: string;
  readonly order: Order;
}
export interface OrderTriggered extends EventBase {
  readonly type: 'OrderTriggered';
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly triggerPrice: number;
}
export interface OrderPartiallyFilled extends EventBase {
  readonly type: 'OrderPartiallyFilled';
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly fill: Fill;
  readonly order: Order;
  /** signed position after the fill */
  readonly positionQty: number;
}
export interface OrderFilled extends EventBase {
  readonly type: 'OrderFilled';
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly fill: Fill;
  readonly order: Order;
  readonly positionQty: number;
}
export interface OrderCanceled extends EventBase {
  readonly type: 'OrderCanceled';
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly reason: string;
  readonly order: Order;
}
export interface OrderExpired extends EventBase {
  readonly type: 'OrderExpired';
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly order: Order;
}
export interface OrderReplaced extends EventBase {
  readonly type: 'OrderReplaced';
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly replacedById: string;
  readonly order: Order;
}
export interface BorrowFeeCharged extends EventBase {
  readonly type: 'BorrowFeeCharged';
  readonly symbol: string;
  readonly amount: number;
}
export interface RiskStateChanged extends EventBase {
  readonly type: 'RiskStateChanged';
  readonly from: 'ACTIVE' | 'REDUCING' | 'HALTED';
  readonly to: 'ACTIVE' | 'REDUCING' | 'HALTED';
  readonly reason: string;
}
export interface CommandDenied extends EventBase {
  readonly type: 'CommandDenied';
  readonly clientOrderId: string;
  readonly rule: string;
  readonly reason: string;
}

export type OrderEvent =
  | OrderSubmitted
  | OrderAccepted
  | OrderRejected
  | OrderTriggered
  | OrderPartiallyFilled
  | OrderFilled
  | OrderCanceled
  | OrderExpired
  | OrderReplaced;

export type TradingEvent = OrderEvent | BorrowFeeCharged | RiskStateChanged | CommandDenied;
export type TradingEventType = TradingEvent['type'];

/** Deterministic event ids: `<prefix>-<seq>`; the same run yields the same ids. */
export class EventIdSequence {
  private seq = 0;
  constructor(private readonly prefix: string) {}
  next(): string {
    this.seq += 1;
    return `${this.prefix}-${this.seq}`;
  }
}
