/**
 * Online features: the feature matrix row of the newest base bar, computed incrementally as bars close.
 *
 * Each feature kind keeps the streaming state of the indicator its batch formula (compute.ts) runs — the
 * incremental classes and states of src/indicators, which perform the batch kernels' floating-point
 * operations in the same order — and applies the same scalar post-processing (÷ close, × 0.01, band
 * position …). A higher-timeframe column takes the value of the last bar of that timeframe whose close
 * (`closeTimeOf`, as buildFeatureMatrix) is at or before the base bar's close. So stepping through bars
 * gives, row for row, the Float64 values computeTimeframeFeatures + alignToBase give, and `row32()` is
 * bit for bit the Float32 row of buildFeatureMatrix (test/unit/features/online.test.ts checks every
 * feature of every row, on real and synthetic data with gaps). Per bar the work is O(1) in the length of
 * the history (O(period) for the windowed statistics, as in their incremental classes).
 *
 *   const f = new OnlineFeatures(CORE_FEATURE_SET, { symbol: 'AAPL' });
 *   f.updateMany(history);                  // warm-up from stored bars (BarsByTimeframe), oldest first
 *   f.update('1m', bar);                    // each bar as it closes, every timeframe the set uses
 *   f.update('5m', fiveMinuteBar);          // (feed all bars closed by T before reading the row at T)
 *   const x = f.row32();                    // what training saw: buildFeatureMatrix's Float32 row
 */
import { newYorkMinuteOfDay } from '../indicators/clock';
import { candlePattern, CandlePatternIndicator } from '../indicators/candles';
import { RingBuffer, requirePeriod, type Indicator, type IndicatorInput } from '../indicators/core';
import { quoteFeatures, GapState, TradeFlowState } from '../indicators/microstructure';
import { DEMA, KAMA, TEMA, WMA } from '../indicators/moving-averages';
import {
  CciState,
  MACD,
  MOM,
  ROC,
  RsiState,
  STOCH,
  STOCHF,
  StochRsiState,
  WILLR,
} from '../indicators/oscillators';
import { BlockEmaState, SmaState } from '../indicators/primitives';
import { BETA, CorrelState } from '../indicators/stats';
import { ADX, AROON } from '../indicators/trend';
import { BBANDS, Donchian, Keltner, NATR, RealizedVol, ZScore } from '../indicators/volatility';
import { AD, AdoscState, MfiState, OBV, RelVolState, VwapState } from '../indicators/volume';
import { ValidationError } from '../model/errors';
import { timeframeRank, type Timeframe } from '../model/timeframe';
import type { KeyValueCache } from '../storage/cache';
import { featurePeriod, sessionKeyFor, type ComputeContext, type TimeframeBars } from './compute';
import { featureName, type FeatureDef, type FeatureKind, type FeatureSet } from './definition';
import { defaultCloseTime, type BarsByTimeframe, type BuildOptions } from './matrix';
import { putOnlineVectors, type FeatureVector } from './store';

/**
 * One closed bar of a timeframe with the optional inputs as the batch path takes them (TimeframeBars'
 * columns, one value each): benchmark close, last quote, the bar's signed and total trade volume, its
 * options-flow premiums and alerts.
 */
export interface OnlineBar extends IndicatorInput {
  readonly signedVolume?: number;
  readonly tradeVolume?: number;
  readonly callPremium?: number;
  readonly putPremium?: number;
  readonly flowAlerts?: number;
}

/** Optional inputs the caller will give with each bar (the batch path's TimeframeBars.benchmark / bid / ask / …). */
export interface OnlineInputs {
  /** Every bar carries `benchmark`: the benchmark's close at the bar's ts (NaN where it has no bar). */
  readonly benchmark?: boolean;
  /** Every bar carries `bid`, `ask`, `bidSize`, `askSize`: the last quote at the bar's close (NaN where none). */
  readonly quotes?: boolean;
  /** Every bar carries `signedVolume` and `tradeVolume` (its trades signed by the quote rule, and their size). */
  readonly trades?: boolean;
  /** Every bar carries `callPremium`, `putPremium` and `flowAlerts` (its options-flow alerts). */
  readonly optionsFlow?: boolean;
}

