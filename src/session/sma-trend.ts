import type { Decision, SessionPosition, StrategyParams } from '../../contracts/session';
import type { Bar } from '../model/bar';

/**
 * The session's default strategy: trend by two simple moving averages of 1-minute closes. Fast above slow →
 * long `weight` of equity, below → short, equal or not enough history → hold what is held. Deterministic and
 * cheap, so replay, backtest parity and chaos runs exercise the execution path with real order flow.
 */
export function smaTrendDecisions(
  barsBySymbol: ReadonlyMap<string, readonly Bar[]>,
  params: StrategyParams,
  equity: number,
  positions: readonly SessionPosition[],
): Decision[] {
  const held = new Map(positions.map((p) => [p.symbol, p.qty]));
  const out: Decision[] = [];
  for (const [symbol, bars] of [...barsBySymbol.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const last = bars[bars.length - 1];
    if (!last) continue;
    const current = held.get(symbol) ?? 0;
    if (bars.length < params.slow) {
      out.push({ symbol, targetQty: current, refPrice: last.close });
      continue;
    }
    const fast = mean(bars, params.fast);
    const slow = mean(bars, params.slow);
    const size = Math.floor((params.weight * equity) / last.close);
    const targetQty = fast > slow ? size : fast < slow ? -size : current;
    out.push({ symbol, targetQty, refPrice: last.close });
  }
  return out;
}

function mean(bars: readonly Bar[], n: number): number {
  let s = 0;
  for (let i = bars.length - n; i < bars.length; i++) s += bars[i]!.close;
  return s / n;
}
