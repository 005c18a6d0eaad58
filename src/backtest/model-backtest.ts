/**
 * Model backtests: a model decides the trades, through the trading kernel, out of sample.
 *
 * - Walk-forward from a spec: the range is cut into test windows (`retrainEveryMs` long, after a first
 *   `trainWindowMs` of history). Each window's model is trained only on rows whose decision AND label lie before
 *   the window (purged, plus an embargo), exported to ONNX, registered with its training range (status
 *   candidate) and served by ONNX Runtime as a live session would serve it; it predicts the next window in one
 *   batch. The strategy then trades those predictions through the kernel over the whole range.
 * - A registered model (an id or `champion:<name>`): served as it is, trading only after its training range
 *   ended (earlier bars are its in-sample data and only warm the strategy up).
 *
 * The scoreboard (src/backtest/scoreboard.ts) puts beside the result: per window, out-of-sample rank IC and hit
 * rate; P&L by model; and the same bars traded with the same costs by buy-and-hold of the universe (equal
 * weight), of a benchmark symbol, by the strategy on its own indicator signals, and by staying flat; and the
 * deflated Sharpe ratio for the number of configurations tried.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BarColumns } from '../model/bar';
import { ValidationError } from '../model/errors';
import { TIMEFRAME_MS } from '../model/timeframe';
import type { FeatureSet } from '../features/definition';
import { datasetBarMs, sliceRows, type Dataset } from '../models/dataset';
import { sizingNotional } from '../models/objectives/dollar-profit';
import { trainNet } from '../models/nn/nets';
import { selectTfBackend } from '../models/nn/backend';
import { windowEndRows } from '../models/nn/windows';
import { exportNeural, exportXGBoost, type NeuralArtifact } from '../models/onnx/export-model';
import { modelCard, type ModelRegistry } from '../models/registry/registry';
import {
  featureMatrices,
  PrecomputedPort,
  scoreSeries,
  type SymbolMatrix,
} from '../models/serving/model-port';
import { loadServedModel, type ServedModel } from '../models/serving/served-model';
import type { ModelSpec } from '../models/spec';
import { trainModel } from '../models/validation/evaluate';
import { detectLeakyFeatures } from '../models/validation/leakage';
import type { RiskLimits } from '../risk/types';
import { BuyAndHoldStrategy } from '../strategy/buy-and-hold';
import type { Strategy } from '../strategy/types';
import { runBacktest, type BacktestConfig, type BacktestResult } from './engine';
import type { MetricsOptions } from './metrics';
import { buildScoreboard, forwardReturns, type ScoredWindow, type Scoreboard } from './scoreboard';

export interface WindowPlan {
  /** first decision the window's model predicts (inclusive) */
  readonly testFrom: number;
  /** end of the window (exclusive) */
  readonly testTo: number;
  /** training rows decide in [trainFrom, trainTo) and their labels end by trainTo */
  readonly trainFrom: number;
  readonly trainTo: number;
}

/** Test windows of `stepMs` from `from + trainWindowMs` to `to`; each trained on the window before, embargoed. */
export function walkForwardWindows(
  from: number,
  to: number,
  o: { readonly trainWindowMs: number; readonly stepMs: number; readonly embargoMs: number },
): WindowPlan[] {
  if (!(o.stepMs > 0)) throw new ValidationError('--retrain-every', 'must be a positive duration');
  if (!(o.trainWindowMs > 0)) throw new ValidationError('--train-window', 'must be a positive duration');
  const out: WindowPlan[] = [];
  for (let t = from + o.trainWindowMs; t < to; t += o.stepMs)
    out.push({
      testFrom: t,
      testTo: Math.min(to, t + o.stepMs),
      trainFrom: t - o.trainWindowMs,
      trainTo: t - o.embargoMs,
    });
  if (!out.length)
    throw new ValidationError(
      '--train-window',
      `the range (${new Date(from).toISOString().slice(0, 10)} to ${new Date(to).toISOString().slice(0, 10)}) is shorter than the training window: no test window`,
    );
  return out;
}

/**
 * The training rows of a window, pooled over symbols: features at each decision, the forward return over
 * `horizonBars` base bars (the label), and the notional the sizing rule would trade. Rows whose label ends after
 * `trainTo` are purged; rows still mostly warming up are dropped.
 */