/** The bar fields each optional input consists of (the batch path's TimeframeBars columns). */
const INPUT_FIELDS = {
  benchmark: ['benchmark'],
  quotes: ['bid', 'ask', 'bidSize', 'askSize'],
  trades: ['signedVolume', 'tradeVolume'],
  optionsFlow: ['callPremium', 'putPremium', 'flowAlerts'],
} as const satisfies Record<keyof OnlineInputs, readonly (keyof OnlineBar)[]>;

const INPUT_HELP: Record<keyof OnlineInputs, string> = {
  benchmark: 'give the benchmark close at the bar (NaN where it has none)',
  quotes: 'give the last quote at the bar close (NaN where none)',
  trades: "give the bar's signed and total trade volume (0 without trades)",
  optionsFlow: "give the bar's options-flow call/put premium and alert count (0 without alerts)",
};

export interface OnlineFeaturesOptions extends BuildOptions {
  readonly inputs?: OnlineInputs;
}

/** Feature kinds that read an optional input; the batch path throws when the column is missing. */
const NEEDS: Partial<Record<FeatureKind, keyof OnlineInputs>> = {
  beta: 'benchmark',
  correl: 'benchmark',
  spreadBps: 'quotes',
  quoteImbalance: 'quotes',
  tradeImbalance: 'trades',
  optionsFlowImbalance: 'optionsFlow',
  optionsFlowActivity: 'optionsFlow',
};

/** Computes one feature's value at each new bar of its timeframe; called exactly once per bar, in order. */
type Column = (b: OnlineBar, i: number) => number;

/** A mutable input for indicators fed a derived series through `close` (z-scores of OBV, A/D, log volume). */
interface DerivedInput {
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

function derivedInput(): DerivedInput {
  return { ts: 0, open: NaN, high: NaN, low: NaN, close: NaN, volume: NaN };
}

/** compute.ts's band position (0.5 for an empty band), per value. */
function position(close: number, upper: number, lower: number): number {
  const w = upper - lower;
  return w > 0 ? (close - lower) / w : Number.isNaN(w) ? NaN : 0.5;
}

/**
 * The features of ONE timeframe at its newest bar. Indicators shared between features (MACD line and
 * histogram, Bollinger %B and width, ADX and DI spread, stochastic K and D, gaps, quotes) run once per
 * bar, as the batch path memoises them.
 */
class TimeframeFeatures {
  readonly values: Float64Array;
  /** Bars accepted so far (the batch kernels' i of the next bar). */
  count = 0;
  lastTs = -Infinity;
  private readonly steps: Array<(b: OnlineBar) => void> = [];
  private readonly shared = new Map<string, unknown>();
  private readonly columns: Column[];

  constructor(
    readonly timeframe: Timeframe,
    defs: readonly FeatureDef[],
    private readonly ctx: Required<ComputeContext>,
  ) {
    this.columns = defs.map((d) => this.column(d));
    this.values = new Float64Array(defs.length).fill(NaN);
  }

  update(b: OnlineBar): void {
    const i = this.count;
    for (const s of this.steps) s(b);
    const cols = this.columns;
    for (let k = 0; k < cols.length; k++) this.values[k] = cols[k]!(b, i);
    this.count = i + 1;
    this.lastTs = b.ts;
  }

  /** An indicator shared by every feature that asks for `key`, updated once per bar before any column. */
  private indicator<T extends Indicator>(key: string, make: () => T): T {
    let ind = this.shared.get(key) as T | undefined;
    if (!ind) {
      const created = make();
      this.shared.set(key, (ind = created));
      this.steps.push((b) => void created.update(b));
    }
    return ind;
  }

  /** Shared state with its own per-bar step (states that are not IndicatorBase classes). */
  private state<T>(key: string, make: () => { state: T; step: (b: OnlineBar) => void }): T {
    let s = this.shared.get(key) as T | undefined;
    if (s === undefined) {
      const m = make();
      this.shared.set(key, (s = m.state));
      this.steps.push(m.step);
    }
    return s;
  }

