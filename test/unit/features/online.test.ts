/**
 * Online features == the batch matrix: stepping bar by bar through OnlineFeatures gives, at every base
 * bar, exactly the row buildFeatureMatrix gives over the same bars — every row, every feature, bit for
 * bit (the Float64 values of computeTimeframeFeatures + alignToBase, and the matrix's Float32 values).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { syntheticMinuteBars } from '../../../src/data/synthetic';
import {
  CORE_FEATURE_SET,
  FEATURE_KINDS,
  FEATURE_SETS,
  OnlineFeatures,
  alignToBase,
  barsFromMinutes,
  buildFeatureMatrix,
  computeTimeframeFeatures,
  defaultCloseTime,
  defineFeatureSet,
  sessionKeyFor,
  type BarsByTimeframe,
  type FeatureDef,
  type FeatureMatrix,
  type FeatureSet,
  type OnlineBar,
  type OnlineInputs,
  type TimeframeBars,
} from '../../../src/features';
import { calendarFor } from '../../../src/market/calendar';
import { barsToColumns, type BarColumns } from '../../../src/model/bar';
import { ValidationError } from '../../../src/model/errors';
import { TIMEFRAMES, type Timeframe } from '../../../src/model/timeframe';
import { Aggregator, BarSeries } from '../../../src/trading/series';
import { sharedDataOrSkip } from '../../support/shared-data';

/** Kinds that need an optional input: given on the 1m bars only (as the store gives them). */
const NEEDS_INPUT = new Set<string>([
  'beta',
  'correl',
  'spreadBps',
  'quoteImbalance',
  'tradeImbalance',
  'optionsFlowImbalance',
  'optionsFlowActivity',
]);
const NO_PERIOD = new Set([
  'gap',
  'sessionGap',
  'minuteOfDaySin',
  'minuteOfDayCos',
  'macd',
  'macdHist',
  'vwapDist',
  'spreadBps',
  'quoteImbalance',
]);

/** Every feature kind (FEATURE_KINDS: a new kind is covered automatically) on every timeframe, short periods. */
function allKindsSet(withExtras: boolean): FeatureSet {
  return defineFeatureSet({
    name: `test-online-all-kinds${withExtras ? '' : '-plain'}`,
    baseTimeframe: '1m',
    features: TIMEFRAMES.flatMap((tf): FeatureDef[] =>
      FEATURE_KINDS.filter((k) => (NEEDS_INPUT.has(k) ? withExtras && tf === '1m' : true)).flatMap(
        (kind): FeatureDef[] => {
          if (kind === 'candle')
            return ['CDLENGULFING', 'CDLDOJI', 'CDLHAMMER'].map((pattern) => ({
              timeframe: tf,
              kind,
              pattern,
            }));
          if (NO_PERIOD.has(kind)) return [{ timeframe: tf, kind }];
          return [
            {
              timeframe: tf,
              kind,
              period: kind === 'stochRsiK' || kind === 'adx' || kind === 'diSpread' ? 3 : 4,
            },
          ];
        },
      ),
    ),
    labels: { horizons: [1], costBps: 1 },
  });
}

// ------------------------------------------------------------------------------------------ data

function columns(symbol: string, fromMs: number, toMs: number, seed: number): BarColumns {
  return barsToColumns(symbol, '1m', syntheticMinuteBars(symbol, fromMs, toMs, seed));
}

function pick(c: BarColumns, keep: (i: number) => boolean): BarColumns {
  const idx: number[] = [];
  for (let i = 0; i < c.ts.length; i++) if (keep(i)) idx.push(i);
  const take = (a: Float64Array) => Float64Array.from(idx, (i) => a[i]!);
  return {
    symbol: c.symbol,
    timeframe: c.timeframe,
    ts: take(c.ts),
    open: take(c.open),
    high: take(c.high),
    low: take(c.low),
    close: take(c.close),
    volume: take(c.volume),
  };
}

/** A seeded PRNG (mulberry32) for gaps and arrival orders. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Drops minutes: single minutes at random, a 20-minute block (a halt), the afternoon of one day and one
 * whole day, so higher-timeframe buckets are partial or missing.
 */
