/**
 * Matching working orders against one completed bar. Which orders execute, at what price and how much follows
 * from the bar, the symbol's market state (last close, volatility, quote) and the fill models alone; what an
 * execution does to the account and to the order (fees, position, OCO, legs) is the venue's, applied order by
 * order so that a later order on the same bar sees the volume and buying power an earlier one used.
 *
 * No look-ahead: an order fills only on a bar that starts at or after its submission, and not before its
 * latency has passed inside that bar. The order of prices inside a bar is unknown, so stops are matched before
 * limits: when one bar touches both legs of a bracket or OCO, the adverse (stop) side wins.
 */
import type { Quote } from '../../model/bar';
import type { TradingEvent } from '../../model/events';
import { isOpenOrder, type OrderSide } from '../../model/order';
import {
  maxCostFraction,
  participationCap,
  roundQty,
  takerPrice,
  type FillModelConfig,
  tradingMinutesPerBar,
} from '../fill-models';
import type { InstrumentSpec } from '../../model/instrument';
import type { WorkingOrder } from './orders';

/** What the venue knows of a symbol's market from completed bars and quotes. */
export interface SymbolMarket {
  /** what the symbol is: lot step, fees, shortable */
  readonly instrument: InstrumentSpec;
  last: number;
  /** EWMA of the per-bar Parkinson volatility, bars before the one being matched */
  sigma: number;
  lastTs: number;
  quote: Quote | undefined;
  halted: boolean;
  barMs: number;
}

