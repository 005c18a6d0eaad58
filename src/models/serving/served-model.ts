/**
 * The one serving entry point: a registered model (any kind), the champion of a name, or an ensemble of registered
 * models, loaded the way it is served live — ONNX Runtime on the exported graph whose parity with the training
 * runtime the registry recorded at registration.
 *
 *   const m = await loadServedModel(registry, 'champion:spy-5m');   // or a model id, or an ensemble id,
 *                                                                    // or { kind: 'ensemble', members, minConsensus }
 *   m.featureNames   // column order of a feature row (the model's feature set + version)
 *   m.window         // rows per input: 1 for row models (XGBoost), T for sequence models
 *   const { score, lower, upper } = await m.score(rows, n);
 *   // rows: Float32Array of n × window × featureNames.length raw feature values (NaN = missing), row-major; for
 *   // sequence models each input is the last `window` feature rows of the bar series, oldest first, the last one
 *   // at the decision time. score[i]: the point prediction (see `scoreUnits`); lower/upper: a central 80% interval
 *   // (10% / 90% quantile heads, the XGBoost fold models' spread, or the ensemble members' spread).
 *   confidences(score, lower, upper)   // → [0.5, 1] for the signal tiers (./confidence.ts)
 *   await m.close();
 *
 * Horizon: `horizonBars` bars of `barMs` (the feature set's base timeframe) after the decision time.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ValidationError } from '../../model/errors';
import { datasetBarMs } from '../dataset';
import { combine, performanceWeights } from '../ensemble/ensemble';
import { ensembleMembers, featureNamesOf } from '../ensemble/registered';
import { OnnxScorer, type ExecutionProviderChoice, type ExecutionProviderInUse } from '../onnx/serving';
import type { ModelRecord, ModelRegistry } from '../registry/registry';
import { EnsembleSpecSchema, type EnsembleSpec, type ModelKind } from '../spec';
import { Z90 } from './confidence';

export interface ScoreResult {
  score: Float32Array;
  lower?: Float32Array;
  upper?: Float32Array;
}

/**
 * - `return-sd`: the forward return in standard deviations of the training rows' returns (score × labelScale is an
 *   expected return); the neural nets and squared-error XGBoost.
 * - `position-margin`: the dollar-profit objective's margin; tanh(score) is the position it was trained to hold.
 * - `signal-z`: an ensemble's weighted member scores, each divided by its own out-of-sample score spread.
 */
export type ScoreUnits = 'return-sd' | 'position-margin' | 'signal-z';

/** What registration records in `metrics.serving` (the serving contract of a registered model). */
export interface ServingInfo {
  window: number;
  horizonMinutes: number;
  barMs: number;
  output: 'score' | 'quantiles';
  scoreUnits: ScoreUnits;
  labelScale: number;
  onnxSha256: string;
  /** XGBoost: the walk-forward fold models as one ONNX graph (output [batch, folds]). */
  intervals?: { kind: 'fold-spread'; folds: number; onnxSha256: string };
  parity: {
    runtime: 'onnxruntime';
    executionProvider: string;
    reference: string;
    maxAbsDiff: number;
    rows: number;
    tolerance: number;
  };
}

export interface ServedModel {
  readonly id: string;
  readonly name: string;
  readonly kind: ModelKind | 'ensemble';
  readonly featureSet: string;
  readonly featureSetVersion: string;
  readonly featureNames: readonly string[];
  /** Feature rows per input: 1 for row models, T for sequence models (an ensemble: its longest member's). */
  readonly window: number;
  readonly horizonBars: number;
  readonly horizonMinutes: number;
  /** Milliseconds between feature rows (the feature set's base timeframe). */
  readonly barMs: number;
  readonly scoreUnits: ScoreUnits;
  /** Standard deviation of the training rows' forward returns (fraction). */
  readonly labelScale: number;
  readonly runtime: { engine: 'onnxruntime'; executionProvider: ExecutionProviderInUse };
  /** The registered parity check of the ONNX graph against the training runtime (null for ensembles). */
  readonly parity: ServingInfo['parity'] | null;
  /** Ensemble members with their weights (empty for single models). */
  readonly members: ReadonlyArray<{ id: string; kind: string; weight: number }>;
  score(rows: Float32Array, n: number): Promise<ScoreResult>;
  close(): Promise<void>;
}

export interface LoadOptions {
  executionProvider?: ExecutionProviderChoice;
  /** ONNX Runtime intra-op threads per session (default 1). */
  threads?: number;
}

/** A model reference: a model id, `champion:<name>`, a registered ensemble's id, or an ensemble spec. */
export type ServedModelRef = string | EnsembleSpec;

