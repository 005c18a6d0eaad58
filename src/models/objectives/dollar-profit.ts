import { ValidationError } from '../../model/errors';
import type { GradHess } from '../xgboost/train';

/**
 * Fixed-fractional sizing: risk `riskFraction` of equity to a stop `stopDistance` (a fraction of price) away,
 * capped at `maxPositionFraction` of equity. This is the dollar notional a full-conviction signal would trade.
 */
export function sizingNotional(
  equity: number,
  stopDistance: number,
  riskFraction = 0.02,
  maxPositionFraction = 0.05,
): number {
  if (!(equity > 0)) throw new ValidationError('equity', `must be > 0, got ${equity}`);
  if (!(stopDistance > 0)) return equity * maxPositionFraction;
  return Math.min((equity * riskFraction) / stopDistance, equity * maxPositionFraction);
}

export interface DollarProfitData {
  /** Forward return over the holding period, as a fraction (0.001 = 10 bp). */
  forwardReturn: ArrayLike<number>;
  /** Dollar notional the sizing rule would trade at full conviction. */
  notional: ArrayLike<number>;
}

export interface DollarProfitOptions {
  /** Round-trip cost as a fraction of traded notional (spread + slippage + fees), e.g. 0.0005. */
  costRate: number;
  /** Quadratic penalty on position size (risk aversion), per unit notional. */
  positionPenalty: number;
  /** Smoothing of |position| in the cost term so the loss is twice differentiable at 0. */
  smoothing?: number;
  /** Floor for the Hessian, relative to the notional scale: keeps Newton steps finite and positive. */
  minHessian?: number;
}

/**
 * The "dollar profit" objective. The score s maps to a position p = tanh(s) in [-1, 1]; each sample's net P&L is
 * p × notional × forwardReturn − costRate × notional × |p|; the loss is −net P&L + positionPenalty × notional × p².
 * Dollars are divided by the mean notional so the gradient scale does not depend on account size.
 */
export class DollarProfitObjective {
  readonly scale: number;
  private readonly r: Float64Array;
  private readonly n: Float64Array;
  private readonly delta: number;
  private readonly minHess: number;

  constructor(
    data: DollarProfitData,
    readonly opts: DollarProfitOptions,
  ) {
    if (data.forwardReturn.length !== data.notional.length) {
      throw new ValidationError(
        'forwardReturn',
        `length ${data.forwardReturn.length} differs from notional length ${data.notional.length}`,
      );
    }
    if (!(opts.costRate >= 0)) throw new ValidationError('costRate', `must be >= 0, got ${opts.costRate}`);
    if (!(opts.positionPenalty >= 0))
      throw new ValidationError('positionPenalty', `must be >= 0, got ${opts.positionPenalty}`);
    this.r = Float64Array.from(data.forwardReturn);
    this.n = Float64Array.from(data.notional);
    let sum = 0;
    for (let i = 0; i < this.n.length; i++) {
      if (!(this.n[i]! >= 0)) throw new ValidationError(`notional[${i}]`, `must be >= 0, got ${this.n[i]}`);
      if (!Number.isFinite(this.r[i]!))
        throw new ValidationError(`forwardReturn[${i}]`, `must be finite, got ${this.r[i]}`);
      sum += this.n[i]!;
    }
    this.scale = this.n.length && sum > 0 ? sum / this.n.length : 1;
    this.delta = opts.smoothing ?? 1e-3;
    this.minHess = opts.minHessian ?? 1e-6;
  }

  get size(): number {
    return this.r.length;
  }

  /** Per-sample loss (in units of mean notional) at margin s. */
  loss(i: number, s: number): number {
    const p = Math.tanh(s);
    const N = this.n[i]! / this.scale;
    const absP = Math.sqrt(p * p + this.delta * this.delta) - this.delta;
    return -(p * N * this.r[i]! - this.opts.costRate * N * absP) + this.opts.positionPenalty * N * p * p;
  }

  /** Exact first and second derivatives of `loss` w.r.t. s (the Hessian may be negative). */
  derivatives(i: number, s: number): { grad: number; hess: number } {
    const p = Math.tanh(s);
    const N = this.n[i]! / this.scale;
    const d2 = this.delta * this.delta;
    const root = Math.sqrt(p * p + d2);
    const dLdp =
      -N * this.r[i]! + this.opts.costRate * N * (p / root) + 2 * this.opts.positionPenalty * N * p;
    const d2Ldp2 = this.opts.costRate * N * (d2 / (root * root * root)) + 2 * this.opts.positionPenalty * N;
    const dp = 1 - p * p;
    const d2p = -2 * p * dp;
    return { grad: dLdp * dp, hess: d2Ldp2 * dp * dp + dLdp * d2p };
  }

  /** What XGBoost gets: exact gradient, Hessian floored at a positive value so every leaf step is a descent step. */
  gradHess(margins: Float32Array): GradHess {
    if (margins.length !== this.r.length)
      throw new ValidationError('margins', `length ${margins.length} differs from ${this.r.length} samples`);
    const grad = new Float32Array(margins.length);
    const hess = new Float32Array(margins.length);
    for (let i = 0; i < margins.length; i++) {
      const d = this.derivatives(i, margins[i]!);
      grad[i] = d.grad;
      const floor = this.minHess * (this.n[i]! / this.scale + 1e-12);
      hess[i] = d.hess > floor ? d.hess : floor;
    }
    return { grad, hess };
  }

  /** Bound callback for `train({ objective })`. */
  readonly objective = (margins: Float32Array): GradHess => this.gradHess(margins);
}

/** Net dollar P&L of positions tanh(margin) on a set, and the statistics reported per fold. */
export interface PnlStats {
  netPnl: number;
  grossPnl: number;
  costs: number;
  sharpe: number;
  hitRate: number;
  trades: number;
}

export function dollarPnl(margins: ArrayLike<number>, data: DollarProfitData, costRate: number): PnlStats {
  let net = 0,
    gross = 0,
    costs = 0,
    hits = 0,
    trades = 0,
    sum = 0,
    sumSq = 0;
  const n = margins.length;
  for (let i = 0; i < n; i++) {
    const p = Math.tanh(margins[i]!);
    const g = p * data.notional[i]! * data.forwardReturn[i]!;
    const c = costRate * data.notional[i]! * Math.abs(p);
    gross += g;
    costs += c;
    net += g - c;
    sum += g - c;
    sumSq += (g - c) * (g - c);
    // A flat forward return is neither a hit nor a miss (common at minute horizons).
    if (Math.abs(p) > 1e-3 && data.forwardReturn[i]! !== 0) {
      trades++;
      if (Math.sign(p) === Math.sign(data.forwardReturn[i]!)) hits++;
    }
  }
  const mean = n ? sum / n : 0;
  const sd = n > 1 ? Math.sqrt(Math.max(0, sumSq / n - mean * mean)) : 0;
  return {
    netPnl: net,
    grossPnl: gross,
    costs,
    sharpe: sd > 0 ? mean / sd : 0,
    hitRate: trades ? hits / trades : 0,
    trades,
  };
}
