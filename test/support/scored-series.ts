import type { ScoredSeries } from '../../src/models/serving/model-port';
import type { Timeframe } from '../../src/model/timeframe';

/** One prediction a test holds: what a scored row says, without a feature matrix behind it. */
export interface ScoredEntry {
  readonly modelId: string;
  readonly symbol: string;
  readonly ts: number;
  readonly timeframe: Timeframe;
  readonly horizonBars: number;
  readonly score: number;
  readonly expectedReturn: number;
  readonly confidence: number;
}

/**
 * Entries as the scored series PrecomputedPort reads: per symbol in time order, a new series wherever the model
 * (or its timeframe or horizon) changes. `row` is the entry's position: there is no matrix behind them.
 */
export function scoredSeriesOf(entries: readonly ScoredEntry[]): ScoredSeries[] {
  const bySymbol = new Map<string, ScoredEntry[]>();
  for (const e of entries) {
    const l = bySymbol.get(e.symbol);
    if (l) l.push(e);
    else bySymbol.set(e.symbol, [e]);
  }
  const out: ScoredSeries[] = [];
  for (const list of bySymbol.values()) {
    list.sort((a, b) => a.ts - b.ts);
    for (let i = 0; i < list.length;) {
      const first = list[i]!;
      let j = i;
      while (
        j < list.length &&
        list[j]!.modelId === first.modelId &&
        list[j]!.timeframe === first.timeframe &&
        list[j]!.horizonBars === first.horizonBars
      )
        j++;
      const run = list.slice(i, j);
      out.push({
        modelId: first.modelId,
        symbol: first.symbol,
        timeframe: first.timeframe,
        horizonBars: first.horizonBars,
        ts: Float64Array.from(run, (e) => e.ts),
        row: Int32Array.from(run, (_, k) => i + k),
        score: Float64Array.from(run, (e) => e.score),
        expectedReturn: Float64Array.from(run, (e) => e.expectedReturn),
        confidence: Float64Array.from(run, (e) => e.confidence),
      });
      i = j;
    }
  }
  return out;
}
