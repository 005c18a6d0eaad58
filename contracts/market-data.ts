/**
 * What crosses the market-data stream workflow's boundary: plain JSON, checked by one strict schema (unknown
 * keys are errors) in the CLI, the workflow and the activity. Credentials never travel here: the io worker
 * reads them from its environment.
 */
import { z } from 'zod';

export const STREAM_FEEDS = ['iex', 'sip'] as const;
export type StreamFeed = (typeof STREAM_FEEDS)[number];

const SYMBOL_RE = /^[A-Z][A-Z0-9.\-/]{0,14}$/;
const symbol = z.string().regex(SYMBOL_RE, 'not a ticker symbol (A-Z, 0-9, . - /; up to 15)');

export const MarketDataStreamInputSchema = z
  .strictObject({
    /** Whose day this is (part of the workflow id): one stream per account, feed and day. */
    account: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, _ and - (up to 40)'),
    feed: z.enum(STREAM_FEEDS).optional(),
    /** The venue's trading day, YYYY-MM-DD (New York). */
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD'),
    /** Minute bars of these symbols. */
    symbols: z.array(symbol).min(1, 'at least one symbol is needed').max(5_000),
    /** Quotes and trades of these too (each must be one of `symbols`). */
    focus: z.array(symbol).max(500).optional(),
    /** 'regular' (default): 09:30–16:00 New York (13:00 on early closes); 'extended': 04:00–20:00. */
    session: z.enum(['regular', 'extended']).optional(),
    /** How fast a dead worker is noticed and the stream resumed elsewhere (default 30 s). */
    heartbeatTimeoutMs: z.number().int().min(1_000).max(600_000).optional(),
    /** How often the venue's clock is read to notice the end of the day (default 5 s). */
    clockPollMs: z.number().int().min(50).max(60_000).optional(),
    /** Grace for the last bars after the venue's clock passed the end (default 2 s). */
    closeGraceMs: z.number().int().min(0).max(600_000).optional(),
    /** Task queue of the stream activity (default io; tests isolate theirs). */
    taskQueue: z.string().min(1).max(200).optional(),
  })
  .superRefine((v, ctx) => {
    const all = new Set(v.symbols);
    (v.focus ?? []).forEach((s, i) => {
      if (!all.has(s))
        ctx.addIssue({ code: 'custom', path: ['focus', i], message: `${s} is not one of symbols` });
    });
    if (all.size !== v.symbols.length)
      ctx.addIssue({ code: 'custom', path: ['symbols'], message: 'a symbol is listed twice' });
  });
export type MarketDataStreamInput = z.infer<typeof MarketDataStreamInputSchema>;

/** `market-data-<account>-<feed>-<date>`: starting the same day twice finds the running one. */
export function marketDataStreamWorkflowId(input: Pick<MarketDataStreamInput, 'account' | 'feed' | 'date'>) {
  return `market-data-${input.account}-${input.feed ?? 'iex'}-${input.date}`;
}

/** Heartbeat details of the stream activity, and its result. */
export interface MarketDataStreamProgress {
  /** Start of the newest stored minute bar per symbol (epoch ms): where a retried attempt resumes. */
  readonly lastStored: Readonly<Record<string, number>>;
  readonly barsFromStream: number;
  readonly barsFromRest: number;
  readonly quotes: number;
  readonly trades: number;
  readonly findings: number;
  readonly reconnects: number;
  readonly fills: number;
}

export interface MarketDataStreamResult {
  /** true when the workflow was cancelled (`trader stream stop`) before the day ended. */
  readonly stopped: boolean;
  /** The final attempt's counts (absent when stopped). */
  readonly progress?: MarketDataStreamProgress;
}

/** The io queue's stream activity: consumes the day, heartbeating MarketDataStreamProgress. */
export interface MarketDataActivities {
  streamMarketData(
    input: MarketDataStreamInput & { readonly streamId: string },
  ): Promise<MarketDataStreamProgress>;
}
