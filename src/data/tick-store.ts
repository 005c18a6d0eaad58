/**
 * Small, direct writes and reads of market data that arrives continuously: real-time bars, quotes and trades
 * from the stream, the REST gap fill behind it, and the quote/trade backfill. One multi-row upsert per batch
 * (no staging table: a bar must reach the store within milliseconds of arriving), with the same rules as the
 * file ingest's merge (src/storage/market-data-repo.ts): writing the same rows twice changes nothing
 * (`ingested_at` included), and a synthetic row never replaces a real one.
 */
import type { Pool } from 'pg';
import type { Bar, Quote, Trade } from '../model/bar';
import type { Timeframe } from '../model/timeframe';

/** A trade print as Alpaca gives it: the exchange and trade id make it unique. */
export interface TradePrint extends Trade {
  readonly exchange?: string;
  readonly id?: string;
  readonly conditions?: readonly string[];
  readonly tape?: string;
}

/** How one bar reached the store (bar_receipts): the latency probe of a real-time feed. */
export interface BarReceipt {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly ts: number;
  readonly feed: string;
  readonly path: 'stream' | 'rest';
  /** The bar's close on the venue's clock. */
  readonly venueCloseMs: number;
  /** The same instant on this machine's wall clock. */
  readonly closeWallMs: number;
  readonly receivedMs: number;
  /** When the write ran (the database's clock, in the bar's own statement). */
  readonly storedMs: number;
  readonly streamId: string;
}

const nul = (v: number | undefined): number | null => (v === undefined || Number.isNaN(v) ? null : v);

/** The last row per key (a multi-row upsert may not touch one row twice). */
function lastPerKey<T>(rows: readonly T[], key: (r: T) => string): T[] {
  const m = new Map<string, T>();
  for (const r of rows) {
    const k = key(r);
    m.delete(k);
    m.set(k, r);
  }
  return [...m.values()];
}

/** The first row per key (the first receipt of a bar is the one that counts). */
function firstPerKey<T>(rows: readonly T[], key: (r: T) => string): T[] {
  const m = new Map<string, T>();
  for (const r of rows) {
    const k = key(r);
    if (!m.has(k)) m.set(k, r);
  }
  return [...m.values()];
}

function monthsOf(tss: Iterable<number>): string[] {
  const s = new Set<string>();
  for (const t of tss) s.add(new Date(t).toISOString().slice(0, 7));
  return [...s].sort();
}

export class TickStore {
  /** `table:YYYY-MM` partitions this process has ensured. */
  private readonly ensured = new Set<string>();

  constructor(private readonly pool: Pool) {}

  /**
   * Monthly partitions of the months that hold rows, each in its own short transaction under the same
   * advisory lock as the file ingest (creating a partition while holding insert locks deadlocks writers).
   */
  private async ensurePartitions(table: string, tss: Iterable<number>): Promise<void> {
    const todo = monthsOf(tss).filter((m) => !this.ensured.has(`${table}:${m}`));
    if (!todo.length) return;
    const client = await this.pool.connect();
    try {
      for (const m of todo) {
        const from = new Date(`${m}-01T00:00:00Z`);
        const to = new Date(from);
        to.setUTCMonth(to.getUTCMonth() + 1);
        await client.query('begin');
        try {
          await client.query('select pg_advisory_xact_lock(hashtext($1))', [
            `ensure_time_partitions:${table}`,
          ]);
          await client.query('select ensure_time_partitions($1, $2, $3)', [table, from, to]);
          await client.query('commit');
        } catch (e) {
          await client.query('rollback').catch(() => undefined);
          throw e;
        }
        this.ensured.add(`${table}:${m}`);
      }
    } finally {
      client.release();
    }
  }

