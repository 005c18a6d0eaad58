import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  analyse,
  bucketSeries,
  buyAndHoldCurve,
  chooseBucket,
  monthlyReturns,
  mulberry32,
  openPositionsAtEnd,
  renderReport,
  reportJson,
  runBacktest,
} from '../../../src/backtest';
import { allocBarColumns, type BarColumns } from '../../../src/model/bar';
import { ReferenceAiStrategy } from '../../../src/strategy/reference-ai';

const DAY = 86_400_000;
/** a daily bar's close instant as the engine stamps it: the bar's UTC day + one day */
const closeOf = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) + DAY;

function dailyBars(symbol: string, start: number, closes: readonly number[]): BarColumns {
  const c = allocBarColumns(symbol, '1d', closes.length);
  closes.forEach((px, i) => {
    c.ts[i] = start + i * DAY;
    c.open[i] = px;
    c.high[i] = px;
    c.low[i] = px;
    c.close[i] = px;
    c.volume[i] = 1e6;
  });
  return c;
}

/** Seeded random-walk daily bars with volume bursts, so the reference strategy trades. */
function walk(symbol: string, seed: number, n: number): BarColumns {
  const rnd = mulberry32(seed);
  const cols = allocBarColumns(symbol, '1d', n);
  let px = 50 + rnd() * 100;
  let drift = 0;
  for (let i = 0; i < n; i++) {
    if (i % 40 === 0) drift = (rnd() - 0.5) * 0.006;
    const o = px;
    const c = o * (1 + drift + (rnd() - 0.5) * 0.03);
    cols.ts[i] = Date.UTC(2020, 0, 1) + i * DAY;
    cols.open[i] = o;
    cols.close[i] = c;
    cols.high[i] = Math.max(o, c) * (1 + rnd() * 0.01);
    cols.low[i] = Math.min(o, c) * (1 - rnd() * 0.01);
    cols.volume[i] = 1e6 * (0.5 + rnd() * (rnd() < 0.2 ? 4 : 1));
    px = c;
  }
  return cols;
}

describe('monthly returns', () => {
  test('when equity moves across months and years, then each month is its end over the previous end and the year compounds its months', () => {
    const ts = [
      closeOf(2021, 11, 1),
      closeOf(2021, 11, 30), // Nov end 110 (from the 100 start)
      closeOf(2021, 12, 31), // Dec end 121
      closeOf(2022, 1, 3),
      closeOf(2022, 1, 31), // Jan end 108.9
      closeOf(2022, 3, 15), // no February point; Mar end 130.68
    ];
    const eq = [105, 110, 121, 100, 108.9, 130.68];
    const rows = monthlyReturns(ts, eq, 100);
    assert.deepEqual(
      rows.map((r) => r.year),
      [2021, 2022],
    );
    const [y21, y22] = rows;
    assert.ok(Math.abs(y21!.months[10]! - 0.1) < 1e-12);
    assert.ok(Math.abs(y21!.months[11]! - 0.1) < 1e-12);
    assert.equal(y21!.months[0], null);
    assert.ok(Math.abs(y21!.total - 0.21) < 1e-12);
    assert.ok(Math.abs(y22!.months[0]! - (108.9 / 121 - 1)) < 1e-12);
    assert.equal(y22!.months[1], null, 'a month without equity points is left empty');
    assert.ok(Math.abs(y22!.months[2]! - 0.2) < 1e-12);
    const compounded = y22!.months.reduce<number>((p, m) => p * (1 + (m ?? 0)), 1) - 1;
    assert.ok(Math.abs(y22!.total - compounded) < 1e-12);
    assert.ok(Math.abs(y22!.total - (130.68 / 121 - 1)) < 1e-12);
  });

  test('when a daily bar closes at 00:00 UTC, then its equity counts in the New York trading day it closed (month end Jan 29)', () => {
    // the 2021-01-29 daily bar closes at 2021-01-30T00:00Z, which is still Jan 29 in New York
    const rows = monthlyReturns([closeOf(2021, 1, 29), closeOf(2021, 2, 1)], [110, 121], 100);
    assert.ok(Math.abs(rows[0]!.months[0]! - 0.1) < 1e-12);
    assert.ok(Math.abs(rows[0]!.months[1]! - 0.1) < 1e-12);
  });
});

describe('buy-and-hold benchmark', () => {
  test('when two symbols are held equal weight and one lists later, then the late sleeve is cash until its first close', () => {
    const start = Date.UTC(2021, 0, 4);
    const a = dailyBars('AAA', start, [10, 11, 12, 13]);
    const b = dailyBars('BBB', start + 2 * DAY, [50, 100]);
    const ts = [1, 2, 3, 4].map((k) => start + k * DAY); // close instants of AAA's bars
    const curve = buyAndHoldCurve([a, b], ts, 1000, 'test');
    assert.deepEqual(Array.from(curve.equity), [
      1000, // 500 in AAA at 10, 500 cash
      1050, // AAA 11
      1100, // AAA 12; BBB bought at its first close, 50
      1150 + 500, // AAA 13; BBB 100 (doubled)
    ]);
    // an engine that stamps daily closes at the session close (16:00 New York) sees the same bars, not a day late
    const atSessionClose = [0, 1, 2, 3].map((k) => start + k * DAY + 21 * 3_600_000);
    assert.deepEqual(
      Array.from(buyAndHoldCurve([a, b], atSessionClose, 1000, 'test').equity),
      [1000, 1050, 1100, 1650],
    );
  });
});

