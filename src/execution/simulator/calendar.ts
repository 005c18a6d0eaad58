import type { CalendarDay, MarketClock } from '../broker';

/**
 * The simulator's exchange calendar: NYSE regular sessions 09:30-16:00 America/New_York on weekdays,
 * full-day holidays listed below (early closes are not modelled here), DST through Intl.
 */
const NYSE_HOLIDAYS = new Set([
  '2023-01-02',
  '2023-01-16',
  '2023-02-20',
  '2023-04-07',
  '2023-05-29',
  '2023-06-19',
  '2023-07-04',
  '2023-09-04',
  '2023-11-23',
  '2023-12-25',
  '2024-01-01',
  '2024-01-15',
  '2024-02-19',
  '2024-03-29',
  '2024-05-27',
  '2024-06-19',
  '2024-07-04',
  '2024-09-02',
  '2024-11-28',
  '2024-12-25',
  '2025-01-01',
  '2025-01-09',
  '2025-01-20',
  '2025-02-17',
  '2025-04-18',
  '2025-05-26',
  '2025-06-19',
  '2025-07-04',
  '2025-09-01',
  '2025-11-27',
  '2025-12-25',
  '2026-01-01',
  '2026-01-19',
  '2026-02-16',
  '2026-04-03',
  '2026-05-25',
  '2026-06-19',
  '2026-07-03',
  '2026-09-07',
  '2026-11-26',
  '2026-12-25',
  '2027-01-01',
  '2027-01-18',
  '2027-02-15',
  '2027-03-26',
  '2027-05-31',
  '2027-06-18',
  '2027-07-05',
  '2027-09-06',
  '2027-11-25',
  '2027-12-24',
]);

const fmt = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** Minutes to add to UTC to get New York local time at `ms` (-240 in summer, -300 in winter). */
export function nyOffsetMinutes(ms: number): number {
  const p = Object.fromEntries(fmt.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

/** New York calendar date (YYYY-MM-DD) of an instant. */
export function nyDate(ms: number): string {
  return new Date(ms + nyOffsetMinutes(ms) * 60_000).toISOString().slice(0, 10);
}

/** The UTC instant of a New York wall time on a date. */
export function nyTime(date: string, hhmm: string): number {
  const naive = Date.parse(`${date}T${hhmm}:00Z`);
  // Two passes settle the offset across a DST change.
  let t = naive - nyOffsetMinutes(naive) * 60_000;
  t = naive - nyOffsetMinutes(t) * 60_000;
  return t;
}

export function isTradingDay(date: string): boolean {
  const dow = new Date(`${date}T12:00:00Z`).getUTCDay();
  return dow !== 0 && dow !== 6 && !NYSE_HOLIDAYS.has(date);
}

export function tradingDays(start: string, end: string): CalendarDay[] {
  const out: CalendarDay[] = [];
  for (let t = Date.parse(`${start}T12:00:00Z`); t <= Date.parse(`${end}T12:00:00Z`); t += 86_400_000) {
    const date = new Date(t).toISOString().slice(0, 10);
    if (isTradingDay(date)) out.push({ date, open: '09:30', close: '16:00' });
  }
  return out;
}

export function sessionBounds(date: string): { open: number; close: number } {
  return { open: nyTime(date, '09:30'), close: nyTime(date, '16:00') };
}

export function clockAt(ms: number): MarketClock {
  const today = nyDate(ms);
  const { open, close } = sessionBounds(today);
  const isOpen = isTradingDay(today) && ms >= open && ms < close;
  let nextOpen: number | undefined;
  let nextClose: number | undefined;
  for (let d = 0; d < 10 && (nextOpen === undefined || nextClose === undefined); d++) {
    const date = nyDate(ms + d * 86_400_000);
    if (!isTradingDay(date)) continue;
    const b = sessionBounds(date);
    if (nextOpen === undefined && b.open > ms) nextOpen = b.open;
    if (nextClose === undefined && b.close > ms) nextClose = b.close;
  }
  return { timestamp: ms, isOpen, nextOpen: nextOpen!, nextClose: nextClose! };
}
