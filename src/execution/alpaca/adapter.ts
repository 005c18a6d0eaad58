import { ApiError, FetchError, marketData, streaming, trading } from '@alpacahq/alpaca-trade-api';
import type { Bar } from '../../model/bar';
import { OrderRejectedError, PermanentError, TemporaryError, ValidationError } from '../../model/errors';
import type { TradingEvent } from '../../model/events';
import { validateOrderSpec, type Order, type OrderSpec } from '../../model/order';
import type { Holding } from '../../model/position';
import type {
  Broker,
  BrokerAccount,
  CalendarDay,
  EventSubscription,
  MarketClock,
  OrderQuery,
  SubmitResult,
} from '../broker';
import { accountFromWire, orderEventFromWire, orderFromWire, positionFromWire } from '../simulator/wire';

/**
 * Broker adapter over the official SDK (@alpacahq/alpaca-trade-api v4, fetch-based). The SDK's generated
 * API classes take a `basePath`, so the same code talks to Alpaca paper/live or to the local simulator over
 * real HTTP. Credentials come from the caller (workers read them from the environment); they never enter a
 * workflow input or history. Alpaca's shapes end here: orders, positions and trade updates are mapped to the
 * model's Order, Holding and TradingEvent (simulator/wire.ts holds the mappings).
 */
export interface AlpacaBrokerOptions {
  readonly keyId: string;
  readonly secret: string;
  /** Trading API base, e.g. https://paper-api.alpaca.markets or the simulator's url. */
  readonly baseUrl: string;
  /** Market-data API base, e.g. https://data.alpaca.markets. */
  readonly dataBaseUrl?: string;
  /** Trading stream, e.g. wss://paper-api.alpaca.markets/stream. */
  readonly streamUrl?: string;
  readonly timeoutMs?: number;
  /** Transport retries for safe verbs (GET) inside one call; Temporal retries the rest. */
  readonly getRetries?: number;
  /** Client-side rate limit; off for the simulator. */
  readonly rateLimitPerMinute?: number;
}

/** Alpaca's error code for a reused client_order_id. */
const DUPLICATE_CLIENT_ORDER_ID = 40010001;

export class AlpacaBroker implements Broker {
  private readonly orders: InstanceType<typeof trading.OrdersApi>;
  private readonly account: InstanceType<typeof trading.AccountsApi>;
  private readonly positions: InstanceType<typeof trading.PositionsApi>;
  private readonly clock: InstanceType<typeof trading.ClockApi>;
  private readonly calendar: InstanceType<typeof trading.CalendarApi>;
  private readonly stocks: InstanceType<typeof marketData.StockApi>;
  private readonly streams = new Set<InstanceType<typeof streaming.TradingStream>>();

  constructor(private readonly opts: AlpacaBrokerOptions) {
    if (!opts.keyId || !opts.secret)
      throw new ValidationError(
        'APCA_API_KEY_ID/APCA_API_SECRET_KEY',
        'both are required for the Alpaca adapter',
      );
    const shared = {
      keyId: opts.keyId,
      secret: opts.secret,
      timeoutMs: opts.timeoutMs ?? 10_000,
      retry: { maxRetries: opts.getRetries ?? 2, retryDelayMs: 50, maxDelayMs: 1_000 },
      ...(opts.rateLimitPerMinute
        ? { rateLimit: { maxRequests: opts.rateLimitPerMinute, intervalMs: 60_000, maxConcurrent: 16 } }
        : {}),
    };
    const config = new trading.Configuration({ ...shared, basePath: opts.baseUrl.replace(/\/+$/, '') });
    this.orders = new trading.OrdersApi(config);
    this.account = new trading.AccountsApi(config);
    this.positions = new trading.PositionsApi(config);
    this.clock = new trading.ClockApi(config);
    this.calendar = new trading.CalendarApi(config);
    this.stocks = new marketData.StockApi(
      new marketData.Configuration({
        ...shared,
        basePath: (opts.dataBaseUrl ?? opts.baseUrl).replace(/\/+$/, ''),
      }),
    );
  }

  async submitOrder(request: OrderSpec): Promise<SubmitResult> {
    const problem = validateOrderSpec(request);
    if (problem)
      throw new OrderRejectedError(
        `order ${request.clientOrderId}: ${problem}`,
        request.clientOrderId,
        'validation',
      );
    // Exactly-once: a retried or replayed submit finds its first attempt's order and places nothing new.
    const existing = await this.getOrderByClientOrderId(request.clientOrderId);
    if (existing) return { order: existing, alreadyExisted: true };
    try {
      const placed = await this.orders.postOrder({ postOrderRequest: toPostOrderRequest(request) });
      return { order: orderFromWire(placed as unknown as Record<string, unknown>), alreadyExisted: false };
    } catch (e) {
      if (e instanceof ApiError && (e.status === 422 || e.status === 400) && isDuplicate(e)) {
        const found = await this.getOrderByClientOrderId(request.clientOrderId);
        if (found) return { order: found, alreadyExisted: true };
      }
      if (isAmbiguous(e)) {
        // The POST may have taken effect with its response lost: look before anyone places again.
        const found = await this.getOrderByClientOrderId(request.clientOrderId).catch(() => undefined);
        if (found) return { order: found, alreadyExisted: true };
      }
      throw mapAlpacaError(e, `submit ${request.clientOrderId}`, request.clientOrderId);
    }
  }

