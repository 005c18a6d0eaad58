/**
 * A shadow challenger's record against the champion over the same bars. A live session scores every shadow model
 * of a name beside its champion at each decision and journals both in the predictions table (roles 'shadow' and
 * 'traded'); here each challenger row is paired with the champion's row of the same source, symbol and decision
 * time, both are scored on the realised return (direction traded, unit position, minus costs: the drift
 * monitor's terms) and the paired per-row P&L goes through the champion/challenger gate's test (one-sided paired
 * t-test on block sums). Without a champion the baseline is staying flat, as in the gate.
 */
import type { ShadowEvaluationDto } from '../../contracts/learning';
import { championChallengerGate } from '../models/gate/champion-challenger';
import { directionReturn, isHit, type RealisedPrediction } from './drift';

export interface SourcedPrediction extends RealisedPrediction {
  /** the session (or run) that made it */
  readonly source: string;
  /** NY trading day of the decision */
  readonly day: string;
}

export function evaluateShadowRecord(input: {
  readonly modelId: string;
  readonly enteredDay: string;
  readonly challenger: readonly SourcedPrediction[];
  /** the champion's rows over the same period; null: no champion (baseline: flat) */
  readonly champion: readonly SourcedPrediction[] | null;
  readonly costRate: number;
  readonly blockRows: number;
  readonly alpha: number;
}): ShadowEvaluationDto {
  const key = (p: SourcedPrediction) => `${p.source}|${p.symbol}|${p.ts}`;
  const champ = input.champion ? new Map(input.champion.map((p) => [key(p), p])) : null;
  const pairs: Array<{ c: SourcedPrediction; k: SourcedPrediction | null }> = [];
  for (const c of input.challenger) {
    if (!champ) pairs.push({ c, k: null });
    else {
      const k = champ.get(key(c));
      if (k) pairs.push({ c, k });
    }
  }
  pairs.sort((a, b) => a.c.ts - b.c.ts || (a.c.symbol < b.c.symbol ? -1 : a.c.symbol > b.c.symbol ? 1 : 0));
  const cp = new Float64Array(pairs.length);
  const kp = new Float64Array(pairs.length);
  let ch = 0,
    cn = 0,
    kh = 0,
    kn = 0;
  const days = new Set<string>();
  pairs.forEach(({ c, k }, i) => {
    days.add(c.day);
    cp[i] = directionReturn(c.expectedReturn, c.realised, input.costRate);
    const hc = isHit(c.expectedReturn, c.realised);
    if (hc !== null) {
      cn++;
      if (hc) ch++;
    }
    if (k) {
      kp[i] = directionReturn(k.expectedReturn, k.realised, input.costRate);
      const hk = isHit(k.expectedReturn, k.realised);
      if (hk !== null) {
        kn++;
        if (hk) kh++;
      }
    }
  });
  const blocks = Math.floor(pairs.length / input.blockRows);
  const gate =
    blocks >= 2
      ? championChallengerGate({
          challengerPnl: cp,
          championPnl: champ ? kp : null,
          blockSize: input.blockRows,
          alpha: input.alpha,
        })
      : null;
  const sum = (a: Float64Array) => a.reduce((s, x) => s + x, 0);
  return {
    modelId: input.modelId,
    enteredDay: input.enteredDay,
    days: days.size,
    pairs: pairs.length,
    challengerPnl: sum(cp),
    championPnl: champ ? sum(kp) : 0,
    challengerHitRate: cn > 0 ? ch / cn : null,
    championHitRate: kn > 0 ? kh / kn : null,
    gate,
  };
}
