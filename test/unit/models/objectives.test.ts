import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DollarProfitObjective, dollarPnl, sizingNotional } from '../../../src/models/objectives';

const sample = fc.record({
  s: fc.double({ min: -4, max: 4, noNaN: true }),
  r: fc.double({ min: -0.02, max: 0.02, noNaN: true }),
  notional: fc.double({ min: 100, max: 50_000, noNaN: true }),
  costRate: fc.double({ min: 0, max: 0.002, noNaN: true }),
  penalty: fc.double({ min: 0, max: 0.01, noNaN: true }),
});

describe('dollar-profit objective', () => {
  test('when checked by central finite differences, then the gradient and the exact Hessian match the loss', () => {
    fc.assert(
      fc.property(sample, ({ s, r, notional, costRate, penalty }) => {
        // Two rows so the notional scale is not trivially the row's own notional.
        const obj = new DollarProfitObjective(
          { forwardReturn: [r, 0.001], notional: [notional, 10_000] },
          { costRate, positionPenalty: penalty },
        );
        const h = 1e-5;
        const fdGrad = (obj.loss(0, s + h) - obj.loss(0, s - h)) / (2 * h);
        const { grad, hess } = obj.derivatives(0, s);
        const scale = Math.max(1e-6, Math.abs(fdGrad), Math.abs(grad));
        assert.ok(Math.abs(fdGrad - grad) / scale < 1e-4, `grad ${grad} vs fd ${fdGrad}`);
        const fdHess = (obj.derivatives(0, s + h).grad - obj.derivatives(0, s - h).grad) / (2 * h);
        const hs = Math.max(1e-6, Math.abs(fdHess), Math.abs(hess));
        assert.ok(Math.abs(fdHess - hess) / hs < 1e-3, `hess ${hess} vs fd ${fdHess}`);
      }),
      { numRuns: 300 },
    );
  });

  test('when handed to XGBoost, then every Hessian is strictly positive and each gradient equals the exact one', () => {
    fc.assert(
      fc.property(fc.array(sample, { minLength: 1, maxLength: 30 }), (rows) => {
        const obj = new DollarProfitObjective(
          { forwardReturn: rows.map((x) => x.r), notional: rows.map((x) => x.notional) },
          { costRate: rows[0]!.costRate, positionPenalty: rows[0]!.penalty },
        );
        const margins = Float32Array.from(rows, (x) => x.s);
        const { grad, hess } = obj.gradHess(margins);
        rows.forEach((_, i) => {
          assert.ok(hess[i]! > 0, `hess[${i}] = ${hess[i]}`);
          const exact = obj.derivatives(i, margins[i]!);
          assert.ok(Math.abs(grad[i]! - exact.grad) <= 1e-6 * Math.max(1, Math.abs(exact.grad)));
          if (exact.hess > 1e-4) assert.ok(Math.abs(hess[i]! - exact.hess) <= 1e-5 * exact.hess + 1e-9);
        });
      }),
    );
  });

  test('when the forward return is zero, then costs and the penalty push the position toward flat', () => {
    const obj = new DollarProfitObjective(
      { forwardReturn: [0, 0], notional: [5000, 5000] },
      { costRate: 0.001, positionPenalty: 0.001 },
    );
    assert.ok(obj.derivatives(0, 0.5).grad > 0, 'long position: gradient says reduce');
    assert.ok(obj.derivatives(0, -0.5).grad < 0, 'short position: gradient says reduce');
    assert.ok(obj.loss(0, 0) < obj.loss(0, 0.5));
  });

  test('when P&L is computed, then costs are charged on traded notional and flat returns are neither hits nor misses', () => {
    const s = dollarPnl(
      [10, -10, 10],
      { forwardReturn: [0.01, 0.01, 0], notional: [1000, 1000, 1000] },
      0.001,
    );
    // tanh(10) ≈ 1: +10, −10, 0 gross; 1 dollar of costs each.
    assert.ok(Math.abs(s.grossPnl - 0) < 1e-6);
    assert.ok(Math.abs(s.costs - 3) < 1e-6);
    assert.equal(s.trades, 2);
    assert.equal(s.hitRate, 0.5);
  });

  test('when sizing, then fixed-fractional notional is capped at the max position fraction', () => {
    assert.equal(sizingNotional(100_000, 0.5, 0.02, 0.05), 4000);
    assert.equal(sizingNotional(100_000, 0.001, 0.02, 0.05), 5000);
    assert.throws(() => sizingNotional(0, 0.01), /equity: must be > 0/);
  });

  test('when inputs disagree in length or are invalid, then the error names the field', () => {
    assert.throws(
      () =>
        new DollarProfitObjective(
          { forwardReturn: [0.1], notional: [1, 2] },
          { costRate: 0, positionPenalty: 0 },
        ),
      /forwardReturn: length 1/,
    );
    assert.throws(
      () =>
        new DollarProfitObjective(
          { forwardReturn: [0.1], notional: [-1] },
          { costRate: 0, positionPenalty: 0 },
        ),
      /notional\[0\]: must be >= 0/,
    );
  });
});
