/**
 * Registered models behind the trading kernel's prediction port (src/trading/prediction.ts), served as they are
 * served live (ONNX Runtime, `loadServedModel`), with features from the one feature code:
 *
 * - `OnlineModelPort` (sessions): each symbol's feature row is computed incrementally as bars close
 *   (`OnlineFeatures`, bit for bit the offline matrix), from the kernel's own 1m bars and the coarser bars this
 *   port builds from them with the kernel's aggregation; the rows of the bars that closed at the decision are
 *   scored in one batch. Shadow models (challengers) are scored beside the traded one and only journaled.
 * - `featureMatrices` + `scoreMatrices` + `PrecomputedPort` (backtests): the offline feature matrix over the
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
    confidence:
      lower !== undefined && upper !== undefined ? confidenceFromInterval(score, lower, upper) : 0.5,
    horizonBars: model.horizonBars,
  };
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
 * A backtest's predictions, computed in batches: the rows of decisions in [fromTs, toTs) of each symbol's
 * matrix scored together. Returns per symbol a map from decision time (the base bar's close) to the prediction,
 * and every scored row for the journal/scoreboard.
 */
export async function scoreMatrices(
  model: ServedModel,
  set: FeatureSet,
  mats: readonly SymbolMatrix[],
  range: { readonly fromTs: number; readonly toTs: number },
): Promise<{ table: Map<string, Map<number, Prediction>>; rows: ScoredRow[] }> {
  const table = new Map<string, Map<number, Prediction>>();
  const rows: ScoredRow[] = [];
  const F = set.features.length;
  const w = model.window;
  for (const { symbol, matrix: m } of mats) {
    const idx: number[] = [];
    for (let r = w - 1; r < m.rows; r++) {
      const t = m.availableAt[r]!;
      if (t >= range.fromTs && t < range.toTs) idx.push(r);
    }
    if (!idx.length) continue;
    const X = new Float32Array(idx.length * w * F);
    idx.forEach((r, k) => X.set(m.values.subarray((r - w + 1) * F, (r + 1) * F), k * w * F));
    const s = await model.score(X, idx.length);
    const byTs = new Map<number, Prediction>();
    idx.forEach((r, k) => {
      const p = toPrediction(model, set.baseTimeframe, s.score[k]!, s.lower?.[k], s.upper?.[k]);
      byTs.set(m.availableAt[r]!, p);
      rows.push({
        modelId: model.id,
        role: 'traded',
        symbol,
        ts: m.availableAt[r]!,
        timeframe: set.baseTimeframe,
        score: s.score[k]!,
        expectedReturn: p.expectedReturn,
        confidence: p.confidence,
        horizonBars: p.horizonBars,
        inputsHash: inputsHash(m.values.subarray(r * F, (r + 1) * F)),
      });
    });
    table.set(symbol, byTs);
  }
  return { table, rows };
}

/** A backtest's port over precomputed predictions: a lookup by (symbol, decision time); synchronous. */
export class PrecomputedPort implements PredictionPort {
  constructor(
    readonly name: string,
    private readonly table: ReadonlyMap<string, ReadonlyMap<number, Prediction>>,
  ) {}

  predict(req: PredictionRequest): PredictionSet {
    const out: Record<string, Prediction[]> = {};
    for (const u of req.updated) {
      const p = this.table.get(u.symbol)?.get(req.now);
      if (p) out[u.symbol] = [p];
    }
    return out;
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
