/**
 * The real-time market-data consumer: one trading day of one feed, from a websocket stream into the store.
 *
 * - Minute bars of every symbol, quotes and trades of the focus symbols, written as they arrive by one
 *   writer that batches whatever is waiting (a minute's burst of bars is one upsert), idempotently (the
 *   bars/quotes/trades upserts) — a bar stored twice is still one row.
 * - What it missed it fills through REST: when it starts (from the newest stored minute of each symbol, so a
 *   retried activity resumes where the crashed one stopped) and after every reconnect (the venue's
 *   subscription acknowledgement). While a symbol's gap is being filled its new stream data is held back, so
 *   the store never holds a later minute before an earlier one: the newest stored minute is always a safe
 *   place to resume from (minutes the venue never published — no trades — are simply absent).
 * - It ends once the venue's clock has passed the end of the window (the session close), after a short grace
 *   for the last bars and a final fill of whatever did not arrive.
 * - The latency probe: every bar's first store gets a receipt (bar_receipts: path stream/rest, venue close,
 *   received, stored) and a `trader_data_bar_store_latency_seconds` observation.
 */
import type { Bar, Quote } from '../../model/bar';
import { PermanentError, TemporaryError } from '../../model/errors';
import { calendarFor } from '../../market/calendar';
import { BarValidator, type QualityFinding } from '../../market/validation';
import {
  observeBarStoreLatency,
  recordBarsIngested,
  recordDataQualityReject,
  setDataFreshness,
} from '../../monitoring/metrics';
import type { FindingContext } from '../../storage/market-data-repo';
import type { MarketStreamHandlers, MarketStreamSubscription } from '../alpaca-stream';
import type { BarPage, BarRequest } from '../source';
import type { TickStore, TradePrint } from '../tick-store';
import type { VenueClock } from './venue-clock';

const MINUTE = 60_000;

/** The real-time feed (AlpacaMarketStream). */
export interface MarketStream {
  start(sub: MarketStreamSubscription, handlers: MarketStreamHandlers): Promise<void>;
  stop(): void;
}

type Problems = ReadonlyArray<{ index: number; field: string; problem: string; value?: string }>;

/** REST history used to fill gaps (AlpacaMarketData). */
export interface GapFillSource {
  readonly name: string;
  fetchBars(req: BarRequest, signal?: AbortSignal): AsyncIterable<BarPage>;
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

export interface FindingSink {
  writeFindings(findings: readonly QualityFinding[], ctx: FindingContext): Promise<void>;
}

/** Heartbeat details and the final summary. */
export interface StreamProgress {
  /** Start of the newest stored minute bar per symbol (epoch ms). */
  readonly lastStored: Record<string, number>;
  readonly barsFromStream: number;
  readonly barsFromRest: number;
  readonly quotes: number;
  readonly trades: number;
  readonly findings: number;
  /** Subscription acknowledgements after the first (reconnects this attempt). */
  readonly reconnects: number;
  readonly fills: number;
}

export interface MarketDataConsumerOptions {
  /** Who is consuming (the workflow id): recorded with each receipt. */
  readonly streamId: string;
  readonly feed: string;
  readonly symbols: readonly string[];
  /** Symbols whose quotes and trades are consumed too. */
  readonly focus?: readonly string[];
  /** The day's window on the venue's clock: [fromMs, untilMs) (the regular session by default). */
  readonly fromMs: number;
  readonly untilMs: number;
  readonly stream: MarketStream;
  readonly rest: GapFillSource;
  readonly store: TickStore;
  readonly findings: FindingSink;
  readonly clock: VenueClock;
  /** bars.source of what is stored (default the REST source's name, e.g. 'alpaca'). */
  readonly source?: string;
  /** The previous attempt's progress (activity heartbeat details). */
  readonly resume?: Partial<StreamProgress>;
  readonly heartbeat?: (p: StreamProgress) => void;
  readonly signal?: AbortSignal;
  /** How often the venue's clock is read to notice the end of the day (wall ms; default 5000). */
  readonly clockPollMs?: number;
  /** Wait for the last bars after the venue's clock passed the end (wall ms; default 2000). */
  readonly closeGraceMs?: number;
  readonly heartbeatMs?: number;
  readonly fillConcurrency?: number;
  readonly log?: (message: string) => void;
}

interface PendingBar {
  readonly bar: Bar;
  readonly path: 'stream' | 'rest';
  readonly receivedMs: number;
}

/** Resolves after `ms`, or at once when `signal` aborts (the listener is removed either way). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class MarketDataConsumer {
  private readonly symbols: readonly string[];
  private readonly symbolSet: ReadonlySet<string>;
  private readonly focus: ReadonlySet<string>;
  private readonly source: string;
  /** Newest minute per symbol that is stored or queued for the writer (never a held one). */
  private readonly highWater = new Map<string, number>();
  private readonly quoteHigh = new Map<string, number>();
  private readonly tradeHigh = new Map<string, number>();
  private readonly lastStored = new Map<string, number>();
  /** Symbols whose stream data is held back until the fill of acknowledgement `gen` is stored. */
  private readonly holdUntilGen = new Map<string, number>();
  private readonly held = new Map<string, { bars: PendingBar[]; quotes: Quote[]; trades: TradePrint[] }>();
  private gen = 0;
  private acks = 0;
  private pending = { bars: [] as PendingBar[], quotes: [] as Quote[], trades: [] as TradePrint[] };
  private pendingFindings: QualityFinding[] = [];
  private writing: Promise<void> | undefined;
  private filling: Promise<void> | undefined;
  private fillWanted = false;
  private fatal: Error | undefined;
  private closingAt: number | undefined;
  private readonly counts = {
    barsFromStream: 0,
    barsFromRest: 0,
    quotes: 0,
    trades: 0,
    findings: 0,
    reconnects: 0,
    fills: 0,
  };
  private wake: () => void = () => undefined;

