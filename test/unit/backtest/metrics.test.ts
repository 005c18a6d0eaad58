import { describe, test } from 'node:test';
import { allocBarColumns } from '../../../src/model/bar';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  attribute,
  checkRuin,
  curveMetrics,
  expandGrid,
  maxDrawdown,
  monteCarloBlockBootstrap,
  monteCarloTradeResample,
  mulberry32,
  periodReturns,
  ruinDefinition,
  runBacktest,
  sensitivityGrid,
  valueAtRisk,
  walkForward,
} from '../../../src/backtest';
import type { TradeRecord } from '../../../src/backtest';
import type { BarColumns } from '../../../src/model/bar';
import { ReferenceAiStrategy } from '../../../src/strategy/reference-ai';

const DAY = 86_400_000;

describe('metrics', () => {
  test('when equity rises to 120 then falls to 90, then max drawdown is 25% and lasts until the low', () => {
    const ts = [0, 1, 2, 3, 4].map((i) => i * DAY);
    const r = maxDrawdown(ts, [100, 120, 110, 90, 95]);
    assert.equal(r.maxDrawdown, 0.25);
    assert.equal(r.durationMs, 3 * DAY);
  });

  test('when returns are known, then historical VaR95 and ES95 are the 5% tail', () => {
    const rets = Array.from({ length: 100 }, (_, i) => (i - 50) / 1000); // -0.05 .. 0.049
    const v = valueAtRisk(rets, 0.95);
    assert.equal(v.var, 0.045);
    assert.ok(Math.abs(v.es - 0.0475) < 1e-12);
  });

  test('when daily equity points span many days, then returns are daily and annualised with 252', () => {
    const ts = Array.from({ length: 40 }, (_, i) => Date.UTC(2021, 0, 4, 21) + i * DAY);
    const eq = ts.map((_, i) => 100 + i);
    const p = periodReturns(ts, eq);
    assert.equal(p.basis, 'daily');
    assert.equal(p.periodsPerYear, 252);
    assert.equal(p.returns.length, 39);
  });

  test('when annualizationDays is 365 (crypto), then daily returns annualise with 365 and Sharpe scales by √(365/252)', () => {
    const ts = Array.from({ length: 120 }, (_, i) => Date.UTC(2021, 0, 4, 21) + i * DAY);
    const rnd = mulberry32(3);
    let e = 1000;
    const eq = ts.map(() => (e *= 1 + (rnd() - 0.45) * 0.02));
    assert.equal(periodReturns(ts, eq, { annualizationDays: 365 }).periodsPerYear, 365);
    const equity = curveMetrics(ts, eq, 1000);
    const crypto = curveMetrics(ts, eq, 1000, { annualizationDays: 365 });
    assert.ok(Math.abs(crypto.sharpe! / equity.sharpe! - Math.sqrt(365 / 252)) < 1e-12);
    assert.ok(Math.abs(crypto.annualVolatility / equity.annualVolatility - Math.sqrt(365 / 252)) < 1e-12);
    assert.equal(crypto.cagr, equity.cagr, 'CAGR runs on calendar time, whatever the market');
  });

  test('when a short run is measured per bar, then bars per year follow the days and the hours of the market', () => {
    const ts = Array.from({ length: 100 }, (_, i) => Date.UTC(2021, 0, 4, 15) + i * 60_000);
    const eq = ts.map((_, i) => 100 + i);
    assert.equal(periodReturns(ts, eq).periodsPerYear, 252 * 390);
    assert.equal(
      periodReturns(ts, eq, { annualizationDays: 365, tradingHoursPerDay: 24 }).periodsPerYear,
      365 * 1440,
    );
  });

  test('when annualizationDays or ruinLoss is out of range, then the error names the field', () => {
    assert.throws(() => periodReturns([0, DAY], [1, 2], { annualizationDays: 0 }), /annualizationDays: 0/);
    assert.throws(
      () => curveMetrics([0, DAY], [1, 2], 1, { annualizationDays: 400 }),
      /annualizationDays: 400/,
    );
    assert.throws(() => ruinDefinition(100, 1.5), /ruinLoss: 1.5/);
  });

  test('when equity falls to half the starting equity, then ruin (50% loss of start) is reached at that point, not before', () => {
    const ts = [0, 1, 2, 3, 4].map((i) => i * DAY);
    const r = checkRuin(ts, [100, 140, 71, 50, 80], 100, 0.5);
    assert.equal(r.level, 50);
    assert.equal(r.reached, true);
    assert.equal(
      r.firstTs,
      3 * DAY,
      'a 49% drawdown from the 140 peak is not ruin: the level is 50% of the start',
    );
    assert.equal(r.lowestEquity, 50);
    assert.equal(checkRuin(ts, [100, 140, 71, 50, 80], 100, 0.6).reached, false);
  });

  test('when trades are attributed, then P&L sums per ticker, timeframe, tier and model equal the total', () => {
    const t = (symbol: string, pnl: number, tier: string, model: string, timeframe: string): TradeRecord => ({
      symbol,
      side: 'long',
      entryTs: 0,
      exitTs: 1,
      qty: 1,
      entryPrice: 1,
      exitPrice: 1,
      pnl,
      costs: 0,
      equityAtEntry: 1,
      returnOnEquity: pnl,
      timeframe,
      tier,
      model,
      exitReason: 'x',
    });
    const trades = [
      t('A', 10, 'tier 1', 'm1', '1d'),
      t('B', -4, 'tier 2', 'm1', '1h'),
      t('A', 3, 'tier 2', 'm2', '1d'),
    ];
    const a = attribute(trades);
    for (const rows of [a.byTicker, a.byTier, a.byModel, a.byTimeframe])
      assert.equal(
        rows.reduce((s, r) => s + r.pnl, 0),
        9,
      );
    assert.deepEqual(
      a.byTicker.map((r) => [r.key, r.pnl]),
      [
        ['A', 13],
        ['B', -4],
      ],
    );
  });
});

