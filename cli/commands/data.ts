import { Client, Connection } from '@temporalio/client';
import { resolveDatabaseUrl, resolveTemporalAddress } from '../../src/stack/resolve';
import { temporalDataConverter } from '../../src/stack/data-converter';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  backfillProgressQuery,
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
import { TIMEFRAMES, parseTimeframe, type Timeframe } from '../../src/model/timeframe';
import { MarketDataRepository } from '../../src/storage/market-data-repo';
import { createPool } from '../../src/storage/pool';
import { waitForWorkflow } from '../workflow-result';

async function openRepo(config: AppConfig) {
  const pool = createPool(await resolveDatabaseUrl(config));
  return { pool, repo: new MarketDataRepository(pool) };
}

/** 'YYYY-MM-DD' (a UTC date) or a full ISO timestamp → epoch ms. */
function parseWhen(v: string, field: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    parseDate(v, field);
    return dateLabelMs(v);
  }
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new RangeError(`${field}: "${v}" is not a date (YYYY-MM-DD) or ISO timestamp`);
  return ms;
}

export function parseSource(v: string): BackfillSource {
  const [kind, arg] = v.split(':', 2);
  switch (kind) {
    case 'csv':
      if (!arg) throw new RangeError('--source: csv needs a dataset, e.g. csv:lean_equity_usa');
      return { kind: 'csv', dataset: arg };
    case 'synthetic':
      return { kind: 'synthetic', seed: arg ? Number(arg) : 1 };
    case 'alpaca':
      return { kind: 'alpaca', feed: arg === 'sip' ? 'sip' : 'iex' };
    case 'polygon':
      return { kind: 'polygon' };
    default:
      throw new RangeError(
        `--source: "${v}" is not a source; use csv:<dataset>, synthetic[:seed], alpaca[:iex|sip] or polygon`,
      );
  }
}

