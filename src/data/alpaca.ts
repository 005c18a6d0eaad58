/**
 * Alpaca market data (historical bars, quotes, trades) through the official SDK
 * (@alpacahq/alpaca-trade-api v4): pagination by page token, feed iex/sip, adjustment. The SDK retries
 * 429 (honouring Retry-After) and 5xx itself; what is left after its retries is mapped onto our errors:
 * TemporaryError (retry later) or PermanentError (fix the request or the credentials).
 */
import { ApiError, marketData } from '@alpacahq/alpaca-trade-api';
import type { Bar, Quote, Trade } from '../model/bar';
import { PermanentError, TemporaryError } from '../model/errors';
import type { Timeframe } from '../model/timeframe';
import { dateLabelMs, nyDate } from '../market/calendar';
import type { BarPage, BarRequest, BarSource } from './source';

export interface AlpacaDataOptions {
  readonly keyId: string;
  readonly secret: string;
  /** Default https://data.alpaca.markets (tests point it at a local stub). */
  readonly dataBaseUrl?: string;
  readonly feed?: 'iex' | 'sip';
  readonly adjustment?: 'raw' | 'split' | 'dividend' | 'all';
  readonly timeoutMs?: number;
  /** SDK retries on 429/5xx (default 4). */
  readonly maxRetries?: number;
  readonly retryDelayMs?: number;
  /** Records per page (max 10,000). */
  readonly pageLimit?: number;
}

const ALPACA_TF: Record<Timeframe, string> = {
  '1m': '1Min',
  '5m': '5Min',
  '15m': '15Min',
  '1h': '1Hour',
  '1d': '1Day',
};

type Problem = { index: number; field: string; problem: string; value: string };

const okNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** The SDK types `t` as a Date but hands RFC-3339 strings through (nanosecond precision): accept both. */
function timeMs(v: unknown): number | undefined {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

export class AlpacaMarketData implements BarSource {
  readonly name = 'alpaca';
  readonly synthetic = false;
  private readonly stocks: InstanceType<typeof marketData.StockApi>;

  constructor(private readonly opts: AlpacaDataOptions) {
    this.stocks = new marketData.StockApi(
      new marketData.Configuration({
        basePath: (opts.dataBaseUrl ?? 'https://data.alpaca.markets').replace(/\/+$/, ''),
        keyId: opts.keyId,
        secret: opts.secret,
        timeoutMs: opts.timeoutMs ?? 30_000,
        retry: {
          maxRetries: opts.maxRetries ?? 4,
          retryDelayMs: opts.retryDelayMs ?? 500,
          maxDelayMs: 30_000,
          respectRetryAfter: true,
          retryableStatuses: [429, 500, 502, 503, 504],
        },
      }),
    );
  }

  private async call<T>(label: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ApiError) {
        if (e.status === 429 || e.status >= 500)
          throw new TemporaryError(`${label}: HTTP ${e.status} after retries`, e.retryAfterMs, { cause: e });
        throw new PermanentError(`${label}: HTTP ${e.status} ${e.message}`, { cause: e });
      }
      const err = e as Error;
      if (err.name === 'FetchError' || err.name === 'AbortError' || err.name === 'TimeoutError') {
        throw new TemporaryError(`${label}: network error or timeout (${err.message})`, undefined, {
          cause: e,
        });
      }
      // The SDK parses the JSON itself: anything else is a body it could not read.
      throw new TemporaryError(`${label}: malformed body (${err.message})`, undefined, { cause: e });
    }
  }

  async *fetchBars(req: BarRequest): AsyncIterable<BarPage> {
    let pageToken: string | undefined;
    for (let page = 1; ; page++) {
      const label = `alpaca bars ${req.symbol} ${req.timeframe} page ${page}`;
      const resp = await this.call(label, () =>
        this.stocks.stockBars({
          symbols: req.symbol,
          timeframe: ALPACA_TF[req.timeframe],
          start: new Date(req.fromMs),
          end: new Date(req.toMs - 1),
          limit: this.opts.pageLimit ?? 10_000,
          adjustment: this.opts.adjustment ?? 'raw',
          feed: this.opts.feed ?? 'iex',
          pageToken,
          sort: 'asc',
        }),
      );
      const raw = (resp.bars ?? {})[req.symbol] ?? [];
      if (!Array.isArray(raw))
        throw new PermanentError(`${label}: malformed body: bars.${req.symbol} is not an array`);
      const bars: Bar[] = [];
      const problems: Problem[] = [];
      raw.forEach((b, index) => {
        const t = timeMs(b?.t);
        if (t === undefined)
          return problems.push({
            index,
            field: 't',
            problem: 'missing or not a timestamp',
            value: String(b?.t),
          });
        for (const k of ['o', 'h', 'l', 'c', 'v'] as const) {
          if (!okNum(b[k]))
            return problems.push({
              index,
              field: k,
              problem: 'missing or not a finite number',
              value: String(b[k]),
            });
        }
        // Alpaca's daily bars start at New York midnight; we key daily bars by their date label.
        const ts = req.timeframe === '1d' ? dateLabelMs(nyDate(t)) : t;
        bars.push({
          symbol: req.symbol,
          timeframe: req.timeframe,
          ts,
          open: b.o,
          high: b.h,
          low: b.l,
          close: b.c,
          volume: b.v,
          ...(okNum(b.vw) ? { vwap: b.vw } : {}),
          ...(okNum(b.n) ? { tradeCount: b.n } : {}),
        });
        return undefined;
      });
      yield { bars, location: label, problems };
      pageToken = resp.nextPageToken ?? undefined;
      if (!pageToken) return;
    }
  }

  /** Historical quotes, page by page. */
  async *fetchQuotes(
    symbol: string,
    fromMs: number,
    toMs: number,
  ): AsyncIterable<{ quotes: Quote[]; location: string; problems: Problem[] }> {
    let pageToken: string | undefined;
    for (let page = 1; ; page++) {
      const label = `alpaca quotes ${symbol} page ${page}`;
      const resp = await this.call(label, () =>
        this.stocks.stockQuotes({
          symbols: symbol,
          start: new Date(fromMs),
          end: new Date(toMs - 1),
          limit: this.opts.pageLimit ?? 10_000,
          feed: this.opts.feed ?? 'iex',
          pageToken,
          sort: 'asc',
        }),
      );
      const quotes: Quote[] = [];
      const problems: Problem[] = [];
      ((resp.quotes ?? {})[symbol] ?? []).forEach((q, index) => {
        const t = timeMs(q?.t);
        if (t === undefined)
          return problems.push({
            index,
            field: 't',
            problem: 'missing or not a timestamp',
            value: String(q?.t),
          });
        for (const k of ['bp', 'ap', 'bs', 'as'] as const)
          if (!okNum(q[k]))
            return problems.push({
              index,
              field: k,
              problem: 'missing or not a finite number',
              value: String(q[k]),
            });
        quotes.push({ symbol, ts: t, bid: q.bp, ask: q.ap, bidSize: q.bs, askSize: q.as });
        return undefined;
      });
      yield { quotes, location: label, problems };
      pageToken = resp.nextPageToken ?? undefined;
      if (!pageToken) return;
    }
  }

  /** Historical trades, page by page. */
  async *fetchTrades(
    symbol: string,
    fromMs: number,
    toMs: number,
  ): AsyncIterable<{ trades: Trade[]; location: string; problems: Problem[] }> {
    let pageToken: string | undefined;
    for (let page = 1; ; page++) {
      const label = `alpaca trades ${symbol} page ${page}`;
      const resp = await this.call(label, () =>
        this.stocks.stockTrades({
          symbols: symbol,
          start: new Date(fromMs),
          end: new Date(toMs - 1),
          limit: this.opts.pageLimit ?? 10_000,
          feed: this.opts.feed ?? 'iex',
          pageToken,
          sort: 'asc',
        }),
      );
      const trades: Trade[] = [];
      const problems: Problem[] = [];
      ((resp.trades ?? {})[symbol] ?? []).forEach((x, index) => {
        const t = timeMs(x?.t);
        if (t === undefined)
          return problems.push({
            index,
            field: 't',
            problem: 'missing or not a timestamp',
            value: String(x?.t),
          });
        if (!okNum(x.p))
          return problems.push({
            index,
            field: 'p',
            problem: 'missing or not a finite number',
            value: String(x.p),
          });
        if (!okNum(x.s))
          return problems.push({
            index,
            field: 's',
            problem: 'missing or not a finite number',
            value: String(x.s),
          });
        trades.push({ symbol, ts: t, price: x.p, size: x.s });
        return undefined;
      });
      yield { trades, location: label, problems };
      pageToken = resp.nextPageToken ?? undefined;
      if (!pageToken) return;
    }
  }
}
