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
