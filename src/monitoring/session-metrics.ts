import {
  observeDecisionLatency,
  recordOrderRejected,
  recordOrderSubmitted,
  setAccountSnapshot,
  setDataFreshness,
  setPnl,
} from './metrics';

/**
 * What the trading-session activities report to /metrics. Activities receive this as an optional dependency,
 * so they stay free of metric names; the worker wires `prometheusSessionMetrics(account)`.
 */
export interface SessionMetrics {
  ordersAcknowledged(
    orders: ReadonlyArray<{ symbol: string; side: 'buy' | 'sell'; type: string }>,
    acks: ReadonlyArray<{ alreadyExisted: boolean; rejected: string | null }>,
  ): void;
  portfolio(p: {
    equity: number;
    lastEquity: number;
    positions: ReadonlyArray<{ symbol: string; qty: number; avgPrice: number; lastPrice: number }>;
  }): void;
  decided(p: {
    timeframe: string;
    seconds: number;
    barTs: number;
    barMs: number;
    symbols: readonly string[];
  }): void;
}

/** `account` labels the broker account this worker trades (bounded: one per execution worker). */
export function prometheusSessionMetrics(account: string, model = 'strategy'): SessionMetrics {
  return {
    ordersAcknowledged(orders, acks) {
      orders.forEach((o, i) => {
        const a = acks[i];
        // A resubmitted order the broker already had is not a new submission.
        if (!a || a.alreadyExisted) return;
        if (a.rejected) recordOrderRejected(o.symbol, classifyReject(a.rejected));
        else recordOrderSubmitted({ ticker: o.symbol, side: o.side, orderType: o.type });
      });
    },
    portfolio(p) {
      setAccountSnapshot({
        account,
        equityDollars: p.equity,
        startOfDayEquityDollars: p.lastEquity > 0 ? p.lastEquity : p.equity,
        positions: p.positions.map((x) => ({
          ticker: x.symbol,
          quantity: x.qty,
          marketValueDollars: x.qty * x.lastPrice,
        })),
      });
      for (const x of p.positions) {
        setPnl({
          ticker: x.symbol,
          timeframe: '1m',
          model,
          realizedDollars: 0,
          unrealizedDollars: x.qty * (x.lastPrice - x.avgPrice),
        });
      }
    },
    decided(p) {
      observeDecisionLatency(p.timeframe, p.seconds, 'end_to_end');
      for (const s of p.symbols) setDataFreshness(s, p.timeframe, p.barTs + p.barMs);
    },
  };
}

/** Maps a broker's rejection text onto the bounded reason labels of ORDER_REJECT_REASONS. */
function classifyReject(message: string): string {
  const m = message.toLowerCase();
  if (m.includes('buying power')) return 'insufficient_buying_power';
  if (m.includes('pattern day')) return 'pdt_rule';
  if (m.includes('market') && m.includes('closed')) return 'market_closed';
  if (m.includes('client_order_id') || m.includes('duplicate')) return 'duplicate';
  if (m.includes('invalid') || m.includes('symbol') || m.includes('asset') || m.includes('qty'))
    return 'invalid_order';
  return 'broker_error';
}
