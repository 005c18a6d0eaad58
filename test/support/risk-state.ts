import type { RiskState } from '../../src/risk/types';

/** A $100k ACTIVE account with no positions at t = 1,000,000 ms, fresh data for `symbols`; `over` replaces fields. */
export function riskState(symbols: readonly string[], over: Partial<RiskState> = {}): RiskState {
  return {
    mode: 'ACTIVE',
    now: 1_000_000,
    equity: 100_000,
    buyingPower: 100_000,
    dayStartEquity: 100_000,
    monthStartEquity: 100_000,
    quarterStartEquity: 100_000,
    positions: [],
    lastDataTs: Object.fromEntries(symbols.map((s) => [s, 1_000_000])),
    dayTradesInWindow: 0,
    ...over,
  };
}
