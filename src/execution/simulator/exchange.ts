import { randomUUID } from 'node:crypto';
import type { Bar } from '../../model/bar';
import {
  isOpenStatus,
  validateOrderRequest,
  type BrokerAccount,
  type BrokerOrder,
  type BrokerOrderStatus,
  type BrokerPosition,
  type OrderClass,
  type OrderRequest,
  type OrderSide,
  type OrderType,
  type TimeInForce,
  type TradeUpdate,
} from '../broker';

/**
 * The matching engine behind the Alpaca-compatible simulator (and the in-process broker client): accepts
 * orders with Alpaca's semantics and fills them against replayed bars. An order never fills on the bar during
 * which it was submitted, only from the next bar's open on (no look-ahead), matching the backtest's rule.
 */
export class ExchangeError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ExchangeError';
  }
}

/** What the simulator server, the bar replay and the in-process broker need from a matching engine. */
export interface Exchange {
  /** the engine's clock (epoch ms); the replay moves it forward */
  now: number;
  readonly placementLog: ReadonlyArray<{ clientOrderId: string; accepted: boolean; at: number }>;
  onTradeUpdate(listener: (u: TradeUpdate) => void): () => void;
  priceOf(symbol: string): number | undefined;
  submit(req: OrderRequest): BrokerOrder;
  getOrder(id: string): BrokerOrder | undefined;
  getOrderByClientOrderId(clientOrderId: string): BrokerOrder | undefined;
  listOrders(status?: 'open' | 'closed' | 'all', symbols?: readonly string[]): BrokerOrder[];
  cancel(id: string): void;
  cancelAll(): string[];
  acceptedClientOrderIds(): string[];
  getPositions(): BrokerPosition[];
  getPosition(symbol: string): BrokerPosition | undefined;
  getAccount(): BrokerAccount;
  onBar(bar: Bar): void;
}

export interface ExchangeOptions {
  readonly accountId?: string;
  readonly startingCash?: number;
  /** Buying power multiple of equity (Alpaca margin accounts: 2 overnight, 4 intraday); 1 = cash account. */
  readonly marginMultiplier?: number;
  /** Partial fills: an order fills at most this fraction of a bar's volume per bar (0 = no cap). */
  readonly maxParticipation?: number;
  /** Fill-price slippage in basis points, adverse to the taker. */
  readonly slippageBps?: number;
  readonly barMs?: number;
}

interface SimOrder {
  id: string;
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  orderClass: OrderClass;
  timeInForce: TimeInForce;
  qty: number;
  filledQty: number;
  filledNotional: number;
  limitPrice?: number;
  stopPrice?: number;
  trailPrice?: number;
  trailPercent?: number;
  /** trailing-stop high (sell) / low (buy) water mark */
  hwm?: number;
  triggered: boolean;
  status: BrokerOrderStatus;
  submittedAt: number;
  updatedAt: number;
  parentId?: string;
  legIds: string[];
  /** bracket/oco siblings cancel each other */
  ocoGroup?: string;
  seenBars: number;
}

interface SimPosition {
  qty: number;
  avgPrice: number;
}

/** The simulator's own lightweight engine (fills at bar prices, no cost models); see SimBrokerExchange. */
export class SimulatedExchange implements Exchange {
  readonly accountId: string;
  private cash: number;
  private lastEquity: number;
  private readonly marginMultiplier: number;
  private readonly maxParticipation: number;
  private readonly slippageBps: number;
  private readonly barMs: number;
  private readonly orders = new Map<string, SimOrder>();
  private readonly byClientId = new Map<string, string>();
  private readonly orderIdsInOrder: string[] = [];
  private readonly positions = new Map<string, SimPosition>();
  private readonly lastPrice = new Map<string, number>();
  private readonly listeners = new Set<(u: TradeUpdate) => void>();
  /** Every placement attempt by client order id, accepted or refused: the chaos test's duplicate detector. */
  readonly placementLog: Array<{ clientOrderId: string; accepted: boolean; at: number }> = [];
  now: number;

