import type { Pool } from 'pg';
import type { Bar } from '../model/bar';

/**
 * The bars table as sessions read it: closed 1m bars of a day (and of the days before it, for warm-up), stored by
 * backfills, imports and the live stream consumer. Sessions never read bars from anywhere else.
 */
export interface BarSource {
  /** Every 1m bar of the symbols with start time in (afterTs, untilTs], ascending by time. */
  barsBetween(symbols: readonly string[], afterTs: number, untilTs: number): Promise<Bar[]>;
  /** Dollar volume per symbol over [fromTs, toTs). */
  dollarVolume(symbols: readonly string[], fromTs: number, toTs: number): Promise<Map<string, number>>;
  /** Distinct 1m bar start times in [fromTs, toTs). */
  barTimes(symbols: readonly string[], fromTs: number, toTs: number): Promise<number[]>;
}

export class PgBarSource implements BarSource {
  constructor(private readonly pool: Pool) {}

  async barsBetween(symbols: readonly string[], afterTs: number, untilTs: number): Promise<Bar[]> {
    const { rows } = await this.pool.query<{
      symbol: string;
      ts: Date;
      open: number;
      high: number;
      low: number;
      close: number;
      volume: number;
    }>(
      `select symbol, ts, open, high, low, close, volume from bars
        where symbol = any($1) and timeframe = '1m' and ts > $2 and ts <= $3 order by ts, symbol`,
      [symbols, new Date(afterTs), new Date(untilTs)],
    );
    return rows.map((r) => ({
      symbol: r.symbol,
      timeframe: '1m' as const,
      ts: r.ts.getTime(),
      open: r.open,
      high: r.high,
      low: r.low,
      close: r.close,
      volume: r.volume,
    }));
  }

  async dollarVolume(symbols: readonly string[], fromTs: number, toTs: number): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ symbol: string; dv: number }>(
      `select symbol, sum(close * volume)::float8 as dv from bars
        where symbol = any($1) and timeframe = '1m' and ts >= $2 and ts < $3 group by symbol`,
      [symbols, new Date(fromTs), new Date(toTs)],
    );
    return new Map(rows.map((r) => [r.symbol, r.dv]));
  }

  async barTimes(symbols: readonly string[], fromTs: number, toTs: number): Promise<number[]> {
    const { rows } = await this.pool.query<{ ts: Date }>(
      `select distinct ts from bars where symbol = any($1) and timeframe = '1m' and ts >= $2 and ts < $3 order by ts`,
      [symbols, new Date(fromTs), new Date(toTs)],
    );
    return rows.map((r) => r.ts.getTime());
  }
}

/** Writes bars into the store idempotently (tests and the demo seed the replay day with it). */
export async function upsertBars(
  pool: Pool,
  bars: readonly Bar[],
  source: string,
  synthetic: boolean,
): Promise<void> {
  if (!bars.length) return;
  const from = new Date(Math.min(...bars.map((b) => b.ts)));
  const to = new Date(Math.max(...bars.map((b) => b.ts)) + 86_400_000);
  await pool.query('select ensure_time_partitions($1, $2, $3)', ['bars', from, to]);
  const chunk = 2_000;
  for (let i = 0; i < bars.length; i += chunk) {
    const part = bars.slice(i, i + chunk);
    await pool.query(
      `insert into bars (symbol, timeframe, ts, open, high, low, close, volume, source, synthetic)
       select * from unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::text[], $10::bool[])
       on conflict (symbol, timeframe, ts) do update set open = excluded.open, high = excluded.high, low = excluded.low,
         close = excluded.close, volume = excluded.volume, source = excluded.source`,
      [
        part.map((b) => b.symbol),
        part.map((b) => b.timeframe),
        part.map((b) => new Date(b.ts)),
        part.map((b) => b.open),
        part.map((b) => b.high),
        part.map((b) => b.low),
        part.map((b) => b.close),
        part.map((b) => b.volume),
        part.map(() => source),
        part.map(() => synthetic),
      ],
    );
  }
}
