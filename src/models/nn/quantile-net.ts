import { ValidationError } from '../../model/errors';
import { GraphBuilder } from '../onnx/graph';
import { encodeModel } from '../onnx/proto';
import type { NeuralSpec } from '../spec';
import { tf } from './backend';

/**
 * The common frame of every neural net here: a window of raw feature rows [batch, window, features] in, standardised
 * with the training rows' mean and standard deviation (missing → 0, the mean), an encoder (LSTM, GRU, Transformer,
 * multi-timeframe attention), and a head with three ordered quantiles of the forward return in standard deviations
 * (10/50/90%), trained with a profit-weighted pinball loss. The same computation is written once with tfjs ops
 * (training, the reference) and once as an ONNX graph (serving), and the registry records how far they differ.
 */
export const QUANTILES = [0.1, 0.5, 0.9] as const;

/** Per-feature standardisation fitted on training rows (JSON-safe: it travels in the model artifact). */
export interface Normalizer {
  mean: number[];
  /** 1 / standard deviation (1 where a feature is constant or always missing). */
  scale: number[];
}

/** Windows of feature rows with their targets: X is [n, window, features] row-major, NaN = missing. */
export interface WindowData {
  n: number;
  window: number;
  features: number;
  X: Float32Array;
  /** Forward return divided by the training rows' standard deviation. */
  target: Float32Array;
  /** Profit weight: |forward return| × notional, normalised to mean 1. */
  weight: Float32Array;
}

/** What a trained net is, as JSON: enough to rebuild it (the native artifact of a neural model). */
export interface NetState {
  spec: NeuralSpec;
  features: number;
  /** Column indices per timeframe token (multi-timeframe attention only). */
  groups?: number[][];
  norm: Normalizer;
  weights: Record<string, { shape: number[]; data: number[] }>;
}

export function fitNormalizer(X: Float32Array, rows: number, features: number): Normalizer {
  const mean: number[] = [],
    scale: number[] = [];
  for (let j = 0; j < features; j++) {
    let s = 0,
      q = 0,
      k = 0;
    for (let i = 0; i < rows; i++) {
      const v = X[i * features + j]!;
      if (Number.isFinite(v)) {
        s += v;
        q += v * v;
        k++;
      }
    }
    const m = k > 0 ? s / k : 0;
    const sd = k > 1 ? Math.sqrt(Math.max(0, q / k - m * m)) : 0;
    mean.push(m);
    scale.push(sd > 1e-12 ? 1 / sd : 1);
  }
  return { mean, scale };
}

type Init = (shape: number[]) => tf.Variable;

/** Seeded initialisers: the same spec and seed give the same starting weights on every backend. */
export function initializers(seed: number): { glorot: Init; zeros: Init; ones: Init; orthogonal: Init } {
  let k = 0;
  return {
    glorot: (shape) =>
      tf.variable(
        tf
          .randomUniform(shape, -1, 1, 'float32', seed * 1000 + k++)
          .mul(Math.sqrt(6 / (shape[0]! + shape[shape.length - 1]!))),
      ),
    zeros: (shape) => tf.variable(tf.zeros(shape)),
    ones: (shape) => tf.variable(tf.ones(shape)),
    orthogonal: (shape) =>
      tf.variable(
        tf.initializers.orthogonal({ seed: seed * 1000 + k++ }).apply(shape, 'float32') as tf.Tensor,
      ),
  };
}