  constructor(private readonly o: MarketDataConsumerOptions) {
    if (!o.symbols.length) throw new PermanentError('symbols: at least one symbol is needed');
    if (!(o.untilMs > o.fromMs)) throw new PermanentError('untilMs: must be after fromMs');
    this.symbols = [...new Set(o.symbols)];
    this.symbolSet = new Set(this.symbols);
    this.focus = new Set((o.focus ?? []).filter((s) => this.symbols.includes(s)));
    this.source = o.source ?? o.rest.name;
  }

  progress(): StreamProgress {
    return { lastStored: Object.fromEntries(this.lastStored), ...this.counts };
  }

  /** Consumes the day; resolves with the summary once the window has ended and everything is stored. */
  async run(): Promise<StreamProgress> {
    const { o } = this;
    await this.loadResumePoints();
    // Nothing the stream sends is stored before the first fill (of the time before this start) is.
    this.holdAll();
    const heartbeat = setInterval(() => o.heartbeat?.(this.progress()), o.heartbeatMs ?? 2_000);
    heartbeat.unref?.();
    o.heartbeat?.(this.progress());
    try {
      await o.clock.refresh();
      const focus = [...this.focus];
      const aborted = new Promise<never>((_, reject) => {
        if (o.signal?.aborted) reject(o.signal.reason as Error);
        o.signal?.addEventListener('abort', () => reject(o.signal!.reason as Error), { once: true });
      });
      aborted.catch(() => undefined);
      await Promise.race([
        o.stream.start(
          { bars: this.symbols, quotes: focus, trades: focus },
          {
            onBar: (bar, receivedMs) => this.onStreamBar(bar, receivedMs),
            onQuote: (q) => this.onStreamTick('quotes', q),
            onTrade: (t) => this.onStreamTick('trades', t),
            onFinding: (f) => this.finding(f),
            onSubscribed: () => this.onSubscribed(),
            onDisconnect: () => o.log?.('market-data stream disconnected; the SDK reconnects'),
            onError: (m) => o.log?.(`market-data stream: ${m}`),
          },
        ),
        aborted,
      ]).catch((e: unknown) => {
        if (o.signal?.aborted) throw e;
        throw new PermanentError(`stream: ${(e as Error).message}`, { cause: e });
      });
      await this.untilDayEnds();
      // The final fill: whatever of the window did not come through the stream.
      this.holdAll();
      this.requestFill();
      await this.filling;
      await this.drain();
      this.throwIfFailed();
      o.heartbeat?.(this.progress());
      return this.progress();
    } finally {
      clearInterval(heartbeat);
      o.stream.stop();
      // Best effort on the way out (cancelled or failed): what is queued is still worth storing.
      await Promise.race([this.drain().catch(() => undefined), sleep(5_000)]);
    }
  }

