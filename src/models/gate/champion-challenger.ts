/**
 * Champion/challenger gate. Both models are evaluated on the same walk-forward folds (same test rows), so their
 * per-row net P&L can be paired. Rows are summed into non-overlapping blocks (at least the label horizon long) to
 * remove the overlap-induced autocorrelation, and a one-sided paired t-test asks whether the challenger's block
 * P&L exceeds the champion's. Promote only when p < alpha and the mean difference is positive. Without a champion the
 * baseline is staying flat (zero P&L), tested the same way.
 */
export interface GateInput {
  challengerPnl: ArrayLike<number>;
  championPnl: ArrayLike<number> | null;
  blockSize: number;
  alpha?: number;
}

export interface GateDecision {
  promote: boolean;
  test: 'one-sided paired t-test on block-summed net P&L differences';
  blocks: number;
  meanDiff: number;
  tStat: number;
  pValue: number;
  alpha: number;
  reason: string;
}

export function championChallengerGate(input: GateInput): GateDecision {
  const alpha = input.alpha ?? 0.05;
  const test = 'one-sided paired t-test on block-summed net P&L differences' as const;
  // With no champion the incumbent is staying flat: no positions, zero P&L on every row. A first model must beat
  // that by the same test, so a model that loses money out of sample never becomes the one that trades.
  const flat = !input.championPnl;
  const a = input.challengerPnl,
    b = input.championPnl ?? new Float64Array(a.length);
  if (a.length !== b.length)
    throw new Error(`gate: challenger has ${a.length} OOS rows, champion ${b.length}: not the same folds`);
  const diffs: number[] = [];
  for (let i = 0; i + input.blockSize <= a.length; i += input.blockSize) {
    let d = 0;
    for (let k = i; k < i + input.blockSize; k++) d += a[k]! - b[k]!;
    diffs.push(d);
  }
  const n = diffs.length;
  const mean = diffs.reduce((s, x) => s + x, 0) / Math.max(1, n);
  const variance = n > 1 ? diffs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) : 0;
  const se = Math.sqrt(variance / Math.max(1, n));
  const tStat = se > 0 ? mean / se : mean > 0 ? Infinity : mean < 0 ? -Infinity : 0;
  const pValue = n > 1 ? 1 - studentTCdf(tStat, n - 1) : 1;
  const promote = n > 1 && mean > 0 && pValue < alpha;
  const versus = flat ? 'no champion yet, so the baseline is staying flat (zero P&L); ' : '';
  const reason =
    versus +
    (promote
      ? `challenger beats ${flat ? 'the flat baseline' : 'champion'}: mean block P&L difference ${mean.toFixed(2)} over ${n} blocks, t=${tStat.toFixed(2)}, p=${pValue.toFixed(4)} < ${alpha}`
      : `challenger not better: mean block P&L difference ${mean.toFixed(2)} over ${n} blocks, t=${tStat.toFixed(2)}, p=${pValue.toFixed(4)} >= ${alpha} or not positive`);
  return { promote, test, blocks: n, meanDiff: mean, tStat, pValue, alpha, reason };
}

/** Student-t CDF through the regularised incomplete beta function. */
export function studentTCdf(t: number, df: number): number {
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const x = df / (df + t * t);
  const tail = 0.5 * incompleteBeta(x, df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

function logGamma(z: number): number {
  const g = [
    676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  z -= 1;
  let x = 0.99999999999980993;
  for (let i = 0; i < 8; i++) x += g[i]! / (z + i + 1);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}

function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  // Lentz's continued fraction.
  let f = 1,
    c = 1,
    d = 0;
  for (let i = 0; i <= 300; i++) {
    const m = i >> 1;
    let num: number;
    if (i === 0) num = 1;
    else if (i % 2 === 0) num = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    else num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    if (Math.abs(d) < 1e-30) d = 1e-30;
    d = 1 / d;
    c = 1 + num / c;
    if (Math.abs(c) < 1e-30) c = 1e-30;
    const cd = c * d;
    f *= cd;
    if (Math.abs(1 - cd) < 1e-12) break;
  }
  return (front * (f - 1)) / a;
}

/** Per-row net dollar P&L of positions tanh(score) (same cost model as the objective). */
export function rowPnl(
  scores: ArrayLike<number>,
  forwardReturn: ArrayLike<number>,
  notional: ArrayLike<number>,
  costRate: number,
): Float64Array {
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const p = Math.tanh(scores[i]!);
    out[i] = p * notional[i]! * forwardReturn[i]! - costRate * notional[i]! * Math.abs(p);
  }
  return out;
}
