import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DollarProfitObjective } from '../../../src/models/objectives';
import { OnnxScorer, maxAbsDiff } from '../../../src/models/onnx/serving';
import { xgboostToOnnx } from '../../../src/models/onnx/xgboost-export';
import { DMatrix, train, type XGBParams } from '../../../src/models/xgboost';

function data(n: number, f: number) {
  let s = 42;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const X = new Float32Array(n * f);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) X[i * f + j] = rnd() < 0.1 ? NaN : rnd() * 10 - 5;
    y[i] = Number.isNaN(X[i * f]!) ? 0.3 : X[i * f]! > 0 ? 1 : 0;
  }
  return { X, y };
}

describe('ONNX export of XGBoost (TreeEnsembleRegressor) served by ONNX Runtime', () => {
  const n = 2000,
    f = 6;
  const { X, y } = data(n, f);
  const cases: Array<{ name: string; params: XGBParams; output: 'value' | 'margin'; custom?: boolean }> = [
    { name: 'squared error', params: { objective: 'reg:squarederror' }, output: 'value' },
    { name: 'logistic probability', params: { objective: 'binary:logistic' }, output: 'value' },
    { name: 'logistic margin', params: { objective: 'binary:logistic' }, output: 'margin' },
    { name: 'dollar-profit margin', params: {}, output: 'margin', custom: true },
  ];
  for (const c of cases) {
    test(`when a ${c.name} model with missing values is exported, then ONNX Runtime matches native predictions to 1e-5`, async () => {
      const label =
        c.params.objective === 'binary:logistic' ? Float32Array.from(y, (v) => (v > 0.5 ? 1 : 0)) : y;
      const d = DMatrix.fromFloat32(X, n, f, { label });
      const objective = c.custom
        ? new DollarProfitObjective(
            { forwardReturn: Array.from(y, (v) => (v - 0.5) / 100), notional: new Array(n).fill(5000) },
            { costRate: 1e-4, positionPenalty: 1e-3 },
          ).objective
        : undefined;
      const r = await train({
        params: { max_depth: 5, eta: 0.2, nthread: 1, ...c.params },
        dtrain: d,
        rounds: 25,
        objective,
      });
      const native = r.booster.predict(d, { type: c.output });
      const scorer = await OnnxScorer.create(
        xgboostToOnnx(r.booster.toBuffer('json'), { output: c.output }),
        f,
      );
      const served = await scorer.score(X, n);
      const one = await scorer.score(X.subarray(0, f), 1);
      await scorer.close();
      r.booster.free();
      d.free();
      assert.ok(maxAbsDiff(served, native) <= 1e-5, `max diff ${maxAbsDiff(served, native)}`);
      assert.ok(Math.abs(one[0]! - native[0]!) <= 1e-5);
    });
  }

  test('when the wrong number of features is sent, then the scorer says so', async () => {
    const d = DMatrix.fromFloat32(X, n, f, { label: y });
    const r = await train({ params: { nthread: 1 }, dtrain: d, rounds: 2 });
    const scorer = await OnnxScorer.create(xgboostToOnnx(r.booster.toBuffer('json')), f);
    await assert.rejects(
      scorer.score(new Float32Array(5), 1),
      /features: length 5 is not rows × features = 6/,
    );
    await scorer.close();
    r.booster.free();
    d.free();
  });
});
