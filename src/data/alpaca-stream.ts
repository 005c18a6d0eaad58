/**
 * Alpaca's real-time market-data stream through the official SDK (StockDataStream, data stream v2: msgpack,
 * auth, subscribe, reconnect with backoff and re-subscription). Minute bars for a list of symbols, quotes and
 * trades for a focus subset. Every bar is validated with the same rules as historical data before the caller
 * sees it (a rejected bar becomes a finding); a quote or trade the store could not hold (crossed, non-positive,
 * negative size) is a finding too. `onSubscribed` fires each time the venue acknowledges the subscriptions —
 * after the first connect and after every reconnect — which is the moment a consumer fills what it missed.
 */
import { streaming } from '@alpacahq/alpaca-trade-api';
import type { Bar, Quote } from '../model/bar';
import { BarValidator, QuoteValidator, type QualityFinding } from '../market/validation';
import type { TradePrint } from './tick-store';

export interface AlpacaMarketStreamOptions {
  readonly keyId: string;
  readonly secret: string;
  /** Default wss://stream.data.alpaca.markets/v2/<feed> (tests point it at the local simulator). */
  readonly url?: string;
  readonly feed?: 'iex' | 'sip';
  /** First reconnect delay (doubles per attempt up to maxReconnectMs); default 500 ms. */
  readonly initialReconnectMs?: number;
  readonly maxReconnectMs?: number;
}

export interface MarketStreamSubscription {
  readonly bars: readonly string[];
  readonly quotes?: readonly string[];
  readonly trades?: readonly string[];
}

export interface MarketStreamHandlers {
  /** A closed, validated minute bar; `receivedMs` is the wall time it arrived. */
  onBar(bar: Bar, receivedMs: number): void;
  onQuote?(quote: Quote): void;
  onTrade?(trade: TradePrint): void;
  onFinding?(finding: QualityFinding): void;
  /** The venue acknowledged the subscriptions (first connect and every reconnect). */
  onSubscribed?(): void;
  /** The connection closed; the SDK reconnects by itself unless stopped. */
  onDisconnect?(): void;
  onError?(message: string): void;
}

type StockStream = InstanceType<typeof streaming.StockDataStream>;

export class AlpacaMarketStream {
  private readonly stream: StockStream;
  private readonly validators = new Map<string, BarValidator>();
  private readonly location: string;

  constructor(opts: AlpacaMarketStreamOptions) {
    const feed = opts.feed ?? 'iex';
    this.location = `alpaca stream ${feed}`;
    this.stream = new streaming.StockDataStream({
      credentials: { keyId: opts.keyId, secret: opts.secret },
      url: opts.url ?? `wss://stream.data.alpaca.markets/v2/${feed}`,
      feed,
      // A consumer runs all day: never give up reconnecting (a stopped activity disconnects explicitly).
      maxReconnectAttempts: streaming.UNLIMITED_RECONNECT_ATTEMPTS,
      initialReconnectMs: opts.initialReconnectMs ?? 500,
      maxReconnectMs: opts.maxReconnectMs ?? 30_000,
    });
  }

  /** Subscribes, connects, and resolves once authenticated; rejects when the venue refuses the credentials. */
  async start(sub: MarketStreamSubscription, h: MarketStreamHandlers): Promise<void> {
    const finding = h.onFinding ?? (() => undefined);
    this.stream.onBar((b) => {
      const receivedMs = Date.now();
      const bar = this.validBar(b, finding);
      if (bar) h.onBar(bar, receivedMs);
    });
    if (sub.quotes?.length)
      this.stream.onQuote((q) => {
        const quote: Quote = {
          symbol: q.symbol,
          ts: q.timestamp.getTime(),
          bid: q.bidPrice > 0 ? q.bidPrice : NaN,
          ask: q.askPrice > 0 ? q.askPrice : NaN,
          bidSize: q.bidSize,
          askSize: q.askSize,
        };
        // Each quote is checked on its own: the store keys quotes by (symbol, ms), so order is not its concern.
        const v = new QuoteValidator(q.symbol).check(quote, `${this.location} quotes ${q.symbol}`);
        v.findings.filter((f) => f.severity !== 'warn').forEach(finding);
        if (v.accepted) h.onQuote?.(quote);
      });
    if (sub.trades?.length)
      this.stream.onTrade((t) => {
        const ts = t.timestamp.getTime();
        const bad = !(t.price > 0) ? 'price' : !(t.size > 0) ? 'size' : Number.isNaN(ts) ? 't' : undefined;
        if (bad) {
          finding({
            symbol: t.symbol,
            timeframe: null,
            ts: Number.isNaN(ts) ? null : ts,
            rule: bad === 't' ? 'parse_error' : bad === 'price' ? 'non_positive_price' : 'negative_size',
            severity: 'reject',
            value: String(bad === 'price' ? t.price : bad === 'size' ? t.size : t.timestampRaw),
            detail: `${bad} must be ${bad === 't' ? 'a timestamp' : '> 0'}`,
            location: `${this.location} trades ${t.symbol}`,
            field: bad,
          });
          return;
        }
        h.onTrade?.({
          symbol: t.symbol,
          ts,
          price: t.price,
          size: t.size,
          exchange: t.exchange,
          id: t.idRaw ?? String(t.id),
          ...(t.conditions.length ? { conditions: t.conditions } : {}),
          ...(t.tape ? { tape: t.tape } : {}),
        });
      });
    this.stream.on('subscription', () => h.onSubscribed?.());
    this.stream.onDisconnect(() => h.onDisconnect?.());
    this.stream.onError((m) => h.onError?.(m));
    this.stream.subscribeForBars([...sub.bars]);
    if (sub.quotes?.length) this.stream.subscribeForQuotes([...sub.quotes]);
    if (sub.trades?.length) this.stream.subscribeForTrades([...sub.trades]);
    this.stream.connect();
    const auth = await this.stream.whenAuthenticated();
    if (!auth.authenticated) {
      this.stream.disconnect();
      throw new Error(`alpaca stream: authentication failed (${auth.status}: ${auth.message})`);
    }
  }

  private validBar(
    b: {
      symbol: string;
      timestamp: Date;
      open: number;
      high: number;
      low: number;
      close: number;
      volume: number;
      vwap?: number;
      tradeCount?: number;
    },
    finding: (f: QualityFinding) => void,
  ): Bar | undefined {
    const symbol = b.symbol;
    let v = this.validators.get(symbol);
    if (!v) {
      v = new BarValidator({ symbol, timeframe: '1m' });
      this.validators.set(symbol, v);
    }
    const bar: Bar = {
      symbol,
      timeframe: '1m',
      ts: b.timestamp.getTime(),
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      volume: b.volume,
      ...(typeof b.vwap === 'number' ? { vwap: b.vwap } : {}),
      ...(typeof b.tradeCount === 'number' ? { tradeCount: b.tradeCount } : {}),
    };
    const verdict = v.check(bar, `${this.location} ${symbol}`);
    verdict.findings.forEach(finding);
    return verdict.accepted ? bar : undefined;
  }

  stop(): void {
    this.stream.disconnect();
  }
}
