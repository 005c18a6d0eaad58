/**
 * The ../shared/data collection: its MANIFEST.csv, where a set's file for a symbol is (confined to the
 * data directory), and importing every set through the streaming ingest.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { ValidationError } from '../model/errors';
import type { Timeframe } from '../model/timeframe';
import type { MarketDataRepository } from '../storage/market-data-repo';
import { describeSharedDataFile, timeframeDir } from './csv';
import { IngestError, ingestCsvFile, type IngestSummary } from './ingest';

export interface ManifestEntry {
  readonly path: string;
  readonly dataset: string;
  readonly timeframeDir: string;
  /** The instrument's symbol as the manifest gives it (a file name may differ, e.g. crypto pairs). */
  readonly symbol: string;
  readonly rows: number;
  readonly kind: 'bars' | 'quotes';
  readonly timeframe: Timeframe | null;
}

/**
 * `rel` resolved inside `dir`, or a ValidationError naming `field`: no absolute path, no `..` out of the
 * directory, no symbolic link that leads out of it. The message names only the relative path, never the
 * worker's directory layout or the file's content.
 */
export function confinedPath(dir: string, rel: string, field: string): string {
  if (isAbsolute(rel) || rel.split(/[\\/]/).includes('..'))
    throw new ValidationError(
      field,
      `"${rel}" must be a path inside the data directory (no absolute path, no ..)`,
    );
  const root = realpathSync(dir);
  const full = resolve(root, rel);
  const inside = (p: string) => p === root || p.startsWith(root + sep);
  if (!inside(full) || (existsSync(full) && !inside(realpathSync(full))))
    throw new ValidationError(field, `"${rel}" leads outside the data directory`);
  return full;
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
  return lines.slice(1).map((line, i) => {
    const f = line.split(',');
    const at = `MANIFEST.csv:${i + 2}`;
    if (!f[p] || !f[sym]) throw new ValidationError('path', 'a row needs a path and a symbol', at);
    const d = describeSharedDataFile(confinedPath(dir, f[p], `${at} path`));
    return {
      path: f[p],
      dataset: f[s]!,
      timeframeDir: f[tf]!,
      symbol: f[sym],
      rows: Number(f[rows]),
      kind: d.kind,
      timeframe: d.timeframe,
    };
  });
}

const manifests = new Map<string, { mtimeMs: number; entries: ManifestEntry[] }>();

/** The manifest of `dir` (re-read when the file changes), or null when there is none. */
export function manifestOf(dir: string): ManifestEntry[] | null {
  const file = join(dir, 'MANIFEST.csv');
  if (!existsSync(file)) return null;
  const mtimeMs = statSync(file).mtimeMs;
  const hit = manifests.get(dir);
  if (hit && hit.mtimeMs === mtimeMs) return hit.entries;
  const entries = readManifest(dir);
  manifests.set(dir, { mtimeMs, entries });
  return entries;
}

/**
 * The file of `dataset`'s `tf` bars for `symbol`: the MANIFEST.csv entry with that symbol when the
 * manifest lists one (file names may differ from symbols), else `<dataset>/<tf dir>/<symbol>.csv.gz`.
 * Always inside `dir`; `rel` is what errors and locations show.
 */
export function csvFileFor(
  dir: string,
  dataset: string,
  tf: Timeframe,
  symbol: string,
): { readonly path: string; readonly rel: string } {
  const tfDir = timeframeDir(tf);
  const entry = manifestOf(dir)?.find(
    (e) => e.dataset === dataset && e.timeframeDir === tfDir && e.symbol === symbol,
  );
  const rel = entry?.path ?? `${dataset}/${tfDir}/${symbol}.csv.gz`;
  return { path: confinedPath(dir, rel, entry ? 'MANIFEST.csv path' : 'source.dataset'), rel };
}

export interface SharedImportResult {
  readonly entry: ManifestEntry;
  /** Absent when the file failed (see `error`). */
  readonly summary?: IngestSummary;
  /** Why nothing of this file was stored (a corrupt or unreadable file, a row the database refused). */
  readonly error?: string;
}

/**
 * Imports the listed files with bounded concurrency, each atomically; `maxDataLines` samples big files
 * (tests). A file that fails is reported in its result (and as a finding) and the others go on.
 */
export async function importSharedData(opts: {
  dir: string;
  repo: MarketDataRepository;
  entries?: readonly ManifestEntry[];
  concurrency?: number;
  notBeforeMs?: number;
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
      let r: SharedImportResult;
      try {
        const summary = await ingestCsvFile({
          chunkKey,
          path: confinedPath(opts.dir, entry.path, 'MANIFEST.csv path'),
          repo: opts.repo,
          symbol: entry.symbol,
          dataset: entry.dataset,
          ...(entry.timeframe ? { timeframe: entry.timeframe } : {}),
          kind: entry.kind,
          notBeforeMs: opts.notBeforeMs,
          locationBase: opts.dir,
          maxDataLines: opts.maxDataLines?.(entry),
        });
        r = { entry, summary };
      } catch (e) {
        // Any failure stays with its file: the other files of the import go on.
        r = { entry, error: e instanceof IngestError ? e.message : `${entry.path}: ${(e as Error).message}` };
      }
      results.push(r);
      opts.onFile?.(r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 2) }, worker));
  return results;
}
