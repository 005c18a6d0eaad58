/**
 * Seeded synthetic market data for the embedded demo (never mistaken for real data: every row it
 * produces is stored with synthetic = true and source 'synthetic').
 *
 * Model: a daily close path from a fixed origin (2000-01-01) with a two-state volatility regime (calm /
 * turbulent, Markov-switching day to day) and overnight gaps; each day's minutes are a Brownian bridge
 * from the gapped open to that day's close, with a U-shaped intraday volume and volatility profile.
 * Every day depends only on (seed, symbol, date), so any chunk of any range is reproducible on its own.
 */
import type { Bar } from '../model/bar';
import type { Timeframe } from '../model/timeframe';
import { aggregateBars } from '../market/aggregate';
import {
  CRYPTO_24_7,
  NYSE,
  addDays,
  calendarFor,
  dateLabelMs,
  type ExchangeCalendar,
  type Session,
} from '../market/calendar';
import { mulberry32 } from '../model/random';

export const SYNTHETIC_SOURCE = 'synthetic';
const ORIGIN = '2000-01-03';
const MINUTE = 60_000;

function hash(...parts: Array<string | number>): number {
  let h = 2166136261;
  for (const ch of parts.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

function gauss(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

interface DayState {
  readonly date: string;
  readonly open: number;
  readonly close: number;
  readonly sigmaDaily: number;
}

/** Daily path per (seed, symbol), extended lazily and cached. */
const pathCache = new Map<string, { sessions: DayState[]; byDate: Map<string, DayState> }>();

function dailyPath(seed: number, symbol: string, cal: ExchangeCalendar, upTo: string): Map<string, DayState> {
  const key = `${seed}|${symbol}|${cal.name}`;
  let p = pathCache.get(key);
  if (!p) {
    p = { sessions: [], byDate: new Map() };
    pathCache.set(key, p);
  }
  const last = p.sessions.at(-1);
  if (last && last.date >= upTo) return p.byDate;
  const r = mulberry32(hash(seed, symbol, 'daily'));
  // Replay from the origin so extending the cache never changes earlier days.
  p.sessions.length = 0;
  p.byDate.clear();
  let price = 20 + (hash(symbol) % 180);
  let turbulent = false;
  for (let d = ORIGIN; d <= upTo; d = addDays(d, 1)) {
    if (!cal.sessionFor(d)) continue;
    // Regime switching: calm days stay calm with p=0.98, turbulent days persist with p=0.9.
    turbulent = turbulent ? r() < 0.9 : r() < 0.02;
    const sigma = turbulent ? 0.03 : 0.01;
    const gap = gauss(r) * sigma * 0.35;
    const open = price * Math.exp(gap);
    const close = open * Math.exp(gauss(r) * sigma * 0.9 + 0.0002);
    const s = { date: d, open, close, sigmaDaily: sigma };
    p.sessions.push(s);
    p.byDate.set(d, s);
    price = close;
  }
  return p.byDate;
}

/** Intraday profile: U-shaped volume and volatility over the session (x in [0,1)). */
function uShape(x: number): number {
  const c = 2 * x - 1;
  return 0.55 + 1.8 * c * c;
}

function roundPrice(x: number): number {
  return Math.round(x * 100) / 100;
}

function minutesOfDay(seed: number, symbol: string, day: DayState, s: Session): Bar[] {
  const n = Math.round((s.closeMs - s.openMs) / MINUTE);
  const r = mulberry32(hash(seed, symbol, day.date, 'intraday'));
  const weights = new Float64Array(n);
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    weights[i] = uShape(i / n);
    wsum += weights[i]!;
  }
  // Brownian bridge in log space from open to close with U-shaped variance.
  const incr = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    incr[i] = gauss(r) * day.sigmaDaily * Math.sqrt(weights[i]! / wsum);
    total += incr[i]!;
  }
  const target = Math.log(day.close / day.open);
  const baseVolume = 2e6 * (1 + (hash(symbol) % 7));
  const out: Bar[] = [];
  let logp = Math.log(day.open);
  let o = roundPrice(day.open);
  for (let i = 0; i < n; i++) {
    logp += incr[i]! + (target - total) * (weights[i]! / wsum);
    const c = roundPrice(Math.exp(logp));
    const wick = day.sigmaDaily * Math.sqrt(weights[i]! / wsum) * 0.6;
    const h = roundPrice(Math.max(o, c) * Math.exp(Math.abs(gauss(r)) * wick));
    const l = roundPrice(Math.min(o, c) * Math.exp(-Math.abs(gauss(r)) * wick));
    const volume = Math.max(1, Math.round(((baseVolume * weights[i]!) / wsum) * Math.exp(gauss(r) * 0.3)));
    out.push({
      symbol,
      timeframe: '1m',
      ts: s.openMs + i * MINUTE,
      open: o,
      high: Math.max(h, o, c),
      low: Math.min(l, o, c),
      close: c,
      volume,
    });
    o = c;
  }
  return out;
}

/** Synthetic 1-minute bars for [fromMs, toMs): regular sessions for equities, 24/7 for crypto symbols. */
export function syntheticMinuteBars(symbol: string, fromMs: number, toMs: number, seed = 1): Bar[] {
  const cal = calendarFor(symbol);
  const out: Bar[] = [];
  const sessions = cal.sessionsBetween(Math.max(fromMs, dateLabelMs(ORIGIN)) - 86_400_000 * 2, toMs);
  if (sessions.length === 0) return out;
  const path = dailyPath(seed, symbol, cal, sessions.at(-1)!.date);
  for (const s of sessions) {
    if (s.closeMs <= fromMs) continue;
    const day = path.get(s.date);
    if (!day) continue;
    for (const b of minutesOfDay(seed, symbol, day, s)) if (b.ts >= fromMs && b.ts < toMs) out.push(b);
  }
  return out;
}

/** Synthetic bars of any timeframe, derived from the 1-minute path with the session-aware aggregation. */
export function syntheticBars(
  symbol: string,
  timeframe: Timeframe,
  fromMs: number,
  toMs: number,
  seed = 1,
): Bar[] {
  const minutes = syntheticMinuteBars(symbol, fromMs, toMs, seed);
  if (timeframe === '1m') return minutes;
  const cal = calendarFor(symbol);
  return aggregateBars(minutes, timeframe, { calendar: cal === CRYPTO_24_7 ? CRYPTO_24_7 : NYSE });
}