function withGaps(c: BarColumns, seed: number, pDrop = 0.02): BarColumns {
  const r = rng(seed);
  const days = [...new Set(Array.from(c.ts, (t) => Math.floor(t / 86_400_000)))];
  const wholeDay = days[Math.floor(days.length / 3)];
  const halfDay = days[Math.floor((2 * days.length) / 3)];
  const halt = Math.floor(c.ts.length / 2);
  return pick(c, (i) => {
    const t = c.ts[i]!;
    const day = Math.floor(t / 86_400_000);
    if (day === wholeDay) return false;
    if (day === halfDay && new Date(t).getUTCHours() >= 17) return false;
    if (i >= halt && i < halt + 20) return false;
    return r() >= pDrop;
  });
}

/**
 * Benchmark close (as of each bar) and quotes (some missing) on the 1m bars, as the batch path takes them.
 * (A NaN benchmark would be kept by BETA's and CORREL's running sums for good, online as in batch.)
 */
function withExtras(bars: BarsByTimeframe, bench: BarColumns): BarsByTimeframe {
  const m = bars['1m'];
  if (!m) return bars;
  const n = m.ts.length;
  const benchmark = new Float64Array(n);
  let j = -1;
  for (let i = 0; i < n; i++) {
    while (j + 1 < bench.ts.length && bench.ts[j + 1]! <= m.ts[i]!) j++;
    benchmark[i] = j >= 0 ? bench.close[j]! : NaN;
  }
  const bid = new Float64Array(n);
  const ask = new Float64Array(n);
  const bidSize = new Float64Array(n);
  const askSize = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const none = i % 53 === 7;
    bid[i] = none ? NaN : m.close[i]! - 0.01 * (1 + (i % 3));
    ask[i] = none ? NaN : m.close[i]! + 0.01 * (1 + (i % 2));
    bidSize[i] = 100 + (i % 5) * 100;
    askSize[i] = 100 + (i % 7) * 100;
  }
  return { ...bars, '1m': { ...m, benchmark, bid, ask, bidSize, askSize, ...tradesAndFlow(m) } };
}

/** Signed/total trade volume and options-flow columns derived from the bars (some bars without trades or flow). */
function tradesAndFlow(m: TimeframeBars) {
  const n = m.ts.length;
  const signedVolume = new Float64Array(n);
  const tradeVolume = new Float64Array(n);
  const callPremium = new Float64Array(n);
  const putPremium = new Float64Array(n);
  const flowAlerts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const traded = i % 31 < 25;
    tradeVolume[i] = traded ? m.volume[i]! : 0;
    signedVolume[i] = traded ? Math.sign(m.close[i]! - m.open[i]!) * 0.6 * m.volume[i]! : 0;
    const alerts = i % 17 === 3 ? 1 + (i % 3) : 0;
    flowAlerts[i] = alerts;
    callPremium[i] = alerts ? 25_000 * (1 + (i % 5)) : 0;
    putPremium[i] = alerts ? 30_000 * (1 + (i % 4)) : 0;
  }
  return { signedVolume, tradeVolume, callPremium, putPremium, flowAlerts };
}

// ------------------------------------------------------------------------------------------ reference

interface Reference {
  readonly m: FeatureMatrix;
  /** Row-major Float64 values: computeTimeframeFeatures' columns aligned with alignToBase. */
  readonly f64: Float64Array;
}

function reference(bars: BarsByTimeframe, set: FeatureSet, symbol: string): Reference {
  const m = buildFeatureMatrix(bars, set, { symbol });
  const f64 = new Float64Array(m.rows * m.cols).fill(NaN);
  for (const tf of set.timeframes) {
    const ks = set.features.flatMap((f, k) => (f.timeframe === tf ? [k] : []));
    if (ks.length === 0) continue;
    const cols = computeTimeframeFeatures(
      bars[tf]!,
      ks.map((k) => set.features[k]!),
      { sessionOf: sessionKeyFor(symbol) },
    );
    const map = tf === set.baseTimeframe ? null : alignToBase(m.availableAt, bars[tf]!, tf);
    ks.forEach((k, c) => {
      for (let i = 0; i < m.rows; i++) {
        const j = map ? map[i]! : i;
        if (j >= 0) f64[i * m.cols + k] = cols[c]![j]!;
      }
    });
  }
  // The Float64 reference is the matrix before its Float32 rounding.
  for (let x = 0; x < f64.length; x++)
    if (!Object.is(Math.fround(f64[x]!), m.values[x]!))
      assert.fail(`reference differs from the matrix at ${x}`);
  return { m, f64 };
}

