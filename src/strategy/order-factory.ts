/**
 * The order factory strategies receive. Client order ids are deterministic — `<session>:<barTs>:<symbol>:<seq>`
 * — so a replayed or retried decision produces the same ids and the broker turns a repeat into a no-op.
 */
import { makeClientOrderId } from '../model/client-order-id';
import { instrumentFor } from '../model/instrument';
import type { FlattenCommand, SubmitCommand } from '../model/command';
import type { OrderSide, OrderSpec, OrderTag, TimeInForce } from '../model/order';
import type { OrderFactory } from './types';

/** `day` for equities; crypto trades around the clock and Alpaca takes only gtc/ioc for it. */
function defaultTif(symbol: string): TimeInForce {
  return instrumentFor(symbol).marketTimeInForce;
}

export class DeterministicOrderFactory implements OrderFactory {
  private barTs = 0;
  private seq = 0;
  constructor(private readonly session: string) {}

  /** Called by the engine at each decision time; sequence numbers restart per bar. */
  setBar(barTs: number): void {
    if (barTs !== this.barTs) {
      this.barTs = barTs;
      this.seq = 0;
    }
  }

  private id(symbol: string): string {
    return makeClientOrderId({ session: this.session, barTs: this.barTs, symbol, seq: this.seq++ });
  }

  market(
    symbol: string,
    side: OrderSide,
    qty: number,
    tag?: OrderTag,
    tif: TimeInForce = defaultTif(symbol),
  ): OrderSpec {
    return { clientOrderId: this.id(symbol), symbol, side, qty, type: 'market', timeInForce: tif, tag };
  }

  limit(
    symbol: string,
    side: OrderSide,
    qty: number,
    limitPrice: number,
    tag?: OrderTag,
    tif: TimeInForce = defaultTif(symbol),
  ): OrderSpec {
    return {
      clientOrderId: this.id(symbol),
      symbol,
      side,
      qty,
      type: 'limit',
      limitPrice,
      timeInForce: tif,
      tag,
    };
  }

  stop(
    symbol: string,
    side: OrderSide,
    qty: number,
    stopPrice: number,
    tag?: OrderTag,
    tif: TimeInForce = 'gtc',
  ): OrderSpec {
    return {
      clientOrderId: this.id(symbol),
      symbol,
      side,
      qty,
      type: 'stop',
      stopPrice,
      timeInForce: tif,
      tag,
    };
  }

  bracket(
    symbol: string,
    side: OrderSide,
    qty: number,
    takeProfit: number,
    stopLoss: number,
    tag?: OrderTag,
  ): OrderSpec {
    return {
      clientOrderId: this.id(symbol),
      symbol,
      side,
      qty,
      type: 'market',
      timeInForce: 'gtc',
      orderClass: 'bracket',
      takeProfit: { limitPrice: takeProfit },
      stopLoss: { stopPrice: stopLoss },
      tag,
    };
  }

  submit(
    order: OrderSpec,
    refPrice: number,
    extra: { riskStopPrice?: number; sector?: string; correlationGroup?: string } = {},
  ): SubmitCommand {
    return { kind: 'submit', order, refPrice, ...extra };
  }

  flatten(symbol: string, reason: string): FlattenCommand {
    return { kind: 'flatten', symbol, clientOrderId: this.id(symbol), reason };
  }
}
