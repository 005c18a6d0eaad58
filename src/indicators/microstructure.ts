/**
 * Quote-based features (spread, mid, quote imbalance, trade-flow imbalance) and gap features.
 * Quote fields come in on IndicatorInput (bid/ask/bidSize/askSize); a missing or one-sided quote gives
 * NaN rather than a made-up value.
 */
import { newYorkDayNumber, type SessionKeyFn } from './clock';
import { IndicatorBase, RingBuffer, nanArray, requirePeriod, type IndicatorInput } from './core';

function validQuote(bid: number | undefined, ask: number | undefined): boolean {
  return (
    bid !== undefined &&
    ask !== undefined &&
    bid > 0 &&
    ask > 0 &&
    Number.isFinite(bid) &&
    Number.isFinite(ask) &&
    ask >= bid
  );
}

/** [mid, spread, spreadBps, imbalance]; imbalance = (bidSize − askSize)/(bidSize + askSize). */
export function quoteFeatures(
  bid: number,
  ask: number,
  bidSize: number,
  askSize: number,
  out: Float64Array,
  at = 0,
  stride = 1,
): void {
  if (!validQuote(bid, ask)) {
    out[at] = out[at + stride] = out[at + 2 * stride] = out[at + 3 * stride] = NaN;
    return;
  }
  const mid = (bid + ask) / 2;
  out[at] = mid;
  out[at + stride] = ask - bid;
  out[at + 2 * stride] = ((ask - bid) / mid) * 1e4;
  const depth = bidSize + askSize;
  out[at + 3 * stride] = depth > 0 ? (bidSize - askSize) / depth : NaN;
}

export function quoteBatch(
  bid: Float64Array,
  ask: Float64Array,
  bidSize: Float64Array,
  askSize: Float64Array,
): [Float64Array, Float64Array, Float64Array, Float64Array] {
  const n = bid.length;
  const tmp = new Float64Array(4);
  const cols: [Float64Array, Float64Array, Float64Array, Float64Array] = [
    nanArray(n),
    nanArray(n),
    nanArray(n),
    nanArray(n),
  ];
  for (let i = 0; i < n; i++) {
    quoteFeatures(bid[i]!, ask[i]!, bidSize[i]!, askSize[i]!, tmp);
    for (let k = 0; k < 4; k++) cols[k]![i] = tmp[k]!;
  }
  return cols;
}

export class QuoteFeatures extends IndicatorBase {
  readonly name = 'Quote';
  constructor() {
    super(['mid', 'spread', 'spreadBps', 'quoteImbalance'], 1);
  }
  protected step(b: IndicatorInput): void {
    quoteFeatures(b.bid ?? NaN, b.ask ?? NaN, b.bidSize ?? 0, b.askSize ?? 0, this.outputs);
  }
  protected clear(): void {}
}

/**
 * Trade-flow imbalance over the last `window` trades (or bars): each print is signed by the quote rule
 * (above the mid = buyer-initiated) with the tick rule as fallback at the mid or without a quote, then
 * Σ sign·size / Σ size. For bars, price = close and size = volume.
 */
export class TradeFlowState {
  private readonly signed: RingBuffer;
  private readonly sizes: RingBuffer;
  private lastPrice = NaN;
  private lastSign = 0;
  constructor(readonly window: number) {
    this.signed = new RingBuffer(window);
    this.sizes = new RingBuffer(window);
  }
  push(price: number, size: number, bid: number, ask: number): number {
    let sign = 0;
    if (validQuote(bid, ask)) {
      const mid = (bid + ask) / 2;
      sign = price > mid ? 1 : price < mid ? -1 : 0;
    }
    if (sign === 0 && !Number.isNaN(this.lastPrice))
      sign = price > this.lastPrice ? 1 : price < this.lastPrice ? -1 : this.lastSign;
    this.lastPrice = price;
    this.lastSign = sign;
    this.signed.push(sign * size);
    this.sizes.push(size);
    if (this.sizes.length < this.window) return NaN;
    let s = 0;
    let t = 0;
    for (let k = this.window - 1; k >= 0; k--) {
      s += this.signed.ago(k);
      t += this.sizes.ago(k);
    }
    return t > 0 ? s / t : 0;
  }
  reset(): void {
    this.signed.clear();
    this.sizes.clear();
    this.lastPrice = NaN;
    this.lastSign = 0;
  }
}

