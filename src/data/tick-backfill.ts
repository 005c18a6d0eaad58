/**
 * Backfill of what is not a bar: Alpaca quotes and trades (one chunk per symbol and trading day, the day's
 * extended hours) and Unusual Whales options flow (one chunk per symbol and month). Each page is validated
 * and upserted as it arrives (quotes by (symbol, ms), trades by (symbol, ms, exchange, trade id), flow by
 * alert id), so a chunk retried after a crash starts over without doubling anything, and a repeated backfill
 * changes nothing. A row the store could not hold (crossed or non-positive quote, non-positive trade, a
 * record without its fields) is a finding with the request and field, never stored.
 */
import {
  MAX_BACKFILL_CHUNKS,
  type BackfillChunk,
  type BackfillInput,
  type BackfillSource,
} from '../../contracts/backfill';
import type { Quote } from '../model/bar';
import { calendarFor, extendedHoursMs, isCryptoSymbol, nyDate } from '../market/calendar';
import { QuoteValidator, type QualityFinding, type QualityRule } from '../market/validation';
import type { MarketDataRepository } from '../storage/market-data-repo';
import { monthWindows } from './backfill-plan';
import { ingestOptionsFlow } from './options-flow';
import type { TickStore, TradePrint } from './tick-store';
import type { UnusualWhalesClient } from './unusual-whales';

export type TickKind = 'quotes' | 'trades' | 'options-flow';

type Problems = ReadonlyArray<{ index: number; field: string; problem: string; value?: string }>;

/** Quote and trade history (AlpacaMarketData). */
export interface TickHistory {
  readonly name: string;
  fetchQuotes(
    symbol: string,
    fromMs: number,
    toMs: number,
  ): AsyncIterable<{ quotes: Quote[]; location: string; problems: Problems }>;
  fetchTrades(
    symbol: string,
    fromMs: number,
    toMs: number,
  ): AsyncIterable<{ trades: TradePrint[]; location: string; problems: Problems }>;
}

/** Progress after a stored page (heartbeated). */
export interface TickCursor {
  /** Newest row time stored so far. */
  readonly lastTs: number;
  readonly batchSeq: number;
  readonly rowsStored: number;
}

export interface TickIngestResult {
  readonly rowsStored: number;
  readonly rowsChanged: number;
  readonly rejected: number;
  readonly rejectedByRule: Partial<Record<QualityRule, number>>;
  readonly findingsByRule: Partial<Record<QualityRule, number>>;
}

/** [from, to) windows of the chunks: trading days (extended hours) for quotes/trades, months for flow. */
export function tickChunkWindows(
  kind: TickKind,
  symbol: string,
  fromMs: number,
  toMs: number,
): Array<[number, number]> {
  if (kind === 'options-flow') return monthWindows(fromMs, toMs);
  const out: Array<[number, number]> = [];
  const DAY = 86_400_000;
  if (isCryptoSymbol(symbol)) {
    for (let t = Math.floor(fromMs / DAY) * DAY; t < toMs; t += DAY)
      out.push([Math.max(t, fromMs), Math.min(t + DAY, toMs)]);
    return out;
  }
  const cal = calendarFor(symbol);
  let date = nyDate(fromMs);
  for (let i = 0; i < 100_000 && date <= nyDate(toMs - 1); i++) {
    const w = cal.sessionFor(date) ? extendedHoursMs(date) : null;
    if (w) {
      const a = Math.max(w.startMs, fromMs);
      const b = Math.min(w.endMs, toMs);
      if (a < b) out.push([a, b]);
    }
    date = nyDate(Date.parse(`${date}T12:00:00Z`) + DAY);
  }
  return out;
}

function finding(
  symbol: string,
  ts: number | null,
  rule: QualityRule,
  field: string,
  value: string,
  detail: string,
  location: string,
): QualityFinding {
  return { symbol, timeframe: null, ts, rule, severity: 'reject', value, detail, location, field };
}