function barAt(c: TimeframeBars, i: number): OnlineBar {
  return {
    ts: c.ts[i]!,
    open: c.open[i]!,
    high: c.high[i]!,
    low: c.low[i]!,
    close: c.close[i]!,
    volume: c.volume[i]!,
    benchmark: c.benchmark?.[i],
    bid: c.bid?.[i],
    ask: c.ask?.[i],
    bidSize: c.bidSize?.[i],
    askSize: c.askSize?.[i],
    signedVolume: c.signedVolume?.[i],
    tradeVolume: c.tradeVolume?.[i],
    callPremium: c.callPremium?.[i],
    putPremium: c.putPremium?.[i],
    flowAlerts: c.flowAlerts?.[i],
  };
}

interface StepOptions {
  readonly inputs?: OnlineInputs;
  /** Seeded random arrival order: higher-timeframe bars before or after the base bar, some early. */
  readonly shuffle?: number;
  /** Base rows fed through updateMany before stepping (a warm-up from stored history). */
  readonly warmUpRows?: number;
}

interface StepResult {
  readonly rows: number;
  readonly compared: number;
  readonly nonNaN: number;
  readonly online: OnlineFeatures;
}

/**
 * Steps OnlineFeatures through `bars` (each timeframe in order, timeframes interleaved by close time) and
 * compares its row with the reference at every base bar: Float64 and Float32 bit for bit.
 */
function stepAndCompare(
  bars: BarsByTimeframe,
  set: FeatureSet,
  symbol: string,
  opts: StepOptions = {},
): StepResult {
  const ref = reference(bars, set, symbol);
  const { m, f64 } = ref;
  const online = new OnlineFeatures(set, { symbol, inputs: opts.inputs });
  assert.deepEqual(online.names, set.names);
  assert.equal(online.version, set.version);
  const base = bars[set.baseTimeframe]!;
  const higher = set.timeframes.filter((tf) => tf !== set.baseTimeframe);
  const next = new Map<Timeframe, number>(higher.map((tf) => [tf, 0]));
  const r = opts.shuffle === undefined ? null : rng(opts.shuffle);
  let start = 0;
  if (opts.warmUpRows) {
    start = opts.warmUpRows;
    const cut = m.availableAt[start - 1]!;
    const head: BarsByTimeframe = {};
    for (const tf of set.timeframes) {
      const c = bars[tf]!;
      let n = 0;
      while (n < c.ts.length && defaultCloseTime(c.ts[n]!, tf) <= cut) n++;
      if (tf === set.baseTimeframe) n = start;
      head[tf] = sliceBars(c, n);
      if (tf !== set.baseTimeframe) next.set(tf, n);
    }
    online.updateMany(head);
  }
  const row = new Float64Array(m.cols);
  const row32 = new Float32Array(m.cols);
  let compared = 0;
  let nonNaN = 0;
  for (let i = start; i < m.rows; i++) {
    const t = m.availableAt[i]!;
    const feedClosed = () => {
      for (const tf of higher) {
        const c = bars[tf]!;
        let j = next.get(tf)!;
        while (j < c.ts.length && defaultCloseTime(c.ts[j]!, tf) <= t) {
          assert.equal(online.update(tf, barAt(c, j)), true);
          j++;
        }
        next.set(tf, j);
      }
    };
    if (r && r() < 0.5) feedClosed();
    assert.equal(online.update(set.baseTimeframe, barAt(base, i)), true);
    feedClosed();
    if (r && higher.length > 0 && r() < 0.1) {
      // A higher-timeframe bar that closes later arrives early: it must wait for its close.
      const tf = higher[Math.floor(r() * higher.length)]!;
      const j = next.get(tf)!;
      if (j < bars[tf]!.ts.length) {
        online.update(tf, barAt(bars[tf]!, j));
        next.set(tf, j + 1);
      }
    }
    assert.equal(online.ts, m.ts[i]);
    online.row(row);
    online.row32(row32);
    for (let k = 0; k < m.cols; k++) {
      const want = f64[i * m.cols + k]!;
      if (!Object.is(row[k], want) || !Object.is(row32[k], m.values[i * m.cols + k]))
        assert.fail(
          `row ${i} (${new Date(m.ts[i]!).toISOString()}) feature ${m.names[k]}: online ${row[k]} (f32 ${row32[k]}), batch ${want} (f32 ${m.values[i * m.cols + k]})`,
        );
      if (!Number.isNaN(want)) nonNaN++;
      compared++;
    }
  }
  return { rows: m.rows - start, compared, nonNaN, online };
}

