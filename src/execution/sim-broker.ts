/**
 * The simulated broker shared by the backtester and the Alpaca-compatible paper simulator. It accepts orders
 * with Alpaca's semantics (market, limit, stop, stop-limit, trailing stop; bracket, OCO, OTO; day/gtc/ioc/fok),
 * fills them against bars with the cost models of fill-models.ts, keeps the ledger, and emits the order events
 * of model/events.ts (OrderAccepted, OrderPartiallyFilled, OrderFilled, OrderCanceled, …), the same events the
 * Alpaca adapter maps Alpaca's trade updates to.
 *
 * A facade over three parts, as NautilusTrader splits its simulated exchange: the orders (sim/orders.ts), the
 * matching of orders against a bar (sim/matching.ts) and the account (sim/account.ts). Deterministic: ids are
 * sequence numbers. No look-ahead: see sim/matching.ts.
 */
import type { Bar, Quote } from '../model/bar';
import { EventIdSequence, type TradingEvent } from '../model/events';
import type { Ledger } from '../model/ledger';
import { isOpenOrder, validateOrderSpec, type Order, type OrderSpec } from '../model/order';
import type { Position } from '../model/position';
import {
  instrumentFor,
  isMultipleOfStep,
  type InstrumentOverrides,
  type InstrumentSpec,
} from '../model/instrument';
import { TIMEFRAME_MS } from '../model/timeframe';
import { fillModelConfig, parkinsonSigma, type FillModelConfig } from './fill-models';
import { SimAccount, type SimAccountSnapshot } from './sim/account';
import { matchBar, type MatchingVenue, type SymbolMarket } from './sim/matching';
import { OrderBook, type EventStamp, type ReplacePatch } from './sim/orders';

export { SimBrokerError, type ReplacePatch } from './sim/orders';
export type { SimAccountSnapshot } from './sim/account';

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
  /** venue overrides of instrument specs (e.g. another crypto fee tier) */
  readonly instruments?: InstrumentOverrides;
}

export interface SubmitOutcome {
  readonly order: Order;
  readonly events: TradingEvent[];
  /** an order with this client order id existed already: nothing new was placed */
  readonly alreadyExisted: boolean;
}

const EMPTY: TradingEvent[] = [];

export class SimBroker {
  readonly accountId: string;
  readonly fill: FillModelConfig;
  private readonly known: Set<string> | undefined;
  private readonly volAlpha: number;
  private readonly book: OrderBook;
  private readonly acct: SimAccount;
  private readonly venue: MatchingVenue;
  private readonly symbols = new Map<string, SymbolMarket>();
  private readonly listeners = new Set<(e: TradingEvent) => void>();
  private readonly instruments = new Map<string, InstrumentSpec>();
  private readonly instrumentOverrides: InstrumentOverrides;
  private now = 0;