describe('open positions at the end', () => {
  test('when the engine ends long and short, then each is listed by symbol with market value and unrealized P&L at its last price', () => {
    const open = openPositionsAtEnd({
      openPositions: [
        { symbol: 'ZZZ', qty: -4, avgPrice: 50, lastPrice: 45 },
        { symbol: 'AAA', qty: 15, avgPrice: 105, lastPrice: 130 },
      ],
    });
    assert.deepEqual(open, [
      { symbol: 'AAA', qty: 15, avgPrice: 105, lastPrice: 130, marketValue: 1950, unrealizedPnl: 375 },
      { symbol: 'ZZZ', qty: -4, avgPrice: 50, lastPrice: 45, marketValue: -180, unrealizedPnl: 20 },
    ]);
  });

  test('when a backtest ends holding positions, then cash plus their market value is the final equity', () => {
    const series = ['AAA', 'BBB', 'CCC'].map((s, i) => walk(s, 11 + i, 400));
    const result = runBacktest({ strategy: new ReferenceAiStrategy(['1d']), series, seed: 3 });
    const a = analyse(result, { runs: 50, series });
    assert.ok(a.openPositions && a.openPositions.length > 0, 'the fixture should end with an open position');
    const value = a.openPositions.reduce((s, p) => s + p.marketValue, 0);
    assert.ok(
      Math.abs(result.finalAccount.cash + value - result.finalAccount.equity) < 0.01,
      `cash ${result.finalAccount.cash} + positions ${value} != equity ${result.finalAccount.equity}`,
    );
  });
});

describe('report sections and chart resampling', () => {
  test('when a run spans 30 years of daily closes, then the chart draws weekly buckets covering the whole range from its first week', () => {
    const ts: number[] = [];
    for (let t = Date.UTC(1988, 0, 4); t < Date.UTC(2018, 0, 1); t += DAY) {
      const wd = new Date(t).getUTCDay();
      if (wd !== 0 && wd !== 6) ts.push(t + DAY);
    }
    assert.equal(chooseBucket(ts), 'week');
    const pts = bucketSeries(
      ts,
      ts.map((_, i) => i),
      'week',
    );
    assert.ok(pts.length <= 2000 && pts.length > 1500);
    assert.equal(new Date(pts[0]!.time * 1000).toISOString().slice(0, 10), '1988-01-04');
    assert.equal(pts[pts.length - 1]!.value, ts.length - 1, 'the last point is the last equity');
    for (let i = 1; i < pts.length; i++) assert.ok(pts[i]!.time > pts[i - 1]!.time);
    assert.equal(chooseBucket(ts.slice(0, 1500)), 'day');
  });

  test('when a report is rendered, then ruin is defined once and the HTML and JSON carry the same sections', () => {
    const series = ['AAA', 'BBB', 'CCC'].map((s, i) => walk(s, 11 + i, 500));
    const result = runBacktest({ strategy: new ReferenceAiStrategy(['1d']), series, seed: 3 });
    const a = analyse(result, { runs: 100, series, ruinLoss: 0.1, blockLength: 10 });
    const input = {
      title: 'sections',
      result,
      ...a,
      price: series[0],
      header: { dataSource: 'seeded random walk' },
    };
    const html = renderReport(input);
    const json = reportJson(input);
    assert.equal(a.metrics.ruin.level, 90_000);
    assert.equal(a.monteCarlo.tradeResample!.ruinLevel, 90_000);
    assert.equal(a.monteCarlo.blockBootstrap!.ruinLevel, 90_000);
    assert.match(html, /equity at or below \$90,000\.00 \(a loss of 10\.00% of the starting equity\)/);
    assert.ok(!/Risk of ruin/.test(html), 'no second ruin figure');
    for (const h of [
      'Date range',
      'Data source',
      'Starting cash',
      'Cost: commission',
      'Annualisation',
      'Monthly returns',
      'Open positions at the end',
      'block bootstrap of returns',
      'resampled trades (re-sized)',
      'buy-and-hold, equal weight: AAA, BBB, CCC',
    ])
      assert.ok(html.includes(h), `the HTML shows "${h}"`);
    assert.equal(json.header.dataSource, 'seeded random walk');
    assert.equal(json.header.annualizationDays, 252);
    assert.equal(json.monteCarlo.blockBootstrap?.blockLength, 10);
    assert.equal(json.monteCarlo.tradeResample?.method, 'trade-resample');
    assert.ok(json.monthlyReturns && json.monthlyReturns.length >= 1);
    assert.ok(Array.isArray(json.openPositions));
    assert.match(json.benchmark!.label, /equal weight/);
    assert.ok(json.benchmark!.metrics.totalReturn > -1);
  });
});
