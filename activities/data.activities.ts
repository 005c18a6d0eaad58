/**
 * Market-data activities (io queue). Thin: validate input, call src/, map errors onto Temporal failures.
 * ingestChunk stages a chunk and merges it into `bars` in one transaction, so a chunk is stored whole or
 * not at all; it heartbeats its progress after every staged batch, and a retry starts the chunk over.
 */
import { existsSync } from 'node:fs';
import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  BackfillInputSchema,
  describeIssues,
  type BackfillChunk,
  type BackfillInput,
  type ChunkCursor,
  type ChunkResult,
  type DataActivities,
} from '../contracts/backfill';
import { chunkKey, missingRanges, planChunks } from '../src/data/backfill-plan';
import { ingestCsvFile } from '../src/data/ingest';
import { confinedPath, csvFileFor } from '../src/data/shared-data';
import { recordChunkIngested } from '../src/monitoring/data-metrics';
import { ingestFromSource, syntheticSource, type BarSource } from '../src/data/source';
import {
  ingestTicks,
  planTickChunks,
  tickKindOf,
  type TickHistory,
  type TickKind,
} from '../src/data/tick-backfill';
import type { TickStore } from '../src/data/tick-store';
import type { UnusualWhalesClient } from '../src/data/unusual-whales';
import { TradingError } from '../src/model/errors';
import type { MarketDataRepository } from '../src/storage/market-data-repo';

export interface DataActivityDeps {
  readonly repo: MarketDataRepository;
  /** Root of the shared-data layout for `csv` sources (../shared/data). */
  readonly sharedDataDir?: string;
  /** Network sources, built by the worker from environment credentials. */
  readonly alpaca?: BarSource & Partial<{ withFeed(feed: 'iex' | 'sip'): TickHistory }>;
  readonly polygon?: BarSource;
  readonly unusualWhales?: UnusualWhalesClient;
  /** Where quote and trade backfills write (`quotes`, `trades`). */
  readonly ticks?: TickStore;
}

function heartbeat(details: ChunkCursor): void {
  // Outside a Temporal activity (CLI, tests of the factory) there is no context to heartbeat to.
  try {
    Context.current().heartbeat(details);
  } catch {
    /* not in an activity */
  }
}

/** The chunk's csv file, confined to the data directory (path traversal and symlinks out are refused). */
function csvPath(
  deps: DataActivityDeps,
  dataset: string,
  chunk: Pick<BackfillChunk, 'symbol' | 'timeframe'>,
): { path: string; rel: string } {
  if (!deps.sharedDataDir)
    throw ApplicationFailure.nonRetryable(
      'sharedDataDir: csv backfills need SHARED_DATA_DIR on the io worker',
      'ConfigError',
    );
  try {
    return csvFileFor(deps.sharedDataDir, dataset, chunk.timeframe, chunk.symbol);
  } catch (e) {
    return mapError(e);
  }
}

function sourceFor(deps: DataActivityDeps, chunk: BackfillChunk): BarSource {
  switch (chunk.source.kind) {
    case 'synthetic':
      return syntheticSource(chunk.source.seed);
    case 'alpaca':
      if (!deps.alpaca)
        throw ApplicationFailure.nonRetryable(
          'source: alpaca is not configured on this worker (APCA_API_KEY_ID / APCA_API_SECRET_KEY)',
          'ConfigError',
        );
      return deps.alpaca;
    case 'polygon':
      if (!deps.polygon)
        throw ApplicationFailure.nonRetryable(
          'source: polygon is not configured on this worker (POLYGON_API_KEY)',
          'ConfigError',
        );
      return deps.polygon;
    default:
      throw ApplicationFailure.nonRetryable(
        `source: ${chunk.source.kind} has no bar source`,
        'ValidationError',
      );
  }
}

function mapError(e: unknown): never {
  if (e instanceof TradingError && !e.retryable) throw ApplicationFailure.nonRetryable(e.message, e.name);
  throw e;
}

