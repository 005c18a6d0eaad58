import assert from 'node:assert/strict';
import { test } from 'node:test';
import { syntheticMinuteBars } from '../../../src/data/synthetic';
import {
  COMPACT_FEATURE_SET,
  barsFromMinutes,
  buildFeatureMatrix,
  buildLabels,
  computeFeatureMatrices,
} from '../../../src/features';
import { barsToColumns, type BarColumns } from '../../../src/model/bar';

const FROM = Date.UTC(2024, 4, 1);
const TO = Date.UTC(2024, 4, 20);

function minutes(symbol: string, seed: number): BarColumns {
  return barsToColumns(symbol, '1m', syntheticMinuteBars(symbol, FROM, TO, seed));
}

test('when symbols are computed on two worker threads, then each matrix equals the in-process one', async () => {
  const set = COMPACT_FEATURE_SET;
  const symbols = ['AAA', 'BBB', 'CCC'];
  const expected = symbols.map((s, i) => {
    const bars = barsFromMinutes(minutes(s, i + 1), set.timeframes);
    return {
      m: buildFeatureMatrix(bars, set, { symbol: s }),
      y: buildLabels(bars[set.baseTimeframe]!, set.labels),
    };
  });
  const progress: number[] = [];
  const results = await computeFeatureMatrices(
    symbols.map((s, i) => ({ symbol: s, minutes: minutes(s, i + 1) })),
    set,
    { threads: 2, withLabels: true, onResult: (_r, done) => void progress.push(done) },
  );
  assert.deepEqual(progress, [1, 2, 3]);
  assert.deepEqual(
    results.map((r) => r.symbol),
    symbols,
  );
  results.forEach((r, i) => {
    const e = expected[i]!;
    assert.equal(r.rows, e.m.rows);
    assert.equal(r.cols, e.m.cols);
    assert.deepEqual(Buffer.from(r.values!.buffer), Buffer.from(e.m.values.buffer));
    assert.deepEqual(Array.from(r.ts!), Array.from(e.m.ts));
    assert.deepEqual(Buffer.from(r.labels!.buffer), Buffer.from(e.y.values.buffer));
  });
});

test('when a worker job fails, then the pool rejects with the symbol named', async () => {
  const bad = minutes('BAD', 9);
  bad.ts[10] = bad.ts[9]!; // not ascending: aggregation refuses it
  await assert.rejects(
    computeFeatureMatrices([{ symbol: 'BAD', minutes: bad }], COMPACT_FEATURE_SET, { threads: 1 }),
    /BAD/,
  );
});
