/**
 * Registered models behind the trading kernel's prediction port (src/trading/prediction.ts), served as they are
 * served live (ONNX Runtime, `loadServedModel`), with features from the one feature code:
 *
 * - `OnlineModelPort` (sessions): each symbol's feature row is computed incrementally as bars close
 *   (`OnlineFeatures`, bit for bit the offline matrix), from the kernel's own 1m bars and the coarser bars this
 *   port builds from them with the kernel's aggregation; the rows of the bars that closed at the decision are
 *   scored in one batch. Shadow models (challengers) are scored beside the traded one and only journaled.
 * - `featureMatrices` + `scoreSeries` + `PrecomputedPort` (backtests): the offline feature matrix over the
 *   whole range, scored in batches, looked up by decision time — a model backtest stays a tight synchronous loop.
 *
 * Both map a model's score the same way: expected return from its units (`expectedReturn`), confidence from its
 * interval (quantile heads, fold or member spread: `confidenceFromInterval`), so a replayed session and a
 * backtest of the same bars give the strategy the same predictions.
 */
import { ValidationError } from '../../model/errors';
import type { BarColumns } from '../../model/bar';
import { fnv1a64HexBytes } from '../../model/client-order-id';
import { TIMEFRAME_MS, type Timeframe } from '../../model/timeframe';
import { instrumentFor } from '../../model/instrument';
import type { Prediction, PredictionSet } from '../../strategy/types';
import type { PredictionPort, PredictionRequest } from '../../trading/prediction';
import { Aggregator, BarSeries, calendarOf, closeOf } from '../../trading/series';
import { barsFromMinutes } from '../../features/prepare';
import { buildFeatureMatrix, type BarsByTimeframe, type FeatureMatrix } from '../../features/matrix';
import { OnlineFeatures } from '../../features/online';
import type { FeatureSet } from '../../features/definition';
import { confidenceFromInterval } from './confidence';
import { expectedReturn, type ServedModel } from './served-model';

/** One scored row, as the predictions table keeps it. */
export interface ScoredRow {
  readonly modelId: string;
  readonly role: 'traded' | 'shadow';
  readonly symbol: string;
  /** decision time: the close of the feature set's base bar */
  readonly ts: number;
  readonly timeframe: Timeframe;
  readonly score: number;
  readonly expectedReturn: number;
  readonly confidence: number;
  readonly horizonBars: number;
  readonly inputsHash: string;
}

/** A model's output for one input as the strategy takes it. */
export function toPrediction(
  model: ServedModel,
  timeframe: Timeframe,
  score: number,
  lower: number | undefined,
  upper: number | undefined,
): Prediction {
  return {
    model: model.id,
    timeframe,
    expectedReturn: expectedReturn(model, score),
    confidence: confidenceOf(score, lower, upper),
    horizonBars: model.horizonBars,
  };
}

/** Confidence from the model's interval around the score; 0.5 (no view) for a model without one. */
function confidenceOf(score: number, lower: number | undefined, upper: number | undefined): number {
  return lower !== undefined && upper !== undefined ? confidenceFromInterval(score, lower, upper) : 0.5;
}

/** The fnv1a-64 of a feature row's float32 bytes: which inputs a prediction was made from. */
export function inputsHash(row: Float32Array): string {
  return fnv1a64HexBytes(new Uint8Array(row.buffer, row.byteOffset, row.byteLength));
}

interface SymbolFeed {
  readonly features: OnlineFeatures;
  readonly aggregators: Aggregator[];
  /** index of the next execution bar to take */
  next: number;
  /** the newest `window` rows (sequence models), oldest first */
  readonly rows: Float32Array[];
  /** decision time of the newest kept row */
  lastRowAt: number;
}

export interface OnlineModelPortOptions {
  readonly set: FeatureSet;
  readonly traded: ServedModel;
  readonly shadows?: readonly ServedModel[];
  /** every scored row (traded and shadow), with the symbols' feature engines (to publish the online vectors) */
  readonly sink?: (rows: readonly ScoredRow[], features: readonly OnlineFeatures[]) => void | Promise<void>;
  /** loads a model to trade instead (and its shadows) when the session switches models (`swap`) */
  readonly load?: (
    modelId: string,
  ) => Promise<{ readonly traded: ServedModel; readonly shadows: readonly ServedModel[] }>;
}