export function windowDataset(
  mats: readonly SymbolMatrix[],
  set: FeatureSet,
  horizonBars: number,
  trainFrom: number,
  trainTo: number,
  equity = 100_000,
): Dataset {
  const cols = set.features.length;
  const X: number[] = [];
  const fr: number[] = [];
  const notional: number[] = [];
  const dts: number[] = [];
  const lts: number[] = [];
  for (const { matrix: m, close } of mats) {
    for (let r = 20; r + horizonBars < m.rows; r++) {
      const t = m.availableAt[r]!;
      const end = m.availableAt[r + horizonBars]!;
      if (t < trainFrom || end > trainTo) continue;
      let nan = 0;
      for (let j = 0; j < cols; j++) if (Number.isNaN(m.values[r * cols + j]!)) nan++;
      if (nan > cols / 2) continue;
      let s = 0;
      let q = 0;
      for (let k = 0; k < 20; k++) {
        const x = Math.log(close[r - k]! / close[r - k - 1]!);
        s += x;
        q += x * x;
      }
      const vol = Math.sqrt(Math.max(0, q / 20 - (s / 20) ** 2));
      for (let j = 0; j < cols; j++) X.push(m.values[r * cols + j]!);
      fr.push(close[r + horizonBars]! / close[r]! - 1);
      notional.push(sizingNotional(equity, 2 * vol * Math.sqrt(horizonBars)));
      dts.push(t);
      lts.push(end);
    }
  }
  const nrow = fr.length;
  if (nrow < 50)
    throw new ValidationError(
      '--train-window',
      `only ${nrow} usable training rows before ${new Date(trainTo).toISOString()}; lengthen the window`,
    );
  const Xf = Float32Array.from(X);
  const forwardReturn = Float64Array.from(fr);
  const hash = createHash('sha256').update(Buffer.from(Xf.buffer)).update(Buffer.from(forwardReturn.buffer));
  return {
    symbol: mats.length === 1 ? mats[0]!.symbol : `${mats.length} symbols`,
    featureSet: `features.${set.name}`,
    featureSetVersion: set.version,
    featureNames: [...set.names],
    nrow,
    ncol: cols,
    X: Xf,
    forwardReturn,
    notional: Float64Array.from(notional),
    decisionTs: Float64Array.from(dts),
    labelEndTs: Float64Array.from(lts),
    horizonMinutes: (horizonBars * TIMEFRAME_MS[set.baseTimeframe]) / 60_000,
    dataHash: hash.digest('hex'),
  };
}

/** XGBoost window models: models each without one time block, whose spread is the confidence interval. */
const XGB_INTERVAL_FOLDS = 4;

/**
 * Trains a window's model on its dataset, exports it to ONNX (parity checked against the training runtime),
 * registers it with its training range (status candidate) and serves it with ONNX Runtime.
 */
