import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkCommand, evaluateMode, maxPositionsFor } from '../../../src/risk/engine';
import {
  RISK_RULES,
  riskLimits,
  type RiskMode,
  type RiskPosition,
  type RiskState,
} from '../../../src/risk/types';
import type { Command, SubmitCommand } from '../../../src/model/command';

const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF'];
const GROUPS = ['tech', 'tech', 'banks', 'banks', 'energy', undefined];
const SECTORS = ['IT', 'IT', 'FIN', 'FIN', 'EN', undefined];
const MIN = 60_000;

const step = fc.record({
  moves: fc.array(fc.double({ min: -0.15, max: 0.12, noNaN: true }), {
    minLength: SYMBOLS.length,
    maxLength: SYMBOLS.length,
  }),
  sym: fc.nat({ max: SYMBOLS.length - 1 }),
  side: fc.constantFrom('buy' as const, 'sell' as const),
  // order size as a fraction of equity, so streams hover around the limits instead of far beyond them
  sizeFrac: fc.double({ min: 0.001, max: 0.07, noNaN: true }),
  stopOffset: fc.option(fc.double({ min: -0.3, max: 0.3, noNaN: true }), { nil: undefined }),
  dataAgeMs: fc.integer({ min: 0, max: 12 * MIN }),
  volRatio: fc.double({ min: 0.3, max: 4, noNaN: true }),
  dayTrades: fc.nat({ max: 5 }),
  newDay: fc.integer({ min: 0, max: 7 }).map((x) => x === 0),
  // sometimes a command is checked before the breakers ran this bar: check must hold the line by itself
  breakersRan: fc.integer({ min: 0, max: 3 }).map((x) => x !== 0),
  // an operator halt now and then, so HALTED is exercised as often as the loss breakers
  operatorHalt: fc.integer({ min: 0, max: 19 }).map((x) => x === 0),
});

// limits vary per stream (defaults included), so every rule is driven to its edge, not only the default one
const limitsArb = fc.record({
  maxPositionFraction: fc.constantFrom(0.02, 0.05, 0.1),
  maxOpenRiskFraction: fc.constantFrom(0.02, 0.05, 0.2),
  maxCorrelatedFraction: fc.constantFrom(0.03, 0.1, 0.15),
  maxSectorFraction: fc.constantFrom(0.04, 0.25),
  dailyLossLimit: fc.constantFrom(0.003, 0.01, 0.03),
  monthlyLossLimit: fc.constantFrom(0.006, 0.08),
  quarterlyLossLimit: fc.constantFrom(0.01, 0.15),
  maxOrderNotional: fc.constantFrom(null, null, null, 500, 5_000),
  maxGrossExposure: fc.constantFrom(null, null, null, 0.08, 1),
});

const scenario = fc.record({
  limits: limitsArb,
  // losses already taken earlier this month / quarter, and the account's margin multiple (cash accounts are tight)
  dayLossSoFar: fc.double({ min: 0, max: 0.02, noNaN: true }),
  monthLossSoFar: fc.double({ min: 0, max: 0.05, noNaN: true }),
  quarterLossSoFar: fc.double({ min: 0, max: 0.05, noNaN: true }),
  marginMultiple: fc.constantFrom(0.06, 0.15, 1, 2),
  equity: fc.double({ min: 2_000, max: 3_000_000, noNaN: true }),
  prices: fc.array(fc.double({ min: 1, max: 900, noNaN: true }), {
    minLength: SYMBOLS.length,
    maxLength: SYMBOLS.length,
  }),
  steps: fc.array(step, { minLength: 1, maxLength: 25 }),
});

