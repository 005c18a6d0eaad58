/**
 * Training labels for the base timeframe. Unlike features these look forward on purpose; a row's label
 * is NaN when its horizon runs past the data, so a model never trains on a truncated future.
 *
 * - fwd_<h>: log return from the row's close to the close h bars later (gross).
 * - fwdNet_<h>: what a trade in the right direction keeps after the estimated round-trip cost c:
 *   sign(r)·max(|r| − c, 0). c = costBps/1e4 + the relative spread at entry when quotes are given.
 * - tb_<h> (optional): triple-barrier label +1 / −1 / 0: which of close·(1 + up·σ) and close·(1 − dn·σ)
 *   a later close reaches first within h bars (σ = 20-bar close-to-close volatility known at the row);
 *   at the vertical barrier, the sign of the net return (0 if it does not cover the cost).
 */
import { realizedVolBatch } from '../indicators/volatility';
import type { TimeframeBars } from './compute';
import type { LabelSpec } from './definition';

export interface LabelMatrix {
  readonly names: readonly string[];
  readonly rows: number;
  readonly cols: number;
  /** Row-major, like FeatureMatrix.values. */
  readonly values: Float32Array;
}

export function labelNames(spec: LabelSpec): string[] {
  const names: string[] = [];
  for (const h of spec.horizons) names.push(`fwd_${h}`, `fwdNet_${h}`);
  if (spec.tripleBarrier) names.push(`tb_${spec.tripleBarrier.horizon}`);
  return names;
}

export function buildLabels(base: TimeframeBars, spec: LabelSpec): LabelMatrix {
  const close = base.close;
  const n = close.length;
  const names = labelNames(spec);
  const cols = names.length;
  const values = new Float32Array(n * cols).fill(NaN);
  const cost = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let c = spec.costBps / 1e4;
    if (base.bid && base.ask) {
      const bid = base.bid[i]!;
      const ask = base.ask[i]!;
      if (bid > 0 && ask >= bid) c += (ask - bid) / ((ask + bid) / 2);
    }
    cost[i] = c;
  }
  let k = 0;
  for (const h of spec.horizons) {
    for (let i = 0; i + h < n; i++) {
      const r = Math.log(close[i + h]! / close[i]!);
      values[i * cols + k] = r;
      values[i * cols + k + 1] = Math.sign(r) * Math.max(Math.abs(r) - cost[i]!, 0);
    }
    k += 2;
  }
  const tb = spec.tripleBarrier;
  if (tb) {
    const sigma = realizedVolBatch('closeToClose', base.open, base.high, base.low, close, 20);
    for (let i = 0; i + tb.horizon < n; i++) {
      const s = sigma[i]!;
      if (Number.isNaN(s)) continue;
      const up = close[i]! * (1 + tb.upper * s);
      const dn = close[i]! * (1 - tb.lower * s);
      let label = NaN;
      for (let j = i + 1; j <= i + tb.horizon; j++) {
        if (close[j]! >= up) {
          label = 1;
          break;
        }
        if (close[j]! <= dn) {
          label = -1;
          break;
        }
      }
      if (Number.isNaN(label)) {
        const r = Math.log(close[i + tb.horizon]! / close[i]!);
        label = Math.abs(r) > cost[i]! ? Math.sign(r) : 0;
      }
      values[i * cols + k] = label;
    }
  }
  return { names, rows: n, cols, values };
}