export async function trainAndServe(
  registry: ModelRegistry,
  o: {
    readonly id: string;
    readonly name: string;
    readonly spec: ModelSpec;
    readonly dataset: Dataset;
    readonly trainFrom: number;
    readonly trainTo: number;
    readonly xgboostParams?: Record<string, string | number | boolean>;
  },
): Promise<ServedModel> {
  const { spec, dataset: ds } = o;
  const existing = await registry.get(o.id);
  if (existing) return loadServedModel(registry, o.id);
  const all = Array.from({ length: ds.nrow }, (_, i) => i);
  // the training pipeline's leakage screen: a feature that tracks the label this closely was built from the future
  const leaks = detectLeakyFeatures(ds, [
    { index: 0, train: [], test: all, purged: 0, embargoed: 0, testFrom: o.trainFrom, testTo: o.trainTo },
  ]);
  if (leaks.length)
    throw new ValidationError(
      '--model',
      `window model ${o.id} refused: ${leaks.map((l) => `${l.feature} (rank IC ${l.ic.toFixed(2)} with the label)`).join(', ')} ${leaks.length === 1 ? 'tracks' : 'track'} the future return — a look-ahead leak in the features`,
    );
  let native: Buffer;
  let exported;
  if (spec.kind === 'xgboost') {
    const model = await trainModel(spec, { ...ds }, { params: o.xgboostParams ?? {} });
    try {
      native = model.booster.toBuffer('json');
    } finally {
      model.booster.free();
    }
    // the confidence interval: the spread of models each trained without one of four contiguous time blocks
    const dir = mkdtempSync(join(tmpdir(), 'wf-folds-'));
    try {
      const order = all.slice().sort((a, b) => ds.decisionTs[a]! - ds.decisionTs[b]!);
      const folds: string[] = [];
      for (let k = 0; k < XGB_INTERVAL_FOLDS; k++) {
        const lo = Math.floor((k * order.length) / XGB_INTERVAL_FOLDS);
        const hi = Math.floor(((k + 1) * order.length) / XGB_INTERVAL_FOLDS);
        const keep = order.filter((_, i) => i < lo || i >= hi).sort((a, b) => a - b);
        const fold = await trainModel(spec, sliceRows(ds, keep), { params: o.xgboostParams ?? {} });
        try {
          const path = join(dir, `fold-${k}.json`);
          writeFileSync(path, fold.booster.toBuffer('json'));
          folds.push(path);
        } finally {
          fold.booster.free();
        }
      }
      exported = await exportXGBoost(o.id, spec, ds, native, folds);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    const backend = await selectTfBackend();
    const ok = windowEndRows(ds.decisionTs, spec.window, datasetBarMs(ds.featureSet));
    const rows = all.filter((r) => ok[r]);
    const trained = await trainNet(spec, ds, rows.length ? rows : all);
    try {
      const artifact: NeuralArtifact = {
        state: trained.net.state(),
        labelScale: trained.labelScale,
        backend,
      };
      native = Buffer.from(JSON.stringify(artifact));
    } finally {
      trained.net.dispose();
    }
    exported = await exportNeural(o.id, spec, ds, native, () => undefined);
  }
  if (!(exported.serving.parity.maxAbsDiff <= exported.serving.parity.tolerance))
    throw new Error(
      `onnx parity: window model ${o.id}: max |onnx - ${exported.serving.parity.reference}| = ${exported.serving.parity.maxAbsDiff}`,
    );
  const rec = {
    id: o.id,
    name: o.name,
    kind: spec.kind,
    spec,
    featureSet: ds.featureSet,
    featureSetVersion: ds.featureSetVersion,
    symbol: ds.symbol,
    trainFrom: o.trainFrom,
    trainTo: o.trainTo,
    dataHash: ds.dataHash,
    metrics: {
      featureNames: ds.featureNames,
      horizonMinutes: ds.horizonMinutes,
      serving: exported.serving,
      walkForwardWindow: { trainFrom: o.trainFrom, trainTo: o.trainTo, rows: ds.nrow },
    },
    featureImportance: exported.importance,
    workflowId: null,
  };
  await registry.register(rec, {
    native,
    onnx: exported.onnx,
    intervals: exported.intervals,
    modelCard: modelCard(rec),
  });
  return loadServedModel(registry, o.id);
}

/** The port over every window's predictions (each window's from its own model). */
export function windowsPort(name: string, windows: readonly ScoredWindow[]): PrecomputedPort {
  return new PrecomputedPort(
    name,
    windows.flatMap((w) => w.series),
  );
}

const predictionsIn = (series: readonly { readonly ts: Float64Array }[]): number =>
  series.reduce((a, s) => a + s.ts.length, 0);

/** Where a model backtest's predictions come from. */
export type ModelSource =
  | { readonly kind: 'registered'; readonly ref: string }
  | {
      readonly kind: 'walk-forward';
      readonly spec: ModelSpec;
      /** registry name of the window models */
      readonly name: string;
      readonly horizonBars: number;
      readonly retrainEveryMs: number;
      readonly trainWindowMs: number;
      /** gap between a window's last training label and its first decision (default: the horizon) */
      readonly embargoMs?: number;
      readonly xgboostParams?: Record<string, string | number | boolean>;
    };

export interface PredictWindowsOptions {
  readonly mats: readonly SymbolMatrix[];
  readonly set: FeatureSet;
  readonly registry: ModelRegistry;
  readonly from: number;
  readonly to: number;
  readonly model: ModelSource;
  readonly log?: (line: string) => void;
}

/**
 * Every window's out-of-sample predictions: walk-forward (train → register → serve → predict the window), or a
 * registered model predicting from the end of its training range.
 */
export async function predictWindows(o: PredictWindowsOptions): Promise<ScoredWindow[]> {
  const log = o.log ?? (() => undefined);
  if (o.model.kind === 'registered') {
    const served = await loadServedModel(o.registry, o.model.ref);
    try {
      const rec = await o.registry.get(served.id);
      const trainedTo = rec ? rec.trainTo : o.from;
      const testFrom = Math.max(o.from, trainedTo);
      if (!(testFrom < o.to))
        throw new ValidationError(
          '--model',
          `${served.id} was trained on data up to ${day(trainedTo)}: no bars after it to test on (out of sample only)`,
        );
      checkFeatureSet(served, o.set);
      const series = await scoreSeries(served, o.set, o.mats, { fromTs: testFrom, toTs: o.to });
      log(
        `${served.id}: trained ${day(rec?.trainFrom ?? o.from)}..${day(trainedTo)}, predicted ${predictionsIn(series)} rows to ${day(o.to)}`,
      );
      return [
        {
          modelId: served.id,
          trainFrom: rec?.trainFrom ?? o.from,
          trainTo: trainedTo,
          testFrom,
          testTo: o.to,
          series,
        },
      ];
    } finally {
      await served.close();
    }
  }
  const m = o.model;
  const plans = walkForwardWindows(o.from, o.to, {
    trainWindowMs: m.trainWindowMs,
    stepMs: m.retrainEveryMs,
    embargoMs: m.embargoMs ?? m.horizonBars * TIMEFRAME_MS[o.set.baseTimeframe],
  });
  const out: ScoredWindow[] = [];
  for (const [k, plan] of plans.entries()) {
    const ds = windowDataset(o.mats, o.set, m.horizonBars, plan.trainFrom, plan.trainTo);
    // same data, spec and training recipe → same id: a rerun serves the registered window model again
    const key = createHash('sha256')
      .update(
        `${ds.dataHash}|${JSON.stringify(m.spec)}|${JSON.stringify(m.xgboostParams ?? {})}|folds=${XGB_INTERVAL_FOLDS}`,
      )
      .digest('hex');
    const id = `${m.name}-wf-${day(plan.testFrom)}-${key.slice(0, 10)}`;
    const served = await trainAndServe(o.registry, {
      id,
      name: m.name,
      spec: m.spec,
      dataset: ds,
      trainFrom: plan.trainFrom,
      trainTo: plan.trainTo,
      xgboostParams: m.xgboostParams,
    });
    try {
      const series = await scoreSeries(served, o.set, o.mats, {
        fromTs: plan.testFrom,
        toTs: plan.testTo,
      });
      out.push({ modelId: served.id, ...plan, series });
      log(
        `window ${k + 1}/${plans.length}: ${served.id} trained on ${ds.nrow} rows (${day(plan.trainFrom)}..${day(plan.trainTo)}), predicted ${predictionsIn(series)} rows to ${day(plan.testTo)}`,
      );
    } finally {
      await served.close();
    }
  }
  return out;
}

function checkFeatureSet(served: ServedModel, set: FeatureSet): void {
  const want = `features.${set.name}`;
  if (served.featureSet !== want && served.featureSet !== set.name)
    throw new ValidationError(
      '--feature-set',
      `model ${served.id} was trained on ${served.featureSet}, not ${want}; pass --feature-set ${served.featureSet.replace(/^features\./, '')}`,
    );
  if (served.featureSetVersion !== set.version)
    throw new ValidationError(
      '--feature-set',
      `model ${served.id} was trained on ${set.name}@${served.featureSetVersion}; this code computes ${set.name}@${set.version}`,
    );
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Configurations tried under a model name (the deflated Sharpe ratio's N): the distinct (kind, spec, feature set,
 * horizon) among its registered models, counting this one.
 */
export async function trialsOf(
  registry: ModelRegistry,
  name: string,
  current: ModelSource,
  set: FeatureSet,
): Promise<number> {
  const keys = new Set<string>();
  for (const r of await registry.list({ name }))
    keys.add(
      sortedJson([r.spec, r.featureSet, (r.metrics as { horizonMinutes?: number }).horizonMinutes ?? null]),
    );
  if (current.kind === 'walk-forward')
    keys.add(
      sortedJson([
        current.spec,
        `features.${set.name}`,
        (current.horizonBars * TIMEFRAME_MS[set.baseTimeframe]) / 60_000,
      ]),
    );
  return Math.max(1, keys.size);
}

/** JSON with object keys sorted (a spec read back from JSONB has its keys in another order). */
function sortedJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );
}

