import { ValidationError } from '../../model/errors';
import { TIMEFRAMES } from '../../model/timeframe';
import type { GraphBuilder } from '../onnx/graph';
import type { MtfAttentionSpec } from '../spec';
import { addEncoderBlock, encoderBlock, encoderBlockOnnx, meanPoolOnnx } from './attention';
import { tf } from './backend';
import { initializers, QuantileNet, type NetState, type Normalizer } from './quantile-net';

/**
 * The multi-timeframe attention network. The feature row is split by timeframe (a feature set names its columns
 * `<tf>:<kind>`; each higher-timeframe value comes from that timeframe's last completed bar, so there is no
 * look-ahead); one dense encoder per timeframe turns that timeframe's columns over the last `window` rows into a
 * token; multi-head self-attention runs across the timeframe tokens with residual connections and layer norm,
 * then a residual feed-forward block, mean pooling, and the three ordered quantile outputs.
 */
export class MultiTimeframeNet extends QuantileNet {
  declare readonly spec: MtfAttentionSpec;

  constructor(
    spec: MtfAttentionSpec,
    features: number,
    norm: Normalizer,
    readonly groups: number[][],
  ) {
    super(spec, features, norm);
    if (groups.length === 0) throw new ValidationError('groups', 'needs at least one timeframe group');
    for (const g of groups)
      for (const c of g)
        if (!(Number.isInteger(c) && c >= 0 && c < features))
          throw new ValidationError('groups', `column ${c} is not one of the ${features} features`);
    const { glorot, zeros, ones } = initializers(spec.seed ?? 1);
    const d = spec.dModel;
    groups.forEach((g, j) => {
      this.w[`enc${j}_w`] = glorot([spec.window * g.length, d]);
      this.w[`enc${j}_b`] = zeros([d]);
    });
    addEncoderBlock(this.w, '', d, glorot, zeros, ones);
    this.addHead(d, glorot, zeros);
  }

  protected override extraState(): Partial<NetState> {
    return { groups: this.groups };
  }

  protected encode(x: tf.Tensor3D): tf.Tensor2D {
    const B = x.shape[0];
    const tokens = tf.stack(
      this.groups.map((cols, j) =>
        tf.relu(
          tf
            .gather(x, cols, 2)
            .reshape([B, this.spec.window * cols.length])
            .matMul(this.w[`enc${j}_w`]!)
            .add(this.w[`enc${j}_b`]!),
        ),
      ),
      1,
    ) as tf.Tensor3D;
    return encoderBlock(this.w, '', tokens, this.spec.heads).mean(1);
  }

  protected encodeOnnx(g: GraphBuilder, x: string): string {
    const init = (n: string) => this.initOnnx(g, n);
    const axis1 = g.i64('axis1', [1]);
    const tokens = this.groups.map((cols, j) => {
      const picked = g.op('Gather', [x, g.i64(`cols${j}`, cols)], [{ name: 'axis', type: 'int', value: 2 }]);
      const flat = g.op('Reshape', [picked, g.i64(`shape_enc${j}`, [0, this.spec.window * cols.length])]);
      const e = g.op('Relu', [g.op('Add', [g.op('MatMul', [flat, init(`enc${j}_w`)]), init(`enc${j}_b`)])]);
      return g.op('Unsqueeze', [e, axis1]);
    });
    const seq =
      tokens.length === 1 ? tokens[0]! : g.op('Concat', tokens, [{ name: 'axis', type: 'int', value: 1 }]);
    return meanPoolOnnx(
      g,
      encoderBlockOnnx(g, init, '', seq, this.groups.length, this.spec.dModel, this.spec.heads),
    );
  }
}

/** Timeframes of the `models.minute-basic` columns (by the lookback each one summarises). */
const MINUTE_BASIC_TIMEFRAME: Readonly<Record<string, string>> = {
  ret_1: '1m',
  range_1: '1m',
  volume_z_30: '1m',
  minute_of_day: '1m',
  ret_5: '5m',
  ret_15: '15m',
  vol_15: '15m',
  dist_sma_15: '15m',
  ret_60: '1h',
  vol_60: '1h',
};

/**
 * Column indices per timeframe token, finest first: `<tf>:<kind>` names (src/features sets) or the minute-basic
 * names; anything else (e.g. an added column) forms one more token, `other`.
 */
export function timeframeGroups(featureNames: readonly string[]): {
  timeframes: string[];
  columns: number[][];
} {
  const by = new Map<string, number[]>();
  featureNames.forEach((name, j) => {
    const prefix = name.includes(':') ? name.slice(0, name.indexOf(':')) : MINUTE_BASIC_TIMEFRAME[name];
    const tf = prefix && (TIMEFRAMES as readonly string[]).includes(prefix) ? prefix : 'other';
    by.set(tf, [...(by.get(tf) ?? []), j]);
  });
  const rank = (t: string) => {
    const i = (TIMEFRAMES as readonly string[]).indexOf(t);
    return i < 0 ? TIMEFRAMES.length : i;
  };
  const timeframes = [...by.keys()].sort((a, b) => rank(a) - rank(b));
  return { timeframes, columns: timeframes.map((t) => by.get(t)!) };
}
