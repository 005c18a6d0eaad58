/**
 * Fill and cost models shared by the backtester and the paper simulator. Every function is pure: the
 * simulated broker supplies the bar, the last quote and its volatility estimate from completed bars only.
 *
 * Price = reference ± half spread ± square-root market impact, adverse to the taker:
 *   half spread: from the quote when one is present and fresh, else a volatility model
 *                max(minHalfSpreadBps, spreadVolMultiplier × σ_minute) — wider in volatile names, as observed;
 *                σ_minute = σ_bar / √(trading minutes in the bar), so a name's modelled spread is the same
 *                whether it trades on 1-minute or daily bars (a daily σ would make it ~20× too wide);
 *   impact:      impactCoefficient × σ_bar × sqrt(qty / barVolume) (the "square-root law" of Almgren et al.).
 * Participation cap: a bar fills at most maxParticipation × its volume; the rest stays working (partial fills).
 * Costs: commission per share with a per-order minimum and a cap as a share of notional; on sells the SEC
 * Section 31 fee (per dollar of proceeds) and FINRA TAF (per share, capped per trade).
 */
import { roundToStep, type InstrumentSpec } from '../model/instrument';
import type { Quote } from '../model/bar';
import type { OrderSide } from '../model/order';

export interface CommissionModel {
  readonly perShare: number;
  readonly minPerOrder: number;
  /** cap as a fraction of the fill's notional */
  readonly maxFractionOfNotional: number;
}

export interface FillModelConfig {
  readonly minHalfSpreadBps: number;
  readonly spreadVolMultiplier: number;
  readonly impactCoefficient: number;
  /** 0 disables the cap */
  readonly maxParticipation: number;
  readonly commission: CommissionModel;
  /** SEC fee: dollars per dollar of sale proceeds (27.80 per million since 2024-05-22) */
  readonly secFeeRate: number;
  readonly finraTafPerShare: number;
  readonly finraTafMaxPerTrade: number;
  /** order latency: an order is eligible from submittedAt + latencyMs (and never before the next bar) */
  readonly latencyMs: number;
  /** quotes older than this are ignored and the volatility spread model is used */
  readonly maxQuoteAgeMs: number;
  /** easy-to-borrow annual fee on short market value */
  readonly borrowAnnualRate: number;
  /** per-symbol annual borrow rate overrides (hard to borrow) */
  readonly borrowRates: Readonly<Record<string, number>>;
  /** symbols that cannot be shorted */
  readonly notShortable: readonly string[];
  /** fractional quantities allowed (crypto); else fills are whole shares */
  readonly fractional: boolean;
}

export const DEFAULT_FILL_MODEL: FillModelConfig = {
  minHalfSpreadBps: 1,
  spreadVolMultiplier: 0.25,
  impactCoefficient: 0.5,
  maxParticipation: 0.1,
  commission: { perShare: 0.005, minPerOrder: 1, maxFractionOfNotional: 0.01 },
  secFeeRate: 27.8e-6,
  finraTafPerShare: 0.000166,
  finraTafMaxPerTrade: 8.3,
  latencyMs: 0,
  maxQuoteAgeMs: 60_000,
  borrowAnnualRate: 0.003,
  borrowRates: {},
  notShortable: [],
  fractional: false,
};

export function fillModelConfig(overrides: Partial<FillModelConfig> = {}): FillModelConfig {
  const c = {
    ...DEFAULT_FILL_MODEL,
    ...overrides,
    commission: { ...DEFAULT_FILL_MODEL.commission, ...(overrides.commission ?? {}) },
  };
  const nonNeg: Array<keyof FillModelConfig> = [
    'minHalfSpreadBps',
    'spreadVolMultiplier',
    'impactCoefficient',
    'maxParticipation',
    'secFeeRate',
    'finraTafPerShare',
    'finraTafMaxPerTrade',
    'latencyMs',
    'borrowAnnualRate',
  ];
  for (const k of nonNeg) {
    const v = c[k] as number;
    if (!(v >= 0) || !Number.isFinite(v))
      throw new RangeError(`fill.${k}: ${v} must be a finite number >= 0`);
  }
  if (c.maxParticipation > 1)
    throw new RangeError(`fill.maxParticipation: ${c.maxParticipation} must be <= 1`);
  return c;
}

/** Trading minutes in a bar of `barMs`: a daily bar holds one session (390 minutes NYSE, 1440 crypto). */
export function tradingMinutesPerBar(barMs: number, sessionMinutes: number): number {
  return Math.max(1, Math.min(barMs / 60_000, sessionMinutes));
}

/** Half spread as a fraction of price: from a fresh quote, else the volatility model (σ per trading minute). */
export function halfSpreadFraction(
  cfg: FillModelConfig,
  price: number,
  sigmaBar: number,
  quote: Quote | undefined,
  ts: number,
  barMinutes = 1,
): number {
  if (
    quote &&
    quote.ask > 0 &&
    quote.bid > 0 &&
    quote.ask >= quote.bid &&
    ts - quote.ts <= cfg.maxQuoteAgeMs &&
    ts >= quote.ts
  ) {
    const mid = (quote.ask + quote.bid) / 2;
    return Math.max(0, (quote.ask - quote.bid) / 2 / mid);
  }
  return Math.max(cfg.minHalfSpreadBps * 1e-4, (cfg.spreadVolMultiplier * sigmaBar) / Math.sqrt(barMinutes));
}

