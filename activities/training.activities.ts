import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import type {
  DatasetRef,
  EvaluationDto,
  LstmTrainResult,
  RegisteredDto,
  TrainingActivities,
  TrainResultDto,
} from '../contracts/retrain';
import { TradingError } from '../src/model/errors';
import { deserializeDataset, sliceRows, type Dataset } from '../src/models/dataset';
import { championChallengerGate, rowPnl } from '../src/models/gate/champion-challenger';
import { selectTfBackend, tf } from '../src/models/nn/backend';
import { createLstm, fitLstm, lstmToOnnx, predictLstm } from '../src/models/nn/lstm';
import { OnnxScorer, maxAbsDiff } from '../src/models/onnx/serving';
import { xgboostToOnnx } from '../src/models/onnx/xgboost-export';
import { ModelRegistry, modelCard } from '../src/models/registry/registry';
import { XGBoostSpecSchema, type ModelSpec } from '../src/models/spec';
import { evaluateWalkForward, predictScores, trainModel } from '../src/models/validation/evaluate';
import { walkForwardSplits } from '../src/models/validation/walk-forward';
import { Booster, type TrainState } from '../src/models/xgboost';

export interface TrainingDeps {
  pool: Pool;
  artifactDir: string;
  /** Extra XGBoost parameters for this node, e.g. { device: 'cuda' } on GPU workers. */
  xgboostParams?: Record<string, string | number | boolean>;
  log?: (msg: string) => void;
}

/** Parity tolerance between the native booster and the ONNX export (the registry refuses worse). */
export const ONNX_PARITY_TOLERANCE = 1e-5;

function loadDataset(ref: DatasetRef): Dataset {
  const ds = deserializeDataset(readFileSync(ref.path));
  if (ds.dataHash !== ref.dataHash) {
    throw ApplicationFailure.nonRetryable(
      `dataset.dataHash: file ${ref.path} has ${ds.dataHash}, expected ${ref.dataHash}`,
      'ValidationError',
    );
  }
  return ds;
}

function parseSpec(spec: unknown): ModelSpec {
  const r = XGBoostSpecSchema.safeParse(spec);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw ApplicationFailure.nonRetryable(`spec.${i.path.join('.')}: ${i.message}`, 'ValidationError');
  }
  return r.data;
}

function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((err: unknown) => {
    if (err instanceof TradingError && !err.retryable)
      throw ApplicationFailure.nonRetryable(err.message, err.name);
    throw err;
  });
}