  async getOrderByClientOrderId(clientOrderId: string): Promise<Order | undefined> {
    try {
      const o = await this.orders.getOrderByClientOrderId({ clientOrderId });
      return orderFromWire(o as unknown as Record<string, unknown>);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw mapAlpacaError(e, `look up order ${clientOrderId}`);
    }
  }

  async listOrders(query: OrderQuery = {}): Promise<Order[]> {
    try {
      const list = await this.orders.getAllOrders({
        status: query.status ?? 'open',
        limit: query.limit ?? 500,
        nested: true,
        ...(query.symbols?.length ? { symbols: [...query.symbols] } : {}),
      } as Parameters<typeof this.orders.getAllOrders>[0]);
      return list.map((o) => orderFromWire(o as unknown as Record<string, unknown>));
    } catch (e) {
      throw mapAlpacaError(e, 'list orders');
    }
  }

  async cancelOrder(orderId: string): Promise<void> {
    try {
      await this.orders.deleteOrderByOrderID({ orderId });
    } catch (e) {
      // Already final (filled/canceled) → nothing to cancel; cancelling is idempotent for callers.
      if (e instanceof ApiError && (e.status === 422 || e.status === 404)) return;
      throw mapAlpacaError(e, `cancel order ${orderId}`);
    }
  }

  async cancelAllOrders(): Promise<number> {
    try {
      const res = await this.orders.deleteAllOrders();
      return Array.isArray(res) ? res.length : 0;
    } catch (e) {
      throw mapAlpacaError(e, 'cancel all orders');
    }
  }

  async getPositions(): Promise<Holding[]> {
    try {
      const list = await this.positions.getAllOpenPositions();
      return list.map((p) => positionFromWire(camelToSnakePosition(p as unknown as Record<string, unknown>)));
    } catch (e) {
      throw mapAlpacaError(e, 'list positions');
    }
  }

  async closePosition(symbol: string): Promise<Order | undefined> {
    try {
      const o = await this.positions.deleteOpenPosition({ symbolOrAssetId: symbol });
      return orderFromWire(o as unknown as Record<string, unknown>);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw mapAlpacaError(e, `close position ${symbol}`);
    }
  }

  async getAccount(): Promise<BrokerAccount> {
    try {
      const a = await this.account.getAccount();
      return accountFromWire(a as unknown as Record<string, unknown>);
    } catch (e) {
      throw mapAlpacaError(e, 'get account');
    }
  }

  async getClock(): Promise<MarketClock> {
    try {
      const c = await this.clock.legacyClock();
      return {
        timestamp: c.timestamp.getTime(),
        isOpen: c.isOpen,
        nextOpen: c.nextOpen.getTime(),
        nextClose: c.nextClose.getTime(),
      };
    } catch (e) {
      throw mapAlpacaError(e, 'get clock');
    }
  }

  async getCalendar(start: string, end: string): Promise<CalendarDay[]> {
    try {
      const days = await this.calendar.legacyCalendar({
        start: new Date(`${start}T00:00:00Z`),
        end: new Date(`${end}T00:00:00Z`),
      });
      return days.map((d) => ({ date: d.date.toISOString().slice(0, 10), open: d.open, close: d.close }));
    } catch (e) {
      throw mapAlpacaError(e, 'get calendar');
    }
  }

  /** Closed bars of `symbols` in [start, end] (market-data API). */
  async getBars(symbols: readonly string[], start: number, end: number, timeframe = '1Min'): Promise<Bar[]> {
    try {
      const out: Bar[] = [];
      let pageToken: string | undefined;
      do {
        const res = await this.stocks.stockBars({
          symbols: symbols.join(','),
          timeframe,
          start: new Date(start),
          end: new Date(end),
          limit: 10_000,
          ...(pageToken ? { pageToken } : {}),
        });
        const bySymbol = (res.bars ?? {}) as Record<string, Array<Record<string, any>>>;
        for (const [symbol, rows] of Object.entries(bySymbol)) {
          for (const r of rows) {
            out.push({
              symbol,
              timeframe: '1m',
              ts: new Date(r.t as string).getTime(),
              open: r.o,
              high: r.h,
              low: r.l,
              close: r.c,
              volume: r.v,
              vwap: r.vw,
              tradeCount: r.n,
            });
          }
        }
        pageToken = res.nextPageToken ?? undefined;
      } while (pageToken);
      return out.sort((a, b) => a.ts - b.ts || a.symbol.localeCompare(b.symbol));
    } catch (e) {
      throw mapAlpacaError(e, 'get bars');
    }
  }

