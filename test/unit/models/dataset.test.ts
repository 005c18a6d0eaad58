import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildDataset,
  deserializeDataset,
  serializeDataset,
  type MinuteBars,
} from '../../../src/models/dataset';

function bars(n: number, gapAt?: number): MinuteBars {
  const ts = new Float64Array(n),
    o = new Float64Array(n),
    h = new Float64Array(n),
    l = new Float64Array(n),
    c = new Float64Array(n),
    v = new Float64Array(n);
  let p = 100;
  for (let i = 0; i < n; i++) {
    ts[i] =
      Date.UTC(2024, 0, 2, 14, 30) + i * 60_000 + (gapAt !== undefined && i >= gapAt ? 3_600_000 * 18 : 0);
    o[i] = p;
    p *= 1 + Math.sin(i * 1.7) * 0.001;
    c[i] = p;
    h[i] = Math.max(o[i]!, p) + 0.01;
    l[i] = Math.min(o[i]!, p) - 0.01;
    v[i] = 1000 + (i % 7) * 50;
  }
  return { symbol: 'T', ts, open: o, high: h, low: l, close: c, volume: v };
}

describe('models dataset (own minute features until src/features lands)', () => {
  test('when a future bar changes, then no earlier row’s features change (only labels that reach it)', () => {
    const a = buildDataset(bars(200));
    const changed = bars(200);
    changed.close[150] = changed.close[150]! * 1.1;
    changed.high[150] = changed.close[150]!;
    const b = buildDataset(changed);
    for (let i = 0; i < a.nrow; i++) {
      if (a.decisionTs[i]! > changed.ts[150]!) break; // rows that already include bar 150
      assert.deepEqual(
        a.X.subarray(i * a.ncol, (i + 1) * a.ncol),
        b.X.subarray(i * b.ncol, (i + 1) * b.ncol),
        `row ${i}`,
      );
    }
  });

  test('when the label window or lookback crosses a session gap, then the row is dropped, not repaired', () => {
    const ds = buildDataset(bars(300, 150));
    for (let i = 0; i < ds.nrow; i++) assert.equal(ds.labelEndTs[i]! - ds.decisionTs[i]!, 5 * 60_000);
    assert.ok(ds.nrow < 300 - 60 - 5 - 60, 'rows around the gap are gone');
  });

  test('when a dataset is serialised, then it round-trips exactly with its hash', () => {
    const ds = buildDataset(bars(150));
    const back = deserializeDataset(serializeDataset(ds));
    assert.equal(back.dataHash, ds.dataHash);
    assert.deepEqual(back.X, ds.X);
    assert.deepEqual(back.forwardReturn, ds.forwardReturn);
    assert.deepEqual(back.labelEndTs, ds.labelEndTs);
    assert.deepEqual(back.featureNames, ds.featureNames);
  });

  test('when there are too few bars, then the error names the field', () => {
    assert.throws(() => buildDataset(bars(30)), /bars: no usable rows for T/);
  });
});
