import { NYSE, nyOffsetMs, nyWallToUtc } from '../../market/calendar';
import type { CalendarDay, MarketClock } from '../broker';

/**
 * The simulator's exchange calendar, from the shared NYSE calendar (src/market/calendar: holidays, special
 * closures and early closes 2000-2030, DST), shaped the way Alpaca's /v2/clock and /v2/calendar answer. Dates
 * of instants come from there too (`nyDate` of src/market/calendar).
 */

/** Minutes to add to UTC to get New York local time at `ms` (-240 in summer, -300 in winter). */
export function nyOffsetMinutes(ms: number): number {
  return nyOffsetMs(ms) / 60_000;
}

const hhmm = (ms: number) => new Date(ms + nyOffsetMs(ms)).toISOString().slice(11, 16);

export function tradingDays(start: string, end: string): CalendarDay[] {
  const out: CalendarDay[] = [];
  for (let t = Date.parse(`${start}T12:00:00Z`); t <= Date.parse(`${end}T12:00:00Z`); t += 86_400_000) {
    const date = new Date(t).toISOString().slice(0, 10);
    const s = NYSE.sessionFor(date);
    if (s) out.push({ date, open: hhmm(s.openMs), close: hhmm(s.closeMs) });
  }
  return out;
}

/** Regular-session bounds of a date (09:30-16:00 New York when the exchange is closed that day). */
export function sessionBounds(date: string): { open: number; close: number } {
  const s = NYSE.sessionFor(date);
  return s
    ? { open: s.openMs, close: s.closeMs }
    : { open: nyWallToUtc(date, 9, 30), close: nyWallToUtc(date, 16) };
}

export function clockAt(ms: number): MarketClock {
  const next = NYSE.nextSession(ms);
  const current = NYSE.previousSession(ms + 1);
  const isOpen = NYSE.isOpen(ms);
  return {
    timestamp: ms,
    isOpen,
    nextOpen: next.openMs,
    nextClose: isOpen ? current.closeMs : next.closeMs,
  };
}