  private async loadResumePoints(): Promise<void> {
    const { o } = this;
    const [bars, quotes, trades] = await Promise.all([
      o.store.latestBarTimes(this.symbols, '1m', o.fromMs, o.untilMs),
      o.store.latestQuoteTimes([...this.focus], o.fromMs, o.untilMs),
      o.store.latestTradeTimes([...this.focus], o.fromMs, o.untilMs),
    ]);
    for (const s of this.symbols) {
      const t = Math.max(bars.get(s) ?? -Infinity, o.resume?.lastStored?.[s] ?? -Infinity);
      if (Number.isFinite(t)) {
        this.highWater.set(s, t);
        this.lastStored.set(s, t);
      }
    }
    for (const [s, t] of quotes) this.quoteHigh.set(s, t);
    for (const [s, t] of trades) this.tradeHigh.set(s, t);
  }

  private holdAll(): void {
    this.gen++;
    for (const s of this.symbols) this.holdUntilGen.set(s, this.gen);
  }

  private onSubscribed(): void {
    if (this.acks++ > 0) this.counts.reconnects++;
    // Anything published while disconnected is missing: hold new data until the gap is filled.
    this.holdAll();
    this.requestFill();
  }

  private heldOf(symbol: string) {
    let h = this.held.get(symbol);
    if (!h) this.held.set(symbol, (h = { bars: [], quotes: [], trades: [] }));
    return h;
  }

  private onStreamBar(bar: Bar, receivedMs: number): void {
    if (bar.ts < this.o.fromMs || bar.ts >= this.o.untilMs || !this.symbolSet.has(bar.symbol)) return;
    if (bar.ts + MINUTE >= this.o.untilMs) this.noteClosing();
    const p: PendingBar = { bar, path: 'stream', receivedMs };
    if (this.holdUntilGen.has(bar.symbol)) this.heldOf(bar.symbol).bars.push(p);
    else this.enqueueBar(p);
    this.kick();
  }

  private onStreamTick(kind: 'quotes' | 'trades', x: Quote | TradePrint): void {
    if (x.ts < this.o.fromMs || x.ts >= this.o.untilMs || !this.focus.has(x.symbol)) return;
    if (this.holdUntilGen.has(x.symbol)) (this.heldOf(x.symbol)[kind] as Array<typeof x>).push(x);
    else this.enqueueTick(kind, x);
    this.kick();
  }

  private enqueueBar(p: PendingBar): void {
    this.pending.bars.push(p);
    const s = p.bar.symbol;
    if (!(p.bar.ts <= (this.highWater.get(s) ?? -Infinity))) this.highWater.set(s, p.bar.ts);
  }

  private enqueueTick(kind: 'quotes' | 'trades', x: Quote | TradePrint): void {
    (this.pending[kind] as Array<typeof x>).push(x);
    const high = kind === 'quotes' ? this.quoteHigh : this.tradeHigh;
    if (!(x.ts <= (high.get(x.symbol) ?? -Infinity))) high.set(x.symbol, x.ts);
  }

  private finding(f: QualityFinding): void {
    this.pendingFindings.push(f);
    this.counts.findings++;
    if (f.severity !== 'warn') recordDataQualityReject(f.symbol, f.timeframe ?? 'tick', f.rule);
    this.kick();
  }

  // ---- the writer -----------------------------------------------------------------------------------------
  private kick(): void {
    if (this.writing) return;
    this.writing = this.writeLoop().finally(() => {
      this.writing = undefined;
      // Something may have arrived between the loop's last check and now.
      if (this.hasPending() && !this.fatal) this.kick();
    });
  }

  private hasPending(): boolean {
    const p = this.pending;
    return p.bars.length + p.quotes.length + p.trades.length + this.pendingFindings.length > 0;
  }

  private async drain(): Promise<void> {
    while (this.writing || (this.hasPending() && !this.fatal)) {
      if (!this.writing) this.kick();
      await this.writing;
    }
  }

  private async writeLoop(): Promise<void> {
    while (this.hasPending() && !this.fatal) {
      const batch = this.pending;
      const findings = this.pendingFindings;
      this.pending = { bars: [], quotes: [], trades: [] };
      this.pendingFindings = [];
      for (let attempt = 1; ; attempt++) {
        try {
          await this.writeBatch(batch, findings);
          break;
        } catch (e) {
          if (attempt >= 6) {
            this.fatal = new TemporaryError(`store: ${(e as Error).message}`, undefined, { cause: e });
            this.wake();
            return;
          }
          this.o.log?.(`store write failed (attempt ${attempt}): ${(e as Error).message}`);
          await sleep(Math.min(5_000, 200 * 2 ** attempt));
        }
      }
    }
  }

