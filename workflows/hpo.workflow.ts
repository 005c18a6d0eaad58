import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type {
  HpoActivities,
  HpoInput,
  HpoResult,
  HpoTrainingActivities,
  HpoTrialDto,
} from '../contracts/learning';
import type { ModelIoActivities } from '../contracts/retrain';
import { TASK_QUEUES } from '../contracts/task-queues';
import { applyTrialParams, defaultSearchSpace } from '../src/learning/hpo-params';

/**
 * Bayesian hyperparameter search (TPE, src/models/hpo/tpe.ts) as a resumable workflow: the dataset is built once
 * (io), then up to `parallel` trials run at once on the training queue, each proposed by TPE from every trial
 * finished before it. A finished trial is an activity result in this workflow's history (and a row in
 * `hpo_trials`): a killed training worker only costs the trials it was running — they time out on their
 * heartbeat and run again elsewhere — and a finished trial is never computed again. Long searches continue as
 * new, carrying the finished trials.
 */
export async function hpoWorkflow(input: HpoInput): Promise<HpoResult> {
  const searchId = input.searchId ?? workflowInfo().workflowId;
  const ioQueue = input.taskQueues?.io ?? TASK_QUEUES.io;
  const io = proxyActivities<HpoActivities & ModelIoActivities>({
    taskQueue: ioQueue,
    startToCloseTimeout: '5 minutes',
    retry: { maximumAttempts: 5, initialInterval: '1 second' },
  });
  const training = proxyActivities<HpoTrainingActivities>({
    taskQueue: input.taskQueues?.training ?? TASK_QUEUES.training,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: input.trialHeartbeatTimeoutMs ?? 30_000,
    retry: { maximumAttempts: 10, initialInterval: '1 second', maximumInterval: '10 seconds' },
  });
  const space = input.space ?? defaultSearchSpace(input.spec);
  const parallel = Math.max(1, input.parallel ?? 2);
  const startupTrials = input.startupTrials ?? Math.max(4, 2 * parallel);
  const seed = input.seed ?? 1;

  const dataset = await io.buildRetrainDataset({
    source: input.source,
    horizonMinutes: input.horizonMinutes ?? 5,
    maxRows: input.maxRows,
    featureSet: input.featureSet,
  });
  const finished: HpoTrialDto[] = [...(input.finished ?? [])];
  let next = finished.reduce((m, t) => Math.max(m, t.trial + 1), 0);
  const inflight = new Map<number, Promise<HpoTrialDto>>();
  let draining = false;
  while (finished.length < input.trials) {
    while (!draining && inflight.size < parallel && next < input.trials) {
      const trial = next++;
      const [proposal] = await io.suggestHpoTrials({ space, finished, trials: [trial], seed, startupTrials });
      inflight.set(
        trial,
        training.runHpoTrial({
          searchId,
          trial,
          params: proposal!.params,
          spec: input.spec,
          dataset,
          folds: input.folds ?? 3,
          embargoMinutes: input.embargoMinutes ?? 30,
        }),
      );
    }
    if (inflight.size === 0) break;
    const done = await Promise.race(inflight.values());
    inflight.delete(done.trial);
    finished.push(done);
    if (workflowInfo().continueAsNewSuggested) draining = true;
    if (draining && inflight.size === 0 && finished.length < input.trials)
      await continueAsNew<typeof hpoWorkflow>({ ...input, searchId, finished });
  }
  const ranked = [...finished].sort((a, b) => b.score - a.score || a.trial - b.trial);
  const best = ranked[0]!;
  return {
    searchId,
    trials: [...finished].sort((a, b) => a.trial - b.trial),
    best,
    spec: applyTrialParams(input.spec, best.params),
  };
}
