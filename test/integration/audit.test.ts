import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMonitoringActivities } from '../../activities/monitoring.activities';
import { buildProgram } from '../../cli/main';
import { SlackAlerter } from '../../src/monitoring/alerting';
import { formatAuditTable } from '../../cli/commands/audit';
import { AuditLog } from '../../src/monitoring/audit/audit-log';
import { createTestDatabase, type TestDatabase } from '../support/db';

describe('audit log', () => {
  let db: TestDatabase;
  let audit: AuditLog;
  const t0 = Date.UTC(2024, 2, 4, 14, 30);
  before(async () => {
    db = await createTestDatabase('tt_audit');
    audit = new AuditLog(db.pool);
    await audit.append({
      actor: 'workflow:tradingSession',
      action: 'order.submitted',
      subject: 's1:1709562600000:AAPL:0',
      workflowId: 'session-2024-03-04',
      atMs: t0,
      details: { qty: 10, side: 'buy' },
      idempotencyKey: 'order.submitted:s1:1709562600000:AAPL:0',
    });
    await audit.append({
      actor: 'workflow:tradingSession',
      action: 'order.filled',
      subject: 's1:1709562600000:AAPL:0',
      workflowId: 'session-2024-03-04',
      atMs: t0 + 1_000,
      details: { price: 180.02 },
    });
    await audit.append({
      actor: 'cli:alice',
      action: 'session.paused',
      subject: 'session-2024-03-04',
      reason: 'news pending',
      workflowId: 'session-2024-03-04',
      atMs: t0 + 60_000,
    });
    await audit.append({
      actor: 'risk-engine',
      action: 'risk.halted',
      reason: 'daily loss 3.1% > 3%',
      atMs: t0 + 120_000,
    });
  });
  after(async () => db.drop());

  test('when an order event is appended twice with one idempotency key, then one row exists and the first is returned', async () => {
    const again = await audit.append({
      actor: 'workflow:tradingSession',
      action: 'order.submitted',
      subject: 's1:1709562600000:AAPL:0',
      idempotencyKey: 'order.submitted:s1:1709562600000:AAPL:0',
    });
    const rows = await audit.list({ action: 'order.submitted' });
    assert.equal(rows.length, 1);
    assert.equal(again.id, rows[0]!.id);
    assert.equal(again.atMs, t0);
    assert.deepEqual(rows[0]!.details, { qty: 10, side: 'buy' });
  });

  test('when someone tries to update or delete an entry, then the database refuses', async () => {
    await assert.rejects(db.pool.query(`update audit_log set reason = 'edited'`), /append-only: UPDATE/);
    await assert.rejects(db.pool.query('delete from audit_log'), /append-only: DELETE/);
    await assert.rejects(db.pool.query('truncate audit_log'), /append-only: TRUNCATE/);
  });

  test('when listing with filters, then only matching entries come back in the asked order', async () => {
    assert.deepEqual(
      (await audit.list({ action: 'order.*', order: 'asc' })).map((e) => e.action),
      ['order.submitted', 'order.filled'],
    );
    assert.deepEqual(
      (await audit.list({ actor: 'cli:alice' })).map((e) => e.reason),
      ['news pending'],
    );
    assert.deepEqual(
      (await audit.list({ workflowId: 'session-2024-03-04' })).map((e) => e.action),
      ['session.paused', 'order.filled', 'order.submitted'],
    );
    assert.deepEqual(
      (await audit.list({ sinceMs: t0 + 30_000, untilMs: t0 + 90_000 })).map((e) => e.action),
      ['session.paused'],
    );
    assert.equal((await audit.list({ limit: 2 })).length, 2);
  });

  test('when an entry lacks who or why, then append fails naming the field', async () => {
    await assert.rejects(
      audit.append({ actor: '', action: 'order.submitted' }),
      /actor: must name who acted/,
    );
    await assert.rejects(
      audit.append({ actor: 'x', action: 'Pause' }),
      /action: "Pause" must be dotted lower-case/,
    );
    await assert.rejects(
      audit.append({ actor: 'cli:bob', action: 'session.liquidated' }),
      /reason: a person's control action/,
    );
    await assert.rejects(audit.list({ limit: 0 }), /limit: must be an integer/);
  });

  test('when `trader audit list --json --action session.*` runs, then it prints the matching entries as JSON', async () => {
    const printed: string[] = [];
    const orig = console.log;
    const prevUrl = process.env.DATABASE_URL;
    process.env.DATABASE_URL = db.url;
    console.log = (...a: unknown[]) => void printed.push(a.map(String).join(' '));
    try {
      await buildProgram().parseAsync(['node', 'trader', 'audit', 'list', '--json', '--action', 'session.*']);
      await buildProgram().parseAsync(['node', 'trader', 'audit', '--actor', 'risk-engine']);
    } finally {
      console.log = orig;
      if (prevUrl === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = prevUrl;
    }
    const json = JSON.parse(printed[0]!) as Array<{ action: string; actor: string; at: string }>;
    assert.deepEqual(
      json.map((e) => [e.actor, e.action, e.at]),
      [['cli:alice', 'session.paused', '2024-03-04T14:31:00.000Z']],
    );
    assert.match(printed[1]!, /^at\s+actor\s+operator\s+action/);
    assert.match(printed[1]!, /risk-engine\s+risk\.halted\s+daily loss 3\.1% > 3%/);
  });

  test('when `trader audit --date D --csv` runs, then it prints that New York day, oldest first, as CSV with operators', async () => {
    await audit.append({
      actor: 'workflow:tradingSessionWorkflow',
      operator: 'cli:alice',
      action: 'order.canceled',
      subject: 's1:1709562600000:AAPL:0',
      reason: 'session: cancel "all", now',
      atMs: Date.UTC(2024, 2, 5, 4, 59), // 23:59 on 2024-03-04 in New York
    });
    await audit.append({
      actor: 'cli:bob',
      action: 'config.changed',
      reason: 'next day',
      atMs: Date.UTC(2024, 2, 5, 5, 1),
    });
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const prevUrl = process.env.DATABASE_URL;
    process.env.DATABASE_URL = db.url;
    process.stdout.write = ((chunk: string) => (
      printed.push(String(chunk)),
      true
    )) as typeof process.stdout.write;
    try {
      await buildProgram().parseAsync(['node', 'trader', 'audit', '--date', '2024-03-04', '--csv']);
    } finally {
      process.stdout.write = write;
      if (prevUrl === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = prevUrl;
    }
    const lines = printed.join('').split('\r\n');
    assert.equal(lines[0], 'id,at,actor,operator,action,subject,reason,details,workflow_id,run_id');
    assert.deepEqual(
      lines.slice(1, -1).map((l) => l.split(',')[4]),
      ['order.submitted', 'order.filled', 'session.paused', 'risk.halted', 'order.canceled'],
    );
    assert.match(
      lines[5]!,
      /,workflow:tradingSessionWorkflow,cli:alice,order\.canceled,.*,"session: cancel ""all"", now",/,
    );
    assert.equal(lines.at(-1), '', 'ends with CRLF');
    await assert.rejects(
      buildProgram().parseAsync(['node', 'trader', 'audit', '--date', '2024-02-30', '--csv']),
      /--date: "2024-02-30" is not a calendar date/,
    );
    assert.deepEqual(
      (await audit.list({ operator: 'cli:alice' })).map((e) => e.action),
      ['order.canceled'],
    );
  });

  test('when there is nothing to show, then the table says so', () => {
    assert.equal(formatAuditTable([]), 'no audit entries match');
  });

  test('when a workflow records an audit entry through the activity twice (a retry), then one row is written', async () => {
    const logs: string[] = [];
    const acts = createMonitoringActivities({
      audit,
      alerter: new SlackAlerter({
        channels: { critical: '#c', warning: '#w', info: '#i' },
        log: (l) => logs.push(l),
      }),
    });
    const entry = {
      actor: 'workflow:emergencyShutdown',
      action: 'shutdown.emergency',
      reason: 'operator kill',
      workflowId: 'shutdown-1',
      idempotencyKey: 'shutdown-1:shutdown.emergency',
    };
    const a = await acts.recordAudit(entry);
    const b = await acts.recordAudit(entry);
    assert.equal(a.id, b.id);
    assert.equal((await audit.list({ action: 'shutdown.emergency' })).length, 1);
    await assert.rejects(
      acts.recordAudit({ actor: 'workflow:x', action: 'BAD' }),
      (e: Error & { nonRetryable?: boolean }) => e.nonRetryable === true && /action/.test(e.message),
    );
    assert.deepEqual(
      await acts.sendAlert({ key: 'k', severity: 'info', title: 'shutdown done', text: 'flat' }),
      { outcome: 'logged' },
    );
    assert.match(logs.join('\n'), /shutdown done/);
  });
});
