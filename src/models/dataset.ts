import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { buildFeatureMatrix, barsFromMinutes, FEATURE_SETS } from '../features';
import { ValidationError } from '../model/errors';
import { TIMEFRAME_MS } from '../model/timeframe';
import { sizingNotional } from './objectives/dollar-profit';

/** Minute bars in columns (ts = epoch ms of the bar start). */
export interface MinuteBars {
  symbol: string;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

/** A supervised dataset: row-major features, labels and the per-row facts validation and the objective need. */
export interface Dataset {
  symbol: string;
  featureSet: string;
  featureSetVersion: string;
  featureNames: string[];
  nrow: number;
  ncol: number;
  /** Row-major nrow × ncol; NaN = missing. */
  X: Float32Array;
  /** Forward return over `horizonMinutes` from the close at the decision time (the regression label). */
  forwardReturn: Float64Array;
  /** Dollar notional the sizing rule would trade on this row. */
  notional: Float64Array;
  /** Decision time: close of the bar the features end at (epoch ms). */
  decisionTs: Float64Array;
  /** When the label is known (end of the forward window): purging uses [decisionTs, labelEndTs]. */
  labelEndTs: Float64Array;
  horizonMinutes: number;
  dataHash: string;
}

/** Reads `<source>/<timeframe>/<SYMBOL>.csv.gz` from ../shared/data (header ts,open,high,low,close,volume). */
export function readBarsCsvGz(path: string, symbol: string): MinuteBars {
  const text = gunzipSync(readFileSync(path)).toString('utf8');
  const lines = text.split('\n');
  const header = lines[0]!.trim();
  if (header !== 'ts,open,high,low,close,volume')
    throw new ValidationError('header', `unexpected "${header}"`, path);
  const rows = lines.slice(1).filter((l) => l.length > 0);
  const out: MinuteBars = {
    symbol,
    ts: new Float64Array(rows.length),
    open: new Float64Array(rows.length),
    high: new Float64Array(rows.length),
    low: new Float64Array(rows.length),
    close: new Float64Array(rows.length),
    volume: new Float64Array(rows.length),
  };
  rows.forEach((line, i) => {
    const [ts, o, h, l, c, v] = line.split(',');
    const t = Date.parse(ts!);
    if (!Number.isFinite(t)) throw new ValidationError('ts', `line ${i + 2}: unparseable "${ts}"`, path);
    out.ts[i] = t;
    out.open[i] = Number(o);
    out.high[i] = Number(h);
    out.low[i] = Number(l);
    out.close[i] = Number(c);
    out.volume[i] = v === '' ? NaN : Number(v);
  });
  return out;
}

export const MODELS_FEATURE_SET = 'models.minute-basic';
export const MODELS_FEATURE_SET_VERSION = '1';
export const MODELS_FEATURE_NAMES = [
  'ret_1',
  'ret_5',
  'ret_15',
  'ret_60',
  'vol_15',
  'vol_60',
  'range_1',
  'volume_z_30',
  'dist_sma_15',
  'minute_of_day',
] as const;

export interface BuildOptions {
  horizonMinutes?: number;
  equity?: number;
  riskFraction?: number;
  maxPositionFraction?: number;
}

/**
 * Features from bars up to and including the decision bar only (no look-ahead); the label is the return from the
 * decision bar's close to the close `horizon` minutes later. Rows whose forward bar is missing, falls on another
 * day, or whose lookback crosses a session gap are dropped rather than repaired.
 */
export function buildDataset(bars: MinuteBars, opts: BuildOptions = {}): Dataset {
  const h = opts.horizonMinutes ?? 5;
  const equity = opts.equity ?? 100_000;
  const n = bars.ts.length;
  const MIN = 60_000;
  const c = bars.close;
  const lr = (a: number, b: number) => Math.log(c[a]! / c[b]!);
  const ncol = MODELS_FEATURE_NAMES.length;
  const X: number[] = [];
  const fr: number[] = [],
    notional: number[] = [],
    dts: number[] = [],
    lts: number[] = [];
  const LOOKBACK = 60;
  for (let t = LOOKBACK; t + h < n; t++) {
    // The lookback must be one contiguous stretch of the same day (at most 2x the minutes: thin minutes are normal).
    if (bars.ts[t]! - bars.ts[t - LOOKBACK]! > 2 * LOOKBACK * MIN) continue;
    const fwdTs = bars.ts[t + h]!;
    if (fwdTs - bars.ts[t]! !== h * MIN) continue;
    let s15 = 0,
      s15sq = 0,
      s60 = 0,
      s60sq = 0;
    for (let k = 0; k < 60; k++) {
      const r = lr(t - k, t - k - 1);
      if (k < 15) {
        s15 += r;
        s15sq += r * r;
      }
      s60 += r;
      s60sq += r * r;
    }
    const vol15 = Math.sqrt(Math.max(0, s15sq / 15 - (s15 / 15) ** 2));
    const vol60 = Math.sqrt(Math.max(0, s60sq / 60 - (s60 / 60) ** 2));
    let vs = 0,
      vsq = 0;
    for (let k = 1; k <= 30; k++) {
      const v = Math.log1p(bars.volume[t - k]!);
      vs += v;
      vsq += v * v;
    }
    const vMean = vs / 30;
    const vSd = Math.sqrt(Math.max(0, vsq / 30 - vMean * vMean));
    let sma = 0;
    for (let k = 0; k < 15; k++) sma += c[t - k]!;
    sma /= 15;
    const d = new Date(bars.ts[t]!);
    X.push(
      lr(t, t - 1),
      lr(t, t - 5),
      lr(t, t - 15),
      lr(t, t - 60),
      vol15,
      vol60,
      (bars.high[t]! - bars.low[t]!) / c[t]!,
      vSd > 0 ? (Math.log1p(bars.volume[t]!) - vMean) / vSd : NaN,
      c[t]! / sma - 1,
      d.getUTCHours() * 60 + d.getUTCMinutes(),
    );
    fr.push(c[t + h]! / c[t]! - 1);
    // Stop two horizon-scaled standard deviations away: the fixed-fractional sizing rule sets the notional.
    notional.push(
      sizingNotional(
        equity,
        2 * vol60 * Math.sqrt(h),
        opts.riskFraction ?? 0.02,
        opts.maxPositionFraction ?? 0.05,
      ),
    );
    dts.push(bars.ts[t]! + MIN);
    lts.push(fwdTs + MIN);
  }
  const nrow = fr.length;
  if (nrow === 0)
    throw new ValidationError(
      'bars',
      `no usable rows for ${bars.symbol} (need ${LOOKBACK + h + 1} contiguous minutes)`,
    );
  const Xf = Float32Array.from(X);
  const forwardReturn = Float64Array.from(fr);
  const hash = createHash('sha256');
  hash.update(Buffer.from(Xf.buffer));
  hash.update(Buffer.from(forwardReturn.buffer));
  return {
    symbol: bars.symbol,
    featureSet: MODELS_FEATURE_SET,
    featureSetVersion: MODELS_FEATURE_SET_VERSION,
    featureNames: [...MODELS_FEATURE_NAMES],
    nrow,
    ncol,
    X: Xf,
    forwardReturn,
    notional: Float64Array.from(notional),
    decisionTs: Float64Array.from(dts),
    labelEndTs: Float64Array.from(lts),
    horizonMinutes: h,
    dataHash: hash.digest('hex'),
  };
}

/** Names accepted by `buildDatasetFor`: this module's own minute features, or a src/features set. */
export type DatasetFeatureSet = typeof MODELS_FEATURE_SET | keyof typeof FEATURE_SETS;

/**
 * A dataset over a versioned src/features feature set (multi-timeframe, each higher-timeframe value from the
 * last completed bar). Rows are the set's base bars; the decision time is the base bar's close, the label the
 * return `horizon` minutes later (exactly, or the row is dropped). Rows still mostly warming up are dropped.
 */
export function buildDatasetFromFeatureSet(
  bars: MinuteBars,
  setName: keyof typeof FEATURE_SETS,
  opts: BuildOptions = {},
): Dataset {
  const set = FEATURE_SETS[setName];
  if (!set)
    throw new ValidationError(
      'featureSet',
      `unknown feature set "${String(setName)}"; known: ${Object.keys(FEATURE_SETS).join(', ')}`,
    );
  const h = opts.horizonMinutes ?? 5;
  const baseMs = TIMEFRAME_MS[set.baseTimeframe];
  if ((h * 60_000) % baseMs !== 0)
    throw new ValidationError(
      'horizonMinutes',
      `${h} is not a multiple of the ${set.baseTimeframe} base timeframe`,
    );
  const steps = (h * 60_000) / baseMs;
  const byTf = barsFromMinutes({ ...bars, timeframe: '1m' }, set.timeframes);
  const m = buildFeatureMatrix(byTf, set, { symbol: bars.symbol });
  const base = byTf[set.baseTimeframe]!;
  const equity = opts.equity ?? 100_000;
  const rows: number[] = [];
  const fr: number[] = [],
    notional: number[] = [];
  for (let i = 60; i + steps < m.rows; i++) {
    if (base.ts[i + steps]! - base.ts[i]! !== h * 60_000) continue;
    let nan = 0;
    for (let j = 0; j < m.cols; j++) if (Number.isNaN(m.values[i * m.cols + j]!)) nan++;
    if (nan > m.cols / 2) continue;
    let s = 0,
      q = 0;
    for (let k = 0; k < 60; k++) {
      const r = Math.log(base.close[i - k]! / base.close[i - k - 1]!);
      s += r;
      q += r * r;
    }
    const vol = Math.sqrt(Math.max(0, q / 60 - (s / 60) ** 2));
    rows.push(i);
    fr.push(base.close[i + steps]! / base.close[i]! - 1);
    notional.push(
      sizingNotional(
        equity,
        2 * vol * Math.sqrt(steps),
        opts.riskFraction ?? 0.02,
        opts.maxPositionFraction ?? 0.05,
      ),
    );
  }
  if (rows.length === 0)
    throw new ValidationError('bars', `no usable rows for ${bars.symbol} with feature set ${set.name}`);
  const X = new Float32Array(rows.length * m.cols);
  rows.forEach((r, k) => X.set(m.values.subarray(r * m.cols, (r + 1) * m.cols), k * m.cols));
  const forwardReturn = Float64Array.from(fr);
  const hash = createHash('sha256').update(Buffer.from(X.buffer)).update(Buffer.from(forwardReturn.buffer));
  return {
    symbol: bars.symbol,
    featureSet: `features.${set.name}`,
    featureSetVersion: set.version,
    featureNames: [...m.names],
    nrow: rows.length,
    ncol: m.cols,
    X,
    forwardReturn,
    notional: Float64Array.from(notional),
    decisionTs: Float64Array.from(rows, (r) => m.availableAt[r]!),
    labelEndTs: Float64Array.from(rows, (r) => m.availableAt[r + steps]!),
    horizonMinutes: h,
    dataHash: hash.digest('hex'),
  };
}

/** One entry point for both feature sources. */
export function buildDatasetFor(
  bars: MinuteBars,
  featureSet: DatasetFeatureSet,
  opts: BuildOptions = {},
): Dataset {
  return featureSet === MODELS_FEATURE_SET
    ? buildDataset(bars, opts)
    : buildDatasetFromFeatureSet(bars, featureSet, opts);
}

/**
 * Milliseconds between consecutive feature rows: the base timeframe of the dataset's feature set (1 minute for
 * `models.minute-basic`). Sequence models take windows of rows exactly this far apart.
 */
export function datasetBarMs(featureSet: string): number {
  if (featureSet === MODELS_FEATURE_SET) return 60_000;
  const set = FEATURE_SETS[featureSet.replace(/^features\./, '')];
  if (!set) throw new ValidationError('featureSet', `unknown feature set "${featureSet}"`);
  return TIMEFRAME_MS[set.baseTimeframe];
}

/** Rows [from, to) as a new dataset (same features). */
export function sliceRows(
  ds: Dataset,
  rows: ArrayLike<number>,
): Pick<Dataset, 'X' | 'forwardReturn' | 'notional' | 'nrow' | 'ncol'> {
  const X = new Float32Array(rows.length * ds.ncol);
  const fr = new Float64Array(rows.length);
  const no = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    X.set(ds.X.subarray(r * ds.ncol, (r + 1) * ds.ncol), i * ds.ncol);
    fr[i] = ds.forwardReturn[r]!;
    no[i] = ds.notional[r]!;
  }
  return { X, forwardReturn: fr, notional: no, nrow: rows.length, ncol: ds.ncol };
}