/** Deterministic Fisher–Yates: a resumed run sees the same batch order per epoch as an uninterrupted one. */
function permutation(n: number, seed: number): Uint32Array {
  const out = Uint32Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export abstract class QuantileNet {
  readonly w: Record<string, tf.Variable> = {};
  private optimizer?: tf.Optimizer;
  private readonly normT: { mean: tf.Tensor1D; scale: tf.Tensor1D };

  protected constructor(
    readonly spec: NeuralSpec,
    readonly features: number,
    readonly norm: Normalizer,
  ) {
    if (norm.mean.length !== features || norm.scale.length !== features)
      throw new ValidationError('norm', `has ${norm.mean.length} features, the net ${features}`);
    this.normT = { mean: tf.tensor1d(norm.mean), scale: tf.tensor1d(norm.scale) };
  }

  /** [batch, window, features] standardised → [batch, width] encoding. */
  protected abstract encode(x: tf.Tensor3D): tf.Tensor2D;
  /** The same encoder as ONNX nodes; `x` is the standardised input; returns the [batch, width] value's name. */
  protected abstract encodeOnnx(g: GraphBuilder, x: string): string;
  /** Extra fields of the saved state (e.g. the timeframe groups). */
  protected extraState(): Partial<NetState> {
    return {};
  }

  get window(): number {
    return this.spec.window;
  }

  protected addHead(width: number, glorot: Init, zeros: Init): void {
    this.w.head_w = glorot([width, 3]);
    this.w.head_b = zeros([3]);
  }

  /** Raw windows [batch, window, features] → ordered quantiles [batch, 3] (q10 ≤ q50 ≤ q90 by construction). */
  forward(x: tf.Tensor3D): tf.Tensor2D {
    const z = x.sub(this.normT.mean).mul(this.normT.scale);
    const clean = tf.where(tf.isNaN(z), tf.zerosLike(z), z) as tf.Tensor3D;
    const raw = this.encode(clean).matMul(this.w.head_w!).add(this.w.head_b!);
    const [lo, mid, hi] = tf.split(raw, 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
    return tf.concat([mid.sub(tf.softplus(lo)), mid, mid.add(tf.softplus(hi))], 1) as tf.Tensor2D;
  }

  /** Profit-weighted pinball loss over the three quantiles. */
  loss(pred: tf.Tensor2D, target: tf.Tensor1D, weight: tf.Tensor1D): tf.Scalar {
    const err = target.expandDims(1).sub(pred);
    const qs = tf.tensor1d([...QUANTILES]);
    return tf
      .maximum(err.mul(qs), err.mul(qs.sub(1)))
      .sum(1)
      .mul(weight)
      .mean() as tf.Scalar;
  }

  /**
   * Mini-batch Adam over shuffled windows (the order is a function of seed and epoch). `firstEpoch` continues a
   * checkpointed run; `onEpoch` gets the 0-based epoch and its mean loss (heartbeat / checkpoint hook).
   */
  async fit(
    data: WindowData,
    opts: {
      epochs: number;
      firstEpoch?: number;
      batchSize?: number;
      onEpoch?: (epoch: number, loss: number) => void | Promise<void>;
      /** After every mini-batch (a heartbeat inside long epochs). */
      onBatch?: () => void;
    },
  ): Promise<number[]> {
    if (data.window !== this.window || data.features !== this.features)
      throw new ValidationError(
        'data',
        `windows are ${data.window}×${data.features}, the net takes ${this.window}×${this.features}`,
      );
    if (data.n === 0) throw new ValidationError('data', 'no training windows');
    this.optimizer ??= tf.train.adam(this.spec.learningRate ?? 0.003);
    const bs = opts.batchSize ?? this.spec.batchSize ?? 128;
    const width = data.window * data.features;
    const vars = Object.values(this.w);
    const losses: number[] = [];
    const xb = new Float32Array(bs * width);
    for (let e = opts.firstEpoch ?? 0; e < opts.epochs; e++) {
      const order = permutation(data.n, (this.spec.seed ?? 1) * 7919 + e);
      let total = 0,
        batches = 0;
      for (let s = 0; s < data.n; s += bs) {
        const m = Math.min(bs, data.n - s);
        const yb = new Float32Array(m),
          wb = new Float32Array(m);
        for (let k = 0; k < m; k++) {
          const r = order[s + k]!;
          xb.set(data.X.subarray(r * width, (r + 1) * width), k * width);
          yb[k] = data.target[r]!;
          wb[k] = data.weight[r]!;
        }
        const optimizer = this.optimizer;
        const l = tf.tidy(() => {
          const xs = tf.tensor3d(xb.subarray(0, m * width), [m, data.window, data.features]);
          const cost = optimizer.minimize(
            () => this.loss(this.forward(xs), tf.tensor1d(yb), tf.tensor1d(wb)),
            true,
            vars,
          );
          return cost!.dataSync()[0]!;
        });
        total += l;
        batches++;
        opts.onBatch?.();
      }
      losses.push(total / batches);
      if (opts.onEpoch) await opts.onEpoch(e, total / batches);
    }
    return losses;
  }

  /** Quantiles [n, 3] row-major for n raw windows, in batches (bounded memory). */
  predict(X: Float32Array, n: number, batch = 4096): Float32Array {
    const width = this.window * this.features;
    if (X.length !== n * width)
      throw new ValidationError('X', `length ${X.length} is not n × window × features = ${n * width}`);
    const out = new Float32Array(n * 3);
    for (let s = 0; s < n; s += batch) {
      const m = Math.min(batch, n - s);
      const q = tf.tidy(
        () =>
          this.forward(
            tf.tensor3d(X.subarray(s * width, (s + m) * width), [m, this.window, this.features]),
          ).dataSync() as Float32Array,
      );
      out.set(q, s * 3);
    }
    return out;
  }

  state(): NetState {
    return {
      spec: this.spec,
      features: this.features,
      norm: this.norm,
      weights: Object.fromEntries(
        Object.entries(this.w).map(([k, v]) => [k, { shape: v.shape, data: Array.from(v.dataSync()) }]),
      ),
      ...this.extraState(),
    };
  }

  setWeights(ws: NetState['weights']): void {
    for (const [k, v] of Object.entries(this.w)) {
      const src = ws[k];
      if (!src) throw new ValidationError(`weights.${k}`, 'missing from the saved state');
      if (src.shape.join('x') !== v.shape.join('x'))
        throw new ValidationError(`weights.${k}`, `shape ${src.shape} differs from the net's ${v.shape}`);
      v.assign(tf.tensor(src.data, src.shape));
    }
  }

  dispose(): void {
    for (const v of Object.values(this.w)) v.dispose();
    this.normT.mean.dispose();
    this.normT.scale.dispose();
    this.optimizer?.dispose();
  }

  protected weight(name: string): { data: Float32Array; shape: number[] } {
    const v = this.w[name];
    if (!v) throw new Error(`internal: no weight ${name}`);
    return { data: v.dataSync() as Float32Array, shape: v.shape };
  }

  /** Exports a weight unchanged as an initializer of the same name. */
  protected initOnnx(g: GraphBuilder, name: string): string {
    const { data, shape } = this.weight(name);
    return g.f32(name, data, shape);
  }

  /** The net as ONNX (opset 17): input `features` [batch, window, features], output `quantiles` [batch, 3]. */
  toOnnx(metadata: Record<string, string> = {}): Uint8Array {
    const g = new GraphBuilder();
    const mean = g.f32('norm_mean', this.norm.mean, [this.features]);
    const scale = g.f32('norm_scale', this.norm.scale, [this.features]);
    const zero = g.f32('zero', [0], []);
    const z = g.op('Mul', [g.op('Sub', ['features', mean]), scale]);
    const clean = g.op('Where', [g.op('IsNaN', [z]), zero, z]);
    const enc = this.encodeOnnx(g, clean);
    const raw = g.op('Add', [g.op('MatMul', [enc, this.initOnnx(g, 'head_w')]), this.initOnnx(g, 'head_b')]);
    const [lo, mid, hi] = g.opN('Split', [raw], 3, [{ name: 'axis', type: 'int', value: 1 }]);
    const q10 = g.op('Sub', [mid!, g.op('Softplus', [lo!])]);
    const q90 = g.op('Add', [mid!, g.op('Softplus', [hi!])]);
    g.rename(g.op('Concat', [q10, mid!, q90], [{ name: 'axis', type: 'int', value: 1 }]), 'quantiles');
    return encodeModel({
      name: this.spec.kind.replace(/-/g, '_'),
      opsets: [{ domain: '', version: 17 }],
      inputs: [{ name: 'features', shape: ['batch', this.window, this.features] }],
      outputs: [{ name: 'quantiles', shape: ['batch', 3] }],
      initializers: g.initializers,
      nodes: g.nodes,
      metadata: { source: `tfjs-${this.spec.kind}`, quantiles: QUANTILES.join(','), ...metadata },
    });
  }
}
