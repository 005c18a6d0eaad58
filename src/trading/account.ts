/**
 * The account as the kernel reads it at a decision: equity, buying power, positions and open orders. A backtest
 * reads its simulated broker (lazily, nothing is copied per bar); a session reads the broker's snapshot, which
 * crosses the workflow boundary as plain JSON (`AccountSnapshot`). Within one step the kernel's own actions
 * (cancels, new orders) are laid over the account (`StepAccount`), so the strategy and the risk gate see the
 * orders the step has already raised — the same in every mode, whatever the venue answers later.
 */
import type { OrderSide } from '../model/order';
import type { Holding } from '../model/position';

/** A position as a venue reports it (the model's Holding: signed quantity, average price, mark). */
export type AccountPosition = Holding;

export interface AccountOrder {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly qty: number;
  readonly filledQty: number;
  readonly limitPrice: number | null;
  /** a leg of a bracket/OCO: its parent carries the risk */
  readonly leg: boolean;
}

/** What a broker reports: plain JSON. */
export interface AccountSnapshot {
  readonly equity: number;
  readonly cash: number;
  readonly buyingPower: number;
  readonly positions: readonly AccountPosition[];
  readonly orders: readonly AccountOrder[];
}

export interface Account {
  readonly equity: number;
  readonly cash: number;
  readonly buyingPower: number;
  position(symbol: string): AccountPosition | undefined;
  positions(): readonly AccountPosition[];
  hasOpenOrders(symbol?: string): boolean;
  /** open orders (all symbols when none is given), legs included */
  openOrders(symbol?: string): readonly AccountOrder[];
  /**
   * Symbols whose position may have changed since the previous decision (a backtest knows them from its fills);
   * undefined: any may have (the kernel then compares every position).
   */
  changedSymbols?(): Iterable<string> | undefined;
}

/** An Account over a broker snapshot. */
export function snapshotAccount(s: AccountSnapshot): Account {
  const bySymbol = new Map(s.positions.filter((p) => p.qty !== 0).map((p) => [p.symbol, p]));
  const positions = [...bySymbol.values()];
  const ordersBySymbol = new Map<string, AccountOrder[]>();
  for (const o of s.orders) {
    const list = ordersBySymbol.get(o.symbol) ?? [];
    list.push(o);
    ordersBySymbol.set(o.symbol, list);
  }
  return {
    equity: s.equity,
    cash: s.cash,
    buyingPower: s.buyingPower,
    position: (symbol) => bySymbol.get(symbol),
    positions: () => positions,
    hasOpenOrders: (symbol) => (symbol === undefined ? s.orders.length > 0 : ordersBySymbol.has(symbol)),
    openOrders: (symbol) => (symbol === undefined ? s.orders : (ordersBySymbol.get(symbol) ?? [])),
  };
}

/** The account with one step's own actions laid over it: canceled orders gone, raised orders open. */
export class StepAccount implements Account {
  private canceledSymbols: Set<string> | undefined;
  private canceledIds: Set<string> | undefined;
  private allCanceled = false;
  private added: AccountOrder[] | undefined;

  constructor(readonly base: Account) {}

  // dollars and cents: the strategy sizes on the same figures whichever venue reported them
  get equity(): number {
    return Math.round(this.base.equity * 100) / 100;
  }
  get cash(): number {
    return Math.round(this.base.cash * 100) / 100;
  }
  get buyingPower(): number {
    return Math.round(this.base.buyingPower * 100) / 100;
  }
  position(symbol: string): AccountPosition | undefined {
    return this.base.position(symbol);
  }
  positions(): readonly AccountPosition[] {
    return this.base.positions();
  }

  cancelSymbol(symbol: string): void {
    (this.canceledSymbols ??= new Set()).add(symbol);
    if (this.added) this.added = this.added.filter((o) => o.symbol !== symbol);
  }

  cancelOrder(clientOrderId: string): void {
    (this.canceledIds ??= new Set()).add(clientOrderId);
    if (this.added) this.added = this.added.filter((o) => o.clientOrderId !== clientOrderId);
  }

  cancelAll(): void {
    this.allCanceled = true;
    this.added = undefined;
  }

  add(order: AccountOrder): void {
    (this.added ??= []).push(order);
  }

  hasOpenOrders(symbol?: string): boolean {
    return this.openOrders(symbol).length > 0;
  }

  openOrders(symbol?: string): readonly AccountOrder[] {
    if (!this.canceledSymbols && !this.canceledIds && !this.allCanceled && !this.added)
      return this.base.openOrders(symbol);
    const out: AccountOrder[] = [];
    if (!this.allCanceled)
      for (const o of this.base.openOrders(symbol)) {
        if (this.canceledSymbols?.has(o.symbol)) continue;
        if (this.canceledIds?.has(o.clientOrderId)) continue;
        out.push(o);
      }
    if (this.added) for (const o of this.added) if (symbol === undefined || o.symbol === symbol) out.push(o);
    return out;
  }
}
