import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gateCommands } from '../../../src/risk/gate';
import { maxPositionsFor } from '../../../src/risk/engine';
import { DEFAULT_RISK_LIMITS, type RiskState } from '../../../src/risk/types';
import type { Command, SubmitCommand } from '../../../src/model/command';
import { riskState } from '../../support/risk-state';

const SYMBOLS = Array.from({ length: 30 }, (_, i) => `S${String(i).padStart(2, '0')}`);

const state = (over: Partial<RiskState> = {}): RiskState => riskState(SYMBOLS, over);
const order = (symbol: string, side: 'buy' | 'sell', qty: number, refPrice = 100): SubmitCommand => ({
  kind: 'submit',
  refPrice,
  order: { clientOrderId: `c-${symbol}-${side}`, symbol, side, qty, type: 'market', timeInForce: 'day' },
});
const rules = (r: ReturnType<typeof gateCommands>) => r.denied.map((d) => `${d.symbol}:${d.rule}`);

describe('gateCommands: one bar batch against the limits', () => {
  test('when one bar holds more entries than positions allowed, then entries beyond the count are denied by "position_count" in the strategy order', () => {
    const max = maxPositionsFor(DEFAULT_RISK_LIMITS, 100_000);
    const batch = SYMBOLS.slice(0, max + 3).map((s) => order(s, 'buy', 10));
    const r = gateCommands(batch, state(), DEFAULT_RISK_LIMITS);
    assert.deepEqual(
      r.approved.map((a) => a.command.kind === 'submit' && a.command.order.symbol),
      SYMBOLS.slice(0, max),
    );
    assert.deepEqual(
      rules(r),
      SYMBOLS.slice(max, max + 3).map((s) => `${s}:position_count`),
    );
  });

  test('when a batch of entries together needs more than the buying power, then the entry that would overdraw it is denied', () => {
    // 3 × $40k each under a $100k buying power (limits wide open so only buying power binds)
    const limits = {
      ...DEFAULT_RISK_LIMITS,
      maxPositionFraction: 1,
      maxOpenRiskFraction: 1,
      maxCorrelatedFraction: 1,
    };
    const batch = ['S00', 'S01', 'S02'].map((s) => order(s, 'buy', 400));
    const r = gateCommands(batch, state(), limits);
    assert.equal(r.approved.length, 2);
    assert.deepEqual(rules(r), ['S02:buying_power']);
    assert.match(r.denied[0]!.reason, /buying power left is \$20000\.00/);
  });

  test('when exits and cancels come with the entries, then they are approved and not counted as exposure', () => {
    const max = maxPositionsFor(DEFAULT_RISK_LIMITS, 100_000);
    const held = SYMBOLS.slice(0, max).map((symbol) => ({ symbol, qty: 10, price: 100 }));
    const batch: Command[] = [
      ...SYMBOLS.slice(0, max).map((s) => order(s, 'sell', 10)),
      { kind: 'cancel', clientOrderId: 'x' },
      order(SYMBOLS[max]!, 'buy', 10),
    ];
    const r = gateCommands(batch, state({ positions: held }), DEFAULT_RISK_LIMITS);
    // the exits are not credited before they fill: the new entry would be one position too many
    assert.deepEqual(rules(r), [`${SYMBOLS[max]}:position_count`]);
    assert.equal(r.approved.filter((a) => a.riskReducing).length, max + 1);
  });

  test('when the input state is reused, then it is not changed by the gate', () => {
    const s = state();
    const before = JSON.stringify(s);
    gateCommands(
      SYMBOLS.slice(0, 5).map((x) => order(x, 'buy', 10)),
      s,
      DEFAULT_RISK_LIMITS,
    );
    assert.equal(JSON.stringify(s), before);
  });
});
