import type { Dataset } from '../dataset';
import { sliceRows } from '../dataset';
import { dollarPnl, DollarProfitObjective, type PnlStats } from '../objectives/dollar-profit';
import type { ModelSpec } from '../spec';
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
  spec: ModelSpec,
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

/** Trains on each fold's training rows and scores its test rows: every number here is out of sample. */
export async function evaluateWalkForward(
  ds: Dataset,
  spec: ModelSpec,
  folds: Fold[],
  opts: {
    onFold?: (m: FoldMetrics) => void | Promise<void>;
    onRound?: (fold: number, round: number) => void;
    labels?: Float64Array;
  } = {},
): Promise<WalkForwardResult> {
  const source: Dataset = opts.labels ? { ...ds, forwardReturn: opts.labels } : ds;
  const out: FoldMetrics[] = [];
  const oosRows: number[] = [];
  const oosScores: number[] = [];
  for (const fold of folds) {
    const trainRows = sliceRows(source, fold.train);
    const testRows = sliceRows(source, fold.test);
    const onRound = opts.onRound;
    const model = await trainModel(
      spec,
      trainRows,
      onRound ? { onRound: (s) => onRound(fold.index, s.round) } : {},
    );
    let scores: Float32Array;
    try {
      scores = predictScores(model, testRows);
    } finally {
      model.booster.free();
    }
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
