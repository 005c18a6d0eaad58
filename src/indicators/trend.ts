/** Directional movement (ADX, +DI, −DI) and Aroon, TA-Lib definitions including its tie rule. */
import {
  IndicatorBase,
  TA_EPSILON as core_TA_EPSILON,
  nanArray,
  outputColumn,
  requirePeriod,
  taIsZero as core_taIsZero,
  type IndicatorInput,
} from './core';

// Imported bindings compile to getter calls on the module object under CommonJS; hot loops use these
// file-local copies instead (same values, same functions).
const taIsZero = core_taIsZero;
const TA_EPSILON = core_TA_EPSILON;

/** TA-Lib's TRUE_RANGE macro (high − low, then the gaps to the previous close). */
export function trueRange(h: number, l: number, prevClose: number): number {
  let out = h - l;
  let t = Math.abs(h - prevClose);
  if (t > out) out = t;
  t = Math.abs(l - prevClose);
  if (t > out) out = t;
  return out;
}

/**
 * Wilder's directional movement. TA-Lib's tie rule: an up-move counts as +DM only when it is positive and
 * strictly larger than the down-move (and vice versa), so equal moves give neither. +DI/−DI are available
 * from index `period`, ADX from index 2·period − 1.
 */
export class DirectionalState {
  private i = -1;
  private prevHigh = 0;
  private prevLow = 0;
  private prevClose = 0;
  private plusDM = 0;
  private minusDM = 0;
  private tr = 0;
  private sumDX = 0;
  private adx = NaN;
  plusDI = NaN;
  minusDI = NaN;
  constructor(readonly period: number) {}

  /** Returns ADX (NaN before it exists); plusDI/minusDI are updated as soon as they exist. */
  push(h: number, l: number, c: number): number {
    const p = this.period;
    const i = ++this.i;
    if (i === 0) {
      this.prevHigh = h;
      this.prevLow = l;
      this.prevClose = c;
      return NaN;
    }
    const diffP = h - this.prevHigh;
    this.prevHigh = h;
    const diffM = this.prevLow - l;
    this.prevLow = l;
    const tr = trueRange(h, l, this.prevClose);
    this.prevClose = c;
    if (i < p) {
      if (diffM > 0 && diffP < diffM) this.minusDM += diffM;
      else if (diffP > 0 && diffP > diffM) this.plusDM += diffP;
      this.tr += tr;
      return NaN;
    }
    this.minusDM -= this.minusDM / p;
    this.plusDM -= this.plusDM / p;
    if (diffM > 0 && diffP < diffM) this.minusDM += diffM;
    else if (diffP > 0 && diffP > diffM) this.plusDM += diffP;
    this.tr = this.tr - this.tr / p + tr;
    if (taIsZero(this.tr)) {
      this.plusDI = 0.0;
      this.minusDI = 0.0;
      return i >= 2 * p - 1 ? this.finishAdx(i, NaN) : NaN;
    }
    const minusDI = 100.0 * (this.minusDM / this.tr);
    const plusDI = 100.0 * (this.plusDM / this.tr);
    this.minusDI = minusDI;
    this.plusDI = plusDI;
    const sum = minusDI + plusDI;
    const dx = taIsZero(sum) ? NaN : 100.0 * (Math.abs(minusDI - plusDI) / sum);
    return this.finishAdx(i, dx);
  }

  private finishAdx(i: number, dx: number): number {
    const p = this.period;
    if (i < 2 * p - 1) {
      if (!Number.isNaN(dx)) this.sumDX += dx;
      return NaN;
    }
    if (i === 2 * p - 1) {
      if (!Number.isNaN(dx)) this.sumDX += dx;
      this.adx = this.sumDX / p;
    } else if (!Number.isNaN(dx)) {
      this.adx = (this.adx * (p - 1) + dx) / p;
    }
    return this.adx;
  }

  reset(): void {
    this.i = -1;
    this.prevHigh = this.prevLow = this.prevClose = 0;
    this.plusDM = this.minusDM = this.tr = this.sumDX = 0;
    this.adx = this.plusDI = this.minusDI = NaN;
  }
}

/** [adx, plusDI, minusDI]. A tight loop with the same arithmetic as DirectionalState. */
export function adxBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  period = 14,
  into?: readonly [Float64Array, Float64Array, Float64Array],
): [Float64Array, Float64Array, Float64Array] {
  requirePeriod('ADX', 'period', period, 2);
  const n = close.length;
  const adx = outputColumn(n, 2 * period - 1, into?.[0]);
  const pdi = outputColumn(n, period, into?.[1]);
  const mdi = outputColumn(n, period, into?.[2]);
  if (n > 0) adxLoop(high, low, close, period, adx, pdi, mdi);
  return [adx, pdi, mdi];
}

