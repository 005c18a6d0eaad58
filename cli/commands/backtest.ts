import { SingleBar, Presets } from 'cli-progress';
import { resolveDatabaseUrl } from '../../src/stack/resolve';
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Pool } from 'pg';
import { loadConfig } from '../../src/config/config';
import {
  listBacktestRuns,
  runBacktestPipeline,
  type BacktestPipelineOptions,
  type BacktestPipelineResult,
} from '../../src/backtest';
import { barsToColumns } from '../../src/model/bar';
import { parseTimeframe } from '../../src/model/timeframe';
import { syntheticBars } from '../../src/data/synthetic';
import { createPool } from '../../src/storage/pool';
import { ValidationError } from '../../src/model/errors';
import { ModelRegistry } from '../../src/models/registry/registry';
import { DEFAULT_SPECS, MODEL_KINDS, parseModelSpec, type ModelKind } from '../../src/models/spec';
import { parseDuration, type ModelSource } from '../../src/backtest/model-backtest';

export type BacktestCliOptions = Omit<BacktestPipelineOptions, 'dataDir'> & {
  readonly dataDir?: string;
  readonly progress: boolean;
};

/** The shared-data folder: SHARED_DATA_DIR, else ../shared/data next to the repository. */
export function defaultDataDir(): string {
  return process.env.SHARED_DATA_DIR ?? resolve(__dirname, '../../../shared/data');
}

/** Runs a backtest from CLI options with a progress bar; returns the report path. The demo can call this. */
export async function runBacktestCommand(
  o: BacktestCliOptions,
  log: (s: string) => void = console.log,
): Promise<BacktestPipelineResult> {
  let pool: Pool | undefined;
  const config = loadConfig();
  if (o.db || o.save || o.model) pool = createPool(await resolveDatabaseUrl(config));
  const registry = o.model && pool ? new ModelRegistry(pool, config.artifactDir) : undefined;
  let bar: SingleBar | undefined;
  try {
    return await runBacktestPipeline(
      { ...o, dataDir: o.dataDir ?? defaultDataDir() },
      {
        pool,
        registry,
        log: (l) => {
          bar?.stop();
          bar = undefined;
          log(l);
        },
        now: Date.now(),
        onProgress: o.progress
          ? (done, total) => {
              if (!bar) {
                bar = new SingleBar(
                  { format: 'backtest |{bar}| {percentage}% {value}/{total} bar events', hideCursor: true },
                  Presets.shades_classic,
                );
                bar.start(total, 0);
              }
              bar.update(done);
              if (done >= total) {
                bar.stop();
                bar = undefined;
              }
            }
          : undefined,
      },
    );
  } finally {
    bar?.stop();
    await pool?.end();
  }
}

/**
 * The demo's backtest step (shape of cli/commands/demo.ts DemoStep): the reference strategy on real daily
 * bars from ../shared/data when present, else on a clearly labelled seeded synthetic set; writes the HTML
 * report under the trader data dir and returns a line with its path.
 */
export const backtestDemoStep = {
  title: 'backtest the reference AI strategy → HTML report',
  async run(): Promise<string> {
    const config = loadConfig();
    const report = join(config.TRADER_DATA_DIR, 'reports', 'demo-backtest.html');
    const dataDir = defaultDataDir();
    const symbols = ['AAPL', 'MSFT', 'JPM', 'XOM', 'JNJ'];
    const real = existsSync(join(dataDir, 'kaggle_sandp500_5yr', '1day', 'AAPL.csv.gz'));
    const from = Date.UTC(2019, 0, 2);
    const to = Date.UTC(2021, 0, 1);
    const out = await runBacktestPipeline(
      {
        symbols,
        timeframes: ['1d'],
        cash: 100_000,
        seed: 1,
        db: false,
        mcRuns: 1000,
        report,
        ...(real
          ? {
              dataDir,
              source: 'kaggle_sandp500_5yr',
              title: 'Demo backtest: 5 S&P 500 names, daily 2013–2018 (real data)',
            }
          : {
              series: symbols.map((s) => barsToColumns(s, '1d', syntheticBars(s, '1d', from, to, 1))),
              title: 'Demo backtest on SYNTHETIC bars (../shared/data not found)',
              // the generator's volume has no bursts, so volume confirmation is relaxed for this labelled run
              params: { volumeConfirm: 1 },
            }),
      },
      { now: Date.now() },
    );
    return `${out.result.trades.length} trades, net ${out.metrics.netProfit.toFixed(2)} USD, report: ${out.reportPath}`;
  },
};

export interface ModelCliOptions {
  readonly model: string;
  readonly name?: string;
  readonly horizon: string;
  readonly retrainEvery: string;
  readonly trainWindow: string;
  readonly embargo?: string;
}

/**
 * --model as the user writes it: a spec file (*.json) or a model kind (its default spec) is trained walk-forward;
 * `champion:<name>` (or `champion` when exactly one name has a champion) and a model id are served as registered.
 */
