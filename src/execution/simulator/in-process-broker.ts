import type {
  Broker,
  BrokerAccount,
  BrokerOrder,
  BrokerPosition,
  CalendarDay,
  MarketClock,
  OrderQuery,
  OrderRequest,
  SubmitResult,
  TradeUpdate,
  TradeUpdateSubscription,
} from '../broker';
import { OrderRejectedError } from '../../model/errors';
import { clockAt, tradingDays } from './calendar';
import { ExchangeError, type Exchange } from './exchange';

/**
 * The Broker port over the simulator's exchange engine, in process (no HTTP): backtests, the parity runner
 * and unit tests use it; the session's code is the same as with the Alpaca adapter.
 */
export class InProcessBroker implements Broker {
  constructor(private readonly exchange: Exchange) {}

  async submitOrder(request: OrderRequest): Promise<SubmitResult> {
    const existing = this.exchange.getOrderByClientOrderId(request.clientOrderId);
    if (existing) return { order: existing, alreadyExisted: true };
    try {
      return { order: this.exchange.submit(request), alreadyExisted: false };
    } catch (e) {
      if (e instanceof ExchangeError) {
        throw new OrderRejectedError(
          `submit ${request.clientOrderId}: ${e.message}`,
          request.clientOrderId,
          e.httpStatus === 403 ? 'insufficient_buying_power' : 'validation',
        );
      }
      throw e;
    }
  }

  async getOrderByClientOrderId(clientOrderId: string): Promise<BrokerOrder | undefined> {
    return this.exchange.getOrderByClientOrderId(clientOrderId);
  }

  async listOrders(query: OrderQuery = {}): Promise<BrokerOrder[]> {
    return this.exchange.listOrders(query.status ?? 'open', query.symbols).slice(0, query.limit ?? 500);
  }

  async cancelOrder(orderId: string): Promise<void> {
    try {
      this.exchange.cancel(orderId);
    } catch (e) {
      if (!(e instanceof ExchangeError)) throw e;
    }
  }

  async cancelAllOrders(): Promise<number> {
    return this.exchange.cancelAll().length;
  }

  async getPositions(): Promise<BrokerPosition[]> {
    return this.exchange.getPositions();
  }

  async closePosition(symbol: string): Promise<BrokerOrder | undefined> {
    const p = this.exchange.getPosition(symbol);
    if (!p) return undefined;
    return this.exchange.submit({
      clientOrderId: `close:${symbol}:${this.exchange.now}:${this.exchange.placementLog.length}`,
      symbol,
      side: p.qty > 0 ? 'sell' : 'buy',
      qty: Math.abs(p.qty),
      type: 'market',
      timeInForce: 'day',
    });
  }

  async getAccount(): Promise<BrokerAccount> {
    return this.exchange.getAccount();
  }

  async getClock(): Promise<MarketClock> {
    return clockAt(this.exchange.now);
  }

  async getCalendar(start: string, end: string): Promise<CalendarDay[]> {
    return tradingDays(start, end);
  }

  async subscribeTradeUpdates(onUpdate: (update: TradeUpdate) => void): Promise<TradeUpdateSubscription> {
    const off = this.exchange.onTradeUpdate(onUpdate);
    return { close: async () => void off() };
  }

  async close(): Promise<void> {}
}
