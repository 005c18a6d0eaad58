/**
 * Market-data storage: atomic staged writes (rows COPYed into a per-connection staging table, then merged
 * into `bars`/`quotes` in one transaction with an idempotent upsert), data-quality findings, and range
 * reads back into columnar Float64Arrays.
 *
 * Idempotent means: writing the same rows twice leaves every column identical, `ingested_at` included
 * (the upsert only touches a row whose values actually changed). Atomic means: a file or chunk reaches
 * `bars` whole or not at all; a row the database refuses rolls it back and is named (line, field).
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

/**
 * The database refused a row of a staged write: `line` is the staged row's line (file line or record
 * number; null when the writer gave none), `ts` its time when known, `field` the column or 'row'.
 */
export class RowRefusedError extends Error {
  constructor(
    readonly line: number | null,
    readonly ts: number | null,
    readonly field: string,
    readonly sqlState: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RowRefusedError';
  }
}

/** SQLSTATE classes that mean "this row's data", not the connection or the server: 22 data, 23 integrity. */
function isDataError(e: unknown): e is Error & { code: string } {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/** Row text for the bars stage: ts(ISO) \t open \t high \t low \t close \t volume \t vwap|\N \t trade_count|\N \t line */
export const BAR_STAGE_COLUMNS = 'ts, open, high, low, close, volume, vwap, trade_count, line';
/** Row text for the quotes stage: ts_ms \t bid|\N \t ask|\N \t bid_size \t ask_size \t line */
export const QUOTE_STAGE_COLUMNS = 'ts_ms, bid, ask, bid_size, ask_size, line';

const CREATE_BAR_STAGE = `create temp table if not exists ingest_stage_bars (
  symbol text, timeframe text, ts timestamptz, open float8, high float8, low float8, close float8, volume float8,
  vwap float8, trade_count integer, source text, synthetic boolean, line bigint)`;
const CREATE_QUOTE_STAGE = `create temp table if not exists ingest_stage_quotes (
  ts_ms bigint, bid float8, ask float8, bid_size float8, ask_size float8, line bigint)`;

/** What one staged write holds: one symbol (and timeframe for bars), one source. */
export interface StageOptions {
  readonly kind: 'bars' | 'quotes';
  readonly symbol: string;
  /** Bars only. */
  readonly timeframe?: Timeframe;
  readonly source: string;
  readonly synthetic: boolean;
  /** Where findings written through this stage come from. */
  readonly ctx: FindingContext;
}

/** Rows in the stage format (BAR_STAGE_COLUMNS / QUOTE_STAGE_COLUMNS), one per line. */
export interface StagedRows {
  readonly copyText: string;
  readonly count: number;
  readonly minTs: number;
  readonly maxTs: number;
  /** UTC months ('YYYY-MM') holding the rows; default every month of [minTs, maxTs]. */
  readonly months?: Iterable<string>;
}

export interface StageCommitResult {
  /** Rows now stored from this write (staged minus skipped). */
  readonly stored: number;
  /** Rows inserted or changed. */
  readonly changed: number;
  /** Synthetic rows not stored because a real row holds their key. */
  readonly skippedSynthetic: number;
  readonly firstSkipped: { readonly ts: number; readonly line: number | null } | null;
}

/**
 * One atomic write of a file or chunk. Rows are COPYed into a staging table on one held connection;
 * nothing reaches `bars`/`quotes` until `commit`, which creates the partitions of the months that hold
 * rows and merges everything in one transaction. `abort` (or any error) leaves stored data as it was.
 */
export interface StagedWrite {
  stage(rows: StagedRows): Promise<void>;
  /** Findings are committed at once: they describe the input whatever becomes of its rows. */
  findings(findings: readonly QualityFinding[], batchSeq?: number): Promise<void>;
  commit(): Promise<StageCommitResult>;
  abort(): Promise<void>;
}

/** A counting semaphore: staged writes hold a connection for a whole file, so only a few at a time. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

function monthKey(ts: number): string {
  return new Date(ts).toISOString().slice(0, 7);
}

function monthsBetween(minTs: number, maxTs: number): string[] {
  const out: string[] = [];
  const d = new Date(minTs);
  let y = d.getUTCFullYear();
  let m = d.getUTCMonth();
  const end = monthKey(maxTs);
  for (;;) {
    const k = `${String(y).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}`;
    out.push(k);
    if (k >= end) return out;
    m++;
    if (m === 12) {
      m = 0;
      y++;
    }
  }
}

/** The staged row number at a COPY line (1-based), read from the row text's last column. */
function lineOfCopyRow(copyText: string, copyLine: number): number | null {
  let start = 0;
  for (let i = 1; i < copyLine; i++) {
    start = copyText.indexOf('\n', start) + 1;
    if (start === 0) return null;
  }
  const end = copyText.indexOf('\n', start);
  const row = copyText.slice(start, end < 0 ? undefined : end);
  const last = row.slice(row.lastIndexOf('\t') + 1);
  return /^\d+$/.test(last) ? Number(last) : null;
}

const STAGE_FIELD: Record<string, string> = { ts_ms: 'ts' };
const QUOTE_BATCH_COLUMNS = 'ts_ms, bid, ask, bid_size, ask_size';

export class MarketDataRepository {
  /** Partition months already ensured by this process (ensure_time_partitions is idempotent anyway). */
  private readonly ensured = new Set<string>();
  private readonly slots: Slots;
  /** Stage tables known to exist and be empty on a connection (skips a create and a truncate). */
  private readonly emptyStages = new WeakMap<PoolClient, Set<string>>();

  /**
   * `maxStagedWrites` bounds the connections held by file/chunk writes at once (default 4), so a large
   * backfill leaves the rest of the pool to the other activities of its worker.
   */
  constructor(
    private readonly pool: Pool,
    opts: { maxStagedWrites?: number } = {},
  ) {
    this.slots = new Slots(Math.max(1, opts.maxStagedWrites ?? 4));
  }

  /**
   * Creates the monthly partitions of `months` on `client`, in their own short transaction, never inside
   * a write: creating a partition takes an ACCESS EXCLUSIVE lock on the parent table, and doing that while
   * holding row locks from an insert deadlocks parallel writers. Only months that hold rows get one.
   */
  private async ensurePartitions(client: PoolClient, table: string, months: Iterable<string>): Promise<void> {
    const todo = [...new Set(months)].filter((m) => !this.ensured.has(`${table}:${m}`)).sort();
    if (todo.length === 0) return;
    // Contiguous months become one call.
    const runs: Array<[string, string]> = [];
    for (const m of todo) {
      const last = runs.at(-1);
      if (
        last &&
        monthsBetween(Date.parse(`${last[1]}-01T00:00:00Z`), Date.parse(`${m}-01T00:00:00Z`)).length === 2
      )
        last[1] = m;
      else runs.push([m, m]);
    }
    try {
      await client.query('begin');
      // One creator at a time per table: two concurrent creations each delete from the default partition
      // and then wait for the other's lock on it (deadlock).
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [`ensure_time_partitions:${table}`]);
      for (const [a, b] of runs) {
        const from = new Date(`${a}-01T00:00:00Z`);
        const end = new Date(`${b}-01T00:00:00Z`);
        end.setUTCMonth(end.getUTCMonth() + 1);
        await client.query('select ensure_time_partitions($1, $2, $3)', [table, from, end]);
      }
      await client.query('commit');
    } catch (e) {
      await client.query('rollback').catch(() => undefined);
      throw e;
    }
    if (this.ensured.size > 10_000) this.ensured.clear();
    for (const m of todo) this.ensured.add(`${table}:${m}`);
  }

  /**
   * Starts an atomic write of one file or chunk (see StagedWrite). It holds one pooled connection until
   * commit or abort; at most `maxStagedWrites` run at once, the others wait.
   */
  async beginStaged(opts: StageOptions): Promise<StagedWrite> {
    await this.slots.acquire();
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      this.slots.release();
      throw e;
    }
    return this.openStage(client, opts, () => this.slots.release());
  }

  private async openStage(
    client: PoolClient,
    opts: StageOptions,
    onDone: () => void,
  ): Promise<StagedWrite & { stageBatch(rows: StagedRows): Promise<void> }> {
    const bars = opts.kind === 'bars';
    if (bars && !opts.timeframe) throw new RangeError('timeframe: a bars stage needs one');
    const table = bars ? 'ingest_stage_bars' : 'ingest_stage_quotes';
    let done = false;
    const finish = async (broken: boolean) => {
      if (done) return;
      done = true;
      try {
        if (!broken) {
          await client.query(`truncate ${table}`);
          const empty = this.emptyStages.get(client) ?? new Set<string>();
          empty.add(table);
          this.emptyStages.set(client, empty);
        }
      } catch {
        broken = true;
      } finally {
        // A connection whose state is unknown (mid-COPY error, failed truncate) is closed, not reused.
        client.release(broken ? true : undefined);
        onDone();
      }
    };
    try {
      const empty = this.emptyStages.get(client);
      if (!empty?.delete(table)) {
        await client.query(bars ? CREATE_BAR_STAGE : CREATE_QUOTE_STAGE);
        await client.query(`truncate ${table}`);
      }
    } catch (e) {
      await finish(true);
      throw e;
    }
    const months = new Set<string>();
    let count = 0;
    let minTs = Infinity;
    let maxTs = -Infinity;
    const columns = bars ? BAR_STAGE_COLUMNS : QUOTE_STAGE_COLUMNS;

    const stage = async (rows: StagedRows, copyColumns = columns): Promise<void> => {
      if (done) throw new Error('stage: this write is already committed or aborted');
      if (rows.count === 0) return;
      try {
        await copyInto(client, `COPY ${table} (${copyColumns}) FROM STDIN`, rows.copyText);
      } catch (e) {
        if (!isDataError(e)) throw e;
        const where = (e as { where?: string }).where ?? '';
        const m = /line (\d+)(?:, column (\w+))?/.exec(where);
        const copyLine = m ? Number(m[1]) : null;
        const line =
          copyLine === null
            ? null
            : copyColumns === columns
              ? lineOfCopyRow(rows.copyText, copyLine)
              : copyLine;
        const column = m?.[2];
        throw new RowRefusedError(
          line,
          null,
          column ? (STAGE_FIELD[column] ?? column) : 'row',
          e.code,
          `the database refused the row: ${e.message}`,
          { cause: e },
        );
      }
      for (const k of rows.months ?? monthsBetween(rows.minTs, rows.maxTs)) months.add(k);
      count += rows.count;
      if (rows.minTs < minTs) minTs = rows.minTs;
      if (rows.maxTs > maxTs) maxTs = rows.maxTs;
    };

    const mergeSql = (range: boolean) =>
      bars
        ? `insert into bars as b (${BAR_COPY_COLUMNS})
           select $1, $2, s.ts, s.open, s.high, s.low, s.close, s.volume, s.vwap, s.trade_count, $3, $4
             from ingest_stage_bars s ${range ? 'where s.ts >= $5 and s.ts < $6' : ''}
           on conflict (symbol, timeframe, ts) do update set
             open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
             volume = excluded.volume, vwap = excluded.vwap, trade_count = excluded.trade_count,
             source = excluded.source, synthetic = excluded.synthetic, ingested_at = now()
           where (b.synthetic or not excluded.synthetic)
             and (b.open, b.high, b.low, b.close, b.volume, b.vwap, b.trade_count, b.source, b.synthetic)
                 is distinct from
                 (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume, excluded.vwap,
                  excluded.trade_count, excluded.source, excluded.synthetic)`
        : `insert into quotes as q (symbol, ts, bid, ask, bid_size, ask_size, source, synthetic)
           select $1, s.ts, s.bid, s.ask, s.bid_size, s.ask_size, $2, $3
             from (select timestamptz 'epoch' + ts_ms * interval '1 millisecond' as ts, bid, ask, bid_size, ask_size
                     from ingest_stage_quotes) s ${range ? 'where s.ts >= $4 and s.ts < $5' : ''}
           on conflict (symbol, ts) do update set
             bid = excluded.bid, ask = excluded.ask, bid_size = excluded.bid_size, ask_size = excluded.ask_size,
             source = excluded.source, synthetic = excluded.synthetic, ingested_at = now()
           where (q.synthetic or not excluded.synthetic)
             and (q.bid, q.ask, q.bid_size, q.ask_size, q.source, q.synthetic)
                 is distinct from (excluded.bid, excluded.ask, excluded.bid_size, excluded.ask_size, excluded.source, excluded.synthetic)`;
    const baseParams = bars
      ? [opts.symbol, opts.timeframe, opts.source, opts.synthetic]
      : [opts.symbol, opts.source, opts.synthetic];
    const stageTs = bars ? 's.ts' : "timestamptz 'epoch' + s.ts_ms * interval '1 millisecond'";
    const keyJoin = bars
      ? 'join bars b on b.symbol = $1 and b.timeframe = $2 and b.ts = s.ts'
      : "join quotes b on b.symbol = $1 and b.ts = timestamptz 'epoch' + s.ts_ms * interval '1 millisecond'";

    /** The first staged row (by ts) the merge fails on, found by halving the time range. */
    const locate = async (): Promise<{ ts: number; line: number | null } | null> => {
      const fails = async (a: number, b: number): Promise<boolean> => {
        await client.query('savepoint locate');
        try {
          await client.query(mergeSql(true), [...baseParams, new Date(a), new Date(b)]);
          return false;
        } catch {
          return true;
        } finally {
          await client.query('rollback to savepoint locate');
        }
      };
      await client.query('begin');
      try {
        let lo = minTs;
        let hi = maxTs + 1;
        for (;;) {
          const r = await client.query<{ n: string; mid: string | null; line: string | null }>(
            `select count(*)::text as n,
                    (percentile_disc(0.5) within group (order by round(extract(epoch from ${stageTs}) * 1000)))::text as mid,
                    min(s.line)::text as line
               from ${table} s where ${stageTs} >= $1 and ${stageTs} < $2`,
            [new Date(lo), new Date(hi)],
          );
          const n = Number(r.rows[0]!.n);
          if (n === 0) return null;
          if (n === 1) return { ts: lo, line: r.rows[0]!.line === null ? null : Number(r.rows[0]!.line) };
          let mid = Number(r.rows[0]!.mid);
          if (mid <= lo) mid = lo + 1;
          if (await fails(lo, mid)) hi = mid;
          else if (await fails(mid, hi)) lo = mid;
          else return null;
          // Narrow `lo` to the first row actually in range so a single row reports its own ts.
          const first = await client.query<{ t: string | null }>(
            `select min(round(extract(epoch from ${stageTs}) * 1000))::text as t from ${table} s where ${stageTs} >= $1 and ${stageTs} < $2`,
            [new Date(lo), new Date(hi)],
          );
          if (first.rows[0]!.t !== null) lo = Number(first.rows[0]!.t);
        }
      } finally {
        await client.query('rollback').catch(() => undefined);
      }
    };

    const fieldOf = async (e: { column?: string; constraint?: string; message: string }): Promise<string> => {
      if (e.column) return STAGE_FIELD[e.column] ?? e.column;
      if (e.constraint) {
        const r = await client.query<{ cols: string | null }>(
          `select string_agg(a.attname, ',' order by a.attnum) as cols
             from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
            where c.conname = $1 and c.conrelid in (select $2::regclass union select inhrelid from pg_inherits where inhparent = $2::regclass)
            group by c.oid limit 1`,
          [e.constraint, bars ? 'bars' : 'quotes'],
        );
        if (r.rows[0]?.cols) return r.rows[0].cols;
      }
      return /column "(\w+)"/.exec(e.message)?.[1] ?? 'row';
    };

    const commit = async (): Promise<StageCommitResult> => {
      if (done) throw new Error('commit: this write is already committed or aborted');
      if (count === 0) {
        await finish(false);
        return { stored: 0, changed: 0, skippedSynthetic: 0, firstSkipped: null };
      }
      try {
        await this.ensurePartitions(client, bars ? 'bars' : 'quotes', months);
        await client.query('begin');
        let skipped = 0;
        let firstSkipped: StageCommitResult['firstSkipped'] = null;
        if (opts.synthetic) {
          // Synthetic rows never replace real ones (the upsert skips them); count what was skipped.
          const r = await client.query<{ n: string; ts: string | null; line: string | null }>(
            `select count(*)::text as n, min(round(extract(epoch from ${stageTs}) * 1000))::text as ts, min(s.line)::text as line
               from ${table} s ${keyJoin} where not b.synthetic`,
            bars ? [opts.symbol, opts.timeframe] : [opts.symbol],
          );
          skipped = Number(r.rows[0]!.n);
          if (skipped > 0)
            firstSkipped = {
              ts: Number(r.rows[0]!.ts),
              line: r.rows[0]!.line === null ? null : Number(r.rows[0]!.line),
            };
        }
        // Fast path: nothing stored yet in the key range, so a plain insert (no conflict arbitration). A
        // concurrent writer of the same range turns it into a unique violation, and the upsert redoes it.
        const occupied = await client.query(
          bars
            ? 'select 1 from bars where symbol = $1 and timeframe = $2 and ts >= $3 and ts <= $4 limit 1'
            : 'select 1 from quotes where symbol = $1 and ts >= $2 and ts <= $3 limit 1',
          [...(bars ? [opts.symbol, opts.timeframe] : [opts.symbol]), new Date(minTs), new Date(maxTs)],
        );
        let r: { rowCount: number | null } | null = null;
        if (occupied.rowCount === 0) {
          await client.query('savepoint plain_insert');
          try {
            const sql = mergeSql(false);
            r = await client.query(sql.slice(0, sql.indexOf('on conflict')), baseParams);
            await client.query('release savepoint plain_insert');
          } catch (e) {
            if ((e as { code?: string }).code !== '23505') throw e;
            await client.query('rollback to savepoint plain_insert');
            r = null;
          }
        }
        r ??= await client.query(mergeSql(false), baseParams);
        await client.query('commit');
        await finish(false);
        return { stored: count - skipped, changed: r.rowCount ?? 0, skippedSynthetic: skipped, firstSkipped };
      } catch (e) {
        await client.query('rollback').catch(() => undefined);
        if (!isDataError(e)) {
          await finish(true);
          throw e;
        }
        let where: { ts: number; line: number | null } | null = null;
        let field = 'row';
        try {
          where = await locate();
          field = await fieldOf(e as { column?: string; constraint?: string; message: string });
        } catch {
          /* the original error is what matters */
        }
        await finish(true);
        throw new RowRefusedError(
          where?.line ?? null,
          where?.ts ?? null,
          field,
          e.code,
          `the database refused the row: ${e.message}`,
          { cause: e },
        );
      }
    };

    return {
      stage: (rows) => stage(rows),
      // writeBars/writeQuotes: rows in the full COPY format of BarCopyBatch / QuoteCopyBatch.
      stageBatch: (rows) => stage(rows, bars ? BAR_COPY_COLUMNS : QUOTE_BATCH_COLUMNS),
      findings: async (findings, batchSeq) => {
        if (done) throw new Error('findings: this write is already committed or aborted');
        await this.insertFindings(client, findings, { ...opts.ctx, batchSeq: batchSeq ?? opts.ctx.batchSeq });
      },
      commit,
      abort: () => finish(true),
    };
  }

  /** Writes one batch of bars and its findings atomically. Returns rows inserted or changed. */
  async writeBars(
    batch: BarCopyBatch | null,
    findings: readonly QualityFinding[],
    ctx: FindingContext,
  ): Promise<{ changed: number }> {
    return this.writeOne(
      batch
        ? {
            kind: 'bars',
            symbol: batch.symbol,
            timeframe: batch.timeframe,
            source: batch.source,
            synthetic: batch.synthetic,
            ctx,
          }
        : null,
      batch,
      findings,
      ctx,
    );
  }

  async writeQuotes(
    batch: QuoteCopyBatch | null,
    findings: readonly QualityFinding[],
    ctx: FindingContext,
  ): Promise<{ changed: number }> {
    return this.writeOne(
      batch
        ? { kind: 'quotes', symbol: batch.symbol, source: batch.source, synthetic: batch.synthetic, ctx }
        : null,
      batch,
      findings,
      ctx,
    );
  }

  /** One batch through the same stage and merge as a file; findings only when there is no batch. */
  private async writeOne(
    opts: StageOptions | null,
    batch: (StagedRows & { count: number }) | null,
    findings: readonly QualityFinding[],
    ctx: FindingContext,
  ): Promise<{ changed: number }> {
    if (!opts || !batch || batch.count === 0) {
      if (findings.length) {
        const client = await this.pool.connect();
        try {
          await this.insertFindings(client, findings, ctx);
        } finally {
          client.release();
        }
      }
      return { changed: 0 };
    }
    const w = await this.openStage(await this.pool.connect(), opts, () => undefined);
    try {
      await w.stageBatch(batch);
      await w.findings(findings);
      return { changed: (await w.commit()).changed };
    } catch (e) {
      await w.abort();
      throw e;
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