export function createDataActivities(deps: DataActivityDeps): DataActivities {
  return {
    async planBackfill(raw: BackfillInput): Promise<BackfillChunk[]> {
      const parsed = BackfillInputSchema.safeParse(raw);
      if (!parsed.success)
        throw ApplicationFailure.nonRetryable(
          `backfill input: ${describeIssues(parsed.error.issues)}`,
          'ValidationError',
        );
      const input = parsed.data;
      let chunks: BackfillChunk[];
      try {
        // Quotes, trades and options flow: chunks per symbol and day (month for flow); timeframes ignored.
        if (tickKindOf(input.source)) return planTickChunks(input);
        chunks = planChunks(input);
      } catch (e) {
        throw ApplicationFailure.nonRetryable((e as Error).message, 'ValidationError');
      }
      if (input.source.kind === 'csv') {
        const dataset = input.source.dataset;
        if (!deps.sharedDataDir)
          throw ApplicationFailure.nonRetryable(
            'sharedDataDir: csv backfills need SHARED_DATA_DIR on the io worker',
            'ConfigError',
          );
        let setDir: string;
        try {
          setDir = confinedPath(deps.sharedDataDir, dataset, 'source.dataset');
        } catch (e) {
          return mapError(e);
        }
        if (!existsSync(setDir))
          throw ApplicationFailure.nonRetryable(
            `source.dataset: no set "${dataset}" in the data directory`,
            'ValidationError',
          );
        const missing = [
          ...new Set(
            chunks
              .map((c) => csvPath(deps, dataset, c))
              .filter((f) => !existsSync(f.path))
              .map((f) => f.rel),
          ),
        ];
        if (missing.length)
          throw ApplicationFailure.nonRetryable(
            `source: no file ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` (and ${missing.length - 10} more)` : ''} in the data directory`,
            'ValidationError',
          );
      }
      if (input.mode !== 'gap-fill') return chunks;
      const out: BackfillChunk[] = [];
      for (const c of chunks) {
        const stored = await deps.repo.storedBarTimes(
          c.symbol,
          c.timeframe,
          c.fromMs - 86_400_000,
          c.toMs + 86_400_000,
        );
        const ranges = missingRanges(c, stored);
        // A gap-fill chunk has its own key so it never drops findings of the full run it complements.
        if (ranges.length)
          out.push({
            ...c,
            key: `${c.key}:fill:${ranges[0]![0]}-${ranges.at(-1)![1]}:${ranges.length}`,
            onlyRanges: ranges,
          });
      }
      return out;
    },

    async ingestChunk(chunk: BackfillChunk): Promise<ChunkResult> {
      let attempt = 1;
      let signal: AbortSignal | undefined;
      try {
        attempt = Context.current().info.attempt;
        signal = Context.current().cancellationSignal;
      } catch {
        /* not in an activity */
      }
      // A chunk is one atomic write: a retry starts it over, so the findings of earlier attempts go.
      await deps.repo.deleteFindingsAfter(chunk.key, 0);
      let last: ChunkCursor = { line: 0, lastTs: 0, batchSeq: 0, rowsStored: 0 };
      // The merge at the end is one statement: keep heartbeating while it runs.
      const beat = setInterval(() => heartbeat(last), 2_000);
      try {
        const tick = tickKindOf(chunk.source);
        if (tick)
          return await ingestTickChunk(deps, chunk, tick, attempt, signal, (c) => {
            last = { line: 0, lastTs: c.lastTs, batchSeq: c.batchSeq, rowsStored: c.rowsStored };
            heartbeat(last);
          });
        if (chunk.source.kind === 'csv') {
          const file = csvPath(deps, chunk.source.dataset, chunk);
          const s = await ingestCsvFile({
            path: file.path,
            repo: deps.repo,
            symbol: chunk.symbol,
            timeframe: chunk.timeframe,
            dataset: chunk.source.dataset,
            locationBase: deps.sharedDataDir,
            notBeforeMs: chunk.notBeforeMs,
            window: { fromMs: chunk.fromMs, toMs: chunk.toMs, ownsLeading: chunk.ownsLeading },
            onlyRanges: chunk.onlyRanges,
            chunkKey: chunk.key,
            batchLines: chunk.batchLines ?? 50_000,
            onBatch: (c) => {
              last = {
                line: c.line,
                lastTs: 0,
                batchSeq: c.batchSeq,
                rowsStored: c.rowsStored,
                tallies: c.tallies,
              };
              heartbeat(last);
            },
          });
          await recordChunkIngested(chunk, s, deps.repo);
          return {
            key: chunk.key,
            rowsStored: s.rowsStored,
            rowsChanged: s.rowsChanged,
            rejected: s.rejected,
            rejectedByRule: s.rejectedByRule,
            findingsByRule: s.findingsByRule,
            attempt,
          };
        }
        const source = sourceFor(deps, chunk);
        const s = await ingestFromSource({
          source,
          request: {
            symbol: chunk.symbol,
            timeframe: chunk.timeframe,
            fromMs: chunk.fromMs,
            toMs: chunk.toMs,
          },
          repo: deps.repo,
          chunkKey: chunk.key,
          onlyRanges: chunk.onlyRanges,
          notBeforeMs: chunk.notBeforeMs,
          onBatch: (c) => {
            last = {
              line: 0,
              lastTs: c.lastTs,
              batchSeq: c.batchSeq,
              rowsStored: c.rowsStored,
              tallies: c.tallies,
            };
            heartbeat(last);
          },
          signal,
        });
        await recordChunkIngested(chunk, s, deps.repo);
        return {
          key: chunk.key,
          rowsStored: s.rowsStored,
          rowsChanged: s.rowsChanged,
          rejected: s.rejected,
          rejectedByRule: s.rejectedByRule,
          findingsByRule: s.findingsByRule,
          attempt,
        };
      } catch (e) {
        return mapError(e);
      } finally {
        clearInterval(beat);
      }
    },
  };
}

