import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { ChildFill, ExecAlgoActivities } from '../contracts/exec-algo';
import type {
  ExecutionActivities,
  OrderAck,
  PortfolioSnapshot,
  SessionOpenOrder,
  SessionPosition,
} from '../contracts/session';
import {
  OPEN_ORDER_STATUSES,
  type Broker,
  type BrokerOrder,
  type BrokerPosition,
} from '../src/execution/broker';
import type { ReplayDriver } from '../src/execution/simulator/replay-driver';
import { TradingError } from '../src/model/errors';
import type { SessionMetrics } from '../src/monitoring/session-metrics';

export interface ExecutionActivityDeps {
  readonly broker: Broker;
  /** Present in replay mode: advances the simulator's bar replay. */
  readonly replay?: ReplayDriver;
  /** Orders in flight at once per submit call (default 8). */
  readonly submitConcurrency?: number;
  /** Orders and portfolio to /metrics (the worker wires prometheusSessionMetrics). */
  readonly metrics?: SessionMetrics;
}

/**
 * execution task queue: everything that talks to the broker. Submits are exactly-once by client order id
 * (the adapter looks each id up first and treats "already exists" as success); errors map to Temporal
 * retry semantics (rejections and auth are non-retryable, transient faults retry with backoff).
 */
export function createExecutionActivities(
  deps: ExecutionActivityDeps,
): ExecutionActivities & Pick<ExecAlgoActivities, 'getOrderFills'> {
  const { broker, metrics } = deps;
  const snap = async (): Promise<PortfolioSnapshot> => {
    const { lastEquity, ...s } = await snapshot(broker);
    metrics?.portfolio({ ...s, lastEquity });
    return s;
  };
  return {
    async reconcile() {
      return wrap(snap);
    },

    async advanceReplay({ untilTs }) {
      if (!deps.replay)
        throw ApplicationFailure.nonRetryable(
          'replay: this execution worker has no bar replay (mode replay needs the simulator)',
          'ConfigError',
        );
      await wrap(() => deps.replay!.advanceTo(untilTs));
    },

    async submitOrders({ orders, advanceReplayTo }) {
      // Bounded concurrency across symbols; one symbol's orders go one after another in the plan's order (a
      // flip's close before its open, as the backtester places them), so the broker queues them identically.
      const acks: OrderAck[] = new Array(orders.length);
      const groups = new Map<string, number[]>();
      orders.forEach((o, i) => groups.set(o.symbol, [...(groups.get(o.symbol) ?? []), i]));
      const queue = [...groups.values()];
      let next = 0;
      let done = 0;
      const lane = async () => {
        while (next < queue.length) {
          for (const i of queue[next++]!) {
            const o = orders[i]!;
            try {
              const { refPrice: _ref, reason: _reason, ...request } = o;
              const r = await broker.submitOrder(request);
              acks[i] = {
                clientOrderId: o.clientOrderId,
                brokerOrderId: r.order.id,
                status: r.order.status,
                alreadyExisted: r.alreadyExisted,
                rejected: null,
              };
            } catch (e) {
              // A rejected order is an outcome, not a failure of the batch: report it and go on.
              if (e instanceof TradingError && !e.retryable && e.name === 'OrderRejectedError') {
                acks[i] = {
                  clientOrderId: o.clientOrderId,
                  brokerOrderId: null,
                  status: 'rejected',
                  alreadyExisted: false,
                  rejected: e.message,
                };
              } else throw e;
            }
            heartbeatIfInActivity(++done);
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(deps.submitConcurrency ?? 8, queue.length) }, lane));
      } catch (e) {
        // A retry resubmits the whole batch; the lookup-first submit makes the already-placed ones no-ops.
        throw toFailure(e);
      }
      metrics?.ordersAcknowledged(orders, acks);
      if (advanceReplayTo === undefined || advanceReplayTo === null) return { acks, portfolio: null };
      if (!deps.replay)
        throw ApplicationFailure.nonRetryable(
          'replay: this execution worker has no bar replay (mode replay needs the simulator)',
          'ConfigError',
        );
      await wrap(() => deps.replay!.advanceTo(advanceReplayTo));
      return { acks, portfolio: await wrap(snap) };
    },

    async syncPortfolio({ advanceReplayTo }) {
      if (advanceReplayTo !== undefined && advanceReplayTo !== null) {
        if (!deps.replay)
          throw ApplicationFailure.nonRetryable(
            'replay: this execution worker has no bar replay (mode replay needs the simulator)',
            'ConfigError',
          );
        await wrap(() => deps.replay!.advanceTo(advanceReplayTo));
      }
      return wrap(snap);
    },

    async cancelOpenOrders({ symbols, clientOrderIds }) {
      if (!symbols && !clientOrderIds) return wrap(() => broker.cancelAllOrders());
      const ids = clientOrderIds ? new Set(clientOrderIds) : null;
      return wrap(async () => {
        let n = 0;
        for (const o of await broker.listOrders({ status: 'open', ...(symbols ? { symbols } : {}) })) {
          if (ids && !ids.has(o.clientOrderId)) continue;
          await broker.cancelOrder(o.id);
          n++;
        }
        return n;
      });
    },

    async flattenAll() {
      return wrap(async () => {
        await broker.cancelAllOrders();
        let n = 0;
        for (const p of await broker.getPositions()) if (await broker.closePosition(p.symbol)) n++;
        return n;
      });
    },

    async getOrderFills({ clientOrderIds }) {
      return wrap(async () => {
        const out: ChildFill[] = [];
        for (const id of clientOrderIds) {
          const o = await broker.getOrderByClientOrderId(id);
          out.push({
            clientOrderId: id,
            qty: o?.qty ?? 0,
            filledQty: o?.filledQty ?? 0,
            avgPrice: o?.filledAvgPrice ?? null,
            status: o?.status ?? 'not_found',
          });
        }
        return out;
      });
    },

    async verifyFlat() {
      return wrap(async () => {
        const positions = (await broker.getPositions()).map(toSessionPosition);
        const openOrders = (await broker.listOrders({ status: 'open' })).length;
        return { flat: positions.length === 0 && openOrders === 0, positions, openOrders };
      });
    },
  };
}

