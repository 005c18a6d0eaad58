/**
 * Feature sets: a named list of feature definitions over timeframes plus a label spec. The version is a
 * hash of the canonical definition (and of FEATURE_CODE_REVISION, bumped when a feature's formula
 * changes), so a stored vector always says exactly how it was computed.
 */
import { createHash } from 'node:crypto';
import { TIMEFRAMES, timeframeRank, type Timeframe } from '../model/timeframe';
import { ValidationError } from '../model/errors';
import { CANDLE_PATTERNS } from '../indicators/candles';

/** Bump when the formula of an existing feature kind changes: it changes every version hash. */
export const FEATURE_CODE_REVISION = 1;

export const FEATURE_KINDS = [
  'logReturn',
  'rsi',
  'macd',
  'macdHist',
  'natr',
  'bbPctB',
  'bbWidth',
  'keltnerPos',
  'donchianPos',
  'adx',
  'diSpread',
  'aroonOsc',
  'cci',
  'mfi',
  'roc',
  'mom',
  'willr',
  'stochK',
  'stochD',
  'stochfK',
  'stochRsiK',
  'obvZ',
  'adLineZ',
  'adoscNorm',
  'vwapDist',
  'rvCloseToClose',
  'rvParkinson',
  'rvGarmanKlass',
  'zClose',
  'smaDist',
  'emaDist',
  'wmaDist',
  'demaDist',
  'temaDist',
  'kamaDist',
  'relVolume',
  'volumeZ',
  'gap',
  'sessionGap',
  'minuteOfDaySin',
  'minuteOfDayCos',
  'candle',
  'beta',
  'correl',
  'spreadBps',
  'quoteImbalance',
  'tradeFlow',
  // From the trades and options_flow tables (1m base only; src/features/microstructure-inputs.ts).
  'tradeImbalance',
  'optionsFlowImbalance',
  'optionsFlowActivity',
] as const;
export type FeatureKind = (typeof FEATURE_KINDS)[number];

export interface FeatureDef {
  readonly timeframe: Timeframe;
  readonly kind: FeatureKind;
  /** Integer periods; for 'candle' use `pattern` instead. */
  readonly period?: number;
  readonly pattern?: string;
}

export interface LabelSpec {
  /** Forward horizons in base bars. */
  readonly horizons: readonly number[];
  /** Estimated round-trip cost in basis points (commission + slippage), added to half the spread when quotes exist. */
  readonly costBps: number;
  /** Triple-barrier labels: barriers at ±k·σ (σ = 20-bar close-to-close vol) and a vertical barrier after `horizon` bars. */
  readonly tripleBarrier?: { readonly horizon: number; readonly upper: number; readonly lower: number };
}

export interface FeatureSetDefinition {
  readonly name: string;
  readonly baseTimeframe: Timeframe;
  readonly features: readonly FeatureDef[];
  readonly labels: LabelSpec;
}

export interface FeatureSet extends FeatureSetDefinition {
  /** 16 hex chars of sha256 over the canonical definition. */
  readonly version: string;
  /** Column names of the matrix, in order: `<tf>:<kind>[_<period|pattern>]`. */
  readonly names: readonly string[];
  /** Timeframes used, finest first. */
  readonly timeframes: readonly Timeframe[];
}

export function featureName(f: FeatureDef): string {
  const suffix = f.kind === 'candle' ? `_${f.pattern}` : f.period !== undefined ? `_${f.period}` : '';
  return `${f.timeframe}:${f.kind}${suffix}`;
}

function canonical(def: FeatureSetDefinition): string {
  const features = def.features.map((f) => ({
    timeframe: f.timeframe,
    kind: f.kind,
    period: f.period ?? null,
    pattern: f.pattern ?? null,
  }));
  const labels = {
    horizons: [...def.labels.horizons],
    costBps: def.labels.costBps,
    tripleBarrier: def.labels.tripleBarrier
      ? {
          horizon: def.labels.tripleBarrier.horizon,
          upper: def.labels.tripleBarrier.upper,
          lower: def.labels.tripleBarrier.lower,
        }
      : null,
  };
  return JSON.stringify({
    rev: FEATURE_CODE_REVISION,
    name: def.name,
    base: def.baseTimeframe,
    features,
    labels,
  });
}

/** Validates a definition and gives it its version hash and column names. */
export function defineFeatureSet(def: FeatureSetDefinition): FeatureSet {
  if (!/^[a-z0-9][a-z0-9_.-]*$/i.test(def.name))
    throw new ValidationError('featureSet.name', `"${def.name}" must be letters, digits, _ . -`);
  if (!TIMEFRAMES.includes(def.baseTimeframe))
    throw new ValidationError('featureSet.baseTimeframe', `"${def.baseTimeframe}" is not a timeframe`);
  if (def.features.length === 0) throw new ValidationError('featureSet.features', 'is empty');
  const names = def.features.map(featureName);
  const seen = new Set<string>();
  def.features.forEach((f, i) => {
    const where = `featureSet.features[${i}]`;
    if (!(FEATURE_KINDS as readonly string[]).includes(f.kind))
      throw new ValidationError(`${where}.kind`, `"${f.kind}" is not a feature kind`);
    if (!TIMEFRAMES.includes(f.timeframe))
      throw new ValidationError(`${where}.timeframe`, `"${f.timeframe}" is not a timeframe`);
    if (timeframeRank(f.timeframe) < timeframeRank(def.baseTimeframe)) {
      throw new ValidationError(
        `${where}.timeframe`,
        `${f.timeframe} is finer than the base timeframe ${def.baseTimeframe}; only equal or coarser timeframes can be aligned without look-ahead`,
      );
    }
    if (f.period !== undefined && (!Number.isInteger(f.period) || f.period < 1))
      throw new ValidationError(`${where}.period`, `must be a positive integer, got ${f.period}`);
    if (f.kind === 'candle' && !CANDLE_PATTERNS.some((p) => p.name === f.pattern)) {
      throw new ValidationError(`${where}.pattern`, `"${f.pattern}" is not an implemented candle pattern`);
    }
    if (seen.has(names[i]!)) throw new ValidationError(`${where}`, `duplicate feature ${names[i]}`);
    seen.add(names[i]!);
  });
  if (def.labels.horizons.length === 0 || def.labels.horizons.some((h) => !Number.isInteger(h) || h < 1)) {
    throw new ValidationError('featureSet.labels.horizons', 'must be positive integers (base bars)');
  }
  if (!(def.labels.costBps >= 0))
    throw new ValidationError('featureSet.labels.costBps', `must be >= 0, got ${def.labels.costBps}`);
  const version = createHash('sha256').update(canonical(def)).digest('hex').slice(0, 16);
  const timeframes = TIMEFRAMES.filter(
    (tf) => tf === def.baseTimeframe || def.features.some((f) => f.timeframe === tf),
  );
  return { ...def, version, names, timeframes };
}