export { chunkKey };

/**
 * A quote, trade or options-flow chunk: pages are upserted as they arrive (idempotent, so a retry that starts
 * the chunk over changes nothing it already stored) and the progress is heartbeated after each.
 */
async function ingestTickChunk(
  deps: DataActivityDeps,
  chunk: BackfillChunk,
  kind: TickKind,
  attempt: number,
  signal: AbortSignal | undefined,
  onPage: (c: { lastTs: number; batchSeq: number; rowsStored: number }) => void,
): Promise<ChunkResult> {
  if (!deps.ticks)
    throw ApplicationFailure.nonRetryable('ticks: this worker has no quote/trade store', 'ConfigError');
  let history: TickHistory | undefined;
  if (kind !== 'options-flow') {
    if (!deps.alpaca?.withFeed)
      throw ApplicationFailure.nonRetryable(
        `source: ${chunk.source.kind} needs Alpaca on this worker (APCA_API_KEY_ID / APCA_API_SECRET_KEY, or APCA_API_BASE_URL at the local simulator)`,
        'ConfigError',
      );
    history = deps.alpaca.withFeed('feed' in chunk.source && chunk.source.feed === 'sip' ? 'sip' : 'iex');
  } else if (!deps.unusualWhales)
    throw ApplicationFailure.nonRetryable(
      'source: unusual-whales is not configured on this worker (UNUSUAL_WHALES_API_KEY)',
      'ConfigError',
    );
  const r = await ingestTicks({
    kind,
    symbol: chunk.symbol,
    fromMs: chunk.fromMs,
    toMs: chunk.toMs,
    history,
    flow: deps.unusualWhales,
    store: deps.ticks,
    repo: deps.repo,
    chunkKey: chunk.key,
    onPage,
    signal,
  });
  return {
    key: chunk.key,
    rowsStored: r.rowsStored,
    rowsChanged: r.rowsChanged,
    rejected: r.rejected,
    rejectedByRule: r.rejectedByRule,
    findingsByRule: r.findingsByRule,
    attempt,
  };
}
