import { Client, Connection } from '@temporalio/client';
import { resolveDatabaseUrl, resolveTemporalAddress } from '../../src/stack/resolve';
import { temporalDataConverter } from '../../src/stack/data-converter';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  BackfillInputSchema,
  backfillProgressQuery,
  describeIssues,
  type BackfillInput,
  type BackfillSource,
  type BackfillSummary,
} from '../../contracts/backfill';
import { TASK_QUEUES } from '../../contracts/task-queues';
import { loadConfig, type AppConfig } from '../../src/config/config';
import { crossCheckSharedData, formatCrossCheck } from '../../src/data/crosscheck';
import { formatQualityReport } from '../../src/data/quality-report';
import { importSharedData, readManifest } from '../../src/data/shared-data';
import { aggregateBars } from '../../src/market/aggregate';
import { calendarFor, dateLabelMs, parseDate } from '../../src/market/calendar';
import { toSymbol } from '../../src/model/ids';
import { TIMEFRAMES, parseTimeframe } from '../../src/model/timeframe';
import { MarketDataRepository } from '../../src/storage/market-data-repo';
import { createPool } from '../../src/storage/pool';
import { waitForWorkflow } from '../workflow-result';

async function openRepo(config: AppConfig) {
  const pool = createPool(await resolveDatabaseUrl(config));
  return { pool, repo: new MarketDataRepository(pool) };
}

const ISO_TS_RE =
  /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/**
 * 'YYYY-MM-DD' (a UTC date) or an ISO timestamp with a zone ('2013-10-07T13:30:00Z') → epoch ms.
 * Anything else ('tomorrow', '2013-13-45', '10/07/2013') is an error naming the flag.
 */
export function parseWhen(v: string, field: string): number {
  let ms: number;
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    parseDate(v, field);
    ms = dateLabelMs(v);
  } else {
    const m = ISO_TS_RE.exec(v);
    if (!m)
      throw new RangeError(
        `${field}: "${v}" is not a date (YYYY-MM-DD) or an ISO timestamp with a zone (YYYY-MM-DDTHH:MM:SSZ)`,
      );
    parseDate(m[1]!, field);
    ms = Date.parse(v);
  }
  if (!(ms >= Date.UTC(1900, 0, 1) && ms < Date.UTC(2100, 0, 1)))
    throw new RangeError(`${field}: "${v}" is outside 1900–2099`);
  return ms;
}

export function parseSource(v: string): BackfillSource {
  const [kind, arg] = v.split(':', 2);
  switch (kind) {
    case 'csv':
      if (!arg) throw new RangeError('--source: csv needs a dataset, e.g. csv:lean_equity_usa');
      return { kind: 'csv', dataset: arg };
    case 'synthetic': {
      const seed = arg === undefined ? 1 : Number(arg);
      if (!Number.isInteger(seed) || seed < 0)
        throw new RangeError(`--source: synthetic seed "${arg}" is not a whole number >= 0`);
      return { kind: 'synthetic', seed };
    }
    case 'alpaca':
      if (arg !== undefined && arg !== 'iex' && arg !== 'sip')
        throw new RangeError(`--source: alpaca feed "${arg}" is not iex or sip`);
      return { kind: 'alpaca', feed: arg === 'sip' ? 'sip' : 'iex' };
    case 'polygon':
      if (arg !== undefined) throw new RangeError(`--source: polygon takes no argument ("${v}")`);
      return { kind: 'polygon' };
    case 'alpaca-quotes':
    case 'alpaca-trades':
      if (arg !== undefined && arg !== 'iex' && arg !== 'sip')
        throw new RangeError(`--source: ${kind} feed "${arg}" is not iex or sip`);
      return { kind, feed: arg === 'sip' ? 'sip' : 'iex' };
    case 'unusual-whales':
      if (arg !== undefined) throw new RangeError(`--source: unusual-whales takes no argument ("${v}")`);
      return { kind: 'unusual-whales' };
    default:
      throw new RangeError(
        `--source: "${v}" is not a source; use csv:<dataset>, alpaca[:iex|sip], alpaca-quotes[:iex|sip], alpaca-trades[:iex|sip], polygon, unusual-whales or synthetic[:seed]`,
      );
  }
}

