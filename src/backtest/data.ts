/**
 * Bar loading for backtests: gzip CSV files in the ../shared/data layout (`<source>/<tf dir>/<SYMBOL>.csv.gz`,
 * header `ts,open,high,low,close,volume`, ISO ts = bar start) and the Postgres `bars` table. 5m/15m are
 * derived from 1-minute files with the session-aware aggregation of src/market. I/O lives here, not in
 * the engine, so the engine stays pure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { allocBarColumns } from '../model/bar';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Pool } from 'pg';
import type { BarColumns, Quote } from '../model/bar';
import { ValidationError } from '../model/errors';
import type { Timeframe } from '../model/timeframe';
import { aggregateColumns } from '../market/aggregate';
import { calendarFor } from '../market/calendar';

const TF_DIRS: Readonly<Record<Timeframe, string>> = {
  '1m': '1min',
  '5m': '1min',
  '15m': '1min',
  '1h': '1hour',
  '1d': '1day',
};

export interface LoadRange {
  readonly from?: number;
  readonly to?: number;
}

function readText(path: string): string {
  const raw = readFileSync(path);
  return (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
}

/** Parses one bar CSV; rows with an empty or non-positive price are skipped and counted (never repaired). */
export function parseBarCsv(
  text: string,
  symbol: string,
  timeframe: Timeframe,
  range: LoadRange = {},
  location = symbol,
): { cols: BarColumns; skipped: number } {
  const lines = text.split('\n');
  const header = lines[0]?.trim();
  if (header !== 'ts,open,high,low,close,volume')
    throw new ValidationError(
      'header',
      `expected "ts,open,high,low,close,volume", got "${header}"`,
      location,
    );
  // Rows outside the range are skipped without parsing when their ts is a plain UTC second ("…:SSZ", the shared
  // data's format): such strings order as their instants, so a string comparison decides (a month of a 7-year
  // minute file then costs a scan, not 4 million Date.parse calls).
  const fromIso = range.from !== undefined ? new Date(range.from).toISOString() : undefined;
  const toIso = range.to !== undefined ? new Date(range.to).toISOString() : undefined;
  const outside = (line: string) =>
    line.charCodeAt(19) === 90 && // 'Z'
    line.charCodeAt(20) === 44 && // ','
    ((fromIso !== undefined && line < fromIso) ||
      (toIso !== undefined && line.slice(0, 19) >= toIso.slice(0, 19)));
  let n = 1;
  for (let i = 1; i < lines.length; i++) if (lines[i]!.length > 0 && !outside(lines[i]!)) n++;
  const ts = new Float64Array(n);
  const o = new Float64Array(n);
  const h = new Float64Array(n);
  const l = new Float64Array(n);
  const c = new Float64Array(n);
  const v = new Float64Array(n);
  let k = 0;
  let skipped = 0;
  let prev = -Infinity;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0 || outside(line)) continue;
    const f = line.split(',');
    const t = Date.parse(f[0]!);
    if (!Number.isFinite(t))
      throw new ValidationError('ts', `"${f[0]}" is not an ISO timestamp`, `${location}:${i + 1}`);
    if (range.from !== undefined && t < range.from) continue;
    if (range.to !== undefined && t >= range.to) continue;
    const oo = Number(f[1]);
    const hh = Number(f[2]);
    const ll = Number(f[3]);
    const cc = Number(f[4]);
    const vv = f[5] === '' || f[5] === undefined ? 0 : Number(f[5]);
    if (!(oo > 0 && hh > 0 && ll > 0 && cc > 0) || !(vv >= 0) || !(t > prev)) {
      skipped++;
      continue;
    }
    prev = t;
    ts[k] = t;
    o[k] = oo;
    h[k] = hh;
    l[k] = ll;
    c[k] = cc;
    v[k] = vv;
    k++;
  }
  return {
    cols: {
      symbol,
      timeframe,
      ts: ts.slice(0, k),
      open: o.slice(0, k),
      high: h.slice(0, k),
      low: l.slice(0, k),
      close: c.slice(0, k),
      volume: v.slice(0, k),
    },
    skipped,
  };
}

/** Bars for one symbol from the shared-data layout; 5m/15m are aggregated from 1-minute bars (regular session). */
export function loadSharedBars(
  dataDir: string,
  source: string,
  symbol: string,
  timeframe: Timeframe,
  range: LoadRange = {},
): BarColumns {
  const path = join(dataDir, source, TF_DIRS[timeframe], `${symbol}.csv.gz`);
  if (!existsSync(path))
    throw new ValidationError('symbol', `no ${TF_DIRS[timeframe]} file for ${symbol} in ${source} (${path})`);
  const { cols } = parseBarCsv(
    readText(path),
    symbol,
    timeframe === '5m' || timeframe === '15m' ? '1m' : timeframe,
    range,
    path,
  );
  // session-aware on the symbol's own calendar: NYSE's regular session, or 24/7 for crypto
  return timeframe === '5m' || timeframe === '15m'
    ? aggregateColumns(cols, timeframe, { calendar: calendarFor(symbol) })
    : cols;
}

/** Quotes (`ts,bid,ask,bid_size,ask_size`) when the source has a `1min_quote` folder for the symbol. */
export function loadSharedQuotes(
  dataDir: string,
  source: string,
  symbol: string,
  range: LoadRange = {},
): Quote[] {
  const path = join(dataDir, source, '1min_quote', `${symbol}.csv.gz`);
  if (!existsSync(path)) return [];
  const lines = readText(path).split('\n');
  const out: Quote[] = [];
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.split(',');
    if (f.length < 5) continue;
    const ts = Date.parse(f[0]!);
    if (range.from !== undefined && ts < range.from) continue;
    if (range.to !== undefined && ts >= range.to) continue;
    const bid = Number(f[1]);
    const ask = Number(f[2]);
    if (!(bid > 0 && ask > 0)) continue; // one-sided quotes carry no spread
    out.push({ symbol, ts, bid, ask, bidSize: Number(f[3]) || 0, askSize: Number(f[4]) || 0 });
  }
  return out;
}

/** Bars from the Postgres `bars` table (one query per symbol, ts ascending). Does I/O. */
export async function loadBarsFromDb(
  pool: Pool,
  symbols: readonly string[],
  timeframe: Timeframe,
  range: { from: number; to: number },
): Promise<BarColumns[]> {
  const out: BarColumns[] = [];
  for (const symbol of symbols) {
    const r = await pool.query<{
      ts: Date;
      open: number;
      high: number;
      low: number;
      close: number;
      volume: number;
    }>(
      'select ts, open, high, low, close, volume from bars where symbol = $1 and timeframe = $2 and ts >= $3 and ts < $4 order by ts',
      [symbol, timeframe, new Date(range.from), new Date(range.to)],
    );
    const n = r.rows.length;
    const cols = allocBarColumns(symbol, timeframe, n);
    r.rows.forEach((row, i) => {
      cols.ts[i] = row.ts.getTime();
      cols.open[i] = row.open;
      cols.high[i] = row.high;
      cols.low[i] = row.low;
      cols.close[i] = row.close;
      cols.volume[i] = row.volume;
    });
    out.push(cols);
  }
  return out;
}
