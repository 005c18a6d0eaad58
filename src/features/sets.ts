/**
 * The built-in feature sets. `core` is the default: 1-minute base with features from all five
 * timeframes (each higher-timeframe value from the last completed bar of that timeframe).
 */
import type { Timeframe } from '../model/timeframe';
import { defineFeatureSet, type FeatureDef, type FeatureKind, type FeatureSet } from './definition';

const f = (timeframe: Timeframe, kind: FeatureKind, period?: number): FeatureDef =>
  period === undefined ? { timeframe, kind } : { timeframe, kind, period };
const candle = (timeframe: Timeframe, pattern: string): FeatureDef => ({
  timeframe,
  kind: 'candle',
  pattern,
});

/** Trend/momentum/volatility block computed on a higher timeframe. */
function higherTimeframeBlock(tf: Timeframe): FeatureDef[] {
  return [
    f(tf, 'logReturn', 1),
    f(tf, 'logReturn', 5),
    f(tf, 'rsi', 14),
    f(tf, 'macdHist'),
    f(tf, 'natr', 14),
    f(tf, 'bbPctB', 20),
    f(tf, 'adx', 14),
    f(tf, 'diSpread', 14),
    f(tf, 'emaDist', 20),
    f(tf, 'rvParkinson', 20),
    f(tf, 'volumeZ', 20),
  ];
}

const CORE_1M: FeatureDef[] = [
  f('1m', 'logReturn', 1),
  f('1m', 'logReturn', 5),
  f('1m', 'logReturn', 15),
  f('1m', 'rsi', 14),
  f('1m', 'macd'),
  f('1m', 'macdHist'),
  f('1m', 'natr', 14),
  f('1m', 'bbPctB', 20),
  f('1m', 'bbWidth', 20),
  f('1m', 'keltnerPos', 20),
  f('1m', 'donchianPos', 20),
  f('1m', 'adx', 14),
  f('1m', 'diSpread', 14),
  f('1m', 'aroonOsc', 14),
  f('1m', 'cci', 14),
  f('1m', 'mfi', 14),
  f('1m', 'roc', 10),
  f('1m', 'willr', 14),
  f('1m', 'stochK', 5),
  f('1m', 'stochD', 5),
  f('1m', 'stochRsiK', 14),
  f('1m', 'obvZ', 20),
  f('1m', 'adoscNorm', 20),
  f('1m', 'vwapDist'),
  f('1m', 'rvCloseToClose', 20),
  f('1m', 'rvGarmanKlass', 20),
  f('1m', 'zClose', 20),
  f('1m', 'smaDist', 50),
  f('1m', 'kamaDist', 10),
  f('1m', 'temaDist', 20),
  f('1m', 'relVolume', 20),
  f('1m', 'volumeZ', 20),
  f('1m', 'gap'),
  f('1m', 'sessionGap'),
  f('1m', 'minuteOfDaySin'),
  f('1m', 'minuteOfDayCos'),
  candle('1m', 'CDLDOJI'),
  candle('1m', 'CDLHAMMER'),
  candle('1m', 'CDLSHOOTINGSTAR'),
  candle('1m', 'CDLENGULFING'),
  candle('1m', 'CDLHARAMI'),
  candle('1m', 'CDLMARUBOZU'),
];

export const CORE_FEATURE_SET: FeatureSet = defineFeatureSet({
  name: 'core',
  baseTimeframe: '1m',
  features: [
    ...CORE_1M,
    ...higherTimeframeBlock('5m'),
    ...higherTimeframeBlock('15m'),
    ...higherTimeframeBlock('1h'),
    ...higherTimeframeBlock('1d').filter((d) => d.kind !== 'volumeZ'),
    f('1d', 'gap'),
    f('1d', 'relVolume', 20),
  ],
  labels: { horizons: [1, 5, 15, 60], costBps: 2, tripleBarrier: { horizon: 30, upper: 2, lower: 2 } },
});