function sliceBars(c: TimeframeBars, n: number): TimeframeBars {
  const s = (a: Float64Array | undefined) => a?.subarray(0, n);
  return {
    timeframe: c.timeframe,
    ts: s(c.ts)!,
    open: s(c.open)!,
    high: s(c.high)!,
    low: s(c.low)!,
    close: s(c.close)!,
    volume: s(c.volume)!,
    benchmark: s(c.benchmark),
    bid: s(c.bid),
    ask: s(c.ask),
    bidSize: s(c.bidSize),
    askSize: s(c.askSize),
    signedVolume: s(c.signedVolume),
    tradeVolume: s(c.tradeVolume),
    callPremium: s(c.callPremium),
    putPremium: s(c.putPremium),
    flowAlerts: s(c.flowAlerts),
  };
}

/** Every column (but `except`) has real values in the compared rows, so equality is not NaN == NaN. */
function assertColumnsLive(
  bars: BarsByTimeframe,
  set: FeatureSet,
  symbol: string,
  minShare: number,
  except: readonly string[] = [],
): void {
  const m = buildFeatureMatrix(bars, set, { symbol });
  for (let k = 0; k < m.cols; k++) {
    if (except.includes(m.names[k]!)) continue;
    let live = 0;
    for (let i = 0; i < m.rows; i++) if (!Number.isNaN(m.values[i * m.cols + k]!)) live++;
    assert.ok(live >= minShare * m.rows, `${m.names[k]}: only ${live}/${m.rows} rows have a value`);
  }
}

// ------------------------------------------------------------------------------------------ tests

const ALL = allKindsSet(true);
const FROM = Date.UTC(2024, 2, 1);
const TO = Date.UTC(2024, 2, 22); // across the US DST change (10 March)
const ALL_INPUTS: OnlineInputs = { benchmark: true, quotes: true, trades: true, optionsFlow: true };

