import { describe, test } from 'node:test';
import { allocBarColumns } from '../../../src/model/bar';
import assert from 'node:assert/strict';
import { runBacktest, mulberry32 } from '../../../src/backtest';
import type { BarColumns } from '../../../src/model/bar';
import type { Command } from '../../../src/model/command';
import { TIMEFRAME_MS } from '../../../src/model/timeframe';
import { ReferenceAiStrategy } from '../../../src/strategy/reference-ai';
import {
  STRATEGY_API_VERSION,
  type BarFeed,
  type Strategy,
  type StrategyContext,
} from '../../../src/strategy/types';

function walk(symbol: string, seed: number, n: number, t0 = Date.UTC(2021, 0, 4)): BarColumns {
  const rnd = mulberry32(seed);
  const c = allocBarColumns(symbol, '1d', n);
  let px = 100;
  let drift = 0;
  for (let i = 0; i < n; i++) {
    if (i % 30 === 0) drift = (rnd() - 0.5) * 0.008;
    const o = px;
    const cl = o * (1 + drift + (rnd() - 0.5) * 0.03);
    c.ts[i] = t0 + i * TIMEFRAME_MS['1d'];
    c.open[i] = o;
    c.close[i] = cl;
    c.high[i] = Math.max(o, cl) * 1.004;
    c.low[i] = Math.min(o, cl) * 0.996;
    c.volume[i] = 1e6 * (0.5 + rnd() * (rnd() < 0.25 ? 4 : 1));
    px = cl;
  }
  return c;
}

/** Buys when tomorrow's close is higher: it can only know that by reading the bar after the clock. */
class PeekingStrategy implements Strategy {
  readonly name: string = 'peeking';
  readonly apiVersion = STRATEGY_API_VERSION;
  readonly warmUpBars = 1;
  readonly timeframes = ['1d'] as const;
  onBar(ctx: StrategyContext, bars: BarFeed): Command[] {
    const last = bars.last('AAA', '1d')!;
    const next = bars.barAt('AAA', '1d', last.ts + TIMEFRAME_MS['1d']); // one bar ahead
    if (next && next.close > last.close)
      return [ctx.orders.submit(ctx.orders.market('AAA', 'buy', 1), last.close)];
    return [];
  }
}

/** Reads only the past through the same API: must not be stopped. */
class HonestStrategy extends PeekingStrategy {
  override readonly name = 'honest';
  override onBar(ctx: StrategyContext, bars: BarFeed): Command[] {
    const last = bars.last('AAA', '1d')!;
    bars.barAt('AAA', '1d', last.ts);
    assert.equal(bars.history('AAA', '1d', 1_000).at(-1)!.ts, last.ts);
    return [];
  }
}

describe('backtest look-ahead guard', () => {
  const series = [walk('AAA', 1, 120)];

  test('when a strategy peeks one bar ahead, then the backtester stops it on the first peek', () => {
    const r = runBacktest({ strategy: new PeekingStrategy(), series });
    assert.ok(r.stopped, 'the run must be stopped');
    assert.equal(r.stopped.reason, 'look-ahead');
    assert.match(r.stopped.message, /closes after the clock/);
    assert.equal(r.submitted, 0);
    assert.equal(r.slices, 1);
  });

  test('when a strategy reads only completed bars, then it runs to the end', () => {
    const r = runBacktest({ strategy: new HonestStrategy(), series });
    assert.equal(r.stopped, undefined);
    assert.equal(r.barEvents, 120);
  });

  test('when future bars are perturbed, then every earlier order is unchanged', () => {
    const s = [walk('AAA', 5, 400), walk('BBB', 6, 400), walk('CCC', 7, 400)];
    const cut = 250;
    const perturbed = s.map((c) => {
      const p = {
        ...c,
        open: c.open.slice(),
        high: c.high.slice(),
        low: c.low.slice(),
        close: c.close.slice(),
        volume: c.volume.slice(),
      };
      for (let i = cut; i < c.ts.length; i++) {
        p.open[i] = p.open[i]! * 1.3;
        p.high[i] = p.high[i]! * 1.3;
        p.low[i] = p.low[i]! * 1.3;
        p.close[i] = p.close[i]! * 1.3;
        p.volume[i] = p.volume[i]! * 3;
      }
      return p;
    });
    const a = runBacktest({ strategy: new ReferenceAiStrategy(['1d']), series: s });
    const b = runBacktest({ strategy: new ReferenceAiStrategy(['1d']), series: perturbed });
    // everything that executed before the first perturbed bar opened must be identical
    const horizon = s[0]!.ts[cut]!;
    const before = (fills: typeof a.fills) =>
      fills.filter((f) => f.ts < horizon).map((f) => `${f.clientOrderId}|${f.qty}|${f.price}`);
    assert.ok(before(a.fills).length > 4, 'the fixture must trade before the cut');
    assert.deepEqual(before(b.fills), before(a.fills));
  });

  test('when the same inputs and seed run twice, then the order-list hash and equity are identical', () => {
    const s = [walk('AAA', 5, 300), walk('BBB', 6, 300)];
    const a = runBacktest({ strategy: new ReferenceAiStrategy(['1d']), series: s, seed: 9 });
    const b = runBacktest({ strategy: new ReferenceAiStrategy(['1d']), series: s, seed: 9 });
    assert.equal(a.orderHash, b.orderHash);
    assert.deepEqual(Array.from(a.equity), Array.from(b.equity));
  });
});
