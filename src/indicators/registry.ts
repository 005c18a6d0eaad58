/**
 * Every indicator described once: how to make the incremental class, how to run the batch kernel on
 * columns, which columns it reads and — where TA-Lib has it — the TA-Lib call that must give the same
 * numbers. The shared test harness and bench/indicators iterate over this list.
 */
import { CANDLE_PATTERNS, CandlePatternIndicator, candleBatch } from './candles';
import { requireColumn, type ColumnName, type Indicator, type IndicatorColumns } from './core';
import {
  DEMA,
  EMA,
  KAMA,
  SMA,
  TEMA,
  WMA,
  demaBatch,
  emaBatch,
  kamaBatch,
  smaBatch,
  temaBatch,
  wmaBatch,
} from './moving-averages';
import {
  GapFeatures,
  QuoteFeatures,
  TradeFlowImbalance,
  gapBatch,
  quoteBatch,
  tradeFlowBatch,
} from './microstructure';
import {
  CCI,
  MACD,
  MOM,
  ROC,
  ROCR,
  RSI,
  STOCH,
  STOCHF,
  STOCHRSI,
  WILLR,
  cciBatch,
  macdBatch,
  momBatch,
  rocBatch,
  rocrBatch,
  rsiBatch,
  stochBatch,
  stochRsiBatch,
  stochfBatch,
  willrBatch,
} from './oscillators';
import { BETA, CORREL, betaBatch, correlBatch } from './stats';
import { ADX, AROON, adxBatch, aroonBatch } from './trend';
import {
  ATR,
  BBANDS,
  Donchian,
  Keltner,
  NATR,
  RealizedVol,
  ZScore,
  atrBatch,
  bbandsBatch,
  donchianBatch,
  keltnerBatch,
  natrBatch,
  realizedVolBatch,
  zScoreBatch,
} from './volatility';
import {
  AD,
  ADOSC,
  MFI,
  OBV,
  RelativeVolume,
  VWAP,
  adBatch,
  adoscBatch,
  mfiBatch,
  obvBatch,
  relativeVolumeBatch,
  vwapBatch,
} from './volume';

/** How to call TA-Lib (npm `talib`) for the same numbers. */
export interface TalibReference {
  readonly name: string;
  readonly options: Readonly<Record<string, number>>;
  /** TA-Lib input name → our column. */
  readonly inputs: Readonly<Record<string, ColumnName>>;
  /** For each of our outputs, TA-Lib's output key (or null when TA-Lib has no counterpart). */
  readonly outputs: ReadonlyArray<string | null>;
  /**
   * TA-Lib computes this output's variance from running sums (Σx² − n·mean²), which loses digits when σ is
   * small next to the price; ours is exact per window. Comparisons then also allow TA-Lib's own rounding
   * bound on σ (see docs/indicators.md): nbDev · √(period · 4ε · max x² in the window).
   */
  readonly runningSumVariance?: { readonly period: number; readonly nbDev: number };
}

export interface IndicatorSpec {
  readonly id: string;
  readonly columns: readonly ColumnName[];
  readonly needsTs?: boolean;
  create(): Indicator;
  batch(cols: IndicatorColumns): Float64Array[];
  readonly talib?: TalibReference;
}

const col = (c: IndicatorColumns, n: ColumnName, id: string) => requireColumn(c, n, id);
const OHLC: ColumnName[] = ['open', 'high', 'low', 'close'];
const HLC: ColumnName[] = ['high', 'low', 'close'];
const HLCV: ColumnName[] = ['high', 'low', 'close', 'volume'];
const C: ColumnName[] = ['close'];
const price = { high: 'high', low: 'low', close: 'close', open: 'open', volume: 'volume' } as const;
const real = { inReal: 'close' } as const;

function closeSpec(
  id: string,
  create: () => Indicator,
  f: (x: Float64Array) => Float64Array | Float64Array[],
  talib?: TalibReference,
): IndicatorSpec {
  return {
    id,
    columns: C,
    create,
    batch: (c) => {
      const r = f(col(c, 'close', id));
      return Array.isArray(r) ? r : [r];
    },
    talib,
  };
}