  /** A z-score of a series derived from each bar (zScoreBatch over it). */
  private zOf(p: number, value: (b: OnlineBar) => number): Column {
    const z = new ZScore(p);
    const d = derivedInput();
    return (b) => {
      d.ts = b.ts;
      d.close = value(b);
      z.update(d);
      return z.outputs[0]!;
    };
  }

  /** The streaming form of computeTimeframeFeatures' case for `def` (same operations, same order). */
  private column(def: FeatureDef): Column {
    const p = featurePeriod(def);
    const { sessionOf } = this.ctx;
    switch (def.kind) {
      case 'logReturn': {
        const ring = new RingBuffer(p + 1);
        return (b, i) => {
          ring.push(b.close);
          return i < p ? NaN : Math.log(b.close / ring.ago(p));
        };
      }
      case 'rsi': {
        const s = new RsiState(requirePeriod('RSI', 'period', p, 2));
        return (b) => s.push(b.close) * 0.01;
      }
      case 'macd':
      case 'macdHist': {
        const m = this.indicator('macd', () => new MACD(12, 26, 9));
        const k = def.kind === 'macd' ? 0 : 2;
        return (b) => m.outputs[k]! / b.close;
      }
      case 'natr': {
        const n = new NATR(p);
        return (b) => {
          n.update(b);
          return n.outputs[0]! * 0.01;
        };
      }
      case 'bbPctB':
      case 'bbWidth': {
        const bb = this.indicator(`bb${p}`, () => new BBANDS(p, 2, 2));
        const o = bb.outputs;
        if (def.kind === 'bbPctB') return (b) => position(b.close, o[0]!, o[2]!);
        return () => (o[0]! - o[2]!) / o[1]!;
      }
      case 'keltnerPos': {
        const kc = new Keltner(p, 10, 2);
        return (b) => {
          kc.update(b);
          return position(b.close, kc.outputs[0]!, kc.outputs[2]!);
        };
      }
      case 'donchianPos': {
        const dc = new Donchian(p);
        return (b) => {
          dc.update(b);
          return position(b.close, dc.outputs[0]!, dc.outputs[2]!);
        };
      }
      case 'adx':
      case 'diSpread': {
        const o = this.indicator(`adx${p}`, () => new ADX(p)).outputs;
        if (def.kind === 'adx') return () => o[0]! * 0.01;
        return () => (o[1]! - o[2]!) / 100;
      }
      case 'aroonOsc': {
        const a = new AROON(p);
        return (b) => {
          a.update(b);
          return (a.outputs[1]! - a.outputs[0]!) / 100;
        };
      }
      case 'cci': {
        const s = new CciState(requirePeriod('CCI', 'period', p, 2));
        return (b) => s.push(b.high, b.low, b.close) * 0.01;
      }
      case 'mfi': {
        const s = new MfiState(requirePeriod('MFI', 'period', p, 2));
        return (b) => s.push(b.high, b.low, b.close, b.volume) * 0.01;
      }
      case 'roc': {
        const r = new ROC(p);
        return (b) => {
          r.update(b);
          return r.outputs[0]! * 0.01;
        };
      }
      case 'mom': {
        const m = new MOM(p);
        return (b) => {
          m.update(b);
          return m.outputs[0]! / b.close;
        };
      }
      case 'willr': {
        const w = new WILLR(p);
        return (b) => {
          w.update(b);
          return w.outputs[0]! * 0.01;
        };
      }
      case 'stochK':
      case 'stochD': {
        const o = this.indicator(`stoch${p}`, () => new STOCH(p, 3, 3)).outputs;
        const k = def.kind === 'stochK' ? 0 : 1;
        return () => o[k]! * 0.01;
      }
      case 'stochfK': {
        const s = new STOCHF(p, 3);
        return (b) => {
          s.update(b);
          return s.outputs[0]! * 0.01;
        };
      }
      case 'stochRsiK': {
        const s = new StochRsiState(p, 5, 3);
        const out = new Float64Array(2);
        return (b) => (s.push(b.close, out) ? out[0]! * 0.01 : NaN);
      }
      case 'obvZ': {
        const obv = new OBV();
        return this.zOf(p, (b) => {
          obv.update(b);
          return obv.outputs[0]!;
        });
      }
      case 'adLineZ': {
        const ad = new AD();
        return this.zOf(p, (b) => {
          ad.update(b);
          return ad.outputs[0]!;
        });
      }
      case 'adoscNorm': {
        const a = new AdoscState(requirePeriod('ADOSC', 'fast', 3, 2), requirePeriod('ADOSC', 'slow', 10, 2));
        const v = new SmaState(requirePeriod('SMA', 'period', p));
        return (b) => {
          const osc = a.push(b.high, b.low, b.close, b.volume);
          const avg = v.push(b.volume);
          return avg > 0 ? osc / avg : 0;
        };
      }
      case 'vwapDist': {
        const s = new VwapState(sessionOf);
        return (b) => b.close / s.push(b.ts, b.high, b.low, b.close, b.volume) - 1;
      }
      case 'rvCloseToClose':
      case 'rvParkinson':
      case 'rvGarmanKlass': {
        const kind =
          def.kind === 'rvCloseToClose'
            ? 'closeToClose'
            : def.kind === 'rvParkinson'
              ? 'parkinson'
              : 'garmanKlass';
        const rv = new RealizedVol(kind, p);
        return (b) => {
          rv.update(b);
          return rv.outputs[0]!;
        };
      }
      case 'zClose': {
        const z = new ZScore(p);
        return (b) => {
          z.update(b);
          return z.outputs[0]!;
        };
      }
      case 'smaDist': {
        const s = new SmaState(requirePeriod('SMA', 'period', p));
        return (b) => b.close / s.push(b.close) - 1;
      }
      case 'emaDist': {
        const e = new BlockEmaState(requirePeriod('EMA', 'period', p));
        return (b) => b.close / e.push(b.close) - 1;
      }
      case 'wmaDist':
      case 'demaDist':
      case 'temaDist':
      case 'kamaDist': {
        const ma =
          def.kind === 'wmaDist'
            ? new WMA(p)
            : def.kind === 'demaDist'
              ? new DEMA(p)
              : def.kind === 'temaDist'
                ? new TEMA(p)
                : new KAMA(p);
        return (b) => {
          ma.update(b);
          return b.close / ma.outputs[0]! - 1;
        };
      }
      case 'relVolume': {
        const s = new RelVolState(requirePeriod('RelativeVolume', 'days', p), newYorkMinuteOfDay);
        return (b) => s.push(b.ts, b.volume);
      }
      case 'volumeZ':
        return this.zOf(p, (b) => Math.log1p(b.volume));
      case 'gap':
      case 'sessionGap': {
        const out = this.state('gap', () => {
          const s = new GapState(sessionOf);
          const o = new Float64Array(2);
          return { state: o, step: (b: OnlineBar) => s.push(b.ts, b.open, b.close, o) };
        });
        const k = def.kind === 'gap' ? 0 : 1;
        return () => out[k]!;
      }
      case 'minuteOfDaySin':
      case 'minuteOfDayCos': {
        const f = def.kind === 'minuteOfDaySin' ? Math.sin : Math.cos;
        return (b) => f((2 * Math.PI * newYorkMinuteOfDay(b.ts)) / 1440);
      }
      case 'candle': {
        const c = new CandlePatternIndicator(candlePattern(def.pattern ?? ''));
        return (b) => {
          c.update(b);
          return c.outputs[0]! * 0.01;
        };
      }
      case 'beta': {
        const beta = new BETA(p);
        return (b) => {
          beta.update(b);
          return beta.outputs[0]!;
        };
      }
      case 'correl': {
        const s = new CorrelState(requirePeriod('CORREL', 'period', p));
        let prevClose = NaN;
        let prevBench = NaN;
        return (b, i) => {
          const bench = b.benchmark!;
          // correlBatch over log returns whose first value is padded with 0 …
          const r = s.push(
            i === 0 ? 0 : Math.log(b.close / prevClose),
            i === 0 ? 0 : Math.log(bench / prevBench),
          );
          prevClose = b.close;
          prevBench = bench;
          // … and the first window, which holds the padding, is NaN.
          return i === p - 1 ? NaN : r;
        };
      }
      case 'spreadBps':
      case 'quoteImbalance': {
        const q = this.state('quote', () => {
          const o = new Float64Array(4);
          return {
            state: o,
            step: (b: OnlineBar) => quoteFeatures(b.bid!, b.ask!, b.bidSize!, b.askSize!, o),
          };
        });
        const k = def.kind === 'spreadBps' ? 2 : 3;
        return () => q[k]!;
      }
      case 'tradeFlow': {
        const s = new TradeFlowState(requirePeriod('TradeFlowImbalance', 'window', p));
        return (b) => s.push(b.close, b.volume, b.bid ?? NaN, b.ask ?? NaN);
      }
      case 'tradeImbalance': {
        const signed = new SmaState(requirePeriod('SMA', 'period', p));
        const size = new SmaState(p);
        return (b) => {
          const s = signed.push(b.signedVolume!);
          const v = size.push(b.tradeVolume!);
          return v > 0 ? s / v : NaN;
        };
      }
      case 'optionsFlowImbalance': {
        const calls = new SmaState(requirePeriod('SMA', 'period', p));
        const puts = new SmaState(p);
        return (b) => {
          const c = calls.push(b.callPremium!);
          const u = puts.push(b.putPremium!);
          return c + u > 0 ? (c - u) / (c + u) : NaN;
        };
      }
      case 'optionsFlowActivity': {
        const alerts = new SmaState(requirePeriod('SMA', 'period', p));
        return (b) => Math.log1p(alerts.push(b.flowAlerts!) * p);
      }
      default: {
        const kind: never = def.kind;
        throw new ValidationError(`feature ${featureName(def)}`, `kind ${String(kind)} has no online form`);
      }
    }
  }
}

/** A higher timeframe's values waiting for the base bar whose close reaches theirs (FIFO, ascending close). */
class PendingValues {
  private readonly closes: number[] = [];
  private readonly vals: Float64Array[] = [];
  private readonly spare: Float64Array[] = [];

