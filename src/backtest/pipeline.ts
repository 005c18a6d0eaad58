/**
 * Load bars → backtest → analyse → (grid, walk-forward) → HTML/JSON report → (record the run). Shared by the
 * `trader backtest` CLI and the io-queue backtest activity. Does I/O (files, optional Postgres).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Pool } from 'pg';
import type { BarColumns, Quote } from '../model/bar';
import { ValidationError } from '../model/errors';
import { TIMEFRAME_MS, type Timeframe } from '../model/timeframe';
import { parseDate } from '../market/calendar';
import { annualizationDaysFor } from '../model/instrument';
import { ReferenceAiStrategy, type ReferenceAiParams } from '../strategy/reference-ai';
import { ModelSignalStrategy } from '../strategy/model-signal';
import type { Strategy } from '../strategy/types';
import { featureSetByName } from '../features/sets';
import type { ModelRegistry } from '../models/registry/registry';
import { runModelBacktest, type ModelSource } from './model-backtest';
import type { Scoreboard } from './scoreboard';
import { analyse, barCloseMs } from './analysis';
import { loadBarsFromDb, loadSharedBars, loadSharedQuotes } from './data';
import { runBacktest, type BacktestResult } from './engine';
import type { BacktestMetrics } from './metrics';
import { renderReport, reportJson, type ReportInput } from './report';
import { saveBacktestRun, toRunRecord } from './runs-repo';
import {
  sensitivityGrid,
  walkForward,
  type ParamGrid,
  type SensitivityRow,
  type WalkForwardFold,
} from './sensitivity';

export interface BacktestPipelineOptions {
  readonly symbols: readonly string[];
  /** YYYY-MM-DD, inclusive */
  readonly from?: string;
  /** YYYY-MM-DD, exclusive */
  readonly to?: string;
  readonly timeframes: readonly Timeframe[];
  readonly report?: string;
  readonly json?: string;
  readonly cash: number;
  readonly seed: number;
  /** read bars from Postgres (needs `pool`) instead of CSV files */
  readonly db: boolean;
  readonly dataDir?: string;
  readonly source?: string;
  /** 'name=v1,v2;name2=...' */
  readonly grid?: string;
  readonly walkForward?: number;
  readonly mcRuns: number;
  readonly params?: Partial<ReferenceAiParams>;
  /** bars supplied by the caller (e.g. a labelled synthetic set); replaces loading from db/csv */
  readonly series?: readonly BarColumns[];
  /** report title (default: the symbols and timeframes) */
  readonly title?: string;
  /** record the run in backtest_runs (needs `pool`) */
  readonly save?: boolean;
  /** buy-and-hold benchmark symbol, from the same data (default: the universe, equal weight) */
  readonly benchmark?: string;
  /** ruin = equity at or below (1 − ruinLoss) × starting cash, one definition for the whole report (default 0.5) */
  readonly ruinLoss?: number;
  /** block length (periods) of the Monte Carlo block bootstrap (default 20) */
  readonly mcBlockLength?: number;
  /** trading days per year for annualised statistics: 252 US equities (default), 365 crypto */
  readonly annualizationDays?: number;
  /** a model decides the trades (walk-forward from a spec, or a registered model); needs `registry` */
  readonly model?: ModelSource;
  /** the feature set the model reads (default: daily for 1d bars, else core) */
  readonly featureSet?: string;
  /** the strategy trading the model (default reference-ai; model-signal holds the predicted direction) */
  readonly strategy?: 'reference-ai' | 'model-signal';
  /** model-signal: position value per symbol as a fraction of equity (default the risk engine's 5% cap) */
  readonly weight?: number;
  /** configurations tried before this one (the deflated Sharpe's N; default: counted from the registry) */
  readonly trials?: number;
}

export interface BacktestPipelineDeps {
  readonly pool?: Pool;
  readonly log?: (line: string) => void;
  readonly onProgress?: (done: number, total: number) => void;
  /** epoch ms printed in the report header */
  readonly now?: number;
  /** where a model backtest's window models are registered and a registered model is read */
  readonly registry?: ModelRegistry;
}

export interface BacktestPipelineResult {
  readonly result: BacktestResult;
  readonly metrics: BacktestMetrics;
  readonly summary: string;
  readonly reportPath?: string;
  readonly jsonPath?: string;
  readonly runId?: string;
  readonly totalBars: number;
  readonly scoreboard?: Scoreboard;
}

const TF_DIR: Readonly<Record<Timeframe, string>> = {
  '1m': '1min',
  '5m': '1min',
  '15m': '1min',
  '1h': '1hour',
  '1d': '1day',
};

