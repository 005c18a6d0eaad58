import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stdDevBatch } from '../../../src/indicators';
import { sharedDataOrSkip } from '../../support/shared-data';
import { readSharedBars } from './data';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const talib = require('talib') as {
  execute(args: Record<string, unknown>): { begIndex: number; result: { outReal: number[] } };
};

/** σ from exact integer arithmetic: prices with ≤ 4 decimals scaled to integers, sums in BigInt. */
function exactSigma(x: Float64Array, from: number, p: number): number {
  let s1 = 0n;
  let s2 = 0n;
  for (let j = from; j < from + p; j++) {
    const v = BigInt(Math.round(x[j]! * 1e4));
    s1 += v;
    s2 += v * v;
  }
  const num = BigInt(p) * s2 - s1 * s1; // p²·σ²·1e8, exact
  return Math.sqrt(Number(num)) / (p * 1e4);
}

test('when prices are large and windows nearly flat, then our Bollinger sigma is exact while TA-Lib running sums are not', (t) => {
  const dir = sharedDataOrSkip(t);
  if (!dir) return;
  const btc = readSharedBars(dir, 'binance_spot/1min/BTCUSDT.csv.gz', 20_000);
  const p = 20;
  const ours = stdDevBatch(btc.close, p);
  const ta = talib.execute({
    name: 'STDDEV',
    startIdx: 0,
    endIdx: btc.close.length - 1,
    inReal: Array.from(btc.close),
    optInTimePeriod: p,
    optInNbDev: 1,
  });
  let oursMaxAbs = 0;
  let taMaxAbs = 0;
  for (let i = p - 1; i < btc.close.length; i++) {
    const exact = exactSigma(btc.close, i - p + 1, p);
    oursMaxAbs = Math.max(oursMaxAbs, Math.abs(ours[i]! - exact));
    taMaxAbs = Math.max(taMaxAbs, Math.abs(ta.result.outReal[i - ta.begIndex]! - exact));
  }
  // Ours: rounding of a two-pass sum only (≈1e-12 of the price scale). TA-Lib: Σx² − n·mean² cancellation.
  assert.ok(oursMaxAbs < 1e-9, `ours max abs error ${oursMaxAbs}`);
  assert.ok(taMaxAbs > 100 * oursMaxAbs, `TA-Lib max abs error ${taMaxAbs} vs ours ${oursMaxAbs}`);
});