  push(close: number, values: Float64Array): void {
    const v = this.spare.pop() ?? new Float64Array(values.length);
    v.set(values);
    this.closes.push(close);
    this.vals.push(v);
  }

  /** Writes the newest values closed by `t` into `row` at `cols` (earlier ones are superseded); false if none. */
  applyUpTo(t: number, row: Float64Array, cols: readonly number[]): boolean {
    let n = 0;
    while (n < this.closes.length && this.closes[n]! <= t) n++;
    if (n === 0) return false;
    const v = this.vals[n - 1]!;
    for (let c = 0; c < cols.length; c++) row[cols[c]!] = v[c]!;
    this.closes.splice(0, n);
    for (const used of this.vals.splice(0, n)) this.spare.push(used);
    return true;
  }
}

interface TimeframeSlot {
  readonly tf: Timeframe;
  readonly features: TimeframeFeatures;
  /** Columns of the row this timeframe fills, in the order of its features. */
  readonly cols: readonly number[];
  /** Null for the base timeframe (its values go straight into the row). */
  readonly pending: PendingValues | null;
  /** Which optional inputs its bars must carry. */
  readonly needs: ReadonlySet<keyof OnlineInputs>;
}

function checkBar(tf: Timeframe, b: OnlineBar, needs: ReadonlySet<keyof OnlineInputs>): void {
  if (!Number.isFinite(b.ts)) throw new ValidationError(`bar[${tf}].ts`, `must be epoch ms, got ${b.ts}`);
  const bad = (field: string, problem: string) =>
    new ValidationError(`bar[${tf}].${field}`, problem, new Date(b.ts).toISOString());
  const { open, high, low, close, volume } = b;
  // One test for the common case; the field is named only when something is wrong.
  if (!(
    open > 0 &&
    high > 0 &&
    low > 0 &&
    close > 0 &&
    high < Infinity &&
    low < Infinity &&
    open < Infinity &&
    close < Infinity
  ))
    for (const k of ['open', 'high', 'low', 'close'] as const)
      if (!(Number.isFinite(b[k]) && b[k] > 0)) throw bad(k, `must be a finite price > 0, got ${b[k]}`);
  if (!(volume >= 0 && volume < Infinity)) throw bad('volume', `must be a finite volume >= 0, got ${volume}`);
  for (const need of needs)
    for (const k of INPUT_FIELDS[need])
      if (typeof b[k] !== 'number') throw bad(k, `is missing; ${INPUT_HELP[need]}`);
}

/**
 * The incremental feature engine of one symbol and one feature set. `update(tf, bar)` takes each bar of
 * each timeframe the set uses when it closes (in time order per timeframe; timeframes may interleave);
 * `row()` is the feature vector at the newest base bar, aligned as buildFeatureMatrix aligns it.
 */
export class OnlineFeatures {
  readonly symbol: string;
  readonly names: readonly string[];
  readonly version: string;
  readonly baseTimeframe: Timeframe;
  private readonly closeTimeOf: (ts: number, tf: Timeframe) => number;
  private readonly slots = new Map<Timeframe, TimeframeSlot>();
  private readonly values: Float64Array;
  private baseTs = NaN;
  private baseClose = -Infinity;

