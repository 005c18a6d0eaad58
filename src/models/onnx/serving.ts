import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ValidationError } from '../../model/errors';

/**
 * Which ONNX Runtime execution provider serves: `cuda` where its libraries load (onnxruntime-node's CUDA EP is a
 * separate download, installed on GPU images), else `cpu`. `ONNX_EXECUTION_PROVIDER` = auto (default) | cuda |
 * cpu; with auto or cuda the CUDA provider is tried once per process and the outcome (and why it failed) kept.
 */
export type ExecutionProviderChoice = 'auto' | 'cuda' | 'cpu';
export interface ExecutionProviderInUse {
  name: 'cuda' | 'cpu';
  /** Why CUDA is not in use when it was asked for (auto / cuda). */
  fallbackReason?: string;
}

let cudaProbe: Promise<string | undefined> | undefined;

/** The CUDA provider library of the installed onnxruntime-node, or why there is none. */
function cudaProviderLibrary(): { path: string } | { missing: string } {
  const bin = join(dirname(require.resolve('onnxruntime-node')), '..', 'bin');
  const platform = `${process.platform}/${process.arch}`;
  for (const napi of existsSync(bin) ? readdirSync(bin) : []) {
    const p = join(bin, napi, platform, 'libonnxruntime_providers_cuda.so');
    if (existsSync(p)) return { path: p };
  }
  return {
    missing: `onnxruntime-node has no CUDA provider library for ${platform} (install it with --onnxruntime-node-install=cuda12 on a CUDA host)`,
  };
}

/** undefined when CUDA sessions can be created here, else the reason they cannot. */
function probeCuda(model: Uint8Array): Promise<string | undefined> {
  const lib = cudaProviderLibrary();
  if ('missing' in lib) return Promise.resolve(lib.missing);
  cudaProbe ??= ort.InferenceSession.create(model, {
    executionProviders: ['cuda'],
    // The failed load is expected on CPU hosts: keep ONNX Runtime's own error log quiet (fatal only).
    logSeverityLevel: 4,
  }).then(
    async (s) => {
      await s.release();
      return undefined;
    },
    (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0],
  );
  return cudaProbe;
}

export function executionProviderChoice(
  value = process.env.ONNX_EXECUTION_PROVIDER,
): ExecutionProviderChoice {
  const v = (value ?? 'auto').toLowerCase();
  if (v !== 'auto' && v !== 'cuda' && v !== 'cpu')
    throw new ValidationError('ONNX_EXECUTION_PROVIDER', `must be auto, cuda or cpu, got "${value}"`);
  return v;
}

/** An ONNX Runtime session serving one model with a [batch, ...rowShape] float32 input. */
export class OnnxScorer {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly numFeatures: number,
    private readonly rowShape: number[],
    private readonly inputName: string,
    private readonly outputName: string,
    readonly executionProvider: ExecutionProviderInUse,
  ) {}

  /** `rowShape` is one row's shape: a feature count, or e.g. [timesteps, features] for sequence models. */
  static async create(
    model: Uint8Array | string,
    rowShape: number | number[],
    opts: { threads?: number; executionProvider?: ExecutionProviderChoice } = {},
  ): Promise<OnnxScorer> {
    const shape = typeof rowShape === 'number' ? [rowShape] : rowShape;
    const choice = opts.executionProvider ?? executionProviderChoice();
    const bytes = model as Uint8Array;
    const reason = choice === 'cpu' ? 'cpu requested' : await probeCuda(bytes);
    const ep: ExecutionProviderInUse =
      reason === undefined
        ? { name: 'cuda' }
        : choice === 'cpu'
          ? { name: 'cpu' }
          : { name: 'cpu', fallbackReason: reason };
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ep.name === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
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
      ep,
    );
  }

  /** Scores `rows` rows of row-major features; returns the output row-major (one float per row, or e.g. 3 quantiles). */
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
