import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, type DataConverter } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { codecFromEnv, startCodecServer } from '../../src/security/codec';
import { temporalDataConverter } from '../../src/stack/data-converter';
import { connectTemporal, WORKFLOWS_PATH, type TemporalTestContext } from '../support/temporal';

/** Every message of an error's cause chain, as the client decoded it. */
function causeMessages(err: unknown): string[] {
  const out: string[] = [];
  for (let e = err as Error | undefined; e; e = e.cause as Error | undefined) out.push(e.message);
  return out;
}

describe('encrypted histories encode failures too', () => {
  let t: TemporalTestContext;
  const env = { PAYLOAD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}` };
  before(async () => {
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
  });

  /** Runs echoActivityWorkflow whose activity fails with `marker` in its message; returns the raw history. */
  async function failingRun(dataConverter: DataConverter, marker: string) {
    const queue = `codec-fail-${randomUUID()}`;
    const worker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: queue,
      workflowsPath: WORKFLOWS_PATH,
      activities: {
        echo() {
          throw ApplicationFailure.nonRetryable(`cannot reach ${marker}`, 'BrokerDown');
        },
      },
      dataConverter,
    });
    const client = new Client({ connection: t.connection, dataConverter });
    const workflowId = `codec-fail-${randomUUID()}`;
    const err = await worker
      .runUntil(
        client.workflow.execute('echoActivityWorkflow', {
          taskQueue: queue,
          workflowId,
          args: [{ count: 1, taskQueue: queue }],
        }),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    // Raw: a client without the codec sees what the server stores.
    const raw = await new Client({ connection: t.connection }).workflow.getHandle(workflowId).fetchHistory();
    return { err, raw };
  }

  test('when an activity fails under PAYLOAD_ENCRYPTION_KEYS, then the history holds no plain message or stack, the client decodes the cause, and the codec server decodes it for the UI', async () => {
    const marker = `failure-marker-${randomUUID()}`;
    const { err, raw } = await failingRun(temporalDataConverter(env), marker);

    assert.ok(err instanceof WorkflowFailedError, String(err));
    assert.ok(
      causeMessages(err).some((m) => m.includes(marker)),
      `decoded cause chain: ${causeMessages(err).join(' <- ')}`,
    );
    const json = historyToJSON(raw);
    assert.ok(!json.includes(marker), 'no plain failure message in the stored history');
    assert.ok(!json.includes('echo.workflow'), 'no plain stack trace in the stored history');
    const failed = raw.events!.find((e) => e.activityTaskFailedEventAttributes)!;
    const failure = failed.activityTaskFailedEventAttributes!.failure!;
    assert.equal(failure.message, 'Encoded failure');
    assert.equal(
      new TextDecoder().decode(failure.encodedAttributes!.metadata!.encoding!),
      'binary/encrypted',
    );

    const server = await startCodecServer(codecFromEnv(env)!);
    try {
      const res = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          payloads: [
            {
              metadata: Object.fromEntries(
                Object.entries(failure.encodedAttributes!.metadata!).map(([k, v]) => [
                  k,
                  Buffer.from(v).toString('base64'),
                ]),
              ),
              data: Buffer.from(failure.encodedAttributes!.data!).toString('base64'),
            },
          ],
        }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { payloads: Array<{ data: string }> };
      const attrs = JSON.parse(Buffer.from(body.payloads[0]!.data, 'base64').toString('utf8')) as {
        message: string;
        stack_trace: string;
      };
      assert.equal(attrs.message, `cannot reach ${marker}`);
      assert.equal(typeof attrs.stack_trace, 'string');
    } finally {
      await server.close();
    }
  });

  test('when only payloads are encrypted (the negative control), then the failure message is plain text in the history', async () => {
    const marker = `failure-marker-${randomUUID()}`;
    const { raw } = await failingRun({ payloadCodecs: [codecFromEnv(env)!] }, marker);
    assert.ok(historyToJSON(raw).includes(marker));
  });

  test('when encryption is off, then failures stay readable (no encoding without a codec)', () => {
    assert.deepEqual(temporalDataConverter({}), {});
  });
});