  private async writeBatch(batch: typeof this.pending, findings: QualityFinding[]): Promise<void> {
    const { o } = this;
    if (batch.bars.length) {
      const receipts = batch.bars.map((p) => {
        const venueCloseMs = p.bar.ts + MINUTE;
        return {
          symbol: p.bar.symbol,
          timeframe: '1m' as const,
          ts: p.bar.ts,
          feed: o.feed,
          path: p.path,
          venueCloseMs,
          closeWallMs: o.clock.toWall(venueCloseMs) ?? p.receivedMs,
          receivedMs: p.receivedMs,
          streamId: o.streamId,
        };
      });
      // One statement: the bars and their receipts (the latency probe) are stored together or not at all.
      await o.store.upsertBars(
        batch.bars.map((p) => p.bar),
        this.source,
        false,
        receipts,
      );
      const storedMs = Date.now();
      for (const r of receipts) {
        observeBarStoreLatency(o.feed, r.path, (storedMs - r.closeWallMs) / 1000);
        if (!(r.ts <= (this.lastStored.get(r.symbol) ?? -Infinity))) {
          this.lastStored.set(r.symbol, r.ts);
          setDataFreshness(r.symbol, '1m', r.closeWallMs);
        }
        if (r.path === 'stream') this.counts.barsFromStream++;
        else this.counts.barsFromRest++;
        recordBarsIngested(r.symbol, '1m', 1);
      }
    }
    if (batch.quotes.length) {
      await o.store.upsertQuotes(batch.quotes, this.source);
      this.counts.quotes += batch.quotes.length;
    }
    if (batch.trades.length) {
      await o.store.upsertTrades(batch.trades, this.source);
      this.counts.trades += batch.trades.length;
    }
    if (findings.length)
      await o.findings.writeFindings(findings, { source: `${this.source}-stream`, dataset: o.feed });
    o.heartbeat?.(this.progress());
  }

  // ---- gap fills ------------------------------------------------------------------------------------------
  private requestFill(): void {
    this.fillWanted = true;
    if (this.filling) return;
    this.filling = (async () => {
      try {
        while (this.fillWanted && !this.fatal) {
          this.fillWanted = false;
          await this.fillOnce(this.gen);
        }
      } catch (e) {
        this.fatal ??= e instanceof Error ? e : new Error(String(e));
        this.wake();
      } finally {
        this.filling = undefined;
      }
    })();
  }