describe('risk engine (property)', () => {
  test('when 10,000 random command and price streams run, then no approved order breaches a limit and every denial names its rule', () => {
    let approvedEntries = 0;
    const deniedRules = new Set<string>();
    fc.assert(
      fc.property(scenario, (sc) => {
        const limits = riskLimits(sc.limits);
        const engine = { check: (c: Command, st: RiskState) => checkCommand(c, st, limits) };
        const prices = [...sc.prices];
        let cash = sc.equity;
        const pos = new Map<string, { qty: number; stop?: number }>();
        let mode: RiskMode = 'ACTIVE';
        let modeReason = '';
        let dayStart = sc.equity * (1 + sc.dayLossSoFar);
        const monthStart = dayStart * (1 + sc.monthLossSoFar);
        const quarterStart = monthStart * (1 + sc.quarterLossSoFar);
        let now = 1_700_000_000_000;
        const equityNow = () =>
          cash + SYMBOLS.reduce((s, sym, i) => s + (pos.get(sym)?.qty ?? 0) * prices[i]!, 0);
        const positions = (): RiskPosition[] =>
          SYMBOLS.flatMap((sym, i) => {
            const p = pos.get(sym);
            return p && p.qty !== 0
              ? [
                  {
                    symbol: sym,
                    qty: p.qty,
                    price: prices[i]!,
                    stopPrice: p.stop,
                    sector: SECTORS[i],
                    correlationGroup: GROUPS[i],
                  },
                ]
              : [];
          });
        for (const st of sc.steps) {
          now += MIN;
          st.moves.forEach((m, i) => (prices[i] = Math.max(0.5, prices[i]! * (1 + m))));
          const eq = equityNow();
          if (st.newDay) {
            dayStart = eq;
            if (mode === 'HALTED') mode = 'ACTIVE';
          }
          const gross = positions().reduce((s, p) => s + Math.abs(p.qty * p.price), 0);
          const base: RiskState = {
            mode,
            modeReason,
            now,
            equity: eq,
            buyingPower: Math.max(0, eq * sc.marginMultiple - gross),
            dayStartEquity: dayStart,
            monthStartEquity: monthStart,
            quarterStartEquity: quarterStart,
            positions: positions(),
            lastDataTs: Object.fromEntries(SYMBOLS.map((s) => [s, now - st.dataAgeMs])),
            dayTradesInWindow: st.dayTrades,
            volatilityRatio: st.volRatio,
            manualHalt: st.operatorHalt,
          };
          if (st.breakersRan) {
            const ev = evaluateMode(base, limits);
            mode = ev.mode;
            modeReason = ev.reason;
            if (ev.flatten) for (const p of pos.values()) p.qty = 0;
          }
          const state: RiskState = { ...base, mode, modeReason, positions: positions() };
          const sym = SYMBOLS[st.sym]!;
          const price = prices[st.sym]!;
          const stop =
            st.stopOffset === undefined
              ? undefined
              : price * (1 + (st.side === 'buy' ? -Math.abs(st.stopOffset) : Math.abs(st.stopOffset)));
          const qty = Math.max(1, Math.floor((st.sizeFrac * eq) / price));
          const cmd: SubmitCommand = {
            kind: 'submit',
            refPrice: price,
            riskStopPrice: stop,
            sector: SECTORS[st.sym],
            correlationGroup: GROUPS[st.sym],
            order: {
              clientOrderId: `c-${now}`,
              symbol: sym,
              side: st.side,
              qty,
              type: 'market',
              timeInForce: 'day',
            },
          };
          const before = pos.get(sym)?.qty ?? 0;
          const d = engine.check(cmd, state);
          if (!d.approved) {
            assert.ok((RISK_RULES as readonly string[]).includes(d.rule), `unknown rule ${d.rule}`);
            assert.ok(d.reason.length > 0, 'a denial must say why');
            deniedRules.add(d.rule);
            continue;
          }
          const after = before + (st.side === 'buy' ? qty : -qty);
          if (d.riskReducing) {
            assert.ok(
              Math.abs(after) <= Math.abs(before) && Math.sign(after) * Math.sign(before) >= 0,
              'a risk-reducing approval must not add exposure',
            );
          } else {
            approvedEntries++;
            // the state it was approved in allowed entries
            assert.equal(state.mode, 'ACTIVE');
            assert.ok((state.dayStartEquity - eq) / state.dayStartEquity < limits.dailyLossLimit);
            assert.ok((monthStart - eq) / monthStart < limits.monthlyLossLimit);
            assert.ok((quarterStart - eq) / quarterStart < limits.quarterlyLossLimit);
            assert.ok(st.dataAgeMs <= limits.staleDataMs);
            assert.ok(!(eq < limits.pdtEquityThreshold && st.dayTrades >= limits.pdtMaxDayTrades));
            const opening = Math.abs(after) - (Math.sign(after) === Math.sign(before) ? Math.abs(before) : 0);
            assert.ok(opening * price <= state.buyingPower + 1e-6, 'buying power');
          }
          cash -= (st.side === 'buy' ? 1 : -1) * qty * price;
          const p = pos.get(sym) ?? { qty: 0 };
          p.qty = after;
          if (!d.riskReducing && stop !== undefined) p.stop = stop;
          pos.set(sym, p);
          if (!d.riskReducing) {
            // post-trade book at the approval price: every limit holds (independent recomputation)
            const book = positions();
            const e = equityNow();
            assert.ok(Math.abs(e - eq) < 1e-6 * Math.max(1, eq));
            const symN = Math.abs(after * price);
            assert.ok(
              symN <= limits.maxPositionFraction * eq + 1e-6,
              `single position ${symN} > ${limits.maxPositionFraction * eq}`,
            );
            assert.ok(book.length <= maxPositionsFor(limits, eq), 'position count');
            if (limits.maxOrderNotional !== null)
              assert.ok(qty * price <= limits.maxOrderNotional + 1e-6, 'order notional');
            if (limits.maxGrossExposure !== null)
              assert.ok(
                book.reduce((s2, q) => s2 + Math.abs(q.qty * q.price), 0) <=
                  limits.maxGrossExposure * eq + 1e-6,
                'gross exposure',
              );
            const risk = book.reduce((s, q) => {
              const st2 = pos.get(q.symbol)!.stop;
              if (st2 === undefined) return s + Math.abs(q.qty) * q.price * limits.defaultStopFraction;
              return s + Math.abs(q.qty) * Math.max(0, q.qty > 0 ? q.price - st2 : st2 - q.price);
            }, 0);
            assert.ok(risk <= limits.maxOpenRiskFraction * eq + 1e-6, 'total open risk');
            const grp = GROUPS[st.sym] ?? sym;
            const g = book
              .filter((q) => (q.correlationGroup ?? q.symbol) === grp)
              .reduce((s, q) => s + Math.abs(q.qty * q.price), 0);
            assert.ok(g <= limits.maxCorrelatedFraction * eq + 1e-6, 'correlated exposure');
            const sec = SECTORS[st.sym];
            if (sec) {
              const sx = book
                .filter((q) => q.sector === sec)
                .reduce((s, q) => s + Math.abs(q.qty * q.price), 0);
              assert.ok(sx <= limits.maxSectorFraction * eq + 1e-6, 'sector exposure');
            }
          }
        }
      }),
      { numRuns: 10_000, seed: 20260102 },
    );
    // the generator must actually reach both outcomes, or the property proves nothing
    console.log(`approved entries ${approvedEntries}; rules seen: ${[...deniedRules].sort().join(', ')}`);
    assert.ok(approvedEntries > 1000, `only ${approvedEntries} entries approved`);
    // orders_per_cycle is a rule of the gate over one decision's batch, not_shortable one of crypto instruments
    // (both in test/unit/trading/kernel.test.ts); these streams trade equities one command at a time
    const elsewhere = ['invalid_order', 'orders_per_cycle', 'not_shortable'];
    for (const r of RISK_RULES.filter((x) => !elsewhere.includes(x)))
      assert.ok(deniedRules.has(r), `rule ${r} never exercised`);
  });
});
