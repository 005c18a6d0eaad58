import { describe, test } from 'node:test';
import { allocBarColumns } from '../../../src/model/bar';
import assert from 'node:assert/strict';
import { mulberry32, runBacktest } from '../../../src/backtest';
import type { BarColumns } from '../../../src/model/bar';
import { parseClientOrderId } from '../../../src/model/client-order-id';
import { DeterministicOrderFactory } from '../../../src/strategy/order-factory';
import { DEFAULT_REFERENCE_PARAMS, ReferenceAiStrategy } from '../../../src/strategy/reference-ai';
import { assertStrategyCompatible, type Prediction, type PredictionSet } from '../../../src/strategy/types';

function trending(symbol: string, seed: number, n: number, volBurst = 0.3): BarColumns {
  const rnd = mulberry32(seed);
  const c = allocBarColumns(symbol, '1d', n);
  let px = 80;
  let drift = 0.004;
  for (let i = 0; i < n; i++) {
    if (i % 50 === 0) drift = (rnd() < 0.5 ? -1 : 1) * (0.002 + rnd() * 0.004);
    const o = px;
    const cl = o * (1 + drift + (rnd() - 0.5) * 0.02);
    c.ts[i] = Date.UTC(2019, 0, 1) + i * 86_400_000;
    c.open[i] = o;
    c.close[i] = cl;
    c.high[i] = Math.max(o, cl) * 1.005;
    c.low[i] = Math.min(o, cl) * 0.995;
    c.volume[i] = 1e6 * (rnd() < volBurst ? 3 : 1);
    px = cl;
  }
  return c;
}

/** `nA` bars of whipsaw (the drift flips every 4 bars, so trend entries mostly lose), then `nB` bars of steady uptrend. */
function whipsawThenTrend(symbol: string, seed: number, nA: number, nB: number): BarColumns {
  const rnd = mulberry32(seed);
  const n = nA + nB;
  const c = allocBarColumns(symbol, '1d', n);
  let px = 80;
  let drift = 0.004;
  for (let i = 0; i < n; i++) {
    if (i >= nA) drift = 0.004;
    else if (i % 4 === 0) drift = (rnd() < 0.5 ? -1 : 1) * (0.01 + rnd() * 0.01);
    const o = px;
    const cl = o * (1 + drift + (rnd() - 0.5) * 0.02);
    c.ts[i] = Date.UTC(2019, 0, 1) + i * 86_400_000;
    c.open[i] = o;
    c.close[i] = cl;
    c.high[i] = Math.max(o, cl) * 1.005;
    c.low[i] = Math.min(o, cl) * 0.995;
    c.volume[i] = 1e6 * (rnd() < 0.3 ? 3 : 1);
    px = cl;
  }
  return c;
}

