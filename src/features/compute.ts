/**
 * Feature columns of ONE timeframe, from that timeframe's bars only. Every feature is causal: the value
 * at bar i uses bars 0..i of this timeframe (and the benchmark/quotes at or before bar i). Features are
 * scale-free (ratios, oscillators / 100, z-scores) so one model can serve many symbols.
 */
import { newYorkDayNumber, newYorkMinuteOfDay, utcDayNumber, type SessionKeyFn } from '../indicators/clock';
import { candleBatch, candlePattern } from '../indicators/candles';
import { demaBatch, emaBatch, kamaBatch, smaBatch, temaBatch, wmaBatch } from '../indicators/moving-averages';
import { gapBatch, quoteBatch, tradeFlowBatch } from '../indicators/microstructure';
import {
  cciBatch,
  macdBatch,
  momBatch,
  rocBatch,
  rsiBatch,
  stochBatch,
  stochRsiBatch,
  stochfBatch,
  willrBatch,
} from '../indicators/oscillators';
import { betaBatch, correlBatch } from '../indicators/stats';
import { adxBatch, aroonBatch } from '../indicators/trend';
import {
  bbandsBatch,
  donchianBatch,
  keltnerBatch,
  natrBatch,
  realizedVolBatch,
  zScoreBatch,
} from '../indicators/volatility';
import {
  adBatch,
  adoscBatch,
  mfiBatch,
  obvBatch,
  relativeVolumeBatch,
  vwapBatch,
} from '../indicators/volume';
import { isCryptoSymbol } from '../market/calendar';
import { ValidationError } from '../model/errors';
import type { Timeframe } from '../model/timeframe';
import type { FeatureDef } from './definition';

/** One timeframe's bars (ascending ts = bar start) plus optional aligned extras. */
export interface TimeframeBars {
  readonly timeframe: Timeframe;
  readonly ts: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  /** Benchmark close at each bar's ts (NaN where the benchmark has no bar). */
  readonly benchmark?: Float64Array;
  /** Last quote known at each bar's close (NaN where none). */
  readonly bid?: Float64Array;
  readonly ask?: Float64Array;
  readonly bidSize?: Float64Array;
  readonly askSize?: Float64Array;
  /** The bar's trades signed by the quote rule (tick rule without a quote): Σ sign·size, and Σ size. */
  readonly signedVolume?: Float64Array;
  readonly tradeVolume?: Float64Array;
  /** Options-flow alerts of the bar: call premium, put premium, number of alerts. */
  readonly callPremium?: Float64Array;
  readonly putPremium?: Float64Array;
  readonly flowAlerts?: Float64Array;
}

export interface ComputeContext {
  /** Session key for session-anchored features (New York date for equities, UTC date for crypto). */
  readonly sessionOf?: SessionKeyFn;
}

export function sessionKeyFor(symbol: string): SessionKeyFn {
  // Crypto pairs trade 24/7: the UTC date is their session.
  return isCryptoSymbol(symbol) ? utcDayNumber : newYorkDayNumber;
}

const DEFAULT_PERIOD: Partial<Record<string, number>> = {
  logReturn: 1,
  rsi: 14,
  natr: 14,
  bbPctB: 20,
  bbWidth: 20,
  keltnerPos: 20,
  donchianPos: 20,
  adx: 14,
  diSpread: 14,
  aroonOsc: 14,
  cci: 14,
  mfi: 14,
  roc: 10,
  mom: 10,
  willr: 14,
  stochK: 5,
  stochD: 5,
  stochfK: 5,
  stochRsiK: 14,
  obvZ: 20,
  adLineZ: 20,
  adoscNorm: 20,
  rvCloseToClose: 20,
  rvParkinson: 20,
  rvGarmanKlass: 20,
  zClose: 20,
  smaDist: 20,
  emaDist: 20,
  wmaDist: 20,
  demaDist: 20,
  temaDist: 20,
  kamaDist: 10,
  relVolume: 20,
  volumeZ: 20,
  beta: 20,
  correl: 20,
  tradeFlow: 20,
  tradeImbalance: 20,
  optionsFlowImbalance: 30,
  optionsFlowActivity: 30,
};

/** The period a feature is computed with: its own, else the kind's default (shared by the batch and online paths). */
export function featurePeriod(def: FeatureDef): number {
  return def.period ?? DEFAULT_PERIOD[def.kind] ?? 14;
}

