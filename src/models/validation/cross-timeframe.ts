import { buildDataset, sliceRows, type Dataset, type MinuteBars } from '../dataset';
import type { XGBoostSpec } from '../spec';
import { predictScores, spearman, trainModel } from './evaluate';
import { walkForwardSplits } from './walk-forward';

export interface CrossTimeframeResult {
  horizons: number[];
  /** ic[a][b]: model trained on horizon a's labels, scored against horizon b's labels, out of sample. */
  ic: number[][];
  rows: number;
  /** True when every off-diagonal IC has the sign of its row's diagonal (the edge is not a one-horizon artefact). */
  consistent: boolean;
}

/**
 * Cross-timeframe validation: the same features at the same decision times, labels at several horizons
 * (e.g. 5m, 15m, 1h). A model trained for one horizon is scored out of sample against every horizon on the same
 * purged walk-forward folds; a real edge degrades smoothly across horizons, an overfit one flips sign.
 */
export async function crossTimeframeValidation(
  bars: MinuteBars,
  spec: XGBoostSpec,
  opts: {
    horizons?: number[];
    folds?: number;
    embargoMinutes?: number;
    maxRows?: number;
    /** Extra XGBoost parameters for every fit (the node's `device`). */
    params?: Record<string, string | number | boolean>;
  } = {},
): Promise<CrossTimeframeResult> {
  const horizons = opts.horizons ?? [5, 15, 60];
  const sets = horizons.map((h) => buildDataset(bars, { horizonMinutes: h }));
  // Keep decision times present for every horizon, so all labels refer to the same rows.
  const common = sets.map((s) => new Set(s.decisionTs));
  let times = [...sets[0]!.decisionTs].filter((t) => common.every((c) => c.has(t)));
  if (opts.maxRows && times.length > opts.maxRows) times = times.slice(times.length - opts.maxRows);
  const aligned: Dataset[] = sets.map((s) => {
    const index = new Map<number, number>();
    s.decisionTs.forEach((t, i) => index.set(t, i));
    const rows = times.map((t) => index.get(t)!);
    const r = sliceRows(s, rows);
    return {
      ...s,
      ...r,
      decisionTs: Float64Array.from(rows, (i) => s.decisionTs[i]!),
      labelEndTs: Float64Array.from(rows, (i) => s.labelEndTs[i]!),
    };
  });
  // Purge with the longest horizon's label windows: no fold may train on a label that overlaps any test label.
  const longest = aligned[aligned.length - 1]!;
  const folds = walkForwardSplits(longest.decisionTs, longest.labelEndTs, {
    folds: opts.folds ?? 3,
    embargoMs: (opts.embargoMinutes ?? 60) * 60_000,
  });
  const testRows = folds.flatMap((f) => f.test);
  const matrix: number[][] = [];
  for (const trainSet of aligned) {
    const scores: number[] = [];
    for (const f of folds) {
      const model = await trainModel(spec, sliceRows(trainSet, f.train), { params: opts.params });
      try {
        scores.push(...predictScores(model, sliceRows(trainSet, f.test)));
      } finally {
        model.booster.free();
      }
    }
    matrix.push(
      aligned.map((labelSet) =>
        spearman(
          scores,
          testRows.map((r) => labelSet.forwardReturn[r]!),
        ),
      ),
    );
  }
  return { horizons, ic: matrix, rows: times.length, consistent: isConsistent(matrix) };
}

/** Every off-diagonal IC has its row's diagonal sign (zeros count as consistent). */
export function isConsistent(ic: number[][]): boolean {
  return ic.every((row, a) =>
    row.every((v, b) => a === b || v === 0 || row[a] === 0 || Math.sign(v) === Math.sign(row[a]!)),
  );
}