describe('ReferenceAiStrategy', () => {
  test('when built, then it declares interface version and a warm-up that covers its slowest indicator', () => {
    const s = new ReferenceAiStrategy(['1d']);
    assertStrategyCompatible(s);
    assert.ok(s.warmUpBars >= DEFAULT_REFERENCE_PARAMS.emaSlow);
    assert.ok(s.warmUpBars >= DEFAULT_REFERENCE_PARAMS.atrPeriod + 1);
    assert.throws(() => new ReferenceAiStrategy(['1d'], { emaFast: 40, emaSlow: 20 }), /emaFast/);
  });

  test('when no model predictions are given, then it trades on indicator signals and tags them', () => {
    const r = runBacktest({
      strategy: new ReferenceAiStrategy(['1d']),
      series: [trending('AAA', 1, 400), trending('BBB', 2, 400)],
    });
    assert.ok(r.trades.length > 3);
    assert.ok(r.trades.every((t) => t.model === 'indicators' && /^tier [123]$/.test(t.tier)));
    // every entry went through sizing: never above the 5% single-position cap at its reference price
    for (const f of r.fills.filter((x) => x.tag?.intent === 'entry'))
      assert.ok(f.qty * f.price <= 0.05 * 100_000 * 1.1);
  });

  test('when a model predicts with high confidence and agrees with the trend, then entries carry its name and tier 1', () => {
    const series = [trending('AAA', 3, 300)];
    const model =
      (conf: number) =>
      (feed: {
        updated: ReadonlyArray<{ symbol: string }>;
        last(s: string, tf: '1d'): { close: number } | undefined;
      }): PredictionSet => {
        const out: Record<string, Prediction[]> = {};
        for (const u of feed.updated) {
          const h = feed.last(u.symbol, '1d')!;
          // a "model" that reads the trend of the last bars only (no future): sign of the close vs a slow anchor
          out[u.symbol] = [
            {
              model: 'xgb-test',
              timeframe: '1d',
              expectedReturn: h.close > 0 ? 0.08 * (series[0]!.close[0]! < h.close ? 1 : -1) : 0,
              confidence: conf,
              horizonBars: 10,
            },
          ];
        }
        return out;
      };
    const r = runBacktest({
      strategy: new ReferenceAiStrategy(['1d']),
      series,
      predictions: { name: 'xgb-test', predict: (req) => model(0.9)(req.feed) },
    });
    assert.ok(r.trades.length > 0, 'a confident model must produce trades');
    assert.ok(r.trades.every((t) => t.model === 'xgb-test' && t.tier === 'tier 1'));
    const weak = runBacktest({
      strategy: new ReferenceAiStrategy(['1d']),
      series,
      predictions: { name: 'xgb-test', predict: (req) => model(0.52)(req.feed) },
    });
    assert.equal(weak.trades.length, 0, 'confidence below tier 3 (0.55) must not trade');
  });

  test("when a tier's measured edge turned negative in a whipsaw regime, then entries resume once a trend returns", () => {
    // Before: Kelly came from all closed trades; once it was <= 0 sizing gave 0 shares, no trade closed any
    // more, the statistics froze and the strategy never traded again (0 entries in the trend phase here).
    const nA = 600;
    const r = runBacktest({
      strategy: new ReferenceAiStrategy(['1d']),
      series: [whipsawThenTrend('AAA', 8, nA, 400), whipsawThenTrend('BBB', 1008, nA, 400)],
      // a 1% half spread: the whipsaw must cost the trend follower (its 46 trades net +$919 at the default daily spread)
      fill: { minHalfSpreadBps: 100 },
    });
    const trendStart = Date.UTC(2019, 0, 1) + nA * 86_400_000;
    const early = r.trades.filter((t) => t.entryTs < trendStart);
    const late = r.trades.filter((t) => t.entryTs >= trendStart);
    assert.ok(early.length >= DEFAULT_REFERENCE_PARAMS.kellyMinTrades, `${early.length} whipsaw trades`);
    assert.ok(
      early.reduce((a, t) => a + t.pnl, 0) < 0,
      'the whipsaw phase must lose for the test to mean anything',
    );
    assert.ok(late.length >= 10, `only ${late.length} entries in the 400-bar trend after the losing phase`);
  });

  test('when the Kelly window is shorter than the trades Kelly needs, then construction fails naming it', () => {
    assert.throws(
      () => new ReferenceAiStrategy(['1d'], { kellyMinTrades: 20, kellyWindow: 10 }),
      /kellyWindow: 10/,
    );
  });

  test('when volume never confirms, then no entry is taken', () => {
    const r = runBacktest({
      strategy: new ReferenceAiStrategy(['1d']),
      series: [trending('AAA', 4, 300, 0)],
    });
    assert.equal(r.submitted, 0);
  });

  test('when positions are held, then every exit names why (stop, take profit, trailing, peak, time)', () => {
    const r = runBacktest({
      strategy: new ReferenceAiStrategy(['1d']),
      series: [trending('AAA', 1, 600), trending('BBB', 2, 600), trending('CCC', 5, 600)],
    });
    const reasons = new Set(r.trades.map((t) => t.exitReason));
    for (const x of reasons)
      assert.ok(
        [
          'ATR stop',
          'take profit',
          'trailing stop',
          'peak passed',
          'max holding time',
          'end of day',
        ].includes(x),
        `unexpected exit reason ${x}`,
      );
    assert.ok(reasons.size >= 2);
  });

  test('when the order factory builds orders, then client order ids are <session>:<barTs>:<symbol>:<seq> and restart per bar', () => {
    const f = new DeterministicOrderFactory('sess-1');
    f.setBar(1000);
    const a = f.market('AAA', 'buy', 1);
    const b = f.limit('BBB', 'sell', 2, 10);
    f.setBar(2000);
    const c = f.market('AAA', 'buy', 1);
    assert.deepEqual(parseClientOrderId(a.clientOrderId), {
      session: 'sess-1',
      barTs: 1000,
      symbol: 'AAA',
      seq: 0,
    });
    assert.equal(parseClientOrderId(b.clientOrderId)!.seq, 1);
    assert.equal(c.clientOrderId, 'sess-1:2000:AAA:0');
  });
});
