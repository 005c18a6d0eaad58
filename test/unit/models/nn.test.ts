import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { selectTfBackend, type TfBackendName } from '../../../src/models/nn/backend';
import { timeframeGroups } from '../../../src/models/nn/multi-timeframe';
import { createNet, netFromState } from '../../../src/models/nn/nets';
import { fitNormalizer, type WindowData } from '../../../src/models/nn/quantile-net';
import { windowEndRows } from '../../../src/models/nn/windows';
import { maxAbsDiff } from '../../../src/models/onnx/serving';
import { DEFAULT_SPECS, type NeuralSpec } from '../../../src/models/spec';
import { MODELS_FEATURE_NAMES } from '../../../src/models/dataset';
import { CORE_FEATURE_SET } from '../../../src/features/sets';

function rng(seed: number) {
  let s = seed;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/**
 * Windows [n, T, F] of noise where the target is the window's second-to-last value of feature 0 (a lagged signal a
 * sequence model can learn) plus noise; feature 1 has missing values. Features carry offsets and scales a net only
 * learns from once they are standardised.
 */
function planted(n: number, T: number, F: number, seed = 3): WindowData {
  const r = rng(seed);
  const X = new Float32Array(n * T * F);
  for (let i = 0; i < X.length; i++) {
    const f = i % F;
    X[i] = f === 1 && r() < 0.1 ? NaN : 50 * f + (r() - 0.5) * (1 + f);
  }
  const target = Float32Array.from({ length: n }, (_, i) => 4 * X[(i * T + T - 2) * F]! + (r() - 0.5));
  return { n, window: T, features: F, X, target, weight: new Float32Array(n).fill(1) };
}

const NAMES = ['1m:logReturn_1', '1m:rsi_14', '5m:rsi_14', '1h:natr_14'];

describe('neural nets in TensorFlow.js (quantile heads), exported to ONNX', () => {
  let backend: TfBackendName;
  before(async () => {
    backend = await selectTfBackend();
  });

  test('when the backend is chosen at run time, then one of the known backends is in use', () => {
    assert.ok(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'].includes(backend), backend);
  });

  const kinds: NeuralSpec[] = [
    { ...DEFAULT_SPECS.lstm, window: 6, units: 8, epochs: 6, batchSize: 32, learningRate: 0.01 },
    { ...DEFAULT_SPECS.gru, window: 6, units: 8, epochs: 6, batchSize: 32, learningRate: 0.01 },
    {
      ...DEFAULT_SPECS.transformer,
      window: 6,
      dModel: 8,
      heads: 2,
      layers: 2,
      epochs: 6,
      batchSize: 32,
      learningRate: 0.01,
    },
    {
      ...DEFAULT_SPECS['mtf-attention'],
      window: 3,
      dModel: 8,
      heads: 2,
      epochs: 6,
      batchSize: 32,
      learningRate: 0.01,
    },
  ];
  for (const spec of kinds) {
    test(`when a ${spec.kind} net learns a lagged signal, then its loss falls, quantiles are ordered, a reload predicts the same, and ONNX Runtime matches tfjs to 1e-4`, async () => {
      const data = planted(384, spec.window, NAMES.length);
      const lastRows = new Float32Array(data.n * data.features);
      for (let i = 0; i < data.n; i++)
        lastRows.set(
          data.X.subarray(
            (i * data.window + data.window - 1) * data.features,
            (i + 1) * data.window * data.features,
          ),
          i * data.features,
        );
      const net = createNet(spec, NAMES, fitNormalizer(lastRows, data.n, data.features));
      const epochs: number[] = [];
      const losses = await net.fit(data, { epochs: spec.epochs, onEpoch: (e) => void epochs.push(e) });
      assert.deepEqual(epochs, [0, 1, 2, 3, 4, 5]);
      assert.ok(losses[5]! < losses[0]!, `loss ${losses.map((l) => l.toFixed(3)).join(', ')}`);
      const q = net.predict(data.X, data.n);
      for (let i = 0; i < data.n; i++)
        assert.ok(q[i * 3]! <= q[i * 3 + 1]! && q[i * 3 + 1]! <= q[i * 3 + 2]!);
      assert.ok(q.every(Number.isFinite), 'missing values are filled, not propagated');

      const copy = netFromState(JSON.parse(JSON.stringify(net.state())) as ReturnType<typeof net.state>);
      assert.equal(maxAbsDiff(copy.predict(data.X, data.n), q), 0);
      copy.dispose();

      const session = await ort.InferenceSession.create(net.toOnnx());
      const out = await session.run({
        features: new ort.Tensor('float32', data.X, [data.n, data.window, data.features]),
      });
      await session.release();
      const diff = maxAbsDiff(out.quantiles!.data as Float32Array, q);
      assert.ok(diff <= 1e-4, `${spec.kind}: max |onnx - tfjs| = ${diff}`);
      net.dispose();
    });
  }

  test('when a resumed fit continues from a saved epoch, then it ends where an uninterrupted fit ends', async () => {
    const spec: NeuralSpec = { ...DEFAULT_SPECS.gru, window: 4, units: 4, epochs: 3, batchSize: 64 };
    const data = planted(128, 4, NAMES.length, 9);
    const norm = { mean: [0, 50, 100, 150], scale: [1, 0.5, 0.33, 0.25] };
    const whole = createNet(spec, NAMES, norm);
    await whole.fit(data, { epochs: 3 });
    const first = createNet(spec, NAMES, norm);
    await first.fit(data, { epochs: 2 });
    const resumed = netFromState(first.state());
    // Adam's moments restart on resume, so the weights differ slightly but the run is the same length and order.
    const losses = await resumed.fit(data, { epochs: 3, firstEpoch: 2 });
    assert.equal(losses.length, 1);
    assert.ok(maxAbsDiff(resumed.predict(data.X, data.n), whole.predict(data.X, data.n)) < 0.5);
    for (const n of [whole, first, resumed]) n.dispose();
  });

  test('when features come from a feature set or the minute-basic set, then multi-timeframe tokens group them by timeframe, finest first', () => {
    const core = timeframeGroups(CORE_FEATURE_SET.names);
    assert.deepEqual(core.timeframes, ['1m', '5m', '15m', '1h', '1d']);
    assert.equal(core.columns.flat().length, CORE_FEATURE_SET.names.length);
    const basic = timeframeGroups([...MODELS_FEATURE_NAMES, 'canary_future_return']);
    assert.deepEqual(basic.timeframes, ['1m', '5m', '15m', '1h', 'other']);
    assert.deepEqual(basic.columns[4], [MODELS_FEATURE_NAMES.length]);
  });

  test('when rows have a gap, then only rows ending a full run of consecutive bars end a window', () => {
    const M = 60_000;
    const ts = [0, 1, 2, 3, 10, 11, 12, 13, 14].map((m) => m * M);
    assert.deepEqual([...windowEndRows(ts, 3, M)], [0, 0, 1, 1, 0, 0, 1, 1, 1]);
    assert.deepEqual([...windowEndRows(ts, 1, M)], [1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });
});
