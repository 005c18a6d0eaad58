/**
 * The microstructure inputs of 1-minute bars, from the store (quotes, trades, options_flow), aligned to the
 * bars without look-ahead: every value of the bar starting at t uses only rows with a time before t + 1 min
 * (the bar's close).
 *
 * - bid, ask, bidSize, askSize: the last quote before the bar's close, within the same New York day (NaN
 *   where the day has none yet).
 * - signedVolume, tradeVolume: the bar's trades signed by the quote rule against the quote prevailing at the
 *   trade (above the mid: buyer-initiated), the tick rule at the mid or without a quote — the trade-flow
 *   kernel of src/indicators/microstructure (TradeFlowState) — and their total size.
 * - callPremium, putPremium, flowAlerts: options-flow alerts (Unusual Whales) of the bar's minute.
 *
 * Quotes and trades are read one day at a time, so a long range never holds more than a day in memory.
 */
import type { Pool } from 'pg';
import { TradeFlowState } from '../indicators/microstructure';
import { newYorkDayNumber } from '../indicators/clock';
import { TickStore } from '../data/tick-store';
import { nyDate, nyWallToUtc } from '../market/calendar';
import type { TimeframeBars } from './compute';
import type { FeatureKind, FeatureSet } from './definition';
import type { BarsByTimeframe } from './matrix';

const MINUTE = 60_000;

export type MicrostructureInputs = Required<
  Pick<
    TimeframeBars,
    | 'bid'
    | 'ask'
    | 'bidSize'
    | 'askSize'
    | 'signedVolume'
    | 'tradeVolume'
    | 'callPremium'
    | 'putPremium'
    | 'flowAlerts'
  >
>;

/** Index of the bar (start ts ascending) holding time t, or -1. */
function barOf(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid]! <= t) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best >= 0 && t < ts[best]! + MINUTE ? best : -1;
}

export async function loadMicrostructureInputs(
  pool: Pool,
  symbol: string,
  ts: Float64Array,
): Promise<MicrostructureInputs> {
  const n = ts.length;
  const nan = () => new Float64Array(n).fill(NaN);
  const out: MicrostructureInputs = {
    bid: nan(),
    ask: nan(),
    bidSize: nan(),
    askSize: nan(),
    signedVolume: new Float64Array(n),
    tradeVolume: new Float64Array(n),
    callPremium: new Float64Array(n),
    putPremium: new Float64Array(n),
    flowAlerts: new Float64Array(n),
  };
  if (!n) return out;
  const store = new TickStore(pool);
  // Bars grouped by New York day: [first index, end index).
  const days: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    if (i === 0 || newYorkDayNumber(ts[i]!) !== newYorkDayNumber(ts[i - 1]!)) days.push([i, i + 1]);
    else days.at(-1)![1] = i + 1;
  }
  for (const [a, b] of days) {
    // The day's rows from its New York midnight to the last bar's close.
    const from = nyWallToUtc(nyDate(ts[a]!), 0);
    const to = ts[b - 1]! + MINUTE;
    const [quotes, trades] = await Promise.all([
      store.readQuotes(symbol, from, to),
      store.readTrades(symbol, from, to),
    ]);
    const day = newYorkDayNumber(ts[a]!);
    let q = 0;
    let bid = NaN;
    let ask = NaN;
    let bidSize = NaN;
    let askSize = NaN;
    // Quotes: the last one before each bar's close, within the day.
    for (let i = a; i < b; i++) {
      const close = ts[i]! + MINUTE;
      for (; q < quotes.length && quotes[q]!.ts < close; q++) {
        const x = quotes[q]!;
        if (newYorkDayNumber(x.ts) !== day) continue;
        bid = x.bid;
        ask = x.ask;
        bidSize = x.bidSize;
        askSize = x.askSize;
      }
      out.bid[i] = bid;
      out.ask[i] = ask;
      out.bidSize[i] = bidSize;
      out.askSize[i] = askSize;
    }
    // Trades: signed against the quote prevailing at each trade (window 1: the kernel returns the sign).
    const sign = new TradeFlowState(1);
    let p = 0;
    let pb = NaN;
    let pa = NaN;
    for (const t of trades) {
      for (; p < quotes.length && quotes[p]!.ts <= t.ts; p++) {
        if (newYorkDayNumber(quotes[p]!.ts) !== day) continue;
        pb = quotes[p]!.bid;
        pa = quotes[p]!.ask;
      }
      const s = sign.push(t.price, t.size, pb, pa);
      const i = barOf(ts, t.ts);
      if (i < a || i >= b) continue;
      out.signedVolume[i] += s * t.size;
      out.tradeVolume[i] += t.size;
    }
  }
  // Options flow: small; every alert of the range at once.
  const r = await pool.query<[number, string | null, number | null]>({
    text: `select round(date_part('epoch', ts) * 1000), put_call, premium from options_flow
            where symbol = $1 and ts >= $2 and ts < $3 order by ts`,
    values: [symbol, new Date(ts[0]!), new Date(ts[n - 1]! + MINUTE)],
    rowMode: 'array',
  });
  for (const [t, putCall, premium] of r.rows) {
    const i = barOf(ts, Number(t));
    if (i < 0) continue;
    out.flowAlerts[i] += 1;
    if (premium !== null && Number.isFinite(premium)) {
      if (putCall === 'call') out.callPremium[i] += premium;
      else if (putCall === 'put') out.putPremium[i] += premium;
    }
  }
  return out;
}

/** Kinds whose columns come from the quotes, trades and options_flow tables. */
const STORE_INPUT_KINDS: ReadonlySet<FeatureKind> = new Set<FeatureKind>([
  'spreadBps',
  'quoteImbalance',
  'tradeFlow',
  'tradeImbalance',
  'optionsFlowImbalance',
  'optionsFlowActivity',
]);

/** Whether a set reads quotes, trades or options flow (then its 1m bars carry the store's inputs). */
export function usesStoreInputs(set: FeatureSet): boolean {
  return set.features.some((f) => STORE_INPUT_KINDS.has(f.kind));
}

/** Adds the store's microstructure inputs to the 1m bars of a set that reads them (others pass through). */
export async function withStoreInputs(
  pool: Pool,
  symbol: string,
  bars: BarsByTimeframe,
  set: FeatureSet,
): Promise<BarsByTimeframe> {
  const base = bars['1m'];
  if (!base || !usesStoreInputs(set)) return bars;
  return { ...bars, '1m': { ...base, ...(await loadMicrostructureInputs(pool, symbol, base.ts)) } };
}
