/**
 * The simulated broker shared by the backtester and the Alpaca-compatible paper simulator. It accepts orders
 * with Alpaca's semantics (market, limit, stop, stop-limit, trailing stop; bracket, OCO, OTO; day/gtc/ioc/fok),
 * fills them against bars with the cost models of fill-models.ts, keeps the ledger, and emits the same order
 * events as the Alpaca adapter (OrderAccepted, OrderPartiallyFilled, OrderFilled, OrderCanceled, …).
 *
 * No look-ahead: an order submitted at time T fills only on a bar that starts at or after T (the next bar at
 * the earliest), and not before T + latency has passed inside that bar. Volatility for the spread and impact
 * models comes from bars completed before the fill bar. Deterministic: ids are sequence numbers.
 */
import type { Bar, Quote } from '../model/bar';
import { TIMEFRAME_MS } from '../model/timeframe';
import { EventIdSequence, type Fill, type OrderEvent, type TradingEvent } from '../model/events';
import { buyingPower as ledgerBuyingPower, equity as ledgerEquity, type Ledger } from '../model/ledger';
import {
  isOpenOrder,
  transition,
  validateOrderSpec,
  type Order,
  type OrderClass,
  type OrderSide,
  type OrderSpec,
  type OrderStatus,
  type TimeInForce,
} from '../model/order';
import { applyFillToPosition, flatPosition, type Position } from '../model/position';
import { calendarFor } from '../market/calendar';
import {
  borrowFeeFor,
  commissionFor,
  fillModelConfig,
  parkinsonSigma,
  participationCap,
  regulatoryFeesFor,
  roundQty,
  takerPrice,
  type FillModelConfig,
} from './fill-models';

export interface SimBrokerOptions {
  readonly startingCash?: number;
  /** 1 = cash account; 2 = Reg T overnight margin */
  readonly marginMultiplier?: number;
  readonly fill?: Partial<FillModelConfig>;
  /** When given, orders for other symbols are rejected; otherwise a symbol is known once a bar has been seen. */
  readonly symbols?: readonly string[];
  readonly accountId?: string;
  /** prefix of broker order ids and event ids (deterministic) */
  readonly idPrefix?: string;
  /** smoothing of the per-bar volatility estimate (EWMA weight of the newest bar) */
  readonly volAlpha?: number;
}

export interface SubmitOutcome {
  readonly order: Order;
  readonly events: TradingEvent[];
  /** an order with this client order id existed already: nothing new was placed */
  readonly alreadyExisted: boolean;
}

export interface ReplacePatch {
  readonly qty?: number;
  readonly limitPrice?: number;
  readonly stopPrice?: number;
  readonly trailPrice?: number;
  readonly trailPercent?: number;
  readonly timeInForce?: TimeInForce;
  readonly clientOrderId?: string;
}

export interface AccountSnapshot {
  readonly id: string;
  readonly cash: number;
  readonly equity: number;
  readonly buyingPower: number;
  readonly longMarketValue: number;
  readonly shortMarketValue: number;
  readonly realizedPnl: number;
  readonly unrealizedPnl: number;
  readonly commissions: number;
  readonly regulatoryFees: number;
  readonly borrowFees: number;
}

interface WorkingOrder {
  id: string;
  spec: OrderSpec;
  orderClass: OrderClass;
  status: OrderStatus;
  filledQty: number;
  filledNotional: number;
  submittedAt: number;
  updatedAt: number;
  eligibleAt: number;
  /** day orders expire at this session close (epoch ms); Infinity for other time-in-force */
  expireAt: number;
  triggered: boolean;
  trailMark: number | undefined;
  parentId: string | undefined;
  legIds: string[] | undefined;
  /** OCO siblings: when this order fills, these are canceled */
  siblingIds: string[] | undefined;
  held: boolean;
  rejectReason: string | undefined;
  commissionCharged: boolean;
}

interface SymbolState {
  last: number;
  sigma: number;
  lastTs: number;
  quote: Quote | undefined;
  halted: boolean;
  barMs: number;
}

export class SimBrokerError extends Error {
  constructor(
    readonly code: 'not_found' | 'not_open' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'SimBrokerError';
  }
}

const EMPTY: TradingEvent[] = [];

function matchRank(o: WorkingOrder): number {
  return o.spec.type === 'limit' ? 1 : 0;
}

/** Positions are mutated in place on every bar (mark to market); callers only ever get copies. */
type MutablePosition = { -readonly [K in keyof Position]: Position[K] };

/**
 * A day order lives until the close of the session it was placed in; placed outside a session (after the
 * close, on a weekend) it is queued for the next session, as Alpaca does.
 */
