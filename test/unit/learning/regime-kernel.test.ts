import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runBacktest } from '../../../src/backtest/engine';
import { regimeByDay, type RegimeOptions, type RegimeState } from '../../../src/learning/regime';
import { NYSE, addDays } from '../../../src/market/calendar';
import type { BarColumns } from '../../../src/model/bar';
import type { Command } from '../../../src/model/command';
import { mulberry32 } from '../../../src/model/random';
import { riskLimits } from '../../../src/risk/types';
import { ReferenceAiStrategy } from '../../../src/strategy/reference-ai';
import {
  STRATEGY_API_VERSION,
  type BarFeed,
  type Strategy,
  type StrategyContext,
} from '../../../src/strategy/types';
import { snapshotAccount } from '../../../src/trading/account';
import { TradingKernel } from '../../../src/trading/kernel';

/** Daily bars: calm, then a crash (−2% a day at 4% volatility), then calm again. */
function dailyBars(): { cols: BarColumns; closeTimes: number[] } {
  const ts: number[] = [];
  const closeTimes: number[] = [];
  for (let d = '2024-01-02'; ts.length < 150; d = addDays(d, 1)) {
    const s = NYSE.sessionFor(d);
    if (!s) continue;
    ts.push(Date.parse(`${d}T00:00:00Z`));
    closeTimes.push(s.closeMs);
  }
  const rnd = mulberry32(21);
  let p = 100;
  const close = ts.map((_, i) => {
    const crash = i >= 90 && i < 105;
    const z = Math.sqrt(-2 * Math.log(Math.max(1e-12, rnd()))) * Math.cos(2 * Math.PI * rnd());
    return (p *= Math.exp(crash ? -0.02 + 0.04 * z : 0.01 * z));
  });
  const f = (x: number[]) => Float64Array.from(x);
  return {
    cols: {
      symbol: 'X',
      timeframe: '1d',
      ts: f(ts),
      open: f(close),
      high: f(close.map((c) => c * 1.01)),
      low: f(close.map((c) => c * 0.99)),
      close: f(close),
      volume: f(close.map(() => 1e6)),
    },
    closeTimes,
  };
}

/** Buys one share when flat and sells it the next day; records the regime its context reports. */
class Prober implements Strategy {
  readonly name = 'prober';
  readonly apiVersion = STRATEGY_API_VERSION;
  readonly warmUpBars = 1;
  readonly timeframes = ['1d'] as const;
  readonly regime?: Partial<RegimeOptions>;
  readonly seen: Array<{ t: number; state: RegimeState | undefined }> = [];
  constructor(regime?: Partial<RegimeOptions>) {
    if (regime) this.regime = regime;
  }
  onBar(ctx: StrategyContext, bars: BarFeed): Command[] {
    this.seen.push({ t: ctx.now, state: ctx.regime?.('X') });
    if (ctx.portfolio.openOrders('X').length) return [];
    if (ctx.portfolio.position('X')) return [ctx.orders.flatten('X', 'next day')];
    const o = ctx.orders.market('X', 'buy', 1, { intent: 'entry' });
    return [ctx.orders.submit(o, bars.last('X', '1d')!.close)];
  }
}

// the volatility breaker would also act on the crash: out of the way, so the regime rule is what is seen
const LIMITS = { volatilitySpikeRatio: 1000 };

describe('regime in the trading kernel', () => {
  const { cols, closeTimes } = dailyBars();
  const expected = regimeByDay(closeTimes, cols.close);

  test('when a strategy declares regime and the market crashes, then the kernel goes REDUCING (crisis rule) and entries are denied until it passes', () => {
    const prober = new Prober({});
    const r = runBacktest({ strategy: prober, series: [cols], risk: LIMITS, startingCash: 100_000 });
    const crisis = r.riskModeChanges.filter(
      (c) => c.to === 'REDUCING' && /^regime: crisis in X/.test(c.reason),
    );
    assert.equal(crisis.length, 1, JSON.stringify(r.riskModeChanges));
    const firstCrisisDay = expected.find((d) => d.state === 'crisis')!.day;
    assert.equal(
      crisis[0]!.ts,
      NYSE.sessionFor(firstCrisisDay)!.closeMs,
      'REDUCING at the close of the first crisis day',
    );
    assert.ok(
      r.riskModeChanges.some((c) => c.from === 'REDUCING' && c.to === 'ACTIVE' && c.ts > crisis[0]!.ts),
    );
    assert.ok((r.deniedByRule.reducing ?? 0) > 0, 'entries were denied while REDUCING');
    // the strategy saw the detector's state of each completed day
    const byClose = new Map(expected.map((d) => [NYSE.sessionFor(d.day)!.closeMs, d.state]));
    for (const s of prober.seen)
      if (byClose.has(s.t)) assert.equal(s.state, byClose.get(s.t), new Date(s.t).toISOString());
  });

  test('when a strategy does not declare regime, then the kernel neither detects nor applies it', () => {
    const prober = new Prober();
    const r = runBacktest({ strategy: prober, series: [cols], risk: LIMITS, startingCash: 100_000 });
    assert.ok(!r.riskModeChanges.some((c) => c.reason.startsWith('regime')));
    assert.ok(prober.seen.every((s) => s.state === undefined));
  });

  test('when a session steps the kernel bar by bar (bars appended as they arrive), then the crisis rule acts at the same decisions as in the backtest', () => {
    const backtest = runBacktest({
      strategy: new Prober({}),
      series: [cols],
      risk: LIMITS,
      startingCash: 100_000,
    });
    const kernel = new TradingKernel(
      {
        strategy: new Prober({}),
        session: 's',
        seed: 1,
        limits: riskLimits(LIMITS),
        start: { equity: 100_000 },
      },
      [{ symbol: 'X', timeframe: '1d' }],
    );
    const account = snapshotAccount({
      equity: 100_000,
      cash: 100_000,
      buyingPower: 100_000,
      positions: [],
      orders: [],
    });
    for (let i = 0; i < cols.ts.length; i++) {
      kernel.append([
        {
          symbol: 'X',
          timeframe: '1d',
          ts: cols.ts[i]!,
          open: cols.open[i]!,
          high: cols.high[i]!,
          low: cols.low[i]!,
          close: cols.close[i]!,
          volume: cols.volume[i]!,
        },
      ]);
      const t = kernel.nextStep();
      kernel.advance(t);
      const step = kernel.decide(t, account);
      assert.ok(!(step instanceof Promise));
    }
    const modes = (xs: typeof backtest.riskModeChanges) => xs.map((c) => [c.ts, c.to, c.reason]);
    assert.deepEqual(modes(kernel.riskModeChanges), modes(backtest.riskModeChanges));
    assert.deepEqual(kernel.regimeStates(), { X: expected[expected.length - 1]!.state });
  });

  test('when the reference strategy is given regime options, then it declares them to the kernel; by default it does not', () => {
    assert.deepEqual(new ReferenceAiStrategy(['5m', '1h'], { regime: { warmUpDays: 10 } }).regime, {
      warmUpDays: 10,
    });
    assert.equal(new ReferenceAiStrategy(['5m']).regime, undefined);
  });
});
