import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { DailyRoutineInput, SessionInput } from '../../contracts/session';
import { createMonitoringActivities } from '../../activities/monitoring.activities';
import { SlackAlerter } from '../../src/monitoring/alerting';
import type { AuditLog } from '../../src/monitoring/audit/audit-log';
import { workflowBundle } from '../support/session-harness';
import { SlackStub } from '../support/slack-stub';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

/**
 * Issue 18: malformed inputs given to the workflows themselves (past the CLI: a script, a Schedule, the temporal
 * CLI) fail the workflow at once with a nonRetryable ApplicationFailure (ValidationError) naming the field, before
 * any activity of the session is scheduled. The worker here serves only the failure metric's activity
 * (workflows/failure-metric.ts records every failed session): a workflow that got past its validation would wait
 * for its first activity until the test's execution timeout.
 */
const QUEUE = `input-fuzz-${Math.random().toString(36).slice(2)}`;
const TOKEN = 'xoxb-input-fuzz';
const CHANNELS = { critical: '#trading-critical', warning: '#trading-warnings', info: '#trading-info' };
const VALID: SessionInput = {
  sessionId: 'fuzz-session',
  account: 'FUZZ',
  mode: 'replay',
  date: '2024-03-12',
  candidates: ['AAPL', 'MSFT'],
  maxSymbols: 2,
  taskQueues: { io: QUEUE },
};

const notCount = fc.oneof(
  fc.integer({ min: -1000, max: 0 }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((x) => !Number.isInteger(x)),
  fc.string({ maxLength: 8 }),
);
const malformed: fc.Arbitrary<readonly [string, Record<string, unknown>]> = fc.oneof(
  notCount.map((v) => ['maxBars', { ...VALID, maxBars: v }] as const),
  fc
    .constantFrom('2013-13-45', 'tomorrow', '2024-03-16', '2024-02-30', '')
    .map((v) => ['date', { ...VALID, date: v }] as const),
  fc.string({ minLength: 1, maxLength: 8 }).map((k) => ['input', { ...VALID, [`x${k}`]: true }] as const),
  fc
    .string({ minLength: 1, maxLength: 8 })
    .map(
      (k) =>
        [
          'strategy',
          { ...VALID, strategy: { name: 'sma-trend', fast: 3, slow: 8, weight: 0.04, [`x${k}`]: 1 } },
        ] as const,
    ),
  fc
    .constantFrom('aapl', 'A B', '$$')
    .map((v) => ['candidates', { ...VALID, candidates: ['AAPL', v] }] as const),
);

describe('workflows refuse malformed input at once (issue 18)', () => {
  let t: TemporalTestContext;
  let worker: Worker;
  let running: Promise<void>;
  let stub: SlackStub;
  const queue = QUEUE;

  before(async () => {
    t = await connectTemporal();
    stub = await new SlackStub({ token: TOKEN, channels: Object.values(CHANNELS) }).start();
    const alerter = new SlackAlerter({
      token: TOKEN,
      slackApiUrl: stub.apiUrl,
      channels: CHANNELS,
      temporalUiUrl: 'http://127.0.0.1:8233',
      retries: 1,
      retryMinTimeoutMs: 10,
      log: () => undefined,
    });
    // only the failure metric's activity (it reads no audit log)
    const { recordWorkflowFailure } = createMonitoringActivities({ alerter, audit: {} as AuditLog });
    worker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: queue,
      workflowBundle: await workflowBundle(),
      activities: { recordWorkflowFailure },
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await t?.close();
    await stub?.stop();
  });

  async function refused(type: string, input: unknown, field: string): Promise<void> {
    const workflowId = `input-fuzz-${type}-${Math.random().toString(36).slice(2)}`;
    await assert.rejects(
      t.client.workflow.execute(type, {
        taskQueue: queue,
        workflowId,
        args: [input],
        workflowExecutionTimeout: '30 seconds',
      }),
      (e: unknown) => {
        assert.ok(e instanceof WorkflowFailedError, String(e));
        const cause = e.cause;
        assert.ok(cause instanceof ApplicationFailure, `cause: ${String(cause)}`);
        assert.equal(cause.type, 'ValidationError');
        assert.equal(cause.nonRetryable, true);
        assert.match(cause.message, new RegExp(`input: (.*; )?${field.replace('.', '\\.')}`));
        return true;
      },
    );
    const history = await t.client.workflow.getHandle(workflowId).fetchHistory();
    const scheduled = (history.events ?? [])
      .map((ev) => ev.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter(Boolean);
    // only the failure's own record (workflows/failure-metric.ts), never a session or routine step
    assert.ok(
      scheduled.every((name) => name === 'recordWorkflowFailure'),
      `activities scheduled: ${scheduled.join(', ')}`,
    );
  }

  test('when generated malformed session inputs start tradingSessionWorkflow, then each fails nonRetryably naming the field, with no activity', async () => {
    const samples = fc.sample(malformed, { numRuns: 6, seed: 18 });
    for (const [field, input] of samples) await refused('tradingSessionWorkflow', input, field);
  });

  test('when a malformed routine input starts the pre- and post-market routines, then each fails nonRetryably naming the field', async () => {
    const bad = { account: 'FUZZ', mode: 'paper', candidates: ['AAPL'], maxSymbols: 0 } as DailyRoutineInput;
    await refused('preMarketRoutineWorkflow', bad, 'maxSymbols');
    await refused('postMarketRoutineWorkflow', { ...bad, maxSymbols: 1, extra: 1 }, 'input');
  });
});