  constructor(opts: SimBrokerOptions = {}) {
    this.accountId = opts.accountId ?? 'sim-account';
    this.instrumentOverrides = opts.instruments ?? {};
    const fill = (this.fill = fillModelConfig(opts.fill));
    const prefix = opts.idPrefix ?? 'sim';
    const eventIds = new EventIdSequence(`${prefix}-ev`);
    // Object.assign rather than `{ ...e, eventId, … }`: the spread literal is ~10× slower on Node 20 (see snapshot)
    const stamp: EventStamp = (e, ts) =>
      Object.assign({}, e, { eventId: eventIds.next(), ts, receivedTs: ts + fill.latencyMs });
    this.acct = new SimAccount(
      this.accountId,
      opts.startingCash ?? 100_000,
      opts.marginMultiplier ?? 1,
      fill,
      stamp,
    );
    this.known = opts.symbols ? new Set(opts.symbols) : undefined;
    this.volAlpha = opts.volAlpha ?? 0.1;
    const book = (this.book = new OrderBook(prefix, fill.latencyMs, stamp));
    const acct = this.acct;
    this.venue = {
      expire: (o, ts, events) => book.expire(o, ts, events),
      cancel: (o, ts, reason, events) => book.cancel(o, ts, reason, events),
      trigger: (o, price, ts, events) => book.trigger(o, price, ts, events),
      execute: (o, qty, price, slippage, ts, close, taker, events) => {
        const first = !o.commissionCharged;
        o.commissionCharged = true;
        const inst = this.instrument(o.spec.symbol);
        const x = acct.applyExecution(o.id, o.spec, qty, price, slippage, ts, close, first, inst, taker);
        book.executed(o, qty, price, ts, x.fill, x.positionQty, events);
      },
      positionQty: (symbol) => acct.positionQty(symbol),
      buyingPower: () => acct.buyingPower(),
    };
  }

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
    const existing = this.book.byClientOrderId(spec.clientOrderId);
    if (existing) return { order: this.book.snapshot(existing), events: [], alreadyExisted: true };
    const events: TradingEvent[] = [];
    const main = this.book.add(spec, nowTs, events);
    const reason = this.rejectReason(main.spec);
    if (reason) this.book.reject(main, reason, nowTs, events);
    else this.book.accept(main, spec, nowTs, events);
    // the accept/reject event's snapshot is the order as it stands (snapshots are immutable): no second copy
    const last = events[events.length - 1];
    const order =
      (last?.type === 'OrderAccepted' || last?.type === 'OrderRejected') && last.orderId === main.id
        ? last.order
        : this.book.snapshot(main);
    return this.emit({ order, events, alreadyExisted: false });
  }

  cancel(orderId: string, nowTs: number, reason = 'canceled by request'): TradingEvent[] {
    this.advance(nowTs);
    const o = this.book.openOrder(orderId, 'canceled');
    const events: TradingEvent[] = [];
    this.book.cancelWithLegs(o, nowTs, reason, events);
    this.emitAll(events);
    return events;
  }

  cancelAll(nowTs: number): TradingEvent[] {
    const out: TradingEvent[] = [];
    for (const o of this.book.all())
      if (isOpenOrder(o) && !o.parentId) out.push(...this.cancel(o.id, nowTs, 'cancel all'));
    return out;
  }

  /** Alpaca's replace: cancels the order and submits a new one with the patch applied (same remaining qty by default). */
  replace(orderId: string, patch: ReplacePatch, nowTs: number): SubmitOutcome {
    this.advance(nowTs);
    const o = this.book.openOrder(orderId, 'replaced');
    const out = this.submit(this.book.replacementSpec(o, patch), nowTs);
    const events: TradingEvent[] = [];
    this.book.replaced(o, out.order.id, nowTs, events);
    this.emitAll(events);
    return { ...out, events: [...events, ...out.events] };
  }

  getOrder(orderId: string): Order | undefined {
    const o = this.book.get(orderId);
    return o ? this.book.snapshot(o) : undefined;
  }

  getOrderByClientId(clientOrderId: string): Order | undefined {
    const o = this.book.byClientOrderId(clientOrderId);
    return o ? this.book.snapshot(o) : undefined;
  }

  listOrders(status: 'open' | 'closed' | 'all' = 'open', symbols?: readonly string[]): Order[] {
    return this.book.list(status, symbols);
  }

  hasOpenOrders(symbol?: string): boolean {
    return this.book.hasOpen(symbol);
  }

  // ------------------------------------------------------------------ account

  position(symbol: string): Position | undefined {
    return this.acct.position(symbol);
  }

  positions(): Position[] {
    return this.acct.positions();
  }

  /** Sum of |market value| over positions. */
  grossExposure(): number {
    return this.acct.grossExposure();
  }

  /** Number of open positions (allocation-free). */
  positionCount(): number {
    return this.acct.positionCount();
  }

  /** Signed position quantity (0 when flat). Fast path for the engine. */
  positionQty(symbol: string): number {
    return this.acct.positionQty(symbol);
  }

  equity(): number {
    return this.acct.equity();
  }

  buyingPower(): number {
    return this.acct.buyingPower();
  }

  /** Cash alone, without building the account's snapshot (the kernel reads it per step). */
  cash(): number {
    return this.acct.cashBalance();
  }

  account(): SimAccountSnapshot {
    return this.acct.snapshot();
  }

  ledger(): Ledger {
    return this.acct.ledger();
  }

  lastPrice(symbol: string): number | undefined {
    return this.symbols.get(symbol)?.last;
  }

  setHalted(symbol: string, halted: boolean): void {
    this.market(symbol).halted = halted;
  }

  // ------------------------------------------------------------------ market data

  onQuote(q: Quote): void {
    this.advance(q.ts);
    this.market(q.symbol).quote = q;
  }

  /**
   * A bar has completed: match working orders for its symbol against it (orders submitted before the bar
   * started only), then mark positions to its close and fold it into the volatility estimate.
   */
  onBar(bar: Bar): TradingEvent[] {
    const { symbol, ts, open, high, low, close, volume } = bar;
    return this.processBar(symbol, ts, TIMEFRAME_MS[bar.timeframe], open, high, low, close, volume);
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
    this.advance(ts);
    let s = this.symbols.get(symbol);
    if (!s) {
      s = {
        instrument: this.instrument(symbol),
        last: close,
        sigma: 0,
        lastTs: ts,
        quote: undefined,
        halted: false,
        barMs,
      };
      this.symbols.set(symbol, s);
    }
    s.barMs = barMs;
    let events = EMPTY;
    const working = this.book.openOn(symbol);
    if (working !== undefined && working.length > 0 && !s.halted) {
      events = [];
      const bar = { ts, barMs, open, high, low, close, volume };
      matchBar(working, s, bar, this.fill, this.venue, events);
    }
    const fee = this.acct.markToBar(symbol, close, ts + barMs);
    if (fee !== undefined) (events === EMPTY ? (events = []) : events).push(fee);
    const sig = parkinsonSigma(high, low);
    s.sigma = s.sigma === 0 ? sig : s.sigma + this.volAlpha * (sig - s.sigma);
    s.last = close;
    s.lastTs = ts;
    if (events.length > 0) this.emitAll(events);
    return events;
  }

  // ------------------------------------------------------------------ internals

  /** The instrument spec of a symbol (its lot step, fees, shortability), as the venue trades it. */
  instrument(symbol: string): InstrumentSpec {
    let i = this.instruments.get(symbol);
    if (!i) this.instruments.set(symbol, (i = instrumentFor(symbol, this.instrumentOverrides)));
    return i;
  }

  private advance(ts: number): void {
    if (ts > this.now) this.now = ts;
  }

  private market(symbol: string): SymbolMarket {
    let s = this.symbols.get(symbol);
    if (!s) {
      s = {
        instrument: this.instrument(symbol),
        last: Number.NaN,
        sigma: 0,
        lastTs: 0,
        quote: undefined,
        halted: false,
        barMs: 60_000,
      };
      this.symbols.set(symbol, s);
    }
    return s;
  }

  /** Why the venue refuses an order (validation, symbol, halt, lot, shorting, buying power), or undefined. */
  private rejectReason(spec: OrderSpec): string | undefined {
    const problem = validateOrderSpec(spec);
    if (problem) return problem;
    if (this.known && !this.known.has(spec.symbol))
      return `symbol: "${spec.symbol}" is not tradable here (unknown symbol)`;
    const s = this.symbols.get(spec.symbol);
    if (!this.known && (!s || !Number.isFinite(s.last)))
      return `symbol: "${spec.symbol}" is unknown (no market data seen)`;
    if (s?.halted) return `symbol: "${spec.symbol}" is halted`;
    const inst = this.instrument(spec.symbol);
    if (inst.qtyStep >= 1 && !this.fill.fractional && !Number.isInteger(spec.qty))
      return `qty: ${spec.qty} must be a whole number of shares`;
    if (inst.qtyStep < 1 && !isMultipleOfStep(spec.qty, inst.qtyStep))
      return `qty: ${spec.qty} is not a multiple of ${inst.symbol}'s lot step ${inst.qtyStep}`;
    return this.acct.exposureProblem(spec, inst, s?.last, () =>
      this.book.pendingEntryExposure(
        (symbol) => this.acct.positionQty(symbol),
        (symbol) => this.symbols.get(symbol)?.last,
      ),
    );
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
