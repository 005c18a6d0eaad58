/**
 * The wire form of a decision's actions, as a session's decide activity returns them to the workflow.
 *
 * Every activity result is stored in the workflow history. A strategy over 500 symbols can raise ~500 orders a
 * bar; as plain objects that is ~115 KB per event, which fills a history in a few dozen bars and makes one page
 * of it larger than the gRPC message limit (4 MB) that `temporal workflow show` and the Web UI read. Packed, an
 * action is one short row: no repeated keys, the client order ids' shared prefix once per batch, and defaults
 * (market, day) left out. About 4× smaller; lossless (`unpackActions(packActions(a))` deep-equals `a`, a
 * property test checks it). Pure: the workflow decodes it.
 */
import type { OrderSide, OrderSpec, OrderTag } from '../model/order';
import type { Action } from './kernel';

/** ['S', idSuffix, symbol, side, qty, refPrice, entry, intent, reason, extra?] */
type PackedSubmit =
  | readonly ['S', string, string, string, number, number, 0 | 1, string | null, string | null]
  | readonly ['S', string, string, string, number, number, 0 | 1, string | null, string | null, SubmitExtra];
/** ['C', idSuffix, reason] */
type PackedCancel = readonly ['C', string, string];
/** ['Y', symbol, reason] */
type PackedCancelSymbol = readonly ['Y', string, string];
/** ['A', reason] */
type PackedCancelAll = readonly ['A', string];
export type PackedAction = PackedSubmit | PackedCancel | PackedCancelSymbol | PackedCancelAll;

export interface PackedActions {
  /** the longest prefix every client order id in the batch shares */
  readonly idPrefix: string;
  readonly rows: readonly PackedAction[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Everything of a submit that is not in the row's fixed columns (absent in the common case). */
interface SubmitExtra {
  order?: Partial<Mutable<Omit<OrderSpec, 'clientOrderId' | 'symbol' | 'qty' | 'tag'>>>;
  tag?: Omit<OrderTag, 'intent' | 'reason'>;
}

const SIDE_CODE: Readonly<Record<string, string>> = { buy: 'b', sell: 's' };
const SIDE_NAME: Readonly<Record<string, OrderSide>> = { b: 'buy', s: 'sell' };
const INTENT_CODE: Readonly<Record<string, string>> = { entry: 'e', exit: 'x' };
const INTENT_NAME: Readonly<Record<string, 'entry' | 'exit'>> = { e: 'entry', x: 'exit' };
const DEFAULT_TYPE = 'market';
const DEFAULT_TIF = 'day';

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

export function packActions(actions: readonly Action[]): PackedActions {
  const ids: string[] = [];
  for (const a of actions)
    if (a.kind === 'submit') ids.push(a.order.clientOrderId);
    else if (a.kind === 'cancel') ids.push(a.clientOrderId);
  const idPrefix = commonPrefix(ids);
  const cut = idPrefix.length;
  const rows = actions.map((a): PackedAction => {
    if (a.kind === 'cancel') return ['C', a.clientOrderId.slice(cut), a.reason];
    if (a.kind === 'cancelSymbol') return ['Y', a.symbol, a.reason];
    if (a.kind === 'cancelAll') return ['A', a.reason];
    return packSubmit(a, cut);
  });
  return { idPrefix, rows };
}

function packSubmit(a: Extract<Action, { kind: 'submit' }>, cut: number): PackedSubmit {
  const { clientOrderId, symbol, side, qty, tag, type, timeInForce, ...orderRest } = a.order;
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
  const row = [
    'S',
    clientOrderId.slice(cut),
    symbol,
    sideCode ?? '?',
    qty,
    a.refPrice,
    a.entry ? 1 : 0,
    intent,
    reason,
  ] as const;
  return Object.keys(extra).length ? [...row, extra] : row;
}

export function unpackActions(packed: PackedActions): Action[] {
  const id = (suffix: string) => packed.idPrefix + suffix;
  return packed.rows.map((r): Action => {
    if (r[0] === 'C') return { kind: 'cancel', clientOrderId: id(r[1]), reason: r[2] };
    if (r[0] === 'Y') return { kind: 'cancelSymbol', symbol: r[1], reason: r[2] };
    if (r[0] === 'A') return { kind: 'cancelAll', reason: r[1] };
    const [, suffix, symbol, sideCode, qty, refPrice, entry, intent, reason] = r;
    const extra: SubmitExtra = r.length === 10 ? r[9] : {};
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
    return { kind: 'submit', order, refPrice, entry: entry === 1 };
  });
}
