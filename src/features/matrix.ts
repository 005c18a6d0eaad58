/**
 * The multi-timeframe feature matrix. Rows are the bars of the feature set's base timeframe; a row is
 * "as of" that bar's close. A higher-timeframe column takes its value from the last bar of that timeframe
 * whose close is at or before the row's close — never from the bar still forming — so no row can see
 * data from after its own close.
 */
import { TIMEFRAME_MS, type Timeframe } from '../model/timeframe';
import { ValidationError } from '../model/errors';
import { computeTimeframeFeatures, sessionKeyFor, type TimeframeBars } from './compute';
import type { FeatureSet } from './definition';

export type BarsByTimeframe = Partial<Record<Timeframe, TimeframeBars>>;

export interface FeatureMatrix {
  readonly symbol: string;
  readonly featureSet: string;
  readonly version: string;
  readonly baseTimeframe: Timeframe;
  readonly names: readonly string[];
  /** Base bar start times (epoch ms), one per row. */
  readonly ts: Float64Array;
  /** When each row became computable: the base bar's close (epoch ms). */
  readonly availableAt: Float64Array;
  readonly rows: number;
  readonly cols: number;
  /** Row-major: values[row * cols + col]; NaN where a feature is still warming up or has no data. */
  readonly values: Float32Array;
}

export interface BuildOptions {
  readonly symbol?: string;
  /**
   * When a bar of `tf` starting at `ts` is complete. Default ts + the timeframe's length, which is exact for
   * intraday bars (the 09:00 hour bar holds 09:30–10:00) and conservative for daily bars keyed by date.
   */
  readonly closeTimeOf?: (ts: number, tf: Timeframe) => number;
}

/** Rows per block when columns are written into the row-major matrix (a block of 87 features is ~90 KB). */
const SCATTER_BLOCK = 256;

export const defaultCloseTime = (ts: number, tf: Timeframe): number => ts + TIMEFRAME_MS[tf];

function checkAscending(bars: TimeframeBars, tf: Timeframe): void {
  const ts = bars.ts;
  for (let i = 1; i < ts.length; i++) {
    if (!(ts[i]! > ts[i - 1]!))
      throw new ValidationError(
        `bars[${tf}].ts[${i}]`,
        `${new Date(ts[i]!).toISOString()} is not after the previous bar`,
      );
  }
}

/** For each base row, the index of the last `tf` bar closed by the row's close (−1 if none). */
export function alignToBase(
  baseClose: Float64Array,
  higher: TimeframeBars,
  tf: Timeframe,
  closeTimeOf: BuildOptions['closeTimeOf'] = defaultCloseTime,
): Int32Array {
  const idx = new Int32Array(baseClose.length);
  let j = -1;
  const m = higher.ts.length;
  for (let i = 0; i < baseClose.length; i++) {
    const t = baseClose[i]!;
    while (j + 1 < m && closeTimeOf(higher.ts[j + 1]!, tf) <= t) j++;
    idx[i] = j;
  }
  return idx;
}

export function buildFeatureMatrix(
  bars: BarsByTimeframe,
  set: FeatureSet,
  opts: BuildOptions = {},
): FeatureMatrix {
  const base = bars[set.baseTimeframe];
  if (!base)
    throw new ValidationError(
      `bars.${set.baseTimeframe}`,
      `the base timeframe of feature set ${set.name} is missing`,
    );
  const symbol = opts.symbol ?? '';
  const closeTimeOf = opts.closeTimeOf ?? defaultCloseTime;
  const sessionOf = sessionKeyFor(symbol);
  const rows = base.ts.length;
  const cols = set.features.length;
  const values = new Float32Array(rows * cols).fill(NaN);
  const availableAt = new Float64Array(rows);
  for (let i = 0; i < rows; i++) availableAt[i] = closeTimeOf(base.ts[i]!, set.baseTimeframe);

  // every feature column with its target column and, for a higher timeframe, its base-row → bar index
  const parts: { col: Float64Array; k: number; map: Int32Array | null }[] = [];
  for (const tf of set.timeframes) {
    const colIdx: number[] = [];
    set.features.forEach((f, k) => {
      if (f.timeframe === tf) colIdx.push(k);
    });
    if (colIdx.length === 0) continue;
    const tfBars = bars[tf];
    if (!tfBars)
      throw new ValidationError(
        `bars.${tf}`,
        `feature set ${set.name} has ${colIdx.length} features on ${tf} but no ${tf} bars were given`,
      );
    checkAscending(tfBars, tf);
    const columns = computeTimeframeFeatures(
      tfBars,
      colIdx.map((k) => set.features[k]!),
      { sessionOf },
    );
    const map = tf === set.baseTimeframe ? null : alignToBase(availableAt, tfBars, tf, closeTimeOf);
    for (let c = 0; c < colIdx.length; c++) parts.push({ col: columns[c]!, k: colIdx[c]!, map });
  }
  // row-major writes in blocks of rows, so one block of the matrix stays in cache while every column fills it
  // (column by column over all rows touched each cache line of the whole matrix once per feature)
  for (let r0 = 0; r0 < rows; r0 += SCATTER_BLOCK) {
    const r1 = Math.min(rows, r0 + SCATTER_BLOCK);
    for (const { col, k, map } of parts) {
      if (map === null) {
        for (let i = r0; i < r1; i++) values[i * cols + k] = col[i]!;
      } else {
        for (let i = r0; i < r1; i++) {
          const j = map[i]!;
          if (j >= 0) values[i * cols + k] = col[j]!;
        }
      }
    }
  }
  return {
    symbol,
    featureSet: set.name,
    version: set.version,
    baseTimeframe: set.baseTimeframe,
    names: set.names,
    ts: Float64Array.from(base.ts),
    availableAt,
    rows,
    cols,
    values,
  };
}
