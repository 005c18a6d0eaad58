import { nyDate } from '../market/calendar';
import { parseClientOrderId } from '../model/client-order-id';
import {
  observeDecisionLatency,
  recordOrderFilled,
  recordOrderRejected,
  recordOrderSubmitted,
  recordRiskBreach,
  recordRiskDenial,
  setAccountSnapshot,
  setDataFreshness,
  setPnl,
  setRiskState,
  setSessionModel,
  type RiskStateLabel,
} from './metrics';

/**
 * What the trading-session activities report to /metrics. Activities receive this as an optional dependency,
 * so they stay free of metric names; the worker wires `prometheusSessionMetrics(account)`.
 */
export interface SessionMetrics {
  /** A batch of submits and the broker's answers; `refPrice` (the decision price) is kept for the fill's slippage. */
  ordersAcknowledged(
    orders: ReadonlyArray<{
      clientOrderId?: string;
      symbol: string;
      side: 'buy' | 'sell';
      type: string;
      refPrice?: number;
    }>,
    acks: ReadonlyArray<{ alreadyExisted: boolean; rejected: string | null }>,
  ): void;
  /**
   * The broker's recent orders, read at each account sync: each complete fill is counted once (with its slippage
   * against the decision price, when this process placed the order), and every fill of the day adds to the
   * realised P&L of its symbol.
   */
  ordersObserved(orders: ReadonlyArray<ObservedOrder>): void;
  /** After each decision: the risk engine's state and readings, breakers tripped and commands denied at it. */
  riskChecked(p: {
    state: RiskStateLabel;
    openRiskRatio: number;
    drawdownRatio: number;
    dailyLossLimitRatio: number;
    /** the limits whose breaker tripped at this decision (the account left ACTIVE) */
    breaches: readonly string[];
    /** the rule of each command the engine denied */
    denials: readonly string[];
  }): void;
  /** What decides the trades: the model id, or `indicator-fallback` for a strategy without a model. */
  modelInUse(model: string | null): void;
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

/** An order as the broker lists it (src/model/order.ts), the fields the metrics read. */
export interface ObservedOrder {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly status: string;
  readonly filledQty: number;
  readonly filledAvgPrice?: number;
  readonly legs?: ReadonlyArray<ObservedOrder>;
}

/** The label of a session whose strategy trades without a model. */
export const INDICATOR_FALLBACK = 'indicator-fallback';

/** Orders' decision prices kept for their fills (the oldest are dropped beyond this). */
const MAX_DECISION_PRICES = 20_000;

/**
 * `account` labels the broker account this worker trades (bounded: one per execution worker; the io and execution
 * workers are given the same label, so the daily-loss alert joins the execution side's daily P&L with the io side's
 * limit).
 */
export function prometheusSessionMetrics(account: string, model = 'strategy'): SessionMetrics {
  const decisionPrice = new Map<string, number>();
  const counted = new Set<string>();
  /** the trading day (New York) the realised cash flows belong to, by the session orders' decision times */
  let day = '';
  /** client order id → its symbol, the cash its fills moved so far (+ sold, − bought) and their notional */
  const cash = new Map<string, { symbol: string; dollars: number; notional: number }>();
  return {
    ordersAcknowledged(orders, acks) {
      orders.forEach((o, i) => {
        const a = acks[i];
        if (o.clientOrderId && o.refPrice !== undefined && o.refPrice > 0 && a && !a.rejected) {
          if (decisionPrice.size >= MAX_DECISION_PRICES)
            decisionPrice.delete(decisionPrice.keys().next().value!);
          decisionPrice.set(o.clientOrderId, o.refPrice);
        }
        // A resubmitted order the broker already had is not a new submission.
        if (!a || a.alreadyExisted) return;
        if (a.rejected) recordOrderRejected(o.symbol, classifyReject(a.rejected));
        else recordOrderSubmitted({ ticker: o.symbol, side: o.side, orderType: o.type });
      });
    },
    ordersObserved(listed) {
      // a bracket's or OCO's legs are listed inside their parent: they trade the day of the parent's decision
      const orders = listed.flatMap((o) => [
        { o, dayOf: o.clientOrderId },
        ...(o.legs ?? []).map((leg) => ({ o: leg, dayOf: o.clientOrderId })),
      ]);
      for (const { o, dayOf } of orders) {
        if (!(o.filledQty > 0) || o.filledAvgPrice === undefined) continue;
        const parts = parseClientOrderId(o.clientOrderId) ?? parseClientOrderId(dayOf);
        if (parts) {
          const d = nyDate(parts.barTs);
          if (d > day) {
            day = d;
            cash.clear();
          }
          if (d === day)
            cash.set(o.clientOrderId, {
              symbol: o.symbol,
              dollars: (o.side === 'sell' ? 1 : -1) * o.filledQty * o.filledAvgPrice,
              notional: o.filledQty * o.filledAvgPrice,
            });
        }
        if (o.status !== 'filled' || counted.has(o.clientOrderId)) continue;
        counted.add(o.clientOrderId);
        if (counted.size > MAX_DECISION_PRICES) counted.delete(counted.values().next().value!);
        recordOrderFilled({
          ticker: o.symbol,
          side: o.side,
          quantity: o.filledQty,
          fillPrice: o.filledAvgPrice,
          decisionPrice: decisionPrice.get(o.clientOrderId),
        });
        decisionPrice.delete(o.clientOrderId);
      }
    },
    riskChecked(p) {
      setRiskState({
        account,
        state: p.state,
        openRiskRatio: p.openRiskRatio,
        drawdownRatio: p.drawdownRatio,
        dailyLossLimitRatio: p.dailyLossLimitRatio,
      });
      for (const limit of p.breaches) recordRiskBreach(account, limit);
      for (const rule of p.denials) recordRiskDenial(account, rule);
    },
    modelInUse(m) {
      setSessionModel(account, m ?? INDICATOR_FALLBACK);
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
      // Realised: the day's cash flows of a symbol's fills plus what its open quantity cost (at the average
      // price), so realised + unrealised is the symbol's P&L at its fill prices since its first fill of the day.
      // What the account's daily P&L holds beyond that (commissions and fees, which no fill price shows) is realised
      // too, shared among the symbols by their traded notional, so the symbols add up to the day's P&L.
      const flows = new Map<string, { dollars: number; notional: number }>();
      for (const c of cash.values()) {
        const f = flows.get(c.symbol) ?? { dollars: 0, notional: 0 };
        flows.set(c.symbol, { dollars: f.dollars + c.dollars, notional: f.notional + c.notional });
      }
      const open = new Map(p.positions.map((x) => [x.symbol, x]));
      const rows = [...new Set([...flows.keys(), ...open.keys()])].map((symbol) => {
        const x = open.get(symbol);
        const f = flows.get(symbol);
        return {
          symbol,
          notional: f?.notional ?? 0,
          realised: f === undefined ? 0 : f.dollars + (x ? x.qty * x.avgPrice : 0),
          unrealised: x ? x.qty * (x.lastPrice - x.avgPrice) : 0,
        };
      });
      const traded = rows.reduce((a, r) => a + r.notional, 0);
      const sod = p.lastEquity > 0 ? p.lastEquity : p.equity;
      const costs = p.equity - sod - rows.reduce((a, r) => a + r.realised + r.unrealised, 0);
      for (const r of rows)
        setPnl({
          ticker: r.symbol,
          timeframe: '1m',
          model,
          realizedDollars: round2(r.realised + (traded > 0 ? (costs * r.notional) / traded : 0)),
          unrealizedDollars: r.unrealised,
        });
    },
    decided(p) {
      observeDecisionLatency(p.timeframe, p.seconds, 'end_to_end');
      for (const s of p.symbols) setDataFreshness(s, p.timeframe, p.barTs + p.barMs);
    },
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
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
