/**
 * The models a worker serves to its trading sessions: for a session's model id, a fresh `OnlineModelPort` (its own
 * feature state) over the registered model, served by ONNX Runtime exactly as a model backtest serves it, with the
 * name's shadow challengers scored beside it. From the session's first tradable decision on, every scored row
 * (traded and shadow) is journaled in the predictions table with its inputs' hash (source = the session id), and
 * each symbol's newest feature vector is written to the online store (Redis) in one round trip per decision. Each
 * journaled score is observed in `trader_model_prediction` and each model's mean confidence of the decision set in
 * `trader_model_confidence_ratio` (the live dashboard's model panel).
 *
 * Loaded models are kept per worker (an ONNX session is costly to create); a champion promoted later is a new id.
 */
import type { Pool } from 'pg';
import { ValidationError } from '../../model/errors';
import { featureSetByName } from '../../features/sets';
import { publishOnlineFeatures } from '../../features/online';
import type { KeyValueCache } from '../../storage/cache';
import { savePredictions } from '../../storage/prediction-repo';
import { observePrediction, setModelConfidence } from '../../monitoring/metrics';
import { ModelRegistry } from '../registry/registry';
import { OnlineModelPort } from './model-port';
import { loadServedModel, type ServedModel } from './served-model';

export interface SessionModelContext {
  readonly sessionId: string;
  /** decisions before this only warm the features up: they are not journaled */
  readonly tradeFrom: number;
}

export type SessionModelPorts = (modelId: string, session: SessionModelContext) => Promise<OnlineModelPort>;

export function sessionModelPorts(deps: {
  readonly pool: Pool;
  readonly artifactDir: string;
  readonly cache?: KeyValueCache;
  readonly log?: (line: string) => void;
}): SessionModelPorts {
  const registry = new ModelRegistry(deps.pool, deps.artifactDir);
  const loaded = new Map<string, Promise<ServedModel>>();
  const served = (id: string) => {
    let m = loaded.get(id);
    if (!m) {
      m = loadServedModel(registry, id);
      m.catch(() => loaded.delete(id));
      loaded.set(id, m);
    }
    return m;
  };
  // the traded model, the shadows of its name, and the feature set this worker computes for them
  const loadWithShadows = async (modelId: string) => {
    const traded = await served(modelId);
    const rec = await registry.get(traded.id);
    const shadows = rec
      ? await Promise.all(
          (await registry.shadows(rec.name)).filter((s) => s.id !== traded.id).map((s) => served(s.id)),
        )
      : [];
    const set = featureSetByName(traded.featureSet.replace(/^features\./, ''));
    for (const m of [traded, ...shadows])
      if (m.featureSetVersion !== set.version || m.featureSet.replace(/^features\./, '') !== set.name)
        throw new ValidationError(
          'modelId',
          `${m.id} reads ${m.featureSet}@${m.featureSetVersion}; this worker computes ${set.name}@${set.version} (retrain it, or run a worker of its version)`,
        );
    return { traded, shadows, set };
  };
  return async (modelId, session) => {
    if (modelId.startsWith('champion:'))
      throw new ValidationError(
        'modelId',
        `"${modelId}" must be pinned to a model id when the session starts (the champion then), not resolved per decision`,
      );
    const { traded, shadows, set } = await loadWithShadows(modelId);
    deps.log?.(
      `[models] session ${session.sessionId}: trading ${traded.id}${shadows.length ? `, shadows ${shadows.map((s) => s.id).join(', ')}` : ''} (${set.name}@${set.version})`,
    );
    return new OnlineModelPort({
      set,
      traded,
      shadows,
      load: async (id) => {
        const next = await loadWithShadows(id);
        if (next.set.name !== set.name)
          throw new ValidationError(
            'modelId',
            `${id} reads ${next.set.name}; session ${session.sessionId} computes ${set.name} (start a new session for it)`,
          );
        deps.log?.(`[models] session ${session.sessionId}: now trading ${next.traded.id}`);
        return next;
      },
      sink: async (rows, engines) => {
        const kept = rows.filter((r) => r.ts >= session.tradeFrom);
        if (!kept.length) return;
        await savePredictions(
          deps.pool,
          kept.map((r) => ({ source: session.sessionId, ...r })),
        );
        const confidence = new Map<string, { sum: number; n: number }>();
        for (const r of kept) {
          observePrediction(r.modelId, r.timeframe, r.score);
          const c = confidence.get(r.modelId) ?? { sum: 0, n: 0 };
          confidence.set(r.modelId, { sum: c.sum + r.confidence, n: c.n + 1 });
        }
        for (const [id, c] of confidence) setModelConfidence(id, c.sum / c.n);
        if (deps.cache) await publishOnlineFeatures(deps.cache, engines);
      },
    });
  };
}
