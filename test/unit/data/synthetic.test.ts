import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticBars, syntheticMinuteBars } from '../../../src/data/synthetic';
import { BarValidator } from '../../../src/market/validation';
import { CRYPTO_24_7, sessionOpenMs } from '../../../src/market/calendar';

const from = Date.UTC(2024, 0, 1);
const to = Date.UTC(2024, 2, 1);

void describe('synthetic generator', () => {
  void test('when the same seed and range are generated twice or in pieces, then the bars are identical', () => {
    const whole = syntheticMinuteBars('SPY', from, to, 42);
    const mid = Date.UTC(2024, 1, 1);
    const pieces = [...syntheticMinuteBars('SPY', from, mid, 42), ...syntheticMinuteBars('SPY', mid, to, 42)];
    assert.deepEqual(pieces, whole);
    assert.notDeepEqual(syntheticMinuteBars('SPY', from, mid, 43), syntheticMinuteBars('SPY', from, mid, 42));
  });

  void test('when the bars are validated, then none is rejected and all fall in regular sessions', () => {
    const bars = syntheticMinuteBars('AAPL', from, to, 7);
    const v = new BarValidator({ symbol: 'AAPL', timeframe: '1m' });
    for (const b of bars) {
      const verdict = v.check(b, 'synthetic');
      assert.equal(verdict.accepted, true, JSON.stringify(verdict.findings));
    }
    assert.equal(bars.length, 41 * 390); // 21 + 20 NYSE sessions in Jan and Feb 2024, none early
  });

  void test('when volume is averaged by minute of day, then it is U-shaped (open and close above midday)', () => {
    const bars = syntheticMinuteBars('MSFT', from, to, 3);
    const byMinute = new Float64Array(390);
    for (const b of bars) {
      const day = new Date(b.ts).toISOString().slice(0, 10);
      byMinute[Math.round((b.ts - sessionOpenMs(day)) / 60_000)]! += b.volume;
    }
    const avg = (a: number, z: number) => byMinute.slice(a, z).reduce((s, x) => s + x, 0) / (z - a);
    assert.ok(avg(0, 30) > 1.5 * avg(180, 210));
    assert.ok(avg(360, 390) > 1.5 * avg(180, 210));
  });

  void test('when a long daily series is generated, then volatility switches regimes and overnight gaps exist', () => {
    const days = syntheticBars('QQQ', '1d', Date.UTC(2020, 0, 1), Date.UTC(2022, 0, 1), 11);
    assert.ok(days.length > 490);
    const rets = days.slice(1).map((d, i) => Math.abs(Math.log(d.close / days[i]!.close)));
    const sorted = [...rets].sort((a, b) => a - b);
    assert.ok(
      sorted[Math.floor(rets.length * 0.99)]! > 3 * sorted[Math.floor(rets.length * 0.5)]!,
      'fat tails from regimes',
    );
    const gaps = days.slice(1).filter((d, i) => d.open !== days[i]!.close).length;
    assert.ok(gaps > days.length * 0.9);
  });

  void test('when a crypto symbol is generated, then it trades around the clock', () => {
    const bars = syntheticBars('BTCUSD', '1h', Date.UTC(2024, 0, 6), Date.UTC(2024, 0, 7), 1);
    assert.equal(bars.length, 24);
    assert.ok(bars.every((b) => CRYPTO_24_7.isOpen(b.ts)));
  });
});
