import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCommand, evaluateMode } from '../../../src/risk/engine';
import { kelly, sizePosition, tierAllocation, DEFAULT_SIZING } from '../../../src/risk/sizing';
import { DEFAULT_RISK_LIMITS, type RiskState } from '../../../src/risk/types';
import type { Command, SubmitCommand } from '../../../src/model/command';
import { riskState } from '../../support/risk-state';

const state = (over: Partial<RiskState> = {}): RiskState => riskState(['SPY'], over);
const buy = (qty: number, over: Partial<SubmitCommand> = {}): SubmitCommand => ({
  kind: 'submit',
  refPrice: 100,
  order: { clientOrderId: 'c', symbol: 'SPY', side: 'buy', qty, type: 'market', timeInForce: 'day' },
  ...over,
});
const engine = { check: (c: Command, st: RiskState) => checkCommand(c, st, DEFAULT_RISK_LIMITS) };

describe('risk engine (checkCommand, evaluateMode)', () => {
  test('when HALTED, then entries are denied by rule "halted" but an exit is approved', () => {
    const s = state({
      mode: 'HALTED',
      modeReason: 'test',
      positions: [{ symbol: 'SPY', qty: 10, price: 100 }],
    });
    const d = engine.check(buy(1), s);
    assert.deepEqual(d.approved ? null : d.rule, 'halted');
    const exit = engine.check({ ...buy(10), order: { ...buy(10).order, side: 'sell' } }, s);
    assert.deepEqual(exit, { approved: true, riskReducing: true });
  });

  test('when a position would exceed 5% of equity, then it is denied by "single_position" with the numbers', () => {
    const d = engine.check(buy(51), state());
    assert.equal(d.approved, false);
    assert.ok(!d.approved && d.rule === 'single_position' && /5\.10% of equity/.test(d.reason));
    assert.equal(engine.check(buy(50), state()).approved, true);
  });

  test('when the newest bar is older than the stale limit, then entries are denied by "stale_data"', () => {
    const d = engine.check(buy(1), state({ now: 1_000_000 + DEFAULT_RISK_LIMITS.staleDataMs + 1 }));
    assert.ok(!d.approved && d.rule === 'stale_data');
  });

  // the new day that re-activates is the kernel's (test/unit/trading/kernel.test.ts, the loss breaker case)
  test('when the day loses 3%, then the breaker halts and asks to flatten', () => {
    const ev = evaluateMode(state({ equity: 97_000 }), DEFAULT_RISK_LIMITS);
    assert.deepEqual([ev.mode, ev.flatten], ['HALTED', true]);
  });

  test('when volatility spikes, then the mode is REDUCING', () => {
    assert.equal(evaluateMode(state({ volatilityRatio: 3 }), DEFAULT_RISK_LIMITS).mode, 'REDUCING');
    assert.equal(evaluateMode(state({ volatilityRatio: 1.2 }), DEFAULT_RISK_LIMITS).mode, 'ACTIVE');
  });

  test('when equity is under $25k with 3 day trades in the window, then entries are denied by the PDT rule', () => {
    const d = engine.check(
      buy(1),
      state({
        equity: 20_000,
        dayStartEquity: 20_000,
        monthStartEquity: 20_000,
        quarterStartEquity: 20_000,
        buyingPower: 20_000,
        dayTradesInWindow: 3,
      }),
    );
    assert.ok(!d.approved && d.rule === 'pattern_day_trader');
  });
});

describe('sizePosition', () => {
  test('when the stop is 2 dollars away, then at most 2% of equity is at risk and the 5% cap holds', () => {
    const r = sizePosition({ equity: 100_000, price: 100, stopPrice: 98, tier: 1, confidence: 1 });
    assert.ok(r.qty * 2 <= 2000);
    assert.ok(r.qty * 100 <= 5000);
  });

  test('when Kelly is negative, then size is zero with the reason', () => {
    assert.ok(kelly(0.4, 1) < 0);
    const r = sizePosition({ equity: 100_000, price: 100, stopPrice: 95, tier: 1, winRate: 0.4, payoff: 1 });
    assert.deepEqual([r.qty, r.binding], [0, 'no_edge']);
  });

  test('when tiers differ, then tier 1 allocates 3-5%, tier 2 1-2%, tier 3 0.5-1%', () => {
    assert.equal(tierAllocation(DEFAULT_SIZING, 1, 0), 0.03);
    assert.equal(tierAllocation(DEFAULT_SIZING, 1, 1), 0.05);
    assert.equal(tierAllocation(DEFAULT_SIZING, 2, 1), 0.02);
    assert.equal(tierAllocation(DEFAULT_SIZING, 3, 0), 0.005);
    const wide = (tier: 1 | 2 | 3) =>
      sizePosition({ equity: 100_000, price: 100, stopPrice: 50, tier, confidence: 1 }).qty;
    assert.ok(wide(1) >= wide(2) && wide(2) >= wide(3));
  });

  test('when in drawdown, then size shrinks, and at the zero-size drawdown it is zero', () => {
    const base = sizePosition({ equity: 100_000, price: 100, stopPrice: 50, tier: 1 }).qty;
    const dd = sizePosition({ equity: 100_000, price: 100, stopPrice: 50, tier: 1, drawdown: 0.2 }).qty;
    assert.ok(dd < base);
    assert.equal(sizePosition({ equity: 100_000, price: 100, stopPrice: 50, tier: 1, drawdown: 0.3 }).qty, 0);
  });
});
