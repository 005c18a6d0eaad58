import { ValidationError } from '../../model/errors';
import type { Dataset } from '../dataset';
import { datasetBarMs, sliceRows } from '../dataset';
import { trainNet } from '../nn/nets';
import { gatherWindows, windowEndRows } from '../nn/windows';
import { dollarPnl, DollarProfitObjective, type PnlStats } from '../objectives/dollar-profit';
import type { ModelSpec, NeuralSpec, XGBoostSpec } from '../spec';
import { DMatrix, train, type Booster, type TrainState } from '../xgboost';
import type { Fold } from './walk-forward';

type Rows = Pick<Dataset, 'X' | 'forwardReturn' | 'notional' | 'nrow' | 'ncol'>;

export interface TrainedModel {
  booster: Booster;
  state: TrainState;
  /** Squared-error models predict return / labelScale; the score (margin) is comparable across objectives. */
  labelScale: number;
}

/** Trains one model on rows; `onRound` receives a checkpoint after every boosting round. */
export async function trainModel(
  spec: XGBoostSpec,
  rows: Rows,
  opts: {
    resume?: { model: Buffer; state: TrainState };
    onRound?: (state: TrainState, booster: Booster) => void | Promise<void>;
    params?: Record<string, string | number | boolean>;
  } = {},
): Promise<TrainedModel> {
  const labelScale = spec.objective === 'squared_error' ? std(rows.forwardReturn) || 1 : 1;
  const label = Float32Array.from(rows.forwardReturn, (r) => r / labelScale);
  const dtrain = DMatrix.fromFloat32(rows.X, rows.nrow, rows.ncol, { label });
  try {
    const objective =
      spec.objective === 'dollar_profit'
        ? new DollarProfitObjective(rows, { costRate: spec.costRate, positionPenalty: spec.positionPenalty })
            .objective
        : undefined;
    const params = {
      ...spec.params,
      ...opts.params,
      ...(objective ? {} : { objective: 'reg:squarederror', base_score: 0 }),
    };
    const r = await train({
      params,
      dtrain,
      rounds: spec.rounds,
      objective,
      resume: opts.resume,
      onRound: opts.onRound,
    });
    return { booster: r.booster, state: r.state, labelScale };
  } finally {
    dtrain.free();
  }
}

export function predictScores(model: TrainedModel, rows: Rows): Float32Array {
  const d = DMatrix.fromFloat32(rows.X, rows.nrow, rows.ncol);
  try {
    return model.booster.predict(d, { type: 'margin' });
  } finally {
    d.free();
  }
}

export interface FoldMetrics extends PnlStats {
  fold: number;
  trainRows: number;
  testRows: number;
  /** Spearman rank correlation of score with forward return (information coefficient). */
  ic: number;
}

export interface WalkForwardResult {
  folds: FoldMetrics[];
  /** Out-of-sample scores for every test row, in fold order, with the row index they belong to. */
  oos: { rows: number[]; scores: number[] };
  summary: PnlStats & { ic: number };
}

export interface EvaluateOptions {
  onFold?: (m: FoldMetrics) => void | Promise<void>;
  /** Progress inside a fold: boosting round or epoch (heartbeats). */
  onRound?: (fold: number, round: number) => void;
  /** After every neural-net mini-batch (heartbeats inside long epochs). */
  onBatch?: () => void;
  /** Replace the labels (the shuffled-label control). */
  labels?: Float64Array;
  /** Extra XGBoost parameters for every fold's fit (the node's `device`, e.g. cuda). */
  params?: Record<string, string | number | boolean>;
  /** XGBoost: receives each fold's model (JSON) before it is freed (the fold-spread intervals use them). */
  keepFoldModel?: (fold: number, modelJson: Buffer) => void;
}

/**
 * Trains on each fold's training rows and scores its test rows: every number here is out of sample. A sequence
 * model trains on the fold's rows that end a full window; every test row must end one (callers that compare
 * models restrict the test rows to those the longest window allows, so both score the same rows).
 */
