import { isOpenOrder, type Order, type OrderSpec } from '../../model/order';
import type { AuditLog } from './audit-log';

/** Who acts and for whom: the workflow an execution activity runs for and the person behind that workflow. */
export interface OrderAuditContext {
  /** `workflow:<type>` of the workflow the activity runs for, or the tool that called it directly */
  readonly actor: string;
  /** the person behind the workflow (its starter), when known */
  readonly operator: string | null;
  readonly workflowId?: string;
  readonly runId?: string;
}

/**
 * The audit trail of orders, written by the execution activities when they act and when they read the venue:
 *
 * - `order.submitted` / `order.rejected` after each placement (the venue's acknowledgement or refusal);
 * - `order.canceled` after each cancel request, and when the venue is seen to have canceled or expired an order
 *   by itself (an OCO leg, a day order at the close);
 * - `order.partially_filled` (once per filled quantity seen) and `order.filled`, observed in the venue's order
 *   list at each account sync — the 500 most recent orders, plus a look-up of any order this process last saw
 *   open that dropped out of that list.
 *
 * Every row carries an idempotency key (`<action>:<client order id>[:<filled qty>]`), so a retried activity, a
 * second observer or a restarted worker writes each event once.
 */
export class OrderAudit {
  /** client order id → the last state written (filled qty and status), to skip unchanged orders cheaply */
  private readonly written = new Map<string, string>();
  /** orders this process last saw open, per scope (client order id prefix) */
  private readonly open = new Map<string, Set<string>>();

  constructor(
    private readonly log: AuditLog,
    private readonly opts: { readonly cacheSize?: number } = {},
  ) {}

  /** A placement the venue acknowledged (`order`) or refused (`rejected`, its message). */
  async placed(ctx: OrderAuditContext, spec: OrderSpec, outcome: { order: Order } | { rejected: string }) {
    const base = this.base(ctx, spec.clientOrderId);
    const details = {
      symbol: spec.symbol,
      side: spec.side,
      qty: spec.qty,
      type: spec.type,
      timeInForce: spec.timeInForce,
      ...(spec.limitPrice !== undefined ? { limitPrice: spec.limitPrice } : {}),
      ...(spec.stopPrice !== undefined ? { stopPrice: spec.stopPrice } : {}),
      ...(spec.orderClass && spec.orderClass !== 'simple' ? { orderClass: spec.orderClass } : {}),
      ...(spec.tag?.intent ? { intent: spec.tag.intent } : {}),
      ...(spec.tag?.reason ? { why: spec.tag.reason } : {}),
    };
    if ('rejected' in outcome) {
      await this.log.append({
        ...base,
        action: 'order.rejected',
        reason: outcome.rejected,
        details,
        idempotencyKey: `order.rejected:${spec.clientOrderId}`,
      });
      return;
    }
    await this.log.append({
      ...base,
      action: 'order.submitted',
      details: { ...details, brokerOrderId: outcome.order.id, status: outcome.order.status },
      idempotencyKey: `order.submitted:${spec.clientOrderId}`,
    });
    // filled at once (paper and live market orders often are)
    await this.observe(ctx, [outcome.order]);
  }

  /** Orders an execution activity asked the venue to cancel. */
  async canceled(ctx: OrderAuditContext, orders: readonly Order[], reason: string): Promise<void> {
    for (const o of orders) {
      await this.log.append({
        ...this.base(ctx, o.clientOrderId),
        action: 'order.canceled',
        reason,
        details: { symbol: o.symbol, side: o.side, qty: o.qty, filledQty: o.filledQty, by: 'request' },
        idempotencyKey: `order.canceled:${o.clientOrderId}`,
      });
    }
  }

  /**
   * Writes the fills, venue cancels and late rejections visible in `orders` (legs included) whose client order id
   * starts with `scope`; `lookup` re-reads orders this process last saw open that are missing from the list.
   * Returns how many rows it appended or found already written.
   */
  async observe(
    ctx: OrderAuditContext,
    orders: readonly Order[],
    scope = '',
    lookup?: (clientOrderId: string) => Promise<Order | undefined>,
  ): Promise<number> {
    const all = orders
      .flatMap((o) => [o, ...(o.legs ?? [])])
      .filter((o) => o.clientOrderId.startsWith(scope));
    const listed = new Set(all.map((o) => o.clientOrderId));
    if (lookup) {
      for (const id of this.open.get(scope) ?? []) {
        if (listed.has(id)) continue;
        const o = await lookup(id);
        if (o) all.push(o);
      }
    }
    let n = 0;
    for (const o of all) n += await this.observeOne(ctx, o);
    if (lookup || this.open.has(scope))
      this.open.set(scope, new Set(all.filter(isOpenOrder).map((o) => o.clientOrderId)));
    return n;
  }

  private async observeOne(ctx: OrderAuditContext, o: Order): Promise<number> {
    const state = `${o.filledQty}|${o.status}`;
    if (this.written.get(o.clientOrderId) === state) return 0;
    const base = this.base(ctx, o.clientOrderId);
    const fill = {
      symbol: o.symbol,
      side: o.side,
      qty: o.qty,
      filledQty: o.filledQty,
      ...(o.filledAvgPrice !== undefined ? { avgPrice: o.filledAvgPrice } : {}),
      venueTime: new Date(o.updatedAt).toISOString(),
    };
    let n = 0;
    if (o.status === 'filled') {
      await this.log.append({
        ...base,
        action: 'order.filled',
        details: fill,
        idempotencyKey: `order.filled:${o.clientOrderId}`,
      });
      n++;
    } else if (o.filledQty > 0) {
      await this.log.append({
        ...base,
        action: 'order.partially_filled',
        details: fill,
        idempotencyKey: `order.partially_filled:${o.clientOrderId}:${o.filledQty}`,
      });
      n++;
    }
    if (o.status === 'canceled' || o.status === 'expired') {
      await this.log.append({
        ...base,
        action: 'order.canceled',
        reason: o.status === 'expired' ? 'expired at the venue' : 'canceled at the venue',
        details: { symbol: o.symbol, side: o.side, qty: o.qty, filledQty: o.filledQty, by: 'venue' },
        idempotencyKey: `order.canceled:${o.clientOrderId}`,
      });
      n++;
    } else if (o.status === 'rejected') {
      await this.log.append({
        ...base,
        action: 'order.rejected',
        reason: o.rejectReason ?? 'rejected at the venue',
        details: { symbol: o.symbol, side: o.side, qty: o.qty },
        idempotencyKey: `order.rejected:${o.clientOrderId}`,
      });
      n++;
    }
    if (this.written.size >= (this.opts.cacheSize ?? 50_000))
      this.written.delete(this.written.keys().next().value!);
    this.written.set(o.clientOrderId, state);
    return n;
  }

  private base(ctx: OrderAuditContext, clientOrderId: string) {
    return {
      actor: ctx.actor,
      operator: ctx.operator,
      subject: clientOrderId,
      workflowId: ctx.workflowId,
      runId: ctx.runId,
    };
  }
}
