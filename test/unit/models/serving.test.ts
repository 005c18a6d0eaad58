import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { retrainInputFromOptions, retrainSpecFromOptions } from '../../../cli/commands/models';
import { executionProviderChoice, OnnxScorer } from '../../../src/models/onnx/serving';
import { xgboostEnsembleToOnnx } from '../../../src/models/onnx/xgboost-export';
import { confidenceFromInterval, normalCdf, Z90 } from '../../../src/models/serving/confidence';
import { DEFAULT_SPECS, parseModelSpec } from '../../../src/models/spec';
import { DMatrix, train } from '../../../src/models/xgboost';

describe('confidence from prediction variance', () => {
  test('when the normal CDF is evaluated, then it matches reference values', () => {
    assert.ok(Math.abs(normalCdf(0) - 0.5) < 1e-7);
    assert.ok(Math.abs(normalCdf(1) - 0.8413447) < 1e-6);
    assert.ok(Math.abs(normalCdf(-1.959964) - 0.025) < 1e-6);
    assert.ok(Math.abs(normalCdf(Z90) - 0.9) < 1e-6);
  });

  test('when the interval straddles zero evenly, then confidence is 0.5; when it lies well on one side, then it nears 1', () => {
    assert.equal(confidenceFromInterval(0, -1, 1), 0.5);
    // center one σ from zero: Φ(1) ≈ 0.841, whatever the sign.
    const sigma = 0.5;
    assert.ok(
      Math.abs(confidenceFromInterval(sigma, sigma - Z90 * sigma, sigma + Z90 * sigma) - 0.8413) < 1e-3,
    );
    assert.ok(
      Math.abs(confidenceFromInterval(-sigma, -sigma - Z90 * sigma, -sigma + Z90 * sigma) - 0.8413) < 1e-3,
    );
    assert.ok(confidenceFromInterval(10, 9, 11) > 0.999);
  });

  test('when mapped to the signal tiers, then the documented |center|/σ thresholds give 0.70, 0.60 and 0.55', () => {
    const at = (k: number) => confidenceFromInterval(k, k - Z90, k + Z90);
    assert.ok(Math.abs(at(0.5244) - 0.7) < 1e-3);
    assert.ok(Math.abs(at(0.2533) - 0.6) < 1e-3);
    assert.ok(Math.abs(at(0.1257) - 0.55) < 1e-3);
  });

  test('when the interval is empty or not finite, then confidence stays within [0.5, 1]', () => {
    assert.equal(confidenceFromInterval(0.2, 0.2, 0.2), 1);
    assert.equal(confidenceFromInterval(0, 0, 0), 0.5);
    assert.equal(confidenceFromInterval(NaN, -1, 1), 0.5);
  });
});