export interface ModelBacktestOptions {
  readonly series: readonly BarColumns[];
  readonly set: FeatureSet;
  readonly registry: ModelRegistry;
  readonly model: ModelSource;
  /** the strategy that trades the predictions (built fresh for each run) */
  readonly strategy: () => Strategy;
  /** the strategy on its own indicator signals (the baseline a session without a champion trades) */
  readonly indicatorStrategy: () => Strategy;
  /** the run's common settings (cash, seed, quotes, fills, risk) */
  readonly base: Omit<BacktestConfig, 'strategy' | 'predictions' | 'tradeFrom'>;
  readonly from: number;
  readonly to: number;
  readonly benchmark?: { readonly symbol: string; readonly series: readonly BarColumns[] };
  readonly trials?: number;
  readonly metrics: MetricsOptions;
  readonly log?: (line: string) => void;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ModelBacktest {
  readonly result: BacktestResult;
  readonly scoreboard: Scoreboard;
  readonly windows: readonly ScoredWindow[];
}

/**
 * The model backtest: predictions per window (batched, out of sample), the strategy trading them through the
 * kernel from the first window on, the baselines on the same bars from the same instant, the scoreboard.
 */
export async function runModelBacktest(o: ModelBacktestOptions): Promise<ModelBacktest> {
  const log = o.log ?? (() => undefined);
  const mats = featureMatrices(o.set, o.series);
  if (mats.length === 0)
    throw new ValidationError(
      '--feature-set',
      `${o.set.name} is built on ${o.set.baseTimeframe} bars; none of the loaded series has them (load 1m bars or pass --tf ${o.set.baseTimeframe})`,
    );
  const windows = await predictWindows({
    mats,
    set: o.set,
    registry: o.registry,
    from: o.from,
    to: o.to,
    model: o.model,
    log,
  });
  const label =
    o.model.kind === 'registered' ? o.model.ref : `walk-forward ${o.model.spec.kind} (${o.model.name})`;
  const port = windowsPort(`model:${label}`, windows);
  const tradeFrom = Math.min(...windows.map((w) => w.testFrom));
  const run = (strategy: Strategy, extra: Partial<BacktestConfig> = {}) =>
    runBacktest({ ...o.base, strategy, tradeFrom, ...extra });
  const result = run(o.strategy(), { predictions: port, onProgress: o.onProgress });
  const symbols = [...new Set(o.series.map((c) => c.symbol))];
  const passive = { risk: PASSIVE_LIMITS, flattenBeforeCloseMs: null };
  const baselines = [
    {
      name: 'buy-and-hold universe',
      description: `equal weight in ${symbols.length} symbol${symbols.length === 1 ? '' : 's'}, bought at the first daily close`,
      result: run(new BuyAndHoldStrategy({ weight: 0.99 / symbols.length }), passive),
    },
    ...(o.benchmark
      ? [
          {
            name: `buy-and-hold ${o.benchmark.symbol}`,
            description: `${o.benchmark.symbol} alone, bought at the first daily close`,
            result: runBacktest({
              ...o.base,
              series: o.benchmark.series,
              strategy: new BuyAndHoldStrategy({ weight: 0.99 }),
              tradeFrom,
              ...passive,
            }),
          },
        ]
      : []),
    {
      name: 'indicator-only',
      description:
        'the reference strategy on its own indicator signals (what a session trades without a champion)',
      result: run(o.indicatorStrategy()),
    },
  ];
  const horizonBars =
    o.model.kind === 'walk-forward' ? o.model.horizonBars : (windows[0]?.series[0]?.horizonBars ?? 1);
  const trials =
    o.trials ??
    (o.model.kind === 'walk-forward'
      ? await trialsOf(o.registry, o.model.name, o.model, o.set)
      : await trialsOf(o.registry, (await o.registry.get(windows[0]!.modelId))?.name ?? '', o.model, o.set));
  const scoreboard = buildScoreboard({
    model: label,
    strategy: result.strategy,
    featureSet: `${o.set.name}@${o.set.version}`,
    horizonBars,
    windows,
    realized: forwardReturns(mats, horizonBars),
    result,
    baselines,
    trials,
    metrics: o.metrics,
  });
  for (const line of scoreboard.verdict) log(line);
  return { result, scoreboard, windows };
}

/**
 * Limits for the passive baselines: a benchmark is fully invested and never stopped out, so the per-position,
 * count and loss limits are lifted (the strategy keeps its own).
 */
export const PASSIVE_LIMITS: Partial<RiskLimits> = {
  maxPositionFraction: 1,
  maxOpenRiskFraction: 1,
  maxCorrelatedFraction: 1,
  maxSectorFraction: 1,
  dailyLossLimit: 1,
  monthlyLossLimit: 1,
  quarterlyLossLimit: 1,
  positionCountTiers: [{ minEquity: 0, maxPositions: 100_000 }],
  pdtEquityThreshold: 0,
};

/** Durations as the CLI takes them: 30d, 6w, 1mo, 2y (a month is 30 days, a year 365). */
export function parseDuration(text: string, field: string): number {
  const m = /^(\d+(?:\.\d+)?)(d|w|mo|y)$/.exec(text.trim());
  if (!m) throw new ValidationError(field, `"${text}" is not a duration like 30d, 6w, 1mo or 2y`);
  const n = Number(m[1]);
  const unit = { d: 1, w: 7, mo: 30, y: 365 }[m[2] as 'd' | 'w' | 'mo' | 'y'];
  const ms = n * unit * 86_400_000;
  if (!(ms > 0)) throw new ValidationError(field, `"${text}" must be longer than zero`);
  return ms;
}
