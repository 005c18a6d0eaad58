/**
 * Backtest throughput, from one run:
 *  - engine_bar_events_per_s: the event-driven engine with a trivial strategy (buy 1 share per symbol once,
 *    then hold) over >= 10M bar events: merge by close time, simulated broker matching and mark-to-market,
 *    breakers, equity/exposure recording. Peer: grademark (npm) running the same buy-and-hold strategy.
 *  - full_pipeline_bars_per_s: the reference AI strategy on 505 real S&P 500 daily series (../shared/data,
 *    kaggle_sandp500_5yr; a seeded synthetic set when absent) with incremental features, a logistic model
 *    scoring every updated bar (model inference), the risk engine on every command, and fills with costs.
 * Medians of several runs (shared, noisy machine).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { allocBarColumns } from '../src/model/bar';
import { join, resolve } from 'node:path';
import { DataFrame } from 'data-forge';
import { backtest as grademarkBacktest, type IBar } from 'grademark';
import { loadSharedBars, mulberry32, runBacktest, type ClockedBarFeed } from '../src/backtest';
import type { BarColumns } from '../src/model/bar';
import type { Command } from '../src/model/command';
import { ReferenceAiStrategy } from '../src/strategy/reference-ai';
import {
  STRATEGY_API_VERSION,
  type BarFeed,
  type Prediction,
  type PredictionSet,
  type Strategy,
  type StrategyContext,
} from '../src/strategy/types';
import type { PredictionPort } from '../src/trading/prediction';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createTestDatabase } from '../test/support/db';
import { ModelRegistry } from '../src/models/registry/registry';
import { trainAndServe, windowDataset, windowsPort } from '../src/backtest/model-backtest';
import { featureMatrices, scoreSeries } from '../src/models/serving/model-port';
import { CORE_FEATURE_SET } from '../src/features/sets';
import { DEFAULT_XGBOOST_SPEC } from '../src/models/spec';
import { ModelSignalStrategy } from '../src/strategy/model-signal';
import { syntheticBars } from '../src/data/synthetic';
import { barsToColumns } from '../src/model/bar';
import { median, writeResults, type BenchRow } from './lib';

const MIN = 60_000;

/** Seeded random-walk 1-minute columns. */
function walk(n: number, seed: number, symbol: string, t0 = Date.UTC(2015, 0, 5)): BarColumns {
  const rnd = mulberry32(seed);
  const c = allocBarColumns(symbol, '1m', n);
  let px = 100;
  for (let i = 0; i < n; i++) {
    const o = px;
    const cl = o * (1 + (rnd() - 0.5) * 0.002);
    c.ts[i] = t0 + i * MIN;
    c.open[i] = o;
    c.close[i] = cl;
    c.high[i] = Math.max(o, cl) * (1 + rnd() * 0.0005);
    c.low[i] = Math.min(o, cl) * (1 - rnd() * 0.0005);
    c.volume[i] = 10_000 + rnd() * 50_000;
    px = cl;
  }
  return c;
}

/** The trivial strategy: one market buy per symbol at the first decision, then nothing. */
class BuyAndHold implements Strategy {
  readonly name = 'buy-and-hold';
  readonly apiVersion = STRATEGY_API_VERSION;
  readonly warmUpBars = 1;
  readonly timeframes = ['1m'] as const;
  private done = false;
  onBar(ctx: StrategyContext, bars: BarFeed): Command[] {
    if (this.done) return [];
    this.done = true;
    return bars
      .symbols()
      .map((s) =>
        ctx.orders.submit(ctx.orders.market(s, 'buy', 1, undefined, 'gtc'), bars.last(s, '1m')!.close),
      );
  }
}

/** Incremental features + a fixed logistic model: one prediction per updated bar (the "model inference" step). */
function logisticModel(): PredictionPort {
  const st = new Map<string, { prev: number; ema5: number; ema20: number; vol: number; n: number }>();
  const w = [0.8, 45, -0.6, 0.25];
  const predict = (feed: ClockedBarFeed): PredictionSet => {
    const out: Record<string, Prediction[]> = {};
    for (const u of feed.updated) {
      const b = feed.last(u.symbol, u.timeframe)!;
      let s = st.get(u.symbol);
      if (!s) {
        s = { prev: b.close, ema5: b.close, ema20: b.close, vol: 0.01, n: 0 };
        st.set(u.symbol, s);
      }
      const r = Math.log(b.close / s.prev);
      s.prev = b.close;
      s.ema5 += (2 / 6) * (b.close - s.ema5);
      s.ema20 += (2 / 21) * (b.close - s.ema20);
      s.vol += 0.06 * (Math.abs(r) - s.vol);
      s.n++;
      const gap = s.ema5 / s.ema20 - 1;
      const x =
        w[0]! * Math.sign(r) +
        w[1]! * gap +
        w[2]! * (s.vol * 100) +
        w[3]! * Math.min(3, (b.high - b.low) / (b.close * Math.max(1e-6, s.vol)));
      const p = 1 / (1 + Math.exp(-x));
      const dir = p >= 0.5 ? 1 : -1;
      out[u.symbol] = [
        {
          model: 'bench-logit',
          timeframe: u.timeframe,
          expectedReturn: dir * Math.max(Math.abs(gap) * 4, s.vol * 3),
          confidence: Math.max(p, 1 - p),
          horizonBars: 10,
        },
      ];
    }
    return out;
  };
  return { name: 'bench-logit', predict: (req) => predict(req.feed) };
}

