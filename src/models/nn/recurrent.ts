import type { GraphBuilder } from '../onnx/graph';
import type { RecurrentSpec } from '../spec';
import { tf } from './backend';
import { initializers, QuantileNet, type Normalizer } from './quantile-net';

/**
 * LSTM and GRU over a window of feature rows; the last hidden state feeds the quantile head. Written with tfjs
 * ops (not tf.layers) so the weights are laid out in ONNX's gate order and the ONNX LSTM / GRU ops compute the
 * same function: LSTM gates (i, o, f, c), GRU gates (z, r, h) with the reset gate applied before the recurrent
 * matmul (`linear_before_reset = 0`), sigmoid / tanh activations, one bias per gate (ONNX's recurrent bias is 0).
 */
export class RecurrentNet extends QuantileNet {
  declare readonly spec: RecurrentSpec;

  constructor(spec: RecurrentSpec, features: number, norm: Normalizer) {
    super(spec, features, norm);
    const { glorot, zeros, orthogonal } = initializers(spec.seed ?? 1);
    const H = spec.units;
    const gates = spec.kind === 'lstm' ? 4 : 3;
    this.w.W = glorot([features, gates * H]);
    if (spec.kind === 'lstm') {
      this.w.R = orthogonal([H, 4 * H]);
      // Forget-gate bias 1 (gate order i, o, f, c): the usual start that keeps early gradients alive.
      this.w.b = tf.variable(tf.concat([tf.zeros([2 * H]), tf.ones([H]), tf.zeros([H])]));
    } else {
      this.w.R_zr = orthogonal([H, 2 * H]);
      this.w.R_h = orthogonal([H, H]);
      this.w.b = zeros([3 * H]);
    }
    this.addHead(H, glorot, zeros);
  }

  protected encode(x: tf.Tensor3D): tf.Tensor2D {
    const [B, T, F] = x.shape;
    const H = this.spec.units;
    const gates = this.spec.kind === 'lstm' ? 4 : 3;
    const xw = x
      .reshape([B * T, F])
      .matMul(this.w.W!)
      .add(this.w.b!)
      .reshape([B, T, gates * H]);
    let h: tf.Tensor2D = tf.zeros([B, H]);
    let c: tf.Tensor2D = tf.zeros([B, H]);
    for (let t = 0; t < T; t++) {
      const xt = xw.slice([0, t, 0], [B, 1, gates * H]).reshape([B, gates * H]);
      if (this.spec.kind === 'lstm') {
        const [i, o, f, g] = tf.split(xt.add(h.matMul(this.w.R!)), 4, 1);
        c = tf
          .sigmoid(f!)
          .mul(c)
          .add(tf.sigmoid(i!).mul(tf.tanh(g!)));
        h = tf.sigmoid(o!).mul(tf.tanh(c));
      } else {
        const [xz, xr, xh] = tf.split(xt, 3, 1);
        const [hz, hr] = tf.split(h.matMul(this.w.R_zr!), 2, 1);
        const z = tf.sigmoid(xz!.add(hz!));
        const r = tf.sigmoid(xr!.add(hr!));
        const cand = tf.tanh(xh!.add(r.mul(h).matMul(this.w.R_h!)));
        h = tf.sub(1, z).mul(cand).add(z.mul(h));
      }
    }
    return h;
  }

  protected encodeOnnx(g: GraphBuilder, x: string): string {
    const H = this.spec.units;
    const F = this.features;
    const lstm = this.spec.kind === 'lstm';
    const gates = lstm ? 4 : 3;
    const transpose = (src: Float32Array, rows: number, cols: number) => {
      const out = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!;
      return out;
    };
    const W = g.f32('W', transpose(this.weight('W').data, F, gates * H), [1, gates * H, F]);
    let Rdata: Float32Array;
    if (lstm) Rdata = transpose(this.weight('R').data, H, 4 * H);
    else {
      Rdata = new Float32Array(3 * H * H);
      Rdata.set(transpose(this.weight('R_zr').data, H, 2 * H), 0);
      Rdata.set(transpose(this.weight('R_h').data, H, H), 2 * H * H);
    }
    const R = g.f32('R', Rdata, [1, gates * H, H]);
    const bias = new Float32Array(2 * gates * H);
    bias.set(this.weight('b').data, 0);
    const Bname = g.f32('B', bias, [1, 2 * gates * H]);
    const timeMajor = g.op('Transpose', [x], [{ name: 'perm', type: 'ints', value: [1, 0, 2] }]);
    const [, yh] = g.opN(lstm ? 'LSTM' : 'GRU', [timeMajor, W, R, Bname], 2, [
      { name: 'hidden_size', type: 'int', value: H },
      ...(lstm ? [] : [{ name: 'linear_before_reset', type: 'int' as const, value: 0 }]),
    ]);
    return g.op('Reshape', [yh!, g.i64('shape_bh', [-1, H])]);
  }
}