/** Activities for the `training` task queue (GPU-capable nodes). */
export function createTrainingActivities(deps: TrainingDeps): TrainingActivities {
  const registry = new ModelRegistry(deps.pool, deps.artifactDir);
  const log = deps.log ?? ((m: string) => console.log(m));

  return {
    /**
     * Trains the final model on all dataset rows. Every round heartbeats and writes a checkpoint (model bytes +
     * early-stopping state) keyed by runKey; a retry after a crash loads it and continues from that round.
     */
    async trainRetrainModel({ runKey, dataset, spec }): Promise<TrainResultDto> {
      return mapErrors(async () => {
        const s = parseSpec(spec);
        const ds = loadDataset(dataset);
        const ctx = Context.current();
        const { rows } = await deps.pool.query<{ round: number; state: TrainState; model: Buffer }>(
          'select round, state, model from model_checkpoints where run_key = $1',
          [runKey],
        );
        const resume = rows[0] ? { model: rows[0].model, state: rows[0].state } : undefined;
        const resumedFromRound = resume?.state.round ?? 0;
        if (resume)
          log(
            `training ${runKey}: resuming from checkpoint at round ${resumedFromRound} (attempt ${ctx.info.attempt})`,
          );
        const model = await trainModel(s, sliceRows(ds, range(ds.nrow)), {
          resume,
          params: deps.xgboostParams,
          onRound: async (state, booster) => {
            await deps.pool.query(
              `insert into model_checkpoints (run_key, round, state, model) values ($1, $2, $3, $4)
               on conflict (run_key) do update set round = excluded.round, state = excluded.state, model = excluded.model, updated_at = now()`,
              [runKey, state.round, JSON.stringify(state), booster.toBuffer('ubj')],
            );
            ctx.heartbeat({ round: state.round });
          },
        });
        try {
          const modelPath = join(
            deps.artifactDir,
            'runs',
            runKey.replace(/[^A-Za-z0-9._-]/g, '_'),
            'model.json',
          );
          mkdirSync(dirname(modelPath), { recursive: true });
          writeFileSync(modelPath, model.booster.toBuffer('json'));
          return {
            runKey,
            modelPath,
            rounds: model.state.round,
            resumedFromRound,
            attempt: ctx.info.attempt,
          };
        } finally {
          model.booster.free();
        }
      });
    },

    /** Challenger and champion specs on the same purged, embargoed walk-forward folds, then the gate's test. */
    async evaluateRetrainModel({
      name,
      dataset,
      spec,
      folds,
      embargoMinutes,
      alpha,
    }): Promise<EvaluationDto> {
      return mapErrors(async () => {
        const s = parseSpec(spec);
        const ds = loadDataset(dataset);
        const ctx = Context.current();
        const splits = walkForwardSplits(ds.decisionTs, ds.labelEndTs, {
          folds,
          embargoMs: embargoMinutes * 60_000,
        });
        // Heartbeat every boosting round, not only per fold: a slow fold must not look like a dead worker.
        const challenger = await evaluateWalkForward(ds, s, splits, {
          onRound: (fold, round) => ctx.heartbeat({ model: 'challenger', fold, round }),
        });
        const oos = sliceRows(ds, challenger.oos.rows);
        const challengerPnl = rowPnl(challenger.oos.scores, oos.forwardReturn, oos.notional, s.costRate);
        const champ = await registry.champion(name);
        let champion: EvaluationDto['champion'] = null;
        let championPnl: Float64Array | null = null;
        if (champ) {
          // The champion's spec is retrained per fold: scoring its stored model on these folds would leak its own training data.
          const cs = parseSpec(champ.spec);
          const cr = await evaluateWalkForward(ds, cs, splits, {
            onRound: (fold, round) => ctx.heartbeat({ model: 'champion', fold, round }),
          });
          championPnl = rowPnl(cr.oos.scores, oos.forwardReturn, oos.notional, cs.costRate);
          champion = { id: champ.id, summary: cr.summary };
        }
        const gate = championChallengerGate({
          challengerPnl,
          championPnl,
          blockSize: Math.max(ds.horizonMinutes, 30),
          alpha,
        });
        return { challenger: { summary: challenger.summary, folds: challenger.folds }, champion, gate };
      });
    },

    /** Exports to ONNX, checks ONNX Runtime against the native booster on the dataset, writes artifacts and the row. */
    async registerRetrainModel({
      id,
      name,
      workflowId,
      dataset,
      spec,
      modelPath,
      evaluation,
    }): Promise<RegisteredDto> {
      return mapErrors(async () => {
        const s = parseSpec(spec);
        const ds = loadDataset(dataset);
        const native = readFileSync(modelPath);
        const booster = Booster.fromBuffer(native);
        let nativeScores: Float32Array;
        try {
          nativeScores = predictScores(
            { booster, state: { round: 0, bestIteration: 0, bestScore: null, history: [] }, labelScale: 1 },
            ds,
          );
        } finally {
          booster.free();
        }
        const onnx = xgboostToOnnx(native, {
          output: 'margin',
          numFeatures: ds.ncol,
          metadata: { modelId: id, featureNames: ds.featureNames.join(',') },
        });
        const scorer = await OnnxScorer.create(onnx, ds.ncol);
        let parity: number;
        try {
          parity = maxAbsDiff(await scorer.score(ds.X, ds.nrow), nativeScores);
        } finally {
          await scorer.close();
        }
        if (!(parity <= ONNX_PARITY_TOLERANCE)) {
          throw ApplicationFailure.nonRetryable(
            `onnx parity: max |onnx - native| = ${parity} exceeds ${ONNX_PARITY_TOLERANCE}`,
            'ParityError',
          );
        }
        const rec = {
          id,
          name,
          kind: s.kind,
          spec: s,
          featureSet: ds.featureSet,
          featureSetVersion: ds.featureSetVersion,
          symbol: ds.symbol,
          trainFrom: dataset.fromMs,
          trainTo: dataset.toMs,
          dataHash: ds.dataHash,
          metrics: {
            summary: evaluation.challenger.summary,
            folds: evaluation.challenger.folds,
            gate: evaluation.gate,
            champion: evaluation.champion,
            onnxParityMaxAbsDiff: parity,
            // The ONNX input's column order: serving builds rows in exactly this order.
            featureNames: ds.featureNames,
          },
          workflowId,
        };
        const saved = await registry.register(rec, { native, onnx, modelCard: modelCard(rec) });
        return {
          id: saved.id,
          onnxPath: saved.artifacts.onnx!,
          nativePath: saved.artifacts.native!,
          parityMaxAbsDiff: parity,
        };
      });
    },

    /** LSTM training: heartbeat + checkpoint (weights) every epoch; a retry continues from the last finished epoch. */
    async trainLstmModel({ runKey, dataset, timesteps, units, epochs, batchSize }): Promise<LstmTrainResult> {
      return mapErrors(async () => {
        const backend = await selectTfBackend(log);
        const ds = loadDataset(dataset);
        const { X, y } = lstmWindows(ds, timesteps);
        if (y.length === 0)
          throw ApplicationFailure.nonRetryable(
            `timesteps: no ${timesteps}-minute contiguous windows in the dataset`,
            'ValidationError',
          );
        const spec = { timesteps, features: ds.ncol, units, seed: 1 };
        const ctx = Context.current();
        const model = createLstm(spec);
        try {
          const { rows } = await deps.pool.query<{ round: number; model: Buffer }>(
            'select round, model from model_checkpoints where run_key = $1',
            [runKey],
          );
          const resumedFromEpoch = rows[0]?.round ?? 0;
          if (rows[0]) {
            const saved = JSON.parse(rows[0].model.toString('utf8')) as Array<{
              shape: number[];
              data: number[];
            }>;
            model.setWeights(saved.map((w) => tf.tensor(w.data, w.shape)));
            log(`lstm ${runKey}: resuming after epoch ${resumedFromEpoch} (optimizer moments restart)`);
          }
          if (resumedFromEpoch < epochs) {
            await fitLstm(model, X, y, spec, {
              epochs: epochs - resumedFromEpoch,
              batchSize,
              onEpoch: async (e, loss) => {
                const epoch = resumedFromEpoch + e + 1;
                const weights = model
                  .getWeights()
                  .map((w) => ({ shape: w.shape, data: Array.from(w.dataSync()) }));
                await deps.pool.query(
                  `insert into model_checkpoints (run_key, round, state, model) values ($1, $2, $3, $4)
                   on conflict (run_key) do update set round = excluded.round, state = excluded.state, model = excluded.model, updated_at = now()`,
                  [runKey, epoch, JSON.stringify({ epoch, loss }), Buffer.from(JSON.stringify(weights))],
                );
                ctx.heartbeat({ epoch, loss });
              },
            });
          }
          const onnx = lstmToOnnx(model, spec);
          const session = await OnnxScorer.create(onnx, [timesteps, ds.ncol]);
          let parity: number;
          try {
            parity = maxAbsDiff(await session.score(X, y.length), predictLstm(model, X, spec));
          } finally {
            await session.close();
          }
          if (!(parity <= ONNX_PARITY_TOLERANCE))
            throw ApplicationFailure.nonRetryable(
              `onnx parity: ${parity} exceeds ${ONNX_PARITY_TOLERANCE}`,
              'ParityError',
            );
          const onnxPath = join(
            deps.artifactDir,
            'runs',
            runKey.replace(/[^A-Za-z0-9._-]/g, '_'),
            'lstm.onnx',
          );
          mkdirSync(dirname(onnxPath), { recursive: true });
          writeFileSync(onnxPath, onnx);
          return {
            runKey,
            onnxPath,
            epochs,
            resumedFromEpoch,
            parityMaxAbsDiff: parity,
            backend,
            samples: y.length,
          };
        } finally {
          model.dispose();
        }
      });
    },

    async setModelDecision({ id, promote }): Promise<void> {
      return mapErrors(async () => {
        if (promote) await registry.promote(id);
        else {
          const m = await registry.get(id);
          // Idempotent: a retried rejection of an already-rejected model is fine; never demote a champion.
          if (m && m.status === 'candidate') await registry.setStatus(id, 'rejected');
        }
      });
    },
  };
}

