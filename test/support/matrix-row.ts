import type { FeatureMatrix } from '../../src/features/matrix';

/** One row of a feature matrix as a Float32Array (a copy): what the online store holds for that bar. */
export function matrixRow(m: FeatureMatrix, row: number): Float32Array {
  if (row < 0 || row >= m.rows) throw new RangeError(`row ${row} is outside 0..${m.rows - 1}`);
  return m.values.slice(row * m.cols, (row + 1) * m.cols);
}
