/**
 * Population stability index (PSI): how far a sample's distribution moved from a reference one, over the
 * reference's quantile bins. PSI = Σ (a − e) · ln(a / e) over the bins, with e the reference share and a the
 * sample's share of a bin (missing values form a bin of their own). Conventional reading: < 0.1 stable,
 * 0.1–0.25 a moderate shift, > 0.25 a significant one.
 *
 * Pure and deterministic (no I/O): the drift monitor computes it in an activity, the reference bins are computed
 * once from the training rows (features) and the out-of-sample scores (predictions) and kept in the registry.
 */

/** Reference bins: interior cut points (ascending) and the reference share of each bin and of missing values. */
export interface ReferenceBins {
  /** cut points; bin k holds x with edges[k-1] <= x < edges[k] (first and last bins are open) */
  readonly edges: readonly number[];
  /** share of the reference in each of the edges.length + 1 bins (finite values), summing to 1 − missing */
  readonly props: readonly number[];
  /** share of the reference that was missing (NaN) */
  readonly missing: number;
  /** reference sample size */
  readonly n: number;
}

/** Shares below this are floored when a bin is empty on one side: ln(0) is not a distance. */
export const PSI_EPSILON = 1e-4;

/** The bin of x: the number of edges at or below it (binary search). */
export function binOf(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Quantile bins of a reference sample (`bins` equal-count bins where ties allow; tied cut points merge). */
export function referenceBins(values: ArrayLike<number>, bins = 10): ReferenceBins {
  if (!(Number.isInteger(bins) && bins >= 2)) throw new RangeError(`bins: ${bins} must be an integer >= 2`);
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) finite.push(v);
  }
  finite.sort((a, b) => a - b);
  const edges: number[] = [];
  for (let k = 1; k < bins && finite.length > 0; k++) {
    const q = finite[Math.min(finite.length - 1, Math.floor((k * finite.length) / bins))]!;
    // a cut equal to the smallest value would leave the first bin empty by construction
    if (q > finite[0]! && (edges.length === 0 || q > edges[edges.length - 1]!)) edges.push(q);
  }
  const counts = shares(values, edges);
  return { edges, props: counts.props, missing: counts.missing, n: values.length };
}

/** Shares of a sample in the given bins, and of its missing values. */
export function shares(
  values: ArrayLike<number>,
  edges: readonly number[],
): { props: number[]; missing: number; n: number } {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) missing++;
    else counts[binOf(edges, v)]!++;
  }
  const n = values.length;
  return { props: counts.map((c) => (n > 0 ? c / n : 0)), missing: n > 0 ? missing / n : 0, n };
}

/**
 * PSI of a sample against reference bins; NaN when the sample is empty (no evidence, not "no drift").
 * Empty bins on either side are floored at PSI_EPSILON.
 */
export function psi(ref: ReferenceBins, values: ArrayLike<number>): number {
  if (values.length === 0 || ref.n === 0) return NaN;
  const s = shares(values, ref.edges);
  let out = 0;
  const term = (e: number, a: number) => {
    if (e === 0 && a === 0) return 0;
    const ee = Math.max(e, PSI_EPSILON);
    const aa = Math.max(a, PSI_EPSILON);
    return (aa - ee) * Math.log(aa / ee);
  };
  for (let k = 0; k < s.props.length; k++) out += term(ref.props[k] ?? 0, s.props[k]!);
  out += term(ref.missing, s.missing);
  return out;
}

/** Reference bins of every column of a row-major matrix (e.g. a model's training rows). */
export function columnBins(
  X: ArrayLike<number>,
  nrow: number,
  names: readonly string[],
  bins = 10,
): Record<string, ReferenceBins> {
  const ncol = names.length;
  const out: Record<string, ReferenceBins> = {};
  const col = new Float64Array(nrow);
  names.forEach((name, j) => {
    for (let r = 0; r < nrow; r++) col[r] = X[r * ncol + j]!;
    out[name] = referenceBins(col, bins);
  });
  return out;
}

/** PSI of every column of a row-major sample against the reference bins of the same names. */
export function columnPsi(
  ref: Readonly<Record<string, ReferenceBins>>,
  X: ArrayLike<number>,
  nrow: number,
  names: readonly string[],
): Record<string, number> {
  const ncol = names.length;
  const out: Record<string, number> = {};
  const col = new Float64Array(nrow);
  names.forEach((name, j) => {
    const r = ref[name];
    if (!r) return;
    for (let i = 0; i < nrow; i++) col[i] = X[i * ncol + j]!;
    out[name] = psi(r, col);
  });
  return out;
}
