import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CRYPTO_24_7,
  NYSE,
  calendarFor,
  isOpen,
  nyDate,
  nyOffsetMs,
  nyseDayInfo,
  sessionCloseMs,
  sessionFor,
  sessionOpenMs,
} from '../../../src/market/calendar';

const iso = (ms: number) => new Date(ms).toISOString();

void describe('NYSE calendar', () => {
  void test('when a regular winter day is asked, then the session is 09:30-16:00 EST (14:30Z-21:00Z)', () => {
    const s = sessionFor('2013-01-15')!;
    assert.equal(iso(s.openMs), '2013-01-15T14:30:00.000Z');
    assert.equal(iso(s.closeMs), '2013-01-15T21:00:00.000Z');
    assert.equal(s.earlyClose, false);
  });

  void test('when a summer day is asked, then the session is in EDT (13:30Z-20:00Z)', () => {
    assert.equal(iso(sessionOpenMs('2013-10-07')), '2013-10-07T13:30:00.000Z');
    assert.equal(iso(sessionCloseMs('2013-10-07')), '2013-10-07T20:00:00.000Z');
  });

  void test('when the day after Thanksgiving 2013 is asked, then it closes early at 13:00 New York', () => {
    const s = sessionFor('2013-11-29')!;
    assert.equal(s.earlyClose, true);
    assert.equal(iso(s.closeMs), '2013-11-29T18:00:00.000Z');
    assert.equal(nyseDayInfo('2013-11-28').holiday, 'Thanksgiving Day');
  });

  void test('when Good Friday falls, then the exchange is closed', () => {
    for (const d of [
      '2000-04-21',
      '2008-03-21',
      '2013-03-29',
      '2019-04-19',
      '2024-03-29',
      '2025-04-18',
      '2030-04-19',
    ]) {
      assert.equal(sessionFor(d), null, d);
      assert.equal(nyseDayInfo(d).holiday, 'Good Friday');
    }
  });

  void test('when July 3 is a weekday before the 4th, then it closes at 13:00 (Wednesday only from 2013)', () => {
    for (const d of [
      '2000-07-03',
      '2001-07-03',
      '2003-07-03',
      '2006-07-03',
      '2007-07-03',
      '2008-07-03',
      '2012-07-03',
      '2013-07-03',
      '2014-07-03',
      '2017-07-03',
      '2018-07-03',
      '2019-07-03',
      '2023-07-03',
      '2024-07-03',
      '2025-07-03',
      '2029-07-03',
      '2030-07-03',
    ]) {
      const s = sessionFor(d)!;
      assert.ok(s, d);
      assert.equal(s.earlyClose, true, d);
      assert.equal(iso(s.closeMs), `${d}T17:00:00.000Z`);
    }
    assert.equal(sessionFor('2002-07-03')!.earlyClose, false);
    assert.equal(sessionFor('2002-07-05')!.earlyClose, true);
    // July 4 on a Saturday: the Friday is the holiday, no early close on the Thursday.
    assert.equal(sessionFor('2015-07-03'), null);
    assert.equal(sessionFor('2015-07-02')!.earlyClose, false);
    assert.equal(sessionFor('2026-07-03'), null);
  });

  void test('when Hurricane Sandy hit (2012-10-29/30), then both days are closed and 10-31 trades', () => {
    assert.equal(sessionFor('2012-10-29'), null);
    assert.equal(sessionFor('2012-10-30'), null);
    assert.equal(nyseDayInfo('2012-10-29').holiday, 'Hurricane Sandy');
    assert.ok(sessionFor('2012-10-31'));
    assert.ok(sessionFor('2012-10-26'));
  });

  void test('when 2001-09-11..14 is asked, then all four days are closed and 09-17 reopens', () => {
    for (const d of ['2001-09-11', '2001-09-12', '2001-09-13', '2001-09-14'])
      assert.equal(sessionFor(d), null, d);
    assert.ok(sessionFor('2001-09-10'));
    assert.ok(sessionFor('2001-09-17'));
  });

  void test('when a national day of mourning is asked, then the exchange is closed', () => {
    assert.equal(nyseDayInfo('2018-12-05').holiday, 'National Day of Mourning for George H. W. Bush');
    assert.equal(nyseDayInfo('2025-01-09').holiday, 'National Day of Mourning for Jimmy Carter');
    assert.equal(sessionFor('2004-06-11'), null);
    assert.equal(sessionFor('2007-01-02'), null);
  });

  void test('when fixed-date holidays fall on weekends, then the observance shifts per NYSE rules', () => {
    assert.equal(sessionFor('2010-12-31')?.date, '2010-12-31', 'New Year on Saturday: Friday stays open');
    assert.equal(sessionFor('2022-01-17'), null, 'MLK');
    assert.equal(sessionFor('2012-01-02'), null, 'New Year on Sunday → Monday');
    assert.equal(sessionFor('2021-12-24'), null, 'Christmas on Saturday → Friday');
    assert.equal(sessionFor('2022-12-26'), null, 'Christmas on Sunday → Monday');
    assert.equal(sessionFor('2022-06-20'), null, 'Juneteenth on Sunday → Monday');
    assert.ok(sessionFor('2021-06-18'), 'no Juneteenth before 2022');
    assert.equal(sessionFor('2027-06-18'), null, 'Juneteenth on Saturday → Friday');
    assert.equal(sessionFor('2019-12-24')!.earlyClose, true, 'Christmas Eve');
    assert.equal(sessionFor('2003-12-26')!.earlyClose, true, 'ad hoc 2003');
  });

  void test('when DST switches, then open times move by an hour on the right Monday', () => {
    // 2007+: second Sunday in March / first Sunday in November.
    assert.equal(iso(sessionOpenMs('2011-03-11')), '2011-03-11T14:30:00.000Z');
    assert.equal(iso(sessionOpenMs('2011-03-14')), '2011-03-14T13:30:00.000Z');
    assert.equal(iso(sessionOpenMs('2024-11-01')), '2024-11-01T13:30:00.000Z');
    assert.equal(iso(sessionOpenMs('2024-11-04')), '2024-11-04T14:30:00.000Z');
    // Before 2007: first Sunday in April / last Sunday in October.
    assert.equal(iso(sessionOpenMs('2006-03-31')), '2006-03-31T14:30:00.000Z');
    assert.equal(iso(sessionOpenMs('2006-04-03')), '2006-04-03T13:30:00.000Z');
    assert.equal(iso(sessionOpenMs('2006-10-27')), '2006-10-27T13:30:00.000Z');
    assert.equal(iso(sessionOpenMs('2006-10-30')), '2006-10-30T14:30:00.000Z');
  });

  void test('when the New York offset is computed for every 6h of 2000-2030, then it matches the Intl time-zone database', () => {
    const fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      timeZoneName: 'shortOffset',
    });
    const start = Date.UTC(2000, 0, 1);
    const end = Date.UTC(2031, 0, 1);
    for (let t = start; t < end; t += 6 * 3_600_000) {
      const name = fmt.formatToParts(t).find((p) => p.type === 'timeZoneName')!.value;
      const expected = name === 'GMT-4' ? -4 : -5;
      assert.equal(nyOffsetMs(t) / 3_600_000, expected, iso(t));
    }
    // Exactly at the switch instants.
    assert.equal(nyOffsetMs(Date.UTC(2024, 2, 10, 6, 59)), -5 * 3_600_000);
    assert.equal(nyOffsetMs(Date.UTC(2024, 2, 10, 7, 0)), -4 * 3_600_000);
    assert.equal(nyOffsetMs(Date.UTC(2024, 10, 3, 5, 59)), -4 * 3_600_000);
    assert.equal(nyOffsetMs(Date.UTC(2024, 10, 3, 6, 0)), -5 * 3_600_000);
  });

  void test('when counting trading days per year, then 2000-2030 have 248-253 sessions and known years match', () => {
    const counts: Record<number, number> = {};
    for (let y = 2000; y <= 2030; y++) {
      counts[y] = NYSE.sessionsBetween(Date.UTC(y, 0, 1), Date.UTC(y + 1, 0, 1)).length;
      assert.ok(counts[y]! >= 248 && counts[y]! <= 253, `${y}: ${counts[y]}`);
    }
    // Published NYSE totals.
    assert.equal(counts[2001], 248);
    assert.equal(counts[2012], 250);
    assert.equal(counts[2018], 251);
    assert.equal(counts[2019], 252);
    assert.equal(counts[2022], 251);
    assert.equal(counts[2023], 250);
  });

  void test('when isOpen and nyDate are asked around the bell, then open is inclusive and close exclusive', () => {
    const open = sessionOpenMs('2013-10-07');
    const close = sessionCloseMs('2013-10-07');
    assert.equal(isOpen(open - 1), false);
    assert.equal(isOpen(open), true);
    assert.equal(isOpen(close - 1), true);
    assert.equal(isOpen(close), false);
    assert.equal(nyDate(Date.UTC(2013, 9, 8, 3, 0)), '2013-10-07');
    assert.equal(NYSE.nextSession(close).date, '2013-10-08');
    assert.equal(NYSE.previousSession(open).date, '2013-10-04');
  });

  void test('when a malformed or impossible date is asked, then it throws naming the field', () => {
    assert.throws(() => sessionFor('2021-02-30'), /date: "2021-02-30" is not a real calendar date/);
    assert.throws(() => sessionFor('20210101'), /YYYY-MM-DD/);
    assert.throws(() => sessionOpenMs('2013-11-28'), /closed on 2013-11-28 \(Thanksgiving Day\)/);
  });
});

