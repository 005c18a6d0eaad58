/**
 * The risk gate every strategy command passes before a broker sees it, shared by the backtester and the
 * trading-session workflow so both approve and deny the same commands: each command is checked against the
 * same state snapshot (taken once per decision), in the strategy's order. Pure: workflows may import it.
 */
import type { Command } from '../model/command';
import { checkCommand } from './engine';
import type { RiskLimits, RiskRule, RiskState } from './types';

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
  for (const c of commands) {
    const d = checkCommand(c, state, limits);
    if (d.approved) approved.push({ command: c, riskReducing: d.riskReducing });
    else
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