  constructor(
    readonly set: FeatureSet,
    opts: OnlineFeaturesOptions = {},
  ) {
    this.symbol = opts.symbol ?? '';
    this.names = set.names;
    this.version = set.version;
    this.baseTimeframe = set.baseTimeframe;
    this.closeTimeOf = opts.closeTimeOf ?? defaultCloseTime;
    this.values = new Float64Array(set.features.length).fill(NaN);
    const inputs = opts.inputs ?? {};
    const ctx = { sessionOf: sessionKeyFor(this.symbol) };
    for (const tf of set.timeframes) {
      const cols: number[] = [];
      const needs = new Set<keyof OnlineInputs>();
      set.features.forEach((f, k) => {
        if (f.timeframe !== tf) return;
        cols.push(k);
        const need = NEEDS[f.kind];
        if (!need) return;
        if (!inputs[need])
          throw new ValidationError(
            `inputs.${need}`,
            `feature ${featureName(f)} of set ${set.name}@${set.version} needs ${INPUT_FIELDS[need].join(', ')} with each ${tf} bar (as the batch path needs bars[${tf}].${INPUT_FIELDS[need][0]}); construct with { inputs: { ${need}: true } }`,
          );
        needs.add(need);
      });
      const features = new TimeframeFeatures(
        tf,
        cols.map((k) => set.features[k]!),
        ctx,
      );
      const pending = tf === set.baseTimeframe ? null : new PendingValues();
      this.slots.set(tf, { tf, features, cols, pending, needs });
    }
  }