export function dayOrderExpiry(symbol: string, ts: number): number {
  const cal = calendarFor(symbol);
  const s = cal.sessionFor(ts);
  if (s && ts < s.closeMs) return s.closeMs;
  return cal.nextSession(ts).closeMs;
}

export class SimBroker {
  readonly accountId: string;
  readonly fill: FillModelConfig;
  private readonly marginMultiplier: number;
  private readonly known: Set<string> | undefined;
  private readonly prefix: string;
  private readonly volAlpha: number;
  private readonly eventIds: EventIdSequence;
  private orderSeq = 0;
  private cash: number;
  private realized = 0;
  private commissions = 0;
  private regFees = 0;
  private borrowFees = 0;
  private readonly positionsBySymbol = new Map<string, MutablePosition>();
  private readonly borrowChargedTo = new Map<string, number>();
  private readonly orders = new Map<string, WorkingOrder>();
  private readonly byClientId = new Map<string, string>();
  /** open orders per symbol, in submission order (the order they are matched) */
  private readonly openBySymbol = new Map<string, WorkingOrder[]>();
  private openCount = 0;
  private readonly symbols = new Map<string, SymbolState>();
  private readonly listeners = new Set<(e: TradingEvent) => void>();
  private now = 0;

  constructor(opts: SimBrokerOptions = {}) {
    this.accountId = opts.accountId ?? 'sim-account';
    this.fill = fillModelConfig(opts.fill);
    this.cash = opts.startingCash ?? 100_000;
    if (!(this.cash >= 0) || !Number.isFinite(this.cash))
      throw new RangeError(`startingCash: ${this.cash} must be finite and >= 0`);
    this.marginMultiplier = opts.marginMultiplier ?? 1;
    if (!(this.marginMultiplier >= 1))
      throw new RangeError(`marginMultiplier: ${this.marginMultiplier} must be >= 1`);
    this.known = opts.symbols ? new Set(opts.symbols) : undefined;
    this.prefix = opts.idPrefix ?? 'sim';
    this.volAlpha = opts.volAlpha ?? 0.1;
    this.eventIds = new EventIdSequence(`${this.prefix}-ev`);
  }

  // ------------------------------------------------------------------ subscriptions

