/**
 * Tree-structured Parzen Estimator (TPE, Bergstra et al. 2011), dependency-free. Bayesian optimisation that
 * models p(x | good) and p(x | bad) instead of p(score | x): the finished trials are split at the γ quantile of
 * their scores (bigger is better; the best 10%, Optuna's default) into the good ones (l) and the rest (g); each parameter gets a Parzen density
 * per group — a mixture of Gaussians centred on the observed values (in log space for `log` parameters) plus a
 * uniform prior component, a smoothed histogram for choices — and the proposal is, among candidates drawn from
 * l, the one with the largest Σ log l(x) − log g(x) (which maximises the expected improvement under TPE's model).
 * The first `startupTrials` trials are uniform random.
 *
 * Deterministic: a proposal is a pure function of the finished trials, the search's seed and the trial number,
 * so a search that resumes (or a retried suggestion activity) proposes the same parameters again, and trials
 * proposed together for parallel workers differ (each trial number has its own random stream).
 */
import { mulberry32 } from '../../model/random';
import { sampleParams, type ParamSpace } from './successive-halving';

export type { ParamSpace } from './successive-halving';

export interface TpeOptions {
  readonly space: ParamSpace;
  /** finished trials: parameters and score (bigger is better; non-finite scores count as the worst) */
  readonly history: ReadonlyArray<{
    readonly params: Readonly<Record<string, string | number>>;
    readonly score: number;
  }>;
  /** the trial numbers to propose parameters for */
  readonly trials: readonly number[];
  readonly seed: number;
  /** random proposals before the model is used (default 4) */
  readonly startupTrials?: number;
  /** share of the trials that count as good (default: Optuna's 10%, at least one, at most 25) */
  readonly gamma?: number;
  /** candidates drawn from l(x) per proposal (default 24) */
  readonly candidates?: number;
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

interface Numeric {
  readonly lo: number;
  readonly hi: number;
  readonly toUnit: (v: number) => number;
  readonly fromUnit: (u: number) => number;
  readonly int: boolean;
}

function numeric(p: ParamSpace[string]): Numeric | null {
  if (p.kind === 'choice') return null;
  if (p.kind === 'float' && p.log) {
    if (!(p.min > 0)) throw new RangeError(`space: a log parameter needs min > 0, got ${p.min}`);
    return { lo: Math.log(p.min), hi: Math.log(p.max), toUnit: Math.log, fromUnit: Math.exp, int: false };
  }
  const int = p.kind === 'int';
  return {
    lo: int ? p.min - 0.5 : p.min,
    hi: int ? p.max + 0.5 : p.max,
    toUnit: (v) => v,
    fromUnit: (u) => u,
    int,
  };
}

/** A Parzen density over one numeric parameter: Gaussians at the points plus a uniform prior over [lo, hi]. */
class Parzen {
  private readonly sigma: number;
  constructor(
    private readonly points: readonly number[],
    private readonly lo: number,
    private readonly hi: number,
  ) {
    const range = hi - lo;
    const n = Math.max(1, points.length);
    this.sigma = Math.max(0.01 * range, 0.25 * range * Math.pow(n, -1 / 5));
  }

  logDensity(x: number): number {
    const range = this.hi - this.lo;
    const w = 1 / (this.points.length + 1);
    let p = w / range; // the prior
    for (const m of this.points) {
      const z = (x - m) / this.sigma;
      p += (w * Math.exp(-0.5 * z * z - LOG_SQRT_2PI)) / this.sigma;
    }
    return Math.log(p);
  }

  sample(rnd: () => number): number {
    const k = Math.floor(rnd() * (this.points.length + 1));
    if (k === this.points.length) return this.lo + rnd() * (this.hi - this.lo);
    for (let attempt = 0; attempt < 8; attempt++) {
      const u = Math.max(1e-12, rnd());
      const x = this.points[k]! + this.sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
      if (x >= this.lo && x <= this.hi) return x;
    }
    return Math.min(this.hi, Math.max(this.lo, this.points[k]!));
  }
}

/** Proposals for the given trial numbers. */
export function suggestTrials(
  o: TpeOptions,
): Array<{ trial: number; params: Record<string, string | number> }> {
  const startup = o.startupTrials ?? 4;
  const nCand = o.candidates ?? 24;
  if (Object.keys(o.space).length === 0) throw new RangeError('space: no parameters to search');
  for (const [k, p] of Object.entries(o.space))
    if (p.kind !== 'choice' && !(p.max >= p.min))
      throw new RangeError(`space.${k}: max ${p.max} is below min ${p.min}`);
    else if (p.kind === 'choice' && p.values.length === 0)
      throw new RangeError(`space.${k}: no values to choose from`);
  const history = [...o.history].sort((a, b) => score(b.score) - score(a.score));
  return o.trials.map((trial) => {
    // each trial number has its own stream: parallel proposals differ, a repeated proposal is identical
    const rnd = mulberry32((Math.imul(o.seed >>> 0, 2654435761) ^ Math.imul(trial + 1, 40503)) >>> 0);
    if (history.length < Math.max(2, startup)) return { trial, params: sampleParams(o.space, rnd) };
    const nGood = Math.min(25, Math.max(1, Math.ceil((o.gamma ?? 0.1) * history.length)));
    const good = history.slice(0, nGood);
    const bad = history.slice(nGood);
    const models = Object.entries(o.space).map(([name, p]) => {
      const num = numeric(p);
      if (num) {
        const pts = (set: typeof history) =>
          set.map((t) => num.toUnit(Number(t.params[name]))).filter((x) => Number.isFinite(x));
        return {
          kind: 'num' as const,
          name,
          num,
          l: new Parzen(pts(good), num.lo, num.hi),
          g: new Parzen(pts(bad), num.lo, num.hi),
        };
      }
      const values = (p as { values: ReadonlyArray<string | number> }).values;
      const hist = (set: typeof history) => {
        const c = values.map(() => 1); // add-one prior: no value is ever impossible
        for (const t of set) {
          const i = values.indexOf(t.params[name]!);
          if (i >= 0) c[i]!++;
        }
        const total = c.reduce((s, x) => s + x, 0);
        return c.map((x) => x / total);
      };
      return { kind: 'choice' as const, name, values, l: hist(good), g: hist(bad) };
    });
    let best: Record<string, string | number> | null = null;
    let bestScore = -Infinity;
    for (let c = 0; c < nCand; c++) {
      const params: Record<string, string | number> = {};
      let s = 0;
      for (const m of models) {
        if (m.kind === 'num') {
          const x = m.l.sample(rnd);
          const v = m.num.fromUnit(x);
          const value = m.num.int ? Math.min(Math.round(v), Math.round(m.num.hi - 0.5)) : v;
          params[m.name] = value;
          const u = m.num.int ? value : x;
          s += m.l.logDensity(u) - m.g.logDensity(u);
        } else {
          let r = rnd();
          let i = 0;
          while (i < m.l.length - 1 && r >= m.l[i]!) r -= m.l[i++]!;
          params[m.name] = m.values[i]!;
          s += Math.log(m.l[i]!) - Math.log(m.g[i]!);
        }
      }
      if (s > bestScore) {
        bestScore = s;
        best = params;
      }
    }
    return { trial, params: best! };
  });
}

function score(x: number): number {
  return Number.isFinite(x) ? x : -Infinity;
}
