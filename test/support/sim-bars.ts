import type { Bar } from '../../src/model/bar';
import { sessionBounds } from '../../src/execution/simulator/calendar';

/**
 * Deterministic 1-minute bars for tests of the broker path (seeded random walk, labelled synthetic by
 * construction: they never enter the bars table). `minutes` bars from the session open of `date`.
 */
export function syntheticDayBars(opts: {
  date: string;
  symbols: readonly string[];
  minutes: number;
  seed?: number;
  start?: number;
}): Bar[] {
  let s = (opts.seed ?? 7) >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const open = opts.start ?? sessionBounds(opts.date).open;
  const out: Bar[] = [];
  opts.symbols.forEach((symbol, k) => {
    let price = 20 + (k % 40) * 5; // $20-$215: realistic share counts for any universe size
    for (let i = 0; i < opts.minutes; i++) {
      const o = price;
      const c = Math.max(1, o * (1 + (rnd() - 0.5) * 0.01));
      const h = Math.max(o, c) * (1 + rnd() * 0.003);
      const l = Math.min(o, c) * (1 - rnd() * 0.003);
      out.push({
        symbol,
        timeframe: '1m',
        ts: open + i * 60_000,
        open: r4(o),
        high: r4(h),
        low: r4(l),
        close: r4(c),
        volume: 1000 + Math.floor(rnd() * 9000),
      });
      price = c;
    }
  });
  return out.sort((a, b) => a.ts - b.ts || a.symbol.localeCompare(b.symbol));
}

const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