function dateMs(s: string | undefined, field: string): number | undefined {
  if (s === undefined) return undefined;
  const { y, m, d } = parseDate(s, field);
  return Date.UTC(y, m - 1, d);
}

/** The first source folder (alphabetically) that holds every symbol at the timeframe. */
export function findSource(dataDir: string, symbols: readonly string[], tf: Timeframe): string {
  if (!existsSync(dataDir)) throw new ValidationError('--data-dir', `${dataDir} does not exist`);
  const sources = readdirSync(dataDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  for (const s of sources)
    if (symbols.every((sym) => existsSync(join(dataDir, s, TF_DIR[tf], `${sym}.csv.gz`)))) return s;
  throw new ValidationError(
    '--symbols',
    `no source in ${dataDir} has ${TF_DIR[tf]} bars for all of ${symbols.join(', ')}; pass --source or import the data`,
  );
}

export function parseGrid(spec: string): ParamGrid {
  const grid: Record<string, number[]> = {};
  for (const part of spec.split(';')) {
    const m = /^\s*([A-Za-z]+)\s*=\s*([-\d.,\s]+)$/.exec(part);
    if (!m)
      throw new ValidationError('--grid', `"${part}" is not name=v1,v2,... (separate parameters with ';')`);
    grid[m[1]!] = m[2]!.split(',').map((v) => {
      const x = Number(v);
      if (!Number.isFinite(x)) throw new ValidationError('--grid', `${m[1]} value "${v}" is not a number`);
      return x;
    });
  }
  return grid;
}

export async function runBacktestPipeline(
  o: BacktestPipelineOptions,
  deps: BacktestPipelineDeps = {},
): Promise<BacktestPipelineResult> {
  const log = deps.log ?? (() => undefined);
  if (o.symbols.length === 0) throw new ValidationError('--symbols', 'give at least one symbol');
  const from = dateMs(o.from, '--from');
  const to = dateMs(o.to, '--to');
  const series: BarColumns[] = [];
  const quotes: Record<string, Quote[]> = {};
  if (o.series) {
    series.push(...o.series.filter((c) => o.timeframes.includes(c.timeframe)));
  } else if (o.db) {
    if (!deps.pool)
      throw new ValidationError('--db', 'reading bars from PostgreSQL needs a database connection');
    if (from === undefined || to === undefined)
      throw new ValidationError('--from/--to', 'both are required with --db');
    for (const tf of loadTimeframes(o.timeframes))
      series.push(...(await loadBarsFromDb(deps.pool, o.symbols, tf, { from, to })));
  } else {
    if (!o.dataDir)
      throw new ValidationError('--data-dir', 'the shared-data folder is required for CSV bars');
    for (const tf of loadTimeframes(o.timeframes)) {
      const source = o.source ?? findSource(o.dataDir, o.symbols, tf);
      for (const sym of o.symbols) {
        series.push(loadSharedBars(o.dataDir, source, sym, tf, { from, to }));
        if (tf === '1m' && !quotes[sym]) quotes[sym] = loadSharedQuotes(o.dataDir, source, sym, { from, to });
      }
    }
  }
  const reportOpts = reportOptions(o);
  const empty = series.filter((s) => s.ts.length === 0).map((s) => `${s.symbol} ${s.timeframe}`);
  if (empty.length === series.length)
    throw new ValidationError('--from/--to', `no bars for ${o.symbols.join(', ')} in that range`);
  if (empty.length) log(`warning: no bars for ${empty.join(', ')}`);
  const totalBars = series.reduce((s, c) => s + c.ts.length, 0);

  const base = { series, startingCash: o.cash, seed: o.seed, quotes, session: 'bt' };
  let result: BacktestResult;
  let benchmark: { label: string; series: BarColumns[] } | undefined;
  let scoreboard: Scoreboard | undefined;
  if (o.model && (o.grid || o.walkForward))
    throw new ValidationError(
      o.grid ? '--grid' : '--walk-forward',
      'not with --model: the grid tunes the indicator strategy; a model backtest is walk-forward already (--retrain-every, --train-window)',
    );
  if (o.model) {
    if (!deps.registry)
      throw new ValidationError('--model', 'a model backtest needs the model registry (PostgreSQL)');
    const set = featureSetByName(o.featureSet ?? (o.timeframes.includes('1d') ? 'daily' : 'core'));
    const nonEmpty = series.filter((c) => c.ts.length > 0);
    const first = from ?? Math.min(...nonEmpty.map((c) => c.ts[0]!));
    const last =
      to ?? Math.max(...nonEmpty.map((c) => c.ts[c.ts.length - 1]!)) + TIMEFRAME_MS[nonEmpty[0]!.timeframe];
    benchmark = o.benchmark ? await loadBenchmark(o, series, first, deps.pool, from, to) : undefined;
    const strategy = (): Strategy =>
      o.strategy === 'model-signal'
        ? new ModelSignalStrategy({ weight: o.weight ?? 0.05 }, set.baseTimeframe)
        : new ReferenceAiStrategy(o.timeframes, o.params);
    if (
      o.strategy === 'model-signal' &&
      !loadTimeframes(o.timeframes).includes(set.baseTimeframe) &&
      !loadTimeframes(o.timeframes).includes('1m')
    )
      throw new ValidationError(
        '--tf',
        `model-signal trades the feature set's ${set.baseTimeframe} bars; load them (--tf ${set.baseTimeframe})`,
      );
    const mb = await runModelBacktest({
      series,
      set,
      registry: deps.registry,
      model: o.model,
      strategy,
      indicatorStrategy: () => new ReferenceAiStrategy(o.timeframes, o.params),
      base,
      from: first,
      to: last,
      benchmark: benchmark
        ? { symbol: o.benchmark!.trim().toUpperCase(), series: benchmark.series }
        : undefined,
      trials: o.trials,
      metrics: reportOpts,
      log,
      onProgress: deps.onProgress,
    });
    result = mb.result;
    scoreboard = mb.scoreboard;
  } else {
    result = runBacktest({
      ...base,
      strategy: new ReferenceAiStrategy(o.timeframes, o.params),
      onProgress: deps.onProgress,
    });
    benchmark = o.benchmark
      ? await loadBenchmark(o, series, result.equityTs[0], deps.pool, from, to)
      : undefined;
  }
  const a = analyse(result, { runs: o.mcRuns, seed: o.seed, series, benchmark, ...reportOpts });
  const build = (p: Readonly<Record<string, number>>) =>
    new ReferenceAiStrategy(o.timeframes, { ...o.params, ...(p as Partial<ReferenceAiParams>) });
  let sensitivity: SensitivityRow[] | undefined;
  let folds: WalkForwardFold[] | undefined;
  if (o.grid) {
    const grid = parseGrid(o.grid);
    sensitivity = sensitivityGrid(base, grid, build, reportOpts);
    if (o.walkForward) {
      const nonEmpty = series.filter((s) => s.ts.length);
      const first = Math.min(...nonEmpty.map((s) => s.ts[0]!));
      const last = Math.max(...nonEmpty.map((s) => s.ts[s.ts.length - 1]!)) + 1;
      folds = walkForward(base, grid, build, {
        from: first,
        to: last,
        folds: o.walkForward,
        metrics: reportOpts,
      });
    }
  } else if (o.walkForward)
    throw new ValidationError('--walk-forward', 'needs --grid to choose parameters in sample');

  const m = a.metrics;
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)}%`);
  const summary = [
    `${result.barEvents.toLocaleString('en-US')} bar events, ${result.trades.length} trades, order hash ${result.orderHash}${result.stopped ? `, STOPPED: ${result.stopped.message}` : ''}`,
    `net ${m.netProfit.toFixed(2)} (${pct(m.totalReturn)}), Sharpe ${m.sharpe?.toFixed(2) ?? '—'}, max DD ${pct(m.maxDrawdown)}, win rate ${pct(m.winRate)}, profit factor ${m.profitFactor?.toFixed(2) ?? '—'}`,
  ].join('\n');
  log(summary);
  const reportInput: ReportInput = {
    title: o.title ?? `Backtest ${o.symbols.join(', ')} ${o.timeframes.join('/')}`,
    result,
    ...a,
    price:
      series.find(
        (s) => s.symbol === o.symbols[0] && s.timeframe === result.timeframes[0] && s.ts.length > 0,
      ) ?? series.find((s) => s.ts.length > 0),
    sensitivity,
    walkForward: folds,
    scoreboard,
    generatedAt: deps.now,
    header: { dataSource: describeSource(o), quotes: Object.keys(quotes).length > 0, from, to },
  };
  let reportPath: string | undefined;
  if (o.report) {
    reportPath = resolve(o.report);
    mkdirSync(dirname(reportPath), { recursive: true });
    writeFileSync(reportPath, renderReport(reportInput));
    log(`report: ${reportPath}`);
  }
  let jsonPath: string | undefined;
  if (o.json) {
    jsonPath = resolve(o.json);
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(
      jsonPath,
      JSON.stringify(
        {
          ...reportJson(reportInput),
          sensitivity: sensitivity?.map((s) => ({ params: s.params, metrics: s.metrics })),
          walkForward: folds?.map((f) => ({
            inSample: f.inSample,
            outOfSample: f.outOfSample,
            chosen: f.chosen,
            metrics: f.outOfSampleMetrics,
          })),
        },
        null,
        2,
      ),
    );
    log(`json: ${jsonPath}`);
  }
  let runId: string | undefined;
  if (o.save) {
    if (!deps.pool) throw new ValidationError('--save', 'recording the run needs a database connection');
    runId = (await saveBacktestRun(deps.pool, toRunRecord(result, a, { from, to, reportPath }))).runId;
    log(`recorded run ${runId}`);
  }
  return { result, metrics: m, summary, reportPath, jsonPath, runId, totalBars, scoreboard };
}

/** Annualisation, ruin and Monte Carlo settings, checked with the CLI flag in the error. */
function reportOptions(o: BacktestPipelineOptions) {
  if (o.ruinLoss !== undefined && !(o.ruinLoss > 0 && o.ruinLoss <= 1))
    throw new ValidationError(
      '--ruin-loss',
      `${o.ruinLoss} must be a fraction in (0, 1] of the starting cash`,
    );
  if (o.mcBlockLength !== undefined && !(Number.isInteger(o.mcBlockLength) && o.mcBlockLength >= 1))
    throw new ValidationError('--mc-block', `${o.mcBlockLength} must be a whole number of periods >= 1`);
  if (o.annualizationDays !== undefined && !(o.annualizationDays > 0 && o.annualizationDays <= 366))
    throw new ValidationError(
      '--annualization-days',
      `${o.annualizationDays} must be trading days per year in (0, 366] (252 US equities, 365 crypto)`,
    );
  return {
    ruinLoss: o.ruinLoss,
    blockLength: o.mcBlockLength,
    // by asset class unless given: 365 for an all-crypto universe, else 252 (src/model/instrument.ts)
    annualizationDays: o.annualizationDays ?? annualizationDaysFor(o.symbols),
  };
}

/**
 * The bars to load: intraday strategies get 1m bars, from which the trading kernel builds 5m/15m/1h/1d as they
 * close (exactly as in a session); hourly and daily strategies without minutes read those files.
 */
export function loadTimeframes(wanted: readonly Timeframe[]): Timeframe[] {
  if (wanted.some((tf) => tf === '1m' || tf === '5m' || tf === '15m')) return ['1m'];
  return [...wanted];
}

function describeSource(o: BacktestPipelineOptions): string {
  if (o.series) return 'bars supplied by the caller (see the title)';
  if (o.db) return 'PostgreSQL bars table';
  return `CSV files in ${o.dataDir}${o.source ? `/${o.source}` : ' (first source holding every symbol)'}`;
}

/** The benchmark symbol's bars at the run's finest timeframe: the run's own when it traded it, else loaded. */
async function loadBenchmark(
  o: BacktestPipelineOptions,
  series: readonly BarColumns[],
  runStart: number | undefined,
  pool: Pool | undefined,
  from: number | undefined,
  to: number | undefined,
): Promise<{ label: string; series: BarColumns[] }> {
  const sym = o.benchmark!.trim().toUpperCase();
  const tf = [...o.timeframes].sort((x, y) => TIMEFRAME_MS[x] - TIMEFRAME_MS[y])[0]!;
  let bars = series.find((s) => s.symbol === sym && s.timeframe === tf);
  let where = "the run's bars";
  if (!bars && o.series) bars = o.series.find((s) => s.symbol === sym && s.timeframe === tf);
  if (!bars && !o.series && o.db && pool && from !== undefined && to !== undefined) {
    bars = (await loadBarsFromDb(pool, [sym], tf, { from, to }))[0];
    where = 'PostgreSQL';
  } else if (!bars && !o.series && !o.db && o.dataDir) {
    // the run's source when it has the symbol, else the first source that does
    let source = o.source;
    if (!source || !existsSync(join(o.dataDir, source, TF_DIR[tf], `${sym}.csv.gz`))) {
      try {
        source = findSource(o.dataDir, [sym], tf);
      } catch {
        throw new ValidationError('--benchmark', `no ${tf} bars for ${sym} in any source of ${o.dataDir}`);
      }
    }
    bars = loadSharedBars(o.dataDir, source, sym, tf, { from, to });
    where = source;
  }
  if (!bars || bars.ts.length === 0)
    throw new ValidationError('--benchmark', `no ${tf} bars for ${sym} in the run's range`);
  const firstClose = barCloseMs(sym, bars.ts[0]!, tf);
  const late =
    runStart !== undefined && firstClose > runStart
      ? `; its bars start ${new Date(bars.ts[0]!).toISOString().slice(0, 10)}, cash until then`
      : '';
  return { label: `buy-and-hold ${sym} (${where}, ${tf}${late}), no costs`, series: [bars] };
}