export async function modelSourceFromCli(
  o: ModelCliOptions,
  registry: () => Promise<ModelRegistry>,
): Promise<ModelSource> {
  const text = o.model.trim();
  if (text.endsWith('.json') || (MODEL_KINDS as readonly string[]).includes(text)) {
    let raw: unknown;
    if (text.endsWith('.json')) {
      if (!existsSync(text)) throw new ValidationError('--model', `spec file ${text} does not exist`);
      try {
        raw = JSON.parse(readFileSync(text, 'utf8'));
      } catch (e) {
        throw new ValidationError('--model', `${text} is not JSON: ${(e as Error).message}`);
      }
    } else raw = DEFAULT_SPECS[text as ModelKind];
    const parsed = parseModelSpec(raw);
    if (!parsed.ok) throw new ValidationError('--model', `${text}: ${parsed.error}`);
    const horizonBars = Number(o.horizon);
    if (!(Number.isInteger(horizonBars) && horizonBars >= 1 && horizonBars <= 10_000))
      throw new ValidationError('--horizon', `"${o.horizon}" must be a whole number of bars in [1, 10000]`);
    const name = o.name ?? `wf-${parsed.spec.kind}`;
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name))
      throw new ValidationError('--name', `"${name}" must be 1-64 letters, digits, dot, dash or underscore`);
    return {
      kind: 'walk-forward',
      spec: parsed.spec,
      name,
      horizonBars,
      retrainEveryMs: parseDuration(o.retrainEvery, '--retrain-every'),
      trainWindowMs: parseDuration(o.trainWindow, '--train-window'),
      ...(o.embargo !== undefined ? { embargoMs: parseDuration(o.embargo, '--embargo') } : {}),
    };
  }
  if (text === 'champion') {
    const names = await (await registry()).championNames();
    if (names.length !== 1)
      throw new ValidationError(
        '--model',
        names.length === 0
          ? 'no model name has a champion yet (train one: trader models retrain, or pass a spec/kind to train walk-forward)'
          : `several names have a champion (${names.join(', ')}): pass champion:<name>`,
      );
    return { kind: 'registered', ref: `champion:${names[0]}` };
  }
  if (!/^(champion:)?[A-Za-z0-9._-]+$/.test(text))
    throw new ValidationError(
      '--model',
      `"${text}" is not a model id, champion[:name], a kind (${MODEL_KINDS.join(', ')}) or a spec .json file`,
    );
  return { kind: 'registered', ref: text };
}

/** modelSourceFromCli with the registry of the configured database (opened only for `champion`). */
async function resolveModelSource(o: ModelCliOptions): Promise<ModelSource> {
  let pool: Pool | undefined;
  try {
    return await modelSourceFromCli(o, async () => {
      const config = loadConfig();
      pool = createPool(await resolveDatabaseUrl(config));
      return new ModelRegistry(pool, config.artifactDir);
    });
  } finally {
    await pool?.end();
  }
}

/** --ruin-loss is a percentage of the starting cash; the pipeline takes a fraction. */
function ruinLossFraction(v: string): number {
  const x = Number(v);
  if (!(Number.isFinite(x) && x > 0 && x <= 100))
    throw new Error(`--ruin-loss: "${v}" must be a percentage in (0, 100]`);
  return x / 100;
}