export async function evaluateWalkForward(
  ds: Dataset,
  spec: ModelSpec,
  folds: Fold[],
  opts: EvaluateOptions = {},
): Promise<WalkForwardResult> {
  const source: Dataset = opts.labels ? { ...ds, forwardReturn: opts.labels } : ds;
  const out: FoldMetrics[] = [];
  const oosRows: number[] = [];
  const oosScores: number[] = [];
  for (const fold of folds) {
    const testRows = sliceRows(source, fold.test);
    const scores =
      spec.kind === 'xgboost'
        ? await xgboostFoldScores(source, spec, fold, opts)
        : await netFoldScores(source, spec, fold, opts);
    const m: FoldMetrics = {
      fold: fold.index,
      trainRows: fold.train.length,
      testRows: fold.test.length,
      ...dollarPnl(scores, testRows, spec.costRate),
      ic: spearman(scores, testRows.forwardReturn),
    };
    out.push(m);
    oosRows.push(...fold.test);
    oosScores.push(...scores);
    if (opts.onFold) await opts.onFold(m);
  }
  const all = sliceRows(source, oosRows);
  return {
    folds: out,
    oos: { rows: oosRows, scores: oosScores },
    summary: { ...dollarPnl(oosScores, all, spec.costRate), ic: spearman(oosScores, all.forwardReturn) },
  };
}

async function xgboostFoldScores(
  ds: Dataset,
  spec: XGBoostSpec,
  fold: Fold,
  opts: EvaluateOptions,
): Promise<Float32Array> {
  const onRound = opts.onRound;
  const model = await trainModel(spec, sliceRows(ds, fold.train), {
    params: opts.params,
    ...(onRound ? { onRound: (s: TrainState) => onRound(fold.index, s.round) } : {}),
  });
  try {
    opts.keepFoldModel?.(fold.index, model.booster.toBuffer('json'));
    return predictScores(model, sliceRows(ds, fold.test));
  } finally {
    model.booster.free();
  }
}

/** The median quantile of a net trained on the fold's windowable training rows. */
async function netFoldScores(
  ds: Dataset,
  spec: NeuralSpec,
  fold: Fold,
  opts: EvaluateOptions,
): Promise<Float32Array> {
  const ok = windowEndRows(ds.decisionTs, spec.window, datasetBarMs(ds.featureSet));
  const bad = fold.test.find((r) => !ok[r]);
  if (bad !== undefined)
    throw new ValidationError(
      'folds',
      `test row ${bad} of fold ${fold.index} has no ${spec.window}-row window; restrict the test rows first`,
    );
  const train = fold.train.filter((r) => ok[r]);
  const onRound = opts.onRound;
  const { net } = await trainNet(spec, ds, train, {
    onEpoch: onRound ? (e) => onRound(fold.index, e + 1) : undefined,
    onBatch: opts.onBatch,
  });
  try {
    const q = net.predict(gatherWindows(ds, fold.test, spec.window), fold.test.length);
    return Float32Array.from({ length: fold.test.length }, (_, i) => q[i * 3 + 1]!);
  } finally {
    net.dispose();
  }
}

/** Folds whose test rows keep only `eligible` rows (e.g. those a sequence model's window allows). */
export function restrictTestRows(folds: Fold[], eligible: ArrayLike<number>): Fold[] {
  return folds.map((f) => ({ ...f, test: f.test.filter((r) => eligible[r]) }));
}

export function std(xs: ArrayLike<number>): number {
  let s = 0,
    q = 0;
  for (let i = 0; i < xs.length; i++) {
    s += xs[i]!;
    q += xs[i]! * xs[i]!;
  }
  const m = s / xs.length;
  return Math.sqrt(Math.max(0, q / xs.length - m * m));
}

function ranks(xs: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: xs.length }, (_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
  const r = new Float64Array(xs.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && xs[idx[j + 1]!] === xs[idx[i]!]) j++;
    for (let k = i; k <= j; k++) r[idx[k]!] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let sa = 0,
    sb = 0;
  for (let i = 0; i < n; i++) {
    sa += a[i]!;
    sb += b[i]!;
  }
  const ma = sa / n,
    mb = sb / n;
  let num = 0,
    da = 0,
    db = 0;
  for (let i = 0; i < n; i++) {
    num += (a[i]! - ma) * (b[i]! - mb);
    da += (a[i]! - ma) ** 2;
    db += (b[i]! - mb) ** 2;
  }
  return da > 0 && db > 0 ? num / Math.sqrt(da * db) : 0;
}

export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(ranks(a), ranks(b));
}
