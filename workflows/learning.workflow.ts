import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  executeChild,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  learningCycleWorkflowId,
  learningRetrainWorkflowId,
  type DriftMonitorInput,
  type DriftReportDto,
  type LearningActivities,
  type LearningConfig,
  type LearningCycleInput,
  type LearningCycleResult,
  type LearningDecisionsDto,
  type LearningDayInputs,
  type ShadowEvaluationDto,
} from '../contracts/learning';
import type { MonitoringActivities } from '../contracts/monitoring';
import type { RetrainInput } from '../contracts/retrain';
import { TASK_QUEUES } from '../contracts/task-queues';
import { LEARNING_START, learningConfig, learningDay } from '../src/learning/policy';
import { nyDate } from '../src/market/calendar';
import { retrainWorkflow } from './retrain.workflow';

function configOf(partial: Partial<LearningConfig> | undefined): LearningConfig {
  try {
    return learningConfig(partial);
  } catch (e) {
    throw ApplicationFailure.nonRetryable((e as Error).message, 'ValidationError');
  }
}

function activities(queue: string) {
  return {
    io: proxyActivities<LearningActivities>({
      taskQueue: queue,
      startToCloseTimeout: '10 minutes',
      retry: { maximumAttempts: 5, initialInterval: '1 second' },
    }),
    monitoring: proxyActivities<MonitoringActivities>({
      taskQueue: queue,
      startToCloseTimeout: '1 minute',
      retry: { maximumAttempts: 3 },
    }),
  };
}

/**
 * The drift monitor of one model on one trading day (post-market): feature PSI against the training rows, PSI of
 * the day's scores against the out-of-sample ones, realised against expected performance through the sequential
 * tests; stored in `model_drift`, exported as metrics, and an operator alert (model_drift) on a breach.
 */
export async function driftMonitorWorkflow(input: DriftMonitorInput): Promise<DriftReportDto> {
  const config = configOf(input.config);
  const { io, monitoring } = activities(input.taskQueues?.io ?? TASK_QUEUES.io);
  const report = await io.computeDrift({ modelId: input.modelId, name: input.name, day: input.day, config });
  if (report.breach)
    await monitoring.notify({
      kind: 'model_drift',
      model: input.modelId,
      name: input.name,
      psi: report.predictionPsi ?? report.maxFeaturePsi ?? 0,
      threshold: config.predictionPsiThreshold,
      tradingDay: input.day,
      reasons: report.reasons,
    });
  return report;
}

/**
 * One post-market day of continuous learning for a model name (started by the learning Schedule, or by hand):
 *   drift monitor for every model in use (champion and shadow challengers, child workflows) → each challenger's
 *   shadow record against the champion → the learning policy (src/learning/policy.ts: promote / reject /
 *   retrain, with its reasons) → registry decisions, audited and announced → a retrain into shadow when the
 *   policy asks (retrainWorkflow as a child, id `retrain-<name>-<day>`: one per name and day, whoever asks) →
 *   the members' live records (ensemble weights) → the day's record in `learning_days`.
 */