export async function loadServedModel(
  registry: ModelRegistry,
  ref: ServedModelRef,
  opts: LoadOptions = {},
): Promise<ServedModel> {
  if (typeof ref !== 'string') {
    const r = EnsembleSpecSchema.safeParse(ref);
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw new ValidationError(`ensemble.${i.path.join('.')}`, i.message);
    }
    return loadEnsemble(
      registry,
      r.data,
      { id: `ensemble:${r.data.members.join('+')}`, name: 'ensemble' },
      opts,
    );
  }
  let rec: ModelRecord | undefined;
  if (ref.startsWith('champion:')) {
    const name = ref.slice('champion:'.length);
    rec = await registry.champion(name);
    if (!rec) throw new ValidationError('model', `no champion for model name "${name}"`);
  } else {
    rec = await registry.get(ref.replace(/^ensemble:/, ''));
    if (!rec) throw new ValidationError('model', `no model "${ref}" in the registry`);
  }
  if (rec.spec.kind === 'ensemble') return loadEnsemble(registry, rec.spec, rec, opts);
  return loadSingle(rec, opts);
}

/** The serving contract of a registered model (models registered before it was recorded: row model, 5 min). */
export function servingInfo(rec: ModelRecord): ServingInfo {
  const m = rec.metrics as { serving?: ServingInfo; onnxParityMaxAbsDiff?: number };
  if (m.serving) return m.serving;
  return {
    window: 1,
    horizonMinutes: 5,
    barMs: datasetBarMs(rec.featureSet),
    output: 'score',
    scoreUnits:
      rec.spec.kind === 'xgboost' && rec.spec.objective === 'squared_error' ? 'return-sd' : 'position-margin',
    labelScale: 1,
    onnxSha256: '',
    parity: {
      runtime: 'onnxruntime',
      executionProvider: 'cpu',
      reference: 'xgboost-native',
      maxAbsDiff: m.onnxParityMaxAbsDiff ?? NaN,
      rows: 0,
      tolerance: 1e-5,
    },
  };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function readArtifact(rec: ModelRecord, which: 'onnx' | 'intervals', expectSha: string): Buffer {
  const path = rec.artifacts[which];
  if (!path) throw new ValidationError(`artifacts.${which}`, `model ${rec.id} has no ${which} artifact`);
  const bytes = readFileSync(path);
  if (expectSha && sha256(bytes) !== expectSha)
    throw new ValidationError(
      `artifacts.${which}`,
      `${path} does not match the registered sha256 of model ${rec.id}: refusing to serve a changed artifact`,
    );
  return bytes;
}

async function loadSingle(rec: ModelRecord, opts: LoadOptions): Promise<ServedModel> {
  const info = servingInfo(rec);
  const featureNames = featureNamesOf(rec);
  const F = featureNames.length;
  const quantiles = info.output === 'quantiles';
  const rowShape = quantiles ? [info.window, F] : [F];
  const scorer = await OnnxScorer.create(readArtifact(rec, 'onnx', info.onnxSha256), rowShape, opts);
  let intervals: OnnxScorer | undefined;
  try {
    if (info.intervals)
      intervals = await OnnxScorer.create(
        readArtifact(rec, 'intervals', info.intervals.onnxSha256),
        rowShape,
        opts,
      );
  } catch (err) {
    await scorer.close();
    throw err;
  }
  const folds = info.intervals?.folds ?? 0;
  return {
    id: rec.id,
    name: rec.name,
    kind: rec.spec.kind as ModelKind,
    featureSet: rec.featureSet,
    featureSetVersion: rec.featureSetVersion,
    featureNames,
    window: info.window,
    horizonMinutes: info.horizonMinutes,
    horizonBars: Math.round((info.horizonMinutes * 60_000) / info.barMs),
    barMs: info.barMs,
    scoreUnits: info.scoreUnits,
    labelScale: info.labelScale,
    runtime: { engine: 'onnxruntime', executionProvider: scorer.executionProvider },
    parity: info.parity,
    members: [],
    async score(rows, n) {
      const out = await scorer.score(rows, n);
      if (quantiles) {
        const score = new Float32Array(n),
          lower = new Float32Array(n),
          upper = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          lower[i] = out[i * 3]!;
          score[i] = out[i * 3 + 1]!;
          upper[i] = out[i * 3 + 2]!;
        }
        return { score, lower, upper };
      }
      if (!intervals) return { score: out };
      const f = await intervals.score(rows, n);
      const lower = new Float32Array(n),
        upper = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0,
          q = 0;
        for (let k = 0; k < folds; k++) {
          s += f[i * folds + k]!;
          q += f[i * folds + k]! ** 2;
        }
        const sd = folds > 1 ? Math.sqrt(Math.max(0, (q - (s * s) / folds) / (folds - 1))) : 0;
        lower[i] = out[i]! - Z90 * sd;
        upper[i] = out[i]! + Z90 * sd;
      }
      return { score: out, lower, upper };
    },
    async close() {
      await scorer.close();
      await intervals?.close();
    },
  };
}

/** Live days a member needs before its live record replaces its walk-forward record in the weights. */
export const MIN_LIVE_DAYS = 5;

