import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { syntheticMinuteBars } from '../../../src/data/synthetic';
import {
  FEATURE_KINDS,
  barsFromMinutes,
  buildFeatureMatrix,
  defineFeatureSet,
  type BarsByTimeframe,
  type FeatureDef,
  type FeatureMatrix,
  type FeatureSet,
} from '../../../src/features';
import { barsToColumns, type BarColumns } from '../../../src/model/bar';
import { TIMEFRAMES, type Timeframe } from '../../../src/model/timeframe';

const EXTRAS_ONLY_ON_BASE = new Set([
  'beta',
  'correl',
  'spreadBps',
  'quoteImbalance',
  'tradeFlow',
  'tradeImbalance',
  'optionsFlowImbalance',
  'optionsFlowActivity',
]);

/** Every feature kind on every timeframe, with short periods so even daily features have values. */
const ALL_KINDS: FeatureSet = defineFeatureSet({
  name: 'test-all-kinds',
  baseTimeframe: '1m',
  features: TIMEFRAMES.flatMap((tf): FeatureDef[] =>
    FEATURE_KINDS.filter((k) => tf === '1m' || !EXTRAS_ONLY_ON_BASE.has(k)).map((kind): FeatureDef => {
      if (kind === 'candle') return { timeframe: tf, kind, pattern: 'CDLENGULFING' };
      if (
        [
          'gap',
          'sessionGap',
          'minuteOfDaySin',
          'minuteOfDayCos',
          'macd',
          'macdHist',
          'vwapDist',
          'spreadBps',
          'quoteImbalance',
        ].includes(kind)
      )
        return { timeframe: tf, kind };
      return {
        timeframe: tf,
        kind,
        period: kind === 'stochRsiK' || kind === 'adx' || kind === 'diSpread' ? 3 : 4,
      };
    }),
  ),
  labels: { horizons: [1], costBps: 1 },
});

const FROM = Date.UTC(2024, 2, 1);
const TO = Date.UTC(2024, 2, 19);
const MINUTES = barsToColumns('TEST', '1m', syntheticMinuteBars('TEST', FROM, TO, 7));
const BENCH = barsToColumns('SPY', '1m', syntheticMinuteBars('SPY', FROM, TO, 8));

function withExtras(bars: BarsByTimeframe, minutes: BarColumns): BarsByTimeframe {
  const n = minutes.close.length;
  const bid = new Float64Array(n);
  const ask = new Float64Array(n);
  const bidSize = new Float64Array(n);
  const askSize = new Float64Array(n);
  // Trades and options flow of each minute (what microstructure-inputs.ts reads from the store).
  const signedVolume = new Float64Array(n);
  const tradeVolume = new Float64Array(n);
  const callPremium = new Float64Array(n);
  const putPremium = new Float64Array(n);
  const flowAlerts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    bid[i] = minutes.close[i]! - 0.01 * (1 + (i % 3));
    ask[i] = minutes.close[i]! + 0.01 * (1 + (i % 2));
    bidSize[i] = 100 + (i % 5) * 100;
    askSize[i] = 100 + (i % 7) * 100;
    tradeVolume[i] = minutes.volume[i]!;
    signedVolume[i] = minutes.volume[i]! * (((i * 7) % 5) - 2) * 0.4;
    callPremium[i] = 1_000 * (1 + (i % 4));
    putPremium[i] = 1_000 * (1 + (i % 3));
    flowAlerts[i] = i % 3;
  }
  return {
    ...bars,
    '1m': {
      ...bars['1m']!,
      benchmark: BENCH.close.subarray(0, n),
      bid,
      ask,
      bidSize,
      askSize,
      signedVolume,
      tradeVolume,
      callPremium,
      putPremium,
      flowAlerts,
    },
  };
}

function build(minutes: BarColumns, set: FeatureSet): FeatureMatrix {
  const bars = barsFromMinutes(minutes, set.timeframes);
  return buildFeatureMatrix(set.baseTimeframe === '1m' ? withExtras(bars, minutes) : bars, set, {
    symbol: 'TEST',
  });
}

/** Changes every 1m bar after index t (prices scaled, volumes changed) or cuts them and appends new ones. */
function alterAfter(m: BarColumns, t: number, mode: 'perturb' | 'append', factor: number): BarColumns {
  const n = m.ts.length;
  const cut = mode === 'append' ? t + 1 : n;
  const extra = mode === 'append' ? n - cut : 0;
  const len = cut + extra;
  const out = {
    symbol: m.symbol,
    timeframe: m.timeframe,
    ts: new Float64Array(len),
    open: new Float64Array(len),
    high: new Float64Array(len),
    low: new Float64Array(len),
    close: new Float64Array(len),
    volume: new Float64Array(len),
  };
  for (let i = 0; i < len; i++) {
    const src = i < cut ? i : cut - 1 + ((i - cut) % Math.max(1, n - cut)) + 1;
    out.ts[i] = m.ts[Math.min(src, n - 1)]!;
    const k = i > t ? factor * (1 + 0.001 * (i % 13)) : 1;
    out.open[i] = m.open[Math.min(src, n - 1)]! * k;
    out.close[i] = m.close[Math.min(src, n - 1)]! * (i > t ? factor : 1);
    out.high[i] = Math.max(m.high[Math.min(src, n - 1)]! * k, out.open[i]!, out.close[i]!);
    out.low[i] = Math.min(m.low[Math.min(src, n - 1)]! * k, out.open[i]!, out.close[i]!);
    out.volume[i] = i > t ? m.volume[Math.min(src, n - 1)]! * factor * 3 + 7 : m.volume[i]!;
  }
  return out;
}

