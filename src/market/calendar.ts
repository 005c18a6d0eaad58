/**
 * Exchange calendars. Pure and deterministic (no Intl, no clock): safe to import from workflows.
 *
 * NYSE: regular session 09:30–16:00 America/New_York, 13:00 on early-close days. Holidays come from the
 * NYSE rules (observance shifts included) plus every special closure 2000–2030 (9/11, Reagan, Ford,
 * Hurricane Sandy, G.H.W. Bush, Carter). The rules are applied to any year, but the special closures and
 * ad-hoc early closes are only curated for 2000–2030 (see docs/market-data.md).
 *
 * Time zone: US DST rules (Energy Policy Act 2005 from 2007; first Sunday of April → last Sunday of
 * October before). New York offset is computed arithmetically, which is exact for 1987–2030+.
 */

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** One trading session. `date` is the exchange-local date; times are epoch ms UTC; close is exclusive. */
export interface Session {
  readonly date: string;
  readonly openMs: number;
  readonly closeMs: number;
  readonly earlyClose: boolean;
}

export interface ExchangeCalendar {
  readonly name: 'NYSE' | 'CRYPTO';
  /** IANA zone the session dates are written in. */
  readonly timeZone: string;
  /** The session on a local date ('YYYY-MM-DD') or on the local date of an epoch-ms instant; null when closed all day. */
  sessionFor(dateOrTs: string | number): Session | null;
  /** True when `ts` falls in [open, close) of a session. */
  isOpen(ts: number): boolean;
  /** Local date of an instant, 'YYYY-MM-DD'. */
  localDate(ts: number): string;
  /** Sessions whose open lies in [fromMs, toMs). */
  sessionsBetween(fromMs: number, toMs: number): Session[];
  /** The first session that opens at or after `ts`. */
  nextSession(ts: number): Session;
  /** The last session that opened strictly before `ts` (may still be open). */
  previousSession(ts: number): Session;
}

// ---------------------------------------------------------------- civil date helpers (UTC arithmetic)

/** Days since 1970-01-01 for a civil date. */
function daysFromCivil(y: number, m: number, d: number): number {
  return Math.floor(Date.UTC(y, m - 1, d) / DAY_MS);
}