void describe('crypto 24/7 calendar', () => {
  void test('when any instant is asked, then it is open and the session is the UTC day', () => {
    const t = Date.UTC(2018, 3, 4, 23, 59);
    assert.equal(CRYPTO_24_7.isOpen(t), true);
    const s = CRYPTO_24_7.sessionFor('2012-10-29')!;
    assert.equal(iso(s.openMs), '2012-10-29T00:00:00.000Z');
    assert.equal(s.closeMs - s.openMs, 86_400_000);
    assert.equal(calendarFor('BTCUSDT'), CRYPTO_24_7);
    assert.equal(calendarFor('BTC/USD'), CRYPTO_24_7);
    assert.equal(calendarFor('SPY'), NYSE);
  });
});

void describe('NYSE calendar before 2000', () => {
  void test('when dates before the 1971 Monday-holiday law are asked, then fixed-date holidays apply and their Mondays trade', () => {
    assert.ok(sessionFor('1962-02-19'), 'third Monday of February 1962 traded');
    assert.equal(sessionFor('1962-02-22'), null, "Washington's Birthday on February 22");
    assert.ok(sessionFor('1970-05-25'));
    assert.equal(sessionFor('1969-05-30'), null, 'Memorial Day on May 30');
    assert.equal(sessionFor('1976-11-02'), null, 'Election Day in a presidential year');
    assert.ok(sessionFor('1984-11-06'), 'no Election Day closure after 1980');
    assert.equal(sessionFor('1985-09-27'), null, 'Hurricane Gloria');
    assert.equal(sessionFor('1994-04-27'), null, 'Nixon funeral');
  });
});