/** A session's prediction port: online features, the traded model, shadows journaled beside it. */
export class OnlineModelPort implements PredictionPort {
  private traded: ServedModel;
  private shadows: readonly ServedModel[];
  private readonly feeds = new Map<string, SymbolFeed>();
  private readonly window: number;
  readonly warmUpSessions: number;

  constructor(private readonly opts: OnlineModelPortOptions) {
    this.traded = opts.traded;
    this.shadows = opts.shadows ?? [];
    this.window = Math.max(opts.traded.window, ...this.shadows.map((m) => m.window));
    this.warmUpSessions = featureWarmUpSessions(opts.set);
  }

  get name(): string {
    return `model:${this.traded.id}`;
  }

  /** The model traded from now on (a promotion or rollback of the champion): the features carry on. */
  use(traded: ServedModel, shadows: readonly ServedModel[] = this.shadows): void {
    for (const m of [traded, ...shadows])
      if (m.window > this.window)
        throw new ValidationError(
          'modelId',
          `${m.id} reads ${m.window} rows per input; this session's features keep ${this.window} (start a new session for it)`,
        );
    this.traded = traded;
    this.shadows = shadows;
  }

  async swap(modelId: string): Promise<void> {
    if (modelId === this.traded.id) return;
    if (!this.opts.load)
      throw new ValidationError('modelId', `this session's port cannot load ${modelId} (no loader)`);
    const next = await this.opts.load(modelId);
    this.use(next.traded, next.shadows);
  }

  get modelIds(): { readonly traded: string; readonly shadows: readonly string[] } {
    return { traded: this.traded.id, shadows: this.shadows.map((m) => m.id) };
  }

  async predict(req: PredictionRequest): Promise<PredictionSet> {
    const set = this.opts.set;
    const ready: Array<{ symbol: string; input: Float32Array; row: Float32Array }> = [];
    const engines: OnlineFeatures[] = [];
    const symbols = [...new Set(req.updated.map((u) => u.symbol))];
    for (const symbol of symbols) {
      const feed = this.feedOf(symbol, req);
      if (!feed) continue;
      if (!this.catchUp(feed, req, symbol)) continue;
      engines.push(feed.features);
      if (feed.features.availableAt !== req.now || feed.rows.length < this.window) continue;
      const input = new Float32Array(this.window * set.features.length);
      const from = feed.rows.length - this.window;
      for (let k = 0; k < this.window; k++) input.set(feed.rows[from + k]!, k * set.features.length);
      ready.push({ symbol, input, row: feed.rows[feed.rows.length - 1]! });
    }
    const out: Record<string, Prediction[]> = {};
    if (ready.length === 0) return out;
    const scored: ScoredRow[] = [];
    for (const [role, model] of [
      ['traded', this.traded] as const,
      ...this.shadows.map((m) => ['shadow', m] as const),
    ]) {
      const n = ready.length;
      const w = model.window;
      const F = set.features.length;
      const X = new Float32Array(n * w * F);
      ready.forEach((r, i) => X.set(r.input.subarray((this.window - w) * F), i * w * F));
      const s = await model.score(X, n);
      ready.forEach((r, i) => {
        const p = toPrediction(model, set.baseTimeframe, s.score[i]!, s.lower?.[i], s.upper?.[i]);
        if (role === 'traded') out[r.symbol] = [p];
        scored.push({
          modelId: model.id,
          role,
          symbol: r.symbol,
          ts: req.now,
          timeframe: set.baseTimeframe,
          score: s.score[i]!,
          expectedReturn: p.expectedReturn,
          confidence: p.confidence,
          horizonBars: p.horizonBars,
          inputsHash: inputsHash(r.row),
        });
      });
    }
    await this.opts.sink?.(scored, engines);
    return out;
  }

