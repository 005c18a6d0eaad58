/**
 * The learning policy: one trading day of a model name's life, decided from that day's facts. Pure and
 * deterministic (no I/O, no clock, no Node imports): the learning cycle workflow runs it, and tests drive it
 * with the same inputs, so what a test proves about the policy is what production does.
 *
 * A day, in order:
 *   1. The champion changed since yesterday (a promotion or an operator's rollback): its own evidence starts.
 *   2. Shadow verdicts. A challenger with at least `shadowDays` days of paired predictions is promoted when its
 *      record beats the champion's over the same bars by the gate's test (one-sided paired t-test on block
 *      sums, p < alpha); without a champion it must beat staying flat. One not proven after `maxShadowDays`
 *      is rejected. At most one promotion a day: the best mean difference.
 *   3. Retrain. Triggers, strongest first: no model at all (bootstrap); the sequential tests say the champion's
 *      live record fell short of its out-of-sample one (performance); its features' or scores' distribution
 *      moved past the threshold `psiDays` days running (distribution); `retrainEveryDays` since the last
 *      retrain (schedule). Held back while a challenger has been in shadow for fewer than `shadowDays` (its
 *      verdict comes first; one that had its days and was not promoted keeps competing beside a fresher one),
 *      within `cooldownDays` of the last retrain, and on a day a challenger was promoted.
 *
 * The new model of a retrain enters shadow; it trades only once promoted by step 2 on a later day.
 */
import type {
  LearningConfig,
  LearningDayInputs,
  LearningDecisionsDto,
  LearningStateDto,
  RetrainTrigger,
} from '../../contracts/learning';

export const DEFAULT_LEARNING_CONFIG: LearningConfig = {
  shadowDays: 3,
  maxShadowDays: 8,
  retrainEveryDays: 20,
  cooldownDays: 3,
  trainWindowDays: 21,
  driftWindowDays: 5,
  predictionPsiThreshold: 0.25,
  featurePsiThreshold: 0.25,
  featureBreachShare: 0.3,
  psiDays: 2,
  alpha: 0.05,
  costRate: 0.0001,
  blockRows: 12,
  sprt: { delta: 0.05, alpha: 0.01, beta: 0.1 },
  cusum: { k: 0.5, h: 5 },
};

export const LEARNING_START: LearningStateDto = {
  version: 1,
  championId: null,
  cycles: 0,
  lastRetrainCycle: null,
  lastRetrainDay: null,
  distributionBreachDays: 0,
};

/** The config with defaults filled in, each field checked (a bad value names its field). */
export function learningConfig(partial: Partial<LearningConfig> = {}): LearningConfig {
  const c: LearningConfig = {
    ...DEFAULT_LEARNING_CONFIG,
    ...partial,
    sprt: { ...DEFAULT_LEARNING_CONFIG.sprt, ...(partial.sprt ?? {}) },
    cusum: { ...DEFAULT_LEARNING_CONFIG.cusum, ...(partial.cusum ?? {}) },
  };
  const int = (k: keyof LearningConfig, min: number) => {
    const v = c[k] as number;
    if (!(Number.isInteger(v) && v >= min))
      throw new RangeError(`config.${k}: must be an integer >= ${min}, got ${String(v)}`);
  };
  const frac = (path: string, v: number, lo: number, hi: number) => {
    if (!(v > lo && v < hi)) throw new RangeError(`config.${path}: must be in (${lo}, ${hi}), got ${v}`);
  };
  int('shadowDays', 1);
  int('maxShadowDays', c.shadowDays);
  int('retrainEveryDays', 0);
  int('cooldownDays', 0);
  int('trainWindowDays', 1);
  int('driftWindowDays', 1);
  int('psiDays', 1);
  int('blockRows', 1);
  frac('predictionPsiThreshold', c.predictionPsiThreshold, 0, Infinity);
  frac('featurePsiThreshold', c.featurePsiThreshold, 0, Infinity);
  frac('featureBreachShare', c.featureBreachShare, 0, 1.000001);
  frac('alpha', c.alpha, 0, 1);
  if (!(c.costRate >= 0)) throw new RangeError(`config.costRate: must be >= 0, got ${c.costRate}`);
  frac('sprt.delta', c.sprt.delta, 0, 0.5);
  frac('sprt.alpha', c.sprt.alpha, 0, 1);
  frac('sprt.beta', c.sprt.beta, 0, 1);
  frac('cusum.h', c.cusum.h, 0, Infinity);
  if (!(c.cusum.k >= 0)) throw new RangeError(`config.cusum.k: must be >= 0, got ${c.cusum.k}`);
  return c;
}

export interface LearningDayOutcome {
  readonly state: LearningStateDto;
  readonly decisions: LearningDecisionsDto;
}

