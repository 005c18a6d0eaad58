import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { analyse, loadBarsFromDb, loadSharedBars, loadSharedQuotes, renderReport, runBacktest, sensitivityGrid, walkForward, type ParamGrid, type SensitivityRow, type WalkForwardFold } from '../../src/backtest';
import type { BarColumns, Quote } from '../../src/model/bar';
import { parseTimeframe, type Timeframe } from '../../src/model/timeframe';
import { parseDate } from '../../src/market/calendar';
import { resolvePostgres } from '../../src/stack/postgres';
import { readStackState } from '../../src/stack/stack';
import { createPool } from '../../src/storage/pool';
import { ReferenceAiStrategy, type ReferenceAiParams } from '../../src/strategy/reference-ai';

export interface BacktestCliOptions {
  readonly symbols: readonly string[];
  readonly from?: string;
  readonly to?: string;
  readonly timeframes: readonly Timeframe[];
  readonly report?: string;
  readonly json?: string;
  readonly cash: number;
  readonly seed: number;
  readonly dataDir?: string;
  readonly source?: string;
  readonly db: boolean;
  readonly grid?: string;
  readonly walkForward?: number;
  readonly mcRuns: number;
  readonly progress: boolean;
}

const TF_DIR: Readonly<Record<Timeframe, string>> = { '1m': '1min', '5m': '1min', '15m': '1min', '1h': '1hour', '1d': '1day' };

function dateMs(s: string | undefined, field: string): number | undefined {
  if (s === undefined) return undefined;
  const { y, m, d } = parseDate(s, field);
  return Date.UTC(y, m - 1, d);
}

/** The shared-data folder: --data-dir, SHARED_DATA_DIR, else ../shared/data next to the repository. */
export function defaultDataDir(): string {
  return process.env.SHARED_DATA_DIR ?? resolve(__dirname, '../../../shared/data');
}

