/**
 * Position sizing. The size is the smallest of:
 *  - fixed-fractional risk: at most `maxRiskFraction` (2%) of equity lost if the stop is hit, scaled by
 *    fractional Kelly (from the signal's measured win rate and payoff), volatility targeting, a drawdown
 *    haircut and a correlation haircut;
 *  - the signal tier's capital allocation (tier 1: 3–5%, tier 2: 1–2%, tier 3: 0.5–1% of equity, placed
 *    inside the band by confidence);
 *  - the single-position cap.
 * Pure and deterministic: the strategy (through its context) and the trading workflow call the same code.
 */
import { roundToStep } from '../model/instrument';

export type SignalTier = 1 | 2 | 3;

export interface SizingConfig {
  readonly maxRiskFraction: number;
  /** fraction of full Kelly (full Kelly is far too aggressive with estimated edges) */
  readonly kellyFraction: number;
  /** risk fraction used when no win/payoff statistics exist yet */
  readonly defaultRiskFraction: number;
  readonly tierAllocation: Readonly<Record<SignalTier, readonly [number, number]>>;
  readonly maxPositionFraction: number;
  /** drawdown at which new size reaches zero (linear haircut) */
  readonly drawdownForZeroSize: number;
  /** size multiplier lost per unit of average correlation with the book */
  readonly correlationHaircut: number;
  /** smallest quantity increment: 1 for whole shares, 1e-9 for crypto (the instrument's lot size) */
  readonly qtyStep: number;
}

export const DEFAULT_SIZING: SizingConfig = {
  maxRiskFraction: 0.02,
  kellyFraction: 0.25,
  defaultRiskFraction: 0.01,
  tierAllocation: { 1: [0.03, 0.05], 2: [0.01, 0.02], 3: [0.005, 0.01] },
  maxPositionFraction: 0.05,
  drawdownForZeroSize: 0.25,
  correlationHaircut: 0.5,
  qtyStep: 1,
};

export interface SizingInput {
  readonly equity: number;
  readonly price: number;
  readonly stopPrice: number;
  readonly tier: SignalTier;
  /** 0..1: where inside the tier's band */
  readonly confidence?: number;
  readonly winRate?: number;
  /** average win / average loss */
  readonly payoff?: number;
  /** realized volatility of the instrument and the target, same units */
  readonly volatility?: number;
  readonly targetVolatility?: number;
  /** current drawdown from peak equity, fraction */
  readonly drawdown?: number;
  /** average correlation with open positions, -1..1 */
  readonly correlation?: number;
}

export interface SizingResult {
  readonly qty: number;
  readonly riskFraction: number;
  readonly binding: 'risk' | 'tier' | 'position_cap' | 'no_edge' | 'invalid';
  readonly reason: string;
}

/** Kelly fraction f* = W − (1 − W) / R. */
export function kelly(winRate: number, payoff: number): number {
  if (!(payoff > 0)) return 0;
  return winRate - (1 - winRate) / payoff;
}

export function tierAllocation(cfg: SizingConfig, tier: SignalTier, confidence = 0.5): number {
  const [lo, hi] = cfg.tierAllocation[tier];
  const c = Math.min(1, Math.max(0, confidence));
  return lo + (hi - lo) * c;
}

export function sizePosition(input: SizingInput, cfg: SizingConfig = DEFAULT_SIZING): SizingResult {
  const { equity, price, stopPrice } = input;
  const perShareRisk = Math.abs(price - stopPrice);
  if (!(equity > 0) || !(price > 0) || !(perShareRisk > 0) || !Number.isFinite(perShareRisk)) {
    return {
      qty: 0,
      riskFraction: 0,
      binding: 'invalid',
      reason: `equity ${equity}, price ${price} and stop ${stopPrice} must give a positive risk per share`,
    };
  }
  let riskFraction = cfg.defaultRiskFraction;
  if (input.winRate !== undefined && input.payoff !== undefined) {
    const k = kelly(input.winRate, input.payoff);
    if (k <= 0)
      return {
        qty: 0,
        riskFraction: 0,
        binding: 'no_edge',
        reason: `Kelly ${k.toFixed(3)} <= 0: no measured edge`,
      };
    riskFraction = cfg.kellyFraction * k;
  }
  riskFraction = Math.min(cfg.maxRiskFraction, riskFraction);
  if (input.volatility !== undefined && input.targetVolatility !== undefined && input.volatility > 0) {
    riskFraction *= Math.min(1, input.targetVolatility / input.volatility);
  }
  if (input.drawdown !== undefined && input.drawdown > 0)
    riskFraction *= Math.max(0, 1 - input.drawdown / cfg.drawdownForZeroSize);
  if (input.correlation !== undefined && input.correlation > 0)
    riskFraction *= Math.max(0, 1 - cfg.correlationHaircut * Math.min(1, input.correlation));
  const qRisk = (equity * riskFraction) / perShareRisk;
  const qTier = (equity * tierAllocation(cfg, input.tier, input.confidence)) / price;
  const qCap = (equity * cfg.maxPositionFraction) / price;
  const q = Math.min(qRisk, qTier, qCap);
  const binding = q === qRisk ? 'risk' : q === qTier ? 'tier' : 'position_cap';
  return { qty: roundToStep(q, cfg.qtyStep), riskFraction, binding, reason: `sized by ${binding}` };
}
