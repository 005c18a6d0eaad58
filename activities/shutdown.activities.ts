import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { AlertDto } from '../contracts/monitoring';
import {
  EXEC_ALGO_WORKFLOW_TYPE,
  SESSION_WORKFLOW_TYPE,
  algoStopSignal,
  killSignal,
  type CloseOutActivities,
  type CloseOutFailure,
  type ShutdownActivities,
} from '../contracts/session';
import type { Broker } from '../src/execution/broker';
import { CLOSING_ORDER_PREFIX, closeOutDateKey, planCloseOut } from '../src/execution/close-out';
import { TradingError } from '../src/model/errors';
import type { Order } from '../src/model/order';
import { operatorAlert } from '../src/monitoring/alerting/operator-alerts';
import { activityAuditContext, type ExecutionAudit } from '../src/monitoring/audit/activity-context';
import { AuditLog } from '../src/monitoring/audit/audit-log';
import { operatorFromName, type OperatorResolver } from '../src/monitoring/audit/identity';

export interface ShutdownActivityDeps {
  readonly client: Client;
  /** The audit log's database (the audit log is skipped without one). */
  readonly pool?: Pool;
  /** Names the Temporal identity that started the shutdown, kept next to the operator it names. */
  readonly operators?: OperatorResolver;
  /** Where alerts go: the monitoring alerter (Slack, deduplicated, routed by severity); the log without one. */
  readonly alert?: (a: AlertDto) => Promise<unknown>;
}

