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
  if (!Number.isInteger(parts.barTs) || parts.barTs < 0)
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
  const m = /^(.+):(\d+):([^:]+):(\d+)$/.exec(id);
  if (!m) return undefined;
  return { session: m[1]!, barTs: Number(m[2]), symbol: m[3]!, seq: Number(m[4]) };
}

/** FNV-1a 64-bit as 16 hex chars; deterministic, dependency-free. */
export function fnv1a64Hex(text: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * prime) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}