  /** Alpaca's trade_updates stream, each update mapped to the model's order event (others are skipped). */
  async subscribeOrderEvents(listener: (event: TradingEvent) => void): Promise<EventSubscription> {
    const stream = new streaming.TradingStream({
      credentials: { keyId: this.opts.keyId, secret: this.opts.secret },
      ...(this.opts.streamUrl
        ? { url: this.opts.streamUrl }
        : { paper: !this.opts.baseUrl.includes('://api.alpaca.markets') }),
      initialReconnectMs: 100,
      maxReconnectMs: 2_000,
    });
    stream.onTradeUpdate((u) => {
      const event = orderEventFromWire(u as unknown as Record<string, unknown>, Date.now());
      if (event) listener(event);
    });
    const listening = new Promise<void>((resolve) => stream.on('subscription' as never, () => resolve()));
    stream.onConnect(() => stream.subscribeTradeUpdates());
    stream.connect();
    const auth = await stream.whenAuthenticated();
    if (!auth.authenticated) {
      stream.disconnect();
      throw new PermanentError(
        `trade updates stream: authentication failed (${auth.status}${auth.code ? ` ${auth.code}` : ''}: ${auth.message})`,
      );
    }
    await Promise.race([listening, new Promise((r) => setTimeout(r, 5_000).unref())]);
    this.streams.add(stream);
    return {
      close: async () => {
        this.streams.delete(stream);
        stream.disconnect();
      },
    };
  }

  async close(): Promise<void> {
    for (const s of this.streams) s.disconnect();
    this.streams.clear();
  }
}

function toPostOrderRequest(r: OrderSpec): trading.PostOrderRequest {
  const s = (x: number | undefined) => (x === undefined ? undefined : String(x));
  return {
    symbol: r.symbol,
    side: r.side,
    type: r.type,
    timeInForce: r.timeInForce,
    qty: String(r.qty),
    clientOrderId: r.clientOrderId,
    ...(r.limitPrice !== undefined ? { limitPrice: s(r.limitPrice) } : {}),
    ...(r.stopPrice !== undefined ? { stopPrice: s(r.stopPrice) } : {}),
    ...(r.trailPrice !== undefined ? { trailPrice: s(r.trailPrice) } : {}),
    ...(r.trailPercent !== undefined ? { trailPercent: s(r.trailPercent) } : {}),
    ...(r.orderClass && r.orderClass !== 'simple' ? { orderClass: r.orderClass } : {}),
    ...(r.takeProfit ? { takeProfit: { limitPrice: s(r.takeProfit.limitPrice) } } : {}),
    ...(r.stopLoss
      ? {
          stopLoss: {
            stopPrice: s(r.stopLoss.stopPrice),
            ...(r.stopLoss.limitPrice !== undefined ? { limitPrice: s(r.stopLoss.limitPrice) } : {}),
          },
        }
      : {}),
  } as trading.PostOrderRequest;
}

function camelToSnakePosition(p: Record<string, unknown>): Record<string, unknown> {
  return {
    symbol: p.symbol,
    qty: p.qty,
    side: p.side,
    avg_entry_price: p.avgEntryPrice,
    market_value: p.marketValue,
    unrealized_pl: p.unrealizedPl,
    current_price: p.currentPrice,
  };
}

function isDuplicate(e: ApiError): boolean {
  return e.code === DUPLICATE_CLIENT_ORDER_ID || /client_order_id must be unique|duplicate/i.test(e.message);
}

function isAmbiguous(e: unknown): boolean {
  return e instanceof FetchError || (e instanceof ApiError && e.status >= 500);
}

/**
 * Maps SDK failures onto the error hierarchy that drives Temporal retries:
 * buying power / validation → OrderRejectedError (non-retryable); other 401/403 → PermanentError;
 * 429, 5xx, network and timeouts → TemporaryError (retry with backoff).
 */
export function mapAlpacaError(e: unknown, what: string, clientOrderId?: string): Error {
  if (e instanceof ApiError) {
    const msg = `${what}: Alpaca ${e.status}${e.code ? ` (${e.code})` : ''}: ${e.message}`;
    if (e.status === 403 && /buying power/i.test(e.message))
      return new OrderRejectedError(msg, clientOrderId, 'insufficient_buying_power');
    if (e.status === 422 || e.status === 400) return new OrderRejectedError(msg, clientOrderId, 'validation');
    if (e.status === 401 || e.status === 403)
      return new PermanentError(
        `${msg} — check APCA_API_KEY_ID/APCA_API_SECRET_KEY and the account's permissions`,
      );
    if (e.status === 429) return new TemporaryError(msg, e.retryAfterMs ?? undefined, { cause: e });
    if (e.status >= 500 || e.status === 408) return new TemporaryError(msg, undefined, { cause: e });
    return new PermanentError(msg);
  }
  if (e instanceof FetchError)
    return new TemporaryError(`${what}: network error talking to Alpaca: ${e.message}`, undefined, {
      cause: e,
    });
  if (e instanceof TypeError)
    return new TemporaryError(`${what}: network error: ${e.message}`, undefined, { cause: e });
  return e instanceof Error ? e : new Error(`${what}: ${String(e)}`);
}
