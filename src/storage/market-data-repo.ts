/**
 * Market-data storage: bulk ingest through COPY into a per-connection staging table followed by one
 * idempotent upsert, data-quality findings, and range reads back into columnar Float64Arrays.
 *
 * Idempotent means: writing the same rows twice leaves every column identical, `ingested_at` included
 * (the upsert only touches a row whose values actually changed).
 */
import type { Pool, PoolClient } from 'pg';
import { allocBarColumns } from '../model/bar';
import { from as copyFrom } from 'pg-copy-streams';
import type { Bar, BarColumns } from '../model/bar';
import type { Timeframe } from '../model/timeframe';
import type { QualityFinding } from '../market/validation';

/**
 * Rows for COPY in the column order of `bars` (BAR_COPY_COLUMNS), one per line:
 * symbol \t timeframe \t ts (ISO-8601) \t open \t high \t low \t close \t volume \t vwap|\N \t trade_count|\N \t source \t synthetic
 * All rows of a batch share symbol, timeframe, source and synthetic (given again on the batch).
 */
export interface BarCopyBatch {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly source: string;
  readonly synthetic: boolean;
  readonly copyText: string;
  readonly count: number;
  readonly minTs: number;
  readonly maxTs: number;
}

/** Rows for COPY: ts_ms \t bid|\N \t ask|\N \t bid_size \t ask_size */
export interface QuoteCopyBatch {
  readonly symbol: string;
  readonly source: string;
  readonly synthetic: boolean;
  readonly copyText: string;
  readonly count: number;
  readonly minTs: number;
  readonly maxTs: number;
}

/** Where findings came from, and which backfill chunk/batch wrote them. */
export interface FindingContext {
  readonly source: string;
  readonly dataset?: string;
  readonly chunkKey?: string;
  readonly batchSeq?: number;
}

export interface OptionsFlowRow {
  readonly id: string;
  readonly symbol: string;
  readonly ts: number;
  readonly optionSymbol?: string;
  readonly side?: string;
  readonly putCall?: string;
  readonly strike?: number;
  readonly expiry?: string;
  readonly premium?: number;
  readonly size?: number;
  readonly underlyingPrice?: number;
  readonly payload: unknown;
}

export interface QualityReportRow {
  readonly dataset: string | null;
  readonly symbol: string;
  readonly timeframe: string | null;
  readonly rule: string;
  readonly severity: string;
  readonly count: number;
  readonly firstTs: number | null;
  readonly example: string;
}

/** Escapes a value for COPY text format. */
export function copyEscape(v: string): string {
  return v.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

export const BAR_COPY_COLUMNS =
  'symbol, timeframe, ts, open, high, low, close, volume, vwap, trade_count, source, synthetic';

const num = (v: number | undefined | null): string =>
  v === undefined || v === null || Number.isNaN(v) ? '\\N' : String(v);

/** COPY text for Bar objects (API and synthetic sources). */
export function barsToCopyText(bars: readonly Bar[], source: string, synthetic: boolean): string {
  let s = '';
  const tail = `\t${copyEscape(source)}\t${synthetic ? 't' : 'f'}\n`;
  for (const b of bars) {
    s += `${copyEscape(b.symbol)}\t${b.timeframe}\t${new Date(b.ts).toISOString()}\t${b.open}\t${b.high}\t${b.low}\t${b.close}\t${b.volume}\t${num(b.vwap)}\t${num(b.tradeCount)}${tail}`;
  }
  return s;
}

export function barCopyBatch(bars: readonly Bar[], source: string, synthetic: boolean): BarCopyBatch {
  if (bars.length === 0) throw new RangeError('bars: an empty batch cannot be written');
  let minTs = Infinity;
  let maxTs = -Infinity;
  for (const b of bars) {
    if (b.ts < minTs) minTs = b.ts;
    if (b.ts > maxTs) maxTs = b.ts;
  }
  return {
    symbol: bars[0]!.symbol,
    timeframe: bars[0]!.timeframe,
    source,
    synthetic,
    copyText: barsToCopyText(bars, source, synthetic),
    count: bars.length,
    minTs,
    maxTs,
  };
}

async function copyInto(client: PoolClient, sql: string, text: string): Promise<void> {
  const stream = client.query(copyFrom(sql));
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('finish', resolve);
    stream.end(text);
  });
}

export class MarketDataRepository {
  /** Partition months already ensured by this process (ensure_time_partitions is idempotent anyway). */
  private readonly ensured = new Set<string>();

  constructor(private readonly pool: Pool) {}

