import { ValidationError } from '../../model/errors';
import type { MinuteBars } from '../dataset';
import { encodeModel, type OnnxGraph, type OnnxNode, type OnnxTensor } from '../onnx/proto';
import { tf } from './backend';

/** Timeframes the network encodes, in minutes: 1m, 5m, 15m, 1h. */
export const MTF_TIMEFRAMES = [1, 5, 15, 60] as const;
export const MTF_BAR_FEATURES = 2; // log return, high-low range over the bar
export const QUANTILES = [0.1, 0.5, 0.9] as const;

export interface MtfSpec {
  /** Bars per timeframe window. */
  window: number;
  /** Embedding width per timeframe token. */
  dModel: number;
  heads: number;
  learningRate?: number;
  seed?: number;
}

export interface MtfData {
  n: number;
  /** One [n, window × MTF_BAR_FEATURES] row-major matrix per timeframe (same order as MTF_TIMEFRAMES). */
  inputs: Float32Array[];
  /** Forward return / its standard deviation (the target). */
  target: Float32Array;
  /** Profit weight per row: |forward return| × notional, normalised to mean 1. */
  weight: Float32Array;
  decisionTs: Float64Array;
  scale: number;
}

/**
 * Windows of the last `window` completed bars of each timeframe at every decision minute, aggregated from the
 * minute closes up to and including that minute (no look-ahead); the label is the `horizon`-minute forward return.
 */
export function buildMtfData(bars: MinuteBars, window: number, horizon = 5, notional = 5000): MtfData {
  const MIN = 60_000;
  const c = bars.close;
  const lookback = window * MTF_TIMEFRAMES[MTF_TIMEFRAMES.length - 1]!;
  const width = window * MTF_BAR_FEATURES;
  const cols: number[][] = MTF_TIMEFRAMES.map(() => []);
  const fr: number[] = [],
    ts: number[] = [];
  for (let t = lookback; t + horizon < bars.ts.length; t++) {
    if (bars.ts[t + horizon]! - bars.ts[t]! !== horizon * MIN) continue;
    MTF_TIMEFRAMES.forEach((m, j) => {
      for (let k = 0; k < window; k++) {
        const end = t - k * m,
          start = end - m;
        let hi = -Infinity,
          lo = Infinity;
        for (let i = start + 1; i <= end; i++) {
          hi = Math.max(hi, bars.high[i]!);
          lo = Math.min(lo, bars.low[i]!);
        }
        cols[j]!.push(Math.log(c[end]! / c[start]!) * 100, ((hi - lo) / c[end]!) * 100);
      }
    });
    fr.push(c[t + horizon]! / c[t]! - 1);
    ts.push(bars.ts[t]! + MIN);
  }
  const n = fr.length;
  if (n === 0) throw new ValidationError('bars', `no rows: need ${lookback + horizon + 1} minutes`);
  let s = 0,
    q = 0,
    wsum = 0;
  for (const r of fr) {
    s += r;
    q += r * r;
    wsum += Math.abs(r) * notional;
  }
  const scale = Math.sqrt(Math.max(1e-20, q / n - (s / n) ** 2));
  const wmean = wsum / n || 1;
  return {
    n,
    inputs: cols.map((col) => {
      if (col.length !== n * width) throw new Error('internal: window width mismatch');
      return Float32Array.from(col);
    }),
    target: Float32Array.from(fr, (r) => r / scale),
    weight: Float32Array.from(fr, (r) => (Math.abs(r) * notional) / wmean),
    decisionTs: Float64Array.from(ts),
    scale,
  };
}

type Weights = Record<string, tf.Variable>;

/**
 * One encoder per timeframe (dense + ReLU → a token), multi-head self-attention across the timeframe tokens with
 * residual connections and layer norm, a residual feed-forward block, mean pooling, and three ordered quantile
 * outputs (10/50/90%). Trained with a profit-weighted pinball loss.
 */
export class MultiTimeframeNet {
  readonly w: Weights = {};
  private readonly optimizer: tf.Optimizer;