  /**
   * Upserts bars (any symbols and timeframes). Returns rows inserted or changed. With `receipts`, the same
   * statement records how each bar reached the store (bar_receipts, first receipt of a bar and feed kept,
   * `stored_at` the database's clock), so a bar is never stored without its receipt or the reverse.
   */
  async upsertBars(
    bars: readonly Bar[],
    source: string,
    synthetic = false,
    receipts: readonly Omit<BarReceipt, 'storedMs'>[] = [],
  ): Promise<number> {
    if (!bars.length) return 0;
    const rows = lastPerKey(bars, (b) => `${b.symbol}|${b.timeframe}|${b.ts}`);
    const marks = firstPerKey(receipts, (r) => `${r.symbol}|${r.timeframe}|${r.ts}|${r.feed}`);
    await this.ensurePartitions(
      'bars',
      rows.map((b) => b.ts),
    );
    if (marks.length)
      await this.ensurePartitions(
        'bar_receipts',
        marks.map((r) => r.ts),
      );
    const upsert = `insert into bars as b (symbol, timeframe, ts, open, high, low, close, volume, vwap, trade_count, source, synthetic)
       select u.*, $11::text, $12::boolean
         from unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[], $5::float8[], $6::float8[],
                     $7::float8[], $8::float8[], $9::float8[], $10::int[]) as u
       on conflict (symbol, timeframe, ts) do update set
         open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
         volume = excluded.volume, vwap = excluded.vwap, trade_count = excluded.trade_count,
         source = excluded.source, synthetic = excluded.synthetic, ingested_at = now()
       where (b.synthetic or not excluded.synthetic)
         and (b.open, b.high, b.low, b.close, b.volume, b.vwap, b.trade_count, b.source, b.synthetic)
             is distinct from
             (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume, excluded.vwap,
              excluded.trade_count, excluded.source, excluded.synthetic)`;
    const params: unknown[] = [
      rows.map((b) => b.symbol),
      rows.map((b) => b.timeframe),
      rows.map((b) => new Date(b.ts)),
      rows.map((b) => b.open),
      rows.map((b) => b.high),
      rows.map((b) => b.low),
      rows.map((b) => b.close),
      rows.map((b) => b.volume),
      rows.map((b) => nul(b.vwap)),
      rows.map((b) => (b.tradeCount === undefined ? null : Math.round(b.tradeCount))),
      source,
      synthetic,
    ];
    if (!marks.length) return (await this.pool.query(upsert, params)).rowCount ?? 0;
    const r = await this.pool.query<{ changed: number }>(
      `with changed as (${upsert} returning 1),
       receipts as (
         insert into bar_receipts (symbol, timeframe, ts, feed, path, venue_close_at, close_wall_at, received_at, stored_at, stream_id)
         select u.symbol, u.timeframe, u.ts, u.feed, u.path, u.venue_close_at, u.close_wall_at, u.received_at, clock_timestamp(), u.stream_id
           from unnest($13::text[], $14::text[], $15::timestamptz[], $16::text[], $17::text[], $18::timestamptz[],
                       $19::timestamptz[], $20::timestamptz[], $21::text[])
             as u(symbol, timeframe, ts, feed, path, venue_close_at, close_wall_at, received_at, stream_id)
         on conflict do nothing)
       select count(*)::int as changed from changed`,
      [
        ...params,
        marks.map((x) => x.symbol),
        marks.map((x) => x.timeframe),
        marks.map((x) => new Date(x.ts)),
        marks.map((x) => x.feed),
        marks.map((x) => x.path),
        marks.map((x) => new Date(x.venueCloseMs)),
        marks.map((x) => new Date(x.closeWallMs)),
        marks.map((x) => new Date(x.receivedMs)),
        marks.map((x) => x.streamId),
      ],
    );
    return r.rows[0]!.changed;
  }

  /** Upserts quotes, one per (symbol, ms): the last of a millisecond wins. A missing side (NaN) is NULL. */
  async upsertQuotes(quotes: readonly Quote[], source: string, synthetic = false): Promise<number> {
    if (!quotes.length) return 0;
    const rows = lastPerKey(quotes, (q) => `${q.symbol}|${q.ts}`);
    await this.ensurePartitions(
      'quotes',
      rows.map((q) => q.ts),
    );
    const r = await this.pool.query(
      `insert into quotes as q (symbol, ts, bid, ask, bid_size, ask_size, source, synthetic)
       select u.*, $7::text, $8::boolean
         from unnest($1::text[], $2::timestamptz[], $3::float8[], $4::float8[], $5::float8[], $6::float8[]) as u
       on conflict (symbol, ts) do update set
         bid = excluded.bid, ask = excluded.ask, bid_size = excluded.bid_size, ask_size = excluded.ask_size,
         source = excluded.source, synthetic = excluded.synthetic, ingested_at = now()
       where (q.synthetic or not excluded.synthetic)
         and (q.bid, q.ask, q.bid_size, q.ask_size, q.source, q.synthetic)
             is distinct from (excluded.bid, excluded.ask, excluded.bid_size, excluded.ask_size, excluded.source, excluded.synthetic)`,
      [
        rows.map((q) => q.symbol),
        rows.map((q) => new Date(q.ts)),
        rows.map((q) => nul(q.bid)),
        rows.map((q) => nul(q.ask)),
        rows.map((q) => nul(q.bidSize)),
        rows.map((q) => nul(q.askSize)),
        source,
        synthetic,
      ],
    );
    return r.rowCount ?? 0;
  }

