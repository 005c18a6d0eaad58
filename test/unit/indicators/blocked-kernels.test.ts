/**
 * EMA, CCI and BBANDS batch kernels process several bars at once (EMA in blocks of four, CCI and
 * BBANDS four windows per pass). The shared harness checks them at one period on 3,000 bars; here every
 * period parity, partial last block, chunk boundary and short series is covered: batch and incremental
 * agree bit for bit, TA-Lib agrees within 1e-9, and a prefix of the series gives the prefix of the output.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BBANDS, BlockEmaState, CciState, bbandsBatch, cciBatch, emaBatch } from '../../../src/indicators';
import { generatedBars } from './data';
import { MAX_REL_DIFF, inputAt, relDiff } from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const talib = require('talib') as {
  execute(args: Record<string, unknown>): {
    begIndex: number;
    nbElement: number;
    result: { outReal: number[] };
  };
};

function assertSameBits(a: Float64Array, b: Float64Array, label: string): void {
  assert.equal(a.length, b.length, `${label}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) assert.fail(`${label} at ${i}: ${a[i]} vs ${b[i]}`);
  }
}

function assertNearTalib(
  ours: Float64Array,
  name: string,
  args: Record<string, unknown>,
  label: string,
): void {
  const res = talib.execute({ name, startIdx: 0, endIdx: ours.length - 1, ...args });
  assert.equal(
    ours.findIndex((v) => !Number.isNaN(v)),
    res.nbElement > 0 ? res.begIndex : -1,
    `${label}: first value`,
  );
  for (let j = 0; j < res.nbElement; j++) {
    const i = res.begIndex + j;
    const d = relDiff(ours[i]!, res.result.outReal[j]!);
    if (!(d <= MAX_REL_DIFF))
      assert.fail(`${label} at ${i}: ours ${ours[i]} vs TA-Lib ${res.result.outReal[j]}`);
  }
}

// 9,000 bars: CCI's chunk buffer (4,096 bars) wraps twice; lengths around the periods leave 0–3 bars in
// EMA's last block and put CCI's groups of four at every position of the slot cycle.
const bars = generatedBars(9000, 7);
const lowPrice = generatedBars(2000, 8, 2);
const lengths = (p: number) => [1, p - 1, p, p + 1, p + 2, p + 3, p + 4, p + 5, 4 * p + 3, 9000];

describe('EMA in blocks of four bars', () => {
  test('when batch and incremental run over every period 1–21 and lengths around it, then they agree bit for bit and match TA-Lib', () => {
    for (let p = 1; p <= 21; p++) {
      const full = emaBatch(bars.close, p);
      for (const n of lengths(p)) {
        if (n < 1) continue;
        const x = bars.close.subarray(0, n);
        const batch = emaBatch(x, p);
        const s = new BlockEmaState(p);
        const inc = Float64Array.from(x, (v) => s.push(v));
        assertSameBits(inc, batch, `EMA(${p}) n=${n} incremental vs batch`);
        assertSameBits(batch, full.subarray(0, n), `EMA(${p}) n=${n} prefix`);
        if (p > 1 && n >= p) {
          assertNearTalib(batch, 'EMA', { inReal: Array.from(x), optInTimePeriod: p }, `EMA(${p}) n=${n}`);
        }
      }
    }
    assertNearTalib(
      emaBatch(lowPrice.close, 50),
      'EMA',
      { inReal: Array.from(lowPrice.close), optInTimePeriod: 50 },
      'EMA(50) low price',
    );
  });

  test('when reset, then the state starts again from a fresh seed', () => {
    const s = new BlockEmaState(5);
    for (let i = 0; i < 11; i++) s.push(bars.close[100 + i]!);
    s.reset();
    const again = Float64Array.from(bars.close.subarray(0, 40), (v) => s.push(v));
    assertSameBits(again, emaBatch(bars.close.subarray(0, 40), 5), 'EMA(5) after reset');
  });
});

describe('CCI with four windows per pass', () => {
  test('when batch and incremental run over periods 2–21 and 50, and lengths around them, then they agree bit for bit and match TA-Lib', () => {
    for (const p of [...Array.from({ length: 20 }, (_, k) => k + 2), 50]) {
      const full = cciBatch(bars.high, bars.low, bars.close, p);
      for (const n of lengths(p)) {
        const h = bars.high.subarray(0, n);
        const l = bars.low.subarray(0, n);
        const c = bars.close.subarray(0, n);
        const batch = cciBatch(h, l, c, p);
        const s = new CciState(p);
        const inc = new Float64Array(n);
        for (let i = 0; i < n; i++) inc[i] = s.push(h[i]!, l[i]!, c[i]!);
        assertSameBits(inc, batch, `CCI(${p}) n=${n} incremental vs batch`);
        assertSameBits(batch, full.subarray(0, n), `CCI(${p}) n=${n} prefix`);
        if (n >= p) {
          const args = { high: Array.from(h), low: Array.from(l), close: Array.from(c), optInTimePeriod: p };
          assertNearTalib(batch, 'CCI', args, `CCI(${p}) n=${n}`);
        }
      }
    }
  });

  test('when the window is flat, then the output is TA-Lib value exactly (0 or its rounding-sized ratio)', () => {
    // Flat stretches: the mean must be summed in TA-Lib's buffer order for tp − mean to be the same.
    const n = 600;
    const h = new Float64Array(n);
    const l = new Float64Array(n);
    const c = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = Math.floor(i / 37) % 2 === 0 ? 101.37 : 4321.09 + (i % 3) * 0.01;
      h[i] = v + (i % 5 === 0 ? 0.01 : 0);
      l[i] = v;
      c[i] = v;
    }
    for (const p of [5, 14, 20]) {
      const ours = cciBatch(h, l, c, p);
      const res = talib.execute({
        name: 'CCI',
        startIdx: 0,
        endIdx: n - 1,
        high: Array.from(h),
        low: Array.from(l),
        close: Array.from(c),
        optInTimePeriod: p,
      });
      for (let j = 0; j < res.nbElement; j++) {
        const i = res.begIndex + j;
        const d = relDiff(ours[i]!, res.result.outReal[j]!);
        if (!(d <= MAX_REL_DIFF))
          assert.fail(`CCI(${p}) flat at ${i}: ours ${ours[i]} vs TA-Lib ${res.result.outReal[j]}`);
      }
    }
  });

  test('when reset, then the state starts again with an empty window', () => {
    const s = new CciState(6);
    for (let i = 0; i < 9; i++) s.push(bars.high[i]!, bars.low[i]!, bars.close[i]!);
    s.reset();
    const again = new Float64Array(50);
    for (let i = 0; i < 50; i++) again[i] = s.push(bars.high[i]!, bars.low[i]!, bars.close[i]!);
    assertSameBits(
      again,
      cciBatch(bars.high.subarray(0, 50), bars.low.subarray(0, 50), bars.close.subarray(0, 50), 6),
      'CCI(6) after reset',
    );
  });
});

describe('BBANDS with four windows per pass', () => {
  test('when batch and incremental run over periods 2–21 and lengths around them, then they agree bit for bit and σ matches a plain two-pass σ', () => {
    for (let p = 2; p <= 21; p++) {
      const full = bbandsBatch(bars.close, p, 2, 1.5);
      for (const n of lengths(p)) {
        const x = bars.close.subarray(0, n);
        const batch = bbandsBatch(x, p, 2, 1.5);
        const ind = new BBANDS(p, 2, 1.5);
        const inc = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
        for (let i = 0; i < n; i++) {
          ind.update(inputAt(bars, i));
          for (let k = 0; k < 3; k++) inc[k]![i] = ind.outputs[k]!;
        }
        for (let k = 0; k < 3; k++) {
          assertSameBits(inc[k]!, batch[k]!, `BBANDS(${p}) n=${n} output ${k} incremental vs batch`);
          assertSameBits(batch[k]!, full[k]!.subarray(0, n), `BBANDS(${p}) n=${n} output ${k} prefix`);
        }
        for (let i = p - 1; i < n; i++) {
          let s = 0;
          for (let j = i - p + 1; j <= i; j++) s += x[j]!;
          const mean = s / p;
          let ss = 0;
          for (let j = i - p + 1; j <= i; j++) ss += (x[j]! - mean) ** 2;
          const sigma = Math.sqrt(ss / p);
          const ours = (batch[0]![i]! - batch[1]![i]!) / 2;
          assert.ok(
            Math.abs(ours - sigma) <= 1e-9 * Math.max(1, sigma),
            `BBANDS(${p}) σ at ${i}: ${ours} vs ${sigma}`,
          );
        }
      }
    }
  });
});