  private feedOf(symbol: string, req: PredictionRequest): SymbolFeed | undefined {
    let feed = this.feeds.get(symbol);
    if (feed) return feed;
    const base = req.bars(symbol);
    if (!base) return undefined;
    const set = this.opts.set;
    const calendar = calendarOf(instrumentFor(symbol).calendar);
    const aggregators: Aggregator[] = [];
    if (base.timeframe === '1m')
      for (const tf of set.timeframes)
        if (tf !== '1m') aggregators.push(new Aggregator(new BarSeries(symbol, tf, calendar), calendar));
    feed = {
      features: new OnlineFeatures(set, { symbol, closeTimeOf: kernelCloseTime(calendar) }),
      aggregators,
      next: 0,
      rows: [],
      lastRowAt: -Infinity,
    };
    this.feeds.set(symbol, feed);
    return feed;
  }

  /** Feeds the symbol's bars closed by now (execution bars, and what they complete); false: cannot serve it. */
  private catchUp(feed: SymbolFeed, req: PredictionRequest, symbol: string): boolean {
    const base = req.bars(symbol);
    if (!base) return false;
    const f = feed.features;
    const baseTf = this.opts.set.baseTimeframe;
    if (base.timeframe !== '1m' && base.timeframe !== baseTf) return false;
    const keep = Math.max(1, this.window);
    const take = (tf: Timeframe, s: BarSeries, i: number) =>
      f.update(tf, {
        ts: s.ts[i]!,
        open: s.open[i]!,
        high: s.high[i]!,
        low: s.low[i]!,
        close: s.close[i]!,
        volume: s.volume[i]!,
      });
    for (; feed.next <= base.cursor; feed.next++) {
      const i = feed.next;
      // in close order: buckets this bar completes (they closed at its start), the bar, buckets closing with it
      for (const a of feed.aggregators)
        if (a.add(base.ts[i]!, base.open[i]!, base.high[i]!, base.low[i]!, base.close[i]!, base.volume[i]!))
          take(a.target.timeframe, a.target, a.target.n - 1);
      take(base.timeframe, base, i);
      const close = base.closeAt(i);
      for (const a of feed.aggregators)
        if (a.closeDue(close)) take(a.target.timeframe, a.target, a.target.n - 1);
      if (f.availableAt === close && (base.timeframe === baseTf || feed.aggregators.length > 0)) {
        // a base-timeframe row completed at this close: keep it (sequence models read the last `window`)
        if (feed.rows.length === 0 || feed.lastRowAt !== close) {
          feed.rows.push(f.row32());
          feed.lastRowAt = close;
          if (feed.rows.length > keep) feed.rows.shift();
        }
      }
    }
    return true;
  }
}

/** A symbol's offline feature matrix, rows available at the kernel's decision times, with its base bars' closes. */
export interface SymbolMatrix {
  readonly symbol: string;
  readonly matrix: FeatureMatrix;
  /** close of each matrix row's base bar */
  readonly close: Float64Array;
}

/**
 * Every symbol's feature matrix (the one feature code), rows available when the kernel decides (a daily row at
 * its session's close). Symbols without bars of the set's base timeframe (or 1m to build them from) are skipped.
 */
export function featureMatrices(set: FeatureSet, series: readonly BarColumns[]): SymbolMatrix[] {
  const out: SymbolMatrix[] = [];
  for (const cols of series) {
    const bars: BarsByTimeframe =
      cols.timeframe === '1m'
        ? barsFromMinutes(cols, set.timeframes)
        : { [cols.timeframe]: toTimeframeBars(cols) };
    const base = bars[set.baseTimeframe];
    if (!base) continue;
    const calendar = calendarOf(instrumentFor(cols.symbol).calendar);
    const matrix = buildFeatureMatrix(bars, set, {
      symbol: cols.symbol,
      closeTimeOf: kernelCloseTime(calendar),
    });
    out.push({ symbol: cols.symbol, matrix, close: Float64Array.from(base.close) });
  }
  return out;
}

/**
 * A model's scores over one symbol's decisions, in columns: one entry per scored matrix row, ascending decision
 * time. What a backtest trades and its scoreboard measures, without an object per row (a minute backtest scores
 * hundreds of thousands of rows).
 */