  /** Upserts trade prints keyed by (symbol, ts, exchange, trade id). */
  async upsertTrades(trades: readonly TradePrint[], source: string, synthetic = false): Promise<number> {
    if (!trades.length) return 0;
    const rows = lastPerKey(trades, (t) => `${t.symbol}|${t.ts}|${t.exchange ?? ''}|${t.id ?? ''}`);
    await this.ensurePartitions(
      'trades',
      rows.map((t) => t.ts),
    );
    const r = await this.pool.query(
      `insert into trades as t (symbol, ts, exchange, trade_id, price, size, conditions, tape, source, synthetic)
       select u.symbol, u.ts, u.exchange, u.trade_id, u.price, u.size,
              case when u.conditions is null then null else string_to_array(u.conditions, ',') end,
              u.tape, $9::text, $10::boolean
         from unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::text[], $8::text[])
           as u(symbol, ts, exchange, trade_id, price, size, conditions, tape)
       on conflict (symbol, ts, exchange, trade_id) do update set
         price = excluded.price, size = excluded.size, conditions = excluded.conditions, tape = excluded.tape,
         source = excluded.source, synthetic = excluded.synthetic, ingested_at = now()
       where (t.synthetic or not excluded.synthetic)
         and (t.price, t.size, t.conditions, t.tape, t.source, t.synthetic)
             is distinct from (excluded.price, excluded.size, excluded.conditions, excluded.tape, excluded.source, excluded.synthetic)`,
      [
        rows.map((t) => t.symbol),
        rows.map((t) => new Date(t.ts)),
        rows.map((t) => t.exchange ?? ''),
        rows.map((t) => t.id ?? ''),
        rows.map((t) => t.price),
        rows.map((t) => t.size),
        rows.map((t) => (t.conditions?.length ? t.conditions.join(',') : null)),
        rows.map((t) => t.tape ?? null),
        source,
        synthetic,
      ],
    );
    return r.rowCount ?? 0;
  }

  /**
   * The start of the newest stored bar per symbol in [fromMs, toMs): where a consumer resumes, and how a
   * session knows which minutes are in the store. Symbols with none are absent from the map.
   */
  async latestBarTimes(
    symbols: readonly string[],
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
  ): Promise<Map<string, number>> {
    return this.latest('bars', symbols, fromMs, toMs, timeframe);
  }

  async latestQuoteTimes(
    symbols: readonly string[],
    fromMs: number,
    toMs: number,
  ): Promise<Map<string, number>> {
    return this.latest('quotes', symbols, fromMs, toMs);
  }

  async latestTradeTimes(
    symbols: readonly string[],
    fromMs: number,
    toMs: number,
  ): Promise<Map<string, number>> {
    return this.latest('trades', symbols, fromMs, toMs);
  }

  private async latest(
    table: 'bars' | 'quotes' | 'trades',
    symbols: readonly string[],
    fromMs: number,
    toMs: number,
    timeframe?: Timeframe,
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!symbols.length) return out;
    const r = await this.pool.query<[string, number]>({
      text: `select symbol, round(date_part('epoch', max(ts)) * 1000) from ${table}
              where symbol = any($1) and ts >= $2 and ts < $3 ${timeframe ? 'and timeframe = $4' : ''}
              group by symbol`,
      values: [symbols, new Date(fromMs), new Date(toMs), ...(timeframe ? [timeframe] : [])],
      rowMode: 'array',
    });
    for (const [s, t] of r.rows) out.set(s, Number(t));
    return out;
  }

  /** Quotes of a symbol in [fromMs, toMs), ascending; a NULL side reads as NaN. */
  async readQuotes(symbol: string, fromMs: number, toMs: number): Promise<Quote[]> {
    const r = await this.pool.query<[number, number | null, number | null, number | null, number | null]>({
      text: `select round(date_part('epoch', ts) * 1000), bid, ask, bid_size, ask_size from quotes
              where symbol = $1 and ts >= $2 and ts < $3 order by ts`,
      values: [symbol, new Date(fromMs), new Date(toMs)],
      rowMode: 'array',
    });
    return r.rows.map(([ts, bid, ask, bs, as]) => ({
      symbol,
      ts: Number(ts),
      bid: bid ?? NaN,
      ask: ask ?? NaN,
      bidSize: bs ?? 0,
      askSize: as ?? 0,
    }));
  }

  /** Trades of a symbol in [fromMs, toMs), ascending by time. */
  async readTrades(symbol: string, fromMs: number, toMs: number): Promise<TradePrint[]> {
    const r = await this.pool.query<{
      ts: number;
      exchange: string;
      trade_id: string;
      price: number;
      size: number;
      conditions: string[] | null;
      tape: string | null;
    }>(
      `select round(date_part('epoch', ts) * 1000) as ts, exchange, trade_id, price, size, conditions, tape
         from trades where symbol = $1 and ts >= $2 and ts < $3 order by ts, exchange, trade_id`,
      [symbol, new Date(fromMs), new Date(toMs)],
    );
    return r.rows.map((x) => ({
      symbol,
      ts: Number(x.ts),
      price: x.price,
      size: x.size,
      ...(x.exchange ? { exchange: x.exchange } : {}),
      ...(x.trade_id ? { id: x.trade_id } : {}),
      ...(x.conditions ? { conditions: x.conditions } : {}),
      ...(x.tape ? { tape: x.tape } : {}),
    }));
  }
}
