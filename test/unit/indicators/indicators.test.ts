import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { INDICATORS, type IndicatorColumns, type IndicatorSpec } from '../../../src/indicators';
import { sharedDataDir, sharedDataOrSkip } from '../../support/shared-data';
import { generatedBars, readSharedBars, type Series } from './data';
import {
  checkAgainstTalib,
  checkIncrementalEqualsBatch,
  checkResetAndOrdering,
  checkWarmUp,
} from './harness';

/** Adds the columns some indicators need: a benchmark series and a quote around the close. */
function withExtras(s: Series, bench: Series): IndicatorColumns {
  const n = s.close.length;
  const bid = new Float64Array(n);
  const ask = new Float64Array(n);
  const bidSize = new Float64Array(n);
  const askSize = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const half = 0.005 + (i % 5) * 0.01;
    bid[i] = s.close[i]! - half + ((i % 3) - 1) * 0.01;
    ask[i] = s.close[i]! + half + ((i % 3) - 1) * 0.01;
    bidSize[i] = 100 + (i % 7) * 50;
    askSize[i] = 100 + (i % 11) * 40;
  }
  return { ...s, benchmark: bench.close.subarray(0, n), bid, ask, bidSize, askSize };
}

const generated: Array<[string, IndicatorColumns]> = [
  ['generated seed 1', withExtras(generatedBars(3000, 1), generatedBars(3000, 99))],
  ['generated seed 2 (low price)', withExtras(generatedBars(3000, 2, 3), generatedBars(3000, 98, 50))],
];

function realSets(dir: string): Array<[string, IndicatorColumns]> {
  const spy1m = readSharedBars(dir, 'pyalgotrade_ninjatrader/1min/SPY.csv.gz', 8000);
  const btc1m = readSharedBars(dir, 'binance_spot/1min/BTCUSDT.csv.gz', 8000);
  const aapl = readSharedBars(dir, 'kaggle_sandp500_5yr/1day/AAPL.csv.gz');
  const msft = readSharedBars(dir, 'kaggle_sandp500_5yr/1day/MSFT.csv.gz');
  const spyHour = readSharedBars(dir, 'lean_equity_usa/1hour/SPY.csv.gz', 6000);
  const n = Math.min(aapl.close.length, msft.close.length);
  const cut = (s: Series, m: number): Series => ({
    name: s.name,
    ts: s.ts.subarray(0, m),
    open: s.open.subarray(0, m),
    high: s.high.subarray(0, m),
    low: s.low.subarray(0, m),
    close: s.close.subarray(0, m),
    volume: s.volume.subarray(0, m),
  });
  return [
    ['SPY 1m 2011 (pyalgotrade)', withExtras(spy1m, btc1m)],
    ['BTCUSDT 1m 2017 (binance)', withExtras(btc1m, spy1m)],
    ['AAPL vs MSFT daily (kaggle)', withExtras(cut(aapl, n), cut(msft, n))],
    ['SPY 1h 1998+ (lean)', withExtras(spyHour, spy1m)],
  ];
}

const real = sharedDataDir() ? realSets(sharedDataDir()!) : [];

function forEachSpec(fn: (spec: IndicatorSpec) => void) {
  for (const spec of INDICATORS) fn(spec);
}

describe('indicators: shared harness', () => {
  test('when the registry is listed, then it covers the issue list and at least 10 candlestick patterns', () => {
    const ids = INDICATORS.map((s) => s.id.replace(/\(.*$/, ''));
    for (const need of [
      'SMA',
      'EMA',
      'WMA',
      'DEMA',
      'TEMA',
      'KAMA',
      'RSI',
      'MACD',
      'ATR',
      'NATR',
      'BBANDS',
      'Keltner',
      'Donchian',
      'ADX',
      'PLUS_DI',
      'MINUS_DI',
      'AROON',
      'CCI',
      'MFI',
      'ROC',
      'MOM',
      'WILLR',
      'STOCH',
      'STOCHF',
      'STOCHRSI',
      'OBV',
      'AD',
      'ADOSC',
      'VWAP',
      'RealizedVol',
      'ZScore',
      'BETA',
      'CORREL',
      'RelativeVolume',
      'Gap',
      'Quote',
      'TradeFlowImbalance',
    ]) {
      assert.ok(ids.includes(need), `missing ${need}`);
    }
    assert.ok(ids.filter((x) => x.startsWith('CDL')).length >= 10);
  });

  forEachSpec((spec) => {
    describe(spec.id, () => {
      if (spec.talib) {
        test('when compared with TA-Lib on generated data, then the max relative difference is <= 1e-9', () => {
          for (const [label, cols] of generated) {
            const { compared } = checkAgainstTalib(spec, cols, label);
            assert.ok(compared > 1000, `${spec.id}: only ${compared} values compared`);
          }
        });
        test('when compared with TA-Lib on real series from ../shared/data, then the max relative difference is <= 1e-9', (t) => {
          if (!sharedDataOrSkip(t)) return;
          for (const [label, cols] of real) checkAgainstTalib(spec, cols, label);
        });
      }
      test('when run incrementally and in batch, then every value is identical', () => {
        for (const [label, cols] of [...generated, ...real]) checkIncrementalEqualsBatch(spec, cols, label);
      });
      test('when warming up, then it is ready exactly after warmUpPeriod samples', () => {
        checkWarmUp(spec, generated[0]![1]);
      });
      test('when reset or fed out-of-order samples, then it behaves like a fresh instance', () => {
        checkResetAndOrdering(spec, generated[0]![1]);
      });
    });
  });
});