/** A small set for tests and quick demos: 5-minute base, two timeframes. */
export const COMPACT_FEATURE_SET: FeatureSet = defineFeatureSet({
  name: 'compact',
  baseTimeframe: '5m',
  features: [
    f('5m', 'logReturn', 1),
    f('5m', 'rsi', 14),
    f('5m', 'macdHist'),
    f('5m', 'natr', 14),
    f('5m', 'bbPctB', 20),
    f('5m', 'vwapDist'),
    f('1h', 'rsi', 14),
    f('1h', 'emaDist', 20),
    f('1d', 'logReturn', 1),
  ],
  labels: { horizons: [1, 12], costBps: 2 },
});

/**
 * Microstructure: quotes (spread, book imbalance), trades (signed trade flow from the trades table) and
 * Unusual Whales options flow (call/put premium balance, alert activity), from the store, beside a few price
 * and volume features. 1m base: its quote, trade and flow columns exist for 1-minute bars only.
 */
export const MICROSTRUCTURE_FEATURE_SET: FeatureSet = defineFeatureSet({
  name: 'microstructure',
  baseTimeframe: '1m',
  features: [
    f('1m', 'logReturn', 1),
    f('1m', 'logReturn', 5),
    f('1m', 'natr', 14),
    f('1m', 'relVolume', 20),
    f('1m', 'vwapDist'),
    f('1m', 'spreadBps'),
    f('1m', 'quoteImbalance'),
    f('1m', 'tradeFlow', 20),
    f('1m', 'tradeImbalance', 5),
    f('1m', 'tradeImbalance', 20),
    f('1m', 'optionsFlowImbalance', 30),
    f('1m', 'optionsFlowActivity', 30),
    f('1m', 'optionsFlowActivity', 390),
  ],
  labels: { horizons: [1, 5, 15], costBps: 2 },
});

/**
 * Daily: one row per trading day at its close, for daily universes (e.g. the S&P 500 names 2013–2018): returns
 * over a day, a week, a month and a quarter, trend, momentum, mean reversion, volatility and volume.
 */
export const DAILY_FEATURE_SET: FeatureSet = defineFeatureSet({
  name: 'daily',
  baseTimeframe: '1d',
  features: [
    f('1d', 'logReturn', 1),
    f('1d', 'logReturn', 5),
    f('1d', 'logReturn', 20),
    f('1d', 'logReturn', 60),
    f('1d', 'rsi', 14),
    f('1d', 'macdHist'),
    f('1d', 'natr', 14),
    f('1d', 'bbPctB', 20),
    f('1d', 'adx', 14),
    f('1d', 'diSpread', 14),
    f('1d', 'emaDist', 20),
    f('1d', 'smaDist', 50),
    f('1d', 'smaDist', 200),
    f('1d', 'zClose', 20),
    f('1d', 'donchianPos', 20),
    f('1d', 'mfi', 14),
    f('1d', 'willr', 14),
    f('1d', 'rvParkinson', 20),
    f('1d', 'rvCloseToClose', 60),
    f('1d', 'volumeZ', 20),
    f('1d', 'relVolume', 20),
    f('1d', 'obvZ', 20),
    f('1d', 'gap'),
  ],
  labels: { horizons: [1, 5, 20], costBps: 2 },
});

export const FEATURE_SETS: Readonly<Record<string, FeatureSet>> = {
  core: CORE_FEATURE_SET,
  daily: DAILY_FEATURE_SET,
  compact: COMPACT_FEATURE_SET,
  microstructure: MICROSTRUCTURE_FEATURE_SET,
};

export function featureSetByName(name: string): FeatureSet {
  const s = FEATURE_SETS[name];
  if (!s)
    throw new RangeError(
      `feature set "${name}" is unknown; available: ${Object.keys(FEATURE_SETS).join(', ')}`,
    );
  return s;
}