/**
 * Windows of `timesteps` consecutive rows (one minute apart, NaN → 0) ending at each row; the target is that
 * row's forward return in standard deviations. Rows without a full contiguous window are skipped.
 */
export function lstmWindows(
  ds: Dataset,
  timesteps: number,
): { X: Float32Array; y: Float32Array; rows: number[] } {
  const rows: number[] = [];
  for (let i = timesteps - 1; i < ds.nrow; i++) {
    if (ds.decisionTs[i]! - ds.decisionTs[i - timesteps + 1]! === (timesteps - 1) * 60_000) rows.push(i);
  }
  const X = new Float32Array(rows.length * timesteps * ds.ncol);
  rows.forEach((r, k) => {
    const src = ds.X.subarray((r - timesteps + 1) * ds.ncol, (r + 1) * ds.ncol);
    for (let j = 0; j < src.length; j++) X[k * src.length + j] = Number.isNaN(src[j]!) ? 0 : src[j]!;
  });
  let s = 0,
    q = 0;
  for (const r of rows) {
    s += ds.forwardReturn[r]!;
    q += ds.forwardReturn[r]! ** 2;
  }
  const sd = Math.sqrt(Math.max(1e-20, q / rows.length - (s / rows.length) ** 2));
  return { X, y: Float32Array.from(rows, (r) => ds.forwardReturn[r]! / sd), rows };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
