import type { QualityRule } from '../market/validation';
import { TIMEFRAME_MS, type Timeframe } from '../model/timeframe';
import { metricsNow, recordBarsIngested, recordDataQualityReject, setDataFreshness } from './metrics';

/**
 * Bars older than this are history (a backfill of past years), not a feed: storing them does not set data
 * freshness, so a research backfill during market hours does not read as stale live data.
 */
export const FRESHNESS_HORIZON_MS = 10 * 86_400_000;

export interface IngestedChunk {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly fromMs: number;
  readonly toMs: number;
}

export interface IngestOutcome {
  readonly rowsStored: number;
  /** Rows not stored, per validation rule. */
  readonly rejectedByRule: Partial<Record<QualityRule, number>>;
}

/** Where the newest stored bar of a chunk's window is read from (MarketDataRepository). */
export interface StoredBarTimes {
  storedBarTimes(symbol: string, timeframe: Timeframe, fromMs: number, toMs: number): Promise<number[]>;
}

/**
 * After a chunk of bars is stored: bars ingested, validation rejects by rule and, when the chunk reaches into
 * the last FRESHNESS_HORIZON_MS, the end of the newest stored bar (data freshness and staleness). Never throws:
 * a metrics problem must not fail an ingest that succeeded.
 */
export async function recordChunkIngested(
  chunk: IngestedChunk,
  outcome: IngestOutcome,
  store: StoredBarTimes,
): Promise<void> {
  try {
    recordBarsIngested(chunk.symbol, chunk.timeframe, outcome.rowsStored);
    for (const [rule, n] of Object.entries(outcome.rejectedByRule))
      if (n) recordDataQualityReject(chunk.symbol, chunk.timeframe, rule, n);
    const from = Math.max(chunk.fromMs, metricsNow() - FRESHNESS_HORIZON_MS);
    if (outcome.rowsStored === 0 || chunk.toMs <= from) return;
    const newest = (await store.storedBarTimes(chunk.symbol, chunk.timeframe, from, chunk.toMs)).at(-1);
    if (newest !== undefined)
      setDataFreshness(chunk.symbol, chunk.timeframe, newest + TIMEFRAME_MS[chunk.timeframe]);
  } catch (err) {
    console.warn(
      `metrics: ingest of ${chunk.symbol} ${chunk.timeframe} not recorded: ${(err as Error).message}`,
    );
  }
}
