import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Bar } from '../../../src/model/bar';
import { barsToColumns, columnsToBars } from '../../../src/model/bar';
import { aggregateBars, aggregateColumns, barCloseMs, bucketStart } from '../../../src/market/aggregate';
import { CRYPTO_24_7, dateLabelMs, sessionCloseMs, sessionOpenMs } from '../../../src/market/calendar';

const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

function minutes(fromMs: number, toMs: number, symbol = 'SPY'): Bar[] {
  const out: Bar[] = [];
  let p = 100;
  for (let t = fromMs, i = 0; t < toMs; t += MIN, i++) {
    const o = p;
    const c = p + ((i * 7) % 5) / 100 - 0.02;
    out.push({
      symbol,
      timeframe: '1m',
      ts: t,
      open: o,
      high: Math.max(o, c) + 0.01,
      low: Math.min(o, c) - 0.01,
      close: c,
      volume: 100 + i,
      vwap: (o + c) / 2,
      tradeCount: 3,
    });
    p = c;
  }
  return out;
}

void describe('aggregation 1m → 5m/15m/1h/1d', () => {
  const day = '2013-10-07';
  const open = sessionOpenMs(day);
  const close = sessionCloseMs(day);
  // 04:00–20:00 New York, like the extended-hours minute files.
  const ext = minutes(open - 330 * MIN, close + 240 * MIN);

  void test('when a full extended day is aggregated to 1h, then the first bar is labelled 09:00 and holds only 09:30-09:59 (Alpaca 1Hour style)', () => {
    const hours = aggregateBars(ext, '1h');
    assert.equal(hours.length, 7);
    assert.equal(iso(hours[0]!.ts), '2013-10-07T13:00:00.000Z');
    const first30 = ext.filter((b) => b.ts >= open && b.ts < open + 30 * MIN);
    assert.equal(hours[0]!.open, first30[0]!.open);
    assert.equal(hours[0]!.close, first30.at(-1)!.close);
    assert.equal(
      hours[0]!.volume,
      first30.reduce((s, b) => s + b.volume, 0),
    );
    assert.equal(iso(hours.at(-1)!.ts), '2013-10-07T19:00:00.000Z');
    assert.equal(barCloseMs(hours[0]!.ts, '1h'), open + 30 * MIN);
    assert.equal(barCloseMs(hours.at(-1)!.ts, '1h'), close);
  });

  void test('when aggregated to 5m and 15m, then regular-session buckets are complete and none spans the close', () => {
    const b5 = aggregateBars(ext, '5m');
    const b15 = aggregateBars(ext, '15m');
    assert.equal(b5.length, 78);
    assert.equal(b15.length, 26);
    assert.equal(b5[0]!.ts, open);
    assert.ok(b5.every((b) => b.ts + 5 * MIN <= close));
    assert.equal(
      b15.reduce((s, b) => s + b.volume, 0),
      b5.reduce((s, b) => s + b.volume, 0),
    );
    assert.equal(b5[0]!.tradeCount, 15);
  });

  void test('when aggregated to 1d, then the bar is keyed by the date label and spans exactly the regular session', () => {
    const [d] = aggregateBars(ext, '1d');
    const reg = ext.filter((b) => b.ts >= open && b.ts < close);
    assert.equal(d!.ts, dateLabelMs(day));
    assert.equal(d!.open, reg[0]!.open);
    assert.equal(d!.close, reg.at(-1)!.close);
    assert.equal(d!.high, Math.max(...reg.map((b) => b.high)));
    assert.equal(barCloseMs(d!.ts, '1d'), close);
    const [e] = aggregateBars(ext, '1d', { session: 'extended' });
    assert.equal(
      e!.volume,
      ext.reduce((s, b) => s + b.volume, 0),
    );
  });

  void test('when the session closes early (2013-11-29), then the last hour bar is 12:00 and ends at 13:00', () => {
    const o = sessionOpenMs('2013-11-29');
    const c = sessionCloseMs('2013-11-29');
    const hours = aggregateBars(minutes(o - 60 * MIN, c + 120 * MIN), '1h');
    assert.equal(hours.length, 4);
    assert.equal(iso(hours.at(-1)!.ts), '2013-11-29T17:00:00.000Z');
    assert.equal(barCloseMs(hours.at(-1)!.ts, '1h'), c);
  });

  void test('when crypto minutes cross midnight, then buckets follow the UTC clock and 1d is the UTC day', () => {
    const start = Date.UTC(2018, 3, 4, 22, 0);
    const bars = minutes(start, start + 4 * 60 * MIN, 'BTCUSD');
    const hours = aggregateBars(bars, '1h', { calendar: CRYPTO_24_7 });
    assert.equal(hours.length, 4);
    const days = aggregateBars(bars, '1d', { calendar: CRYPTO_24_7 });
    assert.deepEqual(
      days.map((d) => iso(d.ts)),
      ['2018-04-04T00:00:00.000Z', '2018-04-05T00:00:00.000Z'],
    );
  });

  void test('when bars are out of order, then aggregation refuses and names the index', () => {
    const bars = minutes(open, open + 3 * MIN);
    assert.throws(() => aggregateBars([bars[1]!, bars[0]!], '5m'), /bars\[1\]\.ts/);
  });

  void test('when a holiday minute is bucketed, then it belongs to no bar', () => {
    assert.equal(bucketStart(Date.UTC(2013, 10, 28, 15, 0), '5m'), null);
  });

  void test('when random minute subsets are aggregated, then columns and bars agree and volume is conserved', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 390, maxLength: 390 }),
        fc.constantFrom('5m' as const, '15m' as const, '1h' as const, '1d' as const),
        (keep, tf) => {
          const bars = minutes(open, close).filter((_, i) => keep[i]);
          const viaBars = aggregateBars(bars, tf);
          const viaCols = columnsToBars(aggregateColumns(barsToColumns('SPY', '1m', bars), tf));
          assert.deepEqual(
            viaCols,
            viaBars.map(({ vwap: _v, tradeCount: _t, ...rest }) => rest),
          );
          const total = bars.reduce((s, b) => s + b.volume, 0);
          assert.equal(
            viaBars.reduce((s, b) => s + b.volume, 0),
            total,
          );
          for (const b of viaBars)
            assert.ok(b.low <= Math.min(b.open, b.close) && b.high >= Math.max(b.open, b.close));
        },
      ),
      { numRuns: 200 },
    );
  });
});