/**
 * Per-day out-of-sample P&L of a registered model, oldest first: its live record (the learning cycle merges the
 * realised returns of its journaled predictions into `liveOosPnlByDay` each day) once it has MIN_LIVE_DAYS days,
 * else the walk-forward evaluation's record, else per fold. Weights read Sharpe ratios, so the units may differ
 * between members.
 */
export function recentOosPnl(rec: Pick<ModelRecord, 'metrics'>): number[] {
  const m = rec.metrics as {
    liveOosPnlByDay?: Array<[number, number]>;
    oosPnlByDay?: Array<[number, number]>;
    folds?: Array<{ netPnl: number }>;
  };
  if ((m.liveOosPnlByDay?.length ?? 0) >= MIN_LIVE_DAYS) return m.liveOosPnlByDay!.map(([, p]) => p);
  if (m.oosPnlByDay?.length) return m.oosPnlByDay.map(([, p]) => p);
  return (m.folds ?? []).map((f) => f.netPnl);
}

async function loadEnsemble(
  registry: ModelRegistry,
  spec: EnsembleSpec,
  self: { id: string; name: string },
  opts: LoadOptions,
): Promise<ServedModel> {
  const recs = await ensembleMembers(registry, spec);
  const first = recs[0]!;
  const firstInfo = servingInfo(first);
  const members: ServedModel[] = [];
  try {
    for (const r of recs) members.push(await loadSingle(r, opts));
  } catch (err) {
    await Promise.all(members.map((m) => m.close()));
    throw err;
  }
  const weights = performanceWeights(
    recs.map((r) => ({ id: r.id, recentOosPnl: recentOosPnl(r) })),
    spec.lookback ?? 20,
  );
  // Members speak in different units (margins, return SDs): each is read as a z-score of its own OOS scores.
  const scale = recs.map((r) => {
    const sd = (r.metrics as { oosScoreSd?: number }).oosScoreSd;
    return sd && sd > 0 ? sd : 1;
  });
  const W = Math.max(...members.map((m) => m.window));
  const F = featureNamesOf(first).length;
  return {
    id: self.id,
    name: self.name,
    kind: 'ensemble',
    featureSet: first.featureSet,
    featureSetVersion: first.featureSetVersion,
    featureNames: featureNamesOf(first),
    window: W,
    horizonMinutes: firstInfo.horizonMinutes,
    horizonBars: Math.round((firstInfo.horizonMinutes * 60_000) / firstInfo.barMs),
    barMs: firstInfo.barMs,
    scoreUnits: 'signal-z',
    labelScale: firstInfo.labelScale,
    runtime: members[0]!.runtime,
    parity: null,
    members: members.map((m, k) => ({ id: m.id, kind: m.kind, weight: weights[k]! })),
    async score(rows, n) {
      if (rows.length !== n * W * F)
        throw new ValidationError(
          'rows',
          `length ${rows.length} is not n × window × features = ${n * W * F}`,
        );
      const memberScores: Float32Array[] = [];
      for (const m of members) {
        // A member with a shorter window takes the trailing rows of each input window.
        const w = m.window;
        const sub = w === W ? rows : new Float32Array(n * w * F);
        if (w !== W)
          for (let i = 0; i < n; i++) sub.set(rows.subarray((i * W + W - w) * F, (i + 1) * W * F), i * w * F);
        memberScores.push((await m.score(sub, n)).score);
      }
      const score = new Float32Array(n),
        lower = new Float32Array(n),
        upper = new Float32Array(n);
      const z = new Array<number>(members.length);
      const noWeights = weights.every((x) => x === 0);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < members.length; k++) z[k] = memberScores[k]![i]! / scale[k]!;
        if (noWeights) continue; // no member has a positive recent record: the ensemble stays flat
        const d = combine(z, weights, { minConsensus: spec.minConsensus, minConviction: spec.minConviction });
        if (!d.consensus) continue;
        let v = 0;
        for (let k = 0; k < members.length; k++) v += weights[k]! * (z[k]! - d.score) ** 2;
        score[i] = d.score;
        lower[i] = d.score - Z90 * Math.sqrt(v);
        upper[i] = d.score + Z90 * Math.sqrt(v);
      }
      return { score, lower, upper };
    },
    async close() {
      await Promise.all(members.map((m) => m.close()));
    },
  };
}

/**
 * An expected forward return (fraction) for a score where the units allow one: return-sd × labelScale. For a
 * dollar-profit margin or an ensemble's z-score there is no return scale; the position tanh(score) × labelScale
 * is a stand-in of the right sign and order of magnitude.
 */
export function expectedReturn(model: Pick<ServedModel, 'scoreUnits' | 'labelScale'>, score: number): number {
  return model.scoreUnits === 'return-sd' ? score * model.labelScale : Math.tanh(score) * model.labelScale;
}