  /** Fills every symbol's gap up to the venue's now, then releases what the stream sent meanwhile. */
  private async fillOnce(gen: number): Promise<void> {
    const { o } = this;
    this.counts.fills++;
    const venueNow = await this.retrying('venue clock', () => o.clock.now());
    await o.clock.refresh();
    const barsTo = Math.min(Math.floor(venueNow / MINUTE) * MINUTE, o.untilMs);
    const ticksTo = Math.min(venueNow, o.untilMs);
    if (venueNow >= o.untilMs) this.noteClosing();
    const queue = [...this.symbols];
    const lane = async () => {
      for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
        const symbol = s;
        const from = Math.max(o.fromMs, (this.highWater.get(symbol) ?? -Infinity) + MINUTE);
        if (from < barsTo) await this.retrying(`fill ${symbol}`, () => this.fillBars(symbol, from, barsTo));
        if (this.focus.has(symbol)) {
          const qFrom = Math.max(o.fromMs, (this.quoteHigh.get(symbol) ?? -Infinity) + 1);
          if (qFrom < ticksTo)
            await this.retrying(`fill quotes ${symbol}`, () =>
              this.fillTicks('quotes', symbol, qFrom, ticksTo),
            );
          const tFrom = Math.max(o.fromMs, this.tradeHigh.get(symbol) ?? -Infinity);
          if (tFrom < ticksTo)
            await this.retrying(`fill trades ${symbol}`, () =>
              this.fillTicks('trades', symbol, tFrom, ticksTo),
            );
        }
        this.release(symbol, gen);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, o.fillConcurrency ?? 8) }, lane));
    this.kick();
  }

  private async fillBars(symbol: string, fromMs: number, toMs: number): Promise<void> {
    const validator = new BarValidator({ symbol, timeframe: '1m', calendar: calendarFor(symbol) });
    const receivedMs = Date.now();
    const got: PendingBar[] = [];
    for await (const page of this.o.rest.fetchBars(
      { symbol, timeframe: '1m', fromMs, toMs },
      this.o.signal,
    )) {
      for (const p of page.problems ?? []) this.finding(this.problemFinding(symbol, '1m', page.location, p));
      for (const bar of page.bars) {
        const v = validator.check(bar, page.location);
        v.findings.forEach((f) => this.finding(f));
        if (v.accepted && bar.ts >= fromMs && bar.ts < toMs) got.push({ bar, path: 'rest', receivedMs });
      }
    }
    // Enqueued only once the whole range is read: a failed read is retried from the same `from`.
    for (const p of got) this.enqueueBar(p);
  }

  private async fillTicks(kind: 'quotes' | 'trades', symbol: string, fromMs: number, toMs: number) {
    const got: Array<Quote | TradePrint> = [];
    const pages =
      kind === 'quotes'
        ? this.o.rest.fetchQuotes(symbol, fromMs, toMs)
        : this.o.rest.fetchTrades(symbol, fromMs, toMs);
    for await (const page of pages as AsyncIterable<{
      quotes?: Quote[];
      trades?: TradePrint[];
      location: string;
      problems: Problems;
    }>) {
      for (const p of page.problems) this.finding(this.problemFinding(symbol, null, page.location, p));
      for (const x of (kind === 'quotes' ? page.quotes : page.trades) ?? [])
        if (x.ts >= fromMs && x.ts < toMs) got.push(x);
    }
    for (const x of got) this.enqueueTick(kind, x);
  }

  private problemFinding(
    symbol: string,
    timeframe: '1m' | null,
    location: string,
    p: Problems[number],
  ): QualityFinding {
    return {
      symbol,
      timeframe,
      ts: null,
      rule: 'parse_error',
      severity: 'reject',
      value: p.value ?? '',
      detail: `${p.field}: ${p.problem}`,
      location: `${location} record ${p.index}`,
      field: p.field,
    };
  }

  /** Stream data of `symbol` flows again once the fill of the newest acknowledgement is queued. */
  private release(symbol: string, gen: number): void {
    const need = this.holdUntilGen.get(symbol);
    if (need === undefined || need > gen) return;
    this.holdUntilGen.delete(symbol);
    const h = this.held.get(symbol);
    if (!h) return;
    this.held.delete(symbol);
    for (const p of h.bars) this.enqueueBar(p);
    for (const q of h.quotes) this.enqueueTick('quotes', q);
    for (const t of h.trades) this.enqueueTick('trades', t);
  }

  private async retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (this.o.signal?.aborted || e instanceof PermanentError || attempt >= 6) throw e;
        this.o.log?.(`${what} failed (attempt ${attempt}): ${(e as Error).message}`);
        await sleep(Math.min(10_000, 250 * 2 ** attempt), this.o.signal);
      }
    }
  }

  // ---- the end of the day -----------------------------------------------------------------------------------
  private noteClosing(): void {
    if (this.closingAt === undefined) {
      this.closingAt = Date.now();
      this.wake();
    }
  }

  private throwIfFailed(): void {
    if (this.o.signal?.aborted) throw this.o.signal.reason as Error;
    if (this.fatal) throw this.fatal;
  }

  /** Waits until the venue's clock is past the window and the grace for the last bars has run out. */
  private async untilDayEnds(): Promise<void> {
    const { o } = this;
    const poll = o.clockPollMs ?? 5_000;
    let lastPoll = 0;
    for (;;) {
      this.throwIfFailed();
      if (this.closingAt !== undefined) {
        const left = this.closingAt + (o.closeGraceMs ?? 2_000) - Date.now();
        if (left <= 0) return;
        await this.nap(left);
        continue;
      }
      if (Date.now() - lastPoll >= poll) {
        lastPoll = Date.now();
        try {
          if ((await o.clock.now()) >= o.untilMs) this.noteClosing();
        } catch (e) {
          o.log?.(`venue clock: ${(e as Error).message}`);
        }
      }
      await this.nap(poll);
    }
  }

  /** Sleeps up to `ms`; `wake()` (closing, a failure) or an abort ends it early. */
  private nap(ms: number): Promise<void> {
    const woken = new Promise<void>((resolve) => (this.wake = resolve));
    return Promise.race([sleep(ms, this.o.signal), woken]);
  }
}