  constructor(readonly spec: MtfSpec) {
    if (spec.dModel % spec.heads !== 0)
      throw new ValidationError('dModel', `${spec.dModel} is not divisible by heads=${spec.heads}`);
    const seed = spec.seed ?? 1;
    let k = 0;
    const glorot = (shape: number[]) =>
      tf.variable(
        tf
          .randomUniform(shape, -1, 1, 'float32', seed + k++)
          .mul(Math.sqrt(6 / (shape[0]! + shape[shape.length - 1]!))),
      );
    const zeros = (shape: number[]) => tf.variable(tf.zeros(shape));
    const ones = (shape: number[]) => tf.variable(tf.ones(shape));
    const d = spec.dModel;
    const inW = spec.window * MTF_BAR_FEATURES;
    MTF_TIMEFRAMES.forEach((_, j) => {
      this.w[`enc${j}_w`] = glorot([inW, d]);
      this.w[`enc${j}_b`] = zeros([d]);
    });
    for (const p of ['q', 'k', 'v', 'o']) {
      this.w[`att_${p}`] = glorot([d, d]);
      this.w[`att_${p}b`] = zeros([d]);
    }
    this.w.ln1_g = ones([d]);
    this.w.ln1_b = zeros([d]);
    this.w.ff1_w = glorot([d, 2 * d]);
    this.w.ff1_b = zeros([2 * d]);
    this.w.ff2_w = glorot([2 * d, d]);
    this.w.ff2_b = zeros([d]);
    this.w.ln2_g = ones([d]);
    this.w.ln2_b = zeros([d]);
    this.w.head_w = glorot([d, 3]);
    this.w.head_b = zeros([3]);
    this.optimizer = tf.train.adam(spec.learningRate ?? 0.003);
  }

