/**
 * Feature importance, measured out of sample and tracked from model to model.
 *
 * - Permutation importance on the out-of-sample fold: each feature's column of the fold's test rows is shuffled
 *   (seeded), the fold's model (trained without those rows) scores them again, and the importance is the net
 *   dollar P&L lost (baseline − shuffled; the dollar-profit P&L of positions tanh(score) the gate uses). A feature
 *   the model leans on loses money when shuffled; one it ignores loses nothing; a negative value means shuffling
 *   helped (the feature hurt out of sample).
 * - Changes between consecutive models of a name: each model's importances as shares of its total (so gain and
 *   P&L scales compare), and per feature the change of share and of rank, biggest movers first.
 */
import { mulberry32 } from '../model/random';
import { dollarPnl } from '../models/objectives/dollar-profit';

export interface PermutationImportance {
  readonly method: 'oos-permutation';
  /** what is measured: net dollar P&L lost on the fold's test rows when the feature is shuffled */
  readonly metric: 'net-pnl-drop';
  readonly fold: number;
  readonly rows: number;
  readonly baselineNetPnl: number;
  readonly values: Record<string, number>;
}

export async function permutationImportance(o: {
  readonly X: Float32Array;
  readonly nrow: number;
  readonly names: readonly string[];
  readonly forwardReturn: ArrayLike<number>;
  readonly notional: ArrayLike<number>;
  readonly costRate: number;
  readonly fold: number;
  readonly seed?: number;
  /** scores rows (row-major nrow × names.length) with the fold's model */
  readonly score: (X: Float32Array, n: number) => ArrayLike<number> | Promise<ArrayLike<number>>;
}): Promise<PermutationImportance> {
  const ncol = o.names.length;
  const data = { forwardReturn: o.forwardReturn, notional: o.notional };
  const base = dollarPnl(await o.score(o.X, o.nrow), data, o.costRate).netPnl;
  const rnd = mulberry32(o.seed ?? 17);
  const values: Record<string, number> = {};
  const X = new Float32Array(o.X);
  const perm = new Int32Array(o.nrow);
  for (let j = 0; j < ncol; j++) {
    for (let i = 0; i < o.nrow; i++) perm[i] = i;
    for (let i = o.nrow - 1; i > 0; i--) {
      const k = Math.floor(rnd() * (i + 1));
      const t = perm[i]!;
      perm[i] = perm[k]!;
      perm[k] = t;
    }
    for (let i = 0; i < o.nrow; i++) X[i * ncol + j] = o.X[perm[i]! * ncol + j]!;
    const shuffled = dollarPnl(await o.score(X, o.nrow), data, o.costRate).netPnl;
    values[o.names[j]!] = base - shuffled;
    for (let i = 0; i < o.nrow; i++) X[i * ncol + j] = o.X[i * ncol + j]!;
  }
  return {
    method: 'oos-permutation',
    metric: 'net-pnl-drop',
    fold: o.fold,
    rows: o.nrow,
    baselineNetPnl: base,
    values,
  };
}

export interface ImportanceChange {
  readonly feature: string;
  /** share of the older model's total importance (null: not measured there) */
  readonly before: number | null;
  readonly after: number | null;
  readonly change: number;
  readonly rankBefore: number | null;
  readonly rankAfter: number | null;
}

/** Importances as shares of their total absolute value, with ranks (1 = most important). */
export function shares(
  values: Readonly<Record<string, number>>,
): Map<string, { share: number; rank: number }> {
  const entries = Object.entries(values).filter(([, v]) => Number.isFinite(v));
  const total = entries.reduce((s, [, v]) => s + Math.abs(v), 0);
  const sorted = [...entries].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const out = new Map<string, { share: number; rank: number }>();
  sorted.forEach(([k, v], i) => out.set(k, { share: total > 0 ? v / total : 0, rank: i + 1 }));
  return out;
}

/** Which features rose or fell from one model's importances to the next's, biggest absolute change first. */
export function importanceChanges(
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
): ImportanceChange[] {
  const a = shares(before);
  const b = shares(after);
  const names = [...new Set([...a.keys(), ...b.keys()])];
  return names
    .map((feature) => {
      const x = a.get(feature);
      const y = b.get(feature);
      return {
        feature,
        before: x?.share ?? null,
        after: y?.share ?? null,
        change: (y?.share ?? 0) - (x?.share ?? 0),
        rankBefore: x?.rank ?? null,
        rankAfter: y?.rank ?? null,
      };
    })
    .sort((p, q) => Math.abs(q.change) - Math.abs(p.change) || (p.feature < q.feature ? -1 : 1));
}
