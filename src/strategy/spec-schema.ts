/**
 * The one schema of a StrategySpec (src/strategy/registry.ts): each strategy's parameters are a strict object
 * (an unknown or misspelt parameter is an error, not silently ignored), and the spec must build — the strategy's
 * own constructor checks (fast below slow, descending tiers, …) run too, so a spec that passes here is one a
 * session or backtest can construct. Pure: the CLI, the session workflow and the daily routines use it.
 */
import { z } from 'zod';
import { TIMEFRAMES } from '../model/timeframe';
import { createStrategy, STRATEGY_NAMES, type StrategySpec } from './registry';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const positive = finite.refine((v) => v > 0, 'must be > 0');
const nonNegative = finite.refine((v) => v >= 0, 'must be ≥ 0');
const fraction = finite.refine((v) => v > 0 && v <= 1, 'must be a fraction in (0, 1]');
const period = z.number().int('must be an integer').min(1, 'must be ≥ 1').max(100_000, 'must be ≤ 100000');
const timeframe = z.enum(TIMEFRAMES, { error: `must be one of ${TIMEFRAMES.join(', ')}` });
const perTimeframe = z.strictObject(
  Object.fromEntries(TIMEFRAMES.map((tf) => [tf, positive])) as {
    [K in (typeof TIMEFRAMES)[number]]: typeof positive;
  },
);
const flattenBeforeCloseMs = z
  .number()
  .int('must be whole milliseconds')
  .min(0, 'must be ≥ 0')
  .max(6.5 * 3_600_000, 'must be at most a session (23400000 ms)');

const regimeOptions = z.strictObject({
  fastHalfLifeDays: positive.optional(),
  slowHalfLifeDays: positive.optional(),
  trendDays: period.optional(),
  warmUpDays: period.optional(),
  volatileRatio: positive.optional(),
  crisisRatio: positive.optional(),
  crisisExitRatio: positive.optional(),
  trendZ: finite.optional(),
  crisisTrendZ: finite.optional(),
  crisisShare: fraction.optional(),
});

const referenceAiParams = z.strictObject({
  tierConfidence: z.tuple([fraction, fraction, fraction]).optional(),
  minConsensus: fraction.optional(),
  volumeConfirm: nonNegative.optional(),
  emaFast: period.optional(),
  emaSlow: period.optional(),
  atrPeriod: period.optional(),
  volumePeriod: period.optional(),
  momentumBars: period.optional(),
  stopAtr: positive.optional(),
  takeProfitAtr: perTimeframe.optional(),
  trailAtr: positive.optional(),
  trailActivationAtr: nonNegative.optional(),
  peakMinProfitAtr: nonNegative.optional(),
  peakGiveBack: fraction.optional(),
  maxHoldBars: z
    .strictObject(
      Object.fromEntries(TIMEFRAMES.map((tf) => [tf, period])) as {
        [K in (typeof TIMEFRAMES)[number]]: typeof period;
      },
    )
    .optional(),
  minRewardRisk: nonNegative.optional(),
  flattenBeforeCloseMs: flattenBeforeCloseMs.optional(),
  universe: z
    .strictObject({
      minPrice: nonNegative.optional(),
      minDollarVolume: nonNegative.optional(),
      activeRelVolume: nonNegative.optional(),
      activeAtrFraction: nonNegative.optional(),
      focusTopN: period.optional(),
    })
    .optional(),
  timeframeScoreAlpha: fraction.optional(),
  allowShort: z.boolean().optional(),
  kellyMinTrades: z.number().int('must be an integer').min(0, 'must be ≥ 0').optional(),
  kellyWindow: period.optional(),
  regime: regimeOptions.optional(),
});

const specs = z.discriminatedUnion(
  'name',
  [
    z.strictObject({
      name: z.literal('sma-trend'),
      fast: period,
      slow: period,
      weight: fraction,
      flattenBeforeCloseMs: flattenBeforeCloseMs.optional(),
      timeframe: timeframe.optional(),
    }),
    z.strictObject({
      name: z.literal('reference-ai'),
      timeframes: z.array(timeframe).min(1, 'at least one timeframe').optional(),
      params: referenceAiParams.optional(),
    }),
    z.strictObject({
      name: z.literal('model-signal'),
      timeframe: timeframe.optional(),
      weight: fraction,
      minConfidence: finite.optional(),
      minExpectedReturn: finite.optional(),
      flattenBeforeCloseMs: flattenBeforeCloseMs.optional(),
    }),
    z.strictObject({ name: z.literal('buy-and-hold'), weight: fraction }),
  ],
  { error: `must be one of ${STRATEGY_NAMES.join(', ')}` },
);

/** A strategy's constructor message `strategy.field: …` or `field: …` as a path and a message. */
function constructorIssue(message: string): { path: string[]; message: string } {
  const m = /^(?:strategy\.)?([A-Za-z]+): (.*)$/s.exec(message);
  return m ? { path: [m[1]!], message: m[2]! } : { path: [], message };
}

/** The one schema of a StrategySpec: strict parameters per strategy, and the strategy must build. */
export const StrategySpecSchema: z.ZodType<StrategySpec, StrategySpec> = specs.superRefine((spec, ctx) => {
  try {
    createStrategy(spec as StrategySpec);
  } catch (e) {
    const { path, message } = constructorIssue((e as Error).message);
    // reference-ai's parameters sit under params
    const at = spec.name === 'reference-ai' && path.length ? ['params', ...path] : path;
    ctx.addIssue({ code: 'custom', path: at, message });
  }
}) as unknown as z.ZodType<StrategySpec, StrategySpec>;
