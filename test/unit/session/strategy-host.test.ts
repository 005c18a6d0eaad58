import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sessionBounds } from '../../../src/execution/simulator/calendar';
import { DEFAULT_SIZING } from '../../../src/risk/sizing';
import { StrategyHost, type HostPortfolio } from '../../../src/session/strategy-host';
import { createStrategy, type StrategySpec } from '../../../src/strategy/registry';
import { syntheticDayBars } from '../../support/sim-bars';

const DATE = '2024-03-12';
const SYMBOLS = ['AAA', 'BBB', 'CCC'];
const SPECS: StrategySpec[] = [
  { name: 'sma-trend', fast: 3, slow: 8, weight: 0.04 },
  {
    name: 'reference-ai',
    params: {
      minConsensus: 0.5,
      volumeConfirm: 0.5,
      minRewardRisk: 1,
      universe: { minPrice: 1, minDollarVolume: 0, activeRelVolume: 0, activeAtrFraction: 0, focusTopN: 5 },
    },
  },
];

/** A portfolio that follows the commands crudely (fills every submit at once): enough to vary the inputs. */
function evolve(p: HostPortfolio, commands: ReturnType<StrategyHost['step']>['commands']): HostPortfolio {
  const qty = new Map(p.positions.map((x) => [x.symbol, x.qty]));
  for (const c of commands) {
    if (c.kind === 'submit')
      qty.set(
        c.order.symbol,
        (qty.get(c.order.symbol) ?? 0) + (c.order.side === 'buy' ? 1 : -1) * c.order.qty,
      );
    if (c.kind === 'flatten') qty.delete(c.symbol);
  }
  const positions = [...qty]
    .filter(([, q]) => q !== 0)
    .map(([symbol, q]) => ({ symbol, qty: q, avgPrice: 50, openedAt: 0 }));
  return { ...p, positions, equity: p.equity + 1, peakEquity: Math.max(p.peakEquity, p.equity + 1) };
}

describe('StrategyHost: the session runs a strategy as the backtester does, and a lost host is rebuilt exactly', () => {
  for (const spec of SPECS)
    test(`when a ${spec.name} host is rebuilt mid-day from the journaled portfolios, then it decides exactly as the host that never stopped`, () => {
      const bars = syntheticDayBars({ date: DATE, symbols: SYMBOLS, minutes: 200, seed: 5 });
      const open = sessionBounds(DATE).open;
      const make = () =>
        new StrategyHost(createStrategy(spec), {
          session: 'sess',
          symbols: SYMBOLS,
          seed: 3,
          sizing: DEFAULT_SIZING,
        });
      const live = make();
      live.append(bars);
      const journal: Array<{ at: number; p: HostPortfolio }> = [];
      let p: HostPortfolio = {
        equity: 100_000,
        cash: 100_000,
        buyingPower: 100_000,
        peakEquity: 100_000,
        positions: [],
        openOrders: [],
      };
      const outputs: string[] = [];
      let orders = 0;
      for (let i = 0; i < 200; i++) {
        const at = open + (i + 1) * 60_000;
        journal.push({ at, p });
        const out = live.step(at, p);
        outputs.push(JSON.stringify(out));
        orders += out.commands.length;
        p = evolve(p, out.commands);
      }
      assert.ok(orders > 0, `the strategy traded (${orders} commands)`);
      // Crash after bar 120: a fresh host steps through the journal and must continue identically.
      const rebuilt = make();
      rebuilt.append(bars.filter((b) => b.ts < open + 120 * 60_000));
      for (let i = 0; i < 120; i++) rebuilt.step(journal[i]!.at, journal[i]!.p);
      rebuilt.append(bars);
      for (let i = 120; i < 200; i++)
        assert.equal(JSON.stringify(rebuilt.step(journal[i]!.at, journal[i]!.p)), outputs[i], `bar ${i}`);
    });

  test('when a step would see a bar closing after its time, then it does not (no look-ahead) and steps must move forward', () => {
    const bars = syntheticDayBars({ date: DATE, symbols: ['AAA'], minutes: 20, seed: 1 });
    const open = sessionBounds(DATE).open;
    const host = new StrategyHost(createStrategy(SPECS[0]!), {
      session: 's',
      symbols: ['AAA'],
      seed: 1,
      sizing: DEFAULT_SIZING,
    });
    host.append(bars);
    const p: HostPortfolio = {
      equity: 1e5,
      cash: 1e5,
      buyingPower: 1e5,
      peakEquity: 1e5,
      positions: [],
      openOrders: [],
    };
    const out = host.step(open + 10 * 60_000, p);
    assert.equal(
      out.lastDataTs.AAA,
      open + 10 * 60_000,
      'the newest bar seen closes exactly at the step time',
    );
    assert.throws(() => host.step(open + 10 * 60_000, p), /closeTs/);
    // the participation rule's average volume: the stepped bars only, never a bar after the step
    const seen = bars.filter((b) => b.ts + 60_000 <= open + 10 * 60_000);
    const last3 = seen.slice(-3).reduce((a, b) => a + b.volume, 0) / 3;
    assert.equal(host.avgVolume('AAA', 3), last3);
    assert.equal(host.avgVolume('AAA', 1_000), seen.reduce((a, b) => a + b.volume, 0) / seen.length);
    assert.equal(host.avgVolume('ZZZ', 3), undefined);
  });

  test('when the strategy is not a 1m strategy, then the host refuses it naming the field', () => {
    assert.throws(
      () =>
        new StrategyHost(createStrategy({ name: 'reference-ai', timeframes: ['5m'] }), {
          session: 's',
          symbols: ['AAA'],
          seed: 1,
          sizing: DEFAULT_SIZING,
        }),
      /strategy\.timeframes/,
    );
  });
});