describe('online features: equal to the batch matrix, row for row', () => {
  test('when stepping synthetic bars with gaps through every feature kind on every timeframe, then every row equals the batch row bit for bit', () => {
    const minutes = withGaps(columns('TEST', FROM, TO, 7), 11);
    const bars = withExtras(barsFromMinutes(minutes, ALL.timeframes), columns('SPY', FROM, TO, 8));
    // MACD's fixed 12/26/9 needs 35 daily bars: the core-set test below has those.
    assertColumnsLive(bars, ALL, 'TEST', 0.1, ['1d:macd', '1d:macdHist']);
    const r = stepAndCompare(bars, ALL, 'TEST', { inputs: ALL_INPUTS });
    assert.equal(r.rows, minutes.ts.length);
    assert.ok(r.nonNaN > 0.8 * r.compared, `${r.nonNaN}/${r.compared} compared values are not NaN`);
  });

  test('when the core set is stepped over four months with gaps, after a warm-up from history, then every row equals the batch row', () => {
    const set = CORE_FEATURE_SET;
    const minutes = withGaps(columns('CORE', Date.UTC(2024, 0, 2), Date.UTC(2024, 4, 1), 21), 5, 0.01);
    const bars = barsFromMinutes(minutes, set.timeframes);
    const r = stepAndCompare(bars, set, 'CORE', { warmUpRows: 5000, shuffle: 3 });
    assert.equal(set.names.length, 87);
    assert.equal(r.online.ready(), true, 'every core feature is warm at the end');
    assert.ok(r.nonNaN > 0.6 * r.compared, `${r.nonNaN}/${r.compared} compared values are not NaN`);
  });

  test('when gaps and arrival orders are random (property), then the online rows equal the batch rows', () => {
    const plain = allKindsSet(false);
    const full = columns('PROP', Date.UTC(2024, 3, 1), Date.UTC(2024, 3, 13), 5);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        (gapSeed, pDrop, orderSeed) => {
          const minutes = withGaps(full, gapSeed, pDrop);
          stepAndCompare(barsFromMinutes(minutes, plain.timeframes), plain, 'PROP', { shuffle: orderSeed });
        },
      ),
      { numRuns: 6, seed: 1414 },
    );
  });

  for (const set of Object.values(FEATURE_SETS)) {
    test(`when the built-in set ${set.name} is stepped (inputs it may need on the 1m bars), then every row equals the batch row`, () => {
      // a daily set's slowest feature (a 200-day average) needs most of a year of sessions before it is warm
      const from = set.baseTimeframe === '1d' ? Date.UTC(2023, 4, 1) : Date.UTC(2024, 4, 1);
      const minutes = withGaps(columns('SET', from, Date.UTC(2024, 4, 15), 12), 4);
      const bars = withExtras(barsFromMinutes(minutes, set.timeframes), columns('SPY', FROM, TO, 8));
      const r = stepAndCompare(bars, set, 'SET', { inputs: ALL_INPUTS, shuffle: 5 });
      assert.ok(r.nonNaN > 0.3 * r.compared, `${r.nonNaN}/${r.compared} compared values are not NaN`);
    });
  }

  test('when the symbol is crypto (24/7, UTC sessions), then the online rows equal the batch rows', () => {
    const plain = allKindsSet(false);
    const minutes = withGaps(columns('BTCUSD', Date.UTC(2024, 1, 1), Date.UTC(2024, 1, 9), 3), 9);
    const r = stepAndCompare(barsFromMinutes(minutes, plain.timeframes), plain, 'BTCUSD', { shuffle: 9 });
    assert.ok(r.rows > 8_000, `${r.rows} rows`);
  });

  test('when the higher timeframes come from the kernel aggregator as each bucket closes, then the rows equal the batch rows', () => {
    // The trading kernel builds 5m…1d from 1m as they close (src/trading/series.ts); a session feeds those.
    const set = CORE_FEATURE_SET;
    // (Before the DST change: 1d:relVolume_20 keys daily bars by their New York minute, which moves with DST.)
    const minutes = withGaps(columns('KRN', Date.UTC(2024, 0, 2), Date.UTC(2024, 2, 8), 4), 6, 0.01);
    const ref = reference(barsFromMinutes(minutes, set.timeframes), set, 'KRN');
    const cal = calendarFor('KRN');
    const aggs = set.timeframes
      .filter((tf) => tf !== '1m')
      .map((tf) => new Aggregator(new BarSeries('KRN', tf, cal), cal));
    const online = new OnlineFeatures(set, { symbol: 'KRN' });
    const seen = new Map(aggs.map((a) => [a, 0]));
    const publish = () => {
      for (const a of aggs) {
        const s = a.target;
        for (let j = seen.get(a)!; j < s.n; j++) online.update(s.timeframe, barAt(s.columns(), j));
        seen.set(a, s.n);
      }
    };
    const row = new Float32Array(ref.m.cols);
    for (let i = 0; i < minutes.ts.length; i++) {
      const b = barAt(minutes, i);
      for (const a of aggs) a.add(b.ts, b.open, b.high, b.low, b.close, b.volume);
      const now = b.ts + 60_000;
      for (const a of aggs) a.closeDue(now);
      online.update('1m', b);
      publish();
      online.row32(row);
      for (let k = 0; k < ref.m.cols; k++)
        if (!Object.is(row[k], ref.m.values[i * ref.m.cols + k]))
          assert.fail(
            `row ${i} ${ref.m.names[k]}: online ${row[k]}, batch ${ref.m.values[i * ref.m.cols + k]}`,
          );
    }
    assert.equal(online.ready(), true);
  });
});

