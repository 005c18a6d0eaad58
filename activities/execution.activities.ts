import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { ChildFill, ExecAlgoActivities } from '../contracts/exec-algo';
import type { AccountSnapshot, DayOrder, ExecutionActivities, OrderAck } from '../contracts/session';
import type { Broker } from '../src/execution/broker';
import type { ReplayDriver } from '../src/execution/simulator/replay-driver';
import type { VenueClock } from '../src/data/stream/venue-clock';
import { TradingError } from '../src/model/errors';
import { isOpenOrder, type Order } from '../src/model/order';
import type { Holding } from '../src/model/position';
import { activityAuditContext, type ExecutionAudit } from '../src/monitoring/audit/activity-context';
import type { OrderAuditContext } from '../src/monitoring/audit/order-audit';
import type { SessionMetrics } from '../src/monitoring/session-metrics';
import type { AccountOrder, AccountPosition } from '../src/trading/account';
import type { Action } from '../src/trading/kernel';
import { unpackActions } from '../src/trading/packed-actions';

export interface ExecutionActivityDeps {
  readonly broker: Broker;
  /** Present when the venue is a simulator replaying stored bars: the replay venue's clock. */
  readonly replay?: ReplayDriver;
  /** Orders in flight at once per submit call (default 8). */
  readonly submitConcurrency?: number;
  /** Orders and portfolio to /metrics (the worker wires prometheusSessionMetrics). */
  readonly metrics?: SessionMetrics;
  /**
   * The audit trail: every placement, cancel request and observed fill goes to the audit log, attributed to the
   * workflow and the operator behind it (src/monitoring/audit/order-audit.ts).
   */
  readonly audit?: ExecutionAudit;
  /**
   * What this worker's broker is: the local simulator, Alpaca paper or Alpaca live (a session of another mode
   * is refused), and the venue's clock (paper/live sessions time their bars by it). Without it: a simulator
   * when a bar replay is given, else unknown (paper and live sessions are refused).
   */
  readonly venue?: { readonly mode: 'simulator' | 'paper' | 'live'; readonly clock?: VenueClock };
}

/**
 * execution task queue: everything that talks to the broker. A decision's actions are carried out in the kernel's
 * order; submits are exactly-once by client order id (the adapter looks each id up first and treats "already
 * exists" as success), so a retried call places nothing twice. Errors map to Temporal retry semantics
 * (rejections and auth are non-retryable, transient faults retry with backoff).
 */