export function tradeFlowBatch(
  price: Float64Array,
  size: Float64Array,
  bid: Float64Array | undefined,
  ask: Float64Array | undefined,
  window = 20,
): Float64Array {
  requirePeriod('TradeFlowImbalance', 'window', window);
  const s = new TradeFlowState(window);
  const out = new Float64Array(price.length);
  for (let i = 0; i < price.length; i++)
    out[i] = s.push(price[i]!, size[i]!, bid ? bid[i]! : NaN, ask ? ask[i]! : NaN);
  return out;
}

export class TradeFlowImbalance extends IndicatorBase {
  readonly name: string;
  private readonly s: TradeFlowState;
  constructor(readonly window = 20) {
    super(['tradeFlowImbalance'], requirePeriod('TradeFlowImbalance', 'window', window));
    this.name = `TradeFlowImbalance(${window})`;
    this.s = new TradeFlowState(window);
  }
  protected step(b: IndicatorInput): void {
    const v = this.s.push(b.close, b.volume, b.bid ?? NaN, b.ask ?? NaN);
    if (!Number.isNaN(v)) this.outputs[0] = v;
  }
  protected clear(): void {
    this.s.reset();
  }
}

// ------------------------------------------------------------------------------------------ gaps
/**
 * [gap, sessionGap]: gap = open / previous close − 1 (bar to bar); sessionGap = the session's first open
 * over the previous session's last close − 1, held through the session (0-based NaN until a previous
 * session exists).
 */
export class GapState {
  private prevClose = NaN;
  private session = NaN;
  private lastSessionClose = NaN;
  private sessionGap = NaN;
  constructor(readonly sessionOf: SessionKeyFn = newYorkDayNumber) {}
  push(ts: number, open: number, close: number, out: Float64Array, at = 0, stride = 1): void {
    const s = this.sessionOf(ts);
    if (s !== this.session) {
      this.lastSessionClose = this.prevClose;
      this.session = s;
      this.sessionGap = Number.isNaN(this.lastSessionClose) ? NaN : open / this.lastSessionClose - 1;
    }
    out[at] = Number.isNaN(this.prevClose) ? NaN : open / this.prevClose - 1;
    out[at + stride] = this.sessionGap;
    this.prevClose = close;
  }
  reset(): void {
    this.prevClose = this.session = this.lastSessionClose = this.sessionGap = NaN;
  }
}

export function gapBatch(
  ts: Float64Array,
  open: Float64Array,
  close: Float64Array,
  sessionOf: SessionKeyFn = newYorkDayNumber,
): [Float64Array, Float64Array] {
  const n = ts.length;
  const tmp = new Float64Array(2);
  const gap = nanArray(n);
  const sgap = nanArray(n);
  const s = new GapState(sessionOf);
  for (let i = 0; i < n; i++) {
    s.push(ts[i]!, open[i]!, close[i]!, tmp);
    gap[i] = tmp[0]!;
    sgap[i] = tmp[1]!;
  }
  return [gap, sgap];
}

export class GapFeatures extends IndicatorBase {
  readonly name = 'Gap';
  private readonly s: GapState;
  constructor(sessionOf: SessionKeyFn = newYorkDayNumber) {
    super(['gap', 'sessionGap'], 2);
    this.s = new GapState(sessionOf);
  }
  protected step(b: IndicatorInput): void {
    this.s.push(b.ts, b.open, b.close, this.outputs);
  }
  protected clear(): void {
    this.s.reset();
  }
}
