import { ValidationError } from '../../model/errors';

export interface EnsembleMember {
  id: string;
  /** Recent out-of-sample net P&L per period (e.g. per day), most recent last. */
  recentOosPnl: number[];
}

export interface EnsembleOptions {
  /** Minimum number of members whose signal agrees with the ensemble's direction (e.g. 3 of 5). */
  minConsensus: number;
  /** |tanh(score)| below this is "no opinion" and does not count as agreement. */
  minConviction?: number;
  /** How many of the most recent periods count for the weights. */
  lookback?: number;
}

/**
 * Weights ∝ the recent out-of-sample Sharpe ratio of each member, floored at 0: a member that has lost money
 * lately gets no say. Weights sum to 1, or are all 0 when no member has a positive recent record.
 */
export function performanceWeights(members: EnsembleMember[], lookback = 20): number[] {
  const raw = members.map((m) => {
    const xs = m.recentOosPnl.slice(-lookback);
    if (xs.length < 2) return 0;
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    return sd > 0 ? Math.max(0, mean / sd) : mean > 0 ? 1 : 0;
  });
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => (total > 0 ? w / total : 0));
}

export interface EnsembleDecision {
  score: number;
  direction: -1 | 0 | 1;
  agreeing: number;
  consensus: boolean;
}

/** Combines member scores for one row; trades (score ≠ 0) only with the minimum consensus. */
export function combine(scores: number[], weights: number[], opts: EnsembleOptions): EnsembleDecision {
  if (scores.length !== weights.length)
    throw new ValidationError('scores', `${scores.length} scores for ${weights.length} members`);
  if (opts.minConsensus < 1 || opts.minConsensus > scores.length) {
    throw new ValidationError(
      'minConsensus',
      `must be between 1 and ${scores.length}, got ${opts.minConsensus}`,
    );
  }
  const minConv = opts.minConviction ?? 0.05;
  let s = 0;
  scores.forEach((x, i) => (s += weights[i]! * x));
  const direction = (Math.abs(Math.tanh(s)) < minConv ? 0 : Math.sign(s)) as -1 | 0 | 1;
  const agreeing =
    direction === 0
      ? 0
      : scores.filter((x) => Math.abs(Math.tanh(x)) >= minConv && Math.sign(x) === direction).length;
  const consensus = direction !== 0 && agreeing >= opts.minConsensus;
  return { score: consensus ? s : 0, direction: consensus ? direction : 0, agreeing, consensus };
}
