import { ValidationError } from '../../model/errors';
import {
  check,
  decodeBytes,
  decodeFloats,
  decodeStrings,
  decodeU64,
  XGBoostError,
  xgboostNative,
  type XGBoostNative,
} from './native';

/** A dense float32 matrix in XGBoost's memory. NaN (or `missing`) marks a missing value. Free it when done. */
export class DMatrix {
  private handle: unknown;
  private constructor(
    private readonly native: XGBoostNative,
    handle: unknown,
    readonly nrow: number,
    readonly ncol: number,
  ) {
    this.handle = handle;
  }

  /** Row-major `data` of nrow × ncol; labels and weights are optional (length nrow). */
  static fromFloat32(
    data: Float32Array,
    nrow: number,
    ncol: number,
    opts: { missing?: number; label?: ArrayLike<number>; weight?: ArrayLike<number> } = {},
  ): DMatrix {
    if (!Number.isInteger(nrow) || nrow <= 0)
      throw new ValidationError('nrow', `must be a positive integer, got ${nrow}`);
    if (!Number.isInteger(ncol) || ncol <= 0)
      throw new ValidationError('ncol', `must be a positive integer, got ${ncol}`);
    if (data.length !== nrow * ncol)
      throw new ValidationError('data', `length ${data.length} is not nrow × ncol = ${nrow * ncol}`);
    const native = xgboostNative();
    const out: unknown[] = [null];
    check(
      native,
      native.XGDMatrixCreateFromMat(data, nrow, ncol, opts.missing ?? NaN, out),
      'XGDMatrixCreateFromMat',
    );
    const m = new DMatrix(native, out[0], nrow, ncol);
    try {
      if (opts.label) m.setFloatInfo('label', opts.label);
      if (opts.weight) m.setFloatInfo('weight', opts.weight);
    } catch (err) {
      m.free();
      throw err;
    }
    return m;
  }

  setFloatInfo(field: 'label' | 'weight' | 'base_margin', values: ArrayLike<number>): void {
    if (values.length !== this.nrow)
      throw new ValidationError(field, `length ${values.length} does not match ${this.nrow} rows`);
    const arr = values instanceof Float32Array ? values : Float32Array.from(values);
    check(
      this.native,
      this.native.XGDMatrixSetFloatInfo(this.ptr, field, arr, arr.length),
      `XGDMatrixSetFloatInfo(${field})`,
    );
  }

  get ptr(): unknown {
    if (this.handle === null) throw new XGBoostError('DMatrix: used after free()');
    return this.handle;
  }

  get freed(): boolean {
    return this.handle === null;
  }

  free(): void {
    if (this.handle === null) return;
    check(this.native, this.native.XGDMatrixFree(this.handle), 'XGDMatrixFree');
    this.handle = null;
  }
}

export type XGBParams = Record<string, string | number | boolean>;
export type PredictType = 'value' | 'margin';
export type ImportanceType = 'gain' | 'weight' | 'cover' | 'total_gain' | 'total_cover';

/** One booster (a tree ensemble). Free it when done; every native call checks the return code. */
export class Booster {
  private handle: unknown;
  private constructor(
    private readonly native: XGBoostNative,
    handle: unknown,
  ) {
    this.handle = handle;
  }

  /** `cache` lists the DMatrix objects the booster will train/evaluate on (XGBoost caches predictions for them). */
  static create(params: XGBParams = {}, cache: DMatrix[] = []): Booster {
    const native = xgboostNative();
    const out: unknown[] = [null];
    check(
      native,
      native.XGBoosterCreate(
        cache.map((d) => d.ptr),
        cache.length,
        out,
      ),
      'XGBoosterCreate',
    );
    const b = new Booster(native, out[0]);
    try {
      b.setParams(params);
    } catch (err) {
      b.free();
      throw err;
    }
    return b;
  }

  /** A booster restored from a saved model (JSON or UBJSON bytes). */
  static fromBuffer(buf: Buffer, params: XGBParams = {}): Booster {
    const b = Booster.create(params);
    try {
      b.loadBuffer(buf);
    } catch (err) {
      b.free();
      throw err;
    }
    return b;
  }

  loadBuffer(buf: Buffer): void {
    check(
      this.native,
      this.native.XGBoosterLoadModelFromBuffer(this.ptr, buf, buf.length),
      'XGBoosterLoadModelFromBuffer',
    );
  }

  static load(path: string, params: XGBParams = {}): Booster {
    const b = Booster.create(params);
    try {
      check(b.native, b.native.XGBoosterLoadModel(b.ptr, path), `XGBoosterLoadModel(${path})`);
    } catch (err) {
      b.free();
      throw err;
    }
    return b;
  }

  setParams(params: XGBParams): void {
    for (const [k, v] of Object.entries(params)) {
      check(
        this.native,
        this.native.XGBoosterSetParam(this.ptr, k, String(v)),
        `XGBoosterSetParam(${k}=${String(v)})`,
      );
    }
  }

  /** One round with the built-in objective. */
  updateOneIter(iter: number, dtrain: DMatrix): void {
    check(
      this.native,
      this.native.XGBoosterUpdateOneIter(this.ptr, iter, dtrain.ptr),
      'XGBoosterUpdateOneIter',
    );
  }

  /** One round from gradient and Hessian computed by the caller (custom objective). */
  boostOneIter(dtrain: DMatrix, grad: Float32Array, hess: Float32Array): void {
    if (grad.length !== dtrain.nrow || hess.length !== dtrain.nrow) {
      throw new ValidationError(
        'grad/hess',
        `lengths ${grad.length}/${hess.length} must equal ${dtrain.nrow} rows`,
      );
    }
    check(
      this.native,
      this.native.XGBoosterBoostOneIter(this.ptr, dtrain.ptr, grad, hess, grad.length),
      'XGBoosterBoostOneIter',
    );
  }