export const INDICATORS: readonly IndicatorSpec[] = [
  closeSpec(
    'SMA(20)',
    () => new SMA(20),
    (x) => smaBatch(x, 20),
    { name: 'SMA', options: { optInTimePeriod: 20 }, inputs: real, outputs: ['outReal'] },
  ),
  closeSpec(
    'EMA(20)',
    () => new EMA(20),
    (x) => emaBatch(x, 20),
    { name: 'EMA', options: { optInTimePeriod: 20 }, inputs: real, outputs: ['outReal'] },
  ),
  closeSpec(
    'WMA(20)',
    () => new WMA(20),
    (x) => wmaBatch(x, 20),
    { name: 'WMA', options: { optInTimePeriod: 20 }, inputs: real, outputs: ['outReal'] },
  ),
  closeSpec(
    'DEMA(20)',
    () => new DEMA(20),
    (x) => demaBatch(x, 20),
    { name: 'DEMA', options: { optInTimePeriod: 20 }, inputs: real, outputs: ['outReal'] },
  ),
  closeSpec(
    'TEMA(20)',
    () => new TEMA(20),
    (x) => temaBatch(x, 20),
    { name: 'TEMA', options: { optInTimePeriod: 20 }, inputs: real, outputs: ['outReal'] },
  ),
  closeSpec(
    'KAMA(10)',
    () => new KAMA(10),
    (x) => kamaBatch(x, 10),
    { name: 'KAMA', options: { optInTimePeriod: 10 }, inputs: real, outputs: ['outReal'] },
  ),
  closeSpec(
    'RSI(14)',
    () => new RSI(14),
    (x) => rsiBatch(x, 14),
    { name: 'RSI', options: { optInTimePeriod: 14 }, inputs: real, outputs: ['outReal'] },
  ),
  closeSpec(
    'MACD(12,26,9)',
    () => new MACD(12, 26, 9),
    (x) => macdBatch(x, 12, 26, 9),
    {
      name: 'MACD',
      options: { optInFastPeriod: 12, optInSlowPeriod: 26, optInSignalPeriod: 9 },
      inputs: real,
      outputs: ['outMACD', 'outMACDSignal', 'outMACDHist'],
    },
  ),
  closeSpec(
    'ROC(10)',
    () => new ROC(10),
    (x) => rocBatch(x, 10),
    { name: 'ROC', options: { optInTimePeriod: 10 }, inputs: real, outputs: ['outReal'] },
  ),
  closeSpec(
    'ROCR(10)',
    () => new ROCR(10),
    (x) => rocrBatch(x, 10),
    { name: 'ROCR', options: { optInTimePeriod: 10 }, inputs: real, outputs: ['outReal'] },
  ),
  closeSpec(
    'MOM(10)',
    () => new MOM(10),
    (x) => momBatch(x, 10),
    { name: 'MOM', options: { optInTimePeriod: 10 }, inputs: real, outputs: ['outReal'] },
  ),
  closeSpec(
    'STOCHRSI(14,5,3)',
    () => new STOCHRSI(14, 5, 3),
    (x) => stochRsiBatch(x, 14, 5, 3),
    {
      name: 'STOCHRSI',
      options: { optInTimePeriod: 14, optInFastK_Period: 5, optInFastD_Period: 3, optInFastD_MAType: 0 },
      inputs: real,
      outputs: ['outFastK', 'outFastD'],
    },
  ),
  closeSpec(
    'BBANDS(20,2,2)',
    () => new BBANDS(20, 2, 2),
    (x) => bbandsBatch(x, 20, 2, 2),
    {
      name: 'BBANDS',
      options: { optInTimePeriod: 20, optInNbDevUp: 2, optInNbDevDn: 2, optInMAType: 0 },
      inputs: real,
      outputs: ['outRealUpperBand', 'outRealMiddleBand', 'outRealLowerBand'],
      runningSumVariance: { period: 20, nbDev: 2 },
    },
  ),
  closeSpec(
    'ZScore(20)',
    () => new ZScore(20),
    (x) => zScoreBatch(x, 20),
  ),
  {
    id: 'ATR(14)',
    columns: HLC,
    create: () => new ATR(14),
    batch: (c) => [atrBatch(col(c, 'high', 'ATR'), col(c, 'low', 'ATR'), col(c, 'close', 'ATR'), 14)],
    talib: { name: 'ATR', options: { optInTimePeriod: 14 }, inputs: price, outputs: ['outReal'] },
  },
  {
    id: 'NATR(14)',
    columns: HLC,
    create: () => new NATR(14),
    batch: (c) => [natrBatch(col(c, 'high', 'NATR'), col(c, 'low', 'NATR'), col(c, 'close', 'NATR'), 14)],
    talib: { name: 'NATR', options: { optInTimePeriod: 14 }, inputs: price, outputs: ['outReal'] },
  },
  {
    id: 'ADX(14)',
    columns: HLC,
    create: () => new ADX(14),
    batch: (c) => adxBatch(col(c, 'high', 'ADX'), col(c, 'low', 'ADX'), col(c, 'close', 'ADX'), 14),
    talib: { name: 'ADX', options: { optInTimePeriod: 14 }, inputs: price, outputs: ['outReal', null, null] },
  },
  {
    id: 'PLUS_DI(14)',
    columns: HLC,
    create: () => new ADX(14),
    batch: (c) => adxBatch(col(c, 'high', 'ADX'), col(c, 'low', 'ADX'), col(c, 'close', 'ADX'), 14),
    talib: {
      name: 'PLUS_DI',
      options: { optInTimePeriod: 14 },
      inputs: price,
      outputs: [null, 'outReal', null],
    },
  },
  {
    id: 'MINUS_DI(14)',
    columns: HLC,
    create: () => new ADX(14),
    batch: (c) => adxBatch(col(c, 'high', 'ADX'), col(c, 'low', 'ADX'), col(c, 'close', 'ADX'), 14),
    talib: {
      name: 'MINUS_DI',
      options: { optInTimePeriod: 14 },
      inputs: price,
      outputs: [null, null, 'outReal'],
    },
  },
  {
    id: 'AROON(14)',
    columns: ['high', 'low'],
    create: () => new AROON(14),
    batch: (c) => aroonBatch(col(c, 'high', 'AROON'), col(c, 'low', 'AROON'), 14),
    talib: {
      name: 'AROON',
      options: { optInTimePeriod: 14 },
      inputs: price,
      outputs: ['outAroonDown', 'outAroonUp'],
    },
  },
  {
    id: 'CCI(14)',
    columns: HLC,
    create: () => new CCI(14),
    batch: (c) => [cciBatch(col(c, 'high', 'CCI'), col(c, 'low', 'CCI'), col(c, 'close', 'CCI'), 14)],
    talib: { name: 'CCI', options: { optInTimePeriod: 14 }, inputs: price, outputs: ['outReal'] },
  },
  {
    id: 'WILLR(14)',
    columns: HLC,
    create: () => new WILLR(14),
    batch: (c) => [willrBatch(col(c, 'high', 'WILLR'), col(c, 'low', 'WILLR'), col(c, 'close', 'WILLR'), 14)],
    talib: { name: 'WILLR', options: { optInTimePeriod: 14 }, inputs: price, outputs: ['outReal'] },
  },
  {
    id: 'STOCH(5,3,3)',
    columns: HLC,
    create: () => new STOCH(5, 3, 3),
    batch: (c) =>
      stochBatch(col(c, 'high', 'STOCH'), col(c, 'low', 'STOCH'), col(c, 'close', 'STOCH'), 5, 3, 3),
    talib: {
      name: 'STOCH',
      options: {
        optInFastK_Period: 5,
        optInSlowK_Period: 3,
        optInSlowK_MAType: 0,
        optInSlowD_Period: 3,
        optInSlowD_MAType: 0,
      },
      inputs: price,
      outputs: ['outSlowK', 'outSlowD'],
    },
  },
  {
    id: 'STOCHF(5,3)',
    columns: HLC,
    create: () => new STOCHF(5, 3),
    batch: (c) =>
      stochfBatch(col(c, 'high', 'STOCHF'), col(c, 'low', 'STOCHF'), col(c, 'close', 'STOCHF'), 5, 3),
    talib: {
      name: 'STOCHF',
      options: { optInFastK_Period: 5, optInFastD_Period: 3, optInFastD_MAType: 0 },
      inputs: price,
      outputs: ['outFastK', 'outFastD'],
    },
  },
  {
    id: 'MFI(14)',
    columns: HLCV,
    create: () => new MFI(14),
    batch: (c) => [
      mfiBatch(
        col(c, 'high', 'MFI'),
        col(c, 'low', 'MFI'),
        col(c, 'close', 'MFI'),
        col(c, 'volume', 'MFI'),
        14,
      ),
    ],
    talib: { name: 'MFI', options: { optInTimePeriod: 14 }, inputs: price, outputs: ['outReal'] },
  },
  {
    id: 'OBV',
    columns: ['close', 'volume'],
    create: () => new OBV(),
    batch: (c) => [obvBatch(col(c, 'close', 'OBV'), col(c, 'volume', 'OBV'))],
    talib: { name: 'OBV', options: {}, inputs: { inReal: 'close', volume: 'volume' }, outputs: ['outReal'] },
  },
  {
    id: 'AD',
    columns: HLCV,
    create: () => new AD(),
    batch: (c) => [
      adBatch(col(c, 'high', 'AD'), col(c, 'low', 'AD'), col(c, 'close', 'AD'), col(c, 'volume', 'AD')),
    ],
    talib: { name: 'AD', options: {}, inputs: price, outputs: ['outReal'] },
  },
  {
    id: 'ADOSC(3,10)',
    columns: HLCV,
    create: () => new ADOSC(3, 10),
    batch: (c) => [
      adoscBatch(
        col(c, 'high', 'ADOSC'),
        col(c, 'low', 'ADOSC'),
        col(c, 'close', 'ADOSC'),
        col(c, 'volume', 'ADOSC'),
        3,
        10,
      ),
    ],
    talib: {
      name: 'ADOSC',
      options: { optInFastPeriod: 3, optInSlowPeriod: 10 },
      inputs: price,
      outputs: ['outReal'],
    },
  },
  {
    id: 'Keltner(20,10,2)',
    columns: HLC,
    create: () => new Keltner(20, 10, 2),
    batch: (c) =>
      keltnerBatch(
        col(c, 'high', 'Keltner'),
        col(c, 'low', 'Keltner'),
        col(c, 'close', 'Keltner'),
        20,
        10,
        2,
      ),
  },
  {
    id: 'Donchian(20)',
    columns: ['high', 'low'],
    create: () => new Donchian(20),
    batch: (c) => donchianBatch(col(c, 'high', 'Donchian'), col(c, 'low', 'Donchian'), 20),
  },
  {
    id: 'MAX(high,20)',
    columns: ['high', 'low'],
    create: () => new Donchian(20),
    batch: (c) => donchianBatch(col(c, 'high', 'Donchian'), col(c, 'low', 'Donchian'), 20),
    talib: {
      name: 'MAX',
      options: { optInTimePeriod: 20 },
      inputs: { inReal: 'high' },
      outputs: ['outReal', null, null],
    },
  },
  {
    id: 'MIN(low,20)',
    columns: ['high', 'low'],
    create: () => new Donchian(20),
    batch: (c) => donchianBatch(col(c, 'high', 'Donchian'), col(c, 'low', 'Donchian'), 20),
    talib: {
      name: 'MIN',
      options: { optInTimePeriod: 20 },
      inputs: { inReal: 'low' },
      outputs: [null, null, 'outReal'],
    },
  },
  ...(['closeToClose', 'parkinson', 'garmanKlass'] as const).map((kind): IndicatorSpec => ({
    id: `RealizedVol(${kind},20)`,
    columns: OHLC,
    create: () => new RealizedVol(kind, 20),
    batch: (c) => [
      realizedVolBatch(
        kind,
        col(c, 'open', 'RV'),
        col(c, 'high', 'RV'),
        col(c, 'low', 'RV'),
        col(c, 'close', 'RV'),
        20,
      ),
    ],
  })),
  {
    id: 'BETA(20)',
    columns: ['close', 'benchmark'],
    create: () => new BETA(20),
    batch: (c) => [betaBatch(col(c, 'close', 'BETA'), col(c, 'benchmark', 'BETA'), 20)],
    talib: {
      name: 'BETA',
      options: { optInTimePeriod: 20 },
      inputs: { inReal0: 'benchmark', inReal1: 'close' },
      outputs: ['outReal'],
    },
  },
  {
    id: 'CORREL(20)',
    columns: ['close', 'benchmark'],
    create: () => new CORREL(20),
    batch: (c) => [correlBatch(col(c, 'close', 'CORREL'), col(c, 'benchmark', 'CORREL'), 20)],
    talib: {
      name: 'CORREL',
      options: { optInTimePeriod: 20 },
      inputs: { inReal0: 'close', inReal1: 'benchmark' },
      outputs: ['outReal'],
    },
  },
  {
    id: 'VWAP(session)',
    columns: HLCV,
    needsTs: true,
    create: () => new VWAP(),
    batch: (c) => [
      vwapBatch(
        requireTs(c),
        col(c, 'high', 'VWAP'),
        col(c, 'low', 'VWAP'),
        col(c, 'close', 'VWAP'),
        col(c, 'volume', 'VWAP'),
      ),
    ],
  },
  {
    id: 'RelativeVolume(5)',
    columns: ['volume'],
    needsTs: true,
    create: () => new RelativeVolume(5),
    batch: (c) => [relativeVolumeBatch(requireTs(c), col(c, 'volume', 'RelativeVolume'), 5)],
  },
  {
    id: 'Gap',
    columns: ['open', 'close'],
    needsTs: true,
    create: () => new GapFeatures(),
    batch: (c) => gapBatch(requireTs(c), col(c, 'open', 'Gap'), col(c, 'close', 'Gap')),
  },
  {
    id: 'Quote',
    columns: ['bid', 'ask', 'bidSize', 'askSize'],
    create: () => new QuoteFeatures(),
    batch: (c) =>
      quoteBatch(
        col(c, 'bid', 'Quote'),
        col(c, 'ask', 'Quote'),
        col(c, 'bidSize', 'Quote'),
        col(c, 'askSize', 'Quote'),
      ),
  },
  {
    id: 'TradeFlowImbalance(20)',
    columns: ['close', 'volume', 'bid', 'ask'],
    create: () => new TradeFlowImbalance(20),
    batch: (c) => [tradeFlowBatch(col(c, 'close', 'TFI'), col(c, 'volume', 'TFI'), c.bid, c.ask, 20)],
  },
  ...CANDLE_PATTERNS.map((p): IndicatorSpec => ({
    id: p.name,
    columns: OHLC,
    create: () => new CandlePatternIndicator(p),
    batch: (c) => [
      candleBatch(
        p,
        col(c, 'open', p.name),
        col(c, 'high', p.name),
        col(c, 'low', p.name),
        col(c, 'close', p.name),
      ),
    ],
    talib: { name: p.name, options: {}, inputs: price, outputs: ['outInteger'] },
  })),
];

function requireTs(c: IndicatorColumns): Float64Array {
  if (!c.ts)
    throw new RangeError('batch input column "ts" is missing (session-anchored indicators need timestamps)');
  return c.ts;
}