export function createExecutionActivities(
  deps: ExecutionActivityDeps,
): ExecutionActivities & Pick<ExecAlgoActivities, 'getOrderFills'> {
  const { broker, metrics, audit } = deps;
  const auditContext = () => activityAuditContext(audit?.operators);
  /** The account now; with an audit trail, also the fills and venue cancels of the session's orders since. */
  const account = async (sessionId?: string): Promise<AccountSnapshot> => {
    const { lastEquity, ...s } = await snapshot(broker);
    if ((audit || metrics) && sessionId) {
      const recent = await broker.listOrders({ status: 'all', limit: 500 });
      // fills first: the realised P&L of the portfolio below includes them
      metrics?.ordersObserved(recent);
      if (audit)
        await audit.orders.observe(await auditContext(), recent, `${sessionId}:`, (id) =>
          broker.getOrderByClientOrderId(id),
        );
    }
    metrics?.portfolio({ equity: s.equity, lastEquity, positions: s.positions });
    return s;
  };

  /** Submits in bounded concurrency across symbols; one symbol's orders go one after another in order. */
  const submitAll = async (
    orders: ReadonlyArray<Extract<Action, { kind: 'submit' }>>,
    ctx: OrderAuditContext | undefined,
  ): Promise<OrderAck[]> => {
    const acks: OrderAck[] = new Array(orders.length);
    const groups = new Map<string, number[]>();
    orders.forEach((a, i) => groups.set(a.order.symbol, [...(groups.get(a.order.symbol) ?? []), i]));
    const queue = [...groups.values()];
    let next = 0;
    let done = 0;
    const lane = async () => {
      while (next < queue.length) {
        for (const i of queue[next++]!) {
          const { tag: _tag, ...request } = orders[i]!.order;
          try {
            const r = await broker.submitOrder(request);
            if (ctx) await audit!.orders.placed(ctx, request, { order: r.order });
            acks[i] = {
              clientOrderId: request.clientOrderId,
              brokerOrderId: r.order.id,
              status: r.order.status,
              alreadyExisted: r.alreadyExisted,
              rejected: null,
            };
          } catch (e) {
            // A rejected order is an outcome, not a failure of the batch: report it and go on.
            if (e instanceof TradingError && !e.retryable && e.name === 'OrderRejectedError') {
              if (ctx) await audit!.orders.placed(ctx, request, { rejected: e.message });
              acks[i] = {
                clientOrderId: request.clientOrderId,
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
    await Promise.all(Array.from({ length: Math.min(deps.submitConcurrency ?? 8, queue.length) }, lane));
    metrics?.ordersAcknowledged(
      orders.map((a) => ({ ...a.order, refPrice: a.refPrice })),
      acks,
    );
    return acks;
  };

  const cancelWhere = async (
    keep: (o: Order) => boolean,
    symbols: readonly string[] | undefined,
    ctx: OrderAuditContext | undefined,
    reason: string,
  ) => {
    const canceled: Order[] = [];
    for (const o of await broker.listOrders({ status: 'open', ...(symbols ? { symbols } : {}) })) {
      if (!keep(o)) continue;
      await broker.cancelOrder(o.id);
      canceled.push(o);
    }
    if (ctx) await audit!.orders.canceled(ctx, canceled, reason);
    return canceled.length;
  };
  /** Cancels every open order (one request); with an audit trail, the open orders are listed first to name them. */
  const cancelAll = async (ctx: OrderAuditContext | undefined, reason: string) => {
    const open = ctx ? await broker.listOrders({ status: 'open' }) : [];
    const n = await broker.cancelAllOrders();
    if (ctx) await audit!.orders.canceled(ctx, open, reason);
    return n;
  };

  /** The actions in order: runs of submits go out together, cancels between them keep their place. */
  const execute = async (actions: readonly Action[]): Promise<OrderAck[]> => {
    const ctx = audit ? await auditContext() : undefined;
    const acks: OrderAck[] = [];
    let run: Array<Extract<Action, { kind: 'submit' }>> = [];
    const flush = async () => {
      if (run.length) acks.push(...(await submitAll(run, ctx)));
      run = [];
    };
    for (const a of actions) {
      if (a.kind === 'submit') {
        run.push(a);
        continue;
      }
      await flush();
      if (a.kind === 'cancelAll') await cancelAll(ctx, 'session: cancel all');
      else if (a.kind === 'cancelSymbol')
        await cancelWhere(() => true, [a.symbol], ctx, `session: cancel ${a.symbol}`);
      else
        await cancelWhere(
          (o) => o.clientOrderId === a.clientOrderId,
          undefined,
          ctx,
          'session: cancel order',
        );
    }
    await flush();
    return acks;
  };

  const replay = (): ReplayDriver => {
    if (!deps.replay)
      throw ApplicationFailure.nonRetryable(
        'replay: this execution worker has no bar replay (mode replay needs the simulator)',
        'ConfigError',
      );
    return deps.replay;
  };

  const venueMode = deps.venue?.mode ?? (deps.replay ? 'simulator' : undefined);

  return {
    async reconcile({ sessionId, mode }) {
      const problem = sessionModeProblem(mode, venueMode, deps.replay !== undefined);
      if (problem) throw ApplicationFailure.nonRetryable(problem, 'ConfigError');
      return wrap(() => account(sessionId));
    },

    async venueClock() {
      const clock = deps.venue?.clock;
      if (!clock)
        throw ApplicationFailure.nonRetryable(
          'venue clock: this execution worker has no venue clock (a paper/live session needs its broker)',
          'ConfigError',
        );
      return wrap(async () => {
        await clock.refresh();
        const venueNow = await clock.now();
        const wallNow = Date.now();
        // the pace from the venue's mapping onto the wall clock (1 for a broker on the wall clock)
        const w0 = clock.toWall(venueNow);
        const w1 = clock.toWall(venueNow + 60_000);
        const speed = w0 !== undefined && w1 !== undefined && w1 > w0 ? 60_000 / (w1 - w0) : 1;
        return { venueNow, wallNow: w0 ?? wallNow, speed };
      });
    },

    async syncAccount({ sessionId, notBefore }) {
      if (notBefore) await untilVenueTime(notBefore, deps.venue);
      return wrap(() => account(sessionId));
    },

    async execute({ actions }) {
      // A retry re-runs the whole list; the lookup-first submit makes the already-placed ones no-ops.
      return { acks: await wrap(() => execute(unpackActions(actions))) };
    },

    async replayStep({ sessionId, actions, advanceTo }) {
      const driver = replay();
      const acks = actions ? await wrap(() => execute(unpackActions(actions))) : [];
      await wrap(() => driver.advanceTo(advanceTo));
      return { acks, account: await wrap(() => account(sessionId)) };
    },

    async cancelOpenOrders({ reason, symbols, clientOrderIds }) {
      return wrap(async () => {
        const ctx = audit ? await auditContext() : undefined;
        if (!symbols && !clientOrderIds) return cancelAll(ctx, reason);
        const ids = clientOrderIds ? new Set(clientOrderIds) : null;
        return cancelWhere((o) => !ids || ids.has(o.clientOrderId), symbols, ctx, reason);
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
        const ctx = audit ? await auditContext() : undefined;
        for (const id of clientOrderIds) {
          const o = await broker.getOrderByClientOrderId(id);
          if (ctx && o) await audit!.orders.observe(ctx, [o]);
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

    async sessionOrders({ sessionId, symbols }) {
      return wrap(async () => {
        const out: DayOrder[] = [];
        const seen = new Set<string>();
        for (const symbol of symbols)
          for (const o of await broker.listOrders({ status: 'all', symbols: [symbol], limit: 500 })) {
            for (const x of [o, ...(o.legs ?? [])]) {
              if (!x.clientOrderId.startsWith(`${sessionId}:`) || seen.has(x.clientOrderId)) continue;
              seen.add(x.clientOrderId);
              out.push({
                clientOrderId: x.clientOrderId,
                symbol: x.symbol,
                side: x.side,
                qty: x.qty,
                filledQty: x.filledQty,
                avgPrice: x.filledAvgPrice ?? null,
                status: x.status,
              });
            }
          }
        return out;
      });
    },

    async verifyFlat() {
      return wrap(async () => {
        const positions = (await broker.getPositions()).map(toAccountPosition);
        const openOrders = (await broker.listOrders({ status: 'open' })).length;
        return { flat: positions.length === 0 && openOrders === 0, positions, openOrders };
      });
    },
  };
}

/** How long past its expected wall time a venue instant is waited for before the account is read anyway. */
const VENUE_TIME_GRACE_MS = 5_000;

/**
 * Waits until the venue's clock reaches `venueMs`: to its expected wall time `wallMs` on this machine's clock
 * (to the millisecond, which a workflow timer cannot do), then — for the local simulator, whose clock runs at
 * its own pace — until its own clock says so, bounded. Alpaca's clock is the wall clock.
 */
async function untilVenueTime(
  at: { readonly venueMs: number; readonly wallMs: number },
  venue: ExecutionActivityDeps['venue'],
): Promise<void> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const wait = at.wallMs - Date.now();
  if (wait > 0) await sleep(wait);
  if (venue?.mode !== 'simulator' || !venue.clock) return;
  const until = Date.now() + VENUE_TIME_GRACE_MS;
  while ((await venue.clock.now()) < at.venueMs && Date.now() < until) await sleep(2);
}

/**
 * Why this worker may not serve a session of `mode`, or undefined: the session's mode and the broker the worker
 * holds must agree, so a "paper" session can never send orders to a live account (and a live one never goes to
 * a paper account unnoticed).
 */
export function sessionModeProblem(
  mode: 'replay' | 'paper' | 'live',
  venue: 'simulator' | 'paper' | 'live' | undefined,
  hasReplay: boolean,
): string | undefined {
  if (mode === 'replay')
    return hasReplay
      ? undefined
      : `mode replay: this execution worker's broker is ${venue ?? 'unknown'}, not the local simulator with a bar replay; point APCA_API_BASE_URL at the simulator (npm run trader -- simulator start) or use --mode paper`;
  if (venue === 'live' && mode !== 'live')
    return `mode ${mode}: this execution worker trades a LIVE account (TRADING_MODE=live); run the session on a paper worker, or start it with --mode live`;
  if (mode === 'live' && venue !== 'live')
    return `mode live: this execution worker's broker is ${venue ?? 'unknown'}, not a live account; a live session needs a worker with TRADING_MODE=live and LIVE_TRADING_CONFIRM`;
  if (venue === undefined)
    return `mode ${mode}: this execution worker does not say which broker it holds; it cannot serve a ${mode} session`;
  return undefined;
}

async function snapshot(broker: Broker): Promise<AccountSnapshot & { lastEquity: number }> {
  const [acct, positions, open] = await Promise.all([
    broker.getAccount(),
    broker.getPositions(),
    broker.listOrders({ status: 'open' }),
  ]);
  return {
    equity: acct.equity,
    lastEquity: acct.lastEquity,
    cash: acct.cash,
    buyingPower: acct.buyingPower,
    positions: positions.map(toAccountPosition),
    orders: openOrderViews(open),
  };
}

function toAccountPosition(p: Holding): AccountPosition {
  return { symbol: p.symbol, qty: p.qty, avgPrice: p.avgPrice, lastPrice: p.lastPrice };
}

/** Open orders, parents first with their open legs marked as legs (listed once even if also top-level). */
function openOrderViews(open: readonly Order[]): AccountOrder[] {
  const legIds = new Set(open.flatMap((o) => (o.legs ?? []).map((l) => l.id)));
  const out: AccountOrder[] = [];
  const view = (o: Order, leg: boolean): AccountOrder => ({
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    qty: o.qty,
    filledQty: o.filledQty,
    limitPrice: o.limitPrice ?? null,
    leg,
  });
  for (const o of open) {
    if (legIds.has(o.id)) continue;
    out.push(view(o, false));
    for (const l of o.legs ?? []) if (isOpenOrder(l)) out.push(view(l, true));
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
  if (e instanceof ApplicationFailure) return e;
  if (e instanceof TradingError) {
    return e.retryable
      ? ApplicationFailure.retryable(e.message, e.name)
      : ApplicationFailure.nonRetryable(e.message, e.name);
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** Heartbeats only exist inside a Temporal activity; a direct call (tests, tools) has nothing to report to. */
function heartbeatIfInActivity(details: unknown): void {
  try {
    heartbeat(details);
  } catch {
    // not inside a Temporal activity
  }
}
