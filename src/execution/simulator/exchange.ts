import type { Bar } from '../../model/bar';
import type { OrderEvent } from '../../model/events';
import type { Order, OrderSpec } from '../../model/order';
import type { Holding } from '../../model/position';
import type { BrokerAccount } from '../broker';

/**
 * The matching engine behind the Alpaca-compatible simulator, as the server and the bar replay see it: orders
 * with Alpaca's semantics and refusals, filled against replayed bars. Its one implementation is
 * SimBrokerExchange, over the backtester's SimBroker: an order never fills on the bar during which it was
 * submitted, only from the next bar on (no look-ahead), the backtest's rule.
 */
export class ExchangeError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ExchangeError';
  }
}

export interface Exchange {
  /** the engine's clock (epoch ms); the replay moves it forward */
  now: number;
  /** Every placement attempt by client order id, accepted or refused: the chaos test's duplicate detector. */
  readonly placementLog: ReadonlyArray<{ clientOrderId: string; accepted: boolean; at: number }>;
  /** Order events of orders that exist at the venue (a refused order never does); legs nested in `order`. */
  onOrderEvent(listener: (e: OrderEvent) => void): () => void;
  priceOf(symbol: string): number | undefined;
  /** Places an order or throws ExchangeError with Alpaca's status and code (422 duplicate/invalid, 403 buying power). */
  submit(spec: OrderSpec): Order;
  getOrder(id: string): Order | undefined;
  getOrderByClientOrderId(clientOrderId: string): Order | undefined;
  listOrders(status?: 'open' | 'closed' | 'all', symbols?: readonly string[]): Order[];
  cancel(id: string): void;
  cancelAll(): string[];
  acceptedClientOrderIds(): string[];
  getPositions(): Holding[];
  getPosition(symbol: string): Holding | undefined;
  getAccount(): BrokerAccount;
  onBar(bar: Bar): void;
}
