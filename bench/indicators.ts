/**
 * bench/indicators: ms and bars/s per indicator on the same 1,000,000 bars for our batch kernels, TA-Lib
 * (C through the `talib` binding), tulind (C), technicalindicators and trading-signals (JavaScript), and a
 * plain C loop of the same formula compiled with gcc -O2 (bench/c/indicators.c) as the physical reference.
 *
 * technicalindicators and trading-signals are slow: they run on the first 100,000 bars and their time is
 * scaled ×10 (marked "scaled" in the output). Everything else runs on all 1,000,000 bars. Medians of
 * several runs (machines here are shared and noisy).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as TI from 'technicalindicators';
import {
  adxBatch,
  atrBatch,
  bbandsBatch,
  cciBatch,
  emaBatch,
  macdBatch,
  mfiBatch,
  obvBatch,
  rocBatch,
  rsiBatch,
  smaBatch,
  stochBatch,
  willrBatch,
  wmaBatch,
} from '../src/indicators';
import type * as TradingSignalsModule from 'trading-signals' with { 'resolution-mode': 'import' };
import { median, timeIt, timeItAsync, writeResults, type BenchRow } from './lib';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const talib = require('talib') as {
  execute(args: Record<string, unknown>): { begIndex: number; result: Record<string, number[]> };
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tulind = require('tulind') as {
  indicators: Record<
    string,
    { indicator(inputs: number[][], options: number[], cb: (err: unknown, out: number[][]) => void): void }
  >;
};

const N = 1_000_000;
const SLOW_N = 100_000;
const RUNS = 5;
/** Alternating rounds of C, ours and the JavaScript libraries; each reported time is the median over rounds. */
const ROUNDS = 5;

