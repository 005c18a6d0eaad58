import type { AuditAction, AuditEntry, AuditLog } from './audit-log';
import { operatorFromName, type ControlRef, type OperatorResolver } from './identity';

/** The session's control names (as its status query lists them) → the audit log's action names. */
export const CONTROL_ACTIONS: Readonly<Record<string, AuditAction>> = {
  start: 'session.started',
  pause: 'session.paused',
  resume: 'session.resumed',
  setRiskLimits: 'session.limits_set',
  setModel: 'session.model_set',
  liquidate: 'session.liquidated',
  kill: 'session.killed',
};

export interface ControlAuditInput {
  readonly sessionId: string;
  /** the session's name for the control (pause, resume, setRiskLimits, setModel, liquidate, kill, start) */
  readonly action: string;
  readonly detail: string;
  readonly workflowId: string;
  readonly runId: string;
  /** the operator named in the control's arguments (the CLI sends its user or `--operator`) */
  readonly operator?: string | null;
  /** where Temporal recorded who sent it: the update's id, the n-th signal of a name, or the start */
  readonly ref?: ControlRef | { readonly start: true };
  /** workflow time of the control (epoch ms) */
  readonly atMs?: number;
}

/**
 * Writes one session control to the audit log, once (idempotency key per update id, signal ordinal or start).
 * The actor is the operator the control names, else the identity Temporal recorded for it (a Web UI or
 * `temporal` CLI action); that identity is kept in the details either way.
 */
export async function recordControlAudit(
  deps: { readonly log: AuditLog; readonly operators?: OperatorResolver },
  c: ControlAuditInput,
): Promise<AuditEntry> {
  const action = CONTROL_ACTIONS[c.action];
  if (!action) throw new RangeError(`action: "${c.action}" is not a session control`);
  let identity: string | null = null;
  if (deps.operators && c.ref) {
    identity = await (
      'start' in c.ref
        ? deps.operators.startedBy(c.workflowId, c.runId)
        : deps.operators.sentBy(c.workflowId, c.runId, c.ref)
    ).catch(() => null);
  }
  const actor = c.operator?.trim() ? operatorFromName(c.operator.trim()) : (identity ?? 'temporal:unknown');
  const refKey = !c.ref
    ? `${c.action}@${c.atMs ?? 'unknown'}`
    : 'start' in c.ref
      ? 'start'
      : 'updateId' in c.ref
        ? `update:${c.ref.updateId}`
        : `signal:${c.ref.signal}#${c.ref.ordinal}`;
  return deps.log.append({
    actor,
    operator: actor,
    action,
    subject: c.sessionId,
    reason: c.detail || '(none given)',
    details: {
      sessionId: c.sessionId,
      control: c.action,
      ...(identity ? { temporalIdentity: identity } : {}),
      ...(c.action === 'setRiskLimits' ? { limits: safeJson(c.detail) } : {}),
    },
    workflowId: c.workflowId,
    runId: c.runId,
    atMs: c.atMs,
    idempotencyKey: `control:${c.workflowId}:${'start' in (c.ref ?? {}) ? 'first-run' : c.runId}:${refKey}`,
  });
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
