/**
 * The one source interface every bar provider implements (Alpaca, Polygon, synthetic), and the ingest
 * loop that validates and stores what a source returns page by page, resumable after a crash.
 */
import type { Bar } from '../model/bar';
import type { Timeframe } from '../model/timeframe';
import { calendarFor } from '../market/calendar';
import { BarValidator, type QualityFinding, type QualityRule } from '../market/validation';
import { ValidationError } from '../model/errors';
import { RowRefusedError, type MarketDataRepository } from '../storage/market-data-repo';
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

/** Progress after a staged page (heartbeated by backfill chunks). */
export interface SourceCursor {
  readonly lastTs: number;
  readonly batchSeq: number;
  /** Rows staged so far (stored once the chunk commits). */
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

const num = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '\\N' : String(v));

/**
 * Fetches, validates and stores bars for a request, atomically: pages are validated and staged as they
 * arrive (findings written with each page), and the chunk reaches `bars` in one merge at the end, or not
 * at all. A retry starts the chunk over. Synthetic bars never replace real ones: those keys are skipped
 * and reported (`synthetic_over_real`).
 */
export async function ingestFromSource(opts: {
  source: BarSource;
  request: BarRequest;
  repo: Pick<MarketDataRepository, 'beginStaged' | 'writeFindings'>;
  dataset?: string;
  chunkKey?: string;
  onlyRanges?: ReadonlyArray<readonly [number, number]>;
  /** Rows before this are implausible (default: the calendar's first plausible day). */
  notBeforeMs?: number;
  onBatch?: (cursor: SourceCursor) => void | Promise<void>;
  signal?: AbortSignal;
}): Promise<SourceIngestResult> {
  const { source, request } = opts;
  const validator = new BarValidator({
    symbol: request.symbol,
    timeframe: request.timeframe,
    calendar: calendarFor(request.symbol),
    minTs: opts.notBeforeMs,
  });
  let batchSeq = 0;
  let rowsStaged = 0;
  let lastTs = -Infinity;
  let rejected = 0;
  const rejectedByRule: Partial<Record<QualityRule, number>> = {};
  const findingsByRule: Partial<Record<QualityRule, number>> = {};
  const inRanges = (ts: number) => !opts.onlyRanges || opts.onlyRanges.some(([a, b]) => ts >= a && ts < b);
  const ctx = { source: source.name, dataset: opts.dataset, chunkKey: opts.chunkKey };
  // A staged row's line is its bar's ordinal over all pages (1-based); the page map turns it back into
  // `<page location> (bar <n> of the page)` when the database refuses it.
  const pageStarts: Array<[number, string]> = [];
  let recordsSeen = 0;
  const locationOf = (line: number | null) => {
    if (line === null) return `${source.name} ${request.symbol} ${request.timeframe}`;
    const p = pageStarts.findLast(([first]) => first <= line);
    return p ? `${p[1]} (bar ${line - p[0] + 1} of the page)` : `${source.name} bar ${line}`;
  };
  const write = await opts.repo.beginStaged({
    kind: 'bars',
    symbol: request.symbol,
    timeframe: request.timeframe,
    source: source.name,
    synthetic: source.synthetic,
    ctx,
  });
  try {
    for await (const page of source.fetchBars(request, opts.signal)) {
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
      let text = '';
      let count = 0;
      let minTs = Infinity;
      let maxTs = -Infinity;
      const pageOffset = recordsSeen;
      recordsSeen += page.bars.length;
      pageStarts.push([pageOffset + 1, page.location]);
      page.bars.forEach((bar, index) => {
        if (bar.ts < request.fromMs || bar.ts >= request.toMs || !inRanges(bar.ts)) return;
        const v = validator.check(bar, page.location);
        for (const f of v.findings) {
          findings.push(f);
          findingsByRule[f.rule] = (findingsByRule[f.rule] ?? 0) + 1;
        }
        if (!v.accepted) {
          rejected++;
          const rule = v.findings[0]!.rule;
          rejectedByRule[rule] = (rejectedByRule[rule] ?? 0) + 1;
          return;
        }
        count++;
        const line = pageOffset + index + 1;
        text += `${new Date(bar.ts).toISOString()}\t${bar.open}\t${bar.high}\t${bar.low}\t${bar.close}\t${bar.volume}\t${num(bar.vwap)}\t${num(bar.tradeCount)}\t${line}\n`;
        if (bar.ts < minTs) minTs = bar.ts;
        if (bar.ts > maxTs) maxTs = bar.ts;
        lastTs = bar.ts;
      });
      if (count === 0 && findings.length === 0) continue;
      batchSeq++;
      if (findings.length) await write.findings(findings, batchSeq);
      if (count) await write.stage({ copyText: text, count, minTs, maxTs });
      rowsStaged += count;
      await opts.onBatch?.({
        lastTs,
        batchSeq,
        rowsStored: rowsStaged,
        tallies: { rejected, rejectedByRule: { ...rejectedByRule }, findingsByRule: { ...findingsByRule } },
      });
    }
    const r = await write.commit();
    if (r.skippedSynthetic > 0) {
      rejected += r.skippedSynthetic;
      rejectedByRule.synthetic_over_real = (rejectedByRule.synthetic_over_real ?? 0) + r.skippedSynthetic;
      findingsByRule.synthetic_over_real = (findingsByRule.synthetic_over_real ?? 0) + 1;
      await opts.repo.writeFindings(
        [
          {
            symbol: request.symbol,
            timeframe: request.timeframe,
            ts: r.firstSkipped?.ts ?? null,
            rule: 'synthetic_over_real',
            severity: 'reject',
            value: String(r.skippedSynthetic),
            detail: `${r.skippedSynthetic} synthetic bar(s) not stored: real bars hold these times, and synthetic data never replaces real data`,
            location: locationOf(r.firstSkipped?.line ?? null),
            field: 'ts',
          },
        ],
        { ...ctx, batchSeq: batchSeq + 1 },
      );
    }
    return {
      rowsStored: r.stored,
      rowsChanged: r.changed,
      rejected,
      rejectedByRule,
      findingsByRule,
      cursor: { lastTs, batchSeq, rowsStored: r.stored },
    };
  } catch (e) {
    await write.abort();
    if (e instanceof RowRefusedError) {
      const location = locationOf(e.line);
      await opts.repo
        .writeFindings(
          [
            {
              symbol: request.symbol,
              timeframe: request.timeframe,
              ts: e.ts,
              rule: 'db_error',
              severity: 'reject',
              value: '',
              detail: `${e.field}: ${e.message}`,
              location,
              field: e.field,
            },
          ],
          { ...ctx, batchSeq: batchSeq + 1 },
        )
        .catch(() => undefined);
      throw new ValidationError(e.field, `${e.message}; nothing of this chunk was stored`, location);
    }
    throw e;
  }
}