export function register(program: Command): void {
  program
    .command('backtest')
    .description(
      'event-driven backtest of the reference AI strategy with the risk engine and simulated fills; writes an HTML report',
    )
    .requiredOption('--symbols <list>', 'comma-separated tickers, e.g. AAPL,MSFT')
    .option('--from <date>', 'first day (YYYY-MM-DD, UTC)')
    .option('--to <date>', 'day after the last (YYYY-MM-DD, exclusive)')
    .option('--tf <list>', 'timeframes, e.g. 1m,5m or 1d', '1d')
    .option('--report <file>', 'write the HTML report here')
    .option(
      '--json <file>',
      'write the report as JSON: header, metrics, benchmark, Monte Carlo by method, monthly returns, open positions, attribution, trades',
    )
    .option('--cash <usd>', 'starting cash', '100000')
    .option('--seed <n>', 'seed (strategy PRNG, Monte Carlo)', '1')
    .option(
      '--data-dir <dir>',
      'shared-data folder with <source>/<tf>/<SYMBOL>.csv.gz (default ../shared/data)',
    )
    .option('--source <name>', 'source folder inside the data dir (default: the first holding all symbols)')
    .option('--db', 'read bars from the PostgreSQL bars table instead of CSV files', false)
    .option('--save', 'record the run (metrics, order hash, report path) in PostgreSQL', false)
    .option('--grid <spec>', "parameter sensitivity grid, e.g. 'stopAtr=1,1.5,2;trailAtr=1.5,2.5'")
    .option('--walk-forward <folds>', 'walk-forward folds (parameters chosen in sample on --grid)')
    .option('--mc-runs <n>', 'Monte Carlo paths', '1000')
    .option('--mc-block <n>', 'block length (days) of the Monte Carlo block bootstrap', '20')
    .option(
      '--ruin-loss <pct>',
      'ruin = equity at or below (100 − pct)% of the starting cash; one definition for the whole report',
      '50',
    )
    .option('--benchmark <symbol>', 'buy-and-hold benchmark symbol (default: the symbols, equal weight)')
    .option(
      '--annualization-days <n>',
      'trading days per year for Sharpe, Sortino, volatility (default by asset class: 252 US equities, 365 an all-crypto universe)',
    )
    .option(
      '--model <ref>',
      'a model decides the trades: a model id, champion[:name] (served as registered, out of sample after its training range), or a kind (xgboost, lstm, gru, transformer, mtf-attention) / spec .json trained walk-forward; needs PostgreSQL',
    )
    .option('--feature-set <name>', 'features the model reads (default: daily with --tf 1d, else core)')
    .option(
      '--horizon <bars>',
      'walk-forward: forward-return horizon of the label, in bars of the feature set',
      '5',
    )
    .option(
      '--retrain-every <dur>',
      'walk-forward: test window length, one model per window (30d, 6w, 1mo, 1y)',
      '3mo',
    )
    .option('--train-window <dur>', 'walk-forward: training history before each window', '2y')
    .option(
      '--embargo <dur>',
      'walk-forward: gap between the last training label and the window (default: the horizon)',
    )
    .option('--name <name>', 'walk-forward: registry name of the window models (default wf-<kind>)')
    .option(
      '--strategy <name>',
      'with --model: reference-ai (entries by model consensus, filters, sizing) or model-signal (holds the predicted direction)',
      'reference-ai',
    )
    .option('--weight <fraction>', 'model-signal: position value per symbol as a fraction of equity', '0.05')
    .option(
      '--trials <n>',
      'configurations tried before this one, for the deflated Sharpe ratio (default: distinct specs registered under the name)',
    )
    .option('--no-progress', 'no progress bar')
    .action(
      async (opts: {
        model?: string;
        featureSet?: string;
        horizon: string;
        retrainEvery: string;
        trainWindow: string;
        embargo?: string;
        name?: string;
        strategy: string;
        weight: string;
        trials?: string;
        symbols: string;
        from?: string;
        to?: string;
        tf: string;
        report?: string;
        json?: string;
        cash: string;
        seed: string;
        dataDir?: string;
        source?: string;
        db: boolean;
        save: boolean;
        grid?: string;
        walkForward?: string;
        mcRuns: string;
        mcBlock: string;
        ruinLoss: string;
        benchmark?: string;
        annualizationDays?: string;
        progress: boolean;
      }) => {
        const num = (v: string, field: string) => {
          const x = Number(v);
          if (!Number.isFinite(x)) throw new Error(`${field}: "${v}" is not a number`);
          return x;
        };
        if (opts.strategy !== 'reference-ai' && opts.strategy !== 'model-signal')
          throw new ValidationError('--strategy', `"${opts.strategy}" is not reference-ai or model-signal`);
        if (opts.strategy === 'model-signal' && !opts.model)
          throw new ValidationError('--strategy', 'model-signal trades a model: pass --model');
        const trials = opts.trials === undefined ? undefined : num(opts.trials, '--trials');
        if (trials !== undefined && !(Number.isInteger(trials) && trials >= 1))
          throw new ValidationError('--trials', `${trials} must be a whole number >= 1`);
        const weight = num(opts.weight, '--weight');
        if (!(weight > 0 && weight <= 1))
          throw new ValidationError('--weight', `${weight} must be a fraction in (0, 1]`);
        const model = opts.model ? await resolveModelSource({ ...opts, model: opts.model }) : undefined;
        await runBacktestCommand({
          model,
          featureSet: opts.featureSet,
          strategy: opts.strategy,
          weight,
          trials,
          symbols: opts.symbols
            .split(',')
            .map((s) => s.trim().toUpperCase())
            .filter(Boolean),
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
          save: opts.save,
          grid: opts.grid,
          walkForward: opts.walkForward === undefined ? undefined : num(opts.walkForward, '--walk-forward'),
          mcRuns: num(opts.mcRuns, '--mc-runs'),
          mcBlockLength: num(opts.mcBlock, '--mc-block'),
          ruinLoss: ruinLossFraction(opts.ruinLoss),
          benchmark: opts.benchmark,
          annualizationDays:
            opts.annualizationDays === undefined
              ? undefined
              : num(opts.annualizationDays, '--annualization-days'),
          progress: opts.progress,
        });
      },
    );
  program
    .command('backtest-runs')
    .description('list recorded backtest runs (newest first)')
    .option('--limit <n>', 'how many', '20')
    .action(async (opts: { limit: string }) => {
      const pool = createPool(await resolveDatabaseUrl(loadConfig()));
      try {
        const rows = await listBacktestRuns(pool, Number(opts.limit));
        for (const r of rows)
          console.log(
            `${r.recordedAt.toISOString()}  ${r.runId}  ${r.strategy}  hash ${r.orderHash}  trades ${r.trades}  net ${r.netProfit.toFixed(2)}  sharpe ${r.sharpe?.toFixed(2) ?? '—'}  ${r.reportPath ?? ''}`,
          );
        if (rows.length === 0) console.log('no recorded runs (use trader backtest --save)');
      } finally {
        await pool.end();
      }
    });
}
