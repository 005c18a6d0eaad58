import { describe, test } from 'node:test';
import { allocBarColumns } from '../../../src/model/bar';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  attribute,
  expandGrid,
  maxDrawdown,
  monteCarloBootstrap,
  monteCarloTradeOrder,
  mulberry32,
  periodReturns,
  riskOfRuin,
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

  test('when trades have a negative drift, then risk of ruin is 1; a strong positive edge gives a small probability', () => {
    assert.equal(riskOfRuin([-0.01, 0.005, -0.01, 0.004]), 1);
    const good = riskOfRuin(Array.from({ length: 50 }, (_, i) => (i % 2 ? 0.02 : -0.005)))!;
    assert.ok(good >= 0 && good < 0.01);
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
          const a = monteCarloTradeOrder(rets, 10_000, { runs: 30, seed });
          const b = monteCarloBootstrap(rets, 10_000, { runs: 30, seed, blockSize: 3 });
          for (const m of [a, b]) {
            assert.ok(m.minEquity >= 0);
            assert.ok(m.finalEquity.p5 >= 0);
            for (const k of ['p5', 'p25', 'p50', 'p75', 'p95'] as const)
              assert.ok(m.fan[k].every((x) => x >= 0));
          }
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });

  test('when run twice with one seed, then results are identical; reordering keeps the compounded end equity', () => {
    const rets = Array.from({ length: 40 }, (_, i) => Math.sin(i) * 0.03);
    const a = monteCarloTradeOrder(rets, 1000, { runs: 200, seed: 9 });
    const b = monteCarloTradeOrder(rets, 1000, { runs: 200, seed: 9 });
    assert.deepEqual(a, b);
    const compounded = rets.reduce((e, r) => e * (1 + r), 1000);
    assert.ok(Math.abs(a.finalEquity.p50 - compounded) < 1e-6);
    assert.ok(a.maxDrawdown.p95 >= a.maxDrawdown.p50);
    const boot = monteCarloBootstrap(rets, 1000, { runs: 500, seed: 9 });
    assert.ok(boot.finalEquity.p95 > boot.finalEquity.p5, 'resampling must spread the outcomes');
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
