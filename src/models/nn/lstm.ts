import { ValidationError } from '../../model/errors';
import { encodeModel, type OnnxGraph } from '../onnx/proto';
import { tf } from './backend';

export interface LstmSpec {
  timesteps: number;
  features: number;
  units: number;
  learningRate?: number;
  seed?: number;
}

/** An LSTM over a window of feature rows, one linear output (predicted scaled forward return / score). */
export function createLstm(spec: LstmSpec): tf.LayersModel {
  const m = tf.sequential();
  // Sigmoid (not tfjs' default hard sigmoid) so the ONNX LSTM op computes the same function.
  m.add(
    tf.layers.lstm({
      units: spec.units,
      inputShape: [spec.timesteps, spec.features],
      recurrentActivation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: spec.seed ?? 1 }),
      recurrentInitializer: tf.initializers.orthogonal({ seed: spec.seed ?? 1 }),
    }),
  );
  m.add(
    tf.layers.dense({
      units: 1,
      kernelInitializer: tf.initializers.glorotUniform({ seed: (spec.seed ?? 1) + 1 }),
    }),
  );
  m.compile({ optimizer: tf.train.adam(spec.learningRate ?? 0.005), loss: 'meanSquaredError' });
  return m;
}

export interface FitOptions {
  epochs: number;
  batchSize?: number;
  /** Profit weighting: rows with bigger dollar moves count more (|return| × notional, normalised). */
  sampleWeight?: Float32Array;
  /** Called after every epoch (heartbeat / checkpoint hook). */
  onEpoch?: (epoch: number, loss: number) => void | Promise<void>;
}

/** Trains on X [n, T, F] (row-major) and y [n]. Returns the per-epoch loss. */
export async function fitLstm(
  model: tf.LayersModel,
  X: Float32Array,
  y: Float32Array,
  spec: LstmSpec,
  opts: FitOptions,
): Promise<number[]> {
  const n = y.length;
  if (X.length !== n * spec.timesteps * spec.features)
    throw new ValidationError('X', `length ${X.length} is not n × timesteps × features`);
  const xs = tf.tensor3d(X, [n, spec.timesteps, spec.features]);
  const ys = tf.tensor2d(y, [n, 1]);
  const sw = opts.sampleWeight ? tf.tensor1d(opts.sampleWeight) : undefined;
  try {
    const losses: number[] = [];
    await model.fit(xs, ys, {
      epochs: opts.epochs,
      batchSize: opts.batchSize ?? 64,
      shuffle: false,
      verbose: 0,
      sampleWeight: sw,
      callbacks: {
        onEpochEnd: async (epoch, logs) => {
          losses.push(Number(logs?.loss));
          if (opts.onEpoch) await opts.onEpoch(epoch, Number(logs?.loss));
        },
      },
    });
    return losses;
  } finally {
    xs.dispose();
    ys.dispose();
    sw?.dispose();
  }
}

export function predictLstm(model: tf.LayersModel, X: Float32Array, spec: LstmSpec): Float32Array {
  const n = X.length / (spec.timesteps * spec.features);
  return tf
    .tidy(
      () =>
        (
          model.predict(tf.tensor3d(X, [n, spec.timesteps, spec.features])) as tf.Tensor
        ).dataSync() as Float32Array,
    )
    .slice();
}

/** Keras gate blocks are (i, f, c, o); ONNX's LSTM wants (i, o, f, c). */
function reorderGates(src: Float32Array, rows: number, h: number): Float32Array {
  // src is [rows, 4h] row-major; returns the ONNX [4h, rows] (transposed, gates reordered).
  const order = [0, 3, 1, 2];
  const out = new Float32Array(4 * h * rows);
  order.forEach((g, k) => {
    for (let u = 0; u < h; u++)
      for (let r = 0; r < rows; r++) out[(k * h + u) * rows + r] = src[r * 4 * h + g * h + u]!;
  });
  return out;
}

/** The LSTM as ONNX: Transpose → LSTM → Y_h → Flatten → MatMul + Add. */
export function lstmToOnnx(model: tf.LayersModel, spec: LstmSpec): Uint8Array {
  const [kernel, recurrent, bias, denseW, denseB] = model
    .getWeights()
    .map((w) => w.dataSync() as Float32Array);
  const H = spec.units;
  const F = spec.features;
  const b = new Float32Array(8 * H);
  const order = [0, 3, 1, 2];
  order.forEach((g, k) => b.set(bias!.subarray(g * H, (g + 1) * H), k * H));
  const graph: OnnxGraph = {
    name: 'lstm',
    opsets: [{ domain: '', version: 17 }],
    inputs: [{ name: 'features', shape: ['batch', spec.timesteps, F] }],
    outputs: [{ name: 'score', shape: ['batch', 1] }],
    initializers: [
      { name: 'W', dims: [1, 4 * H, F], data: reorderGates(kernel!, F, H) },
      { name: 'R', dims: [1, 4 * H, H], data: reorderGates(recurrent!, H, H) },
      { name: 'B', dims: [1, 8 * H], data: b },
      { name: 'dense_w', dims: [H, 1], data: Float32Array.from(denseW!) },
      { name: 'dense_b', dims: [1], data: Float32Array.from(denseB!) },
    ],
    nodes: [
      {
        opType: 'Transpose',
        name: 'to_time_major',
        inputs: ['features'],
        outputs: ['x_tbf'],
        attributes: [{ name: 'perm', type: 'ints', value: [1, 0, 2] }],
      },
      {
        opType: 'LSTM',
        name: 'lstm',
        inputs: ['x_tbf', 'W', 'R', 'B'],
        outputs: ['', 'y_h'],
        attributes: [{ name: 'hidden_size', type: 'int', value: H }],
      },
      {
        opType: 'Transpose',
        name: 'batch_major',
        inputs: ['y_h'],
        outputs: ['h_b1h'],
        attributes: [{ name: 'perm', type: 'ints', value: [1, 0, 2] }],
      },
      {
        opType: 'Flatten',
        name: 'flatten',
        inputs: ['h_b1h'],
        outputs: ['h'],
        attributes: [{ name: 'axis', type: 'int', value: 1 }],
      },
      { opType: 'MatMul', name: 'dense', inputs: ['h', 'dense_w'], outputs: ['z'] },
      { opType: 'Add', name: 'dense_bias', inputs: ['z', 'dense_b'], outputs: ['score'] },
    ],
    metadata: { source: 'tfjs-lstm' },
  };
  return encodeModel(graph);
}
