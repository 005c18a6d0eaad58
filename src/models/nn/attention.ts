import type { GraphBuilder } from '../onnx/graph';
import { tf } from './backend';

/**
 * One post-norm Transformer encoder block over a sequence of tokens [batch, tokens, d]: multi-head self-attention
 * with a residual connection and layer norm, then a ReLU feed-forward (2d wide) with a residual connection and
 * layer norm. Shared by the Transformer encoder (tokens = feature rows of the window) and the multi-timeframe
 * attention net (tokens = timeframes), in tfjs and as ONNX nodes.
 */
type Vars = Record<string, tf.Variable>;
type Init = (shape: number[]) => tf.Variable;

export function addEncoderBlock(
  w: Vars,
  prefix: string,
  d: number,
  glorot: Init,
  zeros: Init,
  ones: Init,
): void {
  for (const p of ['q', 'k', 'v', 'o']) {
    w[`${prefix}att_${p}`] = glorot([d, d]);
    w[`${prefix}att_${p}b`] = zeros([d]);
  }
  w[`${prefix}ln1_g`] = ones([d]);
  w[`${prefix}ln1_b`] = zeros([d]);
  w[`${prefix}ff1_w`] = glorot([d, 2 * d]);
  w[`${prefix}ff1_b`] = zeros([2 * d]);
  w[`${prefix}ff2_w`] = glorot([2 * d, d]);
  w[`${prefix}ff2_b`] = zeros([d]);
  w[`${prefix}ln2_g`] = ones([d]);
  w[`${prefix}ln2_b`] = zeros([d]);
}

export const LAYER_NORM_EPSILON = 1e-5;

function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const mean = x.mean(-1, true);
  const centred = x.sub(mean);
  const v = centred.square().mean(-1, true);
  return centred.div(v.add(LAYER_NORM_EPSILON).sqrt()).mul(g).add(b);
}

export function encoderBlock(w: Vars, prefix: string, x: tf.Tensor3D, heads: number): tf.Tensor3D {
  const [B, T, d] = x.shape;
  const dk = d / heads;
  const v = (name: string) => w[`${prefix}${name}`]!;
  const flat = x.reshape([B * T, d]);
  const proj = (p: string) =>
    flat
      .matMul(v(`att_${p}`))
      .add(v(`att_${p}b`))
      .reshape([B, T, heads, dk]);
  const q = proj('q')
    .transpose([0, 2, 1, 3])
    .reshape([B * heads, T, dk]);
  const kT = proj('k')
    .transpose([0, 2, 3, 1])
    .reshape([B * heads, dk, T]);
  const val = proj('v')
    .transpose([0, 2, 1, 3])
    .reshape([B * heads, T, dk]);
  const att = tf.softmax(tf.matMul(q, kT).mul(1 / Math.sqrt(dk)), -1);
  const ctx = tf
    .matMul(att, val)
    .reshape([B, heads, T, dk])
    .transpose([0, 2, 1, 3])
    .reshape([B * T, d]);
  const attOut = ctx.matMul(v('att_o')).add(v('att_ob')).reshape([B, T, d]);
  const z1 = layerNorm(x.add(attOut), v('ln1_g'), v('ln1_b'));
  const ff = tf
    .relu(
      z1
        .reshape([B * T, d])
        .matMul(v('ff1_w'))
        .add(v('ff1_b')),
    )
    .matMul(v('ff2_w'))
    .add(v('ff2_b'))
    .reshape([B, T, d]);
  return layerNorm(z1.add(ff), v('ln2_g'), v('ln2_b')) as tf.Tensor3D;
}

/** The block as ONNX nodes (opset 17); `x` is [batch, tokens, d]; `init(name)` exports a weight by name. */
export function encoderBlockOnnx(
  g: GraphBuilder,
  init: (name: string) => string,
  prefix: string,
  x: string,
  tokens: number,
  d: number,
  heads: number,
): string {
  const dk = d / heads;
  const wname = (n: string) => init(`${prefix}${n}`);
  const shape4 = g.i64(`${prefix}shape_bthd`, [0, tokens, heads, dk]);
  const shape3 = g.i64(`${prefix}shape_btd`, [0, tokens, d]);
  const invSqrt = g.f32(`${prefix}inv_sqrt_dk`, [1 / Math.sqrt(dk)], []);
  const lin = (input: string, p: string) =>
    g.op('Add', [g.op('MatMul', [input, wname(`att_${p}`)]), wname(`att_${p}b`)]);
  const perm = (p: number[]) => [{ name: 'perm', type: 'ints' as const, value: p }];
  const q = g.op('Transpose', [g.op('Reshape', [lin(x, 'q'), shape4])], perm([0, 2, 1, 3]));
  const kT = g.op('Transpose', [g.op('Reshape', [lin(x, 'k'), shape4])], perm([0, 2, 3, 1]));
  const v = g.op('Transpose', [g.op('Reshape', [lin(x, 'v'), shape4])], perm([0, 2, 1, 3]));
  const att = g.op(
    'Softmax',
    [g.op('Mul', [g.op('MatMul', [q, kT]), invSqrt])],
    [{ name: 'axis', type: 'int', value: -1 }],
  );
  const ctx = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [att, v])], perm([0, 2, 1, 3])), shape3]);
  const attOut = g.op('Add', [g.op('MatMul', [ctx, wname('att_o')]), wname('att_ob')]);
  const ln = (input: string, k: number) =>
    g.op(
      'LayerNormalization',
      [input, wname(`ln${k}_g`), wname(`ln${k}_b`)],
      [
        { name: 'axis', type: 'int', value: -1 },
        { name: 'epsilon', type: 'float', value: LAYER_NORM_EPSILON },
      ],
    );
  const z1 = ln(g.op('Add', [x, attOut]), 1);
  const ff1 = g.op('Relu', [g.op('Add', [g.op('MatMul', [z1, wname('ff1_w')]), wname('ff1_b')])]);
  const ff = g.op('Add', [g.op('MatMul', [ff1, wname('ff2_w')]), wname('ff2_b')]);
  return ln(g.op('Add', [z1, ff]), 2);
}

/** Mean over the token axis: [batch, tokens, d] → [batch, d]. */
export function meanPoolOnnx(g: GraphBuilder, x: string): string {
  return g.op(
    'ReduceMean',
    [x],
    [
      { name: 'axes', type: 'ints', value: [1] },
      { name: 'keepdims', type: 'int', value: 0 },
    ],
  );
}
