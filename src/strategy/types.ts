/**
 * The strategy contract. A strategy is `onBar(ctx, bars, predictions) → Command[]`: it sees a clock, its
 * portfolio, an order factory and a clock-guarded bar feed — never a broker. Backtest, paper and live
 * differ only in what is injected. Versioned (freqtrade style): a strategy declares the interface version it
 * implements and its warm-up up front, and the engine refuses a mismatch instead of guessing.
 */
import type { Bar } from '../model/bar';
import type { Command, FlattenCommand, SubmitCommand } from '../model/command';
import type { OrderSide, OrderSpec, OrderTag, TimeInForce } from '../model/order';
import type { Timeframe } from '../model/timeframe';
import type { RegimeOptions, RegimeState } from '../learning/regime';
import type { SizingInput, SizingResult } from '../risk/sizing';

export const STRATEGY_API_VERSION = 1;

/** A model's view of one symbol at the current bar (from the models area, or indicator-derived). */
export interface Prediction {
  readonly model: string;
  readonly timeframe: Timeframe;
  /** expected return over the horizon, as a fraction (0.004 = +0.4%) */
  readonly expectedReturn: number;
  /** probability that the sign of expectedReturn is right, 0.5..1 */
  readonly confidence: number;
  readonly horizonBars: number;
}

/** Predictions per symbol for the current step. */
export type PredictionSet = Readonly<Record<string, readonly Prediction[]>>;

/** Thrown when a strategy asks for data that is not yet known at the feed's clock. */
export class LookAheadError extends Error {
  constructor(
    readonly symbol: string,
    readonly timeframe: Timeframe,
    readonly requestedTs: number,
    readonly clock: number,
  ) {
    super(
      `look-ahead: ${symbol} ${timeframe} bar starting ${new Date(requestedTs).toISOString()} closes after the clock ${new Date(clock).toISOString()}`,
    );
    this.name = 'LookAheadError';
  }
}

/** Bars as of the clock: every method returns completed bars only. */
export interface BarFeed {
  /** epoch ms: the close time of the newest completed bars */
  readonly now: number;
  /** (symbol, timeframe) pairs whose bar completed at `now` */
  readonly updated: ReadonlyArray<{ readonly symbol: string; readonly timeframe: Timeframe }>;
  symbols(): readonly string[];
  timeframes(symbol: string): readonly Timeframe[];
  /** the newest completed bar, undefined before the first */
  last(symbol: string, timeframe: Timeframe): Bar | undefined;
  /** completed bars so far (how many) */
  count(symbol: string, timeframe: Timeframe): number;
  /** up to n newest completed bars, oldest first */
  history(symbol: string, timeframe: Timeframe, n: number): Bar[];
  /** the bar that started at `ts`; throws LookAheadError when it has not closed by `now` */
  barAt(symbol: string, timeframe: Timeframe, ts: number): Bar | undefined;
}

export interface PositionView {
  readonly symbol: string;
  readonly qty: number;
  readonly avgPrice: number;
  /** epoch ms the position was opened */
  readonly openedAt: number;
}

export interface PortfolioView {
  readonly equity: number;
  readonly cash: number;
  readonly buyingPower: number;
  readonly peakEquity: number;
  position(symbol: string): PositionView | undefined;
  positions(): readonly PositionView[];
  /** open orders for a symbol (client order ids) */
  openOrders(symbol: string): readonly string[];
}

/** Builds orders with deterministic client order ids `<session>:<barTs>:<symbol>:<seq>`. */
export interface OrderFactory {
  market(symbol: string, side: OrderSide, qty: number, tag?: OrderTag, tif?: TimeInForce): OrderSpec;
  limit(
    symbol: string,
    side: OrderSide,
    qty: number,
    limitPrice: number,
    tag?: OrderTag,
    tif?: TimeInForce,
  ): OrderSpec;
  stop(
    symbol: string,
    side: OrderSide,
    qty: number,
    stopPrice: number,
    tag?: OrderTag,
    tif?: TimeInForce,
  ): OrderSpec;
  bracket(
    symbol: string,
    side: OrderSide,
    qty: number,
    takeProfit: number,
    stopLoss: number,
    tag?: OrderTag,
  ): OrderSpec;
  submit(
    order: OrderSpec,
    refPrice: number,
    extra?: { riskStopPrice?: number; sector?: string; correlationGroup?: string },
  ): SubmitCommand;
  flatten(symbol: string, reason: string): FlattenCommand;
}

export interface StrategyContext {
  /** epoch ms of this decision (the bar close) */
  readonly now: number;
  readonly portfolio: PortfolioView;
  readonly orders: OrderFactory;
  /**
   * The shared sizing rule (risk/sizing) with this account's settings; give the symbol so the quantity is rounded
   * to its instrument's lot size (whole shares, or fractional crypto).
   */
  size(input: Omit<SizingInput, 'equity'> & { readonly symbol?: string }): SizingResult;
  /** A quantity rounded down to the symbol's lot size (whole shares for equities, 1e-9 for crypto). */
  roundQty(symbol: string, qty: number): number;
  /** session close (epoch ms) of the session containing `ts` for the symbol's exchange, or undefined */
  sessionClose(symbol: string, ts: number): number | undefined;
  /** true inside the regular session (always for 24/7 markets such as crypto) */
  isMarketOpen(symbol: string, ts: number): boolean;
  /** seeded PRNG in [0, 1): a strategy that randomises stays reproducible */
  random(): number;
  /**
   * The symbol's market regime at its newest completed day (src/learning/regime.ts), for a strategy that declares
   * `regime`; absent otherwise.
   */
  regime?(symbol: string): RegimeState | undefined;
}

export interface Strategy {
  readonly name: string;
  readonly apiVersion: typeof STRATEGY_API_VERSION;
  /** completed bars needed per (symbol, timeframe) before the first decision */
  readonly warmUpBars: number;
  /** timeframes the strategy wants fed */
  readonly timeframes: readonly Timeframe[];
  onBar(ctx: StrategyContext, bars: BarFeed, predictions?: PredictionSet): Command[];
  /** parameters for reports and sensitivity grids */
  readonly params?: Readonly<Record<string, number | string | boolean>>;
  /**
   * Declares that the strategy uses market regimes: the kernel runs the regime detector on every symbol's
   * execution bars with these options, gives the state through the context, and applies its crisis rule
   * (REDUCING while the crisis share of symbols is reached).
   */
  readonly regime?: Partial<RegimeOptions>;
}

export function assertStrategyCompatible(s: Strategy): void {
  if (s.apiVersion !== STRATEGY_API_VERSION)
    throw new RangeError(
      `strategy ${s.name}: apiVersion ${String(s.apiVersion)} is not supported (this engine implements ${STRATEGY_API_VERSION})`,
    );
  if (!(Number.isInteger(s.warmUpBars) && s.warmUpBars >= 0))
    throw new RangeError(`strategy ${s.name}: warmUpBars ${s.warmUpBars} must be a non-negative integer`);
  if (s.timeframes.length === 0) throw new RangeError(`strategy ${s.name}: timeframes must not be empty`);
}
