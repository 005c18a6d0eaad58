import type { Pool } from 'pg';
import { addDays, nyWallToUtc, parseDate } from '../../market/calendar';
import { ValidationError } from '../../model/errors';

/**
 * The append-only audit log (table audit_log, migrations 003, 060 and 100): who did what, for whom, when and
 * why, for every order, fill, cancel and control action. Rows are never updated or deleted (a trigger forbids
 * it). This class is the one writer: every append goes through `append`, with an idempotency key wherever an
 * activity writes (activities retry).
 */

/**
 * Actions the system writes (who writes each: docs/operations-monitoring.md, *Audit log*); other dotted
 * lower-case names are accepted (e.g. `config.changed` from `trader audit record`).
 */
export const AUDIT_ACTIONS = [
  'order.submitted',
  'order.rejected',
  'order.partially_filled',
  'order.filled',
  'order.canceled',
  'session.started',
  'session.paused',
  'session.resumed',
  'session.limits_set',
  'session.model_set',
  'session.liquidated',
  'session.killed',
  'shutdown.emergency',
  'shutdown.emergency_completed',
  'model.promoted',
  'model.rejected',
  'config.changed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number] | (string & {});

const ACTION_RE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export interface AuditEntryInput {
  /** Who: a person (`cli:alice`), a workflow (`workflow:tradingSession`) or a system part (`risk-engine`). */
  readonly actor: string;
  /**
   * For whom: the person behind the action (`cli:alice`, or `temporal:<identity>` for a Web UI or `temporal`
   * CLI action) when the actor is a workflow acting on someone's behalf; for a person's own control, the same as
   * the actor.
   */
  readonly operator?: string | null;
  readonly action: AuditAction;
  /** What it acted on: a client order id, a session workflow id, a model id. */
  readonly subject?: string;
  /** Why, in words. Required for control actions by people. */
  readonly reason?: string;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly workflowId?: string;
  readonly runId?: string;
  /** When it happened (epoch ms); defaults to the database's now(). */
  readonly atMs?: number;
  /** Makes a retried append a no-op: the same key returns the first row. */
  readonly idempotencyKey?: string;
}

export interface AuditEntry {
  readonly id: number;
  readonly atMs: number;
  readonly actor: string;
  readonly operator: string | null;
  readonly action: string;
  readonly subject: string | null;
  readonly reason: string | null;
  readonly details: Record<string, unknown>;
  readonly workflowId: string | null;
  readonly runId: string | null;
  readonly idempotencyKey: string | null;
}

export interface AuditFilter {
  readonly actor?: string;
  readonly operator?: string;
  /** Exact action, or a prefix ending in `.` / `.*` (e.g. `order.` or `order.*` for every order event). */
  readonly action?: string;
  readonly subject?: string;
  readonly workflowId?: string;
  readonly sinceMs?: number;
  readonly untilMs?: number;
  /** Default 100, at most 100 000. */
  readonly limit?: number;
  /** Newest first by default. */
  readonly order?: 'asc' | 'desc';
}

interface Row {
  id: string;
  at: Date;
  actor: string;
  operator: string | null;
  action: string;
  subject: string | null;
  reason: string | null;
  details: Record<string, unknown>;
  workflow_id: string | null;
  run_id: string | null;
  idempotency_key: string | null;
}

const toEntry = (r: Row): AuditEntry => ({
  id: Number(r.id),
  atMs: r.at.getTime(),
  actor: r.actor,
  operator: r.operator,
  action: r.action,
  subject: r.subject,
  reason: r.reason,
  details: r.details,
  workflowId: r.workflow_id,
  runId: r.run_id,
  idempotencyKey: r.idempotency_key,
});

export function validateAuditEntry(e: AuditEntryInput): void {
  if (!e.actor?.trim())
    throw new ValidationError('actor', 'must name who acted (e.g. cli:alice, workflow:tradingSession)');
  if (!ACTION_RE.test(e.action ?? ''))
    throw new ValidationError('action', `"${e.action}" must be dotted lower-case, e.g. order.submitted`);
  if (e.operator !== undefined && e.operator !== null && !e.operator.trim())
    throw new ValidationError('operator', 'must name a person (cli:alice) or be left out');
  if (e.atMs !== undefined && !Number.isFinite(e.atMs))
    throw new ValidationError('atMs', 'must be epoch milliseconds');
  if (e.actor.startsWith('cli:') && !e.action.startsWith('order.') && !e.reason?.trim()) {
    throw new ValidationError('reason', `a person's control action (${e.action}) needs a reason`);
  }
}

const COLUMNS =
  'id, at, actor, operator, action, subject, reason, details, workflow_id, run_id, idempotency_key';
const MAX_LIMIT = 100_000;

export class AuditLog {
  constructor(private readonly pool: Pool) {}

  /** Appends one entry (or returns the existing one for a repeated idempotency key). */
  async append(e: AuditEntryInput): Promise<AuditEntry> {
    validateAuditEntry(e);
    const params = [
      e.atMs === undefined ? null : new Date(e.atMs),
      e.actor,
      e.operator ?? null,
      e.action,
      e.subject ?? null,
      e.reason ?? null,
      JSON.stringify(e.details ?? {}),
      e.workflowId ?? null,
      e.runId ?? null,
      e.idempotencyKey ?? null,
    ];
    const { rows } = await this.pool.query<Row>(
      `insert into audit_log (at, actor, operator, action, subject, reason, details, workflow_id, run_id, idempotency_key)
       values (coalesce($1::timestamptz, now()), $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)
       on conflict (idempotency_key) where idempotency_key is not null do nothing
       returning ${COLUMNS}`,
      params,
    );
    if (rows[0]) return toEntry(rows[0]);
    const existing = await this.pool.query<Row>(
      `select ${COLUMNS} from audit_log where idempotency_key = $1`,
      [e.idempotencyKey],
    );
    return toEntry(existing.rows[0]!);
  }

  async list(f: AuditFilter = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.actor) add('actor = ?', f.actor);
    if (f.operator) add('operator = ?', f.operator);
    if (f.action) {
      const prefix = f.action.endsWith('.*')
        ? f.action.slice(0, -1)
        : f.action.endsWith('.')
          ? f.action
          : undefined;
      if (prefix) add("action like ? escape '\\'", `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      else add('action = ?', f.action);
    }
    if (f.subject) add('subject = ?', f.subject);
    if (f.workflowId) add('workflow_id = ?', f.workflowId);
    if (f.sinceMs !== undefined) add('at >= ?', new Date(f.sinceMs));
    if (f.untilMs !== undefined) add('at < ?', new Date(f.untilMs));
    const limit = f.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
      throw new ValidationError('limit', `must be an integer in 1..${MAX_LIMIT} (got ${limit})`);
    const dir = f.order === 'asc' ? 'asc' : 'desc';
    params.push(limit);
    const { rows } = await this.pool.query<Row>(
      `select ${COLUMNS} from audit_log ${where.length ? `where ${where.join(' and ')}` : ''}
       order by at ${dir}, id ${dir} limit $${params.length}`,
      params,
    );
    return rows.map(toEntry);
  }
}

/** The wall-clock span of an America/New_York calendar day, [fromMs, untilMs): a compliance day. */
export function auditDayRange(date: string, field = 'date'): { sinceMs: number; untilMs: number } {
  try {
    parseDate(date, field);
  } catch {
    throw new ValidationError(field, `"${date}" is not a calendar date in YYYY-MM-DD form`);
  }
  return { sinceMs: nyWallToUtc(date, 0), untilMs: nyWallToUtc(addDays(date, 1), 0) };
}

export const AUDIT_CSV_COLUMNS = [
  'id',
  'at',
  'actor',
  'operator',
  'action',
  'subject',
  'reason',
  'details',
  'workflow_id',
  'run_id',
] as const;

/** Entries as RFC 4180 CSV (header line, CRLF line ends, fields quoted where needed), for compliance exports. */
export function auditCsv(entries: readonly AuditEntry[]): string {
  const field = (v: string) => (/[",\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [AUDIT_CSV_COLUMNS.join(',')];
  for (const e of entries)
    lines.push(
      [
        String(e.id),
        new Date(e.atMs).toISOString(),
        e.actor,
        e.operator ?? '',
        e.action,
        e.subject ?? '',
        e.reason ?? '',
        JSON.stringify(e.details ?? {}),
        e.workflowId ?? '',
        e.runId ?? '',
      ]
        .map(field)
        .join(','),
    );
  return `${lines.join('\r\n')}\r\n`;
}
