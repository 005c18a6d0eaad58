/**
 * Alpaca market data (historical bars, quotes, trades) through the official SDK
 * (@alpacahq/alpaca-trade-api v4): pagination by page token, feed iex/sip, adjustment. The SDK retries
 * 429 (honouring Retry-After) and 5xx itself; what is left after its retries is mapped onto our errors:
 * TemporaryError (retry later) or PermanentError (fix the request or the credentials).
 */
import { ApiError, marketData } from '@alpacahq/alpaca-trade-api';
import type { Bar, Quote } from '../model/bar';
import { PermanentError, TemporaryError } from '../model/errors';
import type { Timeframe } from '../model/timeframe';
import { dateLabelMs, nyDate } from '../market/calendar';
import type { BarPage, BarRequest, BarSource } from './source';
import type { TradePrint } from './tick-store';

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

  /** The same client on another feed (a backfill chunk names its feed). */
  withFeed(feed: 'iex' | 'sip'): AlpacaMarketData {
    return feed === (this.opts.feed ?? 'iex') ? this : new AlpacaMarketData({ ...this.opts, feed });
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

  /**
   * Follows Alpaca's next_page_token until it runs out; each page comes with its label for errors and findings.
   */
  private async *pages<R extends { nextPageToken?: string | null }>(
    label: (page: number) => string,
    fetchPage: (pageToken: string | undefined) => Promise<R>,
  ): AsyncIterable<{ resp: R; label: string }> {
    let pageToken: string | undefined;
    for (let page = 1; ; page++) {
      const l = label(page);
      const resp = await this.call(l, () => fetchPage(pageToken));
      yield { resp, label: l };
      pageToken = resp.nextPageToken ?? undefined;
      if (!pageToken) return;
    }
  }

  async *fetchBars(req: BarRequest): AsyncIterable<BarPage> {
    const pages = this.pages(
      (page) => `alpaca bars ${req.symbol} ${req.timeframe} page ${page}`,
      (pageToken) =>
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
    for await (const { resp, label } of pages) {
      const raw = (resp.bars ?? {})[req.symbol] ?? [];
      if (!Array.isArray(raw))
        throw new PermanentError(`${label}: malformed body: bars.${req.symbol} is not an array`);
      const bars: Bar[] = [];
      const problems: Problem[] = [];
      raw.forEach((b, index) => {
        const t = checkRow(b, index, ['o', 'h', 'l', 'c', 'v'], problems);
        if (t === undefined) return;
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
      });
      yield { bars, location: label, problems };
    }
  }

  /** Historical quotes, page by page. */
  async *fetchQuotes(
    symbol: string,
    fromMs: number,
    toMs: number,
  ): AsyncIterable<{ quotes: Quote[]; location: string; problems: Problem[] }> {
    const pages = this.pages(
      (page) => `alpaca quotes ${symbol} page ${page}`,
      (pageToken) =>
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
    for await (const { resp, label } of pages) {
      const quotes: Quote[] = [];
      const problems: Problem[] = [];
      ((resp.quotes ?? {})[symbol] ?? []).forEach((q, index) => {
        const t = checkRow(q, index, ['bp', 'ap', 'bs', 'as'], problems);
        // Alpaca sends 0 for a side nobody quotes: stored as a missing side, not a zero price.
        if (t !== undefined)
          quotes.push({
            symbol,
            ts: t,
            bid: q.bp > 0 ? q.bp : NaN,
            ask: q.ap > 0 ? q.ap : NaN,
            bidSize: q.bs,
            askSize: q.as,
          });
      });
      yield { quotes, location: label, problems };
    }
  }

  /** Historical trades (with exchange, trade id, conditions and tape), page by page. */
  async *fetchTrades(
    symbol: string,
    fromMs: number,
    toMs: number,
  ): AsyncIterable<{ trades: TradePrint[]; location: string; problems: Problem[] }> {
    const pages = this.pages(
      (page) => `alpaca trades ${symbol} page ${page}`,
      (pageToken) =>
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
    for await (const { resp, label } of pages) {
      const trades: TradePrint[] = [];
      const problems: Problem[] = [];
      ((resp.trades ?? {})[symbol] ?? []).forEach((x, index) => {
        const t = checkRow(x, index, ['p', 's'], problems);
        if (t === undefined) return;
        const raw = x as unknown as { x?: unknown; i?: unknown; c?: unknown; z?: unknown };
        trades.push({
          symbol,
          ts: t,
          price: x.p,
          size: x.s,
          ...(typeof raw.x === 'string' ? { exchange: raw.x } : {}),
          ...(raw.i !== undefined && raw.i !== null ? { id: String(raw.i) } : {}),
          ...(Array.isArray(raw.c) && raw.c.length ? { conditions: raw.c.map(String) } : {}),
          ...(typeof raw.z === 'string' ? { tape: raw.z } : {}),
        });
      });
      yield { trades, location: label, problems };
    }
  }
}

/**
 * The row's timestamp when it has one and every named field is a finite number; otherwise records the first
 * problem (field, value) and returns undefined, so the row is reported, never stored.
 */
function checkRow<K extends string>(
  row: ({ t?: unknown } & Partial<Record<K, unknown>>) | null | undefined,
  index: number,
  numericFields: readonly K[],
  problems: Problem[],
): number | undefined {
  const t = timeMs(row?.t);
  if (t === undefined) {
    problems.push({ index, field: 't', problem: 'missing or not a timestamp', value: String(row?.t) });
    return undefined;
  }
  for (const k of numericFields) {
    const v = row![k];
    if (!okNum(v)) {
      problems.push({ index, field: k, problem: 'missing or not a finite number', value: String(v) });
      return undefined;
    }
  }
  return t;
}
