/**
 * Seeded synthetic daily bars with a planted, known predictable component: each symbol's daily log return is
 *   r_t = −φ·r_{t−1} + σ·z_t
 * so at the close of day t the true expected next-day return is −φ·r_t (the oracle's prediction), visible to the
 * `daily` feature set as 1d:logReturn_1. With φ = 0 the returns are pure noise (the null run). Each day opens at the
 * previous close (no gap), volume is ample, NYSE trading days only.
 */
import { NYSE, addDays } from '../../src/market/calendar';
import { barsToColumns, type BarColumns, type Bar } from '../../src/model/bar';
import { mulberry32 } from '../../src/model/random';
import type { ScoredSeries } from '../../src/models/serving/model-port';
import { closeOf, calendarOf } from '../../src/trading/series';
import { scoredSeriesOf, type ScoredEntry } from './scored-series';

export interface PlantedOptions {
  readonly symbols: readonly string[];
  readonly from: string;
  readonly days: number;
  readonly phi: number;
  readonly sigma: number;
  readonly seed: number;
}

export interface Planted {
  readonly series: BarColumns[];
  /** per symbol, at each decision (the day's close), the true expected return of the next day */
  readonly oracle: ScoredSeries[];
}

export function plantedDailyBars(o: PlantedOptions): Planted {
  const gauss = (r: () => number) =>
    Math.sqrt(-2 * Math.log(Math.max(1e-12, r()))) * Math.cos(2 * Math.PI * r());
  const days: string[] = [];
  for (let d = o.from; days.length < o.days; d = addDays(d, 1)) if (NYSE.sessionFor(d)) days.push(d);
  const calendar = calendarOf('NYSE');
  const series: BarColumns[] = [];
  const oracle: ScoredEntry[] = [];
  o.symbols.forEach((symbol, k) => {
    const rnd = mulberry32(o.seed * 1000 + k);
    const bars: Bar[] = [];
    let price = 50 + 10 * k;
    let prev = 0;
    for (const day of days) {
      const r = -o.phi * prev + o.sigma * gauss(rnd);
      const open = price;
      price *= Math.exp(r);
      const wiggle = Math.abs(o.sigma * 0.5 * gauss(rnd));
      const ts = Date.parse(`${day}T00:00:00Z`);
      bars.push({
        symbol,
        timeframe: '1d',
        ts,
        open,
        high: Math.max(open, price) * (1 + wiggle),
        low: Math.min(open, price) * (1 - wiggle),
        close: price,
        volume: 5_000_000 + Math.floor(rnd() * 1_000_000),
      });
      const expected = -o.phi * r;
      oracle.push({
        modelId: 'oracle',
        symbol,
        ts: closeOf(ts, '1d', calendar),
        timeframe: '1d',
        score: expected,
        expectedReturn: Math.expm1(expected),
        confidence: 0.9,
        horizonBars: 1,
      });
      prev = r;
    }
    series.push(barsToColumns(symbol, '1d', bars));
  });
  return { series, oracle: scoredSeriesOf(oracle) };
}
