/**
 * The feature store. Offline: PostgreSQL `feature_vectors` (symbol, timeframe, version, ts) → float32
 * bytes, for training and backtests. Online: the latest vector per (symbol, timeframe, version) in the
 * KeyValueCache (Redis, or in-process when Redis is unreachable) with a TTL, for live inference.
 *
 * Both hold the same little-endian float32 bytes, so an online and an offline vector for the same
 * (symbol, ts, version) are identical by construction (and a test checks it).
 *
 * On an online miss, `getLatest` computes the vector once per key across all callers: the first caller
 * takes a short lock (setIfAbsent), computes and publishes; the others wait for the published value and
 * only compute themselves if the lock holder does not publish in time. With Redis down the cache misses
 * and the lock is always granted, so every caller computes: slower, never wrong.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { KeyValueCache } from '../storage/cache';
import type { Timeframe } from '../model/timeframe';
import { ValidationError } from '../model/errors';
import type { FeatureSet } from './definition';
import type { FeatureMatrix } from './matrix';

export interface FeatureVector {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly version: string;
  /** Base bar start (epoch ms). */
  readonly ts: number;
  readonly values: Float32Array;
}

export interface FeatureStoreOptions {
  /** TTL of online vectors (default 15 minutes). */
  readonly onlineTtlSeconds?: number;
  /** How long a computing caller holds the stampede lock (default 30 s). */
  readonly lockTtlSeconds?: number;
  /** How long a caller that lost the lock waits for the value before computing itself (default 10 s). */
  readonly waitForPeerMs?: number;
  readonly pollMs?: number;
}

export function encodeVector(values: Float32Array): Buffer {
  const buf = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i]!, i * 4);
  return buf;
}

