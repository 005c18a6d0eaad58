/**
 * The simulated account: cash, positions (average price, realized P&L), commissions, regulatory and borrow
 * fees. It applies executions with the cost models of fill-models.ts, charges borrow on shorts as bars pass,
 * says whether an order's exposure fits the buying power, and reports itself as a ledger and a snapshot.
 */
import type { BorrowFeeCharged, Fill } from '../../model/events';
import { buyingPower as ledgerBuyingPower, equity as ledgerEquity, type Ledger } from '../../model/ledger';
import type { OrderSpec } from '../../model/order';
import { applyFillToPosition, flatPosition, marketValue, type Position } from '../../model/position';
import { borrowFeeFor, feesFor, type FillModelConfig } from '../fill-models';
import type { InstrumentSpec } from '../../model/instrument';
import type { EventStamp } from './orders';

/** The simulated account's figures (the backtest report's final account). */
export interface SimAccountSnapshot {
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

/** Positions are mutated in place on every bar (mark to market); callers only ever get copies. */
type MutablePosition = { -readonly [K in keyof Position]: Position[K] };

export class SimAccount {
  private cash: number;
  private realized = 0;
  private commissions = 0;
  private regFees = 0;
  private borrowFees = 0;
  private readonly positionsBySymbol = new Map<string, MutablePosition>();
  /** shorts: the time up to which borrow has been charged */
  private readonly borrowChargedTo = new Map<string, number>();

  constructor(
    readonly id: string,
    startingCash: number,
    private readonly marginMultiplier: number,
    private readonly fill: FillModelConfig,
    private readonly stamp: EventStamp,
  ) {
    if (!(startingCash >= 0) || !Number.isFinite(startingCash))
      throw new RangeError(`startingCash: ${startingCash} must be finite and >= 0`);
    if (!(marginMultiplier >= 1)) throw new RangeError(`marginMultiplier: ${marginMultiplier} must be >= 1`);
    this.cash = startingCash;
  }

  // ------------------------------------------------------------------ reading

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

  positionCount(): number {
    return this.positionsBySymbol.size;
  }

  positionQty(symbol: string): number {
    return this.positionsBySymbol.get(symbol)?.qty ?? 0;
  }

  cashBalance(): number {
    return this.cash;
  }

  equity(): number {
    let v = this.cash;
    for (const p of this.positionsBySymbol.values()) v += p.qty * p.lastPrice;
    return v;
  }

  /** ledger.ts's buyingPower(this.ledger()), summed in the same order without copying the positions (per step). */
  buyingPower(): number {
    let long = 0;
    for (const p of this.positionsBySymbol.values()) if (p.qty > 0) long += marketValue(p);
    let short = 0;
    for (const p of this.positionsBySymbol.values()) if (p.qty < 0) short += marketValue(p);
    const equity = this.cash + long + short;
    return Math.max(0, equity * this.marginMultiplier - (long - short));
  }

  snapshot(): SimAccountSnapshot {
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
      id: this.id,
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

  // ------------------------------------------------------------------ admission

  /**
   * Why an order that adds exposure cannot be accepted (not shortable, no price, buying power), or undefined.
   * Orders that only reduce the position always pass. `pendingExposure` is what working entries already commit.
   */
  exposureProblem(
    spec: OrderSpec,
    instrument: InstrumentSpec,
    lastPrice: number | undefined,
    pendingExposure: () => number,
  ): string | undefined {
    const posQty = this.positionQty(spec.symbol);
    const signed = spec.side === 'buy' ? spec.qty : -spec.qty;
    const after = posQty + signed;
    const reducing = Math.abs(after) <= Math.abs(posQty) && Math.sign(after) * Math.sign(posQty) >= 0;
    if (reducing) return undefined;
    if (after < 0 && (this.fill.notShortable.includes(spec.symbol) || !instrument.shortable))
      return `symbol: "${spec.symbol}" cannot be sold short (not shortable)`;
    const ref = spec.limitPrice ?? spec.stopPrice ?? lastPrice ?? Number.NaN;
    if (!Number.isFinite(ref)) return `symbol: "${spec.symbol}" has no price to check buying power against`;
    const newExposure =
      (Math.abs(after) - Math.max(0, Math.sign(after) === Math.sign(posQty) ? Math.abs(posQty) : 0)) * ref;
    const bp = this.buyingPower() - pendingExposure();
    if (newExposure > bp + 1e-9)
      return `buying power: order needs $${newExposure.toFixed(2)} but only $${Math.max(0, bp).toFixed(2)} is available (insufficient buying power)`;
    return undefined;
  }

  // ------------------------------------------------------------------ changes

  /**
   * Applies one execution of order `orderId`: commission (the per-order minimum on its first execution only),
   * regulatory fees, the position (marked to the bar's close) and cash. Returns the fill and the signed position
   * after it.
   */
  applyExecution(
    orderId: string,
    spec: OrderSpec,
    qty: number,
    price: number,
    slippage: number,
    ts: number,
    close: number,
    firstExecution: boolean,
    instrument: InstrumentSpec,
    taker: boolean,
  ): { fill: Fill; positionQty: number } {
    const { commission, regulatoryFees } = feesFor(
      this.fill,
      instrument,
      spec.side,
      qty,
      price,
      firstExecution,
      taker,
    );
    const fill: Fill = {
      orderId,
      clientOrderId: spec.clientOrderId,
      symbol: spec.symbol,
      side: spec.side,
      qty,
      price,
      ts,
      commission,
      regulatoryFees,
      slippage,
      tag: spec.tag,
    };
    const p0 = this.positionsBySymbol.get(spec.symbol) ?? flatPosition(spec.symbol, price);
    const r = applyFillToPosition(p0, spec.side, qty, price, ts);
    const pos = { ...r.position, lastPrice: close };
    if (pos.qty === 0) {
      this.positionsBySymbol.delete(spec.symbol);
      this.borrowChargedTo.delete(spec.symbol);
    } else {
      this.positionsBySymbol.set(spec.symbol, pos);
      if (pos.qty < 0 && !this.borrowChargedTo.has(spec.symbol)) this.borrowChargedTo.set(spec.symbol, ts);
    }
    this.realized += r.realized;
    this.cash += (spec.side === 'buy' ? -1 : 1) * qty * price - commission - regulatoryFees;
    this.commissions += commission;
    this.regFees += regulatoryFees;
    return { fill, positionQty: pos.qty };
  }

  /**
   * A bar of `symbol` has completed: a short pays borrow up to `untilTs` (on its value at the previous mark),
   * then the position is marked to `close`. Returns the fee event when borrow was charged.
   */
  markToBar(symbol: string, close: number, untilTs: number): BorrowFeeCharged | undefined {
    const pos = this.positionsBySymbol.get(symbol);
    if (pos === undefined) return undefined;
    const fee = pos.qty < 0 ? this.chargeBorrow(symbol, pos, untilTs) : undefined;
    pos.lastPrice = close;
    return fee;
  }

  private chargeBorrow(symbol: string, pos: Position, untilTs: number): BorrowFeeCharged | undefined {
    const from = this.borrowChargedTo.get(symbol) ?? untilTs;
    if (untilTs <= from) return undefined;
    const fee = borrowFeeFor(this.fill, symbol, pos.qty * pos.lastPrice, untilTs - from);
    this.borrowChargedTo.set(symbol, untilTs);
    if (fee <= 0) return undefined;
    this.cash -= fee;
    this.borrowFees += fee;
    return this.stamp({ type: 'BorrowFeeCharged', symbol, amount: fee }, untilTs);
  }
}
