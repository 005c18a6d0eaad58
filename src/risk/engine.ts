/**
 * The risk engine: stands between every strategy command and the broker, in backtest, paper and live.
 * Pure and deterministic (no clock, no randomness, no I/O) so the TradingSession workflow runs it directly.
 *
 *   check(command, state)  → approved | denied(rule, reason)
 *   evaluate(state)        → ACTIVE | REDUCING | HALTED (+ flatten) from the circuit breakers
 *
 * Risk-reducing orders (exits, flattening) are always approved, even when HALTED: a breaker must never trap
 * a position. Everything that adds exposure passes every limit, evaluated as if it filled at `refPrice`.
 */
import type { Command, SubmitCommand } from '../model/command';
import { instrumentFor } from '../model/instrument';
import { validateOrderSpec } from '../model/order';
import {
  type ModeEvaluation,
  type RiskDecision,
  type RiskLimits,
  type RiskPosition,
  type RiskRule,
  type RiskState,
} from './types';

const deny = (rule: RiskRule, reason: string): RiskDecision => ({ approved: false, rule, reason });
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function lossFraction(equity: number, start: number): number {
  return start > 0 ? (start - equity) / start : 0;
}

export function maxPositionsFor(limits: RiskLimits, equity: number): number {
  let max = limits.positionCountTiers[0]!.maxPositions;
  for (const t of limits.positionCountTiers) if (equity >= t.minEquity) max = t.maxPositions;
  return max;
}

/** Dollars lost if the position's stop is hit (its whole default-stop distance when it has none). */
export function positionRisk(p: RiskPosition, limits: RiskLimits): number {
  const q = Math.abs(p.qty);
  if (p.stopPrice !== undefined && p.stopPrice > 0) {
    const adverse = p.qty > 0 ? p.price - p.stopPrice : p.stopPrice - p.price;
    // a stop already beyond the price (in profit) still carries gap risk: never count less than zero
    return q * Math.max(0, adverse);
  }
  return q * p.price * limits.defaultStopFraction;
}

/** All exposures that limits are measured on, with pending entries counted as filled. */
export interface ExposureReport {
  readonly positionNotional: Readonly<Record<string, number>>;
  readonly openRisk: number;
  readonly groupNotional: Readonly<Record<string, number>>;
  readonly sectorNotional: Readonly<Record<string, number>>;
  readonly positionCount: number;
  readonly grossNotional: number;
}

export function exposures(positions: readonly RiskPosition[], limits: RiskLimits): ExposureReport {
  const positionNotional: Record<string, number> = {};
  const groupNotional: Record<string, number> = {};
  const sectorNotional: Record<string, number> = {};
  const netQty: Record<string, number> = {};
  let openRisk = 0;
  let gross = 0;
  for (const p of positions) {
    const n = p.qty * p.price;
    positionNotional[p.symbol] = (positionNotional[p.symbol] ?? 0) + n;
    netQty[p.symbol] = (netQty[p.symbol] ?? 0) + p.qty;
    openRisk += positionRisk(p, limits);
    gross += Math.abs(n);
    const g = p.correlationGroup ?? p.symbol;
    groupNotional[g] = (groupNotional[g] ?? 0) + Math.abs(n);
    if (p.sector) sectorNotional[p.sector] = (sectorNotional[p.sector] ?? 0) + Math.abs(n);
  }
  const positionCount = Object.values(netQty).filter((q) => Math.abs(q) > 1e-12).length;
  return { positionNotional, openRisk, groupNotional, sectorNotional, positionCount, grossNotional: gross };
}

export function checkCommand(command: Command, state: RiskState, limits: RiskLimits): RiskDecision {
  if (command.kind === 'cancel') return { approved: true, riskReducing: true };
  if (command.kind === 'flatten') return { approved: true, riskReducing: true };
  return checkSubmit(command, state, limits);
}

/**
 * What an order does to the symbol's position: the signed quantity before and after it, and the part of it
 * that opens new exposure (a flip's excess beyond the current position; 0 for an order that only reduces).
 */