export interface BarPrices {
  readonly ts: number;
  readonly barMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/** What matching asks of the venue: each decision is applied at once. */
export interface MatchingVenue {
  expire(o: WorkingOrder, ts: number, events: TradingEvent[]): void;
  cancel(o: WorkingOrder, ts: number, reason: string, events: TradingEvent[]): void;
  trigger(o: WorkingOrder, triggerPrice: number, ts: number, events: TradingEvent[]): void;
  execute(
    o: WorkingOrder,
    qty: number,
    price: number,
    slippage: number,
    ts: number,
    close: number,
    /** took liquidity (market, stop, marketable limit) rather than resting (maker fees for crypto) */
    taker: boolean,
    events: TradingEvent[],
  ): void;
  positionQty(symbol: string): number;
  buyingPower(): number;
}

/** How an order meets a bar. */
export interface BarTouch {
  /** the execution price on this bar; undefined when the order does not execute */
  readonly price: number | undefined;
  /** takes liquidity (pays spread and impact) rather than resting at its limit */
  readonly taker: boolean;
  /** a stop triggered on this bar, at this price */
  readonly triggeredAt: number | undefined;
  /** a trailing stop's new mark: this bar's extreme, folded in after matching */
  readonly trailMark: number | undefined;
}

const UNTOUCHED: BarTouch = { price: undefined, taker: false, triggeredAt: undefined, trailMark: undefined };

const touch = (
  price: number | undefined,
  taker: boolean,
  triggeredAt?: number,
  trailMark?: number,
): BarTouch => ({ price, taker, triggeredAt, trailMark });

function matchRank(o: WorkingOrder): number {
  return o.spec.type === 'limit' ? 1 : 0;
}

/** Matches a symbol's open orders (in submission order, stops before limits) against one completed bar. */
export function matchBar(
  orders: readonly WorkingOrder[],
  market: SymbolMarket,
  bar: BarPrices,
  fill: FillModelConfig,
  venue: MatchingVenue,
  events: TradingEvent[],
): void {
  const { ts, barMs, open, high, low, close, volume } = bar;
  // capacity shared by every order on this bar: the participation cap is per bar, not per order
  const step = market.instrument.qtyStep;
  let capacity = participationCap(fill, volume, step);
  // stable sort keeps submission order within stops and within limits
  const ranked = orders.slice().sort((a, b) => matchRank(a) - matchRank(b));
  for (const o of ranked) {
    if (!isOpenOrder(o) || o.held) continue;
    // day orders die at the close of their session
    if (ts >= o.expireAt) {
      venue.expire(o, ts, events);
      continue;
    }
    // no earlier than the next bar, and not before latency has elapsed within the bar
    if (ts < o.submittedAt || ts + barMs <= o.eligibleAt) continue;
    const t = triggerPrice(o, market.last, open, high, low);
    if (t.triggeredAt !== undefined) venue.trigger(o, t.triggeredAt, ts, events);
    if (t.trailMark !== undefined) o.trailMark = t.trailMark;
    if (t.price === undefined) {
      afterNoFill(o, ts, venue, events);
      continue;
    }
    const remaining = o.spec.qty - o.filledQty;
    let qty = roundQty(fill, Math.min(remaining, capacity), step);
    if (o.spec.timeInForce === 'fok' && qty < remaining) {
      venue.cancel(o, ts, 'fill or kill: not enough volume', events);
      continue;
    }
    if (volume <= 0) qty = 0;
    if (qty <= 0) {
      afterNoFill(o, ts, venue, events);
      continue;
    }
    // taker orders pay spread + impact; resting limits fill at their price (or better on a gap)
    let price = t.price;
    let slip = 0;
    if (t.taker) {
      const minutes = tradingMinutesPerBar(barMs, market.instrument.calendar === 'CRYPTO' ? 1440 : 390);
      const tp = takerPrice(fill, o.spec.side, t.price, qty, volume, market.sigma, market.quote, ts, minutes);
      price = tp.price;
      slip = tp.slippagePerShare * qty;
      // a stop-limit / marketable limit never fills through its limit
      const lim = o.spec.limitPrice;
      if (lim !== undefined && (o.spec.type === 'limit' || o.spec.type === 'stop_limit')) {
        if (o.spec.side === 'buy' && price > lim) price = lim;
        if (o.spec.side === 'sell' && price < lim) price = lim;
      }
    }
    // buying power at fill time: a gap can make an entry unaffordable; shrink it to what cash allows
    qty = affordableQty(
      o.spec.side,
      qty,
      price,
      venue.positionQty(o.spec.symbol),
      () => venue.buyingPower(),
      fill,
      market.instrument,
    );
    if (qty <= 0) {
      venue.cancel(o, ts, 'insufficient buying power at fill', events);
      continue;
    }
    capacity -= qty;
    venue.execute(o, qty, price, slip, ts, close, t.taker, events);
    if (isOpenOrder(o) && o.spec.timeInForce === 'ioc')
      venue.cancel(o, ts, 'immediate or cancel: remainder canceled', events);
  }
}

function afterNoFill(o: WorkingOrder, ts: number, venue: MatchingVenue, events: TradingEvent[]): void {
  if (o.spec.timeInForce === 'ioc' || o.spec.timeInForce === 'fok')
    venue.cancel(o, ts, `${o.spec.timeInForce}: not filled on the first eligible bar`, events);
}

/**
 * How an order meets a bar with these prices: the execution price and whether it takes liquidity, a stop's
 * trigger and a trailing stop's new mark. `last` is the previous close (a trailing stop's first mark).
 */
export function triggerPrice(
  o: Pick<WorkingOrder, 'spec' | 'triggered' | 'trailMark'>,
  last: number,
  open: number,
  high: number,
  low: number,
): BarTouch {
  const buy = o.spec.side === 'buy';
  switch (o.spec.type) {
    case 'market':
      return touch(open, true);
    case 'limit': {
      const lim = o.spec.limitPrice!;
      if (buy ? open <= lim : open >= lim) return touch(open, true); // marketable on the open
      if (buy ? low < lim : high > lim) return touch(lim, false); // traded through the limit
      return UNTOUCHED;
    }
    case 'stop':
    case 'stop_limit': {
      const stop = o.spec.stopPrice!;
      let trig: number | undefined;
      if (o.triggered) trig = open;
      else if (buy ? open >= stop : open <= stop) trig = open;
      else if (buy ? high >= stop : low <= stop) trig = stop;
      if (trig === undefined) return UNTOUCHED;
      const triggeredAt = o.triggered ? undefined : trig;
      if (o.spec.type === 'stop') return touch(trig, true, triggeredAt);
      const lim = o.spec.limitPrice!;
      if (buy ? trig <= lim : trig >= lim) return touch(trig, true, triggeredAt);
      if (buy ? low < lim : high > lim) return touch(lim, false, triggeredAt);
      return touch(undefined, false, triggeredAt);
    }
    case 'trailing_stop': {
      // the mark comes from completed bars only; this bar's extreme updates it after matching
      const mark = o.trailMark ?? last;
      const trail = o.spec.trailPrice ?? (mark * (o.spec.trailPercent ?? 0)) / 100;
      const stop = buy ? mark + trail : mark - trail;
      let px: number | undefined;
      if (buy ? open >= stop : open <= stop) px = open;
      else if (buy ? high >= stop : low <= stop) px = stop;
      const trailMark = buy ? Math.min(mark, low) : Math.max(mark, high);
      return touch(px, px !== undefined, undefined, trailMark);
    }
  }
}

/**
 * The part of `qty` the account can pay for at `price`: a reducing part always; the opening part within
 * buying power (commission at its cap included), rounded to the venue's lot.
 */
export function affordableQty(
  side: OrderSide,
  qty: number,
  price: number,
  positionQty: number,
  buyingPower: () => number,
  fill: FillModelConfig,
  instrument: InstrumentSpec,
): number {
  const signed = side === 'buy' ? qty : -qty;
  const reducingPart =
    positionQty !== 0 && Math.sign(positionQty) !== Math.sign(signed)
      ? Math.min(Math.abs(positionQty), qty)
      : 0;
  const opening = qty - reducingPart;
  if (opening <= 0) return qty;
  const bp = buyingPower();
  const costPerShare = price * (1 + maxCostFraction(fill, instrument));
  if (opening * costPerShare <= bp) return qty;
  return reducingPart + roundQty(fill, bp / costPerShare, instrument.qtyStep);
}