  /** Built-in metrics on named sets, e.g. { 'valid-rmse': 0.12 }. */
  evalOneIter(iter: number, sets: Array<{ name: string; data: DMatrix }>): Record<string, number> {
    const out: unknown[] = [null];
    check(
      this.native,
      this.native.XGBoosterEvalOneIter(
        this.ptr,
        iter,
        sets.map((s) => s.data.ptr),
        sets.map((s) => s.name),
        sets.length,
        out,
      ),
      'XGBoosterEvalOneIter',
    );
    return parseEvalString(String(out[0]));
  }

  /**
   * Predictions: `value` applies the objective's link (probabilities for logistic), `margin` is the raw score.
   * `iterationRange` [begin, end) restricts the trees used (end 0 = all).
   */
  predict(
    data: DMatrix,
    opts: { type?: PredictType; iterationRange?: [number, number]; training?: boolean } = {},
  ): Float32Array {
    const [begin, end] = opts.iterationRange ?? [0, 0];
    const config = JSON.stringify({
      type: opts.type === 'margin' ? 1 : 0,
      training: opts.training ?? false,
      iteration_begin: begin,
      iteration_end: end,
      strict_shape: false,
    });
    const shape: unknown[] = [null];
    const dim = [0];
    const result: unknown[] = [null];
    check(
      this.native,
      this.native.XGBoosterPredictFromDMatrix(this.ptr, data.ptr, config, shape, dim, result),
      'XGBoosterPredictFromDMatrix',
    );
    const dims = decodeU64(shape[0], dim[0]!);
    const len = dims.reduce((a, b) => a * b, 1);
    return decodeFloats(result[0], len);
  }

  get boostedRounds(): number {
    const out = [0];
    check(this.native, this.native.XGBoosterBoostedRounds(this.ptr, out), 'XGBoosterBoostedRounds');
    return out[0]!;
  }

  get numFeatures(): number {
    const out = [0];
    check(this.native, this.native.XGBoosterGetNumFeature(this.ptr, out), 'XGBoosterGetNumFeature');
    return Number(out[0]);
  }

  /** A new booster with layers [begin, end) — e.g. the best iteration after early stopping. */
  slice(begin: number, end: number): Booster {
    const out: unknown[] = [null];
    check(this.native, this.native.XGBoosterSlice(this.ptr, begin, end, 1, out), 'XGBoosterSlice');
    return new Booster(this.native, out[0]);
  }

  setAttr(key: string, value: string): void {
    check(this.native, this.native.XGBoosterSetAttr(this.ptr, key, value), `XGBoosterSetAttr(${key})`);
  }

  getAttr(key: string): string | undefined {
    const out: unknown[] = [null];
    const ok = [0];
    check(this.native, this.native.XGBoosterGetAttr(this.ptr, key, out, ok), `XGBoosterGetAttr(${key})`);
    return ok[0] ? String(out[0]) : undefined;
  }

  /** The model as JSON (readable, used for ONNX export) or UBJ (compact). */
  toBuffer(format: 'json' | 'ubj' = 'json'): Buffer {
    const len = [0];
    const out: unknown[] = [null];
    check(
      this.native,
      this.native.XGBoosterSaveModelToBuffer(this.ptr, JSON.stringify({ format }), len, out),
      'XGBoosterSaveModelToBuffer',
    );
    return decodeBytes(out[0], Number(len[0]));
  }

  save(path: string): void {
    check(this.native, this.native.XGBoosterSaveModel(this.ptr, path), `XGBoosterSaveModel(${path})`);
  }

  /** Per-feature importance; features never used in a split are reported as 0. */
  featureImportance(type: ImportanceType, featureNames?: readonly string[]): Record<string, number> {
    const nOut = [0];
    const features: unknown[] = [null];
    const dim = [0];
    const shape: unknown[] = [null];
    const scores: unknown[] = [null];
    check(
      this.native,
      this.native.XGBoosterFeatureScore(
        this.ptr,
        JSON.stringify({ importance_type: type }),
        nOut,
        features,
        dim,
        shape,
        scores,
      ),
      `XGBoosterFeatureScore(${type})`,
    );
    const n = Number(nOut[0]);
    const names = n ? decodeStrings(features[0], n) : [];
    const vals = n ? decodeFloats(scores[0], n) : new Float32Array(0);
    const res: Record<string, number> = {};
    if (featureNames) for (const f of featureNames) res[f] = 0;
    names.forEach((raw, i) => {
      // Without feature names XGBoost reports "f<index>"; map back to the caller's names.
      const idx = /^f(\d+)$/.exec(raw);
      const name = idx && featureNames ? (featureNames[Number(idx[1])] ?? raw) : raw;
      res[name] = vals[i]!;
    });
    return res;
  }

  get ptr(): unknown {
    if (this.handle === null) throw new XGBoostError('Booster: used after free()');
    return this.handle;
  }

  get freed(): boolean {
    return this.handle === null;
  }

  free(): void {
    if (this.handle === null) return;
    check(this.native, this.native.XGBoosterFree(this.handle), 'XGBoosterFree');
    this.handle = null;
  }
}

/** "[3]\ttrain-rmse:0.1\tvalid-rmse:0.2" → { 'train-rmse': 0.1, 'valid-rmse': 0.2 } */
export function parseEvalString(s: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of s.split('\t').slice(1)) {
    const i = part.lastIndexOf(':');
    if (i > 0) out[part.slice(0, i)] = Number(part.slice(i + 1));
  }
  return out;
}