/** A flag's value through a parser that throws `--flag: problem`; the issue keeps only the problem. */
function parsedFlag<T>(flag: string, parse: (v: string) => T) {
  return z.string().transform((v, ctx) => {
    try {
      return parse(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message.replace(`${flag}: `, '') });
      return z.NEVER;
    }
  });
}

const list = <T>(flag: string, parse: (v: string) => T) =>
  parsedFlag(flag, (v) => {
    const items = v.split(',').map((x) => x.trim());
    if (items.some((x) => x === '')) throw new RangeError(`${flag}: "${v}" has an empty item`);
    return items.map(parse);
  });

const wholeNumber = (flag: string, min: number, max: number) =>
  parsedFlag(flag, (v) => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
      throw new RangeError(`${flag}: "${v}" is not a whole number in ${min}..${max}`);
    return Number(v);
  });

const DATASET_FLAG = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a set is a folder name (letters, digits, _ . -)');

/** Flags of the data commands by their schema key, for messages. */
const FLAG_OF: Record<string, string> = {
  symbols: '--symbols',
  symbol: '--symbol',
  tf: '--tf',
  timeframes: '--tf',
  from: '--from',
  fromMs: '--from',
  to: '--to',
  toMs: '--to',
  source: '--source',
  parallel: '--parallel',
  maxParallel: '--parallel',
  notBefore: '--not-before',
  notBeforeMs: '--not-before',
  dir: '--dir',
  dataset: '--dataset',
  gapFill: '--gap-fill',
  mode: '--gap-fill',
  csv: '--csv',
  extended: '--extended',
  json: '--json',
};

/**
 * Every data command's flags go through one strict schema (unknown keys are errors) before anything
 * connects or starts; the error names the flag and the problem.
 */
export function parseFlags<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  command: string,
  names: Record<string, string> = {},
): z.output<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  throw new RangeError(
    `${command}: ${describeIssues(r.error.issues, (p) => {
      const [head, ...rest] = p.split('.');
      const flag = names[head!] ?? FLAG_OF[head!] ?? head!;
      return rest.length ? `${flag} (${rest.join('.')})` : flag;
    })}`,
  );
}

/** `trader backfill` flags → BackfillInput, checked by BackfillInputSchema too. */
export const BackfillFlagsSchema = z
  .strictObject({
    symbols: list('--symbols', (s) => toSymbol(s, '--symbols')),
    tf: list('--tf', (t) => parseTimeframe(t, '--tf')),
    from: parsedFlag('--from', (v) => parseWhen(v, '--from')),
    to: parsedFlag('--to', (v) => parseWhen(v, '--to')),
    source: parsedFlag('--source', parseSource).optional(),
    gapFill: z.boolean().optional(),
    parallel: wholeNumber('--parallel', 1, 32),
    notBefore: parsedFlag('--not-before', (v) => parseWhen(v, '--not-before')).optional(),
  })
  .superRefine((o, ctx) => {
    // The default source is never synthetic: there is no default at all.
    if (!o.source)
      ctx.addIssue({
        code: 'custom',
        path: ['source'],
        message:
          'is required: csv:<dataset>, alpaca[:iex|sip] or polygon; synthetic data only with an explicit synthetic[:seed]',
      });
    if (o.from > Date.now())
      ctx.addIssue({
        code: 'custom',
        path: ['from'],
        message: 'is in the future: there is nothing to backfill yet',
      });
  })
  .transform((o): BackfillInput => ({
    symbols: o.symbols,
    timeframes: o.tf,
    fromMs: o.from,
    toMs: o.to,
    source: o.source!,
    mode: o.gapFill ? 'gap-fill' : 'full',
    maxParallel: o.parallel,
    ...(o.notBefore !== undefined ? { notBeforeMs: o.notBefore } : {}),
  }))
  .pipe(BackfillInputSchema);

export const DataImportFlagsSchema = z.strictObject({
  dir: z.string().min(1).optional(),
  dataset: DATASET_FLAG.optional(),
  parallel: wholeNumber('--parallel', 1, 16),
  notBefore: parsedFlag('--not-before', (v) => parseWhen(v, '--not-before')).optional(),
});

export const DataQualityFlagsSchema = z.strictObject({
  dataset: DATASET_FLAG.optional(),
  symbol: parsedFlag('--symbol', (v) => toSymbol(v, '--symbol')).optional(),
  json: z.boolean().optional(),
});

