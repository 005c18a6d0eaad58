/**
 * What a strategy asks for. Commands pass through the risk engine before any broker sees them, in backtest,
 * paper and live alike. Plain JSON so a trading workflow can carry them in its state.
 */
import type { OrderSpec } from './order';

export interface SubmitCommand {
  readonly kind: 'submit';
  readonly order: OrderSpec;
  /** the price the strategy saw (last close): limits are evaluated at it */
  readonly refPrice: number;
  /** protective stop the position will carry; the distance to it is the position's open risk */
  readonly riskStopPrice?: number;
  readonly sector?: string;
  readonly correlationGroup?: string;
}

export interface CancelCommand {
  readonly kind: 'cancel';
  readonly clientOrderId: string;
}

/** Close the whole position in `symbol` at market; always risk-reducing. */
export interface FlattenCommand {
  readonly kind: 'flatten';
  readonly symbol: string;
  readonly clientOrderId: string;
  readonly reason: string;
}

export type Command = SubmitCommand | CancelCommand | FlattenCommand;