/**
 * adxBatch's loop, writing adx/pdi/mdi from index 1 on.
 * (The loop is a function of its own: V8 deoptimized a kernel at its `return [a, b, c]` on every call
 * when the two shared a function, and re-entered the loop through on-stack replacement each time.)
 */
function adxLoop(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  period: number,
  adx: Float64Array,
  pdi: Float64Array,
  mdi: Float64Array,
): void {
  const n = close.length;
  let prevHigh = high[0]!;
  let prevLow = low[0]!;
  let prevClose = close[0]!;
  let plusDM = 0;
  let minusDM = 0;
  let tr = 0;
  let sumDX = 0;
  let prevADX = 0;
  const p = period;
  const adxStart = 2 * p - 1;
  // Warm-up (the first 2·period bars), then the steady state in a loop of its own with the same
  // arithmetic, free of warm-up branches: with one loop for both, V8 sometimes kept running its
  // on-stack-replaced code for the loop, at half speed, through a whole benchmark run.
  const warm = Math.min(n, adxStart + 1);
  let i = 1;
  for (; i < warm; i++) {
    const h = high[i]!;
    const l = low[i]!;
    const diffP = h - prevHigh;
    prevHigh = h;
    const diffM = prevLow - l;
    prevLow = l;
    // Branch-free max and DM selection (random bars mispredict branches); the two DM conditions are
    // mutually exclusive and adding 0 to a non-negative sum leaves it bit-identical.
    const t = Math.max(h - l, Math.abs(h - prevClose), Math.abs(l - prevClose));
    prevClose = close[i]!;
    const mAdd = diffM > 0 && diffP < diffM ? diffM : 0;
    const pAdd = diffP > 0 && diffP > diffM ? diffP : 0;
    if (i < p) {
      minusDM += mAdd;
      plusDM += pAdd;
      tr += t;
      continue;
    }
    minusDM -= minusDM / p;
    plusDM -= plusDM / p;
    minusDM += mAdd;
    plusDM += pAdd;
    tr = tr - tr / p + t;
    // dxOk instead of a NaN sentinel keeps the loop free of NaN checks.
    let dx = 0;
    let dxOk = false;
    if (-TA_EPSILON < tr && tr < TA_EPSILON) {
      pdi[i] = 0.0;
      mdi[i] = 0.0;
    } else {
      const m = 100.0 * (minusDM / tr);
      const pl = 100.0 * (plusDM / tr);
      mdi[i] = m;
      pdi[i] = pl;
      const sum = m + pl;
      if (!(-TA_EPSILON < sum && sum < TA_EPSILON)) {
        dx = 100.0 * (Math.abs(m - pl) / sum);
        dxOk = true;
      }
    }
    if (i < adxStart) {
      if (dxOk) sumDX += dx;
      continue;
    }
    if (dxOk) sumDX += dx;
    prevADX = sumDX / p;
    adx[i] = prevADX;
  }
  for (; i < n; i++) {
    const h = high[i]!;
    const l = low[i]!;
    const diffP = h - prevHigh;
    prevHigh = h;
    const diffM = prevLow - l;
    prevLow = l;
    const t = Math.max(h - l, Math.abs(h - prevClose), Math.abs(l - prevClose));
    prevClose = close[i]!;
    const mAdd = diffM > 0 && diffP < diffM ? diffM : 0;
    const pAdd = diffP > 0 && diffP > diffM ? diffP : 0;
    minusDM -= minusDM / p;
    plusDM -= plusDM / p;
    minusDM += mAdd;
    plusDM += pAdd;
    tr = tr - tr / p + t;
    if (-TA_EPSILON < tr && tr < TA_EPSILON) {
      pdi[i] = 0.0;
      mdi[i] = 0.0;
    } else {
      const m = 100.0 * (minusDM / tr);
      const pl = 100.0 * (plusDM / tr);
      mdi[i] = m;
      pdi[i] = pl;
      const sum = m + pl;
      if (!(-TA_EPSILON < sum && sum < TA_EPSILON)) {
        prevADX = (prevADX * (p - 1) + 100.0 * (Math.abs(m - pl) / sum)) / p;
      }
    }
    adx[i] = prevADX;
  }
}

