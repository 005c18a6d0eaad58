/**
 * Market-data activities (io queue). Thin: validate input, call src/, map errors onto Temporal failures.
 * ingestChunk heartbeats a cursor after every committed batch and, when retried after a crash, resumes
 * from the cursor in its heartbeat details.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type {
  BackfillChunk,
  BackfillInput,
  ChunkCursor,
  ChunkResult,
  DataActivities,
} from '../contracts/backfill';
import { chunkKey, missingRanges, planChunks } from '../src/data/backfill-plan';
import { timeframeDir } from '../src/data/csv';
import { ingestCsvFile } from '../src/data/ingest';
import { ingestFromSource, syntheticSource, type BarSource } from '../src/data/source';
import { TradingError } from '../src/model/errors';
import type { MarketDataRepository } from '../src/storage/market-data-repo';

export interface DataActivityDeps {
  readonly repo: MarketDataRepository;
  /** Root of the shared-data layout for `csv` sources (../shared/data). */
  readonly sharedDataDir?: string;
  /** Network sources, built by the worker from environment credentials. */
  readonly alpaca?: BarSource;
  readonly polygon?: BarSource;
}

function heartbeat(details: ChunkCursor): void {
  // Outside a Temporal activity (CLI, tests of the factory) there is no context to heartbeat to.
  try {
    Context.current().heartbeat(details);
  } catch {
    /* not in an activity */
  }
}

function previousCursor(): ChunkCursor | undefined {
  try {
    const d = Context.current().info.heartbeatDetails as ChunkCursor | undefined;
    return d && typeof d.batchSeq === 'number' ? d : undefined;
  } catch {
    return undefined;
  }
}

function csvPath(
  deps: DataActivityDeps,
  dataset: string,
  chunk: Pick<BackfillChunk, 'symbol' | 'timeframe'>,
): string {
  if (!deps.sharedDataDir)
    throw ApplicationFailure.nonRetryable(
      'sharedDataDir: csv backfills need SHARED_DATA_DIR on the io worker',
      'ConfigError',
    );
  return join(deps.sharedDataDir, dataset, timeframeDir(chunk.timeframe), `${chunk.symbol}.csv.gz`);
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
    async planBackfill(input: BackfillInput): Promise<BackfillChunk[]> {
      let chunks: BackfillChunk[];
      try {
        chunks = planChunks(input);
      } catch (e) {
        throw ApplicationFailure.nonRetryable((e as Error).message, 'ValidationError');
      }
      if (input.source.kind === 'csv') {
        const dataset = input.source.dataset;
        const missing = chunks.filter((c) => !existsSync(csvPath(deps, dataset, c)));
        if (missing.length) {
          const files = [...new Set(missing.map((c) => csvPath(deps, dataset, c)))];
          throw ApplicationFailure.nonRetryable(`source: no file ${files.join(', ')}`, 'ValidationError');
        }
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
      const cursor = previousCursor();
      // Findings of batches after the last heartbeated one are redone, so drop them first (bars are upserts).
      await deps.repo.deleteFindingsAfter(chunk.key, cursor?.batchSeq ?? 0);
      try {
        if (chunk.source.kind === 'csv') {
          const s = await ingestCsvFile({
            path: csvPath(deps, chunk.source.dataset, chunk),
            repo: deps.repo,
            symbol: chunk.symbol,
            timeframe: chunk.timeframe,
            dataset: chunk.source.dataset,
            locationBase: deps.sharedDataDir,
            window: { fromMs: chunk.fromMs, toMs: chunk.toMs, ownsLeading: chunk.ownsLeading },
            onlyRanges: chunk.onlyRanges,
            chunkKey: chunk.key,
            batchLines: chunk.batchLines ?? 50_000,
            resume: cursor
              ? {
                  line: cursor.line,
                  batchSeq: cursor.batchSeq,
                  rowsStored: cursor.rowsStored,
                  tallies: cursor.tallies,
                }
              : undefined,
            onBatch: (c) =>
              heartbeat({
                line: c.line,
                lastTs: 0,
                batchSeq: c.batchSeq,
                rowsStored: c.rowsStored,
                tallies: c.tallies,
              }),
          });
          return {
            key: chunk.key,
            rowsStored: s.rowsStored,
            rowsChanged: s.rowsChanged,
            rejected: s.rejected,
            rejectedByRule: s.rejectedByRule,
            findingsByRule: s.findingsByRule,
            resumedFromBatch: cursor?.batchSeq ?? 0,
          };
        }
        const source = sourceFor(deps, chunk);
        let signal: AbortSignal | undefined;
        try {
          signal = Context.current().cancellationSignal;
        } catch {
          signal = undefined;
        }
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
          resume:
            cursor && cursor.batchSeq > 0
              ? {
                  lastTs: cursor.lastTs,
                  batchSeq: cursor.batchSeq,
                  rowsStored: cursor.rowsStored,
                  tallies: cursor.tallies,
                }
              : undefined,
          onBatch: (c) =>
            heartbeat({
              line: 0,
              lastTs: c.lastTs,
              batchSeq: c.batchSeq,
              rowsStored: c.rowsStored,
              tallies: c.tallies,
            }),
          signal,
        });
        return {
          key: chunk.key,
          rowsStored: s.rowsStored,
          rowsChanged: s.rowsChanged,
          rejected: s.rejected,
          rejectedByRule: s.rejectedByRule,
          findingsByRule: s.findingsByRule,
          resumedFromBatch: cursor?.batchSeq ?? 0,
        };
      } catch (e) {
        return mapError(e);
      }
    },
  };
}

export { chunkKey };
