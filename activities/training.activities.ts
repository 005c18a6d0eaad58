import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { DatasetRef, EvaluationDto, RegisteredDto, TrainingActivities, TrainResultDto } from '../contracts/retrain';
import { TradingError } from '../src/model/errors';
import { deserializeDataset, sliceRows, type Dataset } from '../src/models/dataset';
import { championChallengerGate, rowPnl } from '../src/models/gate/champion-challenger';
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
    throw ApplicationFailure.nonRetryable(`dataset.dataHash: file ${ref.path} has ${ds.dataHash}, expected ${ref.dataHash}`, 'ValidationError');
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
    if (err instanceof TradingError && !err.retryable) throw ApplicationFailure.nonRetryable(err.message, err.name);
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
        if (resume) log(`training ${runKey}: resuming from checkpoint at round ${resumedFromRound} (attempt ${ctx.info.attempt})`);
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
          const modelPath = join(deps.artifactDir, 'runs', runKey, 'model.json');
          mkdirSync(dirname(modelPath), { recursive: true });
          writeFileSync(modelPath, model.booster.toBuffer('json'));
          return { runKey, modelPath, rounds: model.state.round, resumedFromRound, attempt: ctx.info.attempt };
        } finally {
          model.booster.free();
        }
      });
    },

    /** Challenger and champion specs on the same purged, embargoed walk-forward folds, then the gate's test. */
    async evaluateRetrainModel({ name, dataset, spec, folds, embargoMinutes, alpha }): Promise<EvaluationDto> {
      return mapErrors(async () => {
        const s = parseSpec(spec);
        const ds = loadDataset(dataset);
        const ctx = Context.current();
        const splits = walkForwardSplits(ds.decisionTs, ds.labelEndTs, { folds, embargoMs: embargoMinutes * 60_000 });
        const challenger = await evaluateWalkForward(ds, s, splits, { onFold: (m) => ctx.heartbeat({ model: 'challenger', fold: m.fold }) });
        const oos = sliceRows(ds, challenger.oos.rows);
        const challengerPnl = rowPnl(challenger.oos.scores, oos.forwardReturn, oos.notional, s.costRate);
        const champ = await registry.champion(name);
        let champion: EvaluationDto['champion'] = null;
        let championPnl: Float64Array | null = null;
        if (champ) {
          // The champion's spec is retrained per fold: scoring its stored model on these folds would leak its own training data.
          const cs = parseSpec(champ.spec);
          const cr = await evaluateWalkForward(ds, cs, splits, { onFold: (m) => ctx.heartbeat({ model: 'champion', fold: m.fold }) });
          championPnl = rowPnl(cr.oos.scores, oos.forwardReturn, oos.notional, cs.costRate);
          champion = { id: champ.id, summary: cr.summary };
        }
        const gate = championChallengerGate({ challengerPnl, championPnl, blockSize: Math.max(ds.horizonMinutes, 30), alpha });
        return { challenger: { summary: challenger.summary, folds: challenger.folds }, champion, gate };
      });
    },

    /** Exports to ONNX, checks ONNX Runtime against the native booster on the dataset, writes artifacts and the row. */
    async registerRetrainModel({ id, name, workflowId, dataset, spec, modelPath, evaluation }): Promise<RegisteredDto> {
      return mapErrors(async () => {
        const s = parseSpec(spec);
        const ds = loadDataset(dataset);
        const native = readFileSync(modelPath);
        const booster = Booster.fromBuffer(native);
        let nativeScores: Float32Array;
        try {
          nativeScores = predictScores({ booster, state: { round: 0, bestIteration: 0, bestScore: null, history: [] }, labelScale: 1 }, ds);
        } finally {
          booster.free();
        }
        const onnx = xgboostToOnnx(native, { output: 'margin', numFeatures: ds.ncol, metadata: { modelId: id, featureNames: ds.featureNames.join(',') } });
        const scorer = await OnnxScorer.create(onnx, ds.ncol);
        let parity: number;
        try {
          parity = maxAbsDiff(await scorer.score(ds.X, ds.nrow), nativeScores);
        } finally {
          await scorer.close();
        }
        if (!(parity <= ONNX_PARITY_TOLERANCE)) {
          throw ApplicationFailure.nonRetryable(`onnx parity: max |onnx - native| = ${parity} exceeds ${ONNX_PARITY_TOLERANCE}`, 'ParityError');
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
          metrics: { summary: evaluation.challenger.summary, folds: evaluation.challenger.folds, gate: evaluation.gate, champion: evaluation.champion, onnxParityMaxAbsDiff: parity },
          workflowId,
        };
        const saved = await registry.register(rec, { native, onnx, modelCard: modelCard(rec) });
        return { id: saved.id, onnxPath: saved.artifacts.onnx!, nativePath: saved.artifacts.native!, parityMaxAbsDiff: parity };
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

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
