/**
 * What crosses the BackfillWorkflow boundary: plain JSON only (epoch-ms numbers, arrays).
 */
import { defineQuery } from '@temporalio/workflow';
import type { Timeframe } from '../src/model/timeframe';

/** Where a backfill reads from. Credentials never travel here: workers read them from the environment. */
export type BackfillSource =
  | { readonly kind: 'csv'; readonly dataset: string }
  | { readonly kind: 'synthetic'; readonly seed: number }
  | {
      readonly kind: 'alpaca';
      readonly feed?: 'iex' | 'sip';
      readonly adjustment?: 'raw' | 'split' | 'dividend' | 'all';
    }
  | { readonly kind: 'polygon'; readonly adjusted?: boolean };

export interface BackfillInput {
  readonly symbols: readonly string[];
  readonly timeframes: readonly Timeframe[];
  readonly fromMs: number;
  readonly toMs: number;
  readonly source: BackfillSource;
  /** 'gap-fill' fetches only the days missing against the calendar. Default 'full'. */
  readonly mode?: 'full' | 'gap-fill';
  /** Chunks in flight at once (default 4). */
  readonly maxParallel?: number;
  /** Rows per committed, heartbeated batch (default 50,000). */
  readonly batchLines?: number;
}

/** One symbol × timeframe × month. */
export interface BackfillChunk {
  readonly key: string;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly fromMs: number;
  readonly toMs: number;
  readonly source: BackfillSource;
  /** First chunk of a symbol/timeframe: owns malformed lines that come before any valid timestamp. */
  readonly ownsLeading: boolean;
  /** Gap-fill: only these [from, to) ranges are fetched and stored. */
  readonly onlyRanges?: ReadonlyArray<readonly [number, number]>;
  readonly batchLines?: number;
}

export interface ChunkResult {
  readonly key: string;
  readonly rowsStored: number;
  readonly rowsChanged: number;
  readonly rejected: number;
  readonly rejectedByRule: Readonly<Record<string, number>>;
  readonly findingsByRule: Readonly<Record<string, number>>;
  /** The committed batch this attempt resumed after (0 = from the start). */
  readonly resumedFromBatch: number;
}

/** Heartbeat details of ingestChunk: enough to resume after a crash. */
export interface ChunkCursor {
  readonly line: number;
  readonly lastTs: number;
  readonly batchSeq: number;
  readonly rowsStored: number;
  /** Totals up to the cursor, so the resumed attempt reports what an uninterrupted one would. */
  readonly tallies?: {
    readonly rejected: number;
    readonly rejectedByRule: Readonly<Record<string, number>>;
    readonly findingsByRule: Readonly<Record<string, number>>;
  };
}

export interface BackfillProgress {
  readonly planned: boolean;
  readonly totalChunks: number;
  readonly completedChunks: number;
  readonly running: readonly string[];
  readonly failed: ReadonlyArray<{ readonly key: string; readonly error: string }>;
  readonly rowsStored: number;
  readonly rowsChanged: number;
  readonly rejected: number;
  readonly rejectedByRule: Readonly<Record<string, number>>;
  readonly findingsByRule: Readonly<Record<string, number>>;
}

export interface BackfillSummary extends BackfillProgress {
  readonly mode: 'full' | 'gap-fill';
}

export const backfillProgressQuery = defineQuery<BackfillProgress>('backfillProgress');

/** Activities the workflow calls (io queue). */
export interface DataActivities {
  planBackfill(input: BackfillInput): Promise<BackfillChunk[]>;
  ingestChunk(chunk: BackfillChunk): Promise<ChunkResult>;
}
