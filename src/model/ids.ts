/** Branded identifiers: a symbol is never confused with a client order id. */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type Symbol = Brand<string, 'Symbol'>;
export type ClientOrderId = Brand<string, 'ClientOrderId'>;
export type BrokerOrderId = Brand<string, 'BrokerOrderId'>;
export type SessionId = Brand<string, 'SessionId'>;
export type ModelId = Brand<string, 'ModelId'>;
export type AccountId = Brand<string, 'AccountId'>;
export type EventId = Brand<string, 'EventId'>;

const SYMBOL_RE = /^[A-Z][A-Z0-9.\-/]{0,14}$/;

export function toSymbol(raw: string, field = 'symbol'): Symbol {
  const s = raw.trim().toUpperCase();
  if (!SYMBOL_RE.test(s)) throw new RangeError(`${field}: "${raw}" is not a valid ticker symbol`);
  return s as Symbol;
}
