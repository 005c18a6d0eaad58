/**
 * Instruments know their asset class. Everything that differs between a US stock and a crypto pair is read from
 * here, in one place, by the kernel (sizing, end-of-day flattening, market-order time in force), the data loaders
 * (session-aware aggregation), the simulated broker (fees) and the reports (annualisation):
 *
 * |                    | US equity                              | crypto                                   |
 * |--------------------|----------------------------------------|------------------------------------------|
 * | calendar           | NYSE regular sessions                  | 24/7 (one session per UTC day)           |
 * | quantity           | whole shares                           | fractional (1e-9 steps, Alpaca's minimum)|
 * | fees               | per-share commission, SEC §31, FINRA TAF | maker/taker bps of notional (Alpaca tier 1) |
 * | annualisation      | 252 trading days                       | 365 days                                 |
 * | market order TIF   | day                                    | gtc (Alpaca refuses `day` for crypto)    |
 * | short selling      | yes (borrow charged)                   | no (Alpaca does not lend crypto)         |
 *
 * Pure and JSON-safe (calendars are referred to by name), so workflows may import it.
 */
import { isCryptoSymbol } from '../market/calendar';

export type AssetClass = 'us_equity' | 'crypto';
export type CalendarName = 'NYSE' | 'CRYPTO';

/** US equity costs: per-share commission with a per-order minimum and cap, SEC §31 and FINRA TAF on sells. */
export interface EquityFeeSchedule {
  readonly kind: 'us_equity';
}

/**
 * Crypto costs: a fee in basis points of notional, maker (resting limit orders) or taker (market and
 * marketable orders). Alpaca's crypto schedule, volume tier 1: 15 bps maker, 25 bps taker.
 */
export interface CryptoFeeSchedule {
  readonly kind: 'crypto';
  readonly makerBps: number;
  readonly takerBps: number;
}

export type FeeSchedule = EquityFeeSchedule | CryptoFeeSchedule;

export const ALPACA_CRYPTO_FEES: CryptoFeeSchedule = { kind: 'crypto', makerBps: 15, takerBps: 25 };

export interface InstrumentSpec {
  readonly symbol: string;
  readonly assetClass: AssetClass;
  readonly calendar: CalendarName;
  /** smallest quantity increment: 1 for whole shares */
  readonly qtyStep: number;
  readonly fees: FeeSchedule;
  /** periods per year for annualised statistics on daily returns */
  readonly annualizationDays: 252 | 365;
  /** time in force of the market orders the kernel raises itself (flattens) */
  readonly marketTimeInForce: 'day' | 'gtc';
  /** may be sold short (Alpaca does not lend crypto) */
  readonly shortable: boolean;
}

/** Venue-level overrides (e.g. another crypto fee tier), applied to every instrument of the class. */
export interface InstrumentOverrides {
  readonly cryptoFees?: CryptoFeeSchedule;
}

const CRYPTO_QTY_STEP = 1e-9;

/** The instrument spec of a symbol: crypto pairs (BTCUSD, BTC/USD, ETHUSDT…) are crypto, the rest US equities. */
export function instrumentFor(symbol: string, overrides: InstrumentOverrides = {}): InstrumentSpec {
  if (isCryptoSymbol(symbol))
    return {
      symbol,
      assetClass: 'crypto',
      calendar: 'CRYPTO',
      qtyStep: CRYPTO_QTY_STEP,
      fees: overrides.cryptoFees ?? ALPACA_CRYPTO_FEES,
      annualizationDays: 365,
      marketTimeInForce: 'gtc',
      shortable: false,
    };
  return {
    symbol,
    assetClass: 'us_equity',
    calendar: 'NYSE',
    qtyStep: 1,
    fees: { kind: 'us_equity' },
    annualizationDays: 252,
    marketTimeInForce: 'day',
    shortable: true,
  };
}

/**
 * A quantity rounded down to the instrument's step (never up: sizing must not exceed what risk allowed). A
 * quantity within a millionth of a step of a multiple is that multiple: binary noise such as 2.9999999999 whole
 * shares, or 199.49328705 / 1e-9 landing a hair below its integer, is not a lost lot.
 */
export function roundToStep(qty: number, step: number): number {
  if (!(qty > 0) || !Number.isFinite(qty)) return 0;
  const x = qty / step;
  const r = Math.round(x);
  const n = Math.abs(x - r) <= stepTolerance(x) ? r : Math.floor(x);
  return step === 1 ? n : Number((n * step).toFixed(decimalsOf(step)));
}

/** Whether a quantity is a whole number of the instrument's steps (within binary noise). */
export function isMultipleOfStep(qty: number, step: number): boolean {
  if (!(qty > 0) || !Number.isFinite(qty)) return false;
  const x = qty / step;
  return Math.abs(x - Math.round(x)) <= stepTolerance(x);
}

/** A millionth of a step, or the division's own rounding error for large step counts (2e11 lots of 1e-9). */
function stepTolerance(x: number): number {
  return Math.max(1e-6, Math.abs(x) * 8 * Number.EPSILON);
}

function decimalsOf(step: number): number {
  const s = step.toExponential();
  const e = Number(s.slice(s.indexOf('e') + 1));
  return Math.max(0, -e);
}

/**
 * The annualisation of a universe: 365 when every instrument trades 24/7 (crypto), else 252. A mixed book is
 * measured on the equity market's trading days, on which its equity curve is sampled.
 */
export function annualizationDaysFor(symbols: readonly string[]): 252 | 365 {
  return symbols.length > 0 && symbols.every((s) => instrumentFor(s).assetClass === 'crypto') ? 365 : 252;
}
