/**
 * The one source interface every bar provider implements (Alpaca, Polygon, synthetic), and the ingest
 * loop that validates and stores what a source returns page by page, resumable after a crash.
 */
import type { Bar } from '../model/bar';
import type { Timeframe } from '../model/timeframe';
import { calendarFor } from '../market/calendar';
import { BarValidator, type QualityFinding, type QualityRule } from '../market/validation';
import { barCopyBatch, type MarketDataRepository } from '../storage/market-data-repo';
import type { IngestTallies } from './ingest';
import { syntheticBars, SYNTHETIC_SOURCE } from './synthetic';

export interface BarRequest {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  /** Inclusive start, exclusive end, epoch ms. */
  readonly fromMs: number;
  readonly toMs: number;
}

/** One page of bars and the request that returned it (reported as the location of findings). */
export interface BarPage {
  readonly bars: readonly Bar[];
  readonly location: string;
  /** Records of the page that could not be read as bars; reported, never stored. */
  readonly problems?: ReadonlyArray<{
    readonly index: number;
    readonly field: string;
    readonly problem: string;
    readonly value: string;
  }>;
}

export interface BarSource {
  /** Stored in bars.source. */
  readonly name: string;
  /** Rows from this source are stored with synthetic = true. */
  readonly synthetic: boolean;
  fetchBars(req: BarRequest, signal?: AbortSignal): AsyncIterable<BarPage>;
}

/** The synthetic generator as a source: one page per day, so resuming mid-chunk is meaningful. */
export function syntheticSource(seed: number): BarSource {
  return {
    name: SYNTHETIC_SOURCE,
    synthetic: true,
    async *fetchBars(req: BarRequest): AsyncIterable<BarPage> {
      const DAY = 86_400_000;
      for (let t = Math.floor(req.fromMs / DAY) * DAY; t < req.toMs; t += DAY) {
        const from = Math.max(t, req.fromMs);
        const to = Math.min(t + DAY, req.toMs);
        const bars = syntheticBars(req.symbol, req.timeframe, from, to, seed);
        if (bars.length)
          yield {
            bars,
            location: `synthetic(seed=${seed}) ${req.symbol} ${req.timeframe} ${new Date(from).toISOString().slice(0, 10)}`,
          };
        await Promise.resolve();
      }
    },
  };
}

export interface SourceCursor {
  readonly lastTs: number;
  readonly batchSeq: number;
  readonly rowsStored: number;
  readonly tallies?: IngestTallies;
}

export interface SourceIngestResult {
  readonly rowsStored: number;
  readonly rowsChanged: number;
  readonly rejected: number;
  readonly rejectedByRule: Partial<Record<QualityRule, number>>;
  readonly findingsByRule: Partial<Record<QualityRule, number>>;
  readonly cursor: SourceCursor;
}

/**
 * Fetches, validates and stores bars for a request. With `resume`, fetching restarts after the last
 * committed bar; pages are committed with their findings in one transaction each.
 */
export async function ingestFromSource(opts: {
  source: BarSource;
  request: BarRequest;
  repo: Pick<MarketDataRepository, 'writeBars'>;
  dataset?: string;
  chunkKey?: string;
  resume?: SourceCursor;
  onlyRanges?: ReadonlyArray<readonly [number, number]>;
  onBatch?: (cursor: SourceCursor) => void | Promise<void>;
  signal?: AbortSignal;
}): Promise<SourceIngestResult> {
  const { source, request } = opts;
  const validator = new BarValidator({
    symbol: request.symbol,
    timeframe: request.timeframe,
    calendar: calendarFor(request.symbol),
  });
  let batchSeq = opts.resume?.batchSeq ?? 0;
  let rowsStored = opts.resume?.rowsStored ?? 0;
  let lastTs = opts.resume?.lastTs ?? -Infinity;
  let rowsChanged = 0;
  let rejected = opts.resume?.tallies?.rejected ?? 0;
  const rejectedByRule: Partial<Record<QualityRule, number>> = { ...opts.resume?.tallies?.rejectedByRule };
  const findingsByRule: Partial<Record<QualityRule, number>> = { ...opts.resume?.tallies?.findingsByRule };
  const fromMs = Number.isFinite(lastTs) ? Math.max(request.fromMs, lastTs + 1) : request.fromMs;
  const inRanges = (ts: number) => !opts.onlyRanges || opts.onlyRanges.some(([a, b]) => ts >= a && ts < b);
  for await (const page of source.fetchBars({ ...request, fromMs }, opts.signal)) {
    const accepted: Bar[] = [];
    const findings: QualityFinding[] = [];
    for (const p of page.problems ?? []) {
      findings.push({
        symbol: request.symbol,
        timeframe: request.timeframe,
        ts: null,
        rule: 'parse_error',
        severity: 'reject',
        value: p.value,
        detail: `${p.field}: ${p.problem}`,
        location: `${page.location} record ${p.index}`,
        field: p.field,
      });
      findingsByRule.parse_error = (findingsByRule.parse_error ?? 0) + 1;
      rejectedByRule.parse_error = (rejectedByRule.parse_error ?? 0) + 1;
      rejected++;
    }
    for (const bar of page.bars) {
      if (bar.ts < request.fromMs || bar.ts >= request.toMs || !inRanges(bar.ts)) continue;
      const v = validator.check(bar, page.location);
      for (const f of v.findings) {
        findings.push(f);
        findingsByRule[f.rule] = (findingsByRule[f.rule] ?? 0) + 1;
      }
      if (v.accepted) accepted.push(bar);
      else {
        rejected++;
        const rule = v.findings[0]!.rule;
        rejectedByRule[rule] = (rejectedByRule[rule] ?? 0) + 1;
      }
    }
    if (accepted.length === 0 && findings.length === 0) continue;
    batchSeq++;
    const batch = accepted.length ? barCopyBatch(accepted, source.name, source.synthetic) : null;
    rowsChanged += (
      await opts.repo.writeBars(batch, findings, {
        source: source.name,
        dataset: opts.dataset,
        chunkKey: opts.chunkKey,
        batchSeq,
      })
    ).changed;
    rowsStored += accepted.length;
    if (accepted.length) lastTs = accepted.at(-1)!.ts;
    await opts.onBatch?.({
      lastTs,
      batchSeq,
      rowsStored,
      tallies: { rejected, rejectedByRule: { ...rejectedByRule }, findingsByRule: { ...findingsByRule } },
    });
  }
  return {
    rowsStored,
    rowsChanged,
    rejected,
    rejectedByRule,
    findingsByRule,
    cursor: { lastTs, batchSeq, rowsStored },
  };
}
