import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import type { IndicatorColumns } from '../../../src/indicators';
import { mulberry32 } from '../../../src/model/random';

export interface Series extends IndicatorColumns {
  readonly name: string;
  readonly ts: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/** Reads up to `maxRows` complete OHLCV rows of a ../shared/data bar file (rows with empty fields skipped). */
export function readSharedBars(dir: string, rel: string, maxRows = Infinity): Series {
  const gz = readFileSync(join(dir, rel));
  // With a row limit, inflate only the head of the file (a sync flush accepts the truncated stream).
  const head = Number.isFinite(maxRows) ? gz.subarray(0, Math.min(gz.length, 64 * maxRows + 65_536)) : gz;
  const text = gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
  const lines = text.split('\n');
  if (head.length < gz.length) lines.pop(); // the last line may be cut
  const cols: number[][] = [[], [], [], [], [], []];
  for (let i = 1; i < lines.length && cols[0]!.length < maxRows; i++) {
    const f = lines[i]!.split(',');
    if (f.length < 6 || f.some((x) => x === '')) continue;
    cols[0]!.push(Date.parse(f[0]!));
    for (let k = 1; k < 6; k++) cols[k]!.push(Number(f[k]));
  }
  const [ts, open, high, low, close, volume] = cols.map((c) => Float64Array.from(c));
  return { name: rel, ts: ts!, open: open!, high: high!, low: low!, close: close!, volume: volume! };
}

/** A seeded random walk with ticks rounded to cents, so equal highs/lows and flat bars (tie rules) occur. */
export function generatedBars(n: number, seed = 1, start = 100): Series {
  const rnd = mulberry32(seed);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const out = {
    ts: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
  let p = start;
  const t0 = Date.UTC(2024, 0, 2, 14, 30);
  for (let i = 0; i < n; i++) {
    const o = r2(p);
    const flat = rnd() < 0.03;
    const c = flat ? o : r2(Math.max(1, o * (1 + (rnd() - 0.5) * 0.01)));
    const h = flat ? o : r2(Math.max(o, c) + rnd() * 0.2);
    const l = flat ? o : r2(Math.min(o, c) - rnd() * 0.2);
    out.ts[i] = t0 + i * 60_000;
    out.open[i] = o;
    out.high[i] = h;
    out.low[i] = Math.max(0.01, l);
    out.close[i] = c;
    out.volume[i] = Math.floor(rnd() * 10_000) + (rnd() < 0.02 ? 0 : 100);
    p = c;
  }
  return { name: `generated(seed=${seed})`, ...out };
}
