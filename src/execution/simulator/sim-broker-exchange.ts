import type { Bar } from '../../model/bar';
import type { OrderEvent, TradingEvent } from '../../model/events';
import { isOpenOrder, type Order, type OrderSpec } from '../../model/order';
import type { Holding } from '../../model/position';
import type { FillModelConfig } from '../fill-models';
import { SimBroker, SimBrokerError } from '../sim-broker';
import type { BrokerAccount } from '../broker';
import { ExchangeError, type Exchange } from './exchange';

/**
 * The simulator's matching engine backed by the shared SimBroker (the backtester's broker): the same fill,
 * spread, impact, participation, commission and fee models in paper/replay as in backtests. Adds what an
 * Alpaca-compatible server needs on top: Alpaca's refusal semantics (422 for a reused client order id, 403 for
 * buying power, 422 for validation — a refused order does not exist afterwards), order events with legs nested
 * (the server streams them as trade_updates), and a log of every placement attempt.
 */
export interface SimBrokerExchangeOptions {
  readonly startingCash?: number;
  readonly marginMultiplier?: number;
  readonly fill?: Partial<FillModelConfig>;
  readonly accountId?: string;
}

export class SimBrokerExchange implements Exchange {
  private readonly broker: SimBroker;
  private readonly listeners = new Set<(e: OrderEvent) => void>();
  private readonly startEquity: number;
  /** client order ids of refused placements: a refused order does not exist at Alpaca */
  private readonly refused = new Set<string>();
  readonly placementLog: Array<{ clientOrderId: string; accepted: boolean; at: number }> = [];
  now: number;

  constructor(opts: SimBrokerExchangeOptions = {}, now = Date.now()) {
    this.broker = new SimBroker({
      startingCash: opts.startingCash ?? 100_000,
      marginMultiplier: opts.marginMultiplier ?? 1,
      fill: opts.fill,
      accountId: opts.accountId ?? 'SIM-0001',
      idPrefix: 'sim',
    });
    this.startEquity = opts.startingCash ?? 100_000;
    this.now = now;
    this.broker.subscribe((e) => this.forward(e));
  }

  onOrderEvent(listener: (e: OrderEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  priceOf(symbol: string): number | undefined {
    const p = this.broker.position(symbol)?.lastPrice;
    return p && Number.isFinite(p) ? p : this.lastClose.get(symbol);
  }

  private readonly lastClose = new Map<string, number>();

  submit(req: OrderSpec): Order {
    if (this.broker.getOrderByClientId(req.clientOrderId) && !this.refused.has(req.clientOrderId)) {
      this.placementLog.push({ clientOrderId: req.clientOrderId, accepted: false, at: this.now });
      throw new ExchangeError(422, 40010001, 'client_order_id must be unique');
    }
    if (this.refused.has(req.clientOrderId)) {
      // SimBroker remembers the rejected order under its id; Alpaca would not: refuse again, as Alpaca would.
      this.placementLog.push({ clientOrderId: req.clientOrderId, accepted: false, at: this.now });
      throw new ExchangeError(422, 40010000, `client_order_id ${req.clientOrderId}: previously rejected`);
    }
    const out = this.broker.submit(req, this.now);
    if (out.order.status === 'rejected') {
      this.refused.add(req.clientOrderId);
      this.placementLog.push({ clientOrderId: req.clientOrderId, accepted: false, at: this.now });
      const reason = out.order.rejectReason ?? 'rejected';
      if (/buying power/i.test(reason)) throw new ExchangeError(403, 40310000, 'insufficient buying power');
      throw new ExchangeError(422, 40010000, reason);
    }
    this.placementLog.push({ clientOrderId: req.clientOrderId, accepted: true, at: this.now });
    return this.view(out.order);
  }

  getOrder(id: string): Order | undefined {
    const o = this.broker.getOrder(id);
    return o && !this.refused.has(o.clientOrderId) ? this.view(o) : undefined;
  }

  getOrderByClientOrderId(clientOrderId: string): Order | undefined {
    if (this.refused.has(clientOrderId)) return undefined;
    const o = this.broker.getOrderByClientId(clientOrderId);
    return o && this.view(o);
  }

  /** Top-level orders, newest first, legs nested; a filled bracket with a resting leg counts as open (as listed by Alpaca with nested=true). */
  listOrders(status: 'open' | 'closed' | 'all' = 'open', symbols?: readonly string[]): Order[] {
    const isOpen = (o: Order) => isOpenOrder(o) || (o.legs ?? []).some(isOpenOrder);
    return this.broker
      .listOrders('all', symbols)
      .filter((o) => !o.parentId && !this.refused.has(o.clientOrderId))
      .reverse()
      .map((o) => this.view(o))
      .filter((o) => status === 'all' || (status === 'open') === isOpen(o));
  }

  cancel(id: string): void {
    try {
      this.broker.cancel(id, this.now);
    } catch (e) {
      if (e instanceof SimBrokerError) {
        throw e.code === 'not_found'
          ? new ExchangeError(404, 40410000, 'order not found')
          : new ExchangeError(422, 42210000, e.message);
      }
      throw e;
    }
  }

  cancelAll(): string[] {
    const open = this.listOrders('open').map((o) => o.id);
    this.broker.cancelAll(this.now);
    return open;
  }

  acceptedClientOrderIds(): string[] {
    return this.placementLog.filter((p) => p.accepted).map((p) => p.clientOrderId);
  }

  getPositions(): Holding[] {
    return this.broker
      .positions()
      .filter((p) => p.qty !== 0)
      .sort((a, b) => (a.symbol < b.symbol ? -1 : 1))
      .map((p) => ({ symbol: p.symbol, qty: p.qty, avgPrice: p.avgPrice, lastPrice: p.lastPrice }));
  }

  getPosition(symbol: string): Holding | undefined {
    return this.getPositions().find((p) => p.symbol === symbol);
  }

  getAccount(): BrokerAccount {
    const a = this.broker.account();
    const r2 = (x: number) => Math.round(x * 100) / 100;
    return {
      id: a.id,
      status: 'ACTIVE',
      cash: r2(a.cash),
      equity: r2(a.equity),
      buyingPower: r2(Math.max(0, a.buyingPower)),
      lastEquity: this.startEquity,
    };
  }

  onBar(bar: Bar): void {
    this.broker.onBar(bar);
    this.lastClose.set(bar.symbol, bar.close);
  }

  /**
   * Order events with the order as the API shows it. SimBroker rejects only at placement, which Alpaca answers
   * with an HTTP error and no order at all: a rejection is never streamed.
   */
  private forward(e: TradingEvent): void {
    if (!this.listeners.size || !('order' in e) || e.type === 'OrderRejected') return;
    const event: OrderEvent = { ...e, order: this.view(e.order) };
    for (const l of this.listeners) l(event);
  }

  /** Legs nested, as Alpaca lists an order. */
  private view(o: Order): Order {
    return o.legIds?.length ? { ...o, legs: o.legIds.map((id) => this.view(this.broker.getOrder(id)!)) } : o;
  }
}