async function snapshot(broker: Broker): Promise<PortfolioSnapshot & { lastEquity: number }> {
  const [account, positions, open] = await Promise.all([
    broker.getAccount(),
    broker.getPositions(),
    broker.listOrders({ status: 'open' }),
  ]);
  return {
    equity: account.equity,
    lastEquity: account.lastEquity,
    cash: account.cash,
    buyingPower: account.buyingPower,
    positions: positions.map(toSessionPosition),
    openOrders: open.length,
    orders: openOrderViews(open),
  };
}

function toSessionPosition(p: BrokerPosition): SessionPosition {
  return {
    symbol: p.symbol,
    qty: p.qty,
    avgEntryPrice: p.avgEntryPrice,
    marketValue: p.marketValue,
    currentPrice: p.currentPrice,
  };
}

/** Open orders, parents first with their open legs marked as children (listed once even if also top-level). */
function openOrderViews(open: readonly BrokerOrder[]): SessionOpenOrder[] {
  const legIds = new Set(open.flatMap((o) => (o.legs ?? []).map((l) => l.id)));
  const out: SessionOpenOrder[] = [];
  const view = (o: BrokerOrder, child: boolean): SessionOpenOrder => ({
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    qty: o.qty,
    filledQty: o.filledQty,
    limitPrice: o.limitPrice ?? null,
    child,
  });
  for (const o of open) {
    if (legIds.has(o.id)) continue;
    out.push(view(o, false));
    for (const l of o.legs ?? []) if (OPEN_ORDER_STATUSES.includes(l.status)) out.push(view(l, true));
  }
  return out;
}

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toFailure(e);
  }
}

function toFailure(e: unknown): Error {
  if (e instanceof TradingError) {
    return e.retryable
      ? ApplicationFailure.retryable(e.message, e.name)
      : ApplicationFailure.nonRetryable(e.message, e.name);
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** The in-process day runner calls these functions outside an activity; heartbeats only exist inside one. */
function heartbeatIfInActivity(details: unknown): void {
  try {
    heartbeat(details);
  } catch {
    // not inside a Temporal activity: nothing to report to
  }
}
