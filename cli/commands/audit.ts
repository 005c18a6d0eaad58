import type { Command } from 'commander';
import { resolveDatabaseUrl } from '../../src/stack/resolve';
import { loadConfig } from '../../src/config/config';
import { ValidationError } from '../../src/model/errors';
import {
  AuditLog,
  auditCsv,
  auditDayRange,
  type AuditEntry,
  type AuditFilter,
} from '../../src/monitoring/audit/audit-log';
import { createPool } from '../../src/storage/pool';

interface ListOptions {
  actor?: string;
  operator?: string;
  date?: string;
  action?: string;
  subject?: string;
  workflowId?: string;
  since?: string;
  until?: string;
  limit?: string;
  asc?: boolean;
  json?: boolean;
  csv?: boolean;
}

function parseTime(v: string | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  // Relative forms for the common question "what happened in the last hour".
  const rel = /^(\d+)([mhd])$/.exec(v);
  if (rel)
    return (
      Date.now() - Number(rel[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd']
    );
  const ms = Date.parse(v);
  if (Number.isNaN(ms))
    throw new ValidationError(
      field,
      `"${v}" is not a time; use ISO 8601 (2024-03-04T14:30:00Z) or a relative 30m / 6h / 2d`,
    );
  return ms;
}

export function auditFilterFromOptions(o: ListOptions): AuditFilter {
  if (o.json && o.csv) throw new ValidationError('--csv', 'choose one of --json and --csv');
  if (o.date !== undefined && (o.since !== undefined || o.until !== undefined))
    throw new ValidationError('--date', 'give either --date or --since/--until');
  const day = o.date !== undefined ? auditDayRange(o.date, '--date') : undefined;
  // A day's export is the whole day, oldest first; a listing is the newest 100 unless told otherwise.
  const limit = o.limit !== undefined ? Number(o.limit) : day || o.csv ? 100_000 : 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000)
    throw new ValidationError('--limit', `"${o.limit}" must be an integer in 1..100000`);
  return {
    actor: o.actor,
    operator: o.operator,
    action: o.action,
    subject: o.subject,
    workflowId: o.workflowId,
    sinceMs: day?.sinceMs ?? parseTime(o.since, '--since'),
    untilMs: day?.untilMs ?? parseTime(o.until, '--until'),
    limit,
    order: o.asc || day ? 'asc' : 'desc',
  };
}

export function formatAuditTable(entries: readonly AuditEntry[]): string {
  if (!entries.length) return 'no audit entries match';
  const rows = entries.map((e) => [
    new Date(e.atMs).toISOString(),
    e.actor,
    e.operator ?? '',
    e.action,
    e.subject ?? '',
    e.reason ?? '',
    e.workflowId ?? '',
  ]);
  const head = ['at', 'actor', 'operator', 'action', 'subject', 'reason', 'workflow'];
  const widths = head.map((h, i) => Math.min(48, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (c.length > widths[i]! ? `${c.slice(0, widths[i]! - 1)}…` : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function register(program: Command): void {
  const audit = program
    .command('audit')
    .description(
      'the append-only audit log of orders, fills, cancels and control actions (who, for whom, what, when, why)',
    );
  audit
    .command('list', { isDefault: true })
    .description('list audit entries, newest first (a --date: that whole day, oldest first)')
    .option(
      '--date <YYYY-MM-DD>',
      'one America/New_York calendar day (all of it; e.g. with --csv for compliance)',
    )
    .option('--actor <actor>', 'only this actor, e.g. cli:alice or workflow:tradingSessionWorkflow')
    .option('--operator <operator>', 'only entries done by or for this operator, e.g. cli:alice')
    .option('--action <action>', 'exact action (order.submitted) or a prefix (order.* / session.)')
    .option('--subject <subject>', 'only this subject (client order id, workflow id, model id)')
    .option('--workflow-id <id>', 'only entries written for this workflow')
    .option('--since <time>', 'from this time: ISO 8601 or relative (30m, 6h, 2d)')
    .option('--until <time>', 'before this time: ISO 8601 or relative')
    .option('--limit <n>', 'at most this many entries, 1..100000 (default 100; with --date or --csv 100000)')
    .option('--asc', 'oldest first')
    .option('--json', 'print JSON (one array); stdout holds only the data')
    .option('--csv', 'print RFC 4180 CSV with a header line; stdout holds only the data')
    .action(async (opts: ListOptions) => {
      const filter = auditFilterFromOptions(opts);
      const pool = createPool(await resolveDatabaseUrl(loadConfig()), { max: 1 });
      try {
        const entries = await new AuditLog(pool).list(filter);
        if (opts.csv) process.stdout.write(auditCsv(entries));
        else
          console.log(
            opts.json
              ? JSON.stringify(
                  entries.map((e) => ({ ...e, at: new Date(e.atMs).toISOString() })),
                  null,
                  2,
                )
              : formatAuditTable(entries),
          );
      } finally {
        await pool.end();
      }
    });
  audit
    .command('record')
    .description('append a manual entry (e.g. an operator decision made outside the system)')
    .requiredOption('--actor <actor>', 'who, e.g. cli:alice')
    .requiredOption('--action <action>', 'what, dotted lower-case, e.g. config.changed')
    .requiredOption('--reason <text>', 'why')
    .option('--subject <subject>', 'what it concerns')
    .action(async (opts: { actor: string; action: string; reason: string; subject?: string }) => {
      const pool = createPool(await resolveDatabaseUrl(loadConfig()), { max: 1 });
      try {
        const e = await new AuditLog(pool).append({
          actor: opts.actor,
          action: opts.action,
          reason: opts.reason,
          subject: opts.subject,
        });
        console.log(`recorded audit entry ${e.id} at ${new Date(e.atMs).toISOString()}`);
      } finally {
        await pool.end();
      }
    });
}