export function positionChange(
  state: RiskState,
  order: { readonly symbol: string; readonly side: 'buy' | 'sell'; readonly qty: number },
): { pos: number; after: number; openingQty: number } {
  let pos = state.batchNet?.[order.symbol] ?? 0;
  for (const p of state.positions) if (p.symbol === order.symbol) pos += p.qty;
  const after = pos + (order.side === 'buy' ? order.qty : -order.qty);
  const openingQty = Math.abs(after) - (Math.sign(after) === Math.sign(pos) ? Math.abs(pos) : 0);
  return { pos, after, openingQty };
}

function checkSubmit(cmd: SubmitCommand, state: RiskState, limits: RiskLimits): RiskDecision {
  const o = cmd.order;
  const problem = validateOrderSpec(o);
  if (problem) return deny('invalid_order', problem);
  if (!(cmd.refPrice > 0) || !Number.isFinite(cmd.refPrice))
    return deny('invalid_order', `refPrice: ${cmd.refPrice} must be a positive price`);
  if (!(state.equity > 0))
    return deny('buying_power', `equity: ${state.equity} leaves nothing to trade with`);

  const { pos, after, openingQty } = positionChange(state, o);
  const reducing =
    Math.abs(after) <= Math.abs(pos) + 1e-12 && (after === 0 || Math.sign(after) === Math.sign(pos));
  if (reducing) return { approved: true, riskReducing: true };

  // ---- from here on the order adds exposure
  if (after < 0 && !instrumentFor(o.symbol).shortable)
    return deny('not_shortable', `${o.symbol} cannot be sold short (its venue does not lend it)`);
  if (state.mode === 'HALTED')
    return deny('halted', `trading is HALTED (${state.modeReason ?? 'breaker'}): only exits are allowed`);
  if (state.mode === 'REDUCING')
    return deny('reducing', `risk is REDUCING (${state.modeReason ?? 'breaker'}): no new exposure`);
  const day = lossFraction(state.equity, state.dayStartEquity);
  if (day >= limits.dailyLossLimit)
    return deny('daily_loss', `daily loss ${pct(day)} has reached the ${pct(limits.dailyLossLimit)} limit`);
  const month = lossFraction(state.equity, state.monthStartEquity);
  if (month >= limits.monthlyLossLimit)
    return deny(
      'monthly_loss',
      `monthly loss ${pct(month)} has reached the ${pct(limits.monthlyLossLimit)} limit`,
    );
  const quarter = lossFraction(state.equity, state.quarterStartEquity);
  if (quarter >= limits.quarterlyLossLimit)
    return deny(
      'quarterly_loss',
      `quarterly loss ${pct(quarter)} has reached the ${pct(limits.quarterlyLossLimit)} limit`,
    );
  const seen = state.lastDataTs[o.symbol];
  if (seen === undefined)
    return deny('stale_data', `${o.symbol}: no market data seen; no entries without data`);
  if (state.now - seen > limits.staleDataMs)
    return deny(
      'stale_data',
      `${o.symbol}: newest data is ${Math.round((state.now - seen) / 1000)}s old (limit ${Math.round(limits.staleDataMs / 1000)}s)`,
    );
  if (state.equity < limits.pdtEquityThreshold && state.dayTradesInWindow >= limits.pdtMaxDayTrades) {
    return deny(
      'pattern_day_trader',
      `equity $${state.equity.toFixed(0)} < $${limits.pdtEquityThreshold} and ${state.dayTradesInWindow} day trades in 5 business days: another round trip would flag the account`,
    );
  }

  const px = cmd.refPrice;
  if (limits.maxOrderNotional !== null && o.qty * px > limits.maxOrderNotional + 1e-9)
    return deny(
      'order_notional',
      `order notional $${(o.qty * px).toFixed(2)} exceeds the $${limits.maxOrderNotional} cap`,
    );
  // only the part beyond the current position (a flip's excess) is new exposure: openingQty
  const pending = state.pendingEntries ?? [];
  let pendingNotional = 0;
  for (const p of pending) pendingNotional += Math.abs(p.qty * p.price);
  const newNotional = openingQty * px;
  if (newNotional > state.buyingPower - pendingNotional + 1e-9) {
    return deny(
      'buying_power',
      `order needs $${newNotional.toFixed(2)}, buying power left is $${Math.max(0, state.buyingPower - pendingNotional).toFixed(2)}`,
    );
  }

  const existing = state.positions.filter((p) => p.symbol === o.symbol);
  const stop = cmd.riskStopPrice;
  const newPos: RiskPosition = {
    symbol: o.symbol,
    qty: after,
    price: px,
    stopPrice: stop ?? existing[0]?.stopPrice,
    sector: cmd.sector ?? existing[0]?.sector,
    correlationGroup: cmd.correlationGroup ?? existing[0]?.correlationGroup,
  };
  const others = state.positions.filter((p) => p.symbol !== o.symbol);
  const book = [...others, ...pending, newPos];
  const x = exposures(book, limits);
  const eq = state.equity;

  const symNotional = Math.abs(x.positionNotional[o.symbol] ?? 0);
  if (symNotional > limits.maxPositionFraction * eq + 1e-9)
    return deny(
      'single_position',
      `${o.symbol} would be ${pct(symNotional / eq)} of equity (limit ${pct(limits.maxPositionFraction)})`,
    );
  if (limits.maxGrossExposure !== null && x.grossNotional > limits.maxGrossExposure * eq + 1e-9)
    return deny(
      'gross_exposure',
      `gross exposure would be ${pct(x.grossNotional / eq)} of equity (limit ${pct(limits.maxGrossExposure)})`,
    );
  const maxPos = maxPositionsFor(limits, eq);
  if (x.positionCount > maxPos)
    return deny(
      'position_count',
      `${x.positionCount} positions would exceed ${maxPos} allowed at equity $${eq.toFixed(0)}`,
    );
  if (x.openRisk > limits.maxOpenRiskFraction * eq + 1e-9)
    return deny(
      'total_open_risk',
      `open risk to stops would be ${pct(x.openRisk / eq)} of equity (limit ${pct(limits.maxOpenRiskFraction)})`,
    );
  const group = newPos.correlationGroup ?? o.symbol;
  const g = x.groupNotional[group] ?? 0;
  if (g > limits.maxCorrelatedFraction * eq + 1e-9)
    return deny(
      'correlated_exposure',
      `correlated group "${group}" would be ${pct(g / eq)} of equity (limit ${pct(limits.maxCorrelatedFraction)})`,
    );
  if (newPos.sector) {
    const s = x.sectorNotional[newPos.sector] ?? 0;
    if (s > limits.maxSectorFraction * eq + 1e-9)
      return deny(
        'sector_exposure',
        `sector "${newPos.sector}" would be ${pct(s / eq)} of equity (limit ${pct(limits.maxSectorFraction)})`,
      );
  }
  return { approved: true, riskReducing: false };
}