interface Data {
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

function generate(n: number, seed = 42): Data {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const d = {
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
  let p = 100;
  for (let i = 0; i < n; i++) {
    const o = p;
    p = Math.max(1, p * (1 + (rnd() - 0.5) * 0.004));
    d.close[i] = p;
    d.high[i] = Math.max(o, p) * (1 + rnd() * 0.001);
    d.low[i] = Math.min(o, p) * (1 - rnd() * 0.001);
    d.volume[i] = 1000 + Math.floor(rnd() * 10000);
  }
  return d;
}

type Candle = { high: number; low: number; close: number; volume: number; open: number };

interface Case {
  name: string;
  /** Our batch kernel writing into preallocated output columns (reused across runs, as the C loop's malloc reuses its heap). */
  ours: (d: Data, out: readonly [Float64Array, Float64Array, Float64Array]) => unknown;
  talib: {
    name: string;
    inputs: Array<'high' | 'low' | 'close' | 'volume' | 'inReal'>;
    options: Record<string, number>;
  };
  tulind: { name: string; inputs: Array<keyof Data>; options: number[] };
  ti: (d: Data) => unknown;
  ts: (d: Data, candles: Candle[]) => unknown;
}

function feed<T extends { add(x: never): unknown }>(ind: T, xs: ArrayLike<unknown>): void {
  for (let i = 0; i < xs.length; i++) ind.add(xs[i] as never);
}

type TradingSignals = typeof TradingSignalsModule;

function cases(TS: TradingSignals): Case[] {
  return [
    {
      name: 'SMA',
      ours: (d, o) => smaBatch(d.close, 20, o[0]),
      talib: { name: 'SMA', inputs: ['inReal'], options: { optInTimePeriod: 20 } },
      tulind: { name: 'sma', inputs: ['close'], options: [20] },
      ti: (d) => TI.SMA.calculate({ period: 20, values: Array.from(d.close) }),
      ts: (d) => feed(new TS.SMA(20), d.close),
    },
    {
      name: 'EMA',
      ours: (d, o) => emaBatch(d.close, 20, undefined, o[0]),
      talib: { name: 'EMA', inputs: ['inReal'], options: { optInTimePeriod: 20 } },
      tulind: { name: 'ema', inputs: ['close'], options: [20] },
      ti: (d) => TI.EMA.calculate({ period: 20, values: Array.from(d.close) }),
      ts: (d) => feed(new TS.EMA(20), d.close),
    },
    {
      name: 'WMA',
      ours: (d, o) => wmaBatch(d.close, 20, o[0]),
      talib: { name: 'WMA', inputs: ['inReal'], options: { optInTimePeriod: 20 } },
      tulind: { name: 'wma', inputs: ['close'], options: [20] },
      ti: (d) => TI.WMA.calculate({ period: 20, values: Array.from(d.close) }),
      ts: (d) => feed(new TS.WMA(20), d.close),
    },
    {
      name: 'RSI',
      ours: (d, o) => rsiBatch(d.close, 14, o[0]),
      talib: { name: 'RSI', inputs: ['inReal'], options: { optInTimePeriod: 14 } },
      tulind: { name: 'rsi', inputs: ['close'], options: [14] },
      ti: (d) => TI.RSI.calculate({ period: 14, values: Array.from(d.close) }),
      ts: (d) => feed(new TS.RSI(14), d.close),
    },
    {
      name: 'MACD',
      ours: (d, o) => macdBatch(d.close, 12, 26, 9, o),
      talib: {
        name: 'MACD',
        inputs: ['inReal'],
        options: { optInFastPeriod: 12, optInSlowPeriod: 26, optInSignalPeriod: 9 },
      },
      tulind: { name: 'macd', inputs: ['close'], options: [12, 26, 9] },
      ti: (d) =>
        TI.MACD.calculate({
          values: Array.from(d.close),
          fastPeriod: 12,
          slowPeriod: 26,
          signalPeriod: 9,
          SimpleMAOscillator: false,
          SimpleMASignal: false,
        }),
      ts: (d) => feed(new TS.MACD(new TS.EMA(12), new TS.EMA(26), new TS.EMA(9)), d.close),
    },
    {
      name: 'ATR',
      ours: (d, o) => atrBatch(d.high, d.low, d.close, 14, o[0]),
      talib: { name: 'ATR', inputs: ['high', 'low', 'close'], options: { optInTimePeriod: 14 } },
      tulind: { name: 'atr', inputs: ['high', 'low', 'close'], options: [14] },
      ti: (d) =>
        TI.ATR.calculate({
          period: 14,
          high: Array.from(d.high),
          low: Array.from(d.low),
          close: Array.from(d.close),
        }),
      ts: (_d, c) => feed(new TS.ATR(14), c),
    },
    {
      name: 'BBANDS',
      ours: (d, o) => bbandsBatch(d.close, 20, 2, 2, o),
      talib: {
        name: 'BBANDS',
        inputs: ['inReal'],
        options: { optInTimePeriod: 20, optInNbDevUp: 2, optInNbDevDn: 2, optInMAType: 0 },
      },
      tulind: { name: 'bbands', inputs: ['close'], options: [20, 2] },
      ti: (d) => TI.BollingerBands.calculate({ period: 20, stdDev: 2, values: Array.from(d.close) }),
      ts: (d) => feed(new TS.BollingerBands(20, 2), d.close),
    },
    {
      name: 'ADX',
      ours: (d, o) => adxBatch(d.high, d.low, d.close, 14, o),
      talib: { name: 'ADX', inputs: ['high', 'low', 'close'], options: { optInTimePeriod: 14 } },
      tulind: { name: 'adx', inputs: ['high', 'low', 'close'], options: [14] },
      ti: (d) =>
        TI.ADX.calculate({
          period: 14,
          high: Array.from(d.high),
          low: Array.from(d.low),
          close: Array.from(d.close),
        }),
      ts: (_d, c) => feed(new TS.ADX(14), c),
    },
    {
      name: 'STOCH',
      ours: (d, o) => stochBatch(d.high, d.low, d.close, 5, 3, 3, [o[0], o[1]]),
      talib: {
        name: 'STOCH',
        inputs: ['high', 'low', 'close'],
        options: {
          optInFastK_Period: 5,
          optInSlowK_Period: 3,
          optInSlowK_MAType: 0,
          optInSlowD_Period: 3,
          optInSlowD_MAType: 0,
        },
      },
      tulind: { name: 'stoch', inputs: ['high', 'low', 'close'], options: [5, 3, 3] },
      ti: (d) =>
        TI.Stochastic.calculate({
          period: 5,
          signalPeriod: 3,
          high: Array.from(d.high),
          low: Array.from(d.low),
          close: Array.from(d.close),
        }),
      ts: (_d, c) => feed(new TS.StochasticOscillator({ kPeriod: 5, kSlowingPeriod: 3, dPeriod: 3 }), c),
    },
    {
      name: 'CCI',
      ours: (d, o) => cciBatch(d.high, d.low, d.close, 14, o[0]),
      talib: { name: 'CCI', inputs: ['high', 'low', 'close'], options: { optInTimePeriod: 14 } },
      tulind: { name: 'cci', inputs: ['high', 'low', 'close'], options: [14] },
      ti: (d) =>
        TI.CCI.calculate({
          period: 14,
          high: Array.from(d.high),
          low: Array.from(d.low),
          close: Array.from(d.close),
        }),
      ts: (_d, c) => feed(new TS.CCI(14), c),
    },
    {
      name: 'WILLR',
      ours: (d, o) => willrBatch(d.high, d.low, d.close, 14, o[0]),
      talib: { name: 'WILLR', inputs: ['high', 'low', 'close'], options: { optInTimePeriod: 14 } },
      tulind: { name: 'willr', inputs: ['high', 'low', 'close'], options: [14] },
      ti: (d) =>
        TI.WilliamsR.calculate({
          period: 14,
          high: Array.from(d.high),
          low: Array.from(d.low),
          close: Array.from(d.close),
        }),
      ts: (_d, c) => feed(new TS.WilliamsR(14), c),
    },
    {
      name: 'MFI',
      ours: (d, o) => mfiBatch(d.high, d.low, d.close, d.volume, 14, o[0]),
      talib: { name: 'MFI', inputs: ['high', 'low', 'close', 'volume'], options: { optInTimePeriod: 14 } },
      tulind: { name: 'mfi', inputs: ['high', 'low', 'close', 'volume'], options: [14] },
      ti: (d) =>
        TI.MFI.calculate({
          period: 14,
          high: Array.from(d.high),
          low: Array.from(d.low),
          close: Array.from(d.close),
          volume: Array.from(d.volume),
        }),
      ts: (_d, c) => feed(new TS.MFI(14), c),
    },
    {
      name: 'OBV',
      ours: (d, o) => obvBatch(d.close, d.volume, o[0]),
      talib: { name: 'OBV', inputs: ['inReal', 'volume'], options: {} },
      tulind: { name: 'obv', inputs: ['close', 'volume'], options: [] },
      ti: (d) => TI.OBV.calculate({ close: Array.from(d.close), volume: Array.from(d.volume) }),
      ts: (_d, c) => feed(new TS.OBV(2), c),
    },
    {
      name: 'ROC',
      ours: (d, o) => rocBatch(d.close, 10, o[0]),
      talib: { name: 'ROC', inputs: ['inReal'], options: { optInTimePeriod: 10 } },
      tulind: { name: 'roc', inputs: ['close'], options: [10] },
      ti: (d) => TI.ROC.calculate({ period: 10, values: Array.from(d.close) }),
      ts: (d) => feed(new TS.ROC(10), d.close),
    },
  ];
}

function slice(d: Data, n: number): Data {
  return {
    high: d.high.subarray(0, n),
    low: d.low.subarray(0, n),
    close: d.close.subarray(0, n),
    volume: d.volume.subarray(0, n),
  };
}

function finiteSum(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!)) s += x[i]!;
  return s;
}