function pipelineData(): { series: BarColumns[]; label: string } {
  const dir = process.env.SHARED_DATA_DIR ?? resolve(__dirname, '../../shared/data');
  const folder = join(dir, 'kaggle_sandp500_5yr', '1day');
  if (existsSync(folder)) {
    const symbols = readdirSync(folder)
      .filter((f) => f.endsWith('.csv.gz'))
      .map((f) => f.replace('.csv.gz', ''))
      .sort();
    return {
      series: symbols.map((s) => loadSharedBars(dir, 'kaggle_sandp500_5yr', s, '1d')),
      label: `kaggle_sandp500_5yr ${symbols.length} symbols daily (real)`,
    };
  }
  const series = Array.from({ length: 100 }, (_, i) => ({
    ...walk(6000, 100 + i, `S${i}`),
    timeframe: '1d' as const,
    ts: Float64Array.from({ length: 6000 }, (_, k) => Date.UTC(2000, 0, 3) + k * 86_400_000),
  }));
  return { series, label: '100 synthetic daily series (shared data absent)' };
}

export async function main(): Promise<void> {
  const rows: BenchRow[] = [];
  // ---- engine core: 10 symbols × 1.05M one-minute bars = 10.5M bar events (the symbols share price arrays)
  const perSymbol = Number(process.env.BENCH_BARS_PER_SYMBOL ?? 1_050_000);
  const base = walk(perSymbol, 42, 'S0');
  const engineSeries = Array.from({ length: 10 }, (_, i) => ({ ...base, symbol: `SYM${i}` }));
  const engineRates: number[] = [];
  let events = 0;
  for (let run = 0; run < 3; run++) {
    const t0 = process.hrtime.bigint();
    const r = runBacktest({
      strategy: new BuyAndHold(),
      series: engineSeries,
      startingCash: 1e7,
      keepFills: false,
      risk: { staleDataMs: 10 * MIN },
      // held for the whole run: no end-of-day flatten of this 1m strategy
      flattenBeforeCloseMs: null,
    });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    events = r.barEvents;
    if (r.fillCount !== 10)
      throw new Error(
        `engine bench: expected 10 fills, got ${r.fillCount} (denials ${JSON.stringify(r.deniedByRule)})`,
      );
    engineRates.push(r.barEvents / s);
    console.log(
      `engine run ${run + 1}: ${r.barEvents.toLocaleString('en-US')} bar events in ${s.toFixed(2)} s`,
    );
  }
  const engineRate = median(engineRates);

  // ---- peer: grademark, same buy-and-hold, one series
  let peer: { name: string; value: number } | undefined;
  let peerNote = '';
  try {
    const n = Number(process.env.BENCH_PEER_BARS ?? 200_000);
    const bars: IBar[] = [];
    for (let i = 0; i < n; i++)
      bars.push({
        time: new Date(base.ts[i]!),
        open: base.open[i]!,
        high: base.high[i]!,
        low: base.low[i]!,
        close: base.close[i]!,
        volume: base.volume[i]!,
      });
    const df = new DataFrame(bars);
    const rates: number[] = [];
    for (let run = 0; run < 3; run++) {
      let entered = false;
      const t0 = process.hrtime.bigint();
      grademarkBacktest(
        {
          entryRule: (enter) => {
            if (!entered) {
              entered = true;
              enter();
            }
          },
        },
        df,
      );
      rates.push(n / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
    const version = (
      JSON.parse(readFileSync(resolve(__dirname, '../node_modules/grademark/package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    peer = { name: `grademark ${version}`, value: median(rates) };
    peerNote = `peer on ${n.toLocaleString('en-US')} bars of one series (same buy-and-hold)`;
  } catch (e) {
    peerNote = `grademark peer failed: ${(e as Error).message}`;
  }
  rows.push({
    metric: 'engine_bar_events_per_s',
    value: engineRate,
    unit: 'bar events/s',
    peer,
    ratio: peer ? engineRate / peer.value : undefined,
    target: { op: '>=', value: 2_000_000 },
    note: `${events.toLocaleString('en-US')} events (10 symbols × ${perSymbol.toLocaleString('en-US')} 1m bars), trivial strategy; ${peerNote}`,
  });

  // ---- full pipeline
  const { series, label } = pipelineData();
  const pipeRates: number[] = [];
  let pipeBars = 0;
  let trades = 0;
  let commands = 0;
  for (let run = 0; run < 3; run++) {
    const t0 = process.hrtime.bigint();
    const r = runBacktest({
      strategy: new ReferenceAiStrategy(['1d'], {
        universe: {
          minPrice: 5,
          minDollarVolume: 1e6,
          activeRelVolume: 1.2,
          activeAtrFraction: 0.015,
          focusTopN: 10,
        },
      }),
      series,
      startingCash: 1_000_000,
      predictions: logisticModel(),
      keepFills: false,
    });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    pipeBars = r.barEvents;
    trades = r.trades.length;
    commands = r.submitted + r.denials.length;
    pipeRates.push(r.barEvents / s);
    console.log(
      `pipeline run ${run + 1}: ${r.barEvents.toLocaleString('en-US')} bars in ${s.toFixed(2)} s, ${r.trades.length} trades, ${r.denials.length} risk denials`,
    );
  }
  rows.push({
    metric: 'full_pipeline_bars_per_s',
    value: median(pipeRates),
    unit: 'bars/s',
    target: { op: '>=', value: 200_000 },
    note: `${label}: ${pipeBars.toLocaleString('en-US')} bars, features + logistic model per bar + risk engine on ${commands} commands + fills with costs; ${trades} trades`,
  });
  rows.push(await modelPipelineRow());
  writeResults('backtest', rows);
}

/**
 * The model pipeline a model backtest runs per window, timed after the model is trained: the 87-feature `core` set
 * computed from 1m bars (multi-timeframe), every decision row scored in batches by the registered XGBoost model
 * (100 trees) through ONNX Runtime, and the kernel trading its predictions (model-signal on 5m, risk engine,
 * fills with costs). Training is reported in the note, not in the rate. Peer: the same kernel run with no model.
 */
async function modelPipelineRow(): Promise<BenchRow> {
  const set = CORE_FEATURE_SET;
  const symbols = Array.from({ length: 10 }, (_, i) => `M${i}`);
  const from = Date.UTC(2023, 0, 3);
  const split = Date.UTC(2023, 1, 1);
  const to = Date.UTC(2023, 6, 3);
  const series = symbols.map((s, i) => barsToColumns(s, '1m', syntheticBars(s, '1m', from, to, 11 + i)));
  const bars = series.reduce((a, c) => a + c.ts.length, 0);
  const db = await createTestDatabase('tt_bench_model');
  const dir = mkdtempSync(join(tmpdir(), 'bench-model-'));
  try {
    const registry = new ModelRegistry(db.pool, dir);
    const t0 = process.hrtime.bigint();
    const trainMats = featureMatrices(set, series);
    const ds = windowDataset(trainMats, set, 5, from, split);
    const served = await trainAndServe(registry, {
      id: 'bench-xgb-100',
      name: 'bench',
      // squared error (the built-in objective) keeps the untimed training short; the served graph is the same size
      spec: { ...DEFAULT_XGBOOST_SPEC, objective: 'squared_error', rounds: 100 },
      dataset: ds,
      trainFrom: from,
      trainTo: split,
    });
    const trainS = Number(process.hrtime.bigint() - t0) / 1e9;
    const strategy = () => new ModelSignalStrategy({ weight: 0.05 }, '5m');
    try {
      const rates: number[] = [];
      const peerRates: number[] = [];
      let predictions = 0;
      let trades = 0;
      for (let run = 0; run < 3; run++) {
        const t1 = process.hrtime.bigint();
        const mats = featureMatrices(set, series);
        const scored = await scoreSeries(served, set, mats, { fromTs: split, toTs: to });
        const port = windowsPort('bench-model', [
          {
            modelId: served.id,
            trainFrom: from,
            trainTo: split,
            testFrom: split,
            testTo: to,
            series: scored,
          },
        ]);
        const r = runBacktest({
          strategy: strategy(),
          series,
          startingCash: 1_000_000,
          predictions: port,
          keepFills: false,
        });
        const s = Number(process.hrtime.bigint() - t1) / 1e9;
        rates.push(bars / s);
        predictions = scored.reduce((a, x) => a + x.ts.length, 0);
        trades = r.trades.length;
        const t2 = process.hrtime.bigint();
        runBacktest({ strategy: strategy(), series, startingCash: 1_000_000, keepFills: false });
        peerRates.push(bars / (Number(process.hrtime.bigint() - t2) / 1e9));
        console.log(
          `model pipeline run ${run + 1}: ${bars.toLocaleString('en-US')} bars in ${s.toFixed(2)} s (${predictions} predictions, ${trades} trades)`,
        );
      }
      const value = median(rates);
      const peer = median(peerRates);
      return {
        metric: 'model_pipeline_bars_per_s',
        value,
        unit: 'bars/s',
        peer: { name: 'the same kernel run without a model (no features, no scoring)', value: peer },
        ratio: value / peer,
        target: { op: '>=', value: 100_000 },
        note: `${symbols.length} synthetic 1m series, ${bars.toLocaleString('en-US')} bars: ${set.name} set (${set.features.length} features) computed, ${predictions.toLocaleString('en-US')} decision rows scored in batches by XGBoost (100 trees) through ONNX Runtime, model-signal trading them through the kernel (${trades} trades); training the model first took ${trainS.toFixed(1)} s (not in the rate)`,
      };
    } finally {
      await served.close();
    }
  } finally {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
