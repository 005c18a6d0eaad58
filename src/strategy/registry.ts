/**
 * Strategies by name, built from a plain-JSON spec: what a trading session carries in its workflow input and
 * what a backtest is given, so both construct the very same strategy.
 */
import type { Timeframe } from '../model/timeframe';
import { BuyAndHoldStrategy, type BuyAndHoldParams } from './buy-and-hold';
import { ModelSignalStrategy, type ModelSignalParams } from './model-signal';
import { ReferenceAiStrategy, type ReferenceAiParams } from './reference-ai';
import { SmaTrendStrategy } from './sma-trend';
import type { Strategy } from './types';

export type StrategySpec =
  | {
      readonly name: 'sma-trend';
      readonly fast: number;
      readonly slow: number;
      /** target position value per symbol as a fraction of equity */
      readonly weight: number;
      readonly flattenBeforeCloseMs?: number;
      /** the timeframe it trades (default 1m) */
      readonly timeframe?: Timeframe;
    }
  | {
      readonly name: 'reference-ai';
      readonly timeframes?: readonly Timeframe[];
      readonly params?: Partial<ReferenceAiParams>;
    }
  | ({
      /** holds the direction the model predicts (src/strategy/model-signal.ts) */
      readonly name: 'model-signal';
      readonly timeframe?: Timeframe;
    } & ModelSignalParams)
  | ({
      /** buys each symbol once at its first daily close and holds (src/strategy/buy-and-hold.ts) */
      readonly name: 'buy-and-hold';
    } & BuyAndHoldParams);

export const STRATEGY_NAMES = ['sma-trend', 'reference-ai', 'model-signal', 'buy-and-hold'] as const;

export function createStrategy(spec: StrategySpec): Strategy {
  switch (spec.name) {
    case 'sma-trend':
      return new SmaTrendStrategy(
        {
          fast: spec.fast,
          slow: spec.slow,
          weight: spec.weight,
          flattenBeforeCloseMs: spec.flattenBeforeCloseMs,
        },
        spec.timeframe ?? '1m',
      );
    case 'reference-ai':
      return new ReferenceAiStrategy(spec.timeframes ?? ['1m'], spec.params ?? {});
    case 'model-signal':
      return new ModelSignalStrategy(
        {
          weight: spec.weight,
          minConfidence: spec.minConfidence,
          minExpectedReturn: spec.minExpectedReturn,
          flattenBeforeCloseMs: spec.flattenBeforeCloseMs,
        },
        spec.timeframe ?? '5m',
      );
    case 'buy-and-hold':
      return new BuyAndHoldStrategy({ weight: spec.weight });
    default:
      throw new RangeError(
        `strategy.name: "${(spec as { name?: unknown }).name}" is not one of ${STRATEGY_NAMES.join(', ')}`,
      );
  }
}
