import { ValidationError } from '../../model/errors';

export interface Fold {
  index: number;
  train: number[];
  test: number[];
  /** Training rows removed because their label window overlaps the test window. */
  purged: number;
  /** Training rows removed by the embargo after the test window. */
  embargoed: number;
  testFrom: number;
  testTo: number;
}

export interface SplitOptions {
  folds: number;
  /** Fraction of rows before the first test block that only ever train (walk-forward warm-up). */
  minTrainFraction?: number;
  /** Milliseconds after a test block during which rows may not be used for training (serial correlation). */
  embargoMs: number;
  /** Rolling window: keep at most this many training rows (most recent); default expanding. */
  maxTrainRows?: number;
}

/**
 * Walk-forward splits over rows sorted by decision time. Each test block is later than its training rows; a
 * training row is purged when its label window [decisionTs, labelEndTs] reaches into the test block, and rows
 * within `embargoMs` after an earlier test block are embargoed, so no label information crosses a boundary.
 */
export function walkForwardSplits(
  decisionTs: ArrayLike<number>,
  labelEndTs: ArrayLike<number>,
  opts: SplitOptions,
): Fold[] {
  const n = decisionTs.length;
  if (labelEndTs.length !== n)
    throw new ValidationError('labelEndTs', `length ${labelEndTs.length} differs from ${n}`);
  if (!Number.isInteger(opts.folds) || opts.folds < 1)
    throw new ValidationError('folds', `must be a positive integer, got ${opts.folds}`);
  for (let i = 1; i < n; i++) {
    if (decisionTs[i]! < decisionTs[i - 1]!)
      throw new ValidationError('decisionTs', `not sorted at row ${i}`);
  }
  const warm = Math.floor(n * (opts.minTrainFraction ?? 0.5));
  const blockSize = Math.floor((n - warm) / opts.folds);
  if (blockSize < 1 || warm < 1)
    throw new ValidationError('folds', `${opts.folds} folds do not fit in ${n} rows`);
  const folds: Fold[] = [];
  for (let f = 0; f < opts.folds; f++) {
    const start = warm + f * blockSize;
    const end = f === opts.folds - 1 ? n : start + blockSize;
    const testFrom = decisionTs[start]!;
    const testTo = labelEndTs[end - 1]!;
    const train: number[] = [];
    let purged = 0;
    let embargoed = 0;
    for (let i = 0; i < start; i++) {
      if (labelEndTs[i]! >= testFrom) {
        purged++;
        continue;
      }
      train.push(i);
    }
    // Embargo rows right after each earlier test block: in walk-forward they lie before this test block but
    // share serial correlation with the block that was just evaluated.
    const kept: number[] = [];
    const earlierEnds = folds.map((p) => p.testTo);
    for (const i of train) {
      const t = decisionTs[i]!;
      if (earlierEnds.some((e) => t > e && t <= e + opts.embargoMs)) embargoed++;
      else kept.push(i);
    }
    const windowed =
      opts.maxTrainRows && kept.length > opts.maxTrainRows
        ? kept.slice(kept.length - opts.maxTrainRows)
        : kept;
    const test: number[] = [];
    for (let i = start; i < end; i++) test.push(i);
    folds.push({ index: f, train: windowed, test, purged, embargoed, testFrom, testTo });
  }
  return folds;
}

/**
 * Purged k-fold (López de Prado): test blocks anywhere in time; training rows after a test block are embargoed.
 * Used for cross-checks where walk-forward would leave too little data.
 */
export function purgedKFold(
  decisionTs: ArrayLike<number>,
  labelEndTs: ArrayLike<number>,
  k: number,
  embargoMs: number,
): Fold[] {
  const n = decisionTs.length;
  const size = Math.floor(n / k);
  if (size < 1) throw new ValidationError('k', `${k} folds do not fit in ${n} rows`);
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const start = f * size;
    const end = f === k - 1 ? n : start + size;
    const testFrom = decisionTs[start]!;
    const testTo = labelEndTs[end - 1]!;
    const train: number[] = [];
    let purged = 0,
      embargoed = 0;
    for (let i = 0; i < n; i++) {
      if (i >= start && i < end) continue;
      if (decisionTs[i]! <= testTo && labelEndTs[i]! >= testFrom) purged++;
      else if (decisionTs[i]! > testTo && decisionTs[i]! <= testTo + embargoMs) embargoed++;
      else train.push(i);
    }
    const test: number[] = [];
    for (let i = start; i < end; i++) test.push(i);
    folds.push({ index: f, train, test, purged, embargoed, testFrom, testTo });
  }
  return folds;
}
