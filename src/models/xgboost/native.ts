// koffi ships ESM types with a CommonJS entry; describe the few calls we use and load the CJS build.
interface KoffiLib {
  func(signature: string): unknown;
}
interface Koffi {
  load(path: string): KoffiLib;
  pointer(name: string, ref: unknown): unknown;
  opaque(): unknown;
  decode(ptr: unknown, type: string, len: number): unknown;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const koffi = require('koffi') as Koffi;
import { ConfigError } from '../../model/errors';

/**
 * The XGBoost C API, loaded once per process through koffi. The library comes from XGBOOST_LIBRARY_PATH
 * (e.g. the CUDA-capable libxgboost.so inside a pip wheel) or else the system library (Debian libxgboost0).
 */
export interface XGBoostNative {
  readonly path: string;
  readonly version: { major: number; minor: number; patch: number };
  readonly lastError: () => string;
  readonly XGDMatrixCreateFromMat: (
    data: Float32Array,
    nrow: number,
    ncol: number,
    missing: number,
    out: unknown[],
  ) => number;
  readonly XGDMatrixFree: (h: unknown) => number;
  readonly XGDMatrixSetFloatInfo: (h: unknown, field: string, data: Float32Array, len: number) => number;
  readonly XGDMatrixNumRow: (h: unknown, out: number[]) => number;
  readonly XGDMatrixNumCol: (h: unknown, out: number[]) => number;
  readonly XGBoosterCreate: (dmats: unknown[], len: number, out: unknown[]) => number;
  readonly XGBoosterFree: (h: unknown) => number;
  readonly XGBoosterSetParam: (h: unknown, name: string, value: string) => number;
  readonly XGBoosterUpdateOneIter: (h: unknown, iter: number, dtrain: unknown) => number;
  readonly XGBoosterBoostOneIter: (
    h: unknown,
    dtrain: unknown,
    grad: Float32Array,
    hess: Float32Array,
    len: number,
  ) => number;
  readonly XGBoosterEvalOneIter: (
    h: unknown,
    iter: number,
    dmats: unknown[],
    names: string[],
    len: number,
    out: unknown[],
  ) => number;
  readonly XGBoosterPredictFromDMatrix: (
    h: unknown,
    d: unknown,
    config: string,
    outShape: unknown[],
    outDim: number[],
    outResult: unknown[],
  ) => number;
  readonly XGBoosterSaveModel: (h: unknown, fname: string) => number;
  readonly XGBoosterLoadModel: (h: unknown, fname: string) => number;
  readonly XGBoosterSaveModelToBuffer: (
    h: unknown,
    config: string,
    outLen: number[],
    outBuf: unknown[],
  ) => number;
  readonly XGBoosterLoadModelFromBuffer: (h: unknown, buf: Buffer, len: number) => number;
  readonly XGBoosterBoostedRounds: (h: unknown, out: number[]) => number;
  readonly XGBoosterGetNumFeature: (h: unknown, out: number[]) => number;
  readonly XGBoosterSlice: (h: unknown, begin: number, end: number, step: number, out: unknown[]) => number;
  readonly XGBoosterSetAttr: (h: unknown, key: string, value: string | null) => number;
  readonly XGBoosterGetAttr: (h: unknown, key: string, out: unknown[], success: number[]) => number;
  readonly XGBoosterFeatureScore: (
    h: unknown,
    config: string,
    outN: number[],
    outFeatures: unknown[],
    outDim: number[],
    outShape: unknown[],
    outScores: unknown[],
  ) => number;
}

const SYSTEM_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/libxgboost.so.0',
  '/usr/lib/x86_64-linux-gnu/libxgboost.so',
  '/usr/lib/aarch64-linux-gnu/libxgboost.so.0',
  '/usr/local/lib/libxgboost.so',
  'libxgboost.so.0',
  'libxgboost.so',
];

let cached: XGBoostNative | undefined;

/** Loads (once) and returns the C API. Throws ConfigError naming XGBOOST_LIBRARY_PATH when nothing loads. */
export function xgboostNative(): XGBoostNative {
  if (cached) return cached;
  const explicit = process.env.XGBOOST_LIBRARY_PATH;
  const candidates = explicit ? [explicit] : SYSTEM_CANDIDATES;
  const errors: string[] = [];
  for (const path of candidates) {
    try {
      cached = bind(koffi.load(path), path);
      return cached;
    } catch (err) {
      errors.push(`${path}: ${(err as Error).message}`);
    }
  }
  throw new ConfigError(
    `XGBOOST_LIBRARY_PATH: could not load libxgboost (${errors.join('; ')}). Install Debian libxgboost0 or point XGBOOST_LIBRARY_PATH at a libxgboost.so`,
  );
}