/** Starts a BackfillWorkflow on the io queue and follows its progress query with a progress bar. */
export async function runBackfill(
  client: Client,
  input: BackfillInput,
  opts: { quiet?: boolean; workflowId?: string } = {},
): Promise<BackfillSummary> {
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
 * when the shared-data folder is present, else a month of seeded synthetic minutes (stored as synthetic).
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
      'backfill bars through the BackfillWorkflow (symbol-month chunks, resumable), with a progress bar',
    )
    .requiredOption('-s, --symbols <list>', 'comma-separated symbols, e.g. SPY,AAPL')
    .option('--tf <list>', `comma-separated timeframes (${TIMEFRAMES.join(', ')})`, '1m')
    .requiredOption('--from <date>', 'start (YYYY-MM-DD or ISO timestamp, inclusive)')
    .requiredOption('--to <date>', 'end (YYYY-MM-DD or ISO timestamp, exclusive)')
    .option(
      '--source <source>',
      'csv:<dataset> | synthetic[:seed] | alpaca[:iex|sip] | polygon',
      'synthetic:1',
    )
    .option('--gap-fill', 'fetch only the days missing against the exchange calendar')
    .option('--parallel <n>', 'chunks in flight at once', '4')
    .action(
      async (o: {
        symbols: string;
        tf: string;
        from: string;
        to: string;
        source: string;
        gapFill?: boolean;
        parallel: string;
      }) => {
        const config = loadConfig();
        const input: BackfillInput = {
          symbols: o.symbols.split(',').map((s) => toSymbol(s, '--symbols')),
          timeframes: o.tf.split(',').map((t) => parseTimeframe(t.trim(), '--tf')),
          fromMs: parseWhen(o.from, '--from'),
          toMs: parseWhen(o.to, '--to'),
          source: parseSource(o.source),
          mode: o.gapFill ? 'gap-fill' : 'full',
          maxParallel: Number(o.parallel),
        };
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
          for (const [rule, n] of Object.entries(s.rejectedByRule))
            console.log(`  rejected by ${rule}: ${n}`);
          for (const [rule, n] of Object.entries(s.findingsByRule)) console.log(`  findings ${rule}: ${n}`);
          for (const f of s.failed) console.log(`  FAILED ${f.key}: ${f.error}`);
          if (s.failed.length) process.exitCode = 1;
        } finally {
          await connection.close();
        }
      },
    );

  const data = program.command('data').description('market data: import, quality report, bars');

  data
    .command('import')
    .description('import every set in the shared-data folder directly (streaming, no Temporal)')
    .option('--dir <path>', 'shared-data folder (default SHARED_DATA_DIR or ../shared/data)')
    .option('--dataset <name>', 'only this set')
    .option('--parallel <n>', 'files at once', '2')
    .action(async (o: { dir?: string; dataset?: string; parallel: string }) => {
      const config = loadConfig();
      const dir = o.dir ?? config.SHARED_DATA_DIR ?? `${process.cwd()}/../shared/data`;
      const entries = readManifest(dir).filter((e) => !o.dataset || e.dataset === o.dataset);
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
          concurrency: Number(o.parallel),
          onFile: (r) => bar.increment({ file: r.entry.path }),
        });
        bar.stop();
        const stored = results.reduce((s, r) => s + r.summary.rowsStored, 0);
        const rejected = results.reduce((s, r) => s + r.summary.rejected, 0);
        console.log(`${results.length} files: ${stored} rows stored, ${rejected} rejected`);
        console.log(formatQualityReport(await repo.qualityReport({ dataset: o.dataset })));
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
    .action(async (o: { dataset?: string; symbol?: string; json?: boolean }) => {
      const { pool, repo } = await openRepo(loadConfig());
      try {
        const rows = await repo.qualityReport({ dataset: o.dataset, symbol: o.symbol });
        console.log(o.json ? JSON.stringify(rows, null, 2) : formatQualityReport(rows));
      } finally {
        await pool.end();
      }
    });

  data
    .command('bars <symbol>')
    .description('print or export stored bars; 5m/15m/1h/1d are aggregated from 1m when not stored')
    .option('--tf <timeframe>', 'timeframe', '1m')
    .requiredOption('--from <date>', 'start (YYYY-MM-DD or ISO, inclusive)')
    .requiredOption('--to <date>', 'end (YYYY-MM-DD or ISO, exclusive)')
    .option('--csv', 'write CSV (ts,open,high,low,close,volume) to stdout')
    .option('--extended', 'aggregate with extended hours (04:00–20:00 New York)')
    .action(
      async (sym: string, o: { tf: string; from: string; to: string; csv?: boolean; extended?: boolean }) => {
        const symbol = toSymbol(sym);
        const tf: Timeframe = parseTimeframe(o.tf, '--tf');
        const fromMs = parseWhen(o.from, '--from');
        const toMs = parseWhen(o.to, '--to');
        const { pool, repo } = await openRepo(loadConfig());
        try {
          let bars = await repo.readBars(symbol, tf, fromMs, toMs);
          let derived = false;
          if (bars.length === 0 && tf !== '1m') {
            const minutes = await repo.readBars(symbol, '1m', fromMs, toMs + 86_400_000);
            bars = aggregateBars(minutes, tf, {
              calendar: calendarFor(symbol),
              session: o.extended ? 'extended' : 'regular',
            }).filter((b) => b.ts >= fromMs && b.ts < toMs);
            derived = true;
          }
          if (o.csv) {
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
      },
    );

  data
    .command('crosscheck')
    .description(
      'compare daily and hourly bars built from the minute sets with the daily/hourly sets (differences listed)',
    )
    .option('--dir <path>', 'shared-data folder (default SHARED_DATA_DIR or ../shared/data)')
    .option('--symbol <symbol>', 'only this symbol')
    .action(async (o: { dir?: string; symbol?: string }) => {
      const config = loadConfig();
      const dir = o.dir ?? config.SHARED_DATA_DIR ?? `${process.cwd()}/../shared/data`;
      const pairs = await crossCheckSharedData(dir);
      console.log(formatCrossCheck(pairs.filter((p) => !o.symbol || p.symbol === o.symbol.toUpperCase())));
    });
}