/** The output the C program checksums for each indicator (MACD: histogram, BBANDS: upper, ADX: adx, STOCH: slowD). */
function lastOutput(name: string, outs: readonly [Float64Array, Float64Array, Float64Array]): Float64Array {
  if (name === 'MACD') return outs[2];
  if (name === 'STOCH') return outs[1];
  return outs[0];
}

/** Compiles the C reference into a temp dir and writes the input once; `run(name)` times one indicator. */
function prepareC(d: Data): { run(name: string): { ms: number; sum: number }; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ind-'));
  const bin = join(dir, 'indicators');
  execFileSync('gcc', ['-O2', '-o', bin, resolve(__dirname, 'c/indicators.c'), '-lm'], { stdio: 'inherit' });
  const input = join(dir, 'input.bin');
  const all = new Float64Array(4 * N);
  all.set(d.high, 0);
  all.set(d.low, N);
  all.set(d.close, 2 * N);
  all.set(d.volume, 3 * N);
  writeFileSync(input, Buffer.from(all.buffer));
  return {
    run(name: string) {
      const out = execFileSync(bin, [input, String(N), String(RUNS), name], { encoding: 'utf8' }).trim();
      const [, t, sum] = out.split(' ');
      return { ms: Number(t), sum: Number(sum) };
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function main(): Promise<void> {
  const d = generate(N);
  const small = slice(d, SLOW_N);
  const plain = {
    high: Array.from(d.high),
    low: Array.from(d.low),
    close: Array.from(d.close),
    volume: Array.from(d.volume),
  };
  const candles: Candle[] = Array.from({ length: SLOW_N }, (_, i) => ({
    open: small.close[i]!,
    high: small.high[i]!,
    low: small.low[i]!,
    close: small.close[i]!,
    volume: small.volume[i]!,
  }));
  console.log(
    `bench/indicators: ${N.toLocaleString()} bars; technicalindicators and trading-signals on ${SLOW_N.toLocaleString()} bars, scaled ×${N / SLOW_N}`,
  );
  console.log(
    'compiling bench/c/indicators.c with gcc -O2; C and our kernels run alternately per indicator…',
  );
  const cRef = prepareC(d);
  const outs = [new Float64Array(N), new Float64Array(N), new Float64Array(N)] as const;

  const rows: BenchRow[] = [];
  const table: Array<Record<string, unknown>> = [];
  const ratiosJs: number[] = [];
  const ratiosC: number[] = [];
  const barsPerS = (ms: number) => (N / ms) * 1000;
  // trading-signals is an ES module: load it with a dynamic import from this CommonJS file.
  const TS = await import('trading-signals');
  for (const c of cases(TS)) {
    c.ours(d, outs); // warm the JIT
    // C, ours and the JavaScript libraries alternate (ROUNDS rounds, medians) so all see the same machine load.
    c.ti(small);
    c.ts(small, candles);
    const oursRounds: number[] = [];
    const cRounds: number[] = [];
    const tiRounds: number[] = [];
    const tsRounds: number[] = [];
    let ref: number | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      const r = cRef.run(c.name);
      cRounds.push(r.ms);
      ref = r.sum;
      oursRounds.push(timeIt(() => void c.ours(d, outs), RUNS));
      tiRounds.push(timeIt(() => void c.ti(small), 1) * (N / SLOW_N));
      tsRounds.push(timeIt(() => void c.ts(small, candles), 1) * (N / SLOW_N));
    }
    const ours = median(oursRounds);
    const cLoop = median(cRounds);
    const ti = median(tiRounds);
    const tsMs = median(tsRounds);
    // Same numbers as the C loop (sum of the finite values of the reported output).
    const mine = finiteSum(lastOutput(c.name, outs));
    if (ref === undefined || Math.abs(mine - ref) > 1e-9 * Math.max(1, Math.abs(ref))) {
      throw new Error(`${c.name}: our kernel and the C loop disagree (checksum ${mine} vs ${ref})`);
    }
    const ta = timeIt(() => {
      const args: Record<string, unknown> = {
        name: c.talib.name,
        startIdx: 0,
        endIdx: N - 1,
        ...c.talib.options,
      };
      for (const k of c.talib.inputs) args[k] = k === 'inReal' ? plain.close : plain[k];
      if (c.talib.inputs.includes('high')) args.close = plain.close;
      talib.execute(args);
    }, 3);
    const tu = await timeItAsync(
      () =>
        new Promise<void>((res, rej) =>
          tulind.indicators[c.tulind.name]!.indicator(
            c.tulind.inputs.map((k) => plain[k]),
            c.tulind.options,
            (err) => (err ? rej(err instanceof Error ? err : new Error(String(err))) : res()),
          ),
        ),
      3,
    );
    const fastestJs =
      ti <= tsMs
        ? { name: 'technicalindicators (scaled)', ms: ti }
        : { name: 'trading-signals (scaled)', ms: tsMs };
    const vsJs = fastestJs.ms / ours;
    const vsC = cLoop / ours;
    ratiosJs.push(vsJs);
    ratiosC.push(vsC);
    table.push({
      indicator: c.name,
      ms: {
        ours,
        talib: ta,
        tulind: tu,
        technicalindicators_scaled: ti,
        trading_signals_scaled: tsMs,
        c_loop_gcc_O2: cLoop,
      },
      bars_per_s: {
        ours: barsPerS(ours),
        talib: barsPerS(ta),
        tulind: barsPerS(tu),
        technicalindicators_scaled: barsPerS(ti),
        trading_signals_scaled: barsPerS(tsMs),
        c_loop_gcc_O2: barsPerS(cLoop),
      },
    });
    rows.push({
      metric: `${c.name}_ratio_vs_fastest_js`,
      value: vsJs,
      unit: 'x (ours bars/s ÷ fastest JavaScript library bars/s)',
      peer: { name: fastestJs.name, value: Math.round(barsPerS(fastestJs.ms)) },
      ratio: vsJs,
      target: { op: '>=', value: 5 },
      note: `ours ${Math.round(barsPerS(ours))} bars/s (${ours.toFixed(2)} ms); talib ${ta.toFixed(1)} ms, tulind ${tu.toFixed(1)} ms, technicalindicators ${ti.toFixed(0)} ms (scaled), trading-signals ${tsMs.toFixed(0)} ms (scaled)`,
    });
    rows.push({
      metric: `${c.name}_ratio_vs_c_loop`,
      value: vsC,
      unit: 'ratio (ours bars/s ÷ gcc -O2 C loop bars/s)',
      peer: { name: 'C loop gcc -O2', value: Math.round(barsPerS(cLoop)) },
      ratio: vsC,
      target: { op: '>=', value: 0.5 },
      note: `C loop ${cLoop.toFixed(2)} ms, ours ${ours.toFixed(2)} ms`,
    });
  }
  cRef.dispose();
  rows.unshift(
    {
      metric: 'min_ratio_vs_fastest_js',
      value: Math.min(...ratiosJs),
      unit: 'x (ours bars/s ÷ fastest of technicalindicators, trading-signals)',
      target: { op: '>=', value: 5 },
      note: `median over indicators ${median(ratiosJs).toFixed(1)}x`,
    },
    {
      metric: 'min_ratio_vs_c_loop',
      value: Math.min(...ratiosC),
      unit: 'ratio (ours bars/s ÷ gcc -O2 C loop bars/s)',
      target: { op: '>=', value: 0.5 },
      note: `median over indicators ${median(ratiosC).toFixed(2)}`,
    },
  );
  console.table(
    table.map((t) => {
      const ms = t.ms as Record<string, number>;
      return Object.fromEntries([
        ['indicator', t.indicator],
        ...Object.entries(ms).map(([k, v]) => [`${k} ms`, v.toFixed(1)]),
      ]);
    }),
  );
  writeResults('indicators', rows, {
    bars: N,
    slow_library_bars: SLOW_N,
    slow_library_note: `technicalindicators and trading-signals ran on the first ${SLOW_N} bars; their times are scaled ×${N / SLOW_N}`,
    runs: RUNS,
    per_indicator: table,
  });
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