export interface ScoredSeries {
  readonly modelId: string;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly horizonBars: number;
  /** decision time of each entry: the close of the feature set's base bar (ascending) */
  readonly ts: Float64Array;
  /** the matrix row each entry scored */
  readonly row: Int32Array;
  readonly score: Float64Array;
  readonly expectedReturn: Float64Array;
  readonly confidence: Float64Array;
}

/**
 * A backtest's predictions, computed in batches: the rows of decisions in [fromTs, toTs) of each symbol's
 * matrix scored together, mapped to expected return and confidence as `toPrediction` maps them.
 */
export async function scoreSeries(
  model: ServedModel,
  set: FeatureSet,
  mats: readonly SymbolMatrix[],
  range: { readonly fromTs: number; readonly toTs: number },
): Promise<ScoredSeries[]> {
  const out: ScoredSeries[] = [];
  const F = set.features.length;
  const w = model.window;
  for (const { symbol, matrix: m } of mats) {
    let first = w - 1;
    while (first < m.rows && !(m.availableAt[first]! >= range.fromTs)) first++;
    let end = first;
    while (end < m.rows && m.availableAt[end]! < range.toTs) end++;
    const n = end - first;
    if (n <= 0) continue;
    // rows are contiguous: with a window of 1 the input is one slice of the matrix
    let X: Float32Array;
    if (w === 1) X = m.values.slice(first * F, end * F);
    else {
      X = new Float32Array(n * w * F);
      for (let k = 0; k < n; k++) {
        const r = first + k;
        X.set(m.values.subarray((r - w + 1) * F, (r + 1) * F), k * w * F);
      }
    }
    const s = await model.score(X, n);
    const ts = m.availableAt.slice(first, end);
    const row = new Int32Array(n);
    const score = new Float64Array(n);
    const er = new Float64Array(n);
    const confidence = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      row[k] = first + k;
      const x = s.score[k]!;
      score[k] = x;
      er[k] = expectedReturn(model, x);
      confidence[k] = confidenceOf(x, s.lower?.[k], s.upper?.[k]);
    }
    out.push({
      modelId: model.id,
      symbol,
      timeframe: set.baseTimeframe,
      horizonBars: model.horizonBars,
      ts,
      row,
      score,
      expectedReturn: er,
      confidence,
    });
  }
  return out;
}

/** Scored series as journal rows, each with the hash of the feature row it was scored from. */
export function journalRows(
  series: readonly ScoredSeries[],
  mats: readonly SymbolMatrix[],
  role: ScoredRow['role'] = 'traded',
): ScoredRow[] {
  const bySymbol = new Map(mats.map((m) => [m.symbol, m.matrix]));
  const rows: ScoredRow[] = [];
  for (const s of series) {
    const m = bySymbol.get(s.symbol);
    if (!m) throw new ValidationError(`mats.${s.symbol}`, 'no feature matrix for a scored symbol');
    const F = m.cols;
    for (let k = 0; k < s.ts.length; k++) {
      const r = s.row[k]!;
      rows.push({
        modelId: s.modelId,
        role,
        symbol: s.symbol,
        ts: s.ts[k]!,
        timeframe: s.timeframe,
        score: s.score[k]!,
        expectedReturn: s.expectedReturn[k]!,
        confidence: s.confidence[k]!,
        horizonBars: s.horizonBars,
        inputsHash: inputsHash(m.values.subarray(r * F, (r + 1) * F)),
      });
    }
  }
  return rows;
}

/** One symbol's scored series (of every window) end to end: ascending decision times. */
interface MergedSeries {
  readonly ts: Float64Array;
  readonly of: readonly ScoredSeries[];
  /** which series (index into `of`) and entry each decision comes from */
  readonly series: Int32Array;
  readonly entry: Int32Array;
  /** the last position looked up: a backtest asks in ascending time */
  hint: number;
}

