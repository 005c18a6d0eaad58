import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The real market data in ../shared/data (relative to the repo root), or SHARED_DATA_DIR. Tests that
 * need it call `sharedDataOrSkip(t)`, which skips with a clear message when the folder is absent.
 */
export function sharedDataDir(): string | undefined {
  const dir = process.env.SHARED_DATA_DIR ?? resolve(__dirname, '../../../shared/data');
  return existsSync(resolve(dir, 'MANIFEST.csv')) ? dir : undefined;
}

export function sharedDataOrSkip(t: { skip(message?: string): void }): string | undefined {
  const dir = sharedDataDir();
  if (!dir) t.skip('SKIPPED: real data not found (../shared/data or SHARED_DATA_DIR); this test runs in CI');
  return dir;
}