  /** Start time (epoch ms) of the newest base bar; NaN before the first. */
  get ts(): number {
    return this.baseTs;
  }

  /** When the newest row became computable: its base bar's close (−Infinity before the first). */
  get availableAt(): number {
    return this.baseClose;
  }

  /** Bars accepted so far for `tf` (0 for a timeframe the set does not use). */
  bars(tf: Timeframe): number {
    return this.slots.get(tf)?.features.count ?? 0;
  }

  /**
   * Takes one closed bar of `tf`. Returns false, changing nothing, for a bar that does not start after the
   * last one of its timeframe (a bar already taken) or of a timeframe the set does not use. Throws a
   * ValidationError naming the field for a bar that is not finite/positive or lacks a declared input.
   */
  update(tf: Timeframe, bar: OnlineBar): boolean {
    const slot = this.slots.get(tf);
    if (!slot) return false;
    const f = slot.features;
    if (Number.isFinite(bar.ts) && !(bar.ts > f.lastTs)) return false;
    checkBar(tf, bar, slot.needs);
    f.update(bar);
    if (slot.pending === null) {
      const cols = slot.cols;
      for (let c = 0; c < cols.length; c++) this.values[cols[c]!] = f.values[c]!;
      this.baseTs = bar.ts;
      this.baseClose = this.closeTimeOf(bar.ts, tf);
      for (const s of this.slots.values()) s.pending?.applyUpTo(this.baseClose, this.values, s.cols);
    } else {
      slot.pending.push(this.closeTimeOf(bar.ts, tf), f.values);
      slot.pending.applyUpTo(this.baseClose, this.values, slot.cols);
    }
    return true;
  }

