import { ValidationError } from '../../model/errors';
import type { Dataset } from '../dataset';
import type { WindowData } from './quantile-net';

/**
 * Windows of consecutive feature rows for the sequence models. Row i ends a window when the `window` rows ending at
 * i are exactly one bar apart (a gap in the data, or a row the dataset dropped, ends the run); the window is the
 * rows' raw features (NaN kept: the net standardises and fills). Serving hands the model the same shape: the last
 * `window` feature rows of the bar series, the last one at the decision time.
 */
export function windowEndRows(decisionTs: ArrayLike<number>, window: number, barMs: number): Uint8Array {
  const n = decisionTs.length;
  const ok = new Uint8Array(n);
  let run = 0;
  for (let i = 0; i < n; i++) {
    run = i > 0 && decisionTs[i]! - decisionTs[i - 1]! === barMs ? run + 1 : 1;
    ok[i] = run >= window ? 1 : 0;
  }
  return ok;
}

/** Raw windows [rows.length, window, ncol] ending at each of `rows`. */
export function gatherWindows(
  ds: Pick<Dataset, 'X' | 'ncol' | 'nrow'>,
  rows: ArrayLike<number>,
  window: number,
): Float32Array {
  const width = window * ds.ncol;
  const out = new Float32Array(rows.length * width);
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    if (r - window + 1 < 0 || r >= ds.nrow)
      throw new ValidationError('rows', `row ${r} has no ${window}-row window`);
    out.set(ds.X.subarray((r - window + 1) * ds.ncol, (r + 1) * ds.ncol), k * width);
  }
  return out;
}

/**
 * Training windows: targets are the forward returns in standard deviations of these rows, weights the dollar
 * size of each move (|return| × notional) normalised to mean 1, so big moves the sizing rule would trade count most.
 */
export function windowData(
  ds: Pick<Dataset, 'X' | 'ncol' | 'nrow' | 'forwardReturn' | 'notional'>,
  rows: ArrayLike<number>,
  window: number,
): WindowData & { labelScale: number } {
  const n = rows.length;
  let s = 0,
    q = 0,
    wsum = 0;
  for (let k = 0; k < n; k++) {
    const r = ds.forwardReturn[rows[k]!]!;
    s += r;
    q += r * r;
    wsum += Math.abs(r) * ds.notional[rows[k]!]!;
  }
  const labelScale = n > 1 ? Math.sqrt(Math.max(1e-20, q / n - (s / n) ** 2)) : 1;
  const wmean = wsum / Math.max(1, n) || 1;
  return {
    n,
    window,
    features: ds.ncol,
    X: gatherWindows(ds, rows, window),
    target: Float32Array.from({ length: n }, (_, k) => ds.forwardReturn[rows[k]!]! / labelScale),
    weight: Float32Array.from(
      { length: n },
      (_, k) => (Math.abs(ds.forwardReturn[rows[k]!]!) * ds.notional[rows[k]!]!) / wmean,
    ),
    labelScale,
  };
}