describe('online features: real data (../shared/data lean_equity_usa 1min)', () => {
  function readGz(path: string): string[] {
    return gunzipSync(readFileSync(path)).toString('utf8').split('\n').slice(1).filter(Boolean);
  }
  function readMinutes(dir: string, symbol: string): BarColumns {
    const lines = readGz(join(dir, 'lean_equity_usa/1min', `${symbol}.csv.gz`));
    const rows = lines.map((l) => l.split(','));
    const col = (k: number) => Float64Array.from(rows, (r) => Number(r[k]));
    return {
      symbol,
      timeframe: '1m',
      ts: Float64Array.from(rows, (r) => Date.parse(r[0]!)),
      open: col(1),
      high: col(2),
      low: col(3),
      close: col(4),
      volume: col(5),
    };
  }
  /** Last quote at or before each bar's ts (NaN before the first). */
  function quotesFor(dir: string, symbol: string, ts: Float64Array) {
    const rows = readGz(join(dir, 'lean_equity_usa/1min_quote', `${symbol}.csv.gz`)).map((l) => l.split(','));
    const qts = rows.map((r) => Date.parse(r[0]!));
    const out = { bid: new Float64Array(ts.length), ask: new Float64Array(ts.length) };
    const sizes = { bidSize: new Float64Array(ts.length), askSize: new Float64Array(ts.length) };
    let j = -1;
    for (let i = 0; i < ts.length; i++) {
      while (j + 1 < qts.length && qts[j + 1]! <= ts[i]!) j++;
      const q = j >= 0 ? rows[j]! : null;
      out.bid[i] = q && q[1] !== '' ? Number(q[1]) : NaN;
      out.ask[i] = q && q[2] !== '' ? Number(q[2]) : NaN;
      sizes.bidSize[i] = q ? Number(q[3]) : NaN;
      sizes.askSize[i] = q ? Number(q[4]) : NaN;
    }
    return { ...out, ...sizes };
  }

  for (const symbol of ['IBM', 'AIG', 'BAC', 'AAPL']) {
    test(`when ${symbol}'s real minutes are stepped with the core set, then every row equals the batch row bit for bit`, (t) => {
      const dir = sharedDataOrSkip(t);
      if (!dir) return;
      const minutes = readMinutes(dir, symbol);
      const bars = barsFromMinutes(minutes, CORE_FEATURE_SET.timeframes);
      const r = stepAndCompare(bars, CORE_FEATURE_SET, symbol, { shuffle: 17 });
      assert.equal(r.rows, minutes.ts.length);
      assert.ok(r.rows > 2000, `${r.rows} rows`);
      assert.ok(r.nonNaN > 0.5 * r.compared, `${r.nonNaN}/${r.compared} compared values are not NaN`);
    });
  }

  test('when real minutes come with the SPY benchmark and real quotes, then every kind (beta, correl, spread, quote imbalance, trade flow, trade imbalance, options flow) matches', (t) => {
    const dir = sharedDataOrSkip(t);
    if (!dir) return;
    const minutes = readMinutes(dir, 'IBM');
    const spy = readMinutes(dir, 'SPY');
    const q = quotesFor(dir, 'IBM', minutes.ts);
    const bars = barsFromMinutes(minutes, ALL.timeframes);
    const m = bars['1m']!;
    const benchmark = new Float64Array(m.ts.length);
    let j = -1;
    for (let i = 0; i < m.ts.length; i++) {
      while (j + 1 < spy.ts.length && spy.ts[j + 1]! <= m.ts[i]!) j++;
      benchmark[i] = j >= 0 ? spy.close[j]! : NaN;
    }
    // (No trades or options flow in this data set: those columns are derived from the bars.)
    const withInputs: BarsByTimeframe = { ...bars, '1m': { ...m, benchmark, ...q, ...tradesAndFlow(m) } };
    const r = stepAndCompare(withInputs, ALL, 'IBM', { inputs: ALL_INPUTS, shuffle: 23 });
    assert.ok(r.nonNaN > 0.5 * r.compared, `${r.nonNaN}/${r.compared} compared values are not NaN`);
  });
});

