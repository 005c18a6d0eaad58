import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import {
  EXEC_ALGO_WORKFLOW_TYPE,
  SESSION_WORKFLOW_TYPE,
  algoStopSignal,
  killSignal,
  type ShutdownActivities,
} from '../contracts/session';

export interface ShutdownActivityDeps {
  readonly client: Client;
  readonly pool?: Pool;
  /** Slack (or log) alert sink; the worker wires the monitoring alerter here. */
  readonly alert?: (a: { severity: 'critical' | 'info'; text: string }) => Promise<void>;
}

/** io task queue: finds and kills running sessions through the Temporal client, alerts, writes the audit log. */
export function createShutdownActivities(deps: ShutdownActivityDeps): ShutdownActivities {
  return {
    async findRunningSessions({ account }) {
      // Search attributes make running sessions findable without any registry of our own.
      const query =
        `WorkflowType = '${SESSION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'` +
        (account ? ` AND Account = '${account.replace(/'/g, '')}'` : '');
      const ids: string[] = [];
      for await (const wf of deps.client.workflow.list({ query })) ids.push(wf.workflowId);
      return ids.sort();
    },

    async killSession({ workflowId, reason }) {
      try {
        await deps.client.workflow.getHandle(workflowId).signal(killSignal, { reason });
      } catch (e) {
        // Already finished between the list and the signal: nothing left to kill.
        if ((e as Error).name === 'WorkflowNotFoundError') return;
        throw e;
      }
    },

    async stopExecAlgos({ account, reason }) {
      const query =
        `WorkflowType = '${EXEC_ALGO_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'` +
        (account ? ` AND Account = '${account.replace(/'/g, '')}'` : '');
      const ids: string[] = [];
      for await (const wf of deps.client.workflow.list({ query })) {
        try {
          await deps.client.workflow.getHandle(wf.workflowId).signal(algoStopSignal, { reason });
          ids.push(wf.workflowId);
        } catch (e) {
          if ((e as Error).name !== 'WorkflowNotFoundError') throw e;
        }
      }
      return ids.sort();
    },

    async alert(a) {
      if (deps.alert) await deps.alert(a);
      else console.error(`[${a.severity}] ${a.text}`);
    },

    async audit({ action, reason, details, workflowId, runId }) {
      if (!deps.pool) return;
      await deps.pool.query(
        `insert into audit_log (actor, action, subject, reason, details, workflow_id, run_id) values ($1, $2, $3, $4, $5, $6, $7)`,
        [
          'emergency-shutdown',
          action,
          String(details.requestedBy ?? ''),
          reason,
          JSON.stringify(details),
          workflowId,
          runId,
        ],
      );
    },
  };
}