export class ADX extends IndicatorBase {
  readonly name: string;
  private readonly s: DirectionalState;
  constructor(readonly period = 14) {
    super(['adx', 'plusDI', 'minusDI'], 2 * requirePeriod('ADX', 'period', period, 2));
    this.name = `ADX(${period})`;
    this.s = new DirectionalState(period);
  }
  protected step(b: IndicatorInput): void {
    const a = this.s.push(b.high, b.low, b.close);
    if (!Number.isNaN(a)) this.outputs[0] = a;
    this.outputs[1] = this.s.plusDI;
    this.outputs[2] = this.s.minusDI;
  }
  protected clear(): void {
    this.s.reset();
  }
}

// ------------------------------------------------------------------------------------------ Aroon
/** [aroonDown, aroonUp] over period+1 bars; ties go to the most recent bar (TA-Lib). */
export function aroonBatch(high: Float64Array, low: Float64Array, period = 14): [Float64Array, Float64Array] {
  requirePeriod('AROON', 'period', period, 2);
  const n = high.length;
  const down = nanArray(n);
  const up = nanArray(n);
  const factor = 100.0 / period;
  let lowestIdx = -1;
  let highestIdx = -1;
  let lowest = 0;
  let highest = 0;
  for (let i = period; i < n; i++) {
    const trailing = i - period;
    let tmp = low[i]!;
    if (lowestIdx < trailing) {
      lowestIdx = trailing;
      lowest = low[trailing]!;
      for (let j = trailing + 1; j <= i; j++) {
        tmp = low[j]!;
        if (tmp <= lowest) {
          lowestIdx = j;
          lowest = tmp;
        }
      }
    } else if (tmp <= lowest) {
      lowestIdx = i;
      lowest = tmp;
    }
    tmp = high[i]!;
    if (highestIdx < trailing) {
      highestIdx = trailing;
      highest = high[trailing]!;
      for (let j = trailing + 1; j <= i; j++) {
        tmp = high[j]!;
        if (tmp >= highest) {
          highestIdx = j;
          highest = tmp;
        }
      }
    } else if (tmp >= highest) {
      highestIdx = i;
      highest = tmp;
    }
    up[i] = factor * (period - (i - highestIdx));
    down[i] = factor * (period - (i - lowestIdx));
  }
  return [down, up];
}

/** Aroon's rescan keeps the most recent extreme on ties (unlike MAX/MIN), so it has its own window state. */
class AroonExtreme {
  private readonly vals: number[] = [];
  private i = -1;
  private extIdx = -1;
  private ext = 0;
  constructor(
    readonly size: number,
    readonly highest: boolean,
  ) {}
  push(x: number): number {
    this.i++;
    this.vals.push(x);
    if (this.vals.length > this.size) this.vals.shift();
    const trailing = this.i - this.size + 1;
    if (trailing < 0) return NaN;
    const better = (a: number, b: number) => (this.highest ? a >= b : a <= b);
    if (this.extIdx < trailing) {
      this.extIdx = trailing;
      this.ext = this.vals[0]!;
      for (let j = 1; j < this.vals.length; j++) {
        if (better(this.vals[j]!, this.ext)) {
          this.extIdx = trailing + j;
          this.ext = this.vals[j]!;
        }
      }
    } else if (better(x, this.ext)) {
      this.extIdx = this.i;
      this.ext = x;
    }
    return this.i - this.extIdx;
  }
  reset(): void {
    this.vals.length = 0;
    this.i = -1;
    this.extIdx = -1;
    this.ext = 0;
  }
}

export class AROON extends IndicatorBase {
  readonly name: string;
  private readonly lo: AroonExtreme;
  private readonly hi: AroonExtreme;
  private readonly factor: number;
  constructor(readonly period = 14) {
    super(['aroonDown', 'aroonUp'], requirePeriod('AROON', 'period', period, 2) + 1);
    this.name = `AROON(${period})`;
    this.lo = new AroonExtreme(period + 1, false);
    this.hi = new AroonExtreme(period + 1, true);
    this.factor = 100.0 / period;
  }
  protected step(b: IndicatorInput): void {
    const ageLow = this.lo.push(b.low);
    const ageHigh = this.hi.push(b.high);
    if (Number.isNaN(ageLow)) return;
    this.outputs[0] = this.factor * (this.period - ageLow);
    this.outputs[1] = this.factor * (this.period - ageHigh);
  }
  protected clear(): void {
    this.lo.reset();
    this.hi.reset();
  }
}