/**
 * Circuit breakers. Daily/monthly/quarterly loss → HALTED and flatten (HALTED stays until the caller starts a
 * new day with fresh start-of-period equity, or an operator clears a manual halt); volatility spike →
 * REDUCING (no new exposure, exits allowed). Stale data is handled per symbol by `check` (no entries).
 */
export function evaluateMode(state: RiskState, limits: RiskLimits): ModeEvaluation {
  if (state.manualHalt) return { mode: 'HALTED', reason: 'halted by operator', flatten: false };
  const day = lossFraction(state.equity, state.dayStartEquity);
  if (day >= limits.dailyLossLimit)
    return {
      mode: 'HALTED',
      reason: `daily loss ${pct(day)} >= ${pct(limits.dailyLossLimit)}`,
      flatten: true,
    };
  const month = lossFraction(state.equity, state.monthStartEquity);
  if (month >= limits.monthlyLossLimit)
    return {
      mode: 'HALTED',
      reason: `monthly loss ${pct(month)} >= ${pct(limits.monthlyLossLimit)}`,
      flatten: true,
    };
  const quarter = lossFraction(state.equity, state.quarterStartEquity);
  if (quarter >= limits.quarterlyLossLimit)
    return {
      mode: 'HALTED',
      reason: `quarterly loss ${pct(quarter)} >= ${pct(limits.quarterlyLossLimit)}`,
      flatten: true,
    };
  if (state.mode === 'HALTED')
    return { mode: 'HALTED', reason: state.modeReason ?? 'halted earlier today', flatten: false };
  if ((state.volatilityRatio ?? 1) >= limits.volatilitySpikeRatio) {
    return {
      mode: 'REDUCING',
      reason: `volatility ${state.volatilityRatio!.toFixed(2)}× baseline >= ${limits.volatilitySpikeRatio}×`,
      flatten: false,
    };
  }
  return { mode: 'ACTIVE', reason: 'within limits', flatten: false };
}