/** One day of the policy: yesterday's state and today's facts → today's state and decisions. */
export function learningDay(
  prev: LearningStateDto,
  inputs: LearningDayInputs,
  config: LearningConfig,
): LearningDayOutcome {
  const notes: string[] = [];
  const cycle = prev.cycles + 1;
  let breachDays = prev.distributionBreachDays;
  if (prev.championId !== inputs.championId) {
    breachDays = 0;
    if (prev.championId !== null)
      notes.push(
        `champion changed from ${prev.championId} to ${inputs.championId ?? 'none'} since the last day`,
      );
  }

  // ---- shadow verdicts
  let promote: LearningDecisionsDto['promote'] = null;
  const reject: Array<{ modelId: string; reason: string }> = [];
  let best: { modelId: string; meanDiff: number; reason: string } | null = null;
  for (const s of inputs.shadows) {
    const gate = s.gate;
    if (s.days >= config.shadowDays && gate?.promote) {
      const versus = inputs.championId ? `champion ${inputs.championId}` : 'staying flat';
      const reason = `shadow record over ${s.days} days (${s.pairs} paired predictions) beats ${versus}: ${gate.reason}`;
      if (!best || gate.meanDiff > best.meanDiff)
        best = { modelId: s.modelId, meanDiff: gate.meanDiff, reason };
    } else if (s.days >= config.maxShadowDays) {
      reject.push({
        modelId: s.modelId,
        reason: `not proven after ${s.days} shadow days (${s.pairs} paired predictions): ${gate?.reason ?? 'too few predictions for the test'}`,
      });
    } else {
      notes.push(
        `${s.modelId} in shadow: ${s.days}/${config.shadowDays} days, ${s.pairs} paired predictions${gate ? `, p=${gate.pValue.toFixed(3)}` : ''}`,
      );
    }
  }
  if (best) promote = { modelId: best.modelId, reason: best.reason };
  const stillShadow = inputs.shadows.filter(
    (s) => s.modelId !== promote?.modelId && !reject.some((r) => r.modelId === s.modelId),
  );
  // every other shadow loses to the promoted one: it was measured against the old champion
  if (promote)
    for (const s of stillShadow)
      reject.push({ modelId: s.modelId, reason: `${promote.modelId} was promoted over it on the same day` });

  // ---- distribution breach streak (the drift report is today's, of today's champion)
  const d = inputs.drift;
  if (d && inputs.championId && d.modelId === inputs.championId)
    breachDays = d.distributionAlarm ? breachDays + 1 : 0;

  // ---- retrain
  let trigger: { trigger: RetrainTrigger; reason: string } | null = null;
  const champion = promote ? promote.modelId : inputs.championId;
  if (!champion && inputs.shadows.length === 0)
    trigger = { trigger: 'bootstrap', reason: 'no champion and no challenger' };
  else if (d && d.performanceAlarm && d.modelId === inputs.championId)
    trigger = {
      trigger: 'performance',
      reason: `live record of ${d.modelId} fell short: ${d.reasons.join('; ')}`,
    };
  else if (breachDays >= config.psiDays)
    trigger = {
      trigger: 'distribution',
      reason: `distribution breach ${breachDays} days running: ${d?.reasons.join('; ') ?? ''}`,
    };
  else if (
    config.retrainEveryDays > 0 &&
    (prev.lastRetrainCycle === null ? cycle : cycle - prev.lastRetrainCycle) >= config.retrainEveryDays
  )
    trigger = { trigger: 'schedule', reason: `every ${config.retrainEveryDays} learning days` };

  let retrain: LearningDecisionsDto['retrain'] = null;
  if (trigger) {
    const sinceLast = prev.lastRetrainCycle === null ? Infinity : cycle - prev.lastRetrainCycle;
    // a challenger younger than shadowDays has not had its chance yet; one that has, and was not promoted, does
    // not hold a fresher retrain back (it keeps competing until maxShadowDays)
    const young = stillShadow.filter((s) => s.days < config.shadowDays);
    if (promote) notes.push(`retrain (${trigger.trigger}) held: ${promote.modelId} is promoted today`);
    else if (young.length > 0 && trigger.trigger !== 'bootstrap')
      notes.push(
        `retrain (${trigger.trigger}) held: ${young.map((s) => s.modelId).join(', ')} in shadow for fewer than ${config.shadowDays} days`,
      );
    else if (sinceLast <= config.cooldownDays)
      notes.push(
        `retrain (${trigger.trigger}) held: cool-down (${sinceLast} of ${config.cooldownDays} days)`,
      );
    else retrain = trigger;
  }

  const state: LearningStateDto = {
    version: 1,
    championId: champion,
    cycles: cycle,
    lastRetrainCycle: retrain ? cycle : prev.lastRetrainCycle,
    lastRetrainDay: retrain ? inputs.day : prev.lastRetrainDay,
    // a new champion starts its own streak
    distributionBreachDays: promote ? 0 : breachDays,
  };
  return { state, decisions: { retrain, promote, reject, notes } };
}

/** Learning days until the next scheduled retrain (null: none scheduled). */
export function daysToScheduledRetrain(state: LearningStateDto, config: LearningConfig): number | null {
  if (config.retrainEveryDays <= 0) return null;
  const since = state.lastRetrainCycle === null ? state.cycles : state.cycles - state.lastRetrainCycle;
  return Math.max(0, config.retrainEveryDays - since);
}