function mergeSeries(symbol: string, list: readonly ScoredSeries[]): MergedSeries {
  const n = list.reduce((a, s) => a + s.ts.length, 0);
  const ts = new Float64Array(n);
  const series = new Int32Array(n);
  const entry = new Int32Array(n);
  let k = 0;
  list.forEach((s, si) => {
    for (let e = 0; e < s.ts.length; e++, k++) {
      ts[k] = s.ts[e]!;
      series[k] = si;
      entry[k] = e;
      // walk-forward windows test on disjoint, consecutive ranges: one prediction per decision
      if (k > 0 && !(ts[k]! > ts[k - 1]!))
        throw new ValidationError(
          `predictions.${symbol}`,
          `two predictions for ${new Date(ts[k]!).toISOString()}: the scored windows overlap or are out of order`,
        );
    }
  });
  return { ts, of: list, series, entry, hint: 0 };
}

function find(m: MergedSeries, t: number): number {
  const ts = m.ts;
  let i = m.hint;
  if (i < ts.length && ts[i] === t) return i;
  if (i + 1 < ts.length && ts[i + 1] === t) return (m.hint = i + 1);
  let lo = 0;
  let hi = ts.length - 1;
  while (lo <= hi) {
    i = (lo + hi) >>> 1;
    if (ts[i]! < t) lo = i + 1;
    else if (ts[i]! > t) hi = i - 1;
    else return (m.hint = i);
  }
  return -1;
}

/**
 * A backtest's port over precomputed predictions (scored series, a model backtest's windows in order): a lookup
 * by (symbol, decision time); synchronous.
 */
export class PrecomputedPort implements PredictionPort {
  private readonly merged = new Map<string, MergedSeries>();

  constructor(
    readonly name: string,
    series: readonly ScoredSeries[],
  ) {
    const bySymbol = new Map<string, ScoredSeries[]>();
    for (const s of series) {
      const l = bySymbol.get(s.symbol);
      if (l) l.push(s);
      else bySymbol.set(s.symbol, [s]);
    }
    for (const [symbol, list] of bySymbol) this.merged.set(symbol, mergeSeries(symbol, list));
  }

  predict(req: PredictionRequest): PredictionSet {
    const out: Record<string, Prediction[]> = {};
    for (const u of req.updated) {
      const p = this.lookup(u.symbol, req.now);
      if (p) out[u.symbol] = [p];
    }
    return out;
  }

  private lookup(symbol: string, t: number): Prediction | undefined {
    const m = this.merged.get(symbol);
    if (!m) return undefined;
    const i = find(m, t);
    if (i < 0) return undefined;
    const s = m.of[m.series[i]!]!;
    const e = m.entry[i]!;
    return {
      model: s.modelId,
      timeframe: s.timeframe,
      expectedReturn: s.expectedReturn[e]!,
      confidence: s.confidence[e]!,
      horizonBars: s.horizonBars,
    };
  }
}

/**
 * Sessions of history a feature set needs to be warm at the first decision: its slowest feature's period in
 * bars of its timeframe, in regular sessions (a 20-day feature needs 20 sessions), plus two.
 */
export function featureWarmUpSessions(set: FeatureSet): number {
  let sessions = 1;
  for (const f of set.features) {
    const period = f.period ?? 14;
    const perSession = Math.max(1, Math.floor((390 * 60_000) / TIMEFRAME_MS[f.timeframe]));
    sessions = Math.max(sessions, Math.ceil(period / perSession));
  }
  return Math.min(sessions + 2, 60);
}

/**
 * When a bar is complete, as the kernel decides it (a daily bar at its session's close): rows become available
 * at the kernel's decision times, so a daily model's prediction is there when the strategy decides at 16:00.
 * Feature values are the same as with the matrix's default (intraday bars close at ts + timeframe either way).
 */
function kernelCloseTime(calendar: ReturnType<typeof calendarOf>): (ts: number, tf: Timeframe) => number {
  return (ts, tf) => closeOf(ts, tf, calendar);
}

function toTimeframeBars(c: BarColumns) {
  return {
    timeframe: c.timeframe,
    ts: c.ts,
    open: c.open,
    high: c.high,
    low: c.low,
    close: c.close,
    volume: c.volume,
  };
}