function bind(lib: KoffiLib, path: string): XGBoostNative {
  // Opaque handles: XGBoost owns the memory; we only pass the pointers back and free them explicitly.
  const DMatrixHandle = koffi.pointer('DMatrixHandle', koffi.opaque());
  const BoosterHandle = koffi.pointer('BoosterHandle', koffi.opaque());
  void DMatrixHandle;
  void BoosterHandle;
  const f = (sig: string) => lib.func(sig) as (...args: unknown[]) => unknown;
  const version = f('void XGBoostVersion(_Out_ int *major, _Out_ int *minor, _Out_ int *patch)');
  const ma = [0],
    mi = [0],
    pa = [0];
  version(ma, mi, pa);
  const getLastError = f('const char *XGBGetLastError()');
  const n = {
    path,
    version: { major: ma[0]!, minor: mi[0]!, patch: pa[0]! },
    lastError: () => String(getLastError()),
    XGDMatrixCreateFromMat: f(
      'int XGDMatrixCreateFromMat(const float *data, uint64_t nrow, uint64_t ncol, float missing, _Out_ DMatrixHandle *out)',
    ),
    XGDMatrixFree: f('int XGDMatrixFree(DMatrixHandle h)'),
    XGDMatrixSetFloatInfo: f(
      'int XGDMatrixSetFloatInfo(DMatrixHandle h, const char *field, const float *data, uint64_t len)',
    ),
    XGDMatrixNumRow: f('int XGDMatrixNumRow(DMatrixHandle h, _Out_ uint64_t *out)'),
    XGDMatrixNumCol: f('int XGDMatrixNumCol(DMatrixHandle h, _Out_ uint64_t *out)'),
    XGBoosterCreate: f('int XGBoosterCreate(DMatrixHandle *dmats, uint64_t len, _Out_ BoosterHandle *out)'),
    XGBoosterFree: f('int XGBoosterFree(BoosterHandle h)'),
    XGBoosterSetParam: f('int XGBoosterSetParam(BoosterHandle h, const char *name, const char *value)'),
    XGBoosterUpdateOneIter: f('int XGBoosterUpdateOneIter(BoosterHandle h, int iter, DMatrixHandle dtrain)'),
    XGBoosterBoostOneIter: f(
      'int XGBoosterBoostOneIter(BoosterHandle h, DMatrixHandle dtrain, float *grad, float *hess, uint64_t len)',
    ),
    XGBoosterEvalOneIter: f(
      'int XGBoosterEvalOneIter(BoosterHandle h, int iter, DMatrixHandle *dmats, const char **names, uint64_t len, _Out_ const char **out)',
    ),
    XGBoosterPredictFromDMatrix: f(
      'int XGBoosterPredictFromDMatrix(BoosterHandle h, DMatrixHandle d, const char *config, _Out_ void **outShape, _Out_ uint64_t *outDim, _Out_ void **outResult)',
    ),
    XGBoosterSaveModel: f('int XGBoosterSaveModel(BoosterHandle h, const char *fname)'),
    XGBoosterLoadModel: f('int XGBoosterLoadModel(BoosterHandle h, const char *fname)'),
    XGBoosterSaveModelToBuffer: f(
      'int XGBoosterSaveModelToBuffer(BoosterHandle h, const char *config, _Out_ uint64_t *outLen, _Out_ void **outBuf)',
    ),
    XGBoosterLoadModelFromBuffer: f(
      'int XGBoosterLoadModelFromBuffer(BoosterHandle h, const void *buf, uint64_t len)',
    ),
    XGBoosterBoostedRounds: f('int XGBoosterBoostedRounds(BoosterHandle h, _Out_ int *out)'),
    XGBoosterGetNumFeature: f('int XGBoosterGetNumFeature(BoosterHandle h, _Out_ uint64_t *out)'),
    XGBoosterSlice: f(
      'int XGBoosterSlice(BoosterHandle h, int begin, int end, int step, _Out_ BoosterHandle *out)',
    ),
    XGBoosterSetAttr: f('int XGBoosterSetAttr(BoosterHandle h, const char *key, const char *value)'),
    XGBoosterGetAttr: f(
      'int XGBoosterGetAttr(BoosterHandle h, const char *key, _Out_ const char **out, _Out_ int *success)',
    ),
    XGBoosterFeatureScore: f(
      'int XGBoosterFeatureScore(BoosterHandle h, const char *config, _Out_ uint64_t *outN, _Out_ void **outFeatures, _Out_ uint64_t *outDim, _Out_ void **outShape, _Out_ void **outScores)',
    ),
  };
  return n as unknown as XGBoostNative;
}

/** Throws the library's own message when a call fails, prefixed with what we were doing. */
export function check(native: XGBoostNative, rc: number, what: string): void {
  if (rc !== 0) throw new XGBoostError(`${what}: ${native.lastError()}`);
}

export class XGBoostError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'XGBoostError';
  }
}

export function decodeFloats(ptr: unknown, n: number): Float32Array {
  // Copy out of XGBoost's thread-local buffer: it is overwritten by the next call.
  return Float32Array.from(koffi.decode(ptr, 'float', n) as ArrayLike<number>);
}

export function decodeU64(ptr: unknown, n: number): number[] {
  return (koffi.decode(ptr, 'uint64_t', n) as ArrayLike<number | bigint>).length === 0
    ? []
    : Array.from(koffi.decode(ptr, 'uint64_t', n) as ArrayLike<number | bigint>, Number);
}

export function decodeStrings(ptr: unknown, n: number): string[] {
  return Array.from(koffi.decode(ptr, 'const char *', n) as ArrayLike<string>);
}

export function decodeBytes(ptr: unknown, n: number): Buffer {
  return Buffer.from(koffi.decode(ptr, 'uint8_t', n) as Uint8Array);
}