/** The first source folder that holds every symbol at the timeframe. */
export function findSource(dataDir: string, symbols: readonly string[], tf: Timeframe): string {
  if (!existsSync(dataDir)) throw new Error(`--data-dir: ${dataDir} does not exist`);
  const sources = readdirSync(dataDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  for (const s of sources) if (symbols.every((sym) => existsSync(join(dataDir, s, TF_DIR[tf], `${sym}.csv.gz`)))) return s;
  throw new Error(`--symbols: no source in ${dataDir} has ${TF_DIR[tf]} bars for all of ${symbols.join(', ')}; pass --source or import the data (trader data import)`);
}

function parseGrid(spec: string): ParamGrid {
  const grid: Record<string, number[]> = {};
  for (const part of spec.split(';')) {
    const m = /^\s*([A-Za-z]+)\s*=\s*([-\d.,\s]+)$/.exec(part);
    if (!m) throw new Error(`--grid: "${part}" is not name=v1,v2,... (separate parameters with ';')`);
    grid[m[1]!] = m[2]!.split(',').map((v) => {
      const x = Number(v);
      if (!Number.isFinite(x)) throw new Error(`--grid: ${m[1]} value "${v}" is not a number`);
      return x;
    });
  }
  return grid;
}

async function databaseUrl(): Promise<string> {
  const config = loadConfig();
  if (config.DATABASE_URL) return config.DATABASE_URL;
  const fromStack = readStackState(config)?.postgres.url;
  if (fromStack) return fromStack;
  return (await resolvePostgres({ databaseUrl: undefined, dataDir: config.TRADER_DATA_DIR })).url;
}

/** Loads the bars, runs the backtest (+ grid / walk-forward when asked), writes the report; returns its path. Does I/O. */
export async function runBacktestCommand(o: BacktestCliOptions, log: (s: string) => void = console.log): Promise<{ reportPath?: string; summary: string }> {
  if (o.symbols.length === 0) throw new Error('--symbols: give at least one symbol');
  const from = dateMs(o.from, '--from');
  const to = dateMs(o.to, '--to');
  const series: BarColumns[] = [];
  const quotes: Record<string, Quote[]> = {};
  if (o.db) {
    if (from === undefined || to === undefined) throw new Error('--from/--to: both are required with --db');
    const pool = createPool(await databaseUrl());
    try {
      for (const tf of o.timeframes) series.push(...(await loadBarsFromDb(pool, o.symbols, tf, { from, to })));
    } finally {
      await pool.end();
    }
  } else {
    const dir = o.dataDir ?? defaultDataDir();
    for (const tf of o.timeframes) {
      const source = o.source ?? findSource(dir, o.symbols, tf);
      for (const sym of o.symbols) {
        series.push(loadSharedBars(dir, source, sym, tf, { from, to }));
        if (tf === '1m' && !quotes[sym]) quotes[sym] = loadSharedQuotes(dir, source, sym, { from, to });
      }
    }
  }
  const empty = series.filter((s) => s.ts.length === 0).map((s) => `${s.symbol} ${s.timeframe}`);
  if (empty.length === series.length) throw new Error(`--from/--to: no bars for ${o.symbols.join(', ')} in that range`);
  if (empty.length) log(`warning: no bars for ${empty.join(', ')}`);

  const total = series.reduce((s, c) => s + c.ts.length, 0);
  const bar = o.progress ? new SingleBar({ format: 'backtest |{bar}| {percentage}% {value}/{total} bar events', hideCursor: true }, Presets.shades_classic) : undefined;
  bar?.start(total, 0);
  const base = { series, startingCash: o.cash, seed: o.seed, quotes, session: 'bt' };
  const result = runBacktest({ ...base, strategy: new ReferenceAiStrategy(o.timeframes), onProgress: (done) => bar?.update(done) });
  bar?.update(total);
  bar?.stop();
  const a = analyse(result, { runs: o.mcRuns, seed: o.seed });
  const build = (p: Readonly<Record<string, number>>) => new ReferenceAiStrategy(o.timeframes, p as Partial<ReferenceAiParams>);
  let sensitivity: SensitivityRow[] | undefined;
  let folds: WalkForwardFold[] | undefined;
  if (o.grid) {
    const grid = parseGrid(o.grid);
    sensitivity = sensitivityGrid(base, grid, build);
    if (o.walkForward) {
      const first = Math.min(...series.filter((s) => s.ts.length).map((s) => s.ts[0]!));
      const last = Math.max(...series.filter((s) => s.ts.length).map((s) => s.ts[s.ts.length - 1]!)) + 1;
      folds = walkForward(base, grid, build, { from: first, to: last, folds: o.walkForward });
    }
  } else if (o.walkForward) throw new Error('--walk-forward: needs --grid to choose parameters in sample');

  const m = a.metrics;
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)}%`);
  const summary = [
    `${result.barEvents.toLocaleString('en-US')} bar events, ${result.trades.length} trades, order hash ${result.orderHash}${result.stopped ? `, STOPPED: ${result.stopped.message}` : ''}`,
    `net ${m.netProfit.toFixed(2)} (${pct(m.totalReturn)}), Sharpe ${m.sharpe?.toFixed(2) ?? '—'}, max DD ${pct(m.maxDrawdown)}, win rate ${pct(m.winRate)}, profit factor ${m.profitFactor?.toFixed(2) ?? '—'}`,
  ].join('\n');
  log(summary);
  let reportPath: string | undefined;
  if (o.report) {
    reportPath = resolve(o.report);
    mkdirSync(dirname(reportPath), { recursive: true });
    const price = series.find((s) => s.symbol === o.symbols[0] && s.timeframe === result.timeframes[0]) ?? series[0];
    writeFileSync(reportPath, renderReport({ title: `Backtest ${o.symbols.join(', ')} ${o.timeframes.join('/')}`, result, ...a, price, sensitivity, walkForward: folds, generatedAt: Date.now() }));
    log(`report: ${reportPath}`);
  }
  if (o.json) {
    const p = resolve(o.json);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, JSON.stringify({ metrics: m, attribution: a.attribution, orderHash: result.orderHash, trades: result.trades, deniedByRule: result.deniedByRule, sensitivity: sensitivity?.map((s) => ({ params: s.params, metrics: s.metrics })), walkForward: folds?.map((f) => ({ inSample: f.inSample, outOfSample: f.outOfSample, chosen: f.chosen, metrics: f.outOfSampleMetrics })) }, null, 2));
    log(`json: ${p}`);
  }
  return { reportPath, summary };
}

export function register(program: Command): void {
  program
    .command('backtest')
    .description('event-driven backtest of the reference AI strategy with the risk engine and simulated fills; writes an HTML report')
    .requiredOption('--symbols <list>', 'comma-separated tickers, e.g. AAPL,MSFT')
    .option('--from <date>', 'first day (YYYY-MM-DD, UTC)')
    .option('--to <date>', 'day after the last (YYYY-MM-DD, exclusive)')
    .option('--tf <list>', 'timeframes, e.g. 1m,5m or 1d', '1d')
    .option('--report <file>', 'write the HTML report here')
    .option('--json <file>', 'write metrics, attribution and trades as JSON')
    .option('--cash <usd>', 'starting cash', '100000')
    .option('--seed <n>', 'seed (strategy PRNG, Monte Carlo)', '1')
    .option('--data-dir <dir>', 'shared-data folder with <source>/<tf>/<SYMBOL>.csv.gz (default ../shared/data)')
    .option('--source <name>', 'source folder inside the data dir (default: the first holding all symbols)')
    .option('--db', 'read bars from the PostgreSQL bars table instead of CSV files', false)
    .option('--grid <spec>', "parameter sensitivity grid, e.g. 'stopAtr=1,1.5,2;trailAtr=1.5,2.5'")
    .option('--walk-forward <folds>', 'walk-forward folds (parameters chosen in sample on --grid)')
    .option('--mc-runs <n>', 'Monte Carlo paths', '1000')
    .option('--no-progress', 'no progress bar')
    .action(async (opts: { symbols: string; from?: string; to?: string; tf: string; report?: string; json?: string; cash: string; seed: string; dataDir?: string; source?: string; db: boolean; grid?: string; walkForward?: string; mcRuns: string; progress: boolean }) => {
      const num = (v: string, field: string) => {
        const x = Number(v);
        if (!Number.isFinite(x)) throw new Error(`${field}: "${v}" is not a number`);
        return x;
      };
      await runBacktestCommand({
        symbols: opts.symbols.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean),
        from: opts.from,
        to: opts.to,
        timeframes: opts.tf.split(',').map((t) => parseTimeframe(t.trim(), '--tf')),
        report: opts.report,
        json: opts.json,
        cash: num(opts.cash, '--cash'),
        seed: num(opts.seed, '--seed'),
        dataDir: opts.dataDir,
        source: opts.source,
        db: opts.db,
        grid: opts.grid,
        walkForward: opts.walkForward === undefined ? undefined : num(opts.walkForward, '--walk-forward'),
        mcRuns: num(opts.mcRuns, '--mc-runs'),
        progress: opts.progress,
      });
    });
}
