/**
 * bench/features: time to build the full multi-timeframe feature matrix (feature set `core`: 87 features
 * over 1m/5m/15m/1h/1d, plus labels) for 100 symbols × one year of 1-minute bars (NYSE regular session),
 * on all cores with worker threads. Bars come from the seeded synthetic generator (src/data/synthetic)
 * and are generated before the clock starts; the timed part is aggregation + features + labels.
 * Peer: the same work on one thread, measured on 10 of the symbols and scaled ×10.
 */
import { availableParallelism } from 'node:os';
import { syntheticMinuteBars } from '../src/data/synthetic';
import { CORE_FEATURE_SET, computeFeatureMatrices, type SymbolMinutes } from '../src/features';
import { barsToColumns } from '../src/model/bar';
import { median, writeResults } from './lib';

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

export async function main(): Promise<void> {
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
