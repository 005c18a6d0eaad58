import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { createMonitoringActivities } from '../../activities/monitoring.activities';
import type { RetrainInput } from '../../contracts/retrain';
import type { SessionInput } from '../../contracts/session';
import { SlackAlerter } from '../../src/monitoring/alerting';
import { AuditLog } from '../../src/monitoring/audit/audit-log';
import { tradingMetrics } from '../../src/monitoring/metrics';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { readableText, SlackStub } from '../support/slack-stub';
import { connectTemporal, WORKFLOWS_PATH, type TemporalTestContext } from '../support/temporal';

const TOKEN = 'xoxb-failure-metric';
const CHANNELS = { critical: '#trading-critical', warning: '#trading-warnings', info: '#trading-info' };

async function failures(workflowType: string): Promise<number> {
  const { values } = await tradingMetrics.workflowFailures.get();
  return values.filter((v) => v.labels.workflow_type === workflowType).reduce((a, v) => a + v.value, 0);
}

/**
 * A workflow that fails records it first (workflows/failure-metric.ts): the real `recordWorkflowFailure` monitoring
 * activity on the io queue counts trader_workflow_failures_total and sends the workflow-failed alert (critical for a
 * session) to Slack (a chat.postMessage stub). The workflow still fails with its own error.
 */
describe('workflows record their failure', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let stub: SlackStub;
  let worker: Worker;
  let running: Promise<void>;
  const io = `failure-metric-io-${randomUUID()}`;

  before(async () => {
    db = await createTestDatabase('tt_failure_metric');
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
    worker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: io,
      workflowsPath: WORKFLOWS_PATH,
      activities: {
        ...createMonitoringActivities({ alerter, audit: new AuditLog(db.pool) }),
        // the retrain's first step, refusing its source as the real one refuses a missing file
        buildRetrainDataset: async () => {
          throw ApplicationFailure.nonRetryable('source: no such file', 'ValidationError');
        },
      },
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await stub?.stop();
    await t?.close();
    await db?.drop();
  });

  test('when a session fails on its input, then its failure is counted and paged as critical, and it fails with its own error', async () => {
    const before = await failures('tradingSessionWorkflow');
    const workflowId = `failing-session-${randomUUID()}`;
    const input = {
      sessionId: workflowId,
      account: 'paper',
      mode: 'replay',
      date: '2024-03-12',
      candidates: ['AAA'],
      taskQueues: { io, execution: io },
      limits: { dailyLossLimit: 5 },
    } as unknown as SessionInput;
    await assert.rejects(
      t.client.workflow.execute('tradingSessionWorkflow', { taskQueue: io, workflowId, args: [input] }),
      (e: Error & { cause?: Error }) => /dailyLossLimit/.test(e.cause?.message ?? ''),
    );
    assert.equal((await failures('tradingSessionWorkflow')) - before, 1);
    const message = await stub.waitFor(
      (m) => readableText(m).includes(workflowId),
      10_000,
      'the session failure alert',
    );
    assert.equal(message.channel, CHANNELS.critical);
    assert.match(readableText(message), /Workflow tradingSessionWorkflow failed/);
  });

  test('when a retrain fails, then its failure is counted and sent as a warning', async () => {
    const before = await failures('retrainWorkflow');
    const workflowId = `failing-retrain-${randomUUID()}`;
    const input = {
      name: 'failing',
      source: { kind: 'shared-csv', path: 'nope.csv.gz', symbol: 'AAA' },
      spec: { kind: 'xgboost' },
      taskQueues: { io, training: io },
    } as unknown as RetrainInput;
    await assert.rejects(
      t.client.workflow.execute('retrainWorkflow', { taskQueue: io, workflowId, args: [input] }),
      /workflow execution failed/i,
    );
    assert.equal((await failures('retrainWorkflow')) - before, 1);
    const message = await stub.waitFor(
      (m) => readableText(m).includes(workflowId),
      10_000,
      'the retrain failure alert',
    );
    assert.equal(message.channel, CHANNELS.warning);
  });
});
