import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readBarsCsvGz } from '../../../src/models/dataset';
import { DEFAULT_XGBOOST_SPEC } from '../../../src/models/spec';
import { crossTimeframeValidation, isConsistent } from '../../../src/models/validation/cross-timeframe';
import { sharedDataOrSkip } from '../../support/shared-data';

describe('cross-timeframe validation', () => {
  test('when a model is trained per horizon on real SPY minutes, then each is scored OOS against every horizon on the same rows', async (t) => {
    const dir = sharedDataOrSkip(t);
    if (!dir) return;
    const bars = readBarsCsvGz(join(dir, 'pyalgotrade_ninjatrader/1min/SPY.csv.gz'), 'SPY');
    const r = await crossTimeframeValidation(
      bars,
      { ...DEFAULT_XGBOOST_SPEC, rounds: 10 },
      { horizons: [5, 15, 60], maxRows: 5000, folds: 2 },
    );
    assert.equal(r.rows, 5000);
    assert.equal(r.ic.length, 3);
    for (const row of r.ic) {
      assert.equal(row.length, 3);
      for (const v of row) assert.ok(Number.isFinite(v) && Math.abs(v) <= 1);
    }
    assert.equal(r.consistent, isConsistent(r.ic));
  });

  test('when an off-diagonal IC flips sign against its diagonal, then the result is inconsistent', () => {
    assert.equal(
      isConsistent([
        [0.05, 0.02],
        [0.01, 0.04],
      ]),
      true,
    );
    assert.equal(
      isConsistent([
        [0.05, -0.02],
        [0.01, 0.04],
      ]),
      false,
    );
    assert.equal(
      isConsistent([
        [-0.05, -0.02],
        [0, 0.04],
      ]),
      true,
    );
  });
});