export const DataBarsFlagsSchema = z
  .strictObject({
    symbol: parsedFlag('<symbol>', (v) => toSymbol(v, '<symbol>')),
    tf: parsedFlag('--tf', (v) => parseTimeframe(v, '--tf')),
    from: parsedFlag('--from', (v) => parseWhen(v, '--from')),
    to: parsedFlag('--to', (v) => parseWhen(v, '--to')),
    csv: z.boolean().optional(),
    extended: z.boolean().optional(),
  })
  .superRefine((o, ctx) => {
    if (!(o.to > o.from)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after --from' });
  });

export const DataCrosscheckFlagsSchema = z.strictObject({
  dir: z.string().min(1).optional(),
  symbol: parsedFlag('--symbol', (v) => toSymbol(v, '--symbol')).optional(),
});

/** The shared-data folder a command reads: --dir, else SHARED_DATA_DIR, else ../shared/data. */
function dataDir(flag: string | undefined, config: AppConfig): string {
  const dir = resolve(flag ?? config.SHARED_DATA_DIR ?? `${process.cwd()}/../shared/data`);
  if (!existsSync(join(dir, 'MANIFEST.csv')))
    throw new RangeError(
      `--dir: no MANIFEST.csv in ${dir} (the shared-data layout: <set>/<timeframe>/<SYMBOL>.csv.gz)`,
    );
  return dir;
}

/** Starts a BackfillWorkflow on the io queue and follows its progress query with a progress bar. */
export async function runBackfill(
  client: Client,
  input: BackfillInput,
  opts: { quiet?: boolean; workflowId?: string } = {},
): Promise<BackfillSummary> {
  // The workflow checks too; checking here means a bad input starts nothing.
  input = parseFlags(BackfillInputSchema, input, 'backfill');
  const workflowId = opts.workflowId ?? `backfill-${randomUUID()}`;
  const handle = await client.workflow.start('backfillWorkflow', {
    taskQueue: `${process.env.TASK_QUEUE_PREFIX ?? ''}${TASK_QUEUES.io}`,
    workflowId,
    args: [input],
  });
  const bar = opts.quiet
    ? null
    : new SingleBar(
        { format: 'backfill |{bar}| {value}/{total} chunks | {rows} rows | {running}', hideCursor: true },
        Presets.shades_classic,
      );
  bar?.start(1, 0, { rows: 0, running: 'planning' });
  let done = false;
  const result = waitForWorkflow<BackfillSummary>(handle).finally(() => {
    done = true;
  });
  while (!done) {
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 500))]);
    if (done) break;
    try {
      const p = await handle.query(backfillProgressQuery);
      bar?.setTotal(Math.max(1, p.totalChunks));
      bar?.update(p.completedChunks + p.failed.length, {
        rows: p.rowsStored,
        running: p.running.slice(0, 2).join(', '),
      });
    } catch {
      /* the query can race the workflow's completion */
    }
  }
  try {
    const summary = await result;
    bar?.setTotal(Math.max(1, summary.totalChunks));
    bar?.update(summary.completedChunks + summary.failed.length, {
      rows: summary.rowsStored,
      running: 'done',
    });
    return summary;
  } finally {
    bar?.stop();
  }
}

/**
 * What the demo loads through a backfill: the real Lean minute bars of October 2013 (SPY, IBM, BAC, AIG)
 * when the shared-data folder is present. Without it the demo chooses synthetic data explicitly: the
 * input says `source: synthetic`, the rows are stored with `synthetic = true` (never over real bars), and
 * the demo prints SYNTHETIC. No other path falls back to synthetic data.
 */
export function demoBackfillInput(sharedDataDir: string | undefined): BackfillInput {
  if (sharedDataDir && existsSync(join(sharedDataDir, 'lean_equity_usa', '1min', 'SPY.csv.gz'))) {
    return {
      symbols: ['SPY', 'IBM', 'BAC', 'AIG'],
      timeframes: ['1m'],
      fromMs: Date.UTC(2013, 9, 1),
      toMs: Date.UTC(2013, 10, 1),
      source: { kind: 'csv', dataset: 'lean_equity_usa' },
      maxParallel: 4,
    };
  }
  return {
    symbols: ['SPY', 'QQQ', 'AAPL'],
    timeframes: ['1m'],
    fromMs: Date.UTC(2024, 0, 1),
    toMs: Date.UTC(2024, 1, 1),
    source: { kind: 'synthetic', seed: 1 },
    maxParallel: 3,
  };
}