/** Square-root market impact as a fraction of price. */
export function impactFraction(
  cfg: FillModelConfig,
  qty: number,
  barVolume: number,
  sigmaBar: number,
): number {
  if (!(barVolume > 0)) return cfg.impactCoefficient * sigmaBar; // no volume information: one sigma-scaled unit
  return cfg.impactCoefficient * sigmaBar * Math.sqrt(qty / barVolume);
}

/** Taker fill price for `side` around a reference price, all costs adverse. */
export function takerPrice(
  cfg: FillModelConfig,
  side: OrderSide,
  ref: number,
  qty: number,
  barVolume: number,
  sigmaBar: number,
  quote: Quote | undefined,
  ts: number,
  barMinutes = 1,
): { price: number; slippagePerShare: number } {
  const hs = halfSpreadFraction(cfg, ref, sigmaBar, quote, ts, barMinutes);
  const imp = impactFraction(cfg, qty, barVolume, sigmaBar);
  const frac = hs + imp;
  const price = side === 'buy' ? ref * (1 + frac) : ref * (1 - frac);
  return { price, slippagePerShare: Math.abs(price - ref) };
}

/**
 * The most a bar can fill: maxParticipation × volume (whole shares unless fractional; an instrument traded in
 * fractions, such as crypto, keeps the fraction).
 */
export function participationCap(cfg: FillModelConfig, barVolume: number, qtyStep = 1): number {
  if (cfg.maxParticipation <= 0) return Number.POSITIVE_INFINITY;
  const cap = cfg.maxParticipation * Math.max(0, barVolume);
  return cfg.fractional || qtyStep < 1 ? cap : Math.floor(cap);
}

/** A fill quantity rounded down to what can trade: the instrument's lot step (1e-9 crypto), else shares. */
export function roundQty(cfg: FillModelConfig, qty: number, qtyStep = 1): number {
  if (qtyStep < 1) return roundToStep(qty, qtyStep);
  return cfg.fractional ? Math.floor(qty * 1e8) / 1e8 : Math.floor(qty + 1e-9);
}

/**
 * What one fill costs beside its price: US equities pay the per-share commission (the per-order minimum on the
 * first fill) and, on sells, SEC §31 and FINRA TAF; crypto pays the venue's maker fee on a resting limit order's
 * fill and its taker fee otherwise, in basis points of notional (no regulatory fees).
 */
export function feesFor(
  cfg: FillModelConfig,
  instrument: InstrumentSpec,
  side: OrderSide,
  qty: number,
  price: number,
  firstFill: boolean,
  taker: boolean,
): { commission: number; regulatoryFees: number } {
  const f = instrument.fees;
  if (f.kind === 'crypto')
    return { commission: (qty * price * (taker ? f.takerBps : f.makerBps)) / 10_000, regulatoryFees: 0 };
  return {
    commission: commissionFor(cfg, qty, price, firstFill),
    regulatoryFees: regulatoryFeesFor(cfg, side, qty, price),
  };
}

/** The highest cost per unit of notional a fill can carry (buying power must cover it). */
export function maxCostFraction(cfg: FillModelConfig, instrument: InstrumentSpec): number {
  const f = instrument.fees;
  return f.kind === 'crypto'
    ? Math.max(f.takerBps, f.makerBps) / 10_000
    : cfg.commission.maxFractionOfNotional;
}

/** Commission for one fill; `firstFill` carries the per-order minimum. */
export function commissionFor(cfg: FillModelConfig, qty: number, price: number, firstFill: boolean): number {
  const m = cfg.commission;
  let c = m.perShare * qty;
  if (firstFill) c = Math.max(c, m.minPerOrder);
  return Math.min(c, m.maxFractionOfNotional * qty * price);
}

/** SEC Section 31 fee + FINRA TAF; both apply to sells only. */
export function regulatoryFeesFor(cfg: FillModelConfig, side: OrderSide, qty: number, price: number): number {
  if (side !== 'sell') return 0;
  const sec = Math.ceil(cfg.secFeeRate * qty * price * 100) / 100; // rounded up to the cent, as brokers pass it on
  const taf = Math.min(cfg.finraTafMaxPerTrade, Math.ceil(cfg.finraTafPerShare * qty * 100) / 100);
  return sec + taf;
}

const YEAR_MS = 365 * 86_400_000;

/** Borrow fee for holding `shortValue` dollars short for `dtMs`. */
export function borrowFeeFor(cfg: FillModelConfig, symbol: string, shortValue: number, dtMs: number): number {
  const rate = cfg.borrowRates[symbol] ?? cfg.borrowAnnualRate;
  return (Math.abs(shortValue) * rate * dtMs) / YEAR_MS;
}

/** Per-bar volatility estimate from a completed bar (Parkinson range estimator, as a fraction of price). */
export function parkinsonSigma(high: number, low: number): number {
  if (!(high > 0) || !(low > 0) || high < low) return 0;
  const r = Math.log(high / low);
  return r / Math.sqrt(4 * Math.LN2);
}
