/**
 * Seeded synthetic minute bars whose predictive relation reverses sign mid-series (the learning loop's
 * regime-flip acceptance test): within each regular session, each 5-minute log return is
 *   r = ±φ·σ·sign(previous 5-minute return) + σ·z
 * with + (momentum) before the flip day and − (mean reversion) from it on: the direction of the next bar is
 * right with probability Φ(φ) (0.62 at φ = 0.3) while the rank correlation of the last return with the next one
 * stays near 0.8·φ/√(1+φ²) (0.23), under the leakage screen's 0.3. Each 5-minute return is spread over its five
 * 1-minute bars. Volume is ample, so fills are not volume-bound.
 */
import { NYSE, addDays } from '../../src/market/calendar';
import type { Bar } from '../../src/model/bar';
import { mulberry32 } from '../../src/model/random';

export interface FlipBarsOptions {
  readonly symbol: string;
  readonly from: string;
  readonly days: number;
  /** index of the first trading day of the reversed relation */
  readonly flipDay: number;
  /** effect of the previous bar's direction, in units of sigma */
  readonly phi: number;
  /** SD of the 5-minute innovation */
  readonly sigma: number;
  readonly seed: number;
  /** bars of trading day k ≥ this are changed by `perturb` (the no-look-ahead test) */
  readonly perturbFrom?: number;
}

export interface FlipBars {
  readonly bars: Bar[];
  readonly days: ReadonlyArray<{ readonly day: string; readonly openMs: number; readonly closeMs: number }>;
}

export function flipBars(o: FlipBarsOptions): FlipBars {
  const rnd = mulberry32(o.seed);
  const noise = mulberry32(o.seed + 7919);
  const gauss = (r: () => number) =>
    Math.sqrt(-2 * Math.log(Math.max(1e-12, r()))) * Math.cos(2 * Math.PI * r());
  const days: Array<{ day: string; openMs: number; closeMs: number }> = [];
  for (let d = o.from; days.length < o.days; d = addDays(d, 1)) {
    const s = NYSE.sessionFor(d);
    if (s) days.push({ day: d, openMs: s.openMs, closeMs: s.closeMs });
  }
  const bars: Bar[] = [];
  let price = 100;
  days.forEach((day, k) => {
    const phi = k < o.flipDay ? o.phi : -o.phi;
    const perturbed = o.perturbFrom !== undefined && k >= o.perturbFrom;
    price *= Math.exp(0.002 * gauss(rnd));
    let prev = 0;
    const n5 = Math.round((day.closeMs - day.openMs) / 300_000);
    for (let j = 0; j < n5; j++) {
      let r = phi * o.sigma * Math.sign(prev) + o.sigma * gauss(rnd);
      if (perturbed) r = -r + 0.5 * o.sigma * gauss(noise);
      prev = r;
      // five 1m bars carrying the 5m return, with a little noise that sums to zero
      const parts = [0, 0, 0, 0, 0].map(() => 0.1 * o.sigma * gauss(rnd));
      const mean = parts.reduce((a, b) => a + b, 0) / 5;
      for (let m = 0; m < 5; m++) {
        const ts = day.openMs + (j * 5 + m) * 60_000;
        const open = price;
        price *= Math.exp(r / 5 + parts[m]! - mean);
        const close = price;
        bars.push({
          symbol: o.symbol,
          timeframe: '1m',
          ts,
          open,
          high: Math.max(open, close) * (1 + 0.0002),
          low: Math.min(open, close) * (1 - 0.0002),
          close,
          volume: 50_000 + Math.floor(rnd() * 20_000),
        });
      }
    }
  });
  return { bars, days };
}
