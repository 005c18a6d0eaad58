import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { DailyRoutineInput, SessionInput } from '../../../contracts/session';
import {
  DailyRoutineInputSchema,
  SessionInputSchema,
  describeInputIssues,
} from '../../../contracts/session-input';
import { sessionStartFlags, type SessionStartFlags } from '../../../cli/commands/session';
import { addDays, isNyseTradingDay } from '../../../src/market/calendar';
import { ConfigError } from '../../../src/model/errors';
import { parseTimeframe } from '../../../src/model/timeframe';

/**
 * Issue 18's fuzz over the session's inputs: generated valid inputs are accepted by the one schema
 * (contracts/session-input.ts); generated malformed ones — one field broken at a time — are refused, and the
 * refusal names that field. The same over `session start`'s flags (strings, as commander gives them): every
 * malformed flag is a ConfigError naming the flag, raised before the CLI connects to anything.
 */

// ---- valid inputs -------------------------------------------------------------------------------------------

const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const symbolArb = fc
  .tuple(
    fc.constantFrom(...letters),
    fc.string({ unit: fc.constantFrom(...`${letters}0123456789.`), maxLength: 5 }),
  )
  .map(([a, b]) => a + b);
/** NYSE trading days 2000–2030 */
const tradingDayArb = fc
  .integer({ min: 0, max: 30 * 365 })
  .map((n) => addDays('2000-01-03', n))
  .filter(isNyseTradingDay);
const labelArb = fc
  .tuple(
    fc.constantFrom(...'abcXYZ019'),
    fc.string({ unit: fc.constantFrom(...'abcdefXYZ0123456789_.:-'), maxLength: 20 }),
  )
  .map(([a, b]) => a + b);
