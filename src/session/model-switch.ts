/**
 * Switching the model running sessions trade (the session's `setModel` update): one session by id (`trader
 * session set-model`), or every running session that trades a model `models rollback` just took out of service.
 * The new model must read the same feature set and version as the one it replaces — the session's features carry
 * on — so that is checked against the registry before any update is sent.
 */
import type { Client } from '@temporalio/client';
import { SESSION_WORKFLOW_TYPE, setModelUpdate, type SessionStatus } from '../../contracts/session';
import { ValidationError } from '../model/errors';
import type { ModelRegistry } from '../models/registry/registry';

/** Refuses a switch from `fromId` to `toId` that the session's features cannot serve, naming both. */
export async function assertSwitchable(registry: ModelRegistry, fromId: string, toId: string): Promise<void> {
  const [from, to] = await Promise.all([registry.get(fromId), registry.get(toId)]);
  if (!to) throw new ValidationError('--model', `no model "${toId}" in the registry`);
  if (!from) return; // the session's model is gone from the registry: nothing to compare with
  if (from.featureSet !== to.featureSet || from.featureSetVersion !== to.featureSetVersion)
    throw new ValidationError(
      '--model',
      `${toId} reads ${to.featureSet}@${to.featureSetVersion}; the session's ${fromId} reads ${from.featureSet}@${from.featureSetVersion} (start a new session for it)`,
    );
}

/** Sends `setModel` to every running session whose ModelId search attribute is `fromId`. */
export async function switchRunningSessions(
  client: Client,
  registry: ModelRegistry,
  o: { readonly fromId: string; readonly toId: string; readonly reason: string; readonly operator: string },
): Promise<Array<{ workflowId: string; status?: SessionStatus; refused?: string }>> {
  await assertSwitchable(registry, o.fromId, o.toId);
  const out: Array<{ workflowId: string; status?: SessionStatus; refused?: string }> = [];
  const query = `WorkflowType = '${SESSION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND ModelId = '${o.fromId.replace(/'/g, '')}'`;
  for await (const wf of client.workflow.list({ query })) {
    try {
      const status = await client.workflow.getHandle(wf.workflowId).executeUpdate(setModelUpdate, {
        args: [{ modelId: o.toId, reason: o.reason, operator: o.operator }],
      });
      out.push({ workflowId: wf.workflowId, status });
    } catch (e) {
      out.push({
        workflowId: wf.workflowId,
        refused:
          (e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message,
      });
    }
  }
  return out;
}