/** io task queue: finds and kills running sessions through the Temporal client, alerts, writes the audit log. */
export function createShutdownActivities(deps: ShutdownActivityDeps): ShutdownActivities {
  const audit = deps.pool ? new AuditLog(deps.pool) : undefined;
  const deliver = async (a: AlertDto) => {
    try {
      if (deps.alert) await deps.alert(a);
      else console.error(`[${a.severity}] ${a.title}: ${a.text}`);
    } catch (e) {
      // An alert that cannot be delivered must not stop a shutdown: the log keeps it.
      console.error(`[${a.severity}] ${a.title}: ${a.text} (alert delivery failed: ${(e as Error).message})`);
    }
  };
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

    async killSession({ workflowId, reason, operator }) {
      try {
        await deps.client.workflow
          .getHandle(workflowId)
          .signal(killSignal, { reason, ...(operator ? { operator } : {}) });
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

    async notify(event) {
      await deliver(operatorAlert(event));
    },

    async alert({ severity, text }) {
      await deliver({
        key: `alert:${text}`,
        severity,
        title: severity === 'critical' ? 'Action needed' : 'Info',
        text,
      });
    },

    async audit({ action, reason, requestedBy, details, workflowId, runId }) {
      if (!audit) return;
      const identity = deps.operators
        ? await deps.operators.startedBy(workflowId, runId).catch(() => null)
        : null;
      const operator = requestedBy.trim()
        ? operatorFromName(requestedBy.trim())
        : (identity ?? 'temporal:unknown');
      await audit.append({
        // the request is the operator's own act; its result is the workflow's, done for that operator
        actor: action === 'shutdown.emergency' ? operator : 'workflow:emergencyShutdownWorkflow',
        operator,
        action,
        subject: details.account ? String(details.account) : 'all accounts',
        reason,
        details: { ...details, ...(identity ? { temporalIdentity: identity } : {}) },
        workflowId,
        runId,
        idempotencyKey: `${action}:${workflowId}:${runId}`,
      });
    },
  };
}

export interface CloseOutActivityDeps {
  readonly broker: Broker;
  /** The audit trail of the closing orders, cancels and fills; a failing audit write never stops the close-out. */
  readonly audit?: ExecutionAudit;
  /** The wall clock (closing order ids carry the New York date). */
  readonly now?: () => number;
}

/**
 * execution task queue: one close-out step at the broker — read (open orders, recent orders, positions), cancel
 * what is not a closing order, send one closing order per position with nothing open (src/execution/close-out.ts).
 * A permanent error on one symbol (a refused order, a forbidden cancel) is reported and that symbol is given up;
 * a permanent error reading the account fails the step non-retryably; transient errors retry the whole step,
 * which is idempotent (closing order ids derive from the broker's state).
 */
export function createCloseOutActivities(deps: CloseOutActivityDeps): CloseOutActivities {
  const { broker } = deps;
  return {
    async closeOutStep({ level, escalating, limitBandBps, skip, operator }) {
      return wrap(async () => {
        const open = await broker.listOrders({ status: 'open', limit: 500 });
        const recent = await broker.listOrders({ status: 'all', limit: 500 });
        const positions = await broker.getPositions();
        const plan = planCloseOut({
          open,
          recent,
          positions,
          level,
          escalating,
          baseBandBps: limitBandBps,
          dateKey: closeOutDateKey((deps.now ?? Date.now)()),
          skip: new Set(skip),
        });
        const failures: CloseOutFailure[] = [];
        const canceled: Order[] = [];
        const replaced: Order[] = [];
        const placed: Array<{ spec: (typeof plan.send)[number]; order?: Order; rejected?: string }> = [];
        const sent: string[] = [];
        for (const [list, into] of [
          [plan.cancel, canceled],
          [plan.replace, replaced],
        ] as const) {
          for (const o of list) {
            try {
              await broker.cancelOrder(o.id);
              into.push(o);
            } catch (e) {
              if (!isPermanent(e)) throw e;
              failures.push({
                symbol: o.symbol,
                error: `cancel ${o.clientOrderId}: ${(e as Error).message}`,
              });
            }
          }
        }
        for (const spec of plan.send) {
          try {
            const r = await broker.submitOrder(spec);
            if (!r.alreadyExisted) sent.push(spec.clientOrderId);
            placed.push({ spec, order: r.order });
          } catch (e) {
            if (!isPermanent(e)) throw e;
            failures.push({ symbol: spec.symbol, error: `close ${spec.symbol}: ${(e as Error).message}` });
            placed.push({ spec, rejected: (e as Error).message });
          }
        }
        await auditStep(deps.audit, operator, { canceled, replaced, placed, recent });
        return {
          positions: positions.map((p) => ({
            symbol: p.symbol,
            qty: p.qty,
            avgPrice: p.avgPrice,
            lastPrice: p.lastPrice,
          })),
          openOrders: open.length,
          flat: positions.length === 0 && open.length === 0,
          canceled: canceled.length,
          replaced: replaced.length,
          sent,
          failures,
        };
      });
    },
  };
}

async function auditStep(
  audit: ExecutionAudit | undefined,
  operator: string,
  step: {
    canceled: readonly Order[];
    replaced: readonly Order[];
    placed: ReadonlyArray<{ spec: Parameters<Broker['submitOrder']>[0]; order?: Order; rejected?: string }>;
    recent: readonly Order[];
  },
): Promise<void> {
  if (!audit) return;
  try {
    const ctx = await activityAuditContext(audit.operators, operatorFromName(operator), 'emergency-shutdown');
    await audit.orders.canceled(ctx, step.canceled, 'emergency shutdown');
    await audit.orders.canceled(ctx, step.replaced, 'emergency shutdown: replaced by the next escalation');
    for (const p of step.placed)
      await audit.orders.placed(ctx, p.spec, p.order ? { order: p.order } : { rejected: p.rejected ?? '' });
    await audit.orders.observe(ctx, step.recent, CLOSING_ORDER_PREFIX);
  } catch (e) {
    // The close-out goes on without its audit rows rather than leave positions open; the next step retries them.
    console.error(`emergency shutdown: audit write failed: ${(e as Error).message}`);
  }
}

const isPermanent = (e: unknown) => e instanceof TradingError && !e.retryable;

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof TradingError)
      throw e.retryable
        ? ApplicationFailure.retryable(e.message, e.name)
        : ApplicationFailure.nonRetryable(e.message, e.name);
    throw e;
  }
}
