/**
 * Risk state, limits and decisions: plain JSON so the TradingSession workflow can hold them and replay them.
 * Time is an argument (`now`), never read from a clock, so decisions are deterministic.
 */
export type RiskMode = 'ACTIVE' | 'REDUCING' | 'HALTED';

export const RISK_RULES = [
  'invalid_order',
  'halted',
  'reducing',
  'daily_loss',
  'monthly_loss',
  'quarterly_loss',
  'stale_data',
  'buying_power',
  'single_position',
  'position_count',
  'total_open_risk',
  'correlated_exposure',
  'sector_exposure',
  'pattern_day_trader',
  'order_notional',
  'gross_exposure',
  'orders_per_cycle',
  'not_shortable',
] as const;
export type RiskRule = (typeof RISK_RULES)[number];

export interface RiskPosition {
  readonly symbol: string;
  /** signed quantity */
  readonly qty: number;
  /** latest price */
  readonly price: number;
  /** protective stop; without one the position's risk is price × defaultStopFraction */
  readonly stopPrice?: number;
  readonly sector?: string;
  readonly correlationGroup?: string;
}

export interface RiskState {
  readonly mode: RiskMode;
  readonly modeReason?: string;
  /** epoch ms of the decision */
  readonly now: number;
  readonly equity: number;
  readonly buyingPower: number;
  readonly dayStartEquity: number;
  readonly monthStartEquity: number;
  readonly quarterStartEquity: number;
  readonly positions: readonly RiskPosition[];
  /** working entry orders, counted against the limits as if filled */
  readonly pendingEntries?: readonly RiskPosition[];
  /** epoch ms of the newest bar per symbol */
  readonly lastDataTs: Readonly<Record<string, number>>;
  /** day trades inside the rolling five-business-day window */
  readonly dayTradesInWindow: number;
  /** current realized volatility over its baseline (1 = normal) */
  readonly volatilityRatio?: number;
  /** set by an operator: stays HALTED until cleared */
  readonly manualHalt?: boolean;
  /**
   * Signed quantity per symbol of the orders already approved in this decision (the gate fills it in): the
   * second leg of a flip is judged against the position the first leg leaves, so it is an entry, not an exit.
   */
  readonly batchNet?: Readonly<Record<string, number>>;
}

export interface PositionCountTier {
  readonly minEquity: number;
  readonly maxPositions: number;
}

export interface RiskLimits {
  readonly maxPositionFraction: number;
  readonly maxOpenRiskFraction: number;
  readonly maxCorrelatedFraction: number;
  readonly maxSectorFraction: number;
  readonly dailyLossLimit: number;
  readonly monthlyLossLimit: number;
  readonly quarterlyLossLimit: number;
  /** ascending by minEquity; the last tier whose minEquity <= equity applies */
  readonly positionCountTiers: readonly PositionCountTier[];
  readonly pdtEquityThreshold: number;
  /** day trades allowed in five business days under the threshold (FINRA: a fourth makes a pattern day trader) */
  readonly pdtMaxDayTrades: number;
  readonly staleDataMs: number;
  readonly volatilitySpikeRatio: number;
  readonly defaultStopFraction: number;
  /** largest notional of one order that adds exposure, dollars (null: no cap) */
  readonly maxOrderNotional: number | null;
  /** sum of |position value| with working entries, over equity (null: no cap) */
  readonly maxGrossExposure: number | null;
  /** orders that add exposure approved in one decision (null: no cap): a runaway strategy cannot flood the broker */
  readonly maxOrdersPerCycle: number | null;
}

export const DEFAULT_RISK_LIMITS: RiskLimits = {
  maxPositionFraction: 0.05,
  maxOpenRiskFraction: 0.2,
  maxCorrelatedFraction: 0.1,
  maxSectorFraction: 0.25,
  dailyLossLimit: 0.03,
  monthlyLossLimit: 0.08,
  quarterlyLossLimit: 0.15,
  positionCountTiers: [
    { minEquity: 0, maxPositions: 3 },
    { minEquity: 25_000, maxPositions: 5 },
    { minEquity: 100_000, maxPositions: 10 },
    { minEquity: 1_000_000, maxPositions: 20 },
  ],
  pdtEquityThreshold: 25_000,
  pdtMaxDayTrades: 3,
  staleDataMs: 5 * 60_000,
  volatilitySpikeRatio: 2.5,
  defaultStopFraction: 0.05,
  maxOrderNotional: null,
  maxGrossExposure: null,
  maxOrdersPerCycle: null,
};