  /**
   * Runs in its own autocommit statement, never inside the batch transaction: creating a partition locks
   * the parent table, and doing that while holding row locks from an insert deadlocks parallel writers.
   */
  private async ensurePartitions(table: string, minTs: number, maxTs: number): Promise<void> {
    const key = `${table}:${new Date(minTs).toISOString().slice(0, 7)}:${new Date(maxTs).toISOString().slice(0, 7)}`;
    if (this.ensured.has(key)) return;
    // One creator at a time per table: two concurrent creations each delete from the default partition
    // and then wait for the other's lock on it (deadlock).
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [`ensure_time_partitions:${table}`]);
      await client.query('select ensure_time_partitions($1, $2, $3)', [
        table,
        new Date(minTs),
        new Date(maxTs + 1),
      ]);
      await client.query('commit');
    } catch (e) {
      await client.query('rollback').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
    this.ensured.add(key);
    if (this.ensured.size > 10_000) this.ensured.clear();
  }

  /** Writes one batch of bars and its findings atomically. Returns rows inserted or changed. */
  async writeBars(
    batch: BarCopyBatch | null,
    findings: readonly QualityFinding[],
    ctx: FindingContext,
  ): Promise<{ changed: number }> {
    if (batch && batch.count > 0) await this.ensurePartitions('bars', batch.minTs, batch.maxTs);
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      let changed = 0;
      if (batch && batch.count > 0) {
        // Fast path: nothing stored yet in this key range, so COPY straight into `bars` (multi-row
        // inserts into the partitions). A concurrent writer of the same range makes it fail with a
        // unique violation, and the batch is redone through the upsert below.
        const occupied = await client.query(
          'select 1 from bars where symbol = $1 and timeframe = $2 and ts >= $3 and ts <= $4 limit 1',
          [batch.symbol, batch.timeframe, new Date(batch.minTs), new Date(batch.maxTs)],
        );
        let direct = false;
        if (occupied.rowCount === 0) {
          await client.query('savepoint direct_copy');
          try {
            await copyInto(client, `COPY bars (${BAR_COPY_COLUMNS}) FROM STDIN`, batch.copyText);
            await client.query('release savepoint direct_copy');
            direct = true;
          } catch (e) {
            if ((e as { code?: string }).code !== '23505') throw e;
            await client.query('rollback to savepoint direct_copy');
          }
        }
        if (direct) {
          changed = batch.count;
        } else {
          await client.query(`create temp table if not exists bars_stage (
          symbol text, timeframe text, ts timestamptz, open float8, high float8, low float8, close float8, volume float8,
          vwap float8, trade_count integer, source text, synthetic boolean
        ) on commit delete rows`);
          await copyInto(client, `COPY bars_stage (${BAR_COPY_COLUMNS}) FROM STDIN`, batch.copyText);
          const r = await client.query(
            `insert into bars as b (${BAR_COPY_COLUMNS})
           select s.symbol, s.timeframe, s.ts, s.open, s.high, s.low, s.close, s.volume, s.vwap, s.trade_count, s.source, s.synthetic
             from bars_stage s
           on conflict (symbol, timeframe, ts) do update set
             open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
             volume = excluded.volume, vwap = excluded.vwap, trade_count = excluded.trade_count,
             source = excluded.source, synthetic = excluded.synthetic, ingested_at = now()
           where (b.open, b.high, b.low, b.close, b.volume, b.vwap, b.trade_count, b.source, b.synthetic)
                 is distinct from
                 (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume, excluded.vwap,
                  excluded.trade_count, excluded.source, excluded.synthetic)`,
          );
          changed = r.rowCount ?? 0;
        }
      }
      await this.insertFindings(client, findings, ctx);
      await client.query('commit');
      return { changed };
    } catch (e) {
      await client.query('rollback').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async writeQuotes(
    batch: QuoteCopyBatch | null,
    findings: readonly QualityFinding[],
    ctx: FindingContext,
  ): Promise<{ changed: number }> {
    if (batch && batch.count > 0) await this.ensurePartitions('quotes', batch.minTs, batch.maxTs);
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      let changed = 0;
      if (batch && batch.count > 0) {
        await client.query(`create temp table if not exists quotes_stage (
          ts bigint, bid float8, ask float8, bid_size float8, ask_size float8
        ) on commit delete rows`);
        await copyInto(client, 'COPY quotes_stage FROM STDIN', batch.copyText);
        const r = await client.query(
          `insert into quotes as q (symbol, ts, bid, ask, bid_size, ask_size, source, synthetic)
           select $1, timestamptz 'epoch' + s.ts * interval '1 millisecond', s.bid, s.ask, s.bid_size, s.ask_size, $2, $3
             from quotes_stage s
           on conflict (symbol, ts) do update set
             bid = excluded.bid, ask = excluded.ask, bid_size = excluded.bid_size, ask_size = excluded.ask_size,
             source = excluded.source, synthetic = excluded.synthetic, ingested_at = now()
           where (q.bid, q.ask, q.bid_size, q.ask_size, q.source, q.synthetic)
                 is distinct from (excluded.bid, excluded.ask, excluded.bid_size, excluded.ask_size, excluded.source, excluded.synthetic)`,
          [batch.symbol, batch.source, batch.synthetic],
        );
        changed = r.rowCount ?? 0;
      }
      await this.insertFindings(client, findings, ctx);
      await client.query('commit');
      return { changed };
    } catch (e) {
      await client.query('rollback').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  private async insertFindings(
    client: PoolClient,
    findings: readonly QualityFinding[],
    ctx: FindingContext,
  ): Promise<void> {
    if (findings.length === 0) return;
    await client.query(
      `insert into data_quality (symbol, timeframe, ts, rule, severity, value, detail, location, field, source, dataset, chunk_key, batch_seq)
       select f.symbol, f.timeframe, case when f.ts is null then null else timestamptz 'epoch' + f.ts * interval '1 millisecond' end,
              f.rule, f.severity, f.value, f.detail, f.location, f.field, $9, $10, $11, $12
         from unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $13::text[])
           as f(symbol, timeframe, ts, rule, severity, value, detail, location, field)`,
      [
        findings.map((f) => f.symbol),
        findings.map((f) => f.timeframe),
        findings.map((f) => f.ts),
        findings.map((f) => f.rule),
        findings.map((f) => f.severity),
        findings.map((f) => f.value),
        findings.map((f) => f.detail),
        findings.map((f) => f.location),
        ctx.source,
        ctx.dataset ?? null,
        ctx.chunkKey ?? null,
        ctx.batchSeq ?? null,
        findings.map((f) => f.field ?? null),
      ],
    );
  }

  /** Findings only (no rows), e.g. parse errors of a batch where every row was rejected. */
  async writeFindings(findings: readonly QualityFinding[], ctx: FindingContext): Promise<void> {
    await this.writeBars(null, findings, ctx);
  }

  /** Drops the findings a chunk wrote after a batch, before that chunk redoes those batches. */
  async deleteFindingsAfter(chunkKey: string, batchSeq: number): Promise<number> {
    const r = await this.pool.query('delete from data_quality where chunk_key = $1 and batch_seq > $2', [
      chunkKey,
      batchSeq,
    ]);
    return r.rowCount ?? 0;
  }

  /** Bars of one symbol/timeframe with fromMs <= ts < toMs, ascending, as Float64Arrays. */
  async readBarColumns(
    symbol: string,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
  ): Promise<BarColumns> {
    const r = await this.pool.query<[number, number, number, number, number, number]>({
      text: `select round(date_part('epoch', ts) * 1000), open, high, low, close, volume
               from bars where symbol = $1 and timeframe = $2 and ts >= $3 and ts < $4 order by ts`,
      values: [symbol, timeframe, new Date(fromMs), new Date(toMs)],
      rowMode: 'array',
    });
    const n = r.rows.length;
    const cols = allocBarColumns(symbol, timeframe, n);
    for (let i = 0; i < n; i++) {
      const row = r.rows[i]!;
      cols.ts[i] = row[0];
      cols.open[i] = row[1];
      cols.high[i] = row[2];
      cols.low[i] = row[3];
      cols.close[i] = row[4];
      cols.volume[i] = row[5];
    }
    return cols;
  }

  /** Bars as objects (CLI output, aggregation input). */
  async readBars(symbol: string, timeframe: Timeframe, fromMs: number, toMs: number): Promise<Bar[]> {
    const r = await this.pool.query<{
      ts: number;
      open: number;
      high: number;
      low: number;
      close: number;
      volume: number;
      vwap: number | null;
      trade_count: number | null;
    }>(
      `select round(date_part('epoch', ts) * 1000) as ts, open, high, low, close, volume, vwap, trade_count
         from bars where symbol = $1 and timeframe = $2 and ts >= $3 and ts < $4 order by ts`,
      [symbol, timeframe, new Date(fromMs), new Date(toMs)],
    );
    return r.rows.map((x) => ({
      symbol,
      timeframe,
      ts: x.ts,
      open: x.open,
      high: x.high,
      low: x.low,
      close: x.close,
      volume: x.volume,
      ...(x.vwap !== null ? { vwap: x.vwap } : {}),
      ...(x.trade_count !== null ? { tradeCount: x.trade_count } : {}),
    }));
  }

  /** Row count and an order-independent-of-storage checksum of stored bars (ingest time excluded). */
  async barChecksum(
    filter: { symbol?: string; timeframe?: Timeframe; fromMs?: number; toMs?: number } = {},
  ): Promise<{ count: number; md5: string }> {
    const r = await this.pool.query<{ count: string; md5: string | null }>(
      `select count(*)::text as count,
              md5(string_agg(concat_ws('|', symbol, timeframe, (extract(epoch from ts) * 1000)::bigint, open, high, low, close, volume, vwap, trade_count, source, synthetic), ',' order by symbol, timeframe, ts)) as md5
         from bars
        where ($1::text is null or symbol = $1) and ($2::text is null or timeframe = $2)
          and ($3::timestamptz is null or ts >= $3) and ($4::timestamptz is null or ts < $4)`,
      [
        filter.symbol ?? null,
        filter.timeframe ?? null,
        filter.fromMs === undefined ? null : new Date(filter.fromMs),
        filter.toMs === undefined ? null : new Date(filter.toMs),
      ],
    );
    return { count: Number(r.rows[0]!.count), md5: r.rows[0]!.md5 ?? '' };
  }

  /** Findings grouped per dataset, symbol, rule: count, first ts and one example location. */
  async qualityReport(filter: { dataset?: string; symbol?: string } = {}): Promise<QualityReportRow[]> {
    const r = await this.pool.query<{
      dataset: string | null;
      symbol: string;
      timeframe: string | null;
      rule: string;
      severity: string;
      count: string;
      first_ts: number | null;
      example: string;
    }>(
      `select dataset, symbol, timeframe, rule, severity, count(*)::text as count,
              round(date_part('epoch', min(ts)) * 1000) as first_ts,
              (array_agg(concat_ws(' ', location, field, value) order by id))[1] as example
         from data_quality
        where ($1::text is null or dataset = $1) and ($2::text is null or symbol = $2)
        group by dataset, symbol, timeframe, rule, severity
        order by dataset nulls first, symbol, timeframe, rule`,
      [filter.dataset ?? null, filter.symbol ?? null],
    );
    return r.rows.map((x) => ({
      dataset: x.dataset,
      symbol: x.symbol,
      timeframe: x.timeframe,
      rule: x.rule,
      severity: x.severity,
      count: Number(x.count),
      firstTs: x.first_ts,
      example: x.example,
    }));
  }

  /** Distinct bar ts values stored in a range (gap-fill compares them with the calendar). */
  async storedBarTimes(
    symbol: string,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
  ): Promise<number[]> {
    const r = await this.pool.query<[number]>({
      text: `select round(date_part('epoch', ts) * 1000) from bars where symbol = $1 and timeframe = $2 and ts >= $3 and ts < $4 order by ts`,
      values: [symbol, timeframe, new Date(fromMs), new Date(toMs)],
      rowMode: 'array',
    });
    return r.rows.map((x) => x[0]);
  }

  async upsertOptionsFlow(rows: readonly OptionsFlowRow[], source: string): Promise<number> {
    if (rows.length === 0) return 0;
    const r = await this.pool.query(
      `insert into options_flow (id, symbol, ts, option_symbol, side, put_call, strike, expiry, premium, size, underlying_price, payload, source)
       select * from unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::date[],
                            $9::float8[], $10::float8[], $11::float8[], $12::jsonb[], $13::text[])
       on conflict (id) do update set payload = excluded.payload
       where options_flow.payload is distinct from excluded.payload`,
      [
        rows.map((x) => x.id),
        rows.map((x) => x.symbol),
        rows.map((x) => new Date(x.ts)),
        rows.map((x) => x.optionSymbol ?? null),
        rows.map((x) => x.side ?? null),
        rows.map((x) => x.putCall ?? null),
        rows.map((x) => x.strike ?? null),
        rows.map((x) => x.expiry ?? null),
        rows.map((x) => x.premium ?? null),
        rows.map((x) => x.size ?? null),
        rows.map((x) => x.underlyingPrice ?? null),
        rows.map((x) => JSON.stringify(x.payload)),
        rows.map(() => source),
      ],
    );
    return r.rowCount ?? 0;
  }
}