export async function learningCycleWorkflow(input: LearningCycleInput): Promise<LearningCycleResult> {
  const config = configOf(input.config);
  const ioQueue = input.taskQueues?.io ?? TASK_QUEUES.io;
  const { io, monitoring } = activities(ioQueue);
  const { workflowId } = workflowInfo();
  const name = input.name;
  const day = input.day ?? nyDate(Date.now());

  const ctx = await io.learningContext({ name, day, trainWindowDays: config.trainWindowDays });
  if (ctx.closed)
    return {
      name,
      day,
      skipped: ctx.closed,
      championId: null,
      drift: null,
      shadows: [],
      decisions: null,
      state: null,
    };

  // ---- drift of every model in use
  const inUse = [...(ctx.champion ? [ctx.champion.id] : []), ...ctx.shadows.map((s) => s.id)];
  const reports = await Promise.all(
    inUse.map((modelId) =>
      executeChild(driftMonitorWorkflow, {
        workflowId: `drift-${modelId}-${day}`,
        taskQueue: ioQueue,
        args: [{ modelId, name, day, config: input.config, taskQueues: { io: ioQueue } }],
      }),
    ),
  );
  const drift = ctx.champion ? reports[0]! : null;

  // ---- shadow records
  const shadows: ShadowEvaluationDto[] = [];
  for (const s of ctx.shadows)
    shadows.push(
      await io.evaluateShadow({
        name,
        championId: ctx.champion?.id ?? null,
        shadowId: s.id,
        enteredDay: s.enteredDay,
        day,
        config,
      }),
    );

  // ---- the policy
  const inputs: LearningDayInputs = { day, championId: ctx.champion?.id ?? null, drift, shadows };
  const outcome = learningDay(ctx.previous?.state ?? LEARNING_START, inputs, config);
  const d = outcome.decisions;
  const notes = [...d.notes];
  if (d.promote) {
    await io.applyModelDecision({
      name,
      modelId: d.promote.modelId,
      decision: 'promote',
      reason: d.promote.reason,
      workflowId,
      day,
    });
    await monitoring.notify({
      kind: 'model_decision',
      name,
      modelId: d.promote.modelId,
      decision: 'promoted',
      reason: d.promote.reason,
      workflowId,
    });
  }
  for (const r of d.reject) {
    await io.applyModelDecision({
      name,
      modelId: r.modelId,
      decision: 'reject',
      reason: r.reason,
      workflowId,
      day,
    });
    await monitoring.notify({
      kind: 'model_decision',
      name,
      modelId: r.modelId,
      decision: 'rejected',
      reason: r.reason,
      workflowId,
    });
  }

  // ---- retrain into shadow
  let retrain: LearningDecisionsDto['retrain'] = d.retrain;
  if (d.retrain) {
    const t = input.retrain ?? {};
    const spec = t.spec ?? ctx.champion?.spec ?? null;
    const symbol = t.symbol ?? ctx.champion?.symbol;
    if (!spec || !symbol || symbol.includes(',')) {
      notes.push(
        `retrain (${d.retrain.trigger}) not started: no spec or single symbol to train on (give input.retrain)`,
      );
      retrain = null;
    } else {
      const retrainId = learningRetrainWorkflowId(name, day);
      const featureSet = t.featureSet ?? ctx.champion?.featureSet.replace(/^features\./, '');
      const rin: RetrainInput = {
        name,
        source: { kind: 'db', symbol, fromMs: ctx.trainWindow.fromMs, toMs: ctx.trainWindow.toMs },
        spec,
        ...(featureSet ? { featureSet } : {}),
        horizonMinutes: t.horizonMinutes ?? ctx.champion?.horizonMinutes ?? 5,
        ...(t.maxRows ? { maxRows: t.maxRows } : {}),
        ...(t.folds ? { folds: t.folds } : {}),
        ...(t.embargoMinutes !== undefined ? { embargoMinutes: t.embargoMinutes } : {}),
        alpha: config.alpha,
        promotion: 'shadow',
        taskQueues: { io: ioQueue, training: input.taskQueues?.training ?? TASK_QUEUES.training },
      };
      try {
        const r = await executeChild(retrainWorkflow, {
          workflowId: retrainId,
          taskQueue: ioQueue,
          args: [rin],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        retrain = { ...d.retrain, workflowId: retrainId, modelId: r.modelId, outcome: r.decision };
      } catch (e) {
        if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
        retrain = { ...d.retrain, workflowId: retrainId, outcome: 'duplicate' };
        notes.push(`retrain ${retrainId} already ran: not started again`);
      }
    }
  }

  const decisions: LearningDecisionsDto = { ...d, retrain, notes };
  const state =
    retrain || !d.retrain
      ? outcome.state
      : {
          ...outcome.state,
          lastRetrainCycle: ctx.previous?.state.lastRetrainCycle ?? null,
          lastRetrainDay: ctx.previous?.state.lastRetrainDay ?? null,
        };
  await io.refreshLiveRecords({ name, day, config });
  await io.recordLearningDay({ name, day, state, decisions, inputs, workflowId, config });
  return { name, day, skipped: null, championId: state.championId, drift, shadows, decisions, state };
}

/**
 * What the learning Schedule starts (Schedules append their run time to a workflow id, so they cannot name the
 * day): the day's `learningCycleWorkflow` under `learning-<name>-<day>`, the id the post-market routine's hook
 * uses too — whichever comes first runs the day, the other finds it started.
 */
export async function scheduledLearningWorkflow(
  input: Omit<LearningCycleInput, 'day'>,
): Promise<{ workflowId: string; started: boolean }> {
  const day = nyDate(Date.now());
  const workflowId = learningCycleWorkflowId(input.name, day);
  try {
    await startChild(learningCycleWorkflow, {
      workflowId,
      taskQueue: input.taskQueues?.io ?? workflowInfo().taskQueue,
      args: [{ ...input, day }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
    return { workflowId, started: true };
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    return { workflowId, started: false };
  }
}
