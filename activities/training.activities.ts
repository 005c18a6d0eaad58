import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import type {
  DatasetRef,
  EvaluationDto,
  RegisteredDto,
  TrainingActivities,
  TrainResultDto,
} from '../contracts/retrain';
import { TradingError } from '../src/model/errors';
import { datasetBarMs, deserializeDataset, sliceRows, type Dataset } from '../src/models/dataset';
import { championChallengerGate, rowPnl } from '../src/models/gate/champion-challenger';
import { selectTfBackend } from '../src/models/nn/backend';
import { trainNet } from '../src/models/nn/nets';
import type { NetState } from '../src/models/nn/quantile-net';
import { windowEndRows } from '../src/models/nn/windows';
import { exportNeural, exportXGBoost, type NeuralArtifact } from '../src/models/onnx/export-model';
import { recordTrainingRun } from '../src/monitoring/metrics';
import { observeTrainingRun } from '../src/monitoring/training-metrics';
import { ModelRegistry, modelCard } from '../src/models/registry/registry';
import { performanceReference } from '../src/learning/drift';
import { permutationImportance } from '../src/learning/importance';
import { columnBins, referenceBins } from '../src/learning/psi';
import { Booster, DMatrix } from '../src/models/xgboost';
import {
  parseModelSpec,
  specWindow,
  type ModelSpec,
  type NeuralSpec,
  type XGBoostSpec,
} from '../src/models/spec';
import { evaluateWalkForward, restrictTestRows, std, trainModel } from '../src/models/validation/evaluate';
import { detectLeakyFeatures } from '../src/models/validation/leakage';
import { walkForwardSplits } from '../src/models/validation/walk-forward';
import type { TrainState } from '../src/models/xgboost';

export interface TrainingDeps {
  pool: Pool;
  artifactDir: string;
  /** Extra XGBoost parameters for every fit on this node (final model and every walk-forward fold), e.g. { device: 'cuda' }. */
  xgboostParams?: Record<string, string | number | boolean>;
  log?: (msg: string) => void;
}

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
  const r = parseModelSpec(spec);
  if (!r.ok) throw ApplicationFailure.nonRetryable(r.error, 'ValidationError');
  return r.spec;
}

function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((err: unknown) => {
    if (err instanceof TradingError && !err.retryable)
      throw ApplicationFailure.nonRetryable(err.message, err.name);
    throw err;
  });
}

function runDir(artifactDir: string, runKey: string): string {
  return join(artifactDir, 'runs', runKey.replace(/[^A-Za-z0-9._-]/g, '_'));
}