/** Ingests one chunk of quotes, trades or options flow; `onPage` is called after each stored page. */
export async function ingestTicks(opts: {
  readonly kind: TickKind;
  readonly symbol: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly history?: TickHistory;
  readonly flow?: UnusualWhalesClient;
  readonly store: TickStore;
  readonly repo: Pick<MarketDataRepository, 'writeFindings' | 'upsertOptionsFlow'>;
  readonly chunkKey: string;
  readonly onPage?: (c: TickCursor) => void;
  readonly signal?: AbortSignal;
}): Promise<TickIngestResult> {
  const { kind, symbol } = opts;
  const rejectedByRule: Partial<Record<QualityRule, number>> = {};
  const findingsByRule: Partial<Record<QualityRule, number>> = {};
  const bump = (m: typeof rejectedByRule, r: QualityRule) => (m[r] = (m[r] ?? 0) + 1);
  let rowsStored = 0;
  let rowsChanged = 0;
  let rejected = 0;
  let batchSeq = 0;
  let lastTs = opts.fromMs;

  if (kind === 'options-flow') {
    if (!opts.flow) throw new Error('flow: no Unusual Whales client');
    const r = await ingestOptionsFlow({
      client: opts.flow,
      repo: opts.repo,
      ticker: symbol,
      fromMs: opts.fromMs,
      toMs: opts.toMs,
      chunkKey: opts.chunkKey,
      signal: opts.signal,
    });
    if (r.rejected) {
      rejectedByRule.parse_error = r.rejected;
      findingsByRule.parse_error = r.rejected;
    }
    return {
      rowsStored: r.stored,
      rowsChanged: r.changed,
      rejected: r.rejected,
      rejectedByRule,
      findingsByRule,
    };
  }

  if (!opts.history) throw new Error('history: no quote/trade source');
  const pages =
    kind === 'quotes'
      ? opts.history.fetchQuotes(symbol, opts.fromMs, opts.toMs)
      : opts.history.fetchTrades(symbol, opts.fromMs, opts.toMs);
  for await (const page of pages as AsyncIterable<{
    quotes?: Quote[];
    trades?: TradePrint[];
    location: string;
    problems: Problems;
  }>) {
    if (opts.signal?.aborted) throw opts.signal.reason as Error;
    const findings: QualityFinding[] = page.problems.map((p) =>
      finding(
        symbol,
        null,
        'parse_error',
        p.field,
        p.value ?? '',
        p.problem,
        `${page.location} record ${p.index}`,
      ),
    );
    let changed = 0;
    let count = 0;
    if (kind === 'quotes') {
      const good: Quote[] = [];
      for (const q of page.quotes ?? []) {
        // Each quote on its own: several share a millisecond, and the store keeps one per (symbol, ms).
        const v = new QuoteValidator(symbol).check(q, page.location);
        findings.push(...v.findings.filter((f) => f.severity !== 'warn'));
        if (v.accepted && q.ts >= opts.fromMs && q.ts < opts.toMs) good.push(q);
      }
      changed = await opts.store.upsertQuotes(good, opts.history.name);
      count = good.length;
      if (good.length) lastTs = Math.max(lastTs, good.at(-1)!.ts);
    } else {
      const good: TradePrint[] = [];
      for (const t of page.trades ?? []) {
        if (!(t.price > 0) || !(t.size > 0)) {
          const f = !(t.price > 0) ? 'price' : 'size';
          findings.push(
            finding(
              symbol,
              t.ts,
              f === 'price' ? 'non_positive_price' : 'negative_size',
              f,
              String(t[f]),
              `${f} must be > 0`,
              page.location,
            ),
          );
          continue;
        }
        if (t.ts >= opts.fromMs && t.ts < opts.toMs) good.push(t);
      }
      changed = await opts.store.upsertTrades(good, opts.history.name);
      count = good.length;
      if (good.length) lastTs = Math.max(lastTs, good.at(-1)!.ts);
    }
    batchSeq++;
    for (const f of findings) {
      bump(findingsByRule, f.rule);
      if (f.severity === 'reject') {
        bump(rejectedByRule, f.rule);
        rejected++;
      }
    }
    if (findings.length)
      await opts.repo.writeFindings(findings, {
        source: opts.history.name,
        dataset: kind,
        chunkKey: opts.chunkKey,
        batchSeq,
      });
    rowsStored += count;
    rowsChanged += changed;
    opts.onPage?.({ lastTs, batchSeq, rowsStored });
  }
  return { rowsStored, rowsChanged, rejected, rejectedByRule, findingsByRule };
}

/** What kind of rows a backfill source gives when it is not bars. */
export function tickKindOf(source: BackfillSource): TickKind | undefined {
  switch (source.kind) {
    case 'alpaca-quotes':
      return 'quotes';
    case 'alpaca-trades':
      return 'trades';
    case 'unusual-whales':
      return 'options-flow';
    default:
      return undefined;
  }
}

/** Chunks of a quote/trade/flow backfill: symbol × trading day (quotes, trades) or symbol × month (flow). */
export function planTickChunks(input: BackfillInput): BackfillChunk[] {
  const kind = tickKindOf(input.source);
  if (!kind) throw new RangeError(`source: ${input.source.kind} gives bars, not quotes, trades or flow`);
  if (input.mode === 'gap-fill')
    throw new RangeError(
      `mode: gap-fill compares stored bars with the calendar; a ${kind} backfill runs in full`,
    );
  const feed = 'feed' in input.source && input.source.feed ? `:${input.source.feed}` : '';
  const out: BackfillChunk[] = [];
  for (const symbol of input.symbols) {
    for (const [fromMs, toMs] of tickChunkWindows(kind, symbol, input.fromMs, input.toMs)) {
      const label =
        kind === 'options-flow'
          ? new Date(fromMs).toISOString().slice(0, 7)
          : isCryptoSymbol(symbol)
            ? new Date(fromMs).toISOString().slice(0, 10)
            : nyDate(fromMs);
      out.push({
        key: `${input.source.kind}${feed}:${symbol}:${label}`,
        symbol,
        timeframe: '1m',
        fromMs,
        toMs,
        source: input.source,
        ownsLeading: false,
      });
      if (out.length > MAX_BACKFILL_CHUNKS)
        throw new RangeError(
          `symbols: more than ${MAX_BACKFILL_CHUNKS} ${kind} chunks (symbol × ${kind === 'options-flow' ? 'month' : 'day'}): split the backfill`,
        );
    }
  }
  return out;
}