const strategyArb = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 30 }),
      fc.double({ min: 0.001, max: 1, noNaN: true }),
    )
    .map(([fast, d, weight]) => ({ name: 'sma-trend' as const, fast, slow: fast + d, weight })),
  fc.record(
    {
      name: fc.constant('reference-ai' as const),
      timeframes: fc.subarray(['1m', '5m', '15m'] as const, { minLength: 1 }),
      params: fc.record(
        {
          emaFast: fc.integer({ min: 2, max: 9 }),
          allowShort: fc.boolean(),
          minConsensus: fc.double({ min: 0.5, max: 1, noNaN: true }),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['name'] },
  ),
  fc.record(
    {
      name: fc.constant('model-signal' as const),
      weight: fc.double({ min: 0.001, max: 1, noNaN: true }),
      minConfidence: fc.double({ min: 0.5, max: 0.99, noNaN: true }),
      timeframe: fc.constantFrom('1m' as const, '5m' as const),
    },
    { requiredKeys: ['name', 'weight'] },
  ),
  fc.double({ min: 0.001, max: 1, noNaN: true }).map((weight) => ({ name: 'buy-and-hold' as const, weight })),
);

const validInputArb: fc.Arbitrary<SessionInput> = fc.record(
  {
    sessionId: labelArb,
    account: labelArb,
    mode: fc.constantFrom('replay' as const, 'paper' as const, 'live' as const),
    date: tradingDayArb,
    candidates: fc.array(symbolArb, { minLength: 1, maxLength: 8 }),
    maxSymbols: fc.integer({ min: 1, max: 500 }),
    modelId: labelArb,
    strategy: strategyArb,
    seed: fc.integer({ min: -1000, max: 1_000_000 }),
    limits: fc.record(
      {
        maxPositionFraction: fc.double({ min: 0.001, max: 1, noNaN: true }),
        maxOrdersPerCycle: fc.integer({ min: 1, max: 1000 }),
      },
      { requiredKeys: [] },
    ),
    execution: fc.record(
      {
        algo: fc.constantFrom('twap' as const, 'vwap' as const),
        slices: fc.integer({ min: 1, max: 999 }),
        algoMinNotional: fc.option(fc.integer({ min: 1, max: 1e6 }), { nil: null }),
      },
      { requiredKeys: [] },
    ),
    replayBarDelayMs: fc.integer({ min: 0, max: 10_000 }),
    maxBars: fc.integer({ min: 1, max: 390 }),
    flattenBarsBeforeClose: fc.integer({ min: 0, max: 10 }),
    taskQueues: fc.record({ io: labelArb, execution: labelArb }, { requiredKeys: [] }),
    stream: fc.record(
      {
        feed: fc.constantFrom('iex' as const, 'sip' as const),
        clockPollMs: fc.integer({ min: 10, max: 5000 }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['sessionId', 'account', 'mode', 'date', 'candidates'] },
);

// ---- malformations: one field broken, and the field the refusal must name ---------------------------------

/** Not a whole number ≥ 1: zero, negatives, fractions, NaN, infinities, strings, null, objects. */
const notCountArb = fc.oneof(
  fc.integer({ max: 0 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, null, true, {}, []),
  fc.string(),
);
const notDateArb = fc.oneof(
  fc.string().filter((s) => !/^\d{4}-\d{2}-\d{2}$/.test(s)),
  // impossible days of the right shape
  fc
    .tuple(
      fc.integer({ min: 1900, max: 2099 }),
      fc.integer({ min: 13, max: 99 }),
      fc.integer({ min: 1, max: 28 }),
    )
    .map(([y, m, d]) => `${y}-${m}-${String(d).padStart(2, '0')}`),
  fc
    .tuple(
      fc.integer({ min: 1900, max: 2099 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 32, max: 99 }),
    )
    .map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${d}`),
  fc.constantFrom('tomorrow', 'today', '2024-02-30', '2023-02-29', '2013-13-45', '0000-00-00', 20240312),
  // weekends and holidays (equity candidates)
  fc
    .integer({ min: 0, max: 30 * 365 })
    .map((n) => addDays('2000-01-01', n))
    .filter((d) => !isNyseTradingDay(d)),
);
const badSymbolArb = fc.oneof(
  fc.string({ minLength: 1 }).filter((s) => !/^[A-Z][A-Z0-9.\-/]{0,14}$/.test(s)),
  fc.constantFrom('aapl', '', ' SPY', 'SPY;DROP', 'A'.repeat(16), '../etc'),
);
const unknownKeyArb = fc
  .string({ minLength: 1, maxLength: 12 })
  .filter((k) => !['__proto__', 'constructor', 'toString'].includes(k));

type Mutation = { field: string; apply: (i: SessionInput) => unknown };
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  notDateArb.map((v) => ({ field: 'date', apply: (i: SessionInput) => ({ ...i, date: v }) })),
  notCountArb.map((v) => ({ field: 'maxBars', apply: (i: SessionInput) => ({ ...i, maxBars: v }) })),
  notCountArb.map((v) => ({ field: 'maxSymbols', apply: (i: SessionInput) => ({ ...i, maxSymbols: v }) })),
  fc
    .oneof(
      fc.double({ noNaN: true }).filter((x) => !Number.isInteger(x)),
      fc.string(),
      fc.constant(null),
    )
    .map((v) => ({ field: 'seed', apply: (i: SessionInput) => ({ ...i, seed: v }) })),
  fc
    .oneof(fc.integer({ max: -1 }), fc.string(), fc.constant(Number.NaN))
    .map((v) => ({ field: 'replayBarDelayMs', apply: (i: SessionInput) => ({ ...i, replayBarDelayMs: v }) })),
  fc.tuple(badSymbolArb, fc.nat(5)).map(([v, at]) => ({
    field: 'candidates',
    apply: (i: SessionInput) => {
      const c = [...i.candidates];
      c.splice(Math.min(at, c.length), 0, v);
      return { ...i, candidates: c };
    },
  })),
  fc.constant({ field: 'candidates', apply: (i: SessionInput) => ({ ...i, candidates: [] }) }),
  fc
    .string()
    .filter((m) => !['replay', 'paper', 'live'].includes(m))
    .map((v) => ({ field: 'mode', apply: (i: SessionInput) => ({ ...i, mode: v }) })),
  unknownKeyArb
    .filter((k) => !(k in { sessionId: 1, account: 1, mode: 1, date: 1, candidates: 1 }))
    .map((k) => ({ field: 'input', apply: (i: SessionInput) => ({ ...i, [`x${k}`]: 1 }) })),
  unknownKeyArb.map((k) => ({
    field: 'strategy',
    apply: (i: SessionInput) => ({
      ...i,
      strategy: { name: 'sma-trend', fast: 3, slow: 8, weight: 0.04, [`x${k}`]: 1 },
    }),
  })),
  unknownKeyArb.map((k) => ({
    field: 'strategy.params',
    apply: (i: SessionInput) => ({ ...i, strategy: { name: 'reference-ai', params: { [`x${k}`]: 1 } } }),
  })),
  fc
    .string()
    .filter((n) => !['sma-trend', 'reference-ai', 'model-signal', 'buy-and-hold'].includes(n))
    .map((v) => ({ field: 'strategy.name', apply: (i: SessionInput) => ({ ...i, strategy: { name: v } }) })),
  fc
    .oneof(fc.double({ min: 1.0001, max: 1e6, noNaN: true }), fc.double({ max: 0, noNaN: true }))
    .map((v) => ({
      field: 'limits.maxPositionFraction',
      apply: (i: SessionInput) => ({ ...i, limits: { maxPositionFraction: v } }),
    })),
  unknownKeyArb.map((k) => ({
    field: 'limits',
    apply: (i: SessionInput) => ({ ...i, limits: { [`x${k}`]: 0.1 } }),
  })),
  notCountArb.map((v) => ({
    field: 'execution.slices',
    apply: (i: SessionInput) => ({ ...i, execution: { slices: v } }),
  })),
  fc
    .string()
    .filter((a) => a !== 'twap' && a !== 'vwap')
    .map((v) => ({
      field: 'execution.algo',
      apply: (i: SessionInput) => ({ ...i, execution: { algo: v } }),
    })),
  fc
    .string()
    .filter((s) => !/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/.test(s) || s.length > 100)
    .map((v) => ({ field: 'sessionId', apply: (i: SessionInput) => ({ ...i, sessionId: v }) })),
);

describe('session input schema under fuzz (issue 18)', () => {
  test('when valid session inputs are generated, then the schema accepts every one unchanged', () => {
    fc.assert(
      fc.property(validInputArb, (input) => {
        const r = SessionInputSchema.safeParse(input);
        assert.ok(r.success, r.success ? '' : describeInputIssues(r.error.issues));
        assert.deepEqual(JSON.parse(JSON.stringify(r.data)), JSON.parse(JSON.stringify(input)));
      }),
      { numRuns: 500 },
    );
  });

  test('when one field of a valid input is malformed, then the schema refuses it naming that field', () => {
    fc.assert(
      fc.property(validInputArb, mutationArb, (input, m) => {
        const bad = m.apply(input);
        const r = SessionInputSchema.safeParse(bad);
        assert.equal(r.success, false, `accepted: ${m.field} = ${JSON.stringify(bad)}`);
        const text = describeInputIssues(r.error!.issues);
        assert.ok(
          text.split('; ').some((part) => part.startsWith(`${m.field}`)),
          `${m.field} not named in: ${text}`,
        );
      }),
      { numRuns: 2000 },
    );
  });

  test('when daily routine inputs are malformed, then the routine schema refuses them naming the field', () => {
    const valid: DailyRoutineInput = { account: 'paper', mode: 'paper', candidates: ['AAPL'], maxSymbols: 5 };
    assert.ok(DailyRoutineInputSchema.safeParse(valid).success);
    fc.assert(
      fc.property(
        fc.oneof(
          notCountArb.map((v) => ['maxSymbols', { ...valid, maxSymbols: v }] as const),
          notCountArb.map((v) => ['maxBars', { ...valid, maxBars: v }] as const),
          badSymbolArb.map((v) => ['candidates', { ...valid, candidates: [v] }] as const),
          unknownKeyArb.map((k) => ['input', { ...valid, [`x${k}`]: 1 }] as const),
          fc
            .constantFrom(
              { kind: 'synthetic', seed: 1 },
              { kind: 'csv', dataset: '../x' },
              { kind: 'alpaca', feed: 'otc' },
            )
            .map((v) => ['backfillSource', { ...valid, backfillSource: v }] as const),
        ),
        ([field, bad]) => {
          const r = DailyRoutineInputSchema.safeParse(bad);
          assert.equal(r.success, false, `accepted ${JSON.stringify(bad)}`);
          assert.match(describeInputIssues(r.error!.issues), new RegExp(`^${field}`));
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ---- the CLI's flags ----------------------------------------------------------------------------------------

const GOOD_FLAGS: SessionStartFlags = {
  mode: 'replay',
  date: '2024-03-12',
  symbols: 'AAPL,MSFT',
  account: 'paper',
  maxSymbols: '100',
  replayDelayMs: '0',
  seed: '1',
  strategy: 'sma-trend',
};

/** What a numeric flag reads a string as (numberFlag's grammar: a decimal number, trimmed), else NaN. */
function flagNumber(s: string): number {
  const t = s.trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN;
}

/** A string that is not a whole number ≥ 1 as a flag ("1e-0", ".1e1" and "2.0" are whole numbers). */
const notCountFlagArb = fc.oneof(
  fc.integer({ max: 0 }).map(String),
  fc.string().filter((s) => {
    const n = flagNumber(s);
    return !(Number.isInteger(n) && n >= 1);
  }),
  fc.constantFrom('0', '-1', '1.5', 'abc', '', 'NaN', 'Infinity', '0x10', '1e400', ' '),
);

type FlagMutation = { flag: string; flags: SessionStartFlags };
const flagMutationArb: fc.Arbitrary<FlagMutation> = fc.oneof(
  notDateArb
    .filter((d): d is string => typeof d === 'string')
    .map((v) => ({ flag: '--date', flags: { ...GOOD_FLAGS, date: v } })),
  notCountFlagArb.map((v) => ({ flag: '--max-bars', flags: { ...GOOD_FLAGS, maxBars: v } })),
  notCountFlagArb.map((v) => ({ flag: '--max-symbols', flags: { ...GOOD_FLAGS, maxSymbols: v } })),
  notCountFlagArb.map((v) => ({ flag: '--algo-slices', flags: { ...GOOD_FLAGS, algoSlices: v } })),
  fc
    .string()
    // "0E0" or "2.0" is the whole number the flag reads
    .filter((s) => {
      const n = flagNumber(s);
      return !(Number.isInteger(n) && n >= -(2 ** 31) && n <= 2 ** 32 - 1);
    })
    .map((v) => ({ flag: '--seed', flags: { ...GOOD_FLAGS, seed: v } })),
  fc
    .string()
    .filter((s) => {
      // "-0" reads as 0, a valid delay
      const n = flagNumber(s);
      return !(n >= 0 && n <= 3_600_000);
    })
    .map((v) => ({ flag: '--replay-delay-ms', flags: { ...GOOD_FLAGS, replayDelayMs: v } })),
  fc
    .string()
    .filter((m) => !['replay', 'paper', 'live'].includes(m))
    .map((v) => ({ flag: '--mode', flags: { ...GOOD_FLAGS, mode: v } })),
  badSymbolArb
    .filter((s) => s.trim() !== '' && !s.includes(','))
    .filter((s) => !/^[A-Z][A-Z0-9.\-/]{0,14}$/.test(s.trim().toUpperCase()))
    .map((v) => ({ flag: '--symbols', flags: { ...GOOD_FLAGS, symbols: `AAPL,${v}` } })),
  unknownKeyArb.map((k) => ({
    flag: '--strategy-params',
    flags: {
      ...GOOD_FLAGS,
      strategyParams: JSON.stringify({ fast: 3, slow: 8, weight: 0.04, [`x${k}`]: 1 }),
    },
  })),
  fc
    .string()
    .filter((s) => !['sma-trend', 'reference-ai', 'model-signal', 'buy-and-hold'].includes(s))
    .map((v) => ({ flag: '--strategy', flags: { ...GOOD_FLAGS, strategy: v } })),
  fc
    .string()
    .filter((s) => {
      // some part is no timeframe (aliases such as D or 60 are timeframes)
      try {
        for (const p of s.split(',')) parseTimeframe(p.trim(), '--tf');
        return false;
      } catch {
        return true;
      }
    })
    .map((v) => ({ flag: '--tf', flags: { ...GOOD_FLAGS, tf: v } })),
);

describe('session start flags under fuzz (issue 18)', () => {
  test('when the flags are valid, then they pass the check', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 390 }),
        fc.integer({ min: 1, max: 500 }),
        tradingDayArb,
        fc.array(symbolArb, { minLength: 1, maxLength: 5 }),
        (bars, n, date, symbols) => {
          const { flags } = sessionStartFlags({
            ...GOOD_FLAGS,
            maxBars: String(bars),
            maxSymbols: String(n),
            date,
            symbols: symbols.join(','),
          });
          assert.equal(flags.maxBars, bars);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('when one flag is malformed, then the check throws a ConfigError naming that flag', () => {
    fc.assert(
      fc.property(flagMutationArb, ({ flag, flags }) => {
        let error: unknown;
        try {
          sessionStartFlags(flags);
        } catch (e) {
          error = e;
        }
        assert.ok(error instanceof ConfigError, `accepted ${flag}: ${JSON.stringify(flags)}`);
        assert.ok(
          error.message.split('; ').some((part) => part.startsWith(flag)),
          `${flag} not named in: ${error.message}`,
        );
      }),
      { numRuns: 2000 },
    );
  });
});
