import type { GraphBuilder } from '../onnx/graph';
import type { TransformerSpec } from '../spec';
import { addEncoderBlock, encoderBlock, encoderBlockOnnx, meanPoolOnnx } from './attention';
import { tf } from './backend';
import { initializers, QuantileNet, type Normalizer } from './quantile-net';

/**
 * A small Transformer encoder over a window of feature rows: each row is projected to a d-wide token, a learned
 * position embedding is added (the window is short and fixed), `layers` encoder blocks follow, and the tokens are
 * mean-pooled into the quantile head. No causal mask is needed: every row of the window is already in the past.
 */
export class TransformerNet extends QuantileNet {
  declare readonly spec: TransformerSpec;

  constructor(spec: TransformerSpec, features: number, norm: Normalizer) {
    super(spec, features, norm);
    const { glorot, zeros, ones } = initializers(spec.seed ?? 1);
    const d = spec.dModel;
    this.w.in_w = glorot([features, d]);
    this.w.in_b = zeros([d]);
    this.w.pos = tf.variable(tf.randomNormal([spec.window, d], 0, 0.02, 'float32', (spec.seed ?? 1) + 17));
    for (let l = 0; l < spec.layers; l++) addEncoderBlock(this.w, `l${l}_`, d, glorot, zeros, ones);
    this.addHead(d, glorot, zeros);
  }

  protected encode(x: tf.Tensor3D): tf.Tensor2D {
    const [B, T, F] = x.shape;
    const d = this.spec.dModel;
    let h = x
      .reshape([B * T, F])
      .matMul(this.w.in_w!)
      .add(this.w.in_b!)
      .reshape([B, T, d])
      .add(this.w.pos!) as tf.Tensor3D;
    for (let l = 0; l < this.spec.layers; l++) h = encoderBlock(this.w, `l${l}_`, h, this.spec.heads);
    return h.mean(1);
  }

  protected encodeOnnx(g: GraphBuilder, x: string): string {
    const init = (n: string) => this.initOnnx(g, n);
    let h = g.op('Add', [g.op('Add', [g.op('MatMul', [x, init('in_w')]), init('in_b')]), init('pos')]);
    for (let l = 0; l < this.spec.layers; l++)
      h = encoderBlockOnnx(g, init, `l${l}_`, h, this.spec.window, this.spec.dModel, this.spec.heads);
    return meanPoolOnnx(g, h);
  }
}
