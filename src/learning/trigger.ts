/**
 * Starting the day's learning cycles from outside a workflow (the post-market routine's retrain hook): one
 * `learningCycleWorkflow` per model name in use (a champion or a challenger), under the id
 * `learning-<name>-<day>` — the same id the learning Schedule's run starts — so whichever comes first runs the
 * day and the other finds it started. Each name keeps the policy settings of its previous learning day.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import {
  LEARNING_CYCLE_WORKFLOW,
  learningCycleWorkflowId,
  type LearningConfig,
  type LearningCycleInput,
} from '../../contracts/learning';
import type { ModelRegistry } from '../models/registry/registry';

export interface StartedCycle {
  readonly name: string;
  readonly workflowId: string;
  /** false: the day's cycle of this name was already started (by the Schedule, or an earlier call) */
  readonly started: boolean;
}

export async function startLearningCycles(
  client: Client,
  pool: Pool,
  registry: ModelRegistry,
  o: { readonly day: string; readonly taskQueues: { readonly io: string; readonly training: string } },
): Promise<StartedCycle[]> {
  const out: StartedCycle[] = [];
  for (const name of await registry.activeNames()) {
    const { rows } = await pool.query<{ config: Partial<LearningConfig> | null }>(
      `select inputs->'config' as config from learning_days where name = $1 and day < $2::date order by day desc limit 1`,
      [name, o.day],
    );
    const input: LearningCycleInput = {
      name,
      day: o.day,
      ...(rows[0]?.config ? { config: rows[0].config } : {}),
      taskQueues: o.taskQueues,
    };
    const workflowId = learningCycleWorkflowId(name, o.day);
    try {
      await client.workflow.start(LEARNING_CYCLE_WORKFLOW, {
        taskQueue: o.taskQueues.io,
        workflowId,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      out.push({ name, workflowId, started: true });
    } catch (e) {
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
      out.push({ name, workflowId, started: false });
    }
  }
  return out;
}
