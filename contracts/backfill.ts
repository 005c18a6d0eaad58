/**
 * What crosses the BackfillWorkflow boundary: plain JSON only (epoch-ms numbers, arrays), checked by one
 * strict schema (unknown keys are errors) in the CLI, the workflow and the planning activity.
 */
import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import { TIMEFRAMES, type Timeframe } from '../src/model/timeframe';

/** Where a backfill reads from. Credentials never travel here: workers read them from the environment. */
export type BackfillSource =
  | { readonly kind: 'csv'; readonly dataset: string }
  | { readonly kind: 'synthetic'; readonly seed: number }
  | {
      readonly kind: 'alpaca';
      readonly feed?: 'iex' | 'sip';
      readonly adjustment?: 'raw' | 'split' | 'dividend' | 'all';
    }
  | { readonly kind: 'polygon'; readonly adjusted?: boolean }
  /** Quotes / trades from Alpaca into `quotes` / `trades`, per symbol and trading day (timeframes ignored). */
  | { readonly kind: 'alpaca-quotes'; readonly feed?: 'iex' | 'sip' }
  | { readonly kind: 'alpaca-trades'; readonly feed?: 'iex' | 'sip' }
  /** Unusual Whales options-flow alerts into `options_flow`, per symbol and month (timeframes ignored). */
  | { readonly kind: 'unusual-whales' };

export interface BackfillInput {
  /** Ticker symbols; for a csv source also file names, so no '/'. */
  readonly symbols: readonly string[];
  readonly timeframes: readonly Timeframe[];
  readonly fromMs: number;
  readonly toMs: number;
  readonly source: BackfillSource;
  /** 'gap-fill' fetches only the days missing against the calendar. Default 'full'. */
  readonly mode?: 'full' | 'gap-fill';
  /** Chunks in flight at once (default 4). */
  readonly maxParallel?: number;
  /** Rows per staged, heartbeated batch (default 50,000). */
  readonly batchLines?: number;
  /** Rows before this are implausible (default: the calendar's first plausible day). */
  readonly notBeforeMs?: number;
}

/** Plausible bounds of any requested time: what a typo (year 20013, 1e15) runs into. */
export const BACKFILL_MIN_MS = Date.UTC(1900, 0, 1);
export const BACKFILL_MAX_MS = Date.UTC(2100, 0, 1);
/** A backfill plans at most this many symbol × timeframe × month chunks. */
export const MAX_BACKFILL_CHUNKS = 20_000;

const SYMBOL_RE = /^[A-Z][A-Z0-9.\-/]{0,14}$/;
/** A set name is one folder of the data directory: no separators, no leading dot. */
const DATASET_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const epochMs = (what: string) =>
  z
    .number({ error: `${what} must be epoch milliseconds` })
    .int(`${what} must be whole epoch milliseconds`)
    .min(BACKFILL_MIN_MS, `${what} is before 1900-01-01`)
    .max(BACKFILL_MAX_MS, `${what} is after 2100-01-01`);

export const BackfillSourceSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('csv'),
      dataset: z
        .string()
        .regex(
          DATASET_RE,
          'a set is a folder name inside the data directory (letters, digits, _ . -; no / or leading dot)',
        ),
    }),
    z.strictObject({
      kind: z.literal('synthetic'),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1),
    }),
    z.strictObject({
      kind: z.literal('alpaca'),
      feed: z.enum(['iex', 'sip']).optional(),
      adjustment: z.enum(['raw', 'split', 'dividend', 'all']).optional(),
    }),
    z.strictObject({ kind: z.literal('polygon'), adjusted: z.boolean().optional() }),
    z.strictObject({ kind: z.literal('alpaca-quotes'), feed: z.enum(['iex', 'sip']).optional() }),
    z.strictObject({ kind: z.literal('alpaca-trades'), feed: z.enum(['iex', 'sip']).optional() }),
    z.strictObject({ kind: z.literal('unusual-whales') }),
  ],
  { error: 'kind must be csv, synthetic, alpaca, alpaca-quotes, alpaca-trades, polygon or unusual-whales' },
);

/** The one schema of BackfillInput (CLI, workflow, planBackfill). */
export const BackfillInputSchema: z.ZodType<BackfillInput, BackfillInput> = z
  .strictObject({
    symbols: z
      .array(z.string().regex(SYMBOL_RE, 'not a ticker symbol (A-Z, 0-9, . - /; up to 15)'))
      .min(1, 'at least one symbol is needed')
      .max(2000),
    timeframes: z.array(z.enum(TIMEFRAMES)).min(1, 'at least one timeframe is needed'),
    fromMs: epochMs('fromMs'),
    toMs: epochMs('toMs'),
    source: BackfillSourceSchema,
    mode: z.enum(['full', 'gap-fill']).optional(),
    maxParallel: z.number().int().min(1).max(32).optional(),
    batchLines: z.number().int().min(100).max(1_000_000).optional(),
    notBeforeMs: epochMs('notBeforeMs').optional(),
  })
  .superRefine((v, ctx) => {
    if (!(v.toMs > v.fromMs))
      ctx.addIssue({ code: 'custom', path: ['toMs'], message: 'must be after the start (fromMs)' });
    if (v.source.kind === 'csv')
      v.symbols.forEach((s, i) => {
        if (s.includes('/'))
          ctx.addIssue({
            code: 'custom',
            path: ['symbols', i],
            message: `"${s}" cannot name a csv file (no '/'); use the symbol of the data set's MANIFEST.csv`,
          });
      });
    const months = Math.ceil((v.toMs - v.fromMs) / (28 * 86_400_000)) + 1;
    if (v.toMs > v.fromMs && v.symbols.length * v.timeframes.length * months > MAX_BACKFILL_CHUNKS)
      ctx.addIssue({
        code: 'custom',
        path: ['symbols'],
        message: `symbols × timeframes × months exceeds ${MAX_BACKFILL_CHUNKS} chunks: split the backfill`,
      });
  });

/** The issues of a failed parse as one line: `field: problem; field: problem` (first five). */
export function describeIssues(
  issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>,
  rename: (path: string) => string = (p) => p,
): string {
  const parts = issues
    .slice(0, 5)
    .map((i) => `${rename(i.path.map(String).join('.')) || 'input'}: ${i.message}`);
  return parts.join('; ') + (issues.length > 5 ? ` (and ${issues.length - 5} more)` : '');
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
  readonly notBeforeMs?: number;
}

export interface ChunkResult {
  readonly key: string;
  readonly rowsStored: number;
  readonly rowsChanged: number;
  readonly rejected: number;
  readonly rejectedByRule: Readonly<Record<string, number>>;
  readonly findingsByRule: Readonly<Record<string, number>>;
  /** The activity attempt that stored the chunk (a retry starts the chunk over: it is atomic). */
  readonly attempt: number;
}

/** Heartbeat details of ingestChunk: its progress (staged rows; they are stored when the chunk commits). */
export interface ChunkCursor {
  readonly line: number;
  readonly lastTs: number;
  readonly batchSeq: number;
  readonly rowsStored: number;
  /** Totals up to the cursor. */
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
