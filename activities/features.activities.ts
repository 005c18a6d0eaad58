/**
 * Feature activities (io queue). Thin: validate input, call src/features, map errors onto Temporal
 * failures. computeFeatures heartbeats after each symbol so a long run shows progress and a lost worker
 * is noticed; rerunning it is idempotent (offline rows are upserts).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import {
  ComputeFeaturesInputSchema,
  LatestFeaturesInputSchema,
  type ComputeFeaturesInput,
  type ComputeFeaturesResult,
  type FeatureActivities,
  type LatestFeaturesInput,
  type LatestFeaturesResult,
} from '../contracts/features';
import { featureSetByName } from '../src/features/sets';
import { computeAndStoreFeatures, latestFeatureVector } from '../src/features/store-service';
import { TradingError } from '../src/model/errors';
import type { KeyValueCache } from '../src/storage/cache';

export interface FeatureActivityDeps {
  readonly pool: Pool;
  /** From createCache(): Redis when reachable, else in-process. */
  readonly cache: KeyValueCache;
  /** Worker threads for computeFeatures (default: all cores). */
  readonly threads?: number;
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    /* not in an activity (CLI, direct calls in tests) */
  }
}

function parse<T>(
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
  },
  input: unknown,
  what: string,
): T {
  const r = schema.safeParse(input);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.map(String).join('.') || what}: ${i.message}`).join('; ');
    throw ApplicationFailure.nonRetryable(`${what}: ${msg}`, 'ValidationError');
  }
  return r.data;
}

function mapError(err: unknown): never {
  if (err instanceof TradingError && !err.retryable)
    throw ApplicationFailure.nonRetryable(err.message, err.name);
  if (err instanceof RangeError) throw ApplicationFailure.nonRetryable(err.message, 'RangeError');
  throw err;
}

export function createFeatureActivities(deps: FeatureActivityDeps): FeatureActivities {
  return {
    async computeFeatures(raw: ComputeFeaturesInput): Promise<ComputeFeaturesResult> {
      const input = parse(ComputeFeaturesInputSchema, raw, 'computeFeatures');
      try {
        const set = featureSetByName(input.featureSet);
        heartbeat({ done: 0, total: input.symbols.length });
        return await computeAndStoreFeatures(
          { pool: deps.pool, cache: deps.cache, threads: deps.threads },
          {
            symbols: input.symbols,
            set,
            fromMs: input.fromMs,
            toMs: input.toMs,
            warmUpDays: input.warmUpDays,
            publishOnline: input.publishOnline,
            onSymbolDone: (r, done, total) => heartbeat({ done, total, last: r.symbol }),
          },
        );
      } catch (err) {
        return mapError(err);
      }
    },

    async latestFeatures(raw: LatestFeaturesInput): Promise<LatestFeaturesResult> {
      const input = parse(LatestFeaturesInputSchema, raw, 'latestFeatures');
      try {
        const set = featureSetByName(input.featureSet);
        const vectors: LatestFeaturesResult['vectors'][number][] = [];
        const missing: string[] = [];
        for (const symbol of input.symbols) {
          const v = await latestFeatureVector(
            { pool: deps.pool, cache: deps.cache },
            symbol,
            set,
            input.asOfMs,
          );
          if (!v) {
            missing.push(symbol);
            continue;
          }
          vectors.push({
            symbol,
            ts: v.ts,
            version: v.version,
            values: Array.from(v.values, (x) => (Number.isNaN(x) ? null : x)),
          });
        }
        return { featureSet: set.name, version: set.version, names: set.names, vectors, missing };
      } catch (err) {
        return mapError(err);
      }
    },
  };
}