  /**
   * Feeds whole columns (e.g. stored history to warm up from), every timeframe merged by close time.
   * Bars at or before what each timeframe already holds are skipped. Returns the number of bars taken.
   */
  updateMany(bars: BarsByTimeframe): number {
    const feeds = [...this.slots.keys()]
      .filter((tf) => bars[tf] !== undefined)
      .sort((a, b) => timeframeRank(b) - timeframeRank(a))
      .map((tf) => ({ tf, cols: bars[tf]!, i: 0 }));
    const input = {
      ts: 0,
      open: 0,
      high: 0,
      low: 0,
      close: 0,
      volume: 0,
      benchmark: undefined as number | undefined,
      bid: undefined as number | undefined,
      ask: undefined as number | undefined,
      bidSize: undefined as number | undefined,
      askSize: undefined as number | undefined,
      signedVolume: undefined as number | undefined,
      tradeVolume: undefined as number | undefined,
      callPremium: undefined as number | undefined,
      putPremium: undefined as number | undefined,
      flowAlerts: undefined as number | undefined,
    };
    const load = (c: TimeframeBars, i: number) => {
      input.ts = c.ts[i]!;
      input.open = c.open[i]!;
      input.high = c.high[i]!;
      input.low = c.low[i]!;
      input.close = c.close[i]!;
      input.volume = c.volume[i]!;
      input.benchmark = c.benchmark?.[i];
      input.bid = c.bid?.[i];
      input.ask = c.ask?.[i];
      input.bidSize = c.bidSize?.[i];
      input.askSize = c.askSize?.[i];
      input.signedVolume = c.signedVolume?.[i];
      input.tradeVolume = c.tradeVolume?.[i];
      input.callPremium = c.callPremium?.[i];
      input.putPremium = c.putPremium?.[i];
      input.flowAlerts = c.flowAlerts?.[i];
    };
    let taken = 0;
    for (;;) {
      // The next bar to close; on equal closes the coarser timeframe first (the order does not change rows).
      let next: (typeof feeds)[number] | undefined;
      let nextClose = Infinity;
      for (const f of feeds) {
        if (f.i >= f.cols.ts.length) continue;
        const t = this.closeTimeOf(f.cols.ts[f.i]!, f.tf);
        if (t < nextClose) {
          nextClose = t;
          next = f;
        }
      }
      if (!next) return taken;
      load(next.cols, next.i++);
      if (this.update(next.tf, input)) taken++;
    }
  }

  /** The feature vector at the newest base bar (Float64, as computeTimeframeFeatures computes it); NaN while warming up. */
  row(out?: Float64Array): Float64Array {
    const o = out ?? new Float64Array(this.values.length);
    o.set(this.values);
    return o;
  }

  /** The row as the matrix and the stores hold it (Float32): bit for bit buildFeatureMatrix's row. */
  row32(out?: Float32Array): Float32Array {
    const o = out ?? new Float32Array(this.values.length);
    o.set(this.values);
    return o;
  }

  /** True when a base bar has been taken and no feature of the row is NaN (every indicator warm). */
  ready(): boolean {
    if (Number.isNaN(this.baseTs)) return false;
    const v = this.values;
    for (let k = 0; k < v.length; k++) if (Number.isNaN(v[k]!)) return false;
    return true;
  }

  /** The newest row as a store vector; null before the first base bar. */
  vector(): FeatureVector | null {
    if (Number.isNaN(this.baseTs)) return null;
    return {
      symbol: this.symbol,
      timeframe: this.baseTimeframe,
      version: this.version,
      ts: this.baseTs,
      values: this.row32(),
    };
  }
}

/**
 * Publishes the newest row of each engine to the online store (the key and encoding of FeatureStore's
 * online vectors) in one round trip; engines without a base bar yet are skipped. Returns how many were written.
 */
export async function publishOnlineFeatures(
  cache: KeyValueCache,
  engines: Iterable<OnlineFeatures>,
  opts: { ttlSeconds?: number } = {},
): Promise<number> {
  const vectors: FeatureVector[] = [];
  for (const e of engines) {
    if (!e.symbol)
      throw new ValidationError('OnlineFeatures.symbol', 'is empty; construct it with { symbol }');
    const v = e.vector();
    if (v) vectors.push(v);
  }
  await putOnlineVectors(cache, vectors, opts.ttlSeconds);
  return vectors.length;
}