  constructor(opts: ExchangeOptions = {}, now = Date.now()) {
    this.accountId = opts.accountId ?? 'SIM-0001';
    this.cash = opts.startingCash ?? 100_000;
    this.lastEquity = this.cash;
    this.marginMultiplier = opts.marginMultiplier ?? 1;
    this.maxParticipation = opts.maxParticipation ?? 0;
    this.slippageBps = opts.slippageBps ?? 0;
    this.barMs = opts.barMs ?? 60_000;
    this.now = now;
  }

  onTradeUpdate(listener: (u: TradeUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setPrice(symbol: string, price: number): void {
    this.lastPrice.set(symbol, price);
  }

  priceOf(symbol: string): number | undefined {
    return this.lastPrice.get(symbol);
  }

  // ---- orders ----------------------------------------------------------------------------------------------

  submit(req: OrderRequest): BrokerOrder {
    const problem = validateOrderRequest(req);
    if (problem) {
      this.placementLog.push({ clientOrderId: req.clientOrderId, accepted: false, at: this.now });
      throw new ExchangeError(422, 40010000, problem);
    }
    if (this.byClientId.has(req.clientOrderId)) {
      this.placementLog.push({ clientOrderId: req.clientOrderId, accepted: false, at: this.now });
      throw new ExchangeError(422, 40010001, 'client_order_id must be unique');
    }
    const refPrice =
      req.limitPrice ?? req.takeProfit?.limitPrice ?? req.stopPrice ?? this.lastPrice.get(req.symbol);
    if (refPrice === undefined) {
      this.placementLog.push({ clientOrderId: req.clientOrderId, accepted: false, at: this.now });
      throw new ExchangeError(
        422,
        40010000,
        `symbol: no price known yet for ${req.symbol}; asset not tradable`,
      );
    }
    if (this.opensExposure(req) && req.qty * refPrice > this.buyingPower() + 1e-9) {
      this.placementLog.push({ clientOrderId: req.clientOrderId, accepted: false, at: this.now });
      throw new ExchangeError(403, 40310000, 'insufficient buying power');
    }
    const cls = req.orderClass ?? 'simple';
    const parent = this.newOrder(req, cls, {
      type: req.type,
      side: req.side,
      // An OCO's primary order is its take-profit limit (Alpaca's request carries the price there).
      limitPrice: req.limitPrice ?? (cls === 'oco' ? req.takeProfit?.limitPrice : undefined),
      stopPrice: req.stopPrice,
      clientOrderId: req.clientOrderId,
    });
    const exitSide: OrderSide = req.side === 'buy' ? 'sell' : 'buy';
    if (cls === 'bracket' || cls === 'oto' || cls === 'oco') {
      const group = cls === 'oto' ? undefined : parent.id;
      const legStatus: BrokerOrderStatus = cls === 'oco' ? 'new' : 'held';
      const legSide = cls === 'oco' ? req.side : exitSide;
      if (req.takeProfit && cls !== 'oco') {
        const tp = this.newOrder(req, cls, {
          type: 'limit',
          side: legSide,
          limitPrice: req.takeProfit.limitPrice,
          clientOrderId: randomUUID(),
        });
        tp.status = legStatus;
        tp.parentId = parent.id;
        tp.ocoGroup = group;
        parent.legIds.push(tp.id);
      }
      if (req.stopLoss) {
        const sl = this.newOrder(req, cls, {
          type: req.stopLoss.limitPrice !== undefined ? 'stop_limit' : 'stop',
          side: legSide,
          stopPrice: req.stopLoss.stopPrice,
          limitPrice: req.stopLoss.limitPrice,
          clientOrderId: randomUUID(),
        });
        sl.status = legStatus;
        sl.parentId = parent.id;
        sl.ocoGroup = group;
        parent.legIds.push(sl.id);
      }
      // OCO: the primary order is the take-profit limit; it shares the group with the stop leg.
      if (cls === 'oco') parent.ocoGroup = parent.id;
    }
    if (req.type === 'trailing_stop') parent.hwm = this.lastPrice.get(req.symbol) ?? refPrice;
    this.placementLog.push({ clientOrderId: req.clientOrderId, accepted: true, at: this.now });
    this.emit('new', parent);
    return this.view(parent);
  }

  private newOrder(
    req: OrderRequest,
    cls: OrderClass,
    o: { type: OrderType; side: OrderSide; limitPrice?: number; stopPrice?: number; clientOrderId: string },
  ): SimOrder {
    const order: SimOrder = {
      id: randomUUID(),
      clientOrderId: o.clientOrderId,
      symbol: req.symbol,
      side: o.side,
      type: o.type,
      orderClass: cls,
      timeInForce: req.timeInForce,
      qty: req.qty,
      filledQty: 0,
      filledNotional: 0,
      limitPrice: o.limitPrice,
      stopPrice: o.stopPrice,
      trailPrice: o.type === 'trailing_stop' ? req.trailPrice : undefined,
      trailPercent: o.type === 'trailing_stop' ? req.trailPercent : undefined,
      triggered: false,
      status: 'new',
      submittedAt: this.now,
      updatedAt: this.now,
      legIds: [],
      seenBars: 0,
    };
    this.orders.set(order.id, order);
    this.byClientId.set(order.clientOrderId, order.id);
    this.orderIdsInOrder.push(order.id);
    return order;
  }

  private opensExposure(req: OrderRequest): boolean {
    const pos = this.positions.get(req.symbol)?.qty ?? 0;
    return req.side === 'buy' ? pos >= 0 : pos <= 0;
  }

  getOrder(id: string): BrokerOrder | undefined {
    const o = this.orders.get(id);
    return o && this.view(o);
  }

  getOrderByClientOrderId(clientOrderId: string): BrokerOrder | undefined {
    const id = this.byClientId.get(clientOrderId);
    return id === undefined ? undefined : this.getOrder(id);
  }

  /** Top-level orders (legs nested), newest first like Alpaca. */
  listOrders(status: 'open' | 'closed' | 'all' = 'open', symbols?: readonly string[]): BrokerOrder[] {
    const out: BrokerOrder[] = [];
    for (let i = this.orderIdsInOrder.length - 1; i >= 0; i--) {
      const o = this.orders.get(this.orderIdsInOrder[i]!)!;
      if (o.parentId) continue;
      if (symbols && symbols.length && !symbols.includes(o.symbol)) continue;
      const open = isOpenStatus(o.status) || o.legIds.some((l) => isOpenStatus(this.orders.get(l)!.status));
      if (status === 'open' && !open) continue;
      if (status === 'closed' && open) continue;
      out.push(this.view(o));
    }
    return out;
  }

  cancel(id: string): void {
    const o = this.orders.get(id);
    if (!o) throw new ExchangeError(404, 40410000, 'order not found');
    const legsOpen = o.legIds.some((l) => isOpenStatus(this.orders.get(l)!.status));
    if (!isOpenStatus(o.status) && !legsOpen)
      throw new ExchangeError(422, 42210000, `order is not cancelable (status ${o.status})`);
    if (isOpenStatus(o.status)) this.finish(o, 'canceled');
    for (const l of o.legIds) {
      const leg = this.orders.get(l)!;
      if (isOpenStatus(leg.status)) this.finish(leg, 'canceled');
    }
  }

  cancelAll(): string[] {
    const ids: string[] = [];
    for (const o of this.orders.values()) {
      if (
        !o.parentId &&
        (isOpenStatus(o.status) || o.legIds.some((l) => isOpenStatus(this.orders.get(l)!.status)))
      ) {
        this.cancel(o.id);
        ids.push(o.id);
      }
    }
    return ids;
  }

  /** Every client order id ever accepted (the duplicate check: ids are unique by construction here). */
  acceptedClientOrderIds(): string[] {
    return this.placementLog.filter((p) => p.accepted).map((p) => p.clientOrderId);
  }

  // ---- positions & account ---------------------------------------------------------------------------------

  getPositions(): BrokerPosition[] {
    const out: BrokerPosition[] = [];
    for (const [symbol, p] of [...this.positions.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      if (p.qty === 0) continue;
      const price = this.lastPrice.get(symbol) ?? p.avgPrice;
      out.push({
        symbol,
        qty: p.qty,
        avgEntryPrice: p.avgPrice,
        currentPrice: price,
        marketValue: p.qty * price,
        unrealizedPl: (price - p.avgPrice) * p.qty,
      });
    }
    return out;
  }

  getPosition(symbol: string): BrokerPosition | undefined {
    return this.getPositions().find((p) => p.symbol === symbol);
  }

  getAccount(): BrokerAccount {
    return {
      id: this.accountId,
      status: 'ACTIVE',
      cash: round2(this.cash),
      equity: round2(this.equity()),
      buyingPower: round2(Math.max(0, this.buyingPower())),
      lastEquity: round2(this.lastEquity),
    };
  }

  equity(): number {
    let mv = 0;
    for (const [symbol, p] of this.positions) mv += p.qty * (this.lastPrice.get(symbol) ?? p.avgPrice);
    return this.cash + mv;
  }

  private buyingPower(): number {
    let gross = 0;
    for (const [symbol, p] of this.positions)
      gross += Math.abs(p.qty) * (this.lastPrice.get(symbol) ?? p.avgPrice);
    let pending = 0;
    for (const o of this.orders.values()) {
      if (!isOpenStatus(o.status) || o.status === 'held' || o.parentId) continue;
      const px = o.limitPrice ?? o.stopPrice ?? this.lastPrice.get(o.symbol) ?? 0;
      pending += (o.qty - o.filledQty) * px;
    }
    return this.equity() * this.marginMultiplier - gross - pending;
  }

  /** Starts a new trading day: yesterday's equity becomes last_equity (daily P&L reference). */
  startDay(): void {
    this.lastEquity = this.equity();
  }

  // ---- matching --------------------------------------------------------------------------------------------

  /** Processes one bar: fills eligible orders of that symbol, then marks the price. */
  onBar(bar: Bar): void {
    const eligible = [...this.orders.values()].filter(
      (o) =>
        o.symbol === bar.symbol &&
        (o.status === 'new' || o.status === 'partially_filled') &&
        o.submittedAt <= bar.ts,
    );
    // Deterministic processing order: submission order.
    eligible.sort((a, b) => this.orderIdsInOrder.indexOf(a.id) - this.orderIdsInOrder.indexOf(b.id));
    let volumeLeft =
      this.maxParticipation > 0 ? Math.max(1, Math.floor(bar.volume * this.maxParticipation)) : Infinity;
    for (const o of eligible) {
      if (!(o.status === 'new' || o.status === 'partially_filled')) continue; // canceled by a sibling this bar
      o.seenBars++;
      const price = this.fillPrice(o, bar);
      if (price !== undefined && volumeLeft > 0) {
        const qty = Math.min(o.qty - o.filledQty, volumeLeft);
        volumeLeft -= qty;
        this.fill(o, qty, price);
      }
      if ((o.timeInForce === 'ioc' || o.timeInForce === 'fok') && isOpenStatus(o.status))
        this.finish(o, 'canceled');
    }
    this.lastPrice.set(bar.symbol, bar.close);
    this.now = Math.max(this.now, bar.ts + this.barMs);
  }

  /** Day orders expire at the close; called by the replay when the session ends. */
  expireDayOrders(): void {
    for (const o of this.orders.values()) {
      if (o.timeInForce === 'day' && isOpenStatus(o.status) && o.status !== 'held') this.finish(o, 'expired');
    }
  }

  private fillPrice(o: SimOrder, bar: Bar): number | undefined {
    const buy = o.side === 'buy';
    const slip = (p: number) => p * (1 + ((buy ? 1 : -1) * this.slippageBps) / 10_000);
    switch (o.type) {
      case 'market':
        return slip(bar.open);
      case 'limit':
        return limitFill(buy, o.limitPrice!, bar.open, bar.high, bar.low);
      case 'stop': {
        const t = stopTrigger(buy, o.stopPrice!, bar);
        return t === undefined ? undefined : slip(t);
      }
      case 'stop_limit': {
        if (!o.triggered) {
          const t = stopTrigger(buy, o.stopPrice!, bar);
          if (t === undefined) return undefined;
          o.triggered = true;
          // From the trigger on it is a limit order within the rest of this bar.
          return limitFill(buy, o.limitPrice!, t, bar.high, bar.low);
        }
        return limitFill(buy, o.limitPrice!, bar.open, bar.high, bar.low);
      }
      case 'trailing_stop': {
        const ref = o.hwm ?? bar.open;
        const trail = o.trailPrice ?? (ref * (o.trailPercent ?? 0)) / 100;
        const stop = buy ? ref + trail : ref - trail;
        const t = stopTrigger(buy, stop, bar);
        if (t !== undefined) return slip(t);
        o.hwm = buy ? Math.min(ref, bar.low) : Math.max(ref, bar.high);
        return undefined;
      }
    }
  }

  private fill(o: SimOrder, qty: number, price: number): void {
    o.filledQty += qty;
    o.filledNotional += qty * price;
    o.updatedAt = this.now;
    const signed = o.side === 'buy' ? qty : -qty;
    const pos = this.positions.get(o.symbol) ?? { qty: 0, avgPrice: 0 };
    const newQty = pos.qty + signed;
    if (pos.qty === 0 || Math.sign(pos.qty) === Math.sign(signed)) {
      pos.avgPrice = (pos.avgPrice * Math.abs(pos.qty) + price * qty) / Math.abs(newQty);
    } else if (Math.sign(newQty) !== Math.sign(pos.qty) && newQty !== 0) {
      pos.avgPrice = price; // flipped through zero: the remainder opened at this price
    }
    pos.qty = newQty;
    if (newQty === 0) pos.avgPrice = 0;
    this.positions.set(o.symbol, pos);
    this.cash -= signed * price;
    const done = o.filledQty >= o.qty - 1e-9;
    o.status = done ? 'filled' : 'partially_filled';
    this.emit(done ? 'fill' : 'partial_fill', o, { price, qty, positionQty: newQty });
    if (done) this.afterFill(o);
  }

  private afterFill(o: SimOrder): void {
    // Bracket/OTO entry filled: its exit legs go live.
    for (const l of o.legIds) {
      const leg = this.orders.get(l)!;
      if (leg.status === 'held') {
        leg.status = 'new';
        leg.submittedAt = this.now;
        this.emit('new', leg);
      }
    }
    // One side of an OCO group filled: cancel the others.
    if (o.ocoGroup) {
      for (const other of this.orders.values()) {
        if (other.id !== o.id && other.ocoGroup === o.ocoGroup && isOpenStatus(other.status))
          this.finish(other, 'canceled');
      }
    }
  }

  private finish(o: SimOrder, status: 'canceled' | 'expired'): void {
    o.status = status;
    o.updatedAt = this.now;
    this.emit(status, o);
  }

  private emit(
    event: string,
    o: SimOrder,
    extra: { price?: number; qty?: number; positionQty?: number } = {},
  ): void {
    if (!this.listeners.size) return;
    const update: TradeUpdate = { event, order: this.view(o), timestamp: this.now, ...extra };
    for (const l of this.listeners) l(update);
  }

  private view(o: SimOrder): BrokerOrder {
    return {
      id: o.id,
      clientOrderId: o.clientOrderId,
      symbol: o.symbol,
      side: o.side,
      type: o.type,
      orderClass: o.orderClass,
      timeInForce: o.timeInForce,
      qty: o.qty,
      filledQty: o.filledQty,
      filledAvgPrice: o.filledQty > 0 ? o.filledNotional / o.filledQty : undefined,
      limitPrice: o.limitPrice,
      stopPrice: o.stopPrice,
      trailPrice: o.trailPrice,
      trailPercent: o.trailPercent,
      status: o.status,
      submittedAt: o.submittedAt,
      legs: o.legIds.length ? o.legIds.map((l) => this.view(this.orders.get(l)!)) : undefined,
    };
  }
}

function limitFill(buy: boolean, limit: number, open: number, high: number, low: number): number | undefined {
  if (buy) {
    if (open <= limit) return open;
    return low <= limit ? limit : undefined;
  }
  if (open >= limit) return open;
  return high >= limit ? limit : undefined;
}

function stopTrigger(buy: boolean, stop: number, bar: Bar): number | undefined {
  if (buy) {
    if (bar.open >= stop) return bar.open;
    return bar.high >= stop ? stop : undefined;
  }
  if (bar.open <= stop) return bar.open;
  return bar.low <= stop ? stop : undefined;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
