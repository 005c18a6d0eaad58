import * as ort from 'onnxruntime-node';
import { ValidationError } from '../../model/errors';

/** An ONNX Runtime session serving one model with a [batch, features] float32 input. */
export class OnnxScorer {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly numFeatures: number,
    private readonly rowShape: number[],
    private readonly inputName: string,
    private readonly outputName: string,
  ) {}

  /** `rowShape` is one row's shape: a feature count, or e.g. [timesteps, features] for sequence models. */
  static async create(
    model: Uint8Array | string,
    rowShape: number | number[],
    opts: { threads?: number } = {},
  ): Promise<OnnxScorer> {
    const shape = typeof rowShape === 'number' ? [rowShape] : rowShape;
    const session = await ort.InferenceSession.create(model as Uint8Array, {
      executionProviders: ['cpu'],
      intraOpNumThreads: opts.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new OnnxScorer(
      session,
      shape.reduce((a, b) => a * b, 1),
      shape,
      session.inputNames[0]!,
      session.outputNames[0]!,
    );
  }

  /** Scores `rows` rows of row-major features; returns one float per row. */
  async score(features: Float32Array, rows: number): Promise<Float32Array> {
    if (features.length !== rows * this.numFeatures) {
      throw new ValidationError(
        'features',
        `length ${features.length} is not rows × features = ${rows * this.numFeatures}`,
      );
    }
    const input = new ort.Tensor('float32', features, [rows, ...this.rowShape]);
    const out = await this.session.run({ [this.inputName]: input });
    const t = out[this.outputName]!;
    return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length)
    throw new ValidationError('predictions', `lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