function map(n: number, f: (i: number) => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
}

function ratioDist(close: Float64Array, ref: Float64Array): Float64Array {
  return map(close.length, (i) => close[i]! / ref[i]! - 1);
}

function position(close: Float64Array, upper: Float64Array, lower: Float64Array): Float64Array {
  return map(close.length, (i) => {
    const w = upper[i]! - lower[i]!;
    return w > 0 ? (close[i]! - lower[i]!) / w : Number.isNaN(w) ? NaN : 0.5;
  });
}

function scaled(x: Float64Array, k: number): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * k;
  return x;
}

function logReturns(x: Float64Array): Float64Array {
  return map(x.length, (i) => (i === 0 ? NaN : Math.log(x[i]! / x[i - 1]!)));
}

/** Computes each definition's column for one timeframe; shared indicator runs are memoised. */
export function computeTimeframeFeatures(
  bars: TimeframeBars,
  defs: readonly FeatureDef[],
  ctx: ComputeContext = {},
): Float64Array[] {
  const { open, high, low, close, volume, ts } = bars;
  const n = close.length;
  const sessionOf = ctx.sessionOf ?? newYorkDayNumber;
  const memo = new Map<string, Float64Array[]>();
  const once = (key: string, f: () => Float64Array[]) => {
    let v = memo.get(key);
    if (!v) memo.set(key, (v = f()));
    return v;
  };
  const need = (col: Float64Array | undefined, what: string, def: FeatureDef): Float64Array => {
    if (!col)
      throw new ValidationError(
        `bars[${bars.timeframe}].${what}`,
        `feature ${def.kind} needs ${what} for ${bars.timeframe} bars`,
      );
    return col;
  };

  return defs.map((def): Float64Array => {
    const p = featurePeriod(def);
    switch (def.kind) {
      case 'logReturn':
        return map(n, (i) => (i < p ? NaN : Math.log(close[i]! / close[i - p]!)));
      case 'rsi':
        return scaled(rsiBatch(close, p), 0.01);
      case 'macd':
      case 'macdHist': {
        const [m, , h] = once('macd', () => macdBatch(close, 12, 26, 9));
        const line = def.kind === 'macd' ? m! : h!;
        return map(n, (i) => line[i]! / close[i]!);
      }
      case 'natr':
        return scaled(natrBatch(high, low, close, p), 0.01);
      case 'bbPctB':
      case 'bbWidth': {
        const [u, m, l] = once(`bb${p}`, () => bbandsBatch(close, p, 2, 2));
        if (def.kind === 'bbPctB') return position(close, u!, l!);
        return map(n, (i) => (u![i]! - l![i]!) / m![i]!);
      }
      case 'keltnerPos': {
        const [u, , l] = keltnerBatch(high, low, close, p, 10, 2);
        return position(close, u!, l!);
      }
      case 'donchianPos': {
        const [u, , l] = donchianBatch(high, low, p);
        return position(close, u!, l!);
      }
      case 'adx':
      case 'diSpread': {
        const [a, pdi, mdi] = once(`adx${p}`, () => adxBatch(high, low, close, p));
        if (def.kind === 'adx') return scaled(Float64Array.from(a!), 0.01);
        return map(n, (i) => (pdi![i]! - mdi![i]!) / 100);
      }
      case 'aroonOsc': {
        const [d, u] = aroonBatch(high, low, p);
        return map(n, (i) => (u![i]! - d![i]!) / 100);
      }
      case 'cci':
        return scaled(cciBatch(high, low, close, p), 0.01);
      case 'mfi':
        return scaled(mfiBatch(high, low, close, volume, p), 0.01);
      case 'roc':
        return scaled(rocBatch(close, p), 0.01);
      case 'mom': {
        const m = momBatch(close, p);
        return map(n, (i) => m[i]! / close[i]!);
      }
      case 'willr':
        return scaled(willrBatch(high, low, close, p), 0.01);
      case 'stochK':
      case 'stochD': {
        const [k, d] = once(`stoch${p}`, () => stochBatch(high, low, close, p, 3, 3));
        return scaled(Float64Array.from(def.kind === 'stochK' ? k! : d!), 0.01);
      }
      case 'stochfK':
        return scaled(stochfBatch(high, low, close, p, 3)[0]!, 0.01);
      case 'stochRsiK':
        return scaled(stochRsiBatch(close, p, 5, 3)[0]!, 0.01);
      case 'obvZ':
        return zScoreBatch(obvBatch(close, volume), p);
      case 'adLineZ':
        return zScoreBatch(adBatch(high, low, close, volume), p);
      case 'adoscNorm': {
        const a = adoscBatch(high, low, close, volume, 3, 10);
        const v = smaBatch(volume, p);
        return map(n, (i) => (v[i]! > 0 ? a[i]! / v[i]! : 0));
      }
      case 'vwapDist':
        return ratioDist(close, vwapBatch(ts, high, low, close, volume, sessionOf));
      case 'rvCloseToClose':
        return realizedVolBatch('closeToClose', open, high, low, close, p);
      case 'rvParkinson':
        return realizedVolBatch('parkinson', open, high, low, close, p);
      case 'rvGarmanKlass':
        return realizedVolBatch('garmanKlass', open, high, low, close, p);
      case 'zClose':
        return zScoreBatch(close, p);
      case 'smaDist':
        return ratioDist(close, smaBatch(close, p));
      case 'emaDist':
        return ratioDist(close, emaBatch(close, p));
      case 'wmaDist':
        return ratioDist(close, wmaBatch(close, p));
      case 'demaDist':
        return ratioDist(close, demaBatch(close, p));
      case 'temaDist':
        return ratioDist(close, temaBatch(close, p));
      case 'kamaDist':
        return ratioDist(close, kamaBatch(close, p));
      case 'relVolume':
        return relativeVolumeBatch(ts, volume, p, newYorkMinuteOfDay);
      case 'volumeZ':
        return zScoreBatch(
          map(n, (i) => Math.log1p(volume[i]!)),
          p,
        );
      case 'gap':
      case 'sessionGap': {
        const [g, s] = once('gap', () => gapBatch(ts, open, close, sessionOf));
        return Float64Array.from(def.kind === 'gap' ? g! : s!);
      }
      case 'minuteOfDaySin':
      case 'minuteOfDayCos': {
        const f = def.kind === 'minuteOfDaySin' ? Math.sin : Math.cos;
        return map(n, (i) => f((2 * Math.PI * newYorkMinuteOfDay(ts[i]!)) / 1440));
      }
      case 'candle':
        return scaled(candleBatch(candlePattern(def.pattern ?? ''), open, high, low, close), 0.01);
      case 'beta':
        return betaBatch(close, need(bars.benchmark, 'benchmark', def), p);
      case 'correl': {
        const b = need(bars.benchmark, 'benchmark', def);
        const r = correlBatch(logReturns(close).fill(0, 0, 1), logReturns(b).fill(0, 0, 1), p);
        r[p - 1] = NaN; // the first window contains the padded first return
        return r;
      }
      case 'spreadBps':
      case 'quoteImbalance': {
        const q = once('quote', () =>
          quoteBatch(
            need(bars.bid, 'bid', def),
            need(bars.ask, 'ask', def),
            need(bars.bidSize, 'bidSize', def),
            need(bars.askSize, 'askSize', def),
          ),
        );
        return Float64Array.from(def.kind === 'spreadBps' ? q[2]! : q[3]!);
      }
      case 'tradeFlow':
        return tradeFlowBatch(close, volume, bars.bid, bars.ask, p);
      case 'tradeImbalance': {
        // Σ signed / Σ size of the last p bars' trades (a ratio of p-bar means); NaN without trades.
        const s = smaBatch(need(bars.signedVolume, 'signedVolume', def), p);
        const v = smaBatch(need(bars.tradeVolume, 'tradeVolume', def), p);
        return map(n, (i) => (v[i]! > 0 ? s[i]! / v[i]! : NaN));
      }
      case 'optionsFlowImbalance': {
        // (call − put premium) / (call + put premium) over the last p bars; NaN without flow.
        const c = smaBatch(need(bars.callPremium, 'callPremium', def), p);
        const u = smaBatch(need(bars.putPremium, 'putPremium', def), p);
        return map(n, (i) => (c[i]! + u[i]! > 0 ? (c[i]! - u[i]!) / (c[i]! + u[i]!) : NaN));
      }
      case 'optionsFlowActivity': {
        // log(1 + alerts in the last p bars)
        const a = smaBatch(need(bars.flowAlerts, 'flowAlerts', def), p);
        return map(n, (i) => Math.log1p(a[i]! * p));
      }
    }
  });
}
