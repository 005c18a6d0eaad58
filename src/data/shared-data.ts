/**
 * The ../shared/data collection: its MANIFEST.csv, and importing every set through the streaming ingest.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Timeframe } from '../model/timeframe';
import type { MarketDataRepository } from '../storage/market-data-repo';
import { describeSharedDataFile } from './csv';
import { ingestCsvFile, type IngestSummary } from './ingest';

export interface ManifestEntry {
  readonly path: string;
  readonly dataset: string;
  readonly timeframeDir: string;
  readonly symbol: string;
  readonly rows: number;
  readonly kind: 'bars' | 'quotes';
  readonly timeframe: Timeframe | null;
}

export function readManifest(dir: string): ManifestEntry[] {
  const lines = readFileSync(join(dir, 'MANIFEST.csv'), 'utf8').split('\n').filter(Boolean);
  const header = lines[0]!.split(',');
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new RangeError(`MANIFEST.csv: column "${name}" is missing`);
    return i;
  };
  const [p, s, tf, sym, rows] = [col('path'), col('source'), col('timeframe'), col('symbol'), col('rows')];
  return lines.slice(1).map((line) => {
    const f = line.split(',');
    const d = describeSharedDataFile(join(dir, f[p]!));
    return {
      path: f[p]!,
      dataset: f[s]!,
      timeframeDir: f[tf]!,
      symbol: f[sym]!,
      rows: Number(f[rows]),
      kind: d.kind,
      timeframe: d.timeframe,
    };
  });
}

export interface SharedImportResult {
  readonly entry: ManifestEntry;
  readonly summary: IngestSummary;
}

/** Imports the listed files with bounded concurrency; `maxDataLines` samples big files (tests). */
export async function importSharedData(opts: {
  dir: string;
  repo: MarketDataRepository;
  entries?: readonly ManifestEntry[];
  concurrency?: number;
  maxDataLines?: (e: ManifestEntry) => number | undefined;
  onFile?: (r: SharedImportResult) => void;
}): Promise<SharedImportResult[]> {
  const entries = opts.entries ?? readManifest(opts.dir);
  const results: SharedImportResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const entry = entries[next++]!;
      // Re-importing a file replaces its findings instead of adding a second copy (bars are upserts).
      const chunkKey = `import:${entry.path}`;
      await opts.repo.deleteFindingsAfter(chunkKey, 0);
      const summary = await ingestCsvFile({
        chunkKey,
        path: join(opts.dir, entry.path),
        repo: opts.repo,
        locationBase: opts.dir,
        maxDataLines: opts.maxDataLines?.(entry),
      });
      const r = { entry, summary };
      results.push(r);
      opts.onFile?.(r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 2) }, worker));
  return results;
}
