/**
 * bench/features: time to build the full multi-timeframe feature matrix (feature set `core`: 87 features
 * over 1m/5m/15m/1h/1d, plus labels) for 100 symbols × one year of 1-minute bars (NYSE regular session),
 * on all cores with worker threads. Bars come from the seeded synthetic generator (src/data/synthetic)
 * and are generated before the clock starts; the timed part is aggregation + features + labels.
 * Peer: the same work on one thread, measured on 10 of the symbols and scaled ×10.
 *
 * Online rows (src/features/online.ts, one thread): a live session's cost per 1m bar per symbol of
 * OnlineFeatures.update (the minute plus any 5m/15m/1h/1d bar closing with it) + row32(), after a warm-up
 * from 60 days of history; the 100-symbol figure is that × 100 on one core. Peer: recomputing the matrix
 * over the session's warm-up window (70 days of 1m bars, as latestFeatureVector does on a miss) per bar.
 * `npm run bench -- features --online-only` runs just these rows (printed, results file untouched).
 */
import { availableParallelism } from 'node:os';
import { syntheticMinuteBars } from '../src/data/synthetic';
import {
  CORE_FEATURE_SET,
  OnlineFeatures,
  barsFromMinutes,
  buildFeatureMatrix,
  computeFeatureMatrices,
  defaultCloseTime,
  type BarsByTimeframe,
  type SymbolMinutes,
  type TimeframeBars,
} from '../src/features';
import { barsToColumns } from '../src/model/bar';
import type { Timeframe } from '../src/model/timeframe';
import { median, percentile, type BenchRow, writeResults } from './lib';

const SYMBOLS = 100;
const SINGLE_THREAD_SAMPLE = 10;
const FROM = Date.UTC(2024, 0, 1);
const TO = Date.UTC(2025, 0, 1);

function symbolName(i: number): string {
  return `SYN${String(i).padStart(3, '0')}`;
}

function generate(i: number): SymbolMinutes {
  const c = barsToColumns(symbolName(i), '1m', syntheticMinuteBars(symbolName(i), FROM, TO, 1000 + i));
  return {
    symbol: c.symbol,
    minutes: { ts: c.ts, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume },
  };
}

const ONLINE_SYMBOLS = 10;
const ONLINE_FROM = Date.UTC(2024, 3, 1);
const ONLINE_STEP_FROM = Date.UTC(2024, 5, 1);
const ONLINE_TO = Date.UTC(2024, 6, 1);
const SESSION_SYMBOLS = 100;
const RECOMPUTE_WINDOW_DAYS = 70;

function sliceFrom(c: TimeframeBars, from: number, to: number): TimeframeBars {
  return {
    timeframe: c.timeframe,
    ts: c.ts.subarray(from, to),
    open: c.open.subarray(from, to),
    high: c.high.subarray(from, to),
    low: c.low.subarray(from, to),
    close: c.close.subarray(from, to),
    volume: c.volume.subarray(from, to),
  };
}

