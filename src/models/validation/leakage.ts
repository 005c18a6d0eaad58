import { createHash } from 'node:crypto';
import type { Dataset } from '../dataset';
import type { ModelSpec } from '../spec';
import { evaluateWalkForward, spearman } from './evaluate';
import type { Fold } from './walk-forward';

export interface LeakageFinding {
  feature: string;
  /** Out-of-sample rank correlation of the feature with the label on the test rows. */
  ic: number;
}

/**
 * Flags features whose out-of-sample rank correlation with the label is implausibly strong for a market
 * feature. Real minute features sit near |IC| 0.01–0.1; a feature computed from the label (a canary, or an
 * off-by-one join onto future bars) sits near 1.
 */
export function detectLeakyFeatures(ds: Dataset, folds: Fold[], maxAbsIc = 0.3): LeakageFinding[] {
  const rows = folds.flatMap((f) => f.test);
  const label = rows.map((r) => ds.forwardReturn[r]!);
  const findings: LeakageFinding[] = [];
  ds.featureNames.forEach((name, j) => {
    const xs: number[] = [],
      ys: number[] = [];
    rows.forEach((r, k) => {
      const v = ds.X[r * ds.ncol + j]!;
      if (!Number.isNaN(v)) {
        xs.push(v);
        ys.push(label[k]!);
      }
    });
    const ic = xs.length > 2 ? spearman(xs, ys) : 0;
    if (Math.abs(ic) > maxAbsIc) findings.push({ feature: name, ic });
  });
  return findings;
}

export interface ShuffleControlResult {
  ic: number;
  hitRate: number;
  trades: number;
  /** |IC| / (1/√n): above ~3 the model found structure in labels that carry none — the pipeline leaks. */
  icZ: number;
  /** Hit rate's distance from 0.5 in standard errors. */
  hitZ: number;
  atChance: boolean;
}

/** Deterministic Fisher–Yates with a small LCG so a control run is reproducible. */
export function shuffled(xs: Float64Array, seed: number): Float64Array {
  const out = Float64Array.from(xs);
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Shuffled-label control: retrain on permuted labels through the same walk-forward pipeline; an honest pipeline
 * scores at chance (IC ≈ 0, hit rate ≈ 50%, within 3 standard errors).
 */
export async function shuffledLabelControl(
  ds: Dataset,
  spec: ModelSpec,
  folds: Fold[],
  seed = 1,
): Promise<ShuffleControlResult> {
  const labels = shuffled(ds.forwardReturn, seed);
  const wf = await evaluateWalkForward(ds, spec, folds, { labels });
  const n = wf.oos.rows.length;
  const ic = spearman(
    wf.oos.scores,
    wf.oos.rows.map((r) => labels[r]!),
  );
  const trades = wf.summary.trades;
  const hitRate = wf.summary.hitRate;
  const icZ = Math.abs(ic) * Math.sqrt(n);
  const hitZ = trades > 0 ? Math.abs(hitRate - 0.5) / (0.5 / Math.sqrt(trades)) : 0;
  return { ic, hitRate, trades, icZ, hitZ, atChance: icZ < 3 && hitZ < 3 };
}

export const LEAKAGE_CANARY_FEATURE = 'canary_future_return';

/**
 * The dataset plus a canary column built from the future: each row's own label (its forward return) with a
 * little deterministic noise. A pipeline that does not catch it would train on the future; `detectLeakyFeatures`
 * must flag it, and the retrain gate must refuse the model. `labels` lets the shuffled-label control plant it.
 */
export function withLeakageCanary(ds: Dataset, labels: Float64Array = ds.forwardReturn): Dataset {
  const ncol = ds.ncol + 1;
  const X = new Float32Array(ds.nrow * ncol);
  for (let i = 0; i < ds.nrow; i++) {
    X.set(ds.X.subarray(i * ds.ncol, (i + 1) * ds.ncol), i * ncol);
    X[i * ncol + ds.ncol] = labels[i]! + 1e-5 * Math.sin(i * 12.9898);
  }
  const dataHash = createHash('sha256')
    .update(Buffer.from(X.buffer))
    .update(Buffer.from(ds.forwardReturn.buffer, ds.forwardReturn.byteOffset, ds.forwardReturn.byteLength))
    .digest('hex');
  return { ...ds, ncol, X, featureNames: [...ds.featureNames, LEAKAGE_CANARY_FEATURE], dataHash };
}