function assertRowsEqualUpTo(a: FeatureMatrix, b: FeatureMatrix, asOf: number, label: string): number {
  let rows = 0;
  for (let i = 0; i < Math.min(a.rows, b.rows); i++) {
    if (a.availableAt[i]! > asOf) break;
    assert.equal(a.ts[i], b.ts[i]);
    for (let k = 0; k < a.cols; k++) {
      const x = a.values[i * a.cols + k]!;
      const y = b.values[i * b.cols + k]!;
      if (!Object.is(x, y))
        assert.fail(
          `${label}: row ${i} (${new Date(a.ts[i]!).toISOString()}) feature ${a.names[k]} changed from ${x} to ${y}`,
        );
    }
    rows++;
  }
  return rows;
}

describe('features: no look-ahead (property)', () => {
  const fullCore = build(MINUTES, ALL_KINDS);
  const n = MINUTES.ts.length;

  test('when the test set is built, then every timeframe has columns with real values', () => {
    for (const tf of TIMEFRAMES) {
      const ks = ALL_KINDS.names.map((nm, k) => [nm, k] as const).filter(([nm]) => nm.startsWith(`${tf}:`));
      assert.ok(ks.length >= 40, `${tf}: ${ks.length} columns`);
      const last = fullCore.rows - 1;
      const filled = ks.filter(([, k]) => !Number.isNaN(fullCore.values[last * fullCore.cols + k]!)).length;
      assert.ok(
        filled >= ks.length - 2,
        `${tf}: only ${filled}/${ks.length} columns have a value at the last row`,
      );
    }
  });

  test('when bars after t are perturbed or replaced, then no feature at or before t changes on any timeframe (1m base)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 200, max: n - 50 }),
        fc.constantFrom<'perturb' | 'append'>('perturb', 'append'),
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        (t, mode, factor) => {
          const altered = build(alterAfter(MINUTES, t, mode, factor), ALL_KINDS);
          const asOf = MINUTES.ts[t]! + 60_000;
          const rows = assertRowsEqualUpTo(fullCore, altered, asOf, `${mode} after ${t} ×${factor}`);
          assert.equal(rows, t + 1);
        },
      ),
      { numRuns: 12, seed: 20240301 },
    );
  });

  for (const base of ['5m', '1h'] as Timeframe[]) {
    test(`when bars after t are perturbed, then no feature at or before t changes (${base} base)`, () => {
      const set = defineFeatureSet({
        name: `test-${base}`,
        baseTimeframe: base,
        features: TIMEFRAMES.filter((tf) => TIMEFRAMES.indexOf(tf) >= TIMEFRAMES.indexOf(base)).flatMap(
          (tf): FeatureDef[] => [
            { timeframe: tf, kind: 'rsi', period: 4 },
            { timeframe: tf, kind: 'macdHist' },
            { timeframe: tf, kind: 'bbPctB', period: 4 },
            { timeframe: tf, kind: 'vwapDist' },
            { timeframe: tf, kind: 'relVolume', period: 2 },
            { timeframe: tf, kind: 'sessionGap' },
          ],
        ),
        labels: { horizons: [1], costBps: 1 },
      });
      const full = build(MINUTES, set);
      fc.assert(
        fc.property(
          fc.integer({ min: 200, max: n - 50 }),
          fc.double({ min: 0.5, max: 2, noNaN: true }),
          (t, factor) => {
            const altered = build(alterAfter(MINUTES, t, 'perturb', factor), set);
            // Rows whose close is at or before the close of minute t.
            assertRowsEqualUpTo(full, altered, MINUTES.ts[t]! + 60_000, `${base} perturb after ${t}`);
          },
        ),
        { numRuns: 10, seed: 7 },
      );
    });
  }

  test('when a higher-timeframe bar is still forming, then its features are not used yet', () => {
    // Rows inside the first 5m bar of the last day must carry the previous completed 5m bar's values.
    const bars = barsFromMinutes(MINUTES, ['1m', '5m']);
    const set = defineFeatureSet({
      name: 'test-forming',
      baseTimeframe: '1m',
      features: [{ timeframe: '5m', kind: 'logReturn', period: 1 }],
      labels: { horizons: [1], costBps: 0 },
    });
    const m = buildFeatureMatrix(bars, set);
    const five = bars['5m']!;
    for (let i = 0; i < m.rows; i++) {
      const asOf = m.availableAt[i]!;
      let j = -1;
      while (j + 1 < five.ts.length && five.ts[j + 1]! + 300_000 <= asOf) j++;
      const expected = j >= 1 ? Math.fround(Math.log(five.close[j]! / five.close[j - 1]!)) : NaN;
      if (!Object.is(m.values[i]!, expected)) assert.fail(`row ${i}: ${m.values[i]} vs ${expected}`);
    }
  });
});
