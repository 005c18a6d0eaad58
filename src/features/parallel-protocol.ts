/** Messages between the feature worker pool and its worker threads (plain data + transferable buffers). */
import type { FeatureSetDefinition } from './definition';

export interface MinuteColumns {
  readonly ts: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

export interface FeatureJob {
  readonly id: number;
  readonly symbol: string;
  readonly minutes: MinuteColumns;
  readonly set: FeatureSetDefinition;
  /** The version the caller expects; the worker refuses to compute a different definition. */
  readonly version: string;
  readonly withLabels: boolean;
  /** false: return only sizes and a checksum (benchmarks, store-only runs). */
  readonly returnValues: boolean;
}

export interface FeatureJobResult {
  readonly id: number;
  readonly symbol: string;
  readonly rows: number;
  readonly cols: number;
  /** Time spent building (aggregation + features + labels) inside the worker. */
  readonly computeMs: number;
  /** Sum of the finite values: lets a caller check two runs agree without shipping the matrix. */
  readonly checksum: number;
  readonly ts?: Float64Array;
  readonly availableAt?: Float64Array;
  readonly values?: Float32Array;
  readonly labelNames?: readonly string[];
  readonly labels?: Float32Array;
  readonly error?: string;
}
