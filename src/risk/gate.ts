/**
 * The risk gate every strategy command passes before a broker sees it, shared by the backtester and the
 * trading-session workflow so both approve and deny the same commands. Commands are checked in the strategy's
 * order against the decision's state snapshot, and every approved entry is then counted as a working entry
 * (pending, at its reference price) before the next command is checked: a batch of entries in one bar cannot
 * together exceed the position-count, buying-power or exposure limits that each alone would pass.
 * Risk-reducing orders are not credited (a fill is not certain), which errs on the safe side.
 * Pure: workflows may import it.
 */
import type { Command, SubmitCommand } from '../model/command';
import { checkCommand, positionChange } from './engine';
import type { RiskDecision, RiskLimits, RiskPosition, RiskRule, RiskState } from './types';

export interface GateDenial {
  readonly command: Command;
  readonly symbol: string;
  readonly clientOrderId: string;
  readonly rule: RiskRule;
  readonly reason: string;
}

export interface GateResult {
  /** approved commands in the strategy's order, with whether each only reduces exposure */
  readonly approved: Array<{ readonly command: Command; readonly riskReducing: boolean }>;
  readonly denied: GateDenial[];
}

export function gateCommands(commands: readonly Command[], state: RiskState, limits: RiskLimits): GateResult {
  const approved: GateResult['approved'] = [];
  const denied: GateDenial[] = [];
  let current = state;
  let entries = 0;
  for (const c of commands) {
    const d =
      limits.maxOrdersPerCycle !== null && c.kind === 'submit' && entries >= limits.maxOrdersPerCycle
        ? capReached(c, current, limits)
        : checkCommand(c, current, limits);
    if (d.approved) {
      approved.push({ command: c, riskReducing: d.riskReducing });
      if (!d.riskReducing && c.kind === 'submit') {
        current = withPendingEntry(current, c);
        entries++;
      }
      current = withBatchNet(current, c);
    } else
      denied.push({
        command: c,
        symbol: c.kind === 'submit' ? c.order.symbol : c.kind === 'flatten' ? c.symbol : '',
        clientOrderId: c.kind === 'submit' ? c.order.clientOrderId : c.clientOrderId,
        rule: d.rule,
        reason: d.reason,
      });
  }
  return { approved, denied };
}

/**
 * Later commands of the same symbol are judged against the position the approved ones leave (a flip's entry leg
 * after its exit leg; anything after a flatten). Limits still count only positions and working entries: an exit
 * is not credited before it fills.
 */
function withBatchNet(state: RiskState, c: Command): RiskState {
  if (c.kind === 'cancel') return state;
  const symbol = c.kind === 'submit' ? c.order.symbol : c.symbol;
  const { pos } = positionChange(state, { symbol, side: 'buy', qty: 0 });
  const delta = c.kind === 'flatten' ? -pos : c.order.side === 'buy' ? c.order.qty : -c.order.qty;
  const batchNet = { ...(state.batchNet ?? {}), [symbol]: (state.batchNet?.[symbol] ?? 0) + delta };
  return Object.assign({}, state, { batchNet });
}

/** Past the per-decision cap only orders that reduce exposure still pass. */
function capReached(c: SubmitCommand, state: RiskState, limits: RiskLimits): RiskDecision {
  const d = checkCommand(c, state, limits);
  if (d.approved && d.riskReducing) return d;
  return {
    approved: false,
    rule: 'orders_per_cycle',
    reason: `${limits.maxOrdersPerCycle} orders adding exposure already approved in this decision`,
  };
}

/** The opening part of an approved entry (a flip's excess beyond the current position), as a working entry. */
function withPendingEntry(state: RiskState, c: SubmitCommand): RiskState {
  const o = c.order;
  const { after, openingQty: opening } = positionChange(state, o);
  if (!(opening > 0)) return state;
  const held = state.positions.find((p) => p.symbol === o.symbol);
  const entry: RiskPosition = {
    symbol: o.symbol,
    qty: Math.sign(after) * opening,
    price: c.refPrice,
    stopPrice: c.riskStopPrice ?? held?.stopPrice,
    sector: c.sector ?? held?.sector,
    correlationGroup: c.correlationGroup ?? held?.correlationGroup,
  };
  return Object.assign({}, state, { pendingEntries: [...(state.pendingEntries ?? []), entry] });
}
