import { readFileSync } from 'node:fs';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { HpoTrainingActivities, HpoTrialDto } from '../contracts/learning';
import type { DatasetRef } from '../contracts/retrain';
import { applyTrialParams } from '../src/learning/hpo-params';
import { TradingError } from '../src/model/errors';
import { datasetBarMs, deserializeDataset } from '../src/models/dataset';
import { selectTfBackend } from '../src/models/nn/backend';
import { windowEndRows } from '../src/models/nn/windows';
import { parseModelSpec, specWindow } from '../src/models/spec';
import { evaluateWalkForward, restrictTestRows } from '../src/models/validation/evaluate';
import { walkForwardSplits } from '../src/models/validation/walk-forward';

export interface HpoTrainingDeps {
  readonly pool: Pool;
  /** Extra XGBoost parameters for every fit on this node (e.g. { device: 'cuda' }). */
  readonly xgboostParams?: Record<string, string | number | boolean>;
  readonly log?: (msg: string) => void;
}

/** The hyperparameter search's trials, on the training queue (GPU-capable nodes). */
export function createHpoTrainingActivities(deps: HpoTrainingDeps): HpoTrainingActivities {
  const log = deps.log ?? ((m: string) => console.log(m));
  return {
    /**
     * Scores one trial: the base spec with the trial's parameters, trained and tested on purged walk-forward
     * folds; the score is the out-of-sample net dollar P&L. A trial already finished (a retry after the worker
     * died between writing the result and reporting it) is read back, not computed again. Every start is counted
     * in `hpo_trial_runs`.
     */
    async runHpoTrial({
      searchId,
      trial,
      params,
      spec,
      dataset,
      folds,
      embargoMinutes,
    }): Promise<HpoTrialDto> {
      const done = await deps.pool.query<{ params: Record<string, string | number>; score: number }>(
        'select params, score from hpo_trials where search_id = $1 and trial = $2',
        [searchId, trial],
      );
      if (done.rows[0])
        return { trial, params: done.rows[0].params, score: done.rows[0].score, reused: true };
      const ctx = Context.current();
      const run = await deps.pool.query<{ id: string }>(
        'insert into hpo_trial_runs (search_id, trial, attempt) values ($1, $2, $3) returning id',
        [searchId, trial, ctx.info.attempt],
      );
      const parsed = parseModelSpec(applyTrialParams(spec, params));
      if (!parsed.ok)
        throw ApplicationFailure.nonRetryable(`trial ${trial}: ${parsed.error}`, 'ValidationError');
      const s = parsed.spec;
      const ds = loadDataset(dataset);
      if (s.kind !== 'xgboost') await selectTfBackend(log);
      const splits = walkForwardSplits(ds.decisionTs, ds.labelEndTs, {
        folds,
        embargoMs: embargoMinutes * 60_000,
      });
      const evalFolds = restrictTestRows(
        splits,
        windowEndRows(ds.decisionTs, specWindow(s), datasetBarMs(ds.featureSet)),
      );
      try {
        const wf = await evaluateWalkForward(ds, s, evalFolds, {
          params: deps.xgboostParams,
          onRound: (fold, round) => ctx.heartbeat({ trial, fold, round }),
          onBatch: () => ctx.heartbeat({ trial }),
        });
        const score = Number.isFinite(wf.summary.netPnl) ? wf.summary.netPnl : -1e12;
        // the result and the run's end in one statement: a trial is finished exactly when its result is stored
        await deps.pool.query(
          `with result as (
             insert into hpo_trials (search_id, trial, params, score, summary) values ($1, $2, $3, $4, $5)
             on conflict (search_id, trial) do nothing returning trial)
           update hpo_trial_runs set finished_at = now() where id = $6`,
          [searchId, trial, JSON.stringify(params), score, JSON.stringify(wf.summary), run.rows[0]!.id],
        );
        log(
          `[hpo] ${searchId} trial ${trial}: OOS net P&L ${score.toFixed(2)} with ${JSON.stringify(params)}`,
        );
        return { trial, params, score, reused: false };
      } catch (err) {
        if (err instanceof TradingError && !err.retryable)
          throw ApplicationFailure.nonRetryable(err.message, err.name);
        throw err;
      }
    },
  };
}

function loadDataset(ref: DatasetRef) {
  const ds = deserializeDataset(readFileSync(ref.path));
  if (ds.dataHash !== ref.dataHash)
    throw ApplicationFailure.nonRetryable(
      `dataset.dataHash: file ${ref.path} has ${ds.dataHash}, expected ${ref.dataHash}`,
      'ValidationError',
    );
  return ds;
}
