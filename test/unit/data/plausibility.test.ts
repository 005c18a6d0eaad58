import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHeader, parseBarLine, parseDecimal, type CsvLine } from '../../../src/data/csv';
import { ingestCsvFile } from '../../../src/data/ingest';
import { CRYPTO_24_7 } from '../../../src/market/calendar';
import { BarValidator, QuoteValidator, type RawBar } from '../../../src/market/validation';
import { RecordingRepo } from '../../support/recording-repo';

const MIN = 60_000;
const T0 = Date.UTC(2013, 9, 7, 14, 30); // a Monday, 10:30 New York
const bar = (ts: number, p = 100, volume = 1000): RawBar => ({
  ts,
  open: p,
  high: p + 1,
  low: p - 1,
  close: p,
  volume,
});
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

async function* linesOf(texts: string[]): AsyncGenerator<CsvLine[]> {
  yield texts.map((text, i) => ({ lineNo: i + 1, text }));
}

void describe('plausibility of timestamps and values', () => {
  void test('when a bar is stamped 2099, then it is an implausible_ts rejection and the bars after it are still accepted', () => {
    const v = new BarValidator({ symbol: 'IBM', timeframe: '1m', now: () => T0 + 60 * MIN });
    assert.equal(v.check(bar(T0), 'f:2').accepted, true);
    const future = v.check(bar(Date.UTC(2099, 2, 10, 14, 30)), 'f:3');
    assert.equal(future.accepted, false);
    assert.deepEqual(
      future.findings.map((f) => [f.rule, f.severity, f.field, f.location]),
      [['implausible_ts', 'reject', 'ts', 'f:3']],
    );
    for (let i = 1; i <= 5; i++) assert.equal(v.check(bar(T0 + i * MIN), `f:${3 + i}`).accepted, true);
  });

  void test('when a bar is more than one bar after now, then it is rejected; when the clock reaches it, then it is accepted', () => {
    let now = T0;
    const v = new BarValidator({ symbol: 'IBM', timeframe: '1m', now: () => now });
    assert.equal(v.check(bar(T0 + 2 * MIN), 'a').findings[0]!.rule, 'implausible_ts');
    assert.equal(v.check(bar(T0 + MIN), 'b').accepted, true, 'now + one bar is allowed');
    now = T0 + 10 * MIN;
    assert.equal(
      v.check(bar(T0 + 2 * MIN), 'c').accepted,
      true,
      'a long-lived validator reads the clock again',
    );
  });

  void test("when a bar is before the instrument's first plausible day or a configured floor, then it is rejected", () => {
    const equity = new BarValidator({ symbol: 'IBM', timeframe: '1d' });
    assert.equal(equity.check(bar(Date.UTC(1915, 2, 10)), 'x').findings[0]!.rule, 'implausible_ts');
    assert.equal(equity.check(bar(Date.UTC(1962, 0, 2)), 'x').accepted, true, 'real 1960s daily bars stay');
    const crypto = new BarValidator({ symbol: 'BTCUSD', timeframe: '1d', calendar: CRYPTO_24_7 });
    assert.equal(crypto.check(bar(Date.UTC(2008, 5, 1)), 'x').findings[0]!.rule, 'implausible_ts');
    const floored = new BarValidator({ symbol: 'IBM', timeframe: '1d', minTs: Date.UTC(2000, 0, 1) });
    assert.equal(floored.check(bar(Date.UTC(1999, 11, 31)), 'x').findings[0]!.rule, 'implausible_ts');
    const nan = new BarValidator({ symbol: 'IBM', timeframe: '1m' });
    assert.equal(nan.check(bar(NaN), 'x').findings[0]!.rule, 'implausible_ts');
  });

  void test('when prices or volumes are absurd, denormal or not numbers, then each is an implausible_value naming its field', () => {
    const cases: Array<[Partial<RawBar>, string]> = [
      [{ open: 1e308, high: 1e308, low: 1e308, close: 1e308 }, 'open'],
      [{ open: 1e-310, high: 1e-310, low: 1e-310, close: 1e-310 }, 'open'],
      [{ high: Infinity }, 'high'],
      [{ volume: 1e300 }, 'volume'],
      [{ volume: 1e-310 }, 'volume'],
      [{ volume: NaN }, 'volume'],
    ];
    for (const [patch, field] of cases) {
      const v = new BarValidator({ symbol: 'IBM', timeframe: '1m' });
      const r = v.check({ ...bar(T0), ...patch }, 'f:9');
      assert.equal(r.accepted, false, JSON.stringify(patch));
      const f = r.findings.find((x) => x.rule === 'implausible_value')!;
      assert.equal(f.field, field, JSON.stringify(patch));
      assert.equal(f.location, 'f:9');
    }
    const tiny = new BarValidator({ symbol: 'SHIBBTC', timeframe: '1m', calendar: CRYPTO_24_7 });
    assert.equal(
      tiny.check({ ts: T0, open: 2e-10, high: 3e-10, low: 1e-10, close: 2e-10, volume: 1e-8 }, 'x').accepted,
      true,
      'tiny real prices stay',
    );
  });

  void test('when quotes carry absurd sizes or prices or a future time, then they are rejected naming the field', () => {
    const q = new QuoteValidator('IBM', { now: () => T0 });
    const base = { ts: T0 - MIN, bid: 100, ask: 100.1, bidSize: 5, askSize: 5 };
    assert.equal(q.check({ ...base, bid: 1e-310 }, 'x').findings[0]!.field, 'bid');
    assert.equal(q.check({ ...base, askSize: 1e300 }, 'x').findings[0]!.field, 'ask_size');
    assert.equal(q.check({ ...base, ts: Date.UTC(2099, 0, 5) }, 'x').findings[0]!.rule, 'implausible_ts');
    assert.equal(q.check(base, 'x').accepted, true);
  });

  void test('when a decimal underflows (1e-400) or overflows, then parsing names the field instead of PostgreSQL failing later', () => {
    assert.match(String(parseDecimal('1e-400')), /out of range \(underflows to 0\)/);
    assert.equal(parseDecimal('0e-400'), 0);
    assert.equal(parseDecimal('0.000'), 0);
    const row = parseBarLine('2013-10-07T14:30:00Z,1,2,0.5,1.5,1e-400');
    assert.ok('problem' in row);
    assert.equal(row.field, 'volume');
  });

  void test('when a header is wrong, then the error names the column and never quotes the line', () => {
    assert.throws(
      () => checkHeader('TOPSECRET,a,b', ['ts', 'open'], 'x.csv:1'),
      (e: Error) => /header column 1: expected "ts"/.test(e.message) && !/topsecret/i.test(e.message),
    );
  });

  void test('when a file has a 2099 row, then the rows after it are stored and only that line is rejected', async () => {
    const texts = ['ts,open,high,low,close,volume'];
    for (let i = 0; i < 10; i++) texts.push(`${iso(T0 + i * MIN)},100,101,99,100,10`);
    texts.splice(4, 0, '2099-03-10T14:30:00Z,100,101,99,100,10');
    const repo = new RecordingRepo();
    const s = await ingestCsvFile({ path: 'set/1min/IBM.csv', repo, lines: linesOf(texts) });
    assert.equal(s.rowsStored, 10);
    assert.equal(repo.barRows.length, 10);
    assert.deepEqual(
      repo.findings.map((f) => [f.rule, f.location, f.field]),
      [['implausible_ts', 'set/1min/IBM.csv:5', 'ts']],
    );
  });
});
