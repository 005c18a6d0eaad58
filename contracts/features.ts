/**
 * What crosses the feature activities' boundary: plain JSON (epoch-ms numbers, arrays, null for a
 * missing feature value since JSON has no NaN).
 */
import { z } from 'zod';

export const ComputeFeaturesInputSchema = z.object({
  symbols: z.array(z.string().min(1)).min(1),
  /** A built-in feature set name (see src/features/sets.ts), e.g. 'core'. */
  featureSet: z.string().min(1),
  fromMs: z.number().int(),
  toMs: z.number().int(),
  warmUpDays: z.number().int().positive().optional(),
  publishOnline: z.boolean().optional(),
});
export type ComputeFeaturesInput = z.infer<typeof ComputeFeaturesInputSchema>;

export interface ComputeFeaturesResult {
  readonly featureSet: string;
  readonly version: string;
  readonly written: number;
  readonly symbols: ReadonlyArray<{
    readonly symbol: string;
    readonly bars: number;
    readonly rows: number;
    readonly written: number;
  }>;
}

export const LatestFeaturesInputSchema = z.object({
  symbols: z.array(z.string().min(1)).min(1),
  featureSet: z.string().min(1),
  asOfMs: z.number().int(),
});
export type LatestFeaturesInput = z.infer<typeof LatestFeaturesInputSchema>;

export interface LatestFeatureVectorDto {
  readonly symbol: string;
  /** Base bar start of the vector (epoch ms). */
  readonly ts: number;
  readonly version: string;
  /** In the feature set's column order; null where the feature has no value yet. */
  readonly values: ReadonlyArray<number | null>;
}

export interface LatestFeaturesResult {
  readonly featureSet: string;
  readonly version: string;
  readonly names: readonly string[];
  readonly vectors: readonly LatestFeatureVectorDto[];
  /** Symbols without stored bars before asOfMs. */
  readonly missing: readonly string[];
}

export interface FeatureActivities {
  computeFeatures(input: ComputeFeaturesInput): Promise<ComputeFeaturesResult>;
  latestFeatures(input: LatestFeaturesInput): Promise<LatestFeaturesResult>;
}
