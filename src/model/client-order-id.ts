/**
 * Deterministic client order ids: `<session>:<barTs>:<symbol>:<seq>`. Built inside the workflow so a retried,
 * replayed or restarted submit always carries the same id, and the broker's uniqueness check turns a second
 * placement into "already exists". Pure (no Node built-ins) so workflows may import it.
 */
export const MAX_CLIENT_ORDER_ID_LENGTH = 128; // Alpaca's documented limit

export interface ClientOrderIdParts {
  readonly session: string;
  readonly barTs: number;
  readonly symbol: string;
  readonly seq: number;
}

export function makeClientOrderId(parts: ClientOrderIdParts): string {
  // before 1970 epoch ms are negative: a backtest over old daily data decides at such instants
  if (!Number.isInteger(parts.barTs))
    throw new RangeError(`barTs: ${parts.barTs} is not an epoch-ms integer`);
  if (!Number.isInteger(parts.seq) || parts.seq < 0)
    throw new RangeError(`seq: ${parts.seq} is not a non-negative integer`);
  if (!parts.symbol || parts.symbol.includes(':'))
    throw new RangeError(`symbol: "${parts.symbol}" must be non-empty and contain no ':'`);
  const tail = `:${parts.barTs}:${parts.symbol}:${parts.seq}`;
  let session = parts.session;
  if (!session) throw new RangeError('session: must not be empty');
  // A long session id is shortened to a prefix plus a stable hash so the id stays within 128 chars and unique.
  if (session.length + tail.length > MAX_CLIENT_ORDER_ID_LENGTH) {
    const hash = fnv1a64Hex(session);
    const room = MAX_CLIENT_ORDER_ID_LENGTH - tail.length - hash.length - 1;
    if (room < 1)
      throw new RangeError(`symbol: "${parts.symbol}" leaves no room for the session in a 128-char id`);
    session = `${session.slice(0, room)}~${hash}`;
  }
  return `${session}${tail}`;
}

export function parseClientOrderId(id: string): ClientOrderIdParts | undefined {
  const m = /^(.+):(-?\d+):([^:]+):(\d+)$/.exec(id);
  if (!m) return undefined;
  return { session: m[1]!, barTs: Number(m[2]), symbol: m[3]!, seq: Number(m[4]) };
}

/** Sequence numbers the engine and the session reserve for orders they raise themselves (not the strategy). */
export const RESERVED_SEQ = { breaker: 997, liquidate: 998, endOfDay: 999 } as const;

/**
 * Slices of an execution algorithm: sequence numbers from here up, far above any strategy's per-bar count, so
 * a slice id never equals another order's id from the same bar (the broker would take it as already placed).
 */
export const ALGO_SLICE_SEQ_BASE = 1_000_000;
export const MAX_ALGO_SLICES = 999;

/** The sequence number of slice `slice` (0-based) of the algorithm working the order with sequence `parentSeq`. */
export function algoSliceSeq(parentSeq: number, slice: number): number {
  if (!Number.isInteger(slice) || slice < 0 || slice >= MAX_ALGO_SLICES)
    throw new RangeError(`slice: ${slice} must be an integer in [0, ${MAX_ALGO_SLICES})`);
  return ALGO_SLICE_SEQ_BASE + parentSeq * 1000 + slice;
}

/** FNV-1a 64-bit offset basis: the hash of the empty string (and of an empty order list). */
export const FNV1A64_EMPTY = 'cbf29ce484222325';

/** FNV-1a 64-bit as 16 hex chars; deterministic, dependency-free. */
export function fnv1a64Hex(text: string): string {
  return fnv1a64Continue(FNV1A64_EMPTY, text);
}

/** Continues an FNV-1a 64 hash (16 hex chars) over more text: continue(hash(a), b) === hash(a + b). */
export function fnv1a64Continue(stateHex: string, text: string): string {
  let h = BigInt(`0x${stateHex}`);
  const prime = 0x100000001b3n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * prime) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

/**
 * FNV-1a 64 over bytes — the same value as fnv1a64Hex over the string of those char codes — in 16-bit limbs
 * with plain number arithmetic (no BigInt per byte: a model backtest hashes every scored feature row).
 */
export function fnv1a64HexBytes(bytes: Uint8Array): string {
  // offset basis 0xcbf29ce484222325, least significant limb first
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < bytes.length; i++) {
    h0 ^= bytes[i]!;
    // × prime 0x100000001b3 = 0x01b3 + 0x0100·2^32 (limbs p0 = 0x01b3, p2 = 0x0100), mod 2^64
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + h0 * 0x100 + (t1 >>> 16);
    const t3 = h3 * 0x1b3 + h1 * 0x100 + (t2 >>> 16);
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  const hex = (x: number) => x.toString(16).padStart(4, '0');
  return hex(h3) + hex(h2) + hex(h1) + hex(h0);
}

/** What the order-list hash records of each order the broker was asked to place. */
export interface HashedOrder {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: string;
  readonly qty: number;
  readonly type: string;
}

export function orderHashLine(o: HashedOrder): string {
  return `${o.clientOrderId}|${o.symbol}|${o.side}|${o.qty}|${o.type}`;
}

/**
 * Appends one order to a running order-list hash. Starting from FNV1A64_EMPTY with count 0, the result equals
 * fnv1a64Hex(lines.join('\n')), the backtester's order hash, so a workflow can fold it order by order.
 */
export function foldOrderList(hash: string, countBefore: number, o: HashedOrder): string {
  return fnv1a64Continue(hash, (countBefore > 0 ? '\n' : '') + orderHashLine(o));
}
