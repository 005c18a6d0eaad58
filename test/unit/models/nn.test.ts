import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { MinuteBars } from '../../../src/models/dataset';
import { selectTfBackend, type TfBackendName } from '../../../src/models/nn/backend';
import { createLstm, fitLstm, lstmToOnnx, predictLstm } from '../../../src/models/nn/lstm';
import {
  buildMtfData,
  confidenceFromQuantiles,
  MultiTimeframeNet,
} from '../../../src/models/nn/multi-timeframe';
import { maxAbsDiff } from '../../../src/models/onnx/serving';

function rng(seed: number) {
  let s = seed;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/** A random-walk minute series (deterministic) long enough for 1h windows. */
function walk(n: number): MinuteBars {
  const r = rng(5);
  const ts = new Float64Array(n),
    o = new Float64Array(n),
    h = new Float64Array(n),
    l = new Float64Array(n),
    c = new Float64Array(n),
    v = new Float64Array(n);
  let p = 100;
  for (let i = 0; i < n; i++) {
    ts[i] = Date.UTC(2024, 0, 2) + i * 60_000;
    o[i] = p;
    p *= 1 + (r() - 0.5) * 0.002;
    c[i] = p;
    h[i] = Math.max(o[i]!, p) * (1 + r() * 0.0005);
    l[i] = Math.min(o[i]!, p) * (1 - r() * 0.0005);
    v[i] = 1000 + r() * 100;
  }
  return { symbol: 'TEST', ts, open: o, high: h, low: l, close: c, volume: v };
}

describe('neural nets in TensorFlow.js, exported to ONNX', () => {
  let backend: TfBackendName;
  before(async () => {
    backend = await selectTfBackend();
  });

  test('when the backend is chosen at run time, then one of the known backends is in use', () => {
    assert.ok(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'].includes(backend), backend);
  });

  test('when an LSTM learns a lagged signal, then its loss falls and ONNX Runtime reproduces it to 1e-5', async () => {
    const spec = { timesteps: 8, features: 3, units: 8, learningRate: 0.02 };
    const n = 256;
    const r = rng(3);
    const X = Float32Array.from({ length: n * 24 }, () => r() - 0.5);
    const y = Float32Array.from({ length: n }, (_, i) => X[i * 24 + 21]! * 2);
    const model = createLstm(spec);
    const epochs: number[] = [];
    const losses = await fitLstm(model, X, y, spec, {
      epochs: 6,
      batchSize: 32,
      onEpoch: (e) => void epochs.push(e),
    });
    assert.deepEqual(epochs, [0, 1, 2, 3, 4, 5]);
    assert.ok(losses[5]! < losses[0]!, `loss ${losses.join(', ')}`);
    const native = predictLstm(model, X, spec);
    const session = await ort.InferenceSession.create(lstmToOnnx(model, spec));
    const out = await session.run({ features: new ort.Tensor('float32', X, [n, 8, 3]) });
    await session.release();
    assert.ok(maxAbsDiff(out.score!.data as Float32Array, native) <= 1e-5);
    model.dispose();
  });

  test('when the multi-timeframe attention net trains, then quantiles are ordered, weights round-trip, and ONNX matches to 1e-5', async () => {
    const data = buildMtfData(walk(900), 4);
    const spec = { window: 4, dModel: 8, heads: 2, seed: 2 };
    const net = new MultiTimeframeNet(spec);
    const losses = await net.fit(data, { epochs: 2, batchSize: 128 });
    assert.equal(losses.length, 2);
    const q = net.predict(data.inputs, data.n);
    for (let i = 0; i < data.n; i++) assert.ok(q[i * 3]! <= q[i * 3 + 1]! && q[i * 3 + 1]! <= q[i * 3 + 2]!);
    const conf = confidenceFromQuantiles(q);
    assert.ok(conf.every((c) => c > 0 && c <= 1));

    const copy = new MultiTimeframeNet(spec);
    copy.setWeights(
      JSON.parse(JSON.stringify(net.getWeights())) as ReturnType<MultiTimeframeNet['getWeights']>,
    );
    assert.ok(maxAbsDiff(copy.predict(data.inputs, data.n), q) === 0);
    copy.dispose();

    const session = await ort.InferenceSession.create(net.toOnnx());
    const feeds: Record<string, ort.Tensor> = {};
    ['tf_1m', 'tf_5m', 'tf_15m', 'tf_1h'].forEach(
      (name, j) => (feeds[name] = new ort.Tensor('float32', data.inputs[j]!, [data.n, 8])),
    );
    const out = await session.run(feeds);
    await session.release();
    assert.ok(maxAbsDiff(out.quantiles!.data as Float32Array, q) <= 1e-5);
    net.dispose();
  });

  test('when features are built, then a later bar never changes an earlier window (no look-ahead)', () => {
    const bars = walk(700);
    const a = buildMtfData(bars, 4);
    const changed = { ...bars, close: Float64Array.from(bars.close), high: Float64Array.from(bars.high) };
    changed.close[650] = changed.close[650]! * 1.5;
    changed.high[650] = changed.close[650]!;
    const b = buildMtfData(changed, 4);
    // Rows whose decision minute is before bar 650 keep identical inputs.
    for (let i = 0; i < a.n; i++) {
      if (a.decisionTs[i]! > bars.ts[650]!) break;
      for (let j = 0; j < 4; j++)
        assert.deepEqual(
          a.inputs[j]!.subarray(i * 8, (i + 1) * 8),
          b.inputs[j]!.subarray(i * 8, (i + 1) * 8),
        );
    }
  });
});