  /** Every emitted event is also pushed to listeners (the HTTP simulator streams them as trade_updates). */
  subscribe(listener: (e: TradingEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The broker's clock: the latest of bar starts, quote times and submit times seen. */
  get clock(): number {
    return this.now;
  }

  // ------------------------------------------------------------------ orders

  submit(spec: OrderSpec, nowTs: number): SubmitOutcome {
    this.advance(nowTs);
    const existing = this.byClientId.get(spec.clientOrderId);
    if (existing)
      return { order: this.snapshot(this.orders.get(existing)!), events: [], alreadyExisted: true };
    const events: TradingEvent[] = [];
    const orderClass: OrderClass = spec.orderClass ?? 'simple';
    const main = this.newWorking(this.mainSpec(spec, orderClass), orderClass, nowTs);
    events.push(
      this.ev({ type: 'OrderSubmitted', orderId: main.id, clientOrderId: spec.clientOrderId, spec }, nowTs),
    );
    const reason = this.rejectReason(main.spec);
    if (reason) {
      main.status = transition(main.id, main.status, 'rejected');
      main.rejectReason = reason;
      events.push(
        this.ev(
          {
            type: 'OrderRejected',
            orderId: main.id,
            clientOrderId: spec.clientOrderId,
            reason,
            order: this.snapshot(main),
          },
          nowTs,
        ),
      );
      return this.emit({ order: this.snapshot(main), events, alreadyExisted: false });
    }
    main.status = transition(main.id, main.status, 'new');
    this.addOpen(main);
    if (orderClass === 'bracket' || orderClass === 'oto' || orderClass === 'oco')
      this.createLegs(main, spec, orderClass, nowTs);
    events.push(
      this.ev(
        {
          type: 'OrderAccepted',
          orderId: main.id,
          clientOrderId: spec.clientOrderId,
          order: this.snapshot(main),
        },
        nowTs,
      ),
    );
    return this.emit({ order: this.snapshot(main), events, alreadyExisted: false });
  }

  cancel(orderId: string, nowTs: number, reason = 'canceled by request'): TradingEvent[] {
    this.advance(nowTs);
    const o = this.orders.get(orderId);
    if (!o) throw new SimBrokerError('not_found', `orderId: no order "${orderId}"`);
    if (!isOpenOrder(o))
      throw new SimBrokerError(
        'not_open',
        `orderId: order "${orderId}" is ${o.status} and cannot be canceled`,
      );
    const events: TradingEvent[] = [];
    this.cancelInto(o, nowTs, reason, events);
    // canceling a bracket parent also cancels its legs; a partly filled parent keeps protective legs for what filled
    if (o.legIds) {
      for (const id of o.legIds) {
        const leg = this.orders.get(id)!;
        if (!isOpenOrder(leg)) continue;
        if (o.filledQty > 0 && leg.held) this.activateLeg(leg, o.filledQty, nowTs);
        else this.cancelInto(leg, nowTs, 'parent canceled', events);
      }
    }
    this.emitAll(events);
    return events;
  }

  cancelAll(nowTs: number): TradingEvent[] {
    const out: TradingEvent[] = [];
    for (const o of [...this.orders.values()])
      if (isOpenOrder(o) && !o.parentId) out.push(...this.cancel(o.id, nowTs, 'cancel all'));
    return out;
  }

  /** Alpaca's replace: cancels the order and submits a new one with the patch applied (same remaining qty by default). */
  replace(orderId: string, patch: ReplacePatch, nowTs: number): SubmitOutcome {
    this.advance(nowTs);
    const o = this.orders.get(orderId);
    if (!o) throw new SimBrokerError('not_found', `orderId: no order "${orderId}"`);
    if (!isOpenOrder(o) || o.parentId || o.legIds)
      throw new SimBrokerError(
        'not_open',
        `orderId: order "${orderId}" is ${o.status}${o.legIds || o.parentId ? ' (multi-leg)' : ''} and cannot be replaced`,
      );
    const cid = patch.clientOrderId ?? `${o.spec.clientOrderId}~r${this.orderSeq + 1}`;
    const spec: OrderSpec = {
      ...o.spec,
      clientOrderId: cid,
      qty: patch.qty ?? o.spec.qty - o.filledQty,
      limitPrice: patch.limitPrice ?? o.spec.limitPrice,
      stopPrice: patch.stopPrice ?? o.spec.stopPrice,
      trailPrice: patch.trailPrice ?? o.spec.trailPrice,
      trailPercent: patch.trailPercent ?? o.spec.trailPercent,
      timeInForce: patch.timeInForce ?? o.spec.timeInForce,
    };
    const problem = validateOrderSpec(spec);
    if (problem) throw new SimBrokerError('invalid', problem);
    if (this.byClientId.has(cid))
      throw new SimBrokerError('invalid', `clientOrderId: "${cid}" already exists`);
    const out = this.submit(spec, nowTs);
    const events: TradingEvent[] = [];
    this.removeOpen(o);
    o.status = transition(o.id, o.status, 'replaced');
    o.updatedAt = nowTs;
    events.push(
      this.ev(
        {
          type: 'OrderReplaced',
          orderId: o.id,
          clientOrderId: o.spec.clientOrderId,
          replacedById: out.order.id,
          order: this.snapshot(o),
        },
        nowTs,
      ),
    );
    this.emitAll(events);
    return { ...out, events: [...events, ...out.events] };
  }

  getOrder(orderId: string): Order | undefined {
    const o = this.orders.get(orderId);
    return o ? this.snapshot(o) : undefined;
  }

  getOrderByClientId(clientOrderId: string): Order | undefined {
    const id = this.byClientId.get(clientOrderId);
    return id ? this.getOrder(id) : undefined;
  }

  listOrders(status: 'open' | 'closed' | 'all' = 'open', symbols?: readonly string[]): Order[] {
    const out: Order[] = [];
    for (const o of this.orders.values()) {
      const open = isOpenOrder(o);
      if (status === 'open' && !open) continue;
      if (status === 'closed' && open) continue;
      if (symbols && !symbols.includes(o.spec.symbol)) continue;
      out.push(this.snapshot(o));
    }
    return out;
  }

  hasOpenOrders(symbol?: string): boolean {
    if (symbol === undefined) return this.openCount > 0;
    return (this.openBySymbol.get(symbol)?.length ?? 0) > 0;
  }

  // ------------------------------------------------------------------ account

  position(symbol: string): Position | undefined {
    const p = this.positionsBySymbol.get(symbol);
    return p ? { ...p } : undefined;
  }

  positions(): Position[] {
    return [...this.positionsBySymbol.values()].map((p) => ({ ...p }));
  }

  /** Sum of |market value| over positions. */
  grossExposure(): number {
    let g = 0;
    for (const p of this.positionsBySymbol.values()) g += Math.abs(p.qty * p.lastPrice);
    return g;
  }

  /** Number of open positions (allocation-free). */
  positionCount(): number {
    return this.positionsBySymbol.size;
  }

  /** Signed position quantity (0 when flat). Fast path for the engine. */
  positionQty(symbol: string): number {
    return this.positionsBySymbol.get(symbol)?.qty ?? 0;
  }

  equity(): number {
    let v = this.cash;
    for (const p of this.positionsBySymbol.values()) v += p.qty * p.lastPrice;
    return v;
  }

  buyingPower(): number {
    return ledgerBuyingPower(this.ledger());
  }

  account(): AccountSnapshot {
    const l = this.ledger();
    let long = 0;
    let short = 0;
    let unrealized = 0;
    for (const p of this.positionsBySymbol.values()) {
      const mv = p.qty * p.lastPrice;
      if (mv > 0) long += mv;
      else short += mv;
      unrealized += (p.lastPrice - p.avgPrice) * p.qty;
    }
    return {
      id: this.accountId,
      cash: this.cash,
      equity: ledgerEquity(l),
      buyingPower: ledgerBuyingPower(l),
      longMarketValue: long,
      shortMarketValue: short,
      realizedPnl: this.realized,
      unrealizedPnl: unrealized,
      commissions: this.commissions,
      regulatoryFees: this.regFees,
      borrowFees: this.borrowFees,
    };
  }

  ledger(): Ledger {
    const positions: Record<string, Position> = {};
    for (const [s, p] of this.positionsBySymbol) positions[s] = { ...p };
    return {
      cash: this.cash,
      positions,
      realizedPnl: this.realized,
      commissions: this.commissions,
      regulatoryFees: this.regFees,
      borrowFees: this.borrowFees,
      marginMultiplier: this.marginMultiplier,
    };
  }

  lastPrice(symbol: string): number | undefined {
    return this.symbols.get(symbol)?.last;
  }

  setHalted(symbol: string, halted: boolean): void {
    this.sym(symbol).halted = halted;
  }

  // ------------------------------------------------------------------ market data

  onQuote(q: Quote): void {
    this.advance(q.ts);
    this.sym(q.symbol).quote = q;
  }

  /**
   * A bar has completed: match working orders for its symbol against it (orders submitted before the bar
   * started only), then mark positions to its close and fold it into the volatility estimate.
   */
  onBar(bar: Bar): TradingEvent[] {
    return this.processBar(
      bar.symbol,
      bar.ts,
      TIMEFRAME_MS[bar.timeframe],
      bar.open,
      bar.high,
      bar.low,
      bar.close,
      bar.volume,
    );
  }

  /** Allocation-free form of onBar for the backtest engine's inner loop. */
  processBar(
    symbol: string,
    ts: number,
    barMs: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
  ): TradingEvent[] {
    if (ts > this.now) this.now = ts;
    let s = this.symbols.get(symbol);
    if (!s) {
      s = { last: close, sigma: 0, lastTs: ts, quote: undefined, halted: false, barMs };
      this.symbols.set(symbol, s);
    }
    s.barMs = barMs;
    let events = EMPTY;
    const open_ = this.openBySymbol.get(symbol);
    if (open_ !== undefined && open_.length > 0 && !s.halted) {
      events = [];
      this.matchBar(open_, s, ts, barMs, open, high, low, close, volume, events);
    }
    const pos = this.positionsBySymbol.get(symbol);
    if (pos !== undefined) {
      if (pos.qty < 0) this.chargeBorrow(symbol, pos, ts + barMs, events === EMPTY ? (events = []) : events);
      pos.lastPrice = close;
    }
    const sig = parkinsonSigma(high, low);
    s.sigma = s.sigma === 0 ? sig : s.sigma + this.volAlpha * (sig - s.sigma);
    s.last = close;
    s.lastTs = ts;
    if (events.length > 0) this.emitAll(events);
    return events;
  }

  // ------------------------------------------------------------------ internals

  private advance(ts: number): void {
    if (ts > this.now) this.now = ts;
  }

  private sym(symbol: string): SymbolState {
    let s = this.symbols.get(symbol);
    if (!s) {
      s = { last: Number.NaN, sigma: 0, lastTs: 0, quote: undefined, halted: false, barMs: 60_000 };
      this.symbols.set(symbol, s);
    }
    return s;
  }

  private mainSpec(spec: OrderSpec, cls: OrderClass): OrderSpec {
    // Alpaca models an OCO as a limit (take profit) with a stop leg; its own limitPrice is the take-profit price.
    if (cls === 'oco' && spec.takeProfit)
      return { ...spec, type: 'limit', limitPrice: spec.takeProfit.limitPrice };
    return spec;
  }

  private newWorking(
    spec: OrderSpec,
    orderClass: OrderClass,
    nowTs: number,
    parentId?: string,
  ): WorkingOrder {
    this.orderSeq += 1;
    const o: WorkingOrder = {
      id: `${this.prefix}-o${this.orderSeq}`,
      spec,
      orderClass,
      status: 'pending_new',
      filledQty: 0,
      filledNotional: 0,
      submittedAt: nowTs,
      updatedAt: nowTs,
      eligibleAt: nowTs + this.fill.latencyMs,
      expireAt: spec.timeInForce === 'day' ? dayOrderExpiry(spec.symbol, nowTs) : Number.POSITIVE_INFINITY,
      triggered: false,
      trailMark: undefined,
      parentId,
      legIds: undefined,
      siblingIds: undefined,
      held: false,
      rejectReason: undefined,
      commissionCharged: false,
    };
    this.orders.set(o.id, o);
    this.byClientId.set(spec.clientOrderId, o.id);
    return o;
  }

  private createLegs(main: WorkingOrder, spec: OrderSpec, cls: OrderClass, nowTs: number): void {
    const exitSide: OrderSide = spec.side === 'buy' ? 'sell' : 'buy';
    const legs: WorkingOrder[] = [];
    const base = {
      symbol: spec.symbol,
      qty: spec.qty,
      timeInForce: spec.timeInForce,
      tag: { ...spec.tag, intent: 'exit' as const },
    };
    if (cls === 'oco') {
      // main is the take-profit limit; one stop leg on the same side (both close the same position)
      const sl = spec.stopLoss!;
      const leg = this.newWorking(
        {
          ...base,
          side: spec.side,
          clientOrderId: `${spec.clientOrderId}:sl`,
          type: sl.limitPrice ? 'stop_limit' : 'stop',
          stopPrice: sl.stopPrice,
          limitPrice: sl.limitPrice,
        },
        'oco',
        nowTs,
        main.id,
      );
      leg.status = 'new';
      main.siblingIds = [leg.id];
      leg.siblingIds = [main.id];
      this.addOpen(leg);
      legs.push(leg);
    } else {
      if (spec.takeProfit) {
        legs.push(
          this.newWorking(
            {
              ...base,
              side: exitSide,
              clientOrderId: `${spec.clientOrderId}:tp`,
              type: 'limit',
              limitPrice: spec.takeProfit.limitPrice,
            },
            cls,
            nowTs,
            main.id,
          ),
        );
      }
      if (spec.stopLoss) {
        const sl = spec.stopLoss;
        legs.push(
          this.newWorking(
            {
              ...base,
              side: exitSide,
              clientOrderId: `${spec.clientOrderId}:sl`,
              type: sl.limitPrice ? 'stop_limit' : 'stop',
              stopPrice: sl.stopPrice,
              limitPrice: sl.limitPrice,
            },
            cls,
            nowTs,
            main.id,
          ),
        );
      }
      for (const l of legs) {
        l.held = true;
        l.status = 'new';
        l.siblingIds = legs.filter((x) => x !== l).map((x) => x.id);
      }
    }
    main.legIds = legs.map((l) => l.id);
  }

  private activateLeg(leg: WorkingOrder, qty: number, ts: number): void {
    leg.held = false;
    leg.spec = { ...leg.spec, qty };
    leg.eligibleAt = ts + 1; // from the next bar on: a protective leg never fills on its parent's fill bar
    leg.submittedAt = ts + 1;
    if (leg.spec.timeInForce === 'day') leg.expireAt = dayOrderExpiry(leg.spec.symbol, ts + 1);
    this.addOpen(leg);
  }

  private rejectReason(spec: OrderSpec): string | undefined {
    const problem = validateOrderSpec(spec);
    if (problem) return problem;
    if (this.known && !this.known.has(spec.symbol))
      return `symbol: "${spec.symbol}" is not tradable here (unknown symbol)`;
    const s = this.symbols.get(spec.symbol);
    if (!this.known && (!s || !Number.isFinite(s.last)))
      return `symbol: "${spec.symbol}" is unknown (no market data seen)`;
    if (s?.halted) return `symbol: "${spec.symbol}" is halted`;
    if (!this.fill.fractional && !Number.isInteger(spec.qty))
      return `qty: ${spec.qty} must be a whole number of shares`;
    const posQty = this.positionQty(spec.symbol);
    const signed = spec.side === 'buy' ? spec.qty : -spec.qty;
    const after = posQty + signed;
    const reducing = Math.abs(after) <= Math.abs(posQty) && Math.sign(after) * Math.sign(posQty) >= 0;
    if (reducing) return undefined;
    if (after < 0 && this.fill.notShortable.includes(spec.symbol))
      return `symbol: "${spec.symbol}" cannot be sold short (not shortable)`;
    const ref = spec.limitPrice ?? spec.stopPrice ?? s?.last ?? Number.NaN;
    if (!Number.isFinite(ref)) return `symbol: "${spec.symbol}" has no price to check buying power against`;
    const newExposure =
      (Math.abs(after) - Math.max(0, Math.sign(after) === Math.sign(posQty) ? Math.abs(posQty) : 0)) * ref;
    const pendingExposure = this.pendingEntryExposure();
    const bp = this.buyingPower() - pendingExposure;
    if (newExposure > bp + 1e-9)
      return `buying power: order needs $${newExposure.toFixed(2)} but only $${Math.max(0, bp).toFixed(2)} is available (insufficient buying power)`;
    return undefined;
  }

  /** Exposure already committed by working entry orders, so two orders cannot spend the same buying power. */
  private pendingEntryExposure(): number {
    let v = 0;
    for (const list of this.openBySymbol.values()) {
      for (const o of list) {
        if (o.parentId) continue;
        const pos = this.positionQty(o.spec.symbol);
        const signed = o.spec.side === 'buy' ? 1 : -1;
        if (pos !== 0 && Math.sign(pos) !== signed) continue; // reducing
        const s = this.symbols.get(o.spec.symbol);
        const ref = o.spec.limitPrice ?? o.spec.stopPrice ?? s?.last ?? 0;
        v += (o.spec.qty - o.filledQty) * ref;
      }
    }
    return v;
  }

  private addOpen(o: WorkingOrder): void {
    let list = this.openBySymbol.get(o.spec.symbol);
    if (!list) {
      list = [];
      this.openBySymbol.set(o.spec.symbol, list);
    }
    list.push(o);
    this.openCount += 1;
  }

  private removeOpen(o: WorkingOrder): void {
    const list = this.openBySymbol.get(o.spec.symbol);
    if (!list) return;
    const i = list.indexOf(o);
    if (i >= 0) {
      list.splice(i, 1);
      this.openCount -= 1;
    }
  }

  private cancelInto(o: WorkingOrder, ts: number, reason: string, events: TradingEvent[]): void {
    if (!isOpenOrder(o)) return;
    if (!o.held) this.removeOpen(o);
    o.status = transition(o.id, o.status, 'canceled');
    o.updatedAt = ts;
    events.push(
      this.ev(
        {
          type: 'OrderCanceled',
          orderId: o.id,
          clientOrderId: o.spec.clientOrderId,
          reason,
          order: this.snapshot(o),
        },
        ts,
      ),
    );
  }

  private matchBar(
    list: WorkingOrder[],
    s: SymbolState,
    ts: number,
    barMs: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    events: TradingEvent[],
  ): void {
    // capacity shared by every order on this bar: the participation cap is per bar, not per order
    let capacity = participationCap(this.fill, volume);
    // the order of prices inside a bar is unknown: stops go before limits, so when one bar touches both legs
    // of a bracket or OCO the adverse (stop) side wins — the conservative assumption (stable sort keeps
    // submission order otherwise)
    const snapshot = list.slice().sort((a, b) => matchRank(a) - matchRank(b));
    for (const o of snapshot) {
      if (!isOpenOrder(o) || o.held) continue;
      // day orders die at the close of their session
      if (ts >= o.expireAt) {
        this.removeOpen(o);
        o.status = transition(o.id, o.status, 'expired');
        o.updatedAt = ts;
        events.push(
          this.ev(
            {
              type: 'OrderExpired',
              orderId: o.id,
              clientOrderId: o.spec.clientOrderId,
              order: this.snapshot(o),
            },
            ts,
          ),
        );
        continue;
      }
      // no earlier than the next bar, and not before latency has elapsed within the bar
      if (ts < o.submittedAt || ts + barMs <= o.eligibleAt) continue;
      const px = this.triggerPrice(o, s, open, high, low, ts, events);
      if (px === undefined) {
        this.afterNoFill(o, ts, events);
        continue;
      }
      const remaining = o.spec.qty - o.filledQty;
      let qty = roundQty(this.fill, Math.min(remaining, capacity));
      if (o.spec.timeInForce === 'fok' && qty < remaining) {
        this.cancelInto(o, ts, 'fill or kill: not enough volume', events);
        continue;
      }
      if (volume <= 0) qty = 0;
      if (qty <= 0) {
        this.afterNoFill(o, ts, events);
        continue;
      }
      // taker orders pay spread + impact; resting limits fill at their price (or better on a gap)
      let price = px.price;
      let slip = 0;
      if (px.taker) {
        const t = takerPrice(this.fill, o.spec.side, px.price, qty, volume, s.sigma, s.quote, ts);
        price = t.price;
        slip = t.slippagePerShare * qty;
        // a stop-limit / marketable limit never fills through its limit
        const lim = o.spec.limitPrice;
        if (lim !== undefined && (o.spec.type === 'limit' || o.spec.type === 'stop_limit')) {
          if (o.spec.side === 'buy' && price > lim) price = lim;
          if (o.spec.side === 'sell' && price < lim) price = lim;
        }
      }
      // buying power at fill time: a gap can make an entry unaffordable; shrink it to what cash allows
      qty = this.affordableQty(o, qty, price);
      if (qty <= 0) {
        this.cancelInto(o, ts, 'insufficient buying power at fill', events);
        continue;
      }
      capacity -= qty;
      this.applyExecution(o, qty, price, slip, ts, close, events);
      if (isOpenOrder(o) && o.spec.timeInForce === 'ioc')
        this.cancelInto(o, ts, 'immediate or cancel: remainder canceled', events);
    }
  }

  private afterNoFill(o: WorkingOrder, ts: number, events: TradingEvent[]): void {
    if (o.spec.timeInForce === 'ioc' || o.spec.timeInForce === 'fok')
      this.cancelInto(o, ts, `${o.spec.timeInForce}: not filled on the first eligible bar`, events);
  }

  private affordableQty(o: WorkingOrder, qty: number, price: number): number {
    const pos = this.positionQty(o.spec.symbol);
    const signed = o.spec.side === 'buy' ? qty : -qty;
    const reducingPart = pos !== 0 && Math.sign(pos) !== Math.sign(signed) ? Math.min(Math.abs(pos), qty) : 0;
    const opening = qty - reducingPart;
    if (opening <= 0) return qty;
    const bp = this.buyingPower();
    const costPerShare = price * (1 + this.fill.commission.maxFractionOfNotional);
    if (opening * costPerShare <= bp) return qty;
    return reducingPart + roundQty(this.fill, bp / costPerShare);
  }

  /** The execution price if the order executes on this bar, and whether it takes liquidity. */
  private triggerPrice(
    o: WorkingOrder,
    s: SymbolState,
    open: number,
    high: number,
    low: number,
    ts: number,
    events: TradingEvent[],
  ): { price: number; taker: boolean } | undefined {
    const buy = o.spec.side === 'buy';
    switch (o.spec.type) {
      case 'market':
        return { price: open, taker: true };
      case 'limit': {
        const lim = o.spec.limitPrice!;
        if (buy ? open <= lim : open >= lim) return { price: open, taker: true }; // marketable on the open
        if (buy ? low < lim : high > lim) return { price: lim, taker: false }; // traded through the limit
        return undefined;
      }
      case 'stop':
      case 'stop_limit': {
        const stop = o.spec.stopPrice!;
        let trig: number | undefined;
        if (o.triggered) trig = open;
        else if (buy ? open >= stop : open <= stop) trig = open;
        else if (buy ? high >= stop : low <= stop) trig = stop;
        if (trig === undefined) return undefined;
        if (!o.triggered) {
          o.triggered = true;
          events.push(
            this.ev(
              {
                type: 'OrderTriggered',
                orderId: o.id,
                clientOrderId: o.spec.clientOrderId,
                triggerPrice: trig,
              },
              ts,
            ),
          );
        }
        if (o.spec.type === 'stop') return { price: trig, taker: true };
        const lim = o.spec.limitPrice!;
        if (buy ? trig <= lim : trig >= lim) return { price: trig, taker: true };
        if (buy ? low < lim : high > lim) return { price: lim, taker: false };
        return undefined;
      }
      case 'trailing_stop': {
        // the mark comes from completed bars only; this bar's extreme updates it after matching
        const mark = o.trailMark ?? s.last;
        const trail = o.spec.trailPrice ?? (mark * (o.spec.trailPercent ?? 0)) / 100;
        const stop = buy ? mark + trail : mark - trail;
        let px: number | undefined;
        if (buy ? open >= stop : open <= stop) px = open;
        else if (buy ? high >= stop : low <= stop) px = stop;
        o.trailMark = buy ? Math.min(mark, low) : Math.max(mark, high);
        if (px === undefined) return undefined;
        return { price: px, taker: true };
      }
    }
  }

  private applyExecution(
    o: WorkingOrder,
    qty: number,
    price: number,
    slippage: number,
    ts: number,
    close: number,
    events: TradingEvent[],
  ): void {
    const commission = commissionFor(this.fill, qty, price, !o.commissionCharged);
    o.commissionCharged = true;
    const regulatoryFees = regulatoryFeesFor(this.fill, o.spec.side, qty, price);
    const fill: Fill = {
      orderId: o.id,
      clientOrderId: o.spec.clientOrderId,
      symbol: o.spec.symbol,
      side: o.spec.side,
      qty,
      price,
      ts,
      commission,
      regulatoryFees,
      slippage,
      tag: o.spec.tag,
    };
    const p0 = this.positionsBySymbol.get(o.spec.symbol) ?? flatPosition(o.spec.symbol, price);
    const r = applyFillToPosition(p0, o.spec.side, qty, price, ts);
    const pos = { ...r.position, lastPrice: close };
    if (pos.qty === 0) {
      this.positionsBySymbol.delete(o.spec.symbol);
      this.borrowChargedTo.delete(o.spec.symbol);
    } else {
      this.positionsBySymbol.set(o.spec.symbol, pos);
      if (pos.qty < 0 && !this.borrowChargedTo.has(o.spec.symbol))
        this.borrowChargedTo.set(o.spec.symbol, ts);
    }
    this.realized += r.realized;
    this.cash += (o.spec.side === 'buy' ? -1 : 1) * qty * price - commission - regulatoryFees;
    this.commissions += commission;
    this.regFees += regulatoryFees;
    o.filledQty += qty;
    o.filledNotional += qty * price;
    o.updatedAt = ts;
    const done = o.spec.qty - o.filledQty <= 1e-9;
    o.status = transition(o.id, o.status, done ? 'filled' : 'partially_filled');
    if (done) this.removeOpen(o);
    const snap = this.snapshot(o);
    const base = {
      orderId: o.id,
      clientOrderId: o.spec.clientOrderId,
      fill,
      order: snap,
      positionQty: pos.qty,
    };
    events.push(
      this.ev(done ? { type: 'OrderFilled', ...base } : { type: 'OrderPartiallyFilled', ...base }, ts),
    );
    // OCO: the first execution of one side cancels the other
    if (o.siblingIds) {
      for (const id of o.siblingIds) {
        const sib = this.orders.get(id)!;
        if (isOpenOrder(sib)) this.cancelInto(sib, ts, 'one-cancels-other: sibling executed', events);
      }
    }
    if (o.parentId) {
      const parent = this.orders.get(o.parentId)!;
      if (parent.orderClass === 'oco' && parent.id !== o.id && isOpenOrder(parent))
        this.cancelInto(parent, ts, 'one-cancels-other: sibling executed', events);
    }
    // bracket / OTO: the legs start working once the entry is completely filled
    if (done && o.legIds && o.orderClass !== 'oco') {
      for (const id of o.legIds) {
        const leg = this.orders.get(id)!;
        if (leg.held && isOpenOrder(leg)) this.activateLeg(leg, o.filledQty, ts);
      }
    }
  }

  private chargeBorrow(symbol: string, pos: Position, untilTs: number, events: TradingEvent[]): void {
    const from = this.borrowChargedTo.get(symbol) ?? untilTs;
    if (untilTs <= from) return;
    const fee = borrowFeeFor(this.fill, symbol, pos.qty * pos.lastPrice, untilTs - from);
    this.borrowChargedTo.set(symbol, untilTs);
    if (fee <= 0) return;
    this.cash -= fee;
    this.borrowFees += fee;
    events.push(this.ev({ type: 'BorrowFeeCharged', symbol, amount: fee }, untilTs));
  }

  private snapshot(o: WorkingOrder): Order {
    return {
      ...o.spec,
      id: o.id,
      orderClass: o.orderClass,
      status: o.status,
      filledQty: o.filledQty,
      filledAvgPrice: o.filledQty > 0 ? o.filledNotional / o.filledQty : undefined,
      submittedAt: o.submittedAt,
      updatedAt: o.updatedAt,
      eligibleAt: o.eligibleAt,
      triggered: o.triggered || undefined,
      trailMark: o.trailMark,
      parentId: o.parentId,
      legIds: o.legIds ? [...o.legIds] : undefined,
      held: o.held || undefined,
      rejectReason: o.rejectReason,
    };
  }

  private ev<E extends Omit<TradingEvent, 'eventId' | 'ts' | 'receivedTs'>>(
    e: E,
    ts: number,
  ): E & { eventId: string; ts: number; receivedTs: number } {
    return { ...e, eventId: this.eventIds.next(), ts, receivedTs: ts + this.fill.latencyMs };
  }

  private emit(out: SubmitOutcome): SubmitOutcome {
    this.emitAll(out.events);
    return out;
  }

  private emitAll(events: readonly TradingEvent[]): void {
    if (this.listeners.size === 0) return;
    for (const e of events) for (const l of this.listeners) l(e);
  }
}

export type { OrderEvent };