/** Activities for the `training` task queue (GPU-capable nodes). */
export function createTrainingActivities(deps: TrainingDeps): TrainingActivities {
  const registry = new ModelRegistry(deps.pool, deps.artifactDir);
  const log = deps.log ?? ((m: string) => console.log(m));
  const xgbParams = deps.xgboostParams ?? {};

  async function saveCheckpoint(runKey: string, round: number, state: unknown, model: Buffer): Promise<void> {
    await deps.pool.query(
      `insert into model_checkpoints (run_key, round, state, model) values ($1, $2, $3, $4)
       on conflict (run_key) do update set round = excluded.round, state = excluded.state, model = excluded.model, updated_at = now()`,
      [runKey, round, JSON.stringify(state), model],
    );
  }

  async function loadCheckpoint<S>(
    runKey: string,
  ): Promise<{ round: number; state: S; model: Buffer } | undefined> {
    const { rows } = await deps.pool.query<{ round: number; state: S; model: Buffer }>(
      'select round, state, model from model_checkpoints where run_key = $1',
      [runKey],
    );
    return rows[0];
  }

  async function trainXGBoost(runKey: string, spec: XGBoostSpec, ds: Dataset): Promise<TrainResultDto> {
    const ctx = Context.current();
    const cp = await loadCheckpoint<TrainState>(runKey);
    const resume = cp ? { model: cp.model, state: cp.state } : undefined;
    const resumedFromRound = resume?.state.round ?? 0;
    if (resume)
      log(
        `training ${runKey}: resuming from checkpoint at round ${resumedFromRound} (attempt ${ctx.info.attempt})`,
      );
    const model = await trainModel(spec, sliceRows(ds, range(ds.nrow)), {
      resume,
      params: xgbParams,
      onRound: async (state, booster) => {
        await saveCheckpoint(runKey, state.round, state, booster.toBuffer('ubj'));
        ctx.heartbeat({ round: state.round });
      },
    });
    try {
      const modelPath = join(runDir(deps.artifactDir, runKey), 'model.json');
      mkdirSync(dirname(modelPath), { recursive: true });
      writeFileSync(modelPath, model.booster.toBuffer('json'));
      return { runKey, modelPath, rounds: model.state.round, resumedFromRound, attempt: ctx.info.attempt };
    } finally {
      model.booster.free();
    }
  }

  async function trainNeural(runKey: string, spec: NeuralSpec, ds: Dataset): Promise<TrainResultDto> {
    const backend = await selectTfBackend(log);
    const ctx = Context.current();
    const ok = windowEndRows(ds.decisionTs, spec.window, datasetBarMs(ds.featureSet));
    const rows = range(ds.nrow).filter((r) => ok[r]);
    if (rows.length === 0)
      throw ApplicationFailure.nonRetryable(
        `spec.window: no ${spec.window}-row windows of consecutive bars in the dataset`,
        'ValidationError',
      );
    const cp = await loadCheckpoint<{ epoch: number }>(runKey);
    const resume = cp
      ? { epoch: cp.round, state: JSON.parse(cp.model.toString('utf8')) as NetState }
      : undefined;
    if (resume)
      log(
        `${spec.kind} ${runKey}: resuming after epoch ${resume.epoch} (Adam's moments restart; attempt ${ctx.info.attempt})`,
      );
    const trained = await trainNet(spec, ds, rows, {
      resume,
      onEpoch: async (e, loss, net) => {
        await saveCheckpoint(runKey, e + 1, { epoch: e + 1, loss }, Buffer.from(JSON.stringify(net.state())));
        ctx.heartbeat({ epoch: e + 1, loss });
      },
      onBatch: () => ctx.heartbeat(),
    });
    try {
      const artifact: NeuralArtifact = {
        state: trained.net.state(),
        labelScale: trained.labelScale,
        backend,
      };
      const modelPath = join(runDir(deps.artifactDir, runKey), 'model.json');
      mkdirSync(dirname(modelPath), { recursive: true });
      writeFileSync(modelPath, JSON.stringify(artifact));
      return {
        runKey,
        modelPath,
        rounds: trained.epochs,
        resumedFromRound: resume?.epoch ?? 0,
        attempt: ctx.info.attempt,
      };
    } finally {
      trained.net.dispose();
    }
  }

  return {
    /**
     * Trains the final model on all dataset rows (a sequence model: on every row that ends a full window). Every
     * boosting round / epoch heartbeats and writes a checkpoint keyed by runKey; a retry after a crash resumes.
     */
    async trainRetrainModel({ runKey, dataset, spec }): Promise<TrainResultDto> {
      // Every attempt is counted (succeeded/failed, duration) on /metrics: repeated failures page.
      return observeTrainingRun(spec.kind, () =>
        mapErrors(async () => {
          const s = parseSpec(spec);
          const ds = loadDataset(dataset);
          return s.kind === 'xgboost' ? trainXGBoost(runKey, s, ds) : trainNeural(runKey, s, ds);
        }),
      );
    },

    /**
     * Leakage screen on the folds (a feature with |OOS rank IC| > 0.3 refuses the model), then challenger and
     * champion specs on the same purged, embargoed walk-forward folds and the same test rows (those the longer of
     * the two windows allows), then the gate's test.
     */
    async evaluateRetrainModel({
      runKey,
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
        if (s.kind !== 'xgboost') await selectTfBackend(log);
        const splits = walkForwardSplits(ds.decisionTs, ds.labelEndTs, {
          folds,
          embargoMs: embargoMinutes * 60_000,
        });
        const leakage = detectLeakyFeatures(ds, splits);
        const champ = leakage.length ? undefined : await registry.champion(name);
        const cs = champ && champ.spec.kind !== 'ensemble' ? parseSpec(champ.spec) : undefined;
        const W = Math.max(specWindow(s), cs ? specWindow(cs) : 1);
        const evalFolds = restrictTestRows(
          splits,
          windowEndRows(ds.decisionTs, W, datasetBarMs(ds.featureSet)),
        );
        const foldModels: string[] = [];
        const dir = runKey ? runDir(deps.artifactDir, runKey) : undefined;
        // Heartbeat every boosting round / mini-batch, not only per fold: a slow fold must not look like a dead worker.
        const challenger = await evaluateWalkForward(ds, s, evalFolds, {
          params: xgbParams,
          onRound: (fold, round) => ctx.heartbeat({ model: 'challenger', fold, round }),
          onBatch: () => ctx.heartbeat(),
          keepFoldModel: dir
            ? (fold, json) => {
                const p = join(dir, `fold-${fold}.json`);
                mkdirSync(dir, { recursive: true });
                writeFileSync(p, json);
                foldModels.push(p);
              }
            : undefined,
        });
        const oos = sliceRows(ds, challenger.oos.rows);
        const challengerPnl = rowPnl(challenger.oos.scores, oos.forwardReturn, oos.notional, s.costRate);
        let champion: EvaluationDto['champion'] = null;
        let championPnl: Float64Array | null = null;
        if (champ && cs) {
          // The champion's spec is retrained per fold: scoring its stored model on these folds would leak its own training data.
          if (cs.kind !== 'xgboost') await selectTfBackend(log);
          const cr = await evaluateWalkForward(ds, cs, evalFolds, {
            params: xgbParams,
            onRound: (fold, round) => ctx.heartbeat({ model: 'champion', fold, round }),
            onBatch: () => ctx.heartbeat(),
          });
          championPnl = rowPnl(cr.oos.scores, oos.forwardReturn, oos.notional, cs.costRate);
          champion = { id: champ.id, summary: cr.summary };
        }
        let gate = championChallengerGate({
          challengerPnl,
          championPnl,
          blockSize: Math.max(ds.horizonMinutes, 30),
          alpha,
        });
        if (leakage.length) {
          const what = leakage.map((f) => `${f.feature} (|IC| ${Math.abs(f.ic).toFixed(3)})`).join(', ');
          gate = {
            ...gate,
            promote: false,
            reason: `refused: leakage — ${what} correlates with the label out of sample beyond 0.3; a market feature does not, a feature built from the future does`,
          };
        }
        // The drift monitor's reference: the OOS scores' distribution and record (direction traded, unit position).
        const scoreBins = referenceBins(challenger.oos.scores);
        const driftReference = {
          scores: { ...scoreBins, edges: [...scoreBins.edges], props: [...scoreBins.props] },
          performance: performanceReference(challenger.oos.scores, oos.forwardReturn, s.costRate),
          costRate: s.costRate,
        };
        // Permutation importance on the last out-of-sample fold, scored by that fold's own model (XGBoost).
        const lastFold = evalFolds[evalFolds.length - 1];
        const lastModel = foldModels[foldModels.length - 1];
        let permutation: EvaluationDto['permutationImportance'];
        if (s.kind === 'xgboost' && lastFold && lastModel && lastFold.test.length > 0 && !leakage.length) {
          const test = sliceRows(ds, lastFold.test);
          const booster = Booster.fromBuffer(readFileSync(lastModel), xgbParams);
          try {
            permutation = await permutationImportance({
              X: test.X,
              nrow: test.nrow,
              names: ds.featureNames,
              forwardReturn: test.forwardReturn,
              notional: test.notional,
              costRate: s.costRate,
              fold: lastFold.index,
              score: (X, n) => {
                const d = DMatrix.fromFloat32(X, n, ds.ncol);
                try {
                  return booster.predict(d, { type: 'margin' });
                } finally {
                  d.free();
                }
              },
            });
          } finally {
            booster.free();
          }
        }
        return {
          challenger: { summary: challenger.summary, folds: challenger.folds },
          champion,
          gate,
          leakage,
          oosPnlByDay: pnlByDay(challenger.oos.rows, challengerPnl, ds.decisionTs),
          oosScoreSd: std(challenger.oos.scores),
          ...(foldModels.length ? { foldModels } : {}),
          driftReference,
          ...(permutation ? { permutationImportance: permutation } : {}),
        };
      });
    },

    /**
     * Exports to ONNX, checks ONNX Runtime against the training runtime (native booster / tfjs) on the dataset,
     * writes the artifacts and the registry row with what serving needs (window, horizon, units, hashes, parity).
     */
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
        const exported =
          s.kind === 'xgboost'
            ? await exportXGBoost(id, s, ds, native, evaluation.foldModels ?? [])
            : await exportNeural(id, s, ds, native, log);
        if (!(exported.serving.parity.maxAbsDiff <= exported.serving.parity.tolerance)) {
          throw ApplicationFailure.nonRetryable(
            `onnx parity: max |onnx - ${exported.serving.parity.reference}| = ${exported.serving.parity.maxAbsDiff} exceeds ${exported.serving.parity.tolerance}`,
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
            leakage: evaluation.leakage ?? [],
            oosPnlByDay: evaluation.oosPnlByDay ?? [],
            oosScoreSd: evaluation.oosScoreSd,
            onnxParityMaxAbsDiff: exported.serving.parity.maxAbsDiff,
            // The ONNX input's column order: serving builds rows in exactly this order.
            featureNames: ds.featureNames,
            horizonMinutes: ds.horizonMinutes,
            serving: exported.serving,
            // the drift monitor reads the training rows' feature distribution and the OOS record from here
            ...(evaluation.driftReference
              ? {
                  drift: {
                    ...evaluation.driftReference,
                    features: columnBins(ds.X, ds.nrow, ds.featureNames),
                  },
                }
              : {}),
          },
          featureImportance:
            exported.importance || evaluation.permutationImportance
              ? {
                  method: exported.importance?.method ?? 'oos-permutation',
                  values: exported.importance?.values ?? evaluation.permutationImportance!.values,
                  ...(evaluation.permutationImportance
                    ? { permutation: evaluation.permutationImportance }
                    : {}),
                }
              : null,
          workflowId,
        };
        const saved = await registry.register(rec, {
          native,
          onnx: exported.onnx,
          intervals: exported.intervals,
          modelCard: modelCard(rec),
        });
        return {
          id: saved.id,
          onnxPath: saved.artifacts.onnx!,
          nativePath: saved.artifacts.native!,
          parityMaxAbsDiff: exported.serving.parity.maxAbsDiff,
        };
      });
    },

    async setModelDecision({ id, promote, shadow }): Promise<void> {
      return mapErrors(async () => {
        const actor = {
          actor: `workflow:${Context.current().info.workflowExecution?.workflowId ?? 'retrain'}`,
          reason: '',
        };
        if (promote) {
          const m = await registry.get(id);
          await registry.promote(id, { ...actor, reason: 'passed the champion/challenger gate' });
          // counted at the gate's decision, once: a retried promotion finds the champion already
          if (m && m.status !== 'champion') recordTrainingRun(m.kind, 'promoted');
        } else if (shadow) {
          const m = await registry.get(id);
          // Idempotent: a retried decision finds the model in shadow (or already decided by the learning loop).
          if (m && m.status === 'candidate')
            await registry.setStatus(id, 'shadow', {
              ...actor,
              reason: 'retrained: scored in shadow before promotion',
            });
        } else {
          const m = await registry.get(id);
          // Idempotent: a retried rejection of an already-rejected model is fine; never demote a champion.
          if (m && m.status === 'candidate') {
            await registry.setStatus(id, 'rejected', { ...actor, reason: 'did not pass the gate' });
            recordTrainingRun(m.kind, 'rejected');
          }
        }
      });
    },
  };
}

/** Net P&L summed per UTC day of the decision time, oldest first. */
function pnlByDay(rows: number[], pnl: Float64Array, decisionTs: Float64Array): Array<[number, number]> {
  const DAY = 86_400_000;
  const byDay = new Map<number, number>();
  rows.forEach((r, k) => {
    const d = Math.floor(decisionTs[r]! / DAY) * DAY;
    byDay.set(d, (byDay.get(d) ?? 0) + pnl[k]!);
  });
  return [...byDay.entries()].sort((a, b) => a[0] - b[0]);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