  private layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
    const mean = x.mean(-1, true);
    const v = x.sub(mean).square().mean(-1, true);
    return x.sub(mean).div(v.add(1e-5).sqrt()).mul(g).add(b);
  }

  /** inputs: one [batch, window × features] tensor per timeframe → [batch, 3] ordered quantiles. */
  forward(inputs: tf.Tensor2D[]): tf.Tensor2D {
    const { w, spec } = this;
    const d = spec.dModel,
      h = spec.heads,
      dk = d / h;
    const B = inputs[0]!.shape[0];
    const tokens = tf.stack(
      inputs.map((x, j) => tf.relu(x.matMul(w[`enc${j}_w`]!).add(w[`enc${j}_b`]!))),
      1,
    ); // [B,T,d]
    const T = inputs.length;
    const proj = (p: string) =>
      tokens
        .reshape([B * T, d])
        .matMul(w[`att_${p}`]!)
        .add(w[`att_${p}b`]!)
        .reshape([B, T, h, dk]);
    const q = proj('q').transpose([0, 2, 1, 3]);
    const kT = proj('k').transpose([0, 2, 3, 1]);
    const v = proj('v').transpose([0, 2, 1, 3]);
    const att = tf.softmax(
      tf.matMul(q.reshape([B * h, T, dk]), kT.reshape([B * h, dk, T])).mul(1 / Math.sqrt(dk)),
      -1,
    );
    const ctx = tf
      .matMul(att, v.reshape([B * h, T, dk]))
      .reshape([B, h, T, dk])
      .transpose([0, 2, 1, 3])
      .reshape([B * T, d]);
    const attOut = ctx.matMul(w.att_o!).add(w.att_ob!).reshape([B, T, d]);
    const z1 = this.layerNorm(tokens.add(attOut), w.ln1_g!, w.ln1_b!); // residual 1
    const ff = tf
      .relu(
        z1
          .reshape([B * T, d])
          .matMul(w.ff1_w!)
          .add(w.ff1_b!),
      )
      .matMul(w.ff2_w!)
      .add(w.ff2_b!)
      .reshape([B, T, d]);
    const z2 = this.layerNorm(z1.add(ff), w.ln2_g!, w.ln2_b!); // residual 2
    const pooled = z2.mean(1) as tf.Tensor2D;
    const raw = pooled.matMul(w.head_w!).add(w.head_b!);
    const [lo, mid, hi] = tf.split(raw, 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
    // Quantiles ordered by construction: q10 = q50 − softplus, q90 = q50 + softplus.
    return tf.concat([mid.sub(tf.softplus(lo)), mid, mid.add(tf.softplus(hi))], 1) as tf.Tensor2D;
  }

  /** Profit-weighted pinball loss over the three quantiles. */
  loss(pred: tf.Tensor2D, target: tf.Tensor1D, weight: tf.Tensor1D): tf.Scalar {
    const y = target.expandDims(1);
    const err = y.sub(pred);
    const qs = tf.tensor1d([...QUANTILES]);
    const pin = tf.maximum(err.mul(qs), err.mul(qs.sub(1))).sum(1);
    return pin.mul(weight).mean() as tf.Scalar;
  }

  /** Mini-batch Adam; `onEpoch` gets the mean loss (heartbeat / checkpoint hook). */
  async fit(
    data: MtfData,
    opts: {
      epochs: number;
      batchSize?: number;
      onEpoch?: (epoch: number, loss: number) => void | Promise<void>;
    },
  ): Promise<number[]> {
    const bs = opts.batchSize ?? 128;
    const width = this.spec.window * MTF_BAR_FEATURES;
    const losses: number[] = [];
    for (let e = 0; e < opts.epochs; e++) {
      let total = 0,
        batches = 0;
      for (let s = 0; s < data.n; s += bs) {
        const end = Math.min(data.n, s + bs);
        const l = tf.tidy(() => {
          const xs = data.inputs.map((x) =>
            tf.tensor2d(x.subarray(s * width, end * width), [end - s, width]),
          );
          const y = tf.tensor1d(data.target.subarray(s, end));
          const wt = tf.tensor1d(data.weight.subarray(s, end));
          const cost = this.optimizer.minimize(
            () => this.loss(this.forward(xs), y, wt),
            true,
            Object.values(this.w),
          );
          return cost!.dataSync()[0]!;
        });
        total += l;
        batches++;
      }
      losses.push(total / batches);
      if (opts.onEpoch) await opts.onEpoch(e, total / batches);
    }
    return losses;
  }

  predict(inputs: Float32Array[], n: number): Float32Array {
    const width = this.spec.window * MTF_BAR_FEATURES;
    return tf
      .tidy(() => this.forward(inputs.map((x) => tf.tensor2d(x, [n, width]))).dataSync() as Float32Array)
      .slice();
  }

  getWeights(): Record<string, { shape: number[]; data: number[] }> {
    return Object.fromEntries(
      Object.entries(this.w).map(([k, v]) => [k, { shape: v.shape, data: Array.from(v.dataSync()) }]),
    );
  }

  setWeights(ws: Record<string, { shape: number[]; data: number[] }>): void {
    for (const [k, v] of Object.entries(this.w)) {
      const src = ws[k];
      if (!src) throw new ValidationError(`weights.${k}`, 'missing from checkpoint');
      v.assign(tf.tensor(src.data, src.shape));
    }
  }

  dispose(): void {
    for (const v of Object.values(this.w)) v.dispose();
    this.optimizer.dispose();
  }

  /** The same computation as an ONNX graph (opset 17), inputs tf_1m, tf_5m, tf_15m, tf_1h; output quantiles [batch, 3]. */
  toOnnx(): Uint8Array {
    const d = this.spec.dModel,
      h = this.spec.heads,
      dk = d / h;
    const T = MTF_TIMEFRAMES.length;
    const width = this.spec.window * MTF_BAR_FEATURES;
    const inits: OnnxTensor[] = Object.entries(this.w).map(([name, v]) => ({
      name,
      dims: v.shape,
      data: Float32Array.from(v.dataSync()),
    }));
    const i64 = (name: string, vals: number[]): OnnxTensor => ({
      name,
      dims: [vals.length],
      data: BigInt64Array.from(vals.map(BigInt)),
    });
    inits.push(i64('axis1', [1]), i64('shape_bthd', [0, T, h, dk]), i64('shape_btd', [0, T, d]));
    inits.push({ name: 'inv_sqrt_dk', dims: [], data: Float32Array.of(1 / Math.sqrt(dk)) });
    const names = MTF_TIMEFRAMES.map((m) => `tf_${m === 60 ? '1h' : `${m}m`}`);
    const nodes: OnnxNode[] = [];
    const node = (opType: string, inputs: string[], output: string, attributes?: OnnxNode['attributes']) =>
      nodes.push({ opType, name: `${opType}_${nodes.length}`, inputs, outputs: [output], attributes });
    names.forEach((inp, j) => {
      node('MatMul', [inp, `enc${j}_w`], `e${j}_mm`);
      node('Add', [`e${j}_mm`, `enc${j}_b`], `e${j}_lin`);
      node('Relu', [`e${j}_lin`], `e${j}`);
      node('Unsqueeze', [`e${j}`, 'axis1'], `tok${j}`);
    });
    node(
      'Concat',
      names.map((_, j) => `tok${j}`),
      'tokens',
      [{ name: 'axis', type: 'int', value: 1 }],
    );
    for (const p of ['q', 'k', 'v']) {
      node('MatMul', ['tokens', `att_${p}`], `${p}_mm`);
      node('Add', [`${p}_mm`, `att_${p}b`], `${p}_lin`);
      node('Reshape', [`${p}_lin`, 'shape_bthd'], `${p}_4d`);
    }
    node('Transpose', ['q_4d'], 'q_h', [{ name: 'perm', type: 'ints', value: [0, 2, 1, 3] }]);
    node('Transpose', ['k_4d'], 'k_t', [{ name: 'perm', type: 'ints', value: [0, 2, 3, 1] }]);
    node('Transpose', ['v_4d'], 'v_h', [{ name: 'perm', type: 'ints', value: [0, 2, 1, 3] }]);
    node('MatMul', ['q_h', 'k_t'], 'scores_raw');
    node('Mul', ['scores_raw', 'inv_sqrt_dk'], 'scores');
    node('Softmax', ['scores'], 'att', [{ name: 'axis', type: 'int', value: -1 }]);
    node('MatMul', ['att', 'v_h'], 'ctx_h');
    node('Transpose', ['ctx_h'], 'ctx_t', [{ name: 'perm', type: 'ints', value: [0, 2, 1, 3] }]);
    node('Reshape', ['ctx_t', 'shape_btd'], 'ctx');
    node('MatMul', ['ctx', 'att_o'], 'o_mm');
    node('Add', ['o_mm', 'att_ob'], 'att_out');
    node('Add', ['tokens', 'att_out'], 'res1');
    node('LayerNormalization', ['res1', 'ln1_g', 'ln1_b'], 'z1', [
      { name: 'axis', type: 'int', value: -1 },
      { name: 'epsilon', type: 'float', value: 1e-5 },
    ]);
    node('MatMul', ['z1', 'ff1_w'], 'ff1_mm');
    node('Add', ['ff1_mm', 'ff1_b'], 'ff1_lin');
    node('Relu', ['ff1_lin'], 'ff1');
    node('MatMul', ['ff1', 'ff2_w'], 'ff2_mm');
    node('Add', ['ff2_mm', 'ff2_b'], 'ff2');
    node('Add', ['z1', 'ff2'], 'res2');
    node('LayerNormalization', ['res2', 'ln2_g', 'ln2_b'], 'z2', [
      { name: 'axis', type: 'int', value: -1 },
      { name: 'epsilon', type: 'float', value: 1e-5 },
    ]);
    node('ReduceMean', ['z2'], 'pooled', [
      { name: 'axes', type: 'ints', value: [1] },
      { name: 'keepdims', type: 'int', value: 0 },
    ]);
    node('MatMul', ['pooled', 'head_w'], 'head_mm');
    node('Add', ['head_mm', 'head_b'], 'raw');
    nodes.push({
      opType: 'Split',
      name: 'split',
      inputs: ['raw'],
      outputs: ['lo', 'mid', 'hi'],
      attributes: [{ name: 'axis', type: 'int', value: 1 }],
    });
    node('Softplus', ['lo'], 'lo_sp');
    node('Softplus', ['hi'], 'hi_sp');
    node('Sub', ['mid', 'lo_sp'], 'q10');
    node('Add', ['mid', 'hi_sp'], 'q90');
    node('Concat', ['q10', 'mid', 'q90'], 'quantiles', [{ name: 'axis', type: 'int', value: 1 }]);
    const graph: OnnxGraph = {
      name: 'multi_timeframe_attention',
      opsets: [{ domain: '', version: 17 }],
      inputs: names.map((name) => ({ name, shape: ['batch', width] })),
      outputs: [{ name: 'quantiles', shape: ['batch', 3] }],
      initializers: inits,
      nodes,
      metadata: { source: 'tfjs-multi-timeframe', quantiles: QUANTILES.join(',') },
    };
    return encodeModel(graph);
  }
}

/** Confidence from the predicted spread: 1 when the 10–90% interval is empty, → 0 as it widens (target units). */
export function confidenceFromQuantiles(q: Float32Array): Float32Array {
  const n = q.length / 3;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.max(0, q[i * 3 + 2]! - q[i * 3]!));
  return out;
}
