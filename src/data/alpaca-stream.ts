/**
 * Alpaca's real-time minute-bar stream (SDK StockDataStream) for live use: each bar is validated with
 * the same rules as historical data before the caller sees it; a rejected bar becomes a finding.
 */
import { streaming } from '@alpacahq/alpaca-trade-api';
import type { Bar } from '../model/bar';
import { BarValidator, type QualityFinding } from '../market/validation';

export interface AlpacaBarStreamOptions {
  readonly keyId: string;
  readonly secret: string;
  /** Default wss://stream.data.alpaca.markets/v2/<feed> (tests point it at the local simulator). */
  readonly url?: string;
  readonly feed?: 'iex' | 'sip';
}

export class AlpacaBarStream {
  private readonly stream: InstanceType<typeof streaming.StockDataStream>;
  private readonly validators = new Map<string, BarValidator>();

  constructor(opts: AlpacaBarStreamOptions) {
    const feed = opts.feed ?? 'iex';
    this.stream = new streaming.StockDataStream({
      credentials: { keyId: opts.keyId, secret: opts.secret },
      url: opts.url ?? `wss://stream.data.alpaca.markets/v2/${feed}`,
      feed,
    } as ConstructorParameters<typeof streaming.StockDataStream>[0]);
  }

  /** Connects, subscribes to minute bars of `symbols`, and resolves once authenticated. */
  async start(
    symbols: readonly string[],
    onBar: (bar: Bar) => void,
    onFinding: (f: QualityFinding) => void = () => undefined,
  ): Promise<void> {
    this.stream.onBar((b) => {
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
      const verdict = v.check(bar, `alpaca stream ${symbol}`);
      verdict.findings.forEach(onFinding);
      if (verdict.accepted) onBar(bar);
    });
    this.stream.onConnect(() => this.stream.subscribeForBars([...symbols]));
    this.stream.connect();
    const auth = await this.stream.whenAuthenticated();
    if (!auth.authenticated)
      throw new Error(
        `alpaca stream: authentication failed${'error' in auth && auth.error ? ` (${String(auth.error)})` : ''}`,
      );
  }

  stop(): void {
    this.stream.disconnect();
  }
}