describe('model specs and the retrain command line', () => {
  test('when a spec is wrong, then the error names the field', () => {
    assert.deepEqual(parseModelSpec({ ...DEFAULT_SPECS.transformer, heads: 3 }), {
      ok: false,
      error: 'spec.heads: dModel must be divisible by heads',
    });
    const r = parseModelSpec({ ...DEFAULT_SPECS.lstm, unit: 4 });
    assert.ok(!r.ok && /unit/.test(r.error), JSON.stringify(r));
    assert.ok(!parseModelSpec({ kind: 'random-forest' }).ok);
    for (const spec of Object.values(DEFAULT_SPECS)) assert.ok(parseModelSpec(spec).ok, spec.kind);
  });

  const opts = { name: 'm', csv: 'x.csv.gz', symbol: 'SPY' };
  test('when --kind and flags are given, then the kind default is trained with the flags; flags of another family are refused', () => {
    assert.deepEqual(retrainSpecFromOptions({ ...opts, kind: 'gru', epochs: '3', window: '12' }), {
      ...DEFAULT_SPECS.gru,
      epochs: 3,
      window: 12,
    });
    assert.equal(retrainSpecFromOptions({ ...opts }).kind, 'xgboost');
    assert.throws(
      () => retrainSpecFromOptions({ ...opts, kind: 'gru', rounds: '5' }),
      /--rounds: does not apply to a gru model/,
    );
    assert.throws(
      () => retrainSpecFromOptions({ ...opts, epochs: '5' }),
      /--epochs: does not apply to a xgboost model/,
    );
    assert.throws(
      () => retrainSpecFromOptions({ ...opts, kind: 'svm' }),
      /--kind: must be one of xgboost, lstm, gru, transformer, mtf-attention/,
    );
    assert.throws(
      () => retrainSpecFromOptions({ ...opts, kind: 'lstm', window: '0' }),
      /--window: must be a positive integer/,
    );
  });

  test('when --spec names a file, then that spec is validated and used, and --leakage-canary reaches the workflow input', () => {
    const files: Record<string, string> = {
      'ok.json': JSON.stringify({ ...DEFAULT_SPECS['mtf-attention'], dModel: 12, heads: 3 }),
      'bad.json': JSON.stringify({ ...DEFAULT_SPECS['mtf-attention'], dModel: 10, heads: 3 }),
      'broken.json': '{',
    };
    const read = (p: string) => files[p]!;
    const input = retrainInputFromOptions(
      { ...opts, spec: 'ok.json', leakageCanary: true, featureSet: 'core' },
      read,
    );
    assert.equal(input.spec.kind, 'mtf-attention');
    assert.equal(input.leakageCanary, true);
    assert.equal(input.featureSet, 'core');
    assert.throws(
      () => retrainSpecFromOptions({ ...opts, spec: 'bad.json' }, read),
      /--spec bad.json: spec.heads: dModel must be divisible by heads/,
    );
    assert.throws(
      () => retrainSpecFromOptions({ ...opts, spec: 'broken.json' }, read),
      /--spec broken.json: /,
    );
  });
});

describe('ONNX Runtime execution provider and the XGBoost fold graph', () => {
  test('when ONNX_EXECUTION_PROVIDER is set, then auto, cuda and cpu are accepted and anything else names the variable', () => {
    assert.equal(executionProviderChoice(undefined), 'auto');
    assert.equal(executionProviderChoice('CUDA'), 'cuda');
    assert.throws(() => executionProviderChoice('tpu'), /ONNX_EXECUTION_PROVIDER: must be auto, cuda or cpu/);
  });

  test('when CUDA is asked for on a host without its provider library, then the session falls back to CPU and says why', async () => {
    const X = Float32Array.from({ length: 200 }, (_, i) => (i % 13) / 13);
    const models: Buffer[] = [];
    const preds: Float32Array[] = [];
    for (const bias of [0, 1, 3]) {
      const d = DMatrix.fromFloat32(X, 100, 2, {
        label: Float32Array.from({ length: 100 }, (_, i) => bias + X[i * 2]!),
      });
      const r = await train({ params: { nthread: 1, max_depth: 2, base_score: 0 }, dtrain: d, rounds: 4 });
      models.push(r.booster.toBuffer('json'));
      preds.push(r.booster.predict(d, { type: 'margin' }));
      r.booster.free();
      d.free();
    }
    const scorer = await OnnxScorer.create(xgboostEnsembleToOnnx(models, { numFeatures: 2 }), 2, {
      executionProvider: 'cuda',
    });
    try {
      if (scorer.executionProvider.name === 'cpu')
        assert.ok(scorer.executionProvider.fallbackReason, 'the reason is reported');
      const out = await scorer.score(X, 100);
      // One column per booster, in order.
      for (let i = 0; i < 100; i++)
        for (let k = 0; k < 3; k++) assert.ok(Math.abs(out[i * 3 + k]! - preds[k]![i]!) <= 1e-5);
    } finally {
      await scorer.close();
    }
    const cpu = await OnnxScorer.create(xgboostEnsembleToOnnx(models, { numFeatures: 2 }), 2, {
      executionProvider: 'cpu',
    });
    assert.deepEqual(cpu.executionProvider, { name: 'cpu' });
    await cpu.close();
  });
});