/** Online update + row per 1m bar per symbol (one thread), and the recompute-per-bar peer. */
function onlineRows(): BenchRow[] {
  const set = CORE_FEATURE_SET;
  const higher = set.timeframes.filter((tf) => tf !== set.baseTimeframe);
  const perBarUs: number[] = [];
  let stepped = 0;
  let stepMs = 0;
  let warmMs = 0;
  let warmBars = 0;
  let recomputeMs = 0;
  let recomputes = 0;
  let readyAtEnd = 0;
  for (let s = 0; s < ONLINE_SYMBOLS; s++) {
    const symbol = `ONL${s}`;
    const minutes = barsToColumns(symbol, '1m', syntheticMinuteBars(symbol, ONLINE_FROM, ONLINE_TO, 500 + s));
    const bars = barsFromMinutes(minutes, set.timeframes);
    const base = bars['1m']!;
    let start = 0;
    while (start < base.ts.length && base.ts[start]! < ONLINE_STEP_FROM) start++;
    // Warm-up from history (what a session does at its start), timed on its own.
    const head: BarsByTimeframe = {};
    const next = new Map<Timeframe, number>();
    for (const tf of set.timeframes) {
      const c = bars[tf]!;
      let n = 0;
      while (n < c.ts.length && defaultCloseTime(c.ts[n]!, tf) <= ONLINE_STEP_FROM) n++;
      if (tf === '1m') n = start;
      head[tf] = sliceFrom(c, 0, n);
      next.set(tf, n);
    }
    const f = new OnlineFeatures(set, { symbol });
    const w0 = performance.now();
    warmBars += f.updateMany(head);
    warmMs += performance.now() - w0;
    // Bar by bar: the minute, every higher bar closing with it, then the row.
    const row = new Float32Array(set.names.length);
    const input = { ts: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
    const load = (c: TimeframeBars, i: number) => {
      input.ts = c.ts[i]!;
      input.open = c.open[i]!;
      input.high = c.high[i]!;
      input.low = c.low[i]!;
      input.close = c.close[i]!;
      input.volume = c.volume[i]!;
    };
    const t0 = performance.now();
    for (let i = start; i < base.ts.length; i++) {
      const b0 = process.hrtime.bigint();
      load(base, i);
      f.update('1m', input);
      const close = f.availableAt;
      for (const tf of higher) {
        const c = bars[tf]!;
        let j = next.get(tf)!;
        while (j < c.ts.length && defaultCloseTime(c.ts[j]!, tf) <= close) {
          load(c, j++);
          f.update(tf, input);
        }
        next.set(tf, j);
      }
      f.row32(row);
      perBarUs.push(Number(process.hrtime.bigint() - b0) / 1e3);
    }
    stepMs += performance.now() - t0;
    stepped += base.ts.length - start;
    if (f.ready()) readyAtEnd++;
    // Peer: recompute the matrix over the warm-up window for the newest bar (a few bars per symbol).
    if (s < 3) {
      for (const i of [base.ts.length - 1, base.ts.length - 200, base.ts.length - 400]) {
        const from = base.ts[i]! - RECOMPUTE_WINDOW_DAYS * 86_400_000;
        let k = 0;
        while (minutes.ts[k]! < from) k++;
        const window = {
          ...minutes,
          ts: minutes.ts.subarray(k, i + 1),
          open: minutes.open.subarray(k, i + 1),
          high: minutes.high.subarray(k, i + 1),
          low: minutes.low.subarray(k, i + 1),
          close: minutes.close.subarray(k, i + 1),
          volume: minutes.volume.subarray(k, i + 1),
        };
        const r0 = performance.now();
        buildFeatureMatrix(barsFromMinutes(window, set.timeframes), set, { symbol });
        recomputeMs += performance.now() - r0;
        recomputes++;
      }
    }
  }
  const meanUs = (stepMs * 1e3) / stepped;
  const p99Us = percentile(perBarUs, 99);
  const recomputeUs = (recomputeMs * 1e3) / recomputes;
  return [
    {
      metric: 'online_update_row_us_per_bar',
      value: meanUs,
      unit: 'µs per 1m bar per symbol (update incl. the higher bars closing with it + row32), one thread',
      peer: { name: `recompute the matrix over ${RECOMPUTE_WINDOW_DAYS} days per bar`, value: recomputeUs },
      ratio: recomputeUs / meanUs,
      note: `${stepped.toLocaleString()} bars of ${ONLINE_SYMBOLS} symbols after a 2-month warm-up; ${readyAtEnd}/${ONLINE_SYMBOLS} rows fully warm at the end`,
    },
    {
      metric: 'online_update_row_us_p99',
      value: p99Us,
      unit: 'µs per 1m bar per symbol, 99th percentile of single bars',
      note: `median ${percentile(perBarUs, 50).toFixed(1)} µs`,
    },
    {
      metric: 'online_features_100sym_bar_ms',
      value: (meanUs * SESSION_SYMBOLS) / 1e3,
      unit: `ms per bar for ${SESSION_SYMBOLS} symbols on one core (mean µs × ${SESSION_SYMBOLS})`,
      target: { op: '<', value: 50 },
      note: `p99-based bound: ${((p99Us * SESSION_SYMBOLS) / 1e3).toFixed(2)} ms`,
    },
    {
      metric: 'online_warm_up_ms_per_symbol',
      value: warmMs / ONLINE_SYMBOLS,
      unit: 'ms per symbol to warm up from 2 months of bars (updateMany)',
      note: `${Math.round(warmBars / ONLINE_SYMBOLS).toLocaleString()} bars per symbol`,
    },
  ];
}

export async function main(args: string[] = []): Promise<void> {
  if (args.includes('--online-only')) {
    console.log(`bench/features --online-only: ${ONLINE_SYMBOLS} symbols, feature set core (not written)`);
    console.table(onlineRows());
    return;
  }
  const set = CORE_FEATURE_SET;
  const threads = availableParallelism();
  console.log(
    `bench/features: ${SYMBOLS} symbols × 1 year of 1m bars, feature set ${set.name}@${set.version} (${set.names.length} features, ${set.timeframes.join('/')}), ${threads} threads`,
  );
  console.log('generating synthetic 1m bars (not timed)…');
  const inputs: SymbolMinutes[] = [];
  let bars = 0;
  for (let i = 0; i < SYMBOLS; i++) {
    const s = generate(i);
    bars += s.minutes.ts.length;
    inputs.push(s);
  }
  const sample = Array.from({ length: SINGLE_THREAD_SAMPLE }, (_, i) => generate(i));

  console.log(
    `building ${SYMBOLS} matrices (${bars.toLocaleString()} base rows) on ${threads} worker threads…`,
  );
  let lastPrint = 0;
  const t0 = performance.now();
  const results = await computeFeatureMatrices(inputs, set, {
    threads,
    withLabels: true,
    returnValues: false,
    onResult: (_r, done, total) => {
      if (done - lastPrint >= 10 || done === total) {
        lastPrint = done;
        console.log(`  ${done}/${total} symbols, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    },
  });
  const parallelS = (performance.now() - t0) / 1000;
  const rows = results.reduce((a, r) => a + r.rows, 0);
  const cols = results[0]?.cols ?? 0;

  console.log(`single-thread peer on ${SINGLE_THREAD_SAMPLE} symbols…`);
  const t1 = performance.now();
  await computeFeatureMatrices(sample, set, { threads: 1, withLabels: true, returnValues: false });
  const singleS = ((performance.now() - t1) / 1000) * (SYMBOLS / SINGLE_THREAD_SAMPLE);

  console.log(`online features: ${ONLINE_SYMBOLS} symbols stepped bar by bar on one thread…`);
  const online = onlineRows();

  writeResults(
    'features',
    [
      {
        metric: 'feature_matrix_100sym_1y_s',
        value: parallelS,
        unit: 's (wall clock, aggregation + features + labels)',
        peer: { name: `1 thread (scaled from ${SINGLE_THREAD_SAMPLE} symbols)`, value: singleS },
        ratio: singleS / parallelS,
        target: { op: '<=', value: 180 },
        note: `${rows.toLocaleString()} rows × ${cols} features (${(rows * cols).toLocaleString()} values) on ${threads} threads; target for a 2-core machine`,
      },
      {
        metric: 'feature_rows_per_s',
        value: rows / parallelS,
        unit: 'base rows/s (all 87 features + labels per row)',
      },
      { metric: 'feature_values_per_s', value: (rows * cols) / parallelS, unit: 'feature values/s' },
      {
        metric: 'per_symbol_compute_ms_median',
        value: median(results.map((r) => r.computeMs)),
        unit: 'ms per symbol-year inside a worker',
      },
      { metric: 'features', value: cols, unit: 'columns', target: { op: '>=', value: 60 } },
      {
        metric: 'timeframes',
        value: set.timeframes.length,
        unit: 'timeframes',
        target: { op: '>=', value: 5 },
      },
      ...online,
    ],
    {
      symbols: SYMBOLS,
      bars,
      feature_set: `${set.name}@${set.version}`,
      data: 'seeded synthetic 1m bars (src/data/synthetic), NYSE regular session, 2024',
    },
  );
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
