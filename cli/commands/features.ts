/**
 * `trader features …`: compute and inspect features.
 *
 *   trader features compute --symbols AAPL,MSFT --from 2024-01-02 --to 2024-02-01 [--set core] [--threads 2]
 *   trader features sets
 */
import { Presets, SingleBar } from 'cli-progress';
import { resolveDatabaseUrl } from '../../src/stack/resolve';
import type { Command } from 'commander';
import { loadConfig } from '../../src/config/config';
import { FEATURE_SETS, featureSetByName } from '../../src/features/sets';
import { computeAndStoreFeatures } from '../../src/features/store-service';
import { ValidationError } from '../../src/model/errors';
import { createCache } from '../../src/storage/cache';
import { createPool } from '../../src/storage/pool';

interface ComputeOptions {
  symbols: string;
  from: string;
  to: string;
  set: string;
  threads?: string;
  warmUpDays?: string;
  online: boolean;
  progress: boolean;
}

function parseDay(v: string, field: string): number {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(ms)) throw new ValidationError(field, `"${v}" is not a date (YYYY-MM-DD or ISO 8601)`);
  return ms;
}

function parsePositiveInt(v: string | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ValidationError(field, `"${v}" must be a positive integer`);
  return n;
}

export function register(program: Command): void {
  const features = program
    .command('features')
    .description('feature sets, the multi-timeframe feature matrix and the feature store');
  features
    .command('compute')
    .description(
      'compute a feature set over stored 1m bars on all cores; writes the offline store and the latest vector online',
    )
    .requiredOption('--symbols <list>', 'comma-separated symbols, e.g. AAPL,MSFT')
    .requiredOption('--from <date>', 'first base bar (YYYY-MM-DD, UTC)')
    .requiredOption('--to <date>', 'end, exclusive (YYYY-MM-DD, UTC)')
    .option('--set <name>', `feature set (${Object.keys(FEATURE_SETS).join(', ')})`, 'core')
    .option('--threads <n>', 'worker threads (default: all cores)')
    .option('--warm-up-days <n>', 'calendar days of bars read before --from to warm indicators up')
    .option('--no-online', 'do not publish the latest vectors to the online cache')
    .option('--no-progress', 'no progress bar')
    .action(async (opts: ComputeOptions) => {
      const set = featureSetByName(opts.set);
      const symbols = opts.symbols
        .split(',')
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean);
      if (symbols.length === 0) throw new ValidationError('--symbols', 'is empty');
      const fromMs = parseDay(opts.from, '--from');
      const toMs = parseDay(opts.to, '--to');
      const config = loadConfig();
      const pool = createPool(await resolveDatabaseUrl(loadConfig()), { max: 4 });
      const cache = await createCache({ url: config.REDIS_URL });
      const bar = opts.progress
        ? new SingleBar(
            { format: 'features |{bar}| {value}/{total} symbols | {symbol}', hideCursor: true },
            Presets.shades_classic,
          )
        : undefined;
      bar?.start(symbols.length, 0, { symbol: '' });
      try {
        const r = await computeAndStoreFeatures(
          { pool, cache, threads: parsePositiveInt(opts.threads, '--threads') },
          {
            symbols,
            set,
            fromMs,
            toMs,
            warmUpDays: parsePositiveInt(opts.warmUpDays, '--warm-up-days'),
            publishOnline: opts.online,
            onSymbolDone: (row, done) => bar?.update(done, { symbol: `${row.symbol} (${row.written} rows)` }),
          },
        );
        bar?.stop();
        console.log(
          `feature set ${r.featureSet}@${r.version}: ${r.written} vectors written (${set.names.length} features each)`,
        );
        for (const s of r.symbols)
          console.log(
            `  ${s.symbol.padEnd(10)} bars ${String(s.bars).padStart(8)}  rows ${String(s.rows).padStart(8)}  written ${String(s.written).padStart(8)}`,
          );
        const empty = r.symbols.filter((s) => s.bars === 0).map((s) => s.symbol);
        if (empty.length) console.log(`no 1m bars stored for: ${empty.join(', ')} (run a backfill first)`);
      } finally {
        bar?.stop();
        await cache.close();
        await pool.end();
      }
    });
  features
    .command('sets')
    .description('list the built-in feature sets with their versions and columns')
    .option('--names', 'print every column name')
    .action((opts: { names?: boolean }) => {
      for (const s of Object.values(FEATURE_SETS)) {
        console.log(
          `${s.name}@${s.version}  base ${s.baseTimeframe}  timeframes ${s.timeframes.join(',')}  ${s.names.length} features  labels ${s.labels.horizons.map((h) => `fwd_${h}`).join(',')}${s.labels.tripleBarrier ? ` tb_${s.labels.tripleBarrier.horizon}` : ''}`,
        );
        if (opts.names) for (const n of s.names) console.log(`  ${n}`);
      }
    });
}
