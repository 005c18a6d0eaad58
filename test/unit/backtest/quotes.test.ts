import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSharedBars, loadSharedQuotes, runBacktest } from '../../../src/backtest';
import type { Command } from '../../../src/model/command';
import {
  STRATEGY_API_VERSION,
  type BarFeed,
  type Strategy,
  type StrategyContext,
} from '../../../src/strategy/types';
import { sharedDataOrSkip } from '../../support/shared-data';

/** Buys and sells 100 shares every 30 bars: enough round trips to measure the spread paid. */
class RoundTrips implements Strategy {
  readonly name = 'round-trips';
  readonly apiVersion = STRATEGY_API_VERSION;
  readonly warmUpBars = 1;
  readonly timeframes = ['1m'] as const;
  private n = 0;
  onBar(ctx: StrategyContext, bars: BarFeed): Command[] {
    this.n++;
    if (this.n % 30 !== 0) return [];
    const px = bars.last('SPY', '1m')!.close;
    const held = ctx.portfolio.position('SPY')?.qty ?? 0;
    return [
      ctx.orders.submit(
        ctx.orders.market('SPY', held > 0 ? 'sell' : 'buy', 100, { intent: held > 0 ? 'exit' : 'entry' }),
        px,
      ),
    ];
  }
}

describe('quotes in the backtest', () => {
  test('when minute quotes are present, then fills pay the quoted half spread instead of the volatility model', (t) => {
    const dir = sharedDataOrSkip(t);
    if (!dir) return;
    const range = { from: Date.UTC(2013, 9, 7, 13, 30), to: Date.UTC(2013, 9, 7, 20, 0) };
    const bars = loadSharedBars(dir, 'lean_equity_usa', 'SPY', '1m', range);
    const quotes = loadSharedQuotes(dir, 'lean_equity_usa', 'SPY', range);
    assert.ok(bars.ts.length > 300 && quotes.length > 300);
    const common = {
      series: [bars],
      startingCash: 1e6,
      risk: { maxPositionFraction: 0.05, staleDataMs: 60 * 60_000 },
      fill: { impactCoefficient: 0, maxParticipation: 0 },
    };
    const withQ = runBacktest({ ...common, strategy: new RoundTrips(), quotes: { SPY: quotes } });
    const without = runBacktest({
      ...common,
      strategy: new RoundTrips(),
      fill: { ...common.fill, spreadVolMultiplier: 5 },
    });
    assert.ok(withQ.fills.length >= 10);
    // SPY's quoted spread is about a cent: the half spread paid per share stays near half a cent
    const perShare = (r: typeof withQ) =>
      r.fills.reduce((s, f) => s + f.slippage, 0) / r.fills.reduce((s, f) => s + f.qty, 0);
    assert.ok(
      perShare(withQ) > 0 && perShare(withQ) < 0.01,
      `quoted half spread per share ${perShare(withQ)}`,
    );
    assert.notEqual(perShare(withQ), perShare(without));
  });
});
