import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { AesGcmPayloadCodec, parseEncryptionKeys, startCodecServer } from '../../src/security/codec';
import { ConfigError } from '../../src/model/errors';
import { connectTemporal, WORKFLOWS_PATH, type TemporalTestContext } from '../support/temporal';

const key = () => randomBytes(32).toString('base64');

describe('payload codec (AES-256-GCM, key id, rotation) and codec server', () => {
  let t: TemporalTestContext;
  before(async () => {
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
  });

  test('when payloads are encoded, then they are ciphertext with the key id, and decode restores them; an old key still decodes after rotation', async () => {
    const k1 = key();
    const old = new AesGcmPayloadCodec(parseEncryptionKeys(`k1:${k1}`));
    const plain = defaultPayloadConverter.toPayload({ secretPlan: 'buy 100 AAPL' })!;
    const [enc] = await old.encode([plain]);
    assert.equal(new TextDecoder().decode(enc!.metadata!['encryption-key-id']), 'k1');
    assert.ok(!Buffer.from(enc!.data!).toString('latin1').includes('buy 100 AAPL'));
    const rotated = new AesGcmPayloadCodec(parseEncryptionKeys(`k2:${key()},k1:${k1}`));
    const [dec] = await rotated.decode([enc!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(dec!), { secretPlan: 'buy 100 AAPL' });
    const [enc2] = await rotated.encode([plain]);
    assert.equal(
      new TextDecoder().decode(enc2!.metadata!['encryption-key-id']),
      'k2',
      'the newest key encrypts',
    );
    await assert.rejects(old.decode([enc2!]), /no key "k2"/);
    assert.throws(() => parseEncryptionKeys('bad'), ConfigError);
    assert.throws(() => parseEncryptionKeys(`k1:${randomBytes(16).toString('base64')}`), /32/);
  });

  test('when a workflow runs with the codec, then its history holds only ciphertext and the codec server decodes it for the UI', async () => {
    const codec = new AesGcmPayloadCodec(parseEncryptionKeys(`k1:${key()}`));
    const queue = `codec-${randomUUID()}`;
    const marker = `plaintext-marker-${randomUUID()}`;
    const worker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: queue,
      workflowsPath: WORKFLOWS_PATH,
      activities: {
        async echo(x: number) {
          return x;
        },
      },
      dataConverter: { payloadCodecs: [codec] },
    });
    const client = new Client({ connection: t.connection, dataConverter: { payloadCodecs: [codec] } });
    const wfId = `codec-${randomUUID()}`;
    const result = await worker.runUntil(
      client.workflow.execute('echoActivityWorkflow', {
        taskQueue: queue,
        workflowId: wfId,
        args: [{ count: 2, taskQueue: queue, note: marker } as never],
      }),
    );
    assert.equal(result, 1);
    const history = await client.workflow.getHandle(wfId).fetchHistory();
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    assert.equal(new TextDecoder().decode(input.metadata!.encoding), 'binary/encrypted');
    assert.ok(!Buffer.from(input.data!).includes(marker), 'the stored input is ciphertext');
    assert.ok(!Buffer.from(historyToJSON(history), 'utf8').includes(marker));
    const server = await startCodecServer(codec);
    try {
      const res = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': 'default' },
        body: JSON.stringify({
          payloads: [
            {
              metadata: Object.fromEntries(
                Object.entries(input.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
              ),
              data: Buffer.from(input.data!).toString('base64'),
            },
          ],
        }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { payloads: Array<{ data: string }> };
      assert.ok(Buffer.from(body.payloads[0]!.data, 'base64').toString('utf8').includes(marker));
    } finally {
      await server.close();
    }
  });
});