describe('online features: inputs, bad bars, readiness', () => {
  const set = defineFeatureSet({
    name: 'test-online-beta',
    baseTimeframe: '1m',
    features: [
      { timeframe: '1m', kind: 'rsi', period: 4 },
      { timeframe: '1m', kind: 'beta', period: 5 },
      { timeframe: '5m', kind: 'emaDist', period: 3 },
    ],
    labels: { horizons: [1], costBps: 1 },
  });

  test('when a feature needs the benchmark and the online path is not given it, then construction fails naming the feature, as the batch path fails', () => {
    assert.throws(
      () => new OnlineFeatures(set, { symbol: 'X' }),
      (e: unknown) =>
        e instanceof ValidationError && e.field === 'inputs.benchmark' && /feature 1m:beta_5/.test(e.message),
    );
    const quotes = defineFeatureSet({
      ...set,
      name: 'q',
      features: [{ timeframe: '1m', kind: 'spreadBps' }],
    });
    assert.throws(
      () => new OnlineFeatures(quotes, { symbol: 'X' }),
      /feature 1m:spreadBps of set q@[0-9a-f]+ needs bid, ask, bidSize, askSize/,
    );
    const minutes = columns('X', FROM, FROM + 3 * 86_400_000, 1);
    assert.throws(() => buildFeatureMatrix(barsFromMinutes(minutes, set.timeframes), set), /needs benchmark/);
  });

  test('when a bar is bad or lacks its declared input, then it is refused naming the field and the state is unchanged', () => {
    const minutes = columns('X', FROM, FROM + 5 * 86_400_000, 1);
    const bars = withExtras(barsFromMinutes(minutes, set.timeframes), columns('SPY', FROM, TO, 8));
    const ref = reference(bars, set, 'X');
    const f = new OnlineFeatures(set, { symbol: 'X', inputs: { benchmark: true } });
    const m1 = bars['1m']!;
    const m5 = bars['5m']!;
    let j5 = 0;
    for (let i = 0; i < m1.ts.length; i++) {
      const good = barAt(m1, i);
      if (i === 100) {
        for (const [field, bad] of [
          ['close', { ...good, close: NaN }],
          ['high', { ...good, high: -1 }],
          ['volume', { ...good, volume: Infinity }],
          ['benchmark', { ...good, benchmark: undefined }],
          ['ts', { ...good, ts: NaN }],
        ] as const) {
          assert.throws(
            () => f.update('1m', bad),
            (e: unknown) => e instanceof ValidationError && e.field === `bar[1m].${field}`,
            field,
          );
        }
      }
      assert.equal(f.update('1m', good), true);
      if (i === 200) {
        assert.equal(f.update('1m', good), false, 'the same bar again is ignored');
        assert.equal(f.update('1m', barAt(m1, i - 1)), false, 'an older bar is ignored');
        assert.equal(f.update('1h', good), false, 'a timeframe the set does not use is ignored');
      }
      while (j5 < m5.ts.length && m5.ts[j5]! + 300_000 <= ref.m.availableAt[i]!)
        f.update('5m', barAt(m5, j5++));
      const row = f.row32();
      for (let k = 0; k < set.names.length; k++)
        assert.ok(Object.is(row[k], ref.m.values[i * ref.m.cols + k]), `row ${i} ${set.names[k]}`);
    }
  });

  test('when warming up, then ready() is false until no feature of the row is NaN, and the vector carries the newest base bar', () => {
    const minutes = columns('X', FROM, FROM + 3 * 86_400_000, 2);
    const bars = barsFromMinutes(minutes, ['1m', '5m']);
    const plain = defineFeatureSet({
      name: 'test-online-ready',
      baseTimeframe: '1m',
      features: [
        { timeframe: '1m', kind: 'rsi', period: 4 },
        { timeframe: '5m', kind: 'emaDist', period: 3 },
      ],
      labels: { horizons: [1], costBps: 1 },
    });
    const f = new OnlineFeatures(plain, { symbol: 'X' });
    assert.equal(f.ready(), false);
    assert.equal(f.vector(), null);
    assert.ok(Number.isNaN(f.ts));
    const ref = buildFeatureMatrix(bars, plain, { symbol: 'X' });
    const firstFull = Array.from({ length: ref.rows }, (_, i) => i).find(
      (i) => !Number.isNaN(ref.values[i * 2]!) && !Number.isNaN(ref.values[i * 2 + 1]!),
    )!;
    let j = 0;
    for (let i = 0; i <= firstFull; i++) {
      assert.equal(f.ready(), false, `row ${i - 1}`);
      f.update('1m', barAt(bars['1m']!, i));
      while (j < bars['5m']!.ts.length && bars['5m']!.ts[j]! + 300_000 <= ref.availableAt[i]!)
        f.update('5m', barAt(bars['5m']!, j++));
    }
    assert.equal(f.ready(), true);
    const v = f.vector()!;
    assert.equal(v.ts, ref.ts[firstFull]);
    assert.equal(v.timeframe, '1m');
    assert.equal(v.version, plain.version);
    assert.deepEqual(Array.from(v.values), Array.from(ref.values.subarray(firstFull * 2, firstFull * 2 + 2)));
  });
});