export function register(program: Command): void {
  program
    .command('backfill')
    .description(
      'backfill bars through the BackfillWorkflow (symbol-month chunks, each stored atomically), with a progress bar',
    )
    .requiredOption('-s, --symbols <list>', 'comma-separated symbols, e.g. SPY,AAPL')
    .option('--tf <list>', `comma-separated timeframes (${TIMEFRAMES.join(', ')})`, '1m')
    .requiredOption('--from <date>', 'start (YYYY-MM-DD or ISO timestamp with zone, inclusive)')
    .requiredOption('--to <date>', 'end (YYYY-MM-DD or ISO timestamp with zone, exclusive)')
    .option(
      '--source <source>',
      'required: csv:<dataset> (a set of the data directory) | alpaca[:iex|sip] | polygon | synthetic[:seed] (explicit only; never replaces real bars) | alpaca-quotes[:iex|sip], alpaca-trades[:iex|sip] (quotes/trades tables, per trading day) | unusual-whales (options flow, per month)',
    )
    .option('--gap-fill', 'fetch only the days missing against the exchange calendar')
    .option('--parallel <n>', 'chunks in flight at once (1..32)', '4')
    .option(
      '--not-before <date>',
      "rows before this are implausible (default: the instrument's first plausible day)",
    )
    .action(async (o: Record<string, unknown>) => {
      const input = parseFlags(BackfillFlagsSchema, o, 'backfill');
      const config = loadConfig();
      const address = resolveTemporalAddress(config);
      const connection = await Connection.connect({ address });
      try {
        const s = await runBackfill(
          new Client({
            connection,
            namespace: config.TEMPORAL_NAMESPACE,
            dataConverter: temporalDataConverter(),
          }),
          input,
        );
        console.log(
          `stored ${s.rowsStored} rows (${s.rowsChanged} new or changed) in ${s.completedChunks}/${s.totalChunks} chunks; rejected ${s.rejected}`,
        );
        for (const [rule, n] of Object.entries(s.rejectedByRule)) console.log(`  rejected by ${rule}: ${n}`);
        for (const [rule, n] of Object.entries(s.findingsByRule)) console.log(`  findings ${rule}: ${n}`);
        for (const f of s.failed) console.log(`  FAILED ${f.key}: ${f.error}`);
        if (s.failed.length) process.exitCode = 1;
      } finally {
        await connection.close();
      }
    });

  const data = program.command('data').description('market data: import, quality report, bars');

  data
    .command('import')
    .description(
      'import every set in the shared-data folder directly (streaming, no Temporal); each file is stored whole or not at all',
    )
    .option('--dir <path>', 'shared-data folder (default SHARED_DATA_DIR or ../shared/data)')
    .option('--dataset <name>', 'only this set')
    .option('--parallel <n>', 'files at once (1..16)', '2')
    .option(
      '--not-before <date>',
      "rows before this are implausible (default: the instrument's first plausible day)",
    )
    .action(async (o: Record<string, unknown>) => {
      const flags = parseFlags(DataImportFlagsSchema, o, 'data import');
      const config = loadConfig();
      const dir = dataDir(flags.dir, config);
      const all = readManifest(dir);
      const entries = all.filter((e) => !flags.dataset || e.dataset === flags.dataset);
      if (flags.dataset && entries.length === 0)
        throw new RangeError(
          `data import: --dataset: "${flags.dataset}" is not a set of ${dir} (sets: ${[...new Set(all.map((e) => e.dataset))].join(', ')})`,
        );
      const { pool, repo } = await openRepo(config);
      const bar = new SingleBar(
        { format: 'import |{bar}| {value}/{total} files | {file}', hideCursor: true },
        Presets.shades_classic,
      );
      bar.start(entries.length, 0, { file: '' });
      try {
        const results = await importSharedData({
          dir,
          repo,
          entries,
          concurrency: flags.parallel,
          notBeforeMs: flags.notBefore,
          onFile: (r) => bar.increment({ file: r.entry.path }),
        });
        bar.stop();
        const stored = results.reduce((s, r) => s + (r.summary?.rowsStored ?? 0), 0);
        const rejected = results.reduce((s, r) => s + (r.summary?.rejected ?? 0), 0);
        const failed = results.filter((r) => r.error);
        console.log(
          `${results.length} files: ${stored} rows stored, ${rejected} rejected${failed.length ? `; ${failed.length} file(s) FAILED, nothing of them stored` : ''}`,
        );
        console.log(formatQualityReport(await repo.qualityReport({ dataset: flags.dataset })));
        for (const r of failed) console.log(`FAILED ${r.error}`);
        if (failed.length) process.exitCode = 1;
      } finally {
        bar.stop();
        await pool.end();
      }
    });

  data
    .command('quality')
    .description('data-quality report: findings per set, symbol and rule, with an example location')
    .option('--dataset <name>', 'only this set')
    .option('--symbol <symbol>', 'only this symbol')
    .option('--json', 'print JSON')
    .action(async (o: Record<string, unknown>) => {
      const flags = parseFlags(DataQualityFlagsSchema, o, 'data quality');
      const { pool, repo } = await openRepo(loadConfig());
      try {
        const rows = await repo.qualityReport({ dataset: flags.dataset, symbol: flags.symbol });
        console.log(flags.json ? JSON.stringify(rows, null, 2) : formatQualityReport(rows));
      } finally {
        await pool.end();
      }
    });

  data
    .command('bars <symbol>')
    .description('print or export stored bars; 5m/15m/1h/1d are aggregated from 1m when not stored')
    .option('--tf <timeframe>', 'timeframe', '1m')
    .requiredOption('--from <date>', 'start (YYYY-MM-DD or ISO timestamp with zone, inclusive)')
    .requiredOption('--to <date>', 'end (YYYY-MM-DD or ISO timestamp with zone, exclusive)')
    .option('--csv', 'write CSV (ts,open,high,low,close,volume) to stdout')
    .option('--extended', 'aggregate with extended hours (04:00–20:00 New York)')
    .action(async (sym: string, o: Record<string, unknown>) => {
      const {
        symbol,
        tf,
        from: fromMs,
        to: toMs,
        ...out
      } = parseFlags(DataBarsFlagsSchema, { ...o, symbol: sym }, 'data bars', {
        symbol: '<symbol>',
      });
      const { pool, repo } = await openRepo(loadConfig());
      try {
        let bars = await repo.readBars(symbol, tf, fromMs, toMs);
        let derived = false;
        if (bars.length === 0 && tf !== '1m') {
          const minutes = await repo.readBars(symbol, '1m', fromMs, toMs + 86_400_000);
          bars = aggregateBars(minutes, tf, {
            calendar: calendarFor(symbol),
            session: out.extended ? 'extended' : 'regular',
          }).filter((b) => b.ts >= fromMs && b.ts < toMs);
          derived = true;
        }
        if (out.csv) {
          process.stdout.write('ts,open,high,low,close,volume\n');
          for (const b of bars)
            process.stdout.write(
              `${new Date(b.ts).toISOString().replace('.000Z', 'Z')},${b.open},${b.high},${b.low},${b.close},${b.volume}\n`,
            );
          return;
        }
        console.table(
          bars.map((b) => ({
            ts: new Date(b.ts).toISOString(),
            open: b.open,
            high: b.high,
            low: b.low,
            close: b.close,
            volume: b.volume,
          })),
        );
        console.log(
          `${bars.length} ${tf} bars for ${symbol}${derived ? ' (aggregated from stored 1m bars)' : ''}`,
        );
      } finally {
        await pool.end();
      }
    });

  data
    .command('crosscheck')
    .description(
      'compare daily and hourly bars built from the minute sets with the daily/hourly sets (differences listed)',
    )
    .option('--dir <path>', 'shared-data folder (default SHARED_DATA_DIR or ../shared/data)')
    .option('--symbol <symbol>', 'only this symbol')
    .action(async (o: Record<string, unknown>) => {
      const flags = parseFlags(DataCrosscheckFlagsSchema, o, 'data crosscheck');
      const dir = dataDir(flags.dir, loadConfig());
      const pairs = await crossCheckSharedData(dir);
      console.log(formatCrossCheck(pairs.filter((p) => !flags.symbol || p.symbol === flags.symbol)));
    });
}
