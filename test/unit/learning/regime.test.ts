import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NYSE, addDays } from '../../../src/market/calendar';
import { mulberry32 } from '../../../src/model/random';
import { RegimeDetector, regimeByDay, regimeOptions } from '../../../src/learning/regime';

/** Trading days from a date, with their session close times. */
function tradingDays(from: string, n: number): Array<{ day: string; close: number; open: number }> {
  const out: Array<{ day: string; close: number; open: number }> = [];
  for (let d = from; out.length < n; d = addDays(d, 1)) {
    const s = NYSE.sessionFor(d);
    if (s) out.push({ day: d, close: s.closeMs, open: s.openMs });
  }
  return out;
}

/** Daily closes: calm drift-free returns (1% SD), then a crash (4% SD, −2% a day), then calm again. */
function dailySeries(seed: number) {
  const days = tradingDays('2024-01-02', 160);
  const rnd = mulberry32(seed);
  const closes: number[] = [];
  let p = 100;
  days.forEach((_, i) => {
    const crash = i >= 100 && i < 115;
    const z = Math.sqrt(-2 * Math.log(Math.max(1e-12, rnd()))) * Math.cos(2 * Math.PI * rnd());
    p *= Math.exp(crash ? -0.02 + 0.04 * z : 0.01 * z);
    closes.push(p);
  });
  return { days, closes, times: days.map((d) => d.close) };
}

describe('regime detector', () => {
  test('when a calm market crashes, then the state turns crisis within eight trading days and leaves it after volatility settles', () => {
    const { days, closes, times } = dailySeries(3);
    const byDay = regimeByDay(times, closes);
    assert.equal(
      byDay.length,
      days.length - 1,
      'one state per day after the first (a return needs two closes)',
    );
    const warm = byDay.slice(0, 29);
    assert.ok(warm.every((d) => d.state === 'warming-up'));
    const beforeCrash = byDay.slice(40, 99).map((d) => d.state);
    assert.ok(!beforeCrash.includes('crisis'), `no crisis before the crash: ${beforeCrash.join(',')}`);
    const crisisAt = byDay.findIndex((d, i) => i >= 99 && d.state === 'crisis');
    assert.ok(
      crisisAt >= 99 && crisisAt <= 99 + 8,
      `crisis on day ${crisisAt + 1} (crash starts on day 100)`,
    );
    assert.equal(byDay[crisisAt]!.day, days[crisisAt + 1]!.day);
    const last = byDay.slice(150).map((d) => d.state);
    assert.ok(!last.includes('crisis'), `calm again at the end: ${last.join(',')}`);
  });

  test('when closes after t change, then no state at or before t changes (fit on data up to t only)', () => {
    const { closes, times } = dailySeries(4);
    const t = 110;
    const perturbed = closes.map((c, i) => (i > t ? c * (1 + 0.5 * Math.sin(i)) : c));
    const a = regimeByDay(times, closes);
    const b = regimeByDay(times, perturbed);
    assert.deepEqual(b.slice(0, t), a.slice(0, t));
    assert.notDeepEqual(
      b.slice(t + 5),
      a.slice(t + 5),
      'the perturbation does change later states (control)',
    );
  });

  test('when minute bars are fed, then a day completes with the bar that closes at the session close', () => {
    const days = tradingDays('2024-03-01', 3);
    const d = new RegimeDetector({ warmUpDays: 1 });
    const completions: number[] = [];
    for (const day of days)
      for (let t = day.open + 60_000; t <= day.close; t += 60_000)
        if (d.update(t, 100 + (t % 7))) completions.push(t);
    // the first day only sets the reference close: days two and three complete at their closes
    assert.deepEqual(completions, [days[1]!.close, days[2]!.close]);
    assert.equal(d.day, days[2]!.day);
    assert.equal(d.days, 2);
  });

  test("when a day has no bar at the close, then the next day's first bar completes it", () => {
    const days = tradingDays('2024-03-01', 3);
    const d = new RegimeDetector({ warmUpDays: 1 });
    d.update(days[0]!.close, 100);
    d.update(days[1]!.close - 3_600_000, 101); // an hour before the close, then nothing that day
    assert.equal(d.days, 0);
    assert.equal(d.update(days[2]!.open + 60_000, 102), true);
    assert.equal(d.day, days[1]!.day);
    assert.equal(d.days, 1);
  });

  test('when an option is invalid, then the error names it', () => {
    assert.throws(() => regimeOptions({ fastHalfLifeDays: 80 }), /regime\.fastHalfLifeDays/);
    assert.throws(() => regimeOptions({ crisisShare: 0 }), /regime\.crisisShare/);
  });
});
