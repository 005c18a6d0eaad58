/**
 * The wire form of a decision's commands, as the decide activity returns them to the session workflow.
 *
 * Every activity result is stored in the workflow history. A strategy over 500 symbols returns ~500 commands
 * a bar; as plain objects that is ~115 KB per event, which fills a history in a few dozen bars and makes one
 * page of it larger than the gRPC message limit (4 MB) that `temporal workflow show` and the Web UI read.
 * Packed, a command is one short row: no repeated keys, the client order ids' shared prefix once per batch,
 * and defaults (market, day) left out. About 4× smaller; lossless (`unpackCommands(packCommands(c))` deep-
 * equals `c`, a property test checks it). Pure: the workflow decodes it.
 */
import type { Command, SubmitCommand } from '../model/command';
import type { OrderSide, OrderSpec, OrderTag } from '../model/order';

/** ['S', idSuffix, symbol, side, qty, refPrice, intent, reason, extra?] */
type PackedSubmit =
  | readonly ['S', string, string, string, number, number, string | null, string | null]
  | readonly ['S', string, string, string, number, number, string | null, string | null, SubmitExtra];
/** ['C', idSuffix] */
type PackedCancel = readonly ['C', string];
/** ['F', idSuffix, symbol, reason] */
type PackedFlatten = readonly ['F', string, string, string];
export type PackedCommand = PackedSubmit | PackedCancel | PackedFlatten;

export interface PackedCommands {
  /** the longest prefix every client order id in the batch shares */
  readonly idPrefix: string;
  readonly rows: readonly PackedCommand[];
}

/** Everything of a submit that is not in the row's fixed columns (absent in the common case). */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface SubmitExtra {
  order?: Partial<Mutable<Omit<OrderSpec, 'clientOrderId' | 'symbol' | 'qty' | 'tag'>>>;
  tag?: Omit<OrderTag, 'intent' | 'reason'>;
  riskStopPrice?: number;
  sector?: string;
  correlationGroup?: string;
}

const SIDE_CODE: Readonly<Record<string, string>> = { buy: 'b', sell: 's' };
const SIDE_NAME: Readonly<Record<string, OrderSide>> = { b: 'buy', s: 'sell' };
const INTENT_CODE: Readonly<Record<string, string>> = { entry: 'e', exit: 'x' };
const INTENT_NAME: Readonly<Record<string, 'entry' | 'exit'>> = { e: 'entry', x: 'exit' };
const DEFAULT_TYPE = 'market';
const DEFAULT_TIF = 'day';

const idOf = (c: Command) => (c.kind === 'submit' ? c.order.clientOrderId : c.clientOrderId);

function commonPrefix(ids: readonly string[]): string {
  if (!ids.length) return '';
  let p = ids[0]!;
  for (const id of ids) {
    let i = 0;
    while (i < p.length && i < id.length && p.charCodeAt(i) === id.charCodeAt(i)) i++;
    p = p.slice(0, i);
    if (!p) break;
  }
  return p;
}

export function packCommands(commands: readonly Command[]): PackedCommands {
  const idPrefix = commonPrefix(commands.map(idOf));
  const cut = idPrefix.length;
  const rows = commands.map((c): PackedCommand => {
    if (c.kind === 'cancel') return ['C', c.clientOrderId.slice(cut)];
    if (c.kind === 'flatten') return ['F', c.clientOrderId.slice(cut), c.symbol, c.reason];
    return packSubmit(c, cut);
  });
  return { idPrefix, rows };
}

function packSubmit(c: SubmitCommand, cut: number): PackedSubmit {
  const { clientOrderId, symbol, side, qty, tag, type, timeInForce, ...orderRest } = c.order;
  const extra: SubmitExtra = {};
  const order: NonNullable<SubmitExtra['order']> = { ...orderRest };
  if (type !== DEFAULT_TYPE) order.type = type;
  if (timeInForce !== DEFAULT_TIF) order.timeInForce = timeInForce;
  const sideCode = SIDE_CODE[side];
  if (sideCode === undefined) order.side = side;
  if (Object.keys(order).length) extra.order = order;
  let intent: string | null = null;
  let reason: string | null = null;
  if (tag) {
    const { intent: i, reason: r, ...tagRest } = tag;
    // a tag that is present but empty still round-trips (as an empty extra.tag)
    if (Object.keys(tagRest).length || (i === undefined && r === undefined)) extra.tag = tagRest;
    if (i !== undefined) {
      const code = INTENT_CODE[i];
      if (code === undefined) extra.tag = { ...(extra.tag ?? {}), intent: i } as SubmitExtra['tag'];
      else intent = code;
    }
    if (r !== undefined) reason = r;
  }
  if (c.riskStopPrice !== undefined) extra.riskStopPrice = c.riskStopPrice;
  if (c.sector !== undefined) extra.sector = c.sector;
  if (c.correlationGroup !== undefined) extra.correlationGroup = c.correlationGroup;
  const row = [
    'S',
    clientOrderId.slice(cut),
    symbol,
    sideCode ?? '?',
    qty,
    c.refPrice,
    intent,
    reason,
  ] as const;
  return Object.keys(extra).length ? [...row, extra] : row;
}

/**
 * Accepts the plain array too: that is what a decide activity returned before commands were packed, so a
 * session whose history (or an activity worker not yet upgraded in a rolling deploy) holds one goes on.
 */
export function unpackCommands(packed: PackedCommands | readonly Command[]): Command[] {
  if (Array.isArray(packed)) return [...(packed as readonly Command[])];
  return unpackRows(packed as PackedCommands);
}

function unpackRows(packed: PackedCommands): Command[] {
  const id = (suffix: string) => packed.idPrefix + suffix;
  return packed.rows.map((r): Command => {
    if (r[0] === 'C') return { kind: 'cancel', clientOrderId: id(r[1]) };
    if (r[0] === 'F') return { kind: 'flatten', clientOrderId: id(r[1]), symbol: r[2], reason: r[3] };
    const [, suffix, symbol, sideCode, qty, refPrice, intent, reason] = r;
    const extra: SubmitExtra = r.length === 9 ? r[8] : {};
    let tag: OrderTag | undefined;
    if (extra.tag !== undefined || intent !== null || reason !== null) {
      tag = {
        ...(extra.tag ?? {}),
        ...(intent !== null ? { intent: INTENT_NAME[intent] } : {}),
        ...(reason !== null ? { reason } : {}),
      };
    }
    const order: OrderSpec = {
      clientOrderId: id(suffix),
      symbol,
      side: SIDE_NAME[sideCode]!,
      qty,
      type: DEFAULT_TYPE,
      timeInForce: DEFAULT_TIF,
      ...(extra.order ?? {}),
      ...(tag ? { tag } : {}),
    };
    return {
      kind: 'submit',
      order,
      refPrice,
      ...(extra.riskStopPrice !== undefined ? { riskStopPrice: extra.riskStopPrice } : {}),
      ...(extra.sector !== undefined ? { sector: extra.sector } : {}),
      ...(extra.correlationGroup !== undefined ? { correlationGroup: extra.correlationGroup } : {}),
    };
  });
}