describe('Monte Carlo', () => {
  test('when trade returns include losses beyond -100%, then equity never goes below zero on any path', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -3, max: 2, noNaN: true }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 1e6 }),
        (rets, seed) => {
          const a = monteCarloTradeResample(rets, 10_000, { runs: 30, seed });
          const b = monteCarloBlockBootstrap(rets, 10_000, { runs: 30, seed, blockLength: 3 });
          for (const m of [a, b]) {
            assert.ok(m.minEquity >= 0);
            assert.ok(m.finalEquity.p5 >= 0);
            for (const k of ['p5', 'p25', 'p50', 'p75', 'p95'] as const)
              assert.ok(m.fan[k].every((x: number) => x >= 0));
            assert.equal(
              m.histogram.finalEquity.counts.reduce((s, c) => s + c, 0),
              30,
            );
          }
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });

  test('when trades are resampled with replacement, then final equity spreads (p5 < p50 < p95), deterministically per seed', () => {
    const rets = Array.from({ length: 40 }, (_, i) => Math.sin(i) * 0.03);
    const a = monteCarloTradeResample(rets, 1000, { runs: 400, seed: 9 });
    assert.deepEqual(a, monteCarloTradeResample(rets, 1000, { runs: 400, seed: 9 }));
    assert.ok(a.finalEquity.p5 < a.finalEquity.p50 && a.finalEquity.p50 < a.finalEquity.p95);
    assert.ok(a.maxDrawdown.p5 <= a.maxDrawdown.p50 && a.maxDrawdown.p50 <= a.maxDrawdown.p95);
    assert.equal(a.method, 'trade-resample');
    assert.equal(a.steps, 40);
  });

  test('when the block is as long as the sample, then every bootstrap path is the sample itself; shorter blocks spread', () => {
    const rets = Array.from({ length: 60 }, (_, i) => Math.cos(i * 1.7) * 0.02);
    const compounded = rets.reduce((e, r) => e * (1 + r), 1000);
    const whole = monteCarloBlockBootstrap(rets, 1000, { runs: 50, seed: 4, blockLength: 60 });
    for (const k of ['p5', 'p50', 'p95'] as const)
      assert.ok(Math.abs(whole.finalEquity[k] - compounded) < 1e-9);
    const blocks = monteCarloBlockBootstrap(rets, 1000, {
      runs: 500,
      seed: 4,
      blockLength: 5,
      periodName: 'daily',
    });
    assert.ok(blocks.finalEquity.p95 > blocks.finalEquity.p5, 'resampling must spread the outcomes');
    assert.equal(blocks.blockLength, 5);
    assert.match(blocks.description, /moving block bootstrap of 60 daily returns, block length 5 days/);
    assert.throws(() => monteCarloBlockBootstrap(rets, 1000, { blockLength: 0 }), /blockLength: 0/);
  });

  test('when paths lose 20% per step, then P(ruin) follows the one definition (equity at or below (1 − ruinLoss) × start)', () => {
    const rets = [-0.2, -0.2, -0.2, -0.2, -0.2]; // every path ends at 0.8^5 = 32.8% of the start
    const half = monteCarloTradeResample(rets, 1000, { runs: 20, ruinLoss: 0.5 });
    assert.equal(half.ruinLevel, 500);
    assert.equal(half.probabilityOfRuin, 1);
    const deep = monteCarloTradeResample(rets, 1000, { runs: 20, ruinLoss: 0.7 });
    assert.ok(Math.abs(deep.ruinLevel - 300) < 1e-9);
    assert.equal(deep.probabilityOfRuin, 0, '327.68 stays above the 300 level');
    assert.equal(monteCarloBlockBootstrap(rets, 1000, { runs: 20, ruinLoss: 0.5 }).probabilityOfRuin, 1);
  });
});

