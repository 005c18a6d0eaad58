/**
 * New York wall-clock helpers for session-anchored indicators (VWAP, minute-of-day relative volume, gaps).
 * The offset comes from Intl once per UTC hour and is cached: DST changes happen on the hour, so an
 * hour-granular cache is exact and keeps the cost negligible over millions of bars.
 */
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const offsetByHour = new Map<number, number>();
let fmt: Intl.DateTimeFormat | undefined;

/** New York offset from UTC in ms at instant `ts` (−4h or −5h). */
export function newYorkOffsetMs(ts: number): number {
  const hour = Math.floor(ts / HOUR_MS);
  const cached = offsetByHour.get(hour);
  if (cached !== undefined) return cached;
  fmt ??= new Intl.DateTimeFormat('en-US', {
    timeZone: 'America/New_York',
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  const parts: Record<string, number> = {};
  for (const p of fmt.formatToParts(new Date(hour * HOUR_MS)))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!);
  const off = wall - hour * HOUR_MS;
  if (offsetByHour.size > 200_000) offsetByHour.clear();
  offsetByHour.set(hour, off);
  return off;
}

/** Days since 1970-01-01 of the New York calendar date of `ts`. */
export function newYorkDayNumber(ts: number): number {
  return Math.floor((ts + newYorkOffsetMs(ts)) / DAY_MS);
}

/** Minute of the New York day (0..1439) of `ts`. */
export function newYorkMinuteOfDay(ts: number): number {
  const local = ts + newYorkOffsetMs(ts);
  return Math.floor((local - Math.floor(local / DAY_MS) * DAY_MS) / 60_000);
}

/** UTC day number: the session key for 24/7 markets. */
export function utcDayNumber(ts: number): number {
  return Math.floor(ts / DAY_MS);
}

export type SessionKeyFn = (ts: number) => number;