export function decodeVector(buf: Uint8Array): Float32Array {
  if (buf.byteLength % 4 !== 0)
    throw new ValidationError('feature vector', `byte length ${buf.byteLength} is not a multiple of 4`);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Float32Array(buf.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

export function onlineKey(symbol: string, timeframe: Timeframe, version: string): string {
  return `features:latest:${version}:${timeframe}:${symbol}`;
}

interface OnlineRecord {
  ts: number;
  vals: string;
}

/** Default TTL of online vectors (seconds). */
export const ONLINE_TTL_SECONDS = 900;

function onlineRecord(v: FeatureVector): string {
  const rec: OnlineRecord = { ts: v.ts, vals: encodeVector(v.values).toString('base64') };
  return JSON.stringify(rec);
}

/**
 * Publishes several vectors online (FeatureStore's key and record) in one round trip: the live session's
 * write of every symbol's newest row per bar. Unlike getLatest it does not read first, so the caller must
 * be the producer of the newest vectors (a session stepping forward), not a replay of older bars.
 */
export async function putOnlineVectors(
  cache: KeyValueCache,
  vectors: readonly FeatureVector[],
  ttlSeconds = ONLINE_TTL_SECONDS,
): Promise<void> {
  const entries = vectors.map((v): [string, string] => [
    onlineKey(v.symbol, v.timeframe, v.version),
    onlineRecord(v),
  ]);
  if (cache.setMany) await cache.setMany(entries, ttlSeconds);
  else for (const [k, rec] of entries) await cache.set(k, rec, ttlSeconds);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class FeatureStore {
  private readonly ttl: number;
  private readonly lockTtl: number;
  private readonly waitMs: number;
  private readonly pollMs: number;
  /** Counts computations done by getLatest (observability; tests read it). */
  computations = 0;

  constructor(
    readonly pool: Pool,
    readonly cache: KeyValueCache,
    opts: FeatureStoreOptions = {},
  ) {
    this.ttl = opts.onlineTtlSeconds ?? ONLINE_TTL_SECONDS;
    this.lockTtl = opts.lockTtlSeconds ?? 30;
    this.waitMs = opts.waitForPeerMs ?? 10_000;
    this.pollMs = opts.pollMs ?? 25;
  }

  /** Records the feature set's definition under its version (idempotent). */
  async registerFeatureSet(set: FeatureSet): Promise<void> {
    await this.pool.query(
      `INSERT INTO feature_sets (version, name, base_timeframe, names, definition) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (version) DO NOTHING`,
      [
        set.version,
        set.name,
        set.baseTimeframe,
        set.names,
        JSON.stringify({ features: set.features, labels: set.labels }),
      ],
    );
  }

  /**
   * Upserts matrix rows [from, to) into the offline store, in batches; rows whose vector is all NaN
   * (nothing warmed up yet) are skipped. Returns the number of rows written.
   */
  async writeOffline(
    m: FeatureMatrix,
    opts: { from?: number; to?: number; batchSize?: number } = {},
  ): Promise<number> {
    if (!m.symbol) throw new ValidationError('matrix.symbol', 'is empty; build the matrix with { symbol }');
    const from = Math.max(0, opts.from ?? 0);
    const to = Math.min(m.rows, opts.to ?? m.rows);
    if (to <= from) return 0;
    await this.pool.query('SELECT ensure_time_partitions($1, $2, $3)', [
      'feature_vectors',
      new Date(m.ts[from]!),
      new Date(m.ts[to - 1]! + 1),
    ]);
    const batch = opts.batchSize ?? 2000;
    let written = 0;
    for (let start = from; start < to; start += batch) {
      const end = Math.min(to, start + batch);
      const ts: string[] = [];
      const vals: Buffer[] = [];
      for (let i = start; i < end; i++) {
        const row = m.values.subarray(i * m.cols, (i + 1) * m.cols);
        if (row.every((v) => Number.isNaN(v))) continue;
        ts.push(new Date(m.ts[i]!).toISOString());
        vals.push(encodeVector(row));
      }
      if (ts.length === 0) continue;
      await this.pool.query(
        `INSERT INTO feature_vectors (symbol, timeframe, version, ts, vals)
         SELECT $1, $2, $3, t, v FROM unnest($4::timestamptz[], $5::bytea[]) AS u(t, v)
         ON CONFLICT (symbol, timeframe, version, ts) DO UPDATE SET vals = EXCLUDED.vals, computed_at = now()`,
        [m.symbol, m.baseTimeframe, m.version, ts, vals],
      );
      written += ts.length;
    }
    return written;
  }

  async writeOfflineVector(v: FeatureVector): Promise<void> {
    await this.pool.query('SELECT ensure_time_partitions($1, $2, $3)', [
      'feature_vectors',
      new Date(v.ts),
      new Date(v.ts + 1),
    ]);
    await this.pool.query(
      `INSERT INTO feature_vectors (symbol, timeframe, version, ts, vals) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (symbol, timeframe, version, ts) DO UPDATE SET vals = EXCLUDED.vals, computed_at = now()`,
      [v.symbol, v.timeframe, v.version, new Date(v.ts), encodeVector(v.values)],
    );
  }

  async readOfflineVector(
    symbol: string,
    timeframe: Timeframe,
    version: string,
    ts: number,
  ): Promise<FeatureVector | null> {
    const r = await this.pool.query<{ vals: Buffer }>(
      'SELECT vals FROM feature_vectors WHERE symbol = $1 AND timeframe = $2 AND version = $3 AND ts = $4',
      [symbol, timeframe, version, new Date(ts)],
    );
    const row = r.rows[0];
    return row ? { symbol, timeframe, version, ts, values: decodeVector(row.vals) } : null;
  }

  /** Offline vectors in [fromMs, toMs), ascending: the training read path. */
  async readOffline(
    symbol: string,
    timeframe: Timeframe,
    version: string,
    fromMs: number,
    toMs: number,
  ): Promise<{ ts: Float64Array; values: Float32Array; cols: number }> {
    const r = await this.pool.query<{ t: string; vals: Buffer }>(
      `SELECT (extract(epoch FROM ts) * 1000)::float8 AS t, vals FROM feature_vectors
       WHERE symbol = $1 AND timeframe = $2 AND version = $3 AND ts >= $4 AND ts < $5 ORDER BY ts`,
      [symbol, timeframe, version, new Date(fromMs), new Date(toMs)],
    );
    const cols = r.rows.length ? r.rows[0]!.vals.byteLength / 4 : 0;
    const ts = new Float64Array(r.rows.length);
    const values = new Float32Array(r.rows.length * cols);
    r.rows.forEach((row, i) => {
      ts[i] = Number(row.t);
      values.set(decodeVector(row.vals), i * cols);
    });
    return { ts, values, cols };
  }

  async putOnline(v: FeatureVector): Promise<void> {
    await this.cache.set(onlineKey(v.symbol, v.timeframe, v.version), onlineRecord(v), this.ttl);
  }

  /** putOnline for many vectors in one round trip (see putOnlineVectors). */
  async putOnlineMany(vectors: readonly FeatureVector[]): Promise<void> {
    await putOnlineVectors(this.cache, vectors, this.ttl);
  }

  async getOnline(symbol: string, timeframe: Timeframe, version: string): Promise<FeatureVector | null> {
    const raw = await this.cache.get(onlineKey(symbol, timeframe, version));
    if (raw === null) return null;
    const rec = JSON.parse(raw) as OnlineRecord;
    return { symbol, timeframe, version, ts: rec.ts, values: decodeVector(Buffer.from(rec.vals, 'base64')) };
  }

  /**
   * The latest vector for (symbol, set): online hit, else computed once (stampede-protected), then
   * published online and written offline. `ts` asks for the vector of that exact base bar (as-of
   * queries, replays): a cached vector of another bar is not used, and an older vector never replaces a
   * newer one online.
   */
  async getLatest(
    symbol: string,
    set: FeatureSet,
    compute: () => Promise<{ ts: number; values: Float32Array }>,
    opts: { ts?: number } = {},
  ): Promise<FeatureVector> {
    const tf = set.baseTimeframe;
    const fresh = (v: FeatureVector | null) => v !== null && (opts.ts === undefined || v.ts === opts.ts);
    const hit = await this.getOnline(symbol, tf, set.version);
    if (fresh(hit)) return hit!;
    const lockKey = `${onlineKey(symbol, tf, set.version)}:lock`;
    const token = randomUUID();
    const owner = await this.cache.setIfAbsent(lockKey, token, this.lockTtl);
    if (!owner) {
      const deadline = Date.now() + this.waitMs;
      while (Date.now() < deadline) {
        await sleep(this.pollMs);
        const v = await this.getOnline(symbol, tf, set.version);
        if (fresh(v)) return v!;
      }
    }
    try {
      this.computations++;
      const c = await compute();
      if (c.values.length !== set.names.length) {
        throw new ValidationError(
          'computed vector',
          `has ${c.values.length} values, feature set ${set.name}@${set.version} has ${set.names.length}`,
        );
      }
      const v: FeatureVector = {
        symbol,
        timeframe: tf,
        version: set.version,
        ts: c.ts,
        values: Float32Array.from(c.values),
      };
      await this.writeOfflineVector(v);
      const current = await this.getOnline(symbol, tf, set.version);
      if (!current || current.ts <= v.ts) await this.putOnline(v);
      return v;
    } finally {
      if (owner && (await this.cache.get(lockKey)) === token) await this.cache.del(lockKey);
    }
  }
}