function civilFromDays(days: number): { y: number; m: number; d: number; dow: number } {
  const dt = new Date(days * DAY_MS);
  return { y: dt.getUTCFullYear(), m: dt.getUTCMonth() + 1, d: dt.getUTCDate(), dow: dt.getUTCDay() };
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function formatDate(y: number, m: number, d: number): string {
  return `${y}-${pad2(m)}-${pad2(d)}`;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses 'YYYY-MM-DD' strictly (rejects 2021-02-30). */
export function parseDate(date: string, field = 'date'): { y: number; m: number; d: number } {
  const m = DATE_RE.exec(date);
  if (!m) throw new RangeError(`${field}: "${date}" is not a date in YYYY-MM-DD form`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const back = civilFromDays(daysFromCivil(y, mo, d));
  if (back.y !== y || back.m !== mo || back.d !== d)
    throw new RangeError(`${field}: "${date}" is not a real calendar date`);
  return { y, m: mo, d };
}

function dateToDays(date: string): number {
  const { y, m, d } = parseDate(date);
  return daysFromCivil(y, m, d);
}

function daysToDate(days: number): string {
  const c = civilFromDays(days);
  return formatDate(c.y, c.m, c.d);
}

/** Day of week of a civil date, 0 = Sunday. */
function dowOf(y: number, m: number, d: number): number {
  return civilFromDays(daysFromCivil(y, m, d)).dow;
}

/** n-th (1-based) weekday `dow` of a month; n = -1 for the last. Returns day of month. */
function nthWeekday(y: number, m: number, dow: number, n: number): number {
  if (n > 0) {
    const first = dowOf(y, m, 1);
    return 1 + ((dow - first + 7) % 7) + (n - 1) * 7;
  }
  const lastDay = civilFromDays(daysFromCivil(y, m + 1, 1) - 1).d;
  const lastDow = dowOf(y, m, lastDay);
  return lastDay - ((lastDow - dow + 7) % 7);
}

/** Western Easter Sunday (anonymous Gregorian algorithm). */
function easter(y: number): { m: number; d: number } {
  const a = y % 19;
  const b = Math.floor(y / 100);
  const c = y % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const mm = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * mm + 114) / 31);
  const day = ((h + l - 7 * mm + 114) % 31) + 1;
  return { m: month, d: day };
}

// ---------------------------------------------------------------- New York time

/** US DST interval [startUtcMs, endUtcMs) for a year. */
function dstBoundsUtc(y: number): [number, number] {
  let startDay: number;
  let endM: number;
  let endDay: number;
  let startM: number;
  if (y >= 2007) {
    startM = 3;
    startDay = nthWeekday(y, 3, 0, 2);
    endM = 11;
    endDay = nthWeekday(y, 11, 0, 1);
  } else {
    startM = 4;
    startDay = nthWeekday(y, 4, 0, 1);
    endM = 10;
    endDay = nthWeekday(y, 10, 0, -1);
  }
  // 02:00 EST = 07:00 UTC starts DST; 02:00 EDT = 06:00 UTC ends it.
  return [Date.UTC(y, startM - 1, startDay, 7), Date.UTC(y, endM - 1, endDay, 6)];
}

const dstCache = new Map<number, [number, number]>();

/** Offset of America/New_York from UTC in ms at an instant (-5h or -4h). */
export function nyOffsetMs(ts: number): number {
  const y = new Date(ts).getUTCFullYear();
  let b = dstCache.get(y);
  if (!b) {
    b = dstBoundsUtc(y);
    dstCache.set(y, b);
  }
  return ts >= b[0] && ts < b[1] ? -4 * HOUR_MS : -5 * HOUR_MS;
}

/** New York local date 'YYYY-MM-DD' of an instant. */
export function nyDate(ts: number): string {
  return daysToDate(Math.floor((ts + nyOffsetMs(ts)) / DAY_MS));
}

/** Epoch ms of a New York wall-clock time on a date (no ambiguity at 09:30/16:00/04:00/20:00). */
export function nyWallToUtc(date: string, hour: number, minute = 0): number {
  const { y, m, d } = parseDate(date);
  const naive = Date.UTC(y, m - 1, d, hour, minute);
  // Offset at the guess +5h is right for every wall time away from the 02:00 switch.
  const off = nyOffsetMs(naive + 5 * HOUR_MS);
  return naive - off;
}

// ---------------------------------------------------------------- NYSE rules

export interface NyseDayInfo {
  readonly date: string;
  readonly holiday?: string;
  readonly earlyClose?: string;
}

/**
 * Special full-day closures (not from the yearly rules). Curated and tested for 2000–2030; the earlier
 * ones are the well-known closures that the long daily histories in ../shared/data run into.
 */
const SPECIAL_CLOSURES: Readonly<Record<string, string>> = {
  '1963-11-25': 'Funeral of John F. Kennedy',
  '1968-04-09': 'National Day of Mourning for Martin Luther King Jr.',
  '1969-03-31': 'Funeral of Dwight D. Eisenhower',
  '1972-12-28': 'Funeral of Harry S. Truman',
  '1973-01-25': 'Funeral of Lyndon B. Johnson',
  '1977-07-14': 'New York City blackout',
  '1985-09-27': 'Hurricane Gloria',
  '1994-04-27': 'Funeral of Richard Nixon',
  '2001-09-11': 'September 11 attacks',
  '2001-09-12': 'September 11 attacks',
  '2001-09-13': 'September 11 attacks',
  '2001-09-14': 'September 11 attacks',
  '2004-06-11': 'National Day of Mourning for Ronald Reagan',
  '2007-01-02': 'National Day of Mourning for Gerald Ford',
  '2012-10-29': 'Hurricane Sandy',
  '2012-10-30': 'Hurricane Sandy',
  '2018-12-05': 'National Day of Mourning for George H. W. Bush',
  '2025-01-09': 'National Day of Mourning for Jimmy Carter',
};

/** Ad-hoc 13:00 closes not produced by the yearly rules. */
const SPECIAL_EARLY_CLOSES: Readonly<Record<string, string>> = {
  '2003-12-26': 'Friday after Christmas',
};

/** The observed date of a fixed-date holiday: Saturday → Friday, Sunday → Monday. */
function observed(y: number, m: number, d: number): number {
  const days = daysFromCivil(y, m, d);
  const dow = civilFromDays(days).dow;
  if (dow === 6) return days - 1;
  if (dow === 0) return days + 1;
  return days;
}

const holidayCache = new Map<number, Map<number, string>>();

/** Rule-based and special holidays for a year, keyed by day number. */
function holidaysOfYear(y: number): Map<number, string> {
  const cached = holidayCache.get(y);
  if (cached) return cached;
  const h = new Map<number, string>();
  // New Year's Day: Sunday → Monday; on a Saturday the preceding Friday stays open (NYSE rule 7.2),
  // because that Friday closes the year.
  const ny = daysFromCivil(y, 1, 1);
  const nyDow = civilFromDays(ny).dow;
  if (nyDow === 0) h.set(ny + 1, "New Year's Day (observed)");
  else if (nyDow !== 6) h.set(ny, "New Year's Day");
  if (y >= 1998) h.set(daysFromCivil(y, 1, nthWeekday(y, 1, 1, 3)), 'Martin Luther King Jr. Day');
  // Before the Uniform Monday Holiday Act (1971) these were fixed dates: February 22 and May 30.
  if (y >= 1971) h.set(daysFromCivil(y, 2, nthWeekday(y, 2, 1, 3)), "Washington's Birthday");
  else h.set(observed(y, 2, 22), "Washington's Birthday");
  const e = easter(y);
  h.set(daysFromCivil(y, e.m, e.d) - 2, 'Good Friday');
  if (y >= 1971) h.set(daysFromCivil(y, 5, nthWeekday(y, 5, 1, -1)), 'Memorial Day');
  else h.set(observed(y, 5, 30), 'Memorial Day');
  // Election Day closed the exchange every year through 1968, then in presidential years through 1980.
  if (y <= 1968 || (y <= 1980 && y % 4 === 0))
    h.set(daysFromCivil(y, 11, nthWeekday(y, 11, 1, 1) + 1), 'Election Day');
  if (y >= 2022) h.set(observed(y, 6, 19), 'Juneteenth National Independence Day');
  h.set(observed(y, 7, 4), 'Independence Day');
  h.set(daysFromCivil(y, 9, nthWeekday(y, 9, 1, 1)), 'Labor Day');
  h.set(daysFromCivil(y, 11, nthWeekday(y, 11, 4, 4)), 'Thanksgiving Day');
  h.set(observed(y, 12, 25), 'Christmas Day');
  for (const [date, name] of Object.entries(SPECIAL_CLOSURES)) {
    if (date.startsWith(`${y}-`)) h.set(dateToDays(date), name);
  }
  holidayCache.set(y, h);
  return h;
}

/** Why a weekday that is not a holiday closes at 13:00, or undefined. */
function earlyCloseReason(y: number, m: number, d: number, dow: number): string | undefined {
  const special = SPECIAL_EARLY_CLOSES[formatDate(y, m, d)];
  if (special) return special;
  if (m === 11 && dow === 5 && d === nthWeekday(y, 11, 4, 4) + 1) return 'Day after Thanksgiving';
  // Christmas Eve on Monday–Thursday (on a Friday it is the observed Christmas holiday).
  if (m === 12 && d === 24 && dow >= 1 && dow <= 4) return 'Christmas Eve';
  if (m === 7) {
    // July 3 on Mon/Tue/Thu; on Wednesday only from 2013 (2002's Wednesday July 3 was a full day and
    // the Friday July 5 closed early instead, the pre-2013 rule).
    if (d === 3 && (dow === 1 || dow === 2 || dow === 4)) return 'Day before Independence Day';
    if (d === 3 && dow === 3 && y >= 2013) return 'Day before Independence Day';
    if (d === 5 && dow === 5 && y < 2013) return 'Day after Independence Day';
  }
  return undefined;
}

/** Holiday / early-close facts about one New York date. */
export function nyseDayInfo(date: string): NyseDayInfo {
  const { y, m, d } = parseDate(date);
  const days = daysFromCivil(y, m, d);
  const dow = civilFromDays(days).dow;
  const holiday = holidaysOfYear(y).get(days);
  if (holiday) return { date, holiday };
  if (dow === 0 || dow === 6) return { date, holiday: 'Weekend' };
  const early = earlyCloseReason(y, m, d, dow);
  return early ? { date, earlyClose: early } : { date };
}

export function isNyseTradingDay(date: string): boolean {
  return nyseDayInfo(date).holiday === undefined;
}

const sessionCache = new Map<string, Session | null>();

function nyseSessionOnDate(date: string): Session | null {
  if (sessionCache.has(date)) return sessionCache.get(date)!;
  const info = nyseDayInfo(date);
  let s: Session | null = null;
  if (info.holiday === undefined) {
    const early = info.earlyClose !== undefined;
    s = {
      date,
      openMs: nyWallToUtc(date, 9, 30),
      closeMs: nyWallToUtc(date, early ? 13 : 16),
      earlyClose: early,
    };
  }
  if (sessionCache.size > 50_000) sessionCache.clear();
  sessionCache.set(date, s);
  return s;
}

/** Regular-session open (epoch ms) of a NYSE trading date; throws if the exchange is closed that day. */
export function sessionOpenMs(date: string): number {
  const s = nyseSessionOnDate(date);
  if (!s) throw new RangeError(`date: NYSE is closed on ${date} (${nyseDayInfo(date).holiday})`);
  return s.openMs;
}

/** Regular-session close (epoch ms, exclusive) of a NYSE trading date; throws if closed that day. */
export function sessionCloseMs(date: string): number {
  const s = nyseSessionOnDate(date);
  if (!s) throw new RangeError(`date: NYSE is closed on ${date} (${nyseDayInfo(date).holiday})`);
  return s.closeMs;
}

/** Extended-hours window of a NYSE trading date: 04:00–20:00 New York (early closes end at 17:00). */
export function extendedHoursMs(date: string): { startMs: number; endMs: number } | null {
  const s = nyseSessionOnDate(date);
  if (!s) return null;
  return { startMs: nyWallToUtc(date, 4), endMs: nyWallToUtc(date, s.earlyClose ? 17 : 20) };
}

function makeCalendar(
  name: ExchangeCalendar['name'],
  timeZone: string,
  localDate: (ts: number) => string,
  sessionOnDate: (date: string) => Session | null,
): ExchangeCalendar {
  const sessionFor = (dateOrTs: string | number): Session | null =>
    sessionOnDate(typeof dateOrTs === 'number' ? localDate(dateOrTs) : dateOrTs);
  return {
    name,
    timeZone,
    localDate,
    sessionFor,
    isOpen(ts: number): boolean {
      const s = sessionFor(ts);
      return s !== null && ts >= s.openMs && ts < s.closeMs;
    },
    sessionsBetween(fromMs: number, toMs: number): Session[] {
      const out: Session[] = [];
      if (!(toMs > fromMs)) return out;
      const first = dateToDays(localDate(fromMs));
      const last = dateToDays(localDate(toMs));
      for (let day = first; day <= last; day++) {
        const s = sessionOnDate(daysToDate(day));
        if (s && s.openMs >= fromMs && s.openMs < toMs) out.push(s);
      }
      return out;
    },
    nextSession(ts: number): Session {
      let day = dateToDays(localDate(ts));
      for (let i = 0; i < 30; i++, day++) {
        const s = sessionOnDate(daysToDate(day));
        if (s && s.openMs >= ts) return s;
      }
      throw new RangeError(`ts: no ${name} session within 30 days after ${new Date(ts).toISOString()}`);
    },
    previousSession(ts: number): Session {
      let day = dateToDays(localDate(ts));
      for (let i = 0; i < 30; i++, day--) {
        const s = sessionOnDate(daysToDate(day));
        if (s && s.openMs < ts) return s;
      }
      throw new RangeError(`ts: no ${name} session within 30 days before ${new Date(ts).toISOString()}`);
    },
  };
}

/** New York Stock Exchange regular sessions. */
export const NYSE: ExchangeCalendar = makeCalendar('NYSE', 'America/New_York', nyDate, nyseSessionOnDate);

/** Crypto trades 24/7: one session per UTC day, 00:00–24:00. */
export const CRYPTO_24_7: ExchangeCalendar = makeCalendar(
  'CRYPTO',
  'UTC',
  (ts) => daysToDate(Math.floor(ts / DAY_MS)),
  (date) => {
    const openMs = dateToDays(date) * DAY_MS;
    return { date, openMs, closeMs: openMs + DAY_MS, earlyClose: false };
  },
);

/** NYSE helpers with the names other areas import. */
export function sessionFor(dateOrTs: string | number): Session | null {
  return NYSE.sessionFor(dateOrTs);
}
export function isOpen(ts: number): boolean {
  return NYSE.isOpen(ts);
}

/** Crypto pairs (BTCUSD, ETHUSDT, BTC/USD…) trade on the 24/7 calendar; everything else on NYSE. */
const CRYPTO_RE =
  /^(BTC|ETH|LTC|BCH|SOL|DOGE|XRP|ADA|AVAX|LINK|DOT|UNI|AAVE|SHIB|MATIC|USDT|USDC)[/-]?(USD|USDT|USDC|EUR|GBP|BTC)$/;
export function isCryptoSymbol(symbol: string): boolean {
  return symbol.includes('/') || CRYPTO_RE.test(symbol.toUpperCase());
}

export function calendarFor(symbol: string): ExchangeCalendar {
  return isCryptoSymbol(symbol) ? CRYPTO_24_7 : NYSE;
}

/** UTC-midnight epoch ms of a date label: how daily bars are keyed (see docs/market-data.md). */
export function dateLabelMs(date: string): number {
  return dateToDays(date) * DAY_MS;
}

/** Date label of a daily bar's ts. */
export function dateOfLabelMs(ts: number): string {
  return daysToDate(Math.floor(ts / DAY_MS));
}

/** Add whole days to a 'YYYY-MM-DD' date. */
export function addDays(date: string, n: number): string {
  return daysToDate(dateToDays(date) + n);
}