export function riskLimits(overrides: Partial<RiskLimits> = {}): RiskLimits {
  const l = { ...DEFAULT_RISK_LIMITS, ...overrides };
  const fractions: Array<keyof RiskLimits> = [
    'maxPositionFraction',
    'maxOpenRiskFraction',
    'maxCorrelatedFraction',
    'maxSectorFraction',
    'dailyLossLimit',
    'monthlyLossLimit',
    'quarterlyLossLimit',
    'defaultStopFraction',
  ];
  for (const k of fractions) {
    const v = l[k] as number;
    if (!(v > 0 && v <= 1)) throw new RangeError(`risk.${k}: ${v} must be a fraction in (0, 1]`);
  }
  if (!(l.staleDataMs > 0)) throw new RangeError(`risk.staleDataMs: ${l.staleDataMs} must be > 0`);
  if (!(l.volatilitySpikeRatio > 1))
    throw new RangeError(`risk.volatilitySpikeRatio: ${l.volatilitySpikeRatio} must be > 1`);
  if (l.maxOrderNotional !== null && !(l.maxOrderNotional > 0 && Number.isFinite(l.maxOrderNotional)))
    throw new RangeError(
      `risk.maxOrderNotional: ${l.maxOrderNotional} must be a positive dollar amount or null`,
    );
  if (l.maxGrossExposure !== null && !(l.maxGrossExposure > 0 && l.maxGrossExposure <= 10))
    throw new RangeError(
      `risk.maxGrossExposure: ${l.maxGrossExposure} must be a fraction of equity in (0, 10] or null`,
    );
  if (l.maxOrdersPerCycle !== null && !(Number.isInteger(l.maxOrdersPerCycle) && l.maxOrdersPerCycle > 0))
    throw new RangeError(`risk.maxOrdersPerCycle: ${l.maxOrdersPerCycle} must be a positive integer or null`);
  if (l.positionCountTiers.length === 0)
    throw new RangeError('risk.positionCountTiers: at least one tier is required');
  return l;
}

export type RiskDecision =
  | { readonly approved: true; readonly riskReducing: boolean }
  | { readonly approved: false; readonly rule: RiskRule; readonly reason: string };

export interface ModeEvaluation {
  readonly mode: RiskMode;
  readonly reason: string;
  /** the breaker asks for every position to be closed (daily loss) */
  readonly flatten: boolean;
}

/**
 * The limits an operator sets for a trading session (at start, or during the day through `setRiskLimits`);
 * every other limit is the engine's default. Same names as RiskLimits: one vocabulary from CLI to engine.
 */
export type OperatorLimits = {
  readonly maxPositionFraction: number;
  readonly maxGrossExposure: number;
  readonly dailyLossLimit: number;
  readonly maxOrderNotional: number;
  readonly maxOrdersPerCycle: number;
};

export const DEFAULT_OPERATOR_LIMITS: OperatorLimits = {
  maxPositionFraction: 0.05,
  maxGrossExposure: 1,
  dailyLossLimit: 0.03,
  maxOrderNotional: 25_000,
  maxOrdersPerCycle: 200,
};

/** The engine's limits with an operator's settings applied. */
export function withOperatorLimits(o: OperatorLimits, base: Partial<RiskLimits> = {}): RiskLimits {
  return riskLimits({ ...base, ...o });
}

/** Validates an operator limits patch; returns the problem with the field name, or undefined. Pure. */
export function validateOperatorLimits(p: Partial<OperatorLimits>): string | undefined {
  const known = Object.keys(DEFAULT_OPERATOR_LIMITS);
  for (const k of Object.keys(p))
    if (!known.includes(k)) return `${k}: unknown risk limit (known: ${known.join(', ')})`;
  const inRange = (k: keyof OperatorLimits, max: number) => {
    const v = p[k];
    if (v === undefined) return undefined;
    return typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= max
      ? undefined
      : `${k}: ${String(v)} must be a number in (0, ${max}]`;
  };
  return (
    inRange('maxPositionFraction', 1) ??
    inRange('maxGrossExposure', 10) ??
    inRange('dailyLossLimit', 1) ??
    inRange('maxOrderNotional', 1e9) ??
    (p.maxOrdersPerCycle !== undefined && !(Number.isInteger(p.maxOrdersPerCycle) && p.maxOrdersPerCycle > 0)
      ? `maxOrdersPerCycle: ${String(p.maxOrdersPerCycle)} must be a positive integer`
      : undefined)
  );
}