describe('sensitivity and walk-forward', () => {
  const series: BarColumns[] = ['AAA', 'BBB'].map((symbol, k) => {
    const rnd = mulberry32(21 + k);
    const n = 500;
    const c = allocBarColumns(symbol, '1d', n);
    let px = 60;
    let drift = 0;
    for (let i = 0; i < n; i++) {
      if (i % 40 === 0) drift = (rnd() - 0.5) * 0.01;
      const o = px;
      const cl = o * (1 + drift + (rnd() - 0.5) * 0.02);
      c.ts[i] = Date.UTC(2018, 0, 1) + i * DAY;
      c.open[i] = o;
      c.close[i] = cl;
      c.high[i] = Math.max(o, cl) * 1.004;
      c.low[i] = Math.min(o, cl) * 0.996;
      c.volume[i] = 1e6 * (rnd() < 0.3 ? 3 : 1);
      px = cl;
    }
    return c;
  });

  test('when a grid is expanded, then it is the cartesian product in a stable order', () => {
    assert.deepEqual(expandGrid({ b: [1, 2], a: [5] }), [
      { a: 5, b: 1 },
      { a: 5, b: 2 },
    ]);
  });

  test('when the stop multiple varies, then each grid point is a separate deterministic backtest', () => {
    const rows = sensitivityGrid(
      { series },
      { stopAtr: [1, 2.5] },
      (p) => new ReferenceAiStrategy(['1d'], p),
    );
    assert.equal(rows.length, 2);
    assert.notEqual(rows[0]!.orderHash, rows[1]!.orderHash);
    const again = sensitivityGrid({ series }, { stopAtr: [1] }, (p) => new ReferenceAiStrategy(['1d'], p));
    assert.equal(again[0]!.orderHash, rows[0]!.orderHash);
  });

  test('when walking forward, then each fold trades only inside its out-of-sample window', () => {
    const from = series[0]!.ts[0]!;
    const to = series[0]!.ts[499]! + 1;
    const folds = walkForward({ series }, { stopAtr: [1, 2] }, (p) => new ReferenceAiStrategy(['1d'], p), {
      from,
      to,
      folds: 2,
      inSampleRatio: 2,
      warmUpMs: 60 * DAY,
    });
    assert.equal(folds.length, 2);
    for (const f of folds) {
      assert.ok(f.inSample.to === f.outOfSample.from && f.inSample.from < f.inSample.to);
      for (const fill of f.result.fills)
        assert.ok(
          fill.ts >= f.outOfSample.from && fill.ts < f.outOfSample.to + DAY,
          'fill outside the out-of-sample window',
        );
      assert.ok(f.result.equityTs[0]! >= f.outOfSample.from);
    }
    const full = runBacktest({ strategy: new ReferenceAiStrategy(['1d']), series });
    assert.ok(full.trades.length > 0);
  });
});
