import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type {
  ModelIoActivities,
  RetrainInput,
  RetrainResult,
  TrainingActivities,
} from '../contracts/retrain';
import { TASK_QUEUES } from '../contracts/task-queues';
import { recordingFailure } from './failure-metric';

/**
 * Retrain any model kind (xgboost, lstm, gru, transformer, mtf-attention: `input.spec.kind`): dataset (io) → train
 * (training, heartbeating with checkpoints) → leakage screen and walk-forward evaluation of challenger and champion
 * on the same folds → register (ONNX export + parity) → gate (one-sided paired t-test; leakage refuses) → promote
 * or reject → alert either way. With `promotion: 'shadow'` (the learning loop) the model enters shadow instead
 * unless the leakage screen refused it.
 */
export async function retrainWorkflow(input: RetrainInput): Promise<RetrainResult> {
  return recordingFailure(
    'retrainWorkflow',
    { monitoringQueue: input.taskQueues?.io ?? TASK_QUEUES.io },
    () => retrain(input),
  );
}

async function retrain(input: RetrainInput): Promise<RetrainResult> {
  const ioQueue = input.taskQueues?.io ?? TASK_QUEUES.io;
  const trainingQueue = input.taskQueues?.training ?? TASK_QUEUES.training;
  const io = proxyActivities<ModelIoActivities>({
    taskQueue: ioQueue,
    startToCloseTimeout: '5 minutes',
    retry: { maximumAttempts: 5, initialInterval: '1 second' },
  });
  const retry = { maximumAttempts: 10, initialInterval: '1 second', maximumInterval: '30 seconds' };
  // Training heartbeats every round: a short heartbeat timeout finds a dead worker fast and the retry resumes.
  const training = proxyActivities<TrainingActivities>({
    taskQueue: trainingQueue,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: input.trainHeartbeatTimeoutMs ?? 30_000,
    retry,
  });
  // Evaluation heartbeats per round too; registration and the decision are short and do not heartbeat.
  const evaluation = proxyActivities<TrainingActivities>({
    taskQueue: trainingQueue,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '2 minutes',
    retry,
  });
  const registry = proxyActivities<TrainingActivities>({
    taskQueue: trainingQueue,
    startToCloseTimeout: '10 minutes',
    retry,
  });

  const { workflowId, runId } = workflowInfo();
  const dataset = await io.buildRetrainDataset({
    source: input.source,
    horizonMinutes: input.horizonMinutes ?? 5,
    maxRows: input.maxRows,
    featureSet: input.featureSet,
    leakageCanary: input.leakageCanary,
  });
  const runKey = `${workflowId}:${runId}`;
  const trained = await training.trainRetrainModel({ runKey, dataset, spec: input.spec });
  const evaluated = await evaluation.evaluateRetrainModel({
    runKey,
    name: input.name,
    dataset,
    spec: input.spec,
    folds: input.folds ?? 4,
    embargoMinutes: input.embargoMinutes ?? 30,
    alpha: input.alpha ?? 0.05,
  });
  // The whole run id: UUIDv7 prefixes are timestamps and collide between runs started close together.
  const modelId = `${input.name}-${runId}`;
  const registered = await registry.registerRetrainModel({
    id: modelId,
    name: input.name,
    workflowId,
    dataset,
    spec: input.spec,
    modelPath: trained.modelPath,
    evaluation: evaluated,
  });
  let decision: RetrainResult['decision'];
  if (input.promotion === 'shadow') {
    // the learning loop's retrain: the shadow record decides promotion; only the leakage screen refuses here
    const refused = (evaluated.leakage ?? []).length > 0;
    await registry.setModelDecision({ id: registered.id, promote: false, shadow: !refused });
    decision = refused ? 'rejected' : 'shadow';
  } else {
    const promote = evaluated.gate.promote;
    await registry.setModelDecision({ id: registered.id, promote });
    decision = promote ? 'promoted' : 'rejected';
  }
  await io.notifyRetrain({
    workflowId,
    name: input.name,
    modelId: registered.id,
    decision,
    reason:
      decision === 'shadow'
        ? `enters shadow (the learning loop promotes it only if its shadow record beats the champion's); walk-forward gate: ${evaluated.gate.reason}`
        : evaluated.gate.reason,
    oos: evaluated.challenger.summary,
  });
  return {
    modelId: registered.id,
    kind: input.spec.kind,
    decision,
    gate: evaluated.gate,
    oos: evaluated.challenger.summary,
    parityMaxAbsDiff: registered.parityMaxAbsDiff,
    resumedFromRound: trained.resumedFromRound,
    dataHash: dataset.dataHash,
    leakage: evaluated.leakage ?? [],
  };
}