/** Binary file format for handing a dataset from the io worker to the training worker through the artifact dir. */
export function serializeDataset(ds: Dataset): Buffer {
  const meta = Buffer.from(
    JSON.stringify({
      symbol: ds.symbol,
      featureSet: ds.featureSet,
      featureSetVersion: ds.featureSetVersion,
      featureNames: ds.featureNames,
      nrow: ds.nrow,
      ncol: ds.ncol,
      horizonMinutes: ds.horizonMinutes,
      dataHash: ds.dataHash,
    }),
  );
  const head = Buffer.alloc(4);
  head.writeUInt32LE(meta.length);
  const parts = [ds.forwardReturn, ds.notional, ds.decisionTs, ds.labelEndTs].map((a) =>
    Buffer.from(a.buffer, a.byteOffset, a.byteLength),
  );
  return Buffer.concat([head, meta, ...parts, Buffer.from(ds.X.buffer, ds.X.byteOffset, ds.X.byteLength)]);
}

export function deserializeDataset(buf: Buffer): Dataset {
  const metaLen = buf.readUInt32LE(0);
  const meta = JSON.parse(buf.subarray(4, 4 + metaLen).toString('utf8')) as Omit<
    Dataset,
    'X' | 'forwardReturn' | 'notional' | 'decisionTs' | 'labelEndTs'
  >;
  let off = 4 + metaLen;
  const f64 = () => {
    const a = new Float64Array(meta.nrow);
    Buffer.from(a.buffer).set(buf.subarray(off, off + a.byteLength));
    off += a.byteLength;
    return a;
  };
  const forwardReturn = f64(),
    notional = f64(),
    decisionTs = f64(),
    labelEndTs = f64();
  const X = new Float32Array(meta.nrow * meta.ncol);
  Buffer.from(X.buffer).set(buf.subarray(off, off + X.byteLength));
  return { ...meta, X, forwardReturn, notional, decisionTs, labelEndTs };
}
