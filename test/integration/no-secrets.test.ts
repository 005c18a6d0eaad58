import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { SessionResult } from '../../contracts/session';
import { waitForWorkflow } from '../../cli/workflow-result';
import { codecFromEnv, ENCRYPTED_ENCODING } from '../../src/security/codec';
import { temporalDataConverter } from '../../src/stack/data-converter';
import type { SimulatorServer } from '../../src/execution/simulator/server';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { seedReplayDay, sessionInput, startReplaySimulator } from '../support/session-harness';
import { SlackStub } from '../support/slack-stub';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

const root = resolve(__dirname, '../..');
const run = promisify(execFile);

/** Every credential set to a recognisable value; the encryption key's raw bytes are recognisable too. */
const RAW_ENCRYPTION_KEY = 'CANARY-encryption-key-32-bytes!!';
const SECRETS = {
  dbPassword: 'CANARY-db-pass-5e1d',
  redisPassword: 'CANARY-redis-pass-5e1d',
  apcaKeyId: 'PKCANARY5E1DKEYID',
  apcaSecret: 'CANARY-apca-secret-5e1d',
  slackToken: 'xoxb-CANARY-slack-5e1d',
  polygonKey: 'CANARY-polygon-key-5e1d',
  unusualWhalesKey: 'CANARY-uw-key-5e1d',
  encryptionKey: Buffer.from(RAW_ENCRYPTION_KEY).toString('base64'),
  encryptionKeyRaw: RAW_ENCRYPTION_KEY,
};
const SYMBOLS = ['AAPL', 'MSFT'];

function assertNoSecret(where: string, text: string): void {
  for (const [name, value] of Object.entries(SECRETS)) {
    const at = text.indexOf(value);
    assert.equal(at, -1, `${name} appears in ${where}: …${text.slice(Math.max(0, at - 80), at + 80)}…`);
  }
  assert.ok(!text.includes('CANARY'), `a CANARY value appears in ${where}`);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The payloads of a history (inputs, results, encoded failure attributes…), wherever they sit. */
function payloadsOf(node: unknown, out: Payload[] = []): Payload[] {
  if (!node || typeof node !== 'object') return out;
  if (node instanceof Uint8Array) return out;
  const o = node as Record<string, unknown>;
  if (o.metadata && typeof o.metadata === 'object' && 'data' in o) out.push(o as Payload);
  for (const v of Object.values(o)) payloadsOf(v, out);
  return out;
}

/**
 * Acceptance 4 of issue #18: a representative run — the skeleton workflow, a backfill of synthetic bars and a
 * short replayed session — through a real dev worker process and the CLI, with every credential set to a
 * recognisable value and payload encryption on. None of them may appear in `config` output, CLI errors,
 * workflow histories (stored ciphertext, or decrypted), the worker's log, /metrics or the database rows.
 */
describe('no credential in any output of a representative run', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let sim: SimulatorServer;
  let slack: SlackStub;
  let worker: ChildProcess | undefined;
  let workerLog = '';
  let env: NodeJS.ProcessEnv;
  let metricsPort: number;
  const dataDir = mkdtempSync(join(tmpdir(), 'no-secrets-'));
  const prefix = `nosecret-${Date.now().toString(36)}-`;

  before(async () => {
    db = await createTestDatabase('tt_no_secrets');
    await seedReplayDay(db, SYMBOLS, 30);
    t = await connectTemporal();
    sim = await startReplaySimulator(db, SYMBOLS, {
      keyId: SECRETS.apcaKeyId,
      secretKey: SECRETS.apcaSecret,
    });
    slack = await new SlackStub({ token: SECRETS.slackToken }).start();
    metricsPort = await freePort();
    // The local server trusts local connections: the password is accepted and ignored, as a real one is used.
    const dbUrl = new URL(db.url);
    dbUrl.password = SECRETS.dbPassword;
    env = {
      ...process.env,
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: `redis://:${SECRETS.redisPassword}@127.0.0.1:6379`,
      APCA_API_KEY_ID: SECRETS.apcaKeyId,
      APCA_API_SECRET_KEY: SECRETS.apcaSecret,
      APCA_API_BASE_URL: sim.url,
      APCA_DATA_BASE_URL: sim.dataUrl,
      SLACK_BOT_TOKEN: SECRETS.slackToken,
      SLACK_API_URL: slack.apiUrl,
      POLYGON_API_KEY: SECRETS.polygonKey,
      UNUSUAL_WHALES_API_KEY: SECRETS.unusualWhalesKey,
      PAYLOAD_ENCRYPTION_KEYS: `k1:${SECRETS.encryptionKey}`,
      METRICS_PORT: String(metricsPort),
      TASK_QUEUE_PREFIX: prefix,
      TRADER_DATA_DIR: dataDir,
    };
    delete env.TRADING_MODE;
    delete env.LIVE_TRADING_CONFIRM;
  });
  after(async () => {
    if (worker?.pid)
      try {
        process.kill(-worker.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    await sim?.close();
    await slack?.stop();
    await t?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      cwd: root,
      env: { ...env, ...extra },
      timeout: 180_000,
    }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr, stdout: r.stdout }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        out: e.stdout + e.stderr,
        stdout: e.stdout,
      }),
    );

  test(
    'when the skeleton, a backfill and a replayed session run with every credential set, then no output holds one',
    { timeout: 540_000 },
    async () => {
      worker = spawn(process.execPath, ['--import', 'tsx', 'workers/dev.ts'], {
        cwd: root,
        env,
        detached: true,
      });
      worker.stdout!.on('data', (c: Buffer) => (workerLog += c.toString()));
      worker.stderr!.on('data', (c: Buffer) => (workerLog += c.toString()));

      // While the worker starts: `config` and CLI errors (TRADER_DEBUG adds stack traces).
      const [config, badDb, badConfig] = await Promise.all([
        cli(['config']),
        cli(['data', 'quality'], {
          DATABASE_URL: `postgres://postgres:${SECRETS.dbPassword}@127.0.0.1:1/nowhere`,
          TRADER_DEBUG: '1',
        }),
        cli(['config'], { DATABASE_URL: `mysql://root:${SECRETS.dbPassword}@db/x`, TRADER_DEBUG: '1' }),
      ]);
      assert.equal(config.code, 0, config.out);
      assert.match(config.stdout, /"APCA_API_SECRET_KEY": "\*\*\*"/);
      assert.match(config.stdout, /"DATABASE_URL": "postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:5432\//);
      assertNoSecret('`trader config`', config.out);
      assert.equal(badDb.code, 2, badDb.out);
      assert.match(
        badDb.out,
        /DATABASE_URL: cannot reach PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1/,
      );
      assertNoSecret('a database error', badDb.out);
      assert.equal(badConfig.code, 2, badConfig.out);
      assertNoSecret('a configuration error', badConfig.out);

      const deadline = Date.now() + 180_000;
      let ready = false;
      while (!ready && Date.now() < deadline) {
        ready = await fetch(`http://127.0.0.1:${metricsPort}/healthz`).then(
          (r) => r.status === 200,
          () => false,
        );
        assert.equal(worker.exitCode, null, `the dev worker exited: ${workerLog}`);
        if (!ready) await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(ready, `the dev worker is not ready after 180 s: ${workerLog.slice(-4000)}`);

      // A run: skeleton and backfill through the CLI, a short replayed session through a client.
      const [skeleton, backfill] = await Promise.all([
        cli(['skeleton', '--message', 'no-secrets-skeleton']),
        cli([
          'backfill',
          '--symbols',
          'IBM',
          '--from',
          '2024-01-03',
          '--to',
          '2024-01-05',
          '--source',
          'synthetic:3',
        ]),
      ]);
      assert.equal(skeleton.code, 0, skeleton.out);
      assert.equal(backfill.code, 0, backfill.out);
      assert.match(backfill.stdout, /stored \d+ rows/);
      assertNoSecret('`trader skeleton`', skeleton.out);
      assertNoSecret('`trader backfill`', backfill.out);

      const client = new Client({ connection: t.connection, dataConverter: temporalDataConverter(env) });
      const input = sessionInput({ ioQueue: `${prefix}io`, execQueue: `${prefix}execution` }, SYMBOLS, {
        maxBars: 12,
      });
      const handle = await client.workflow.start('tradingSessionWorkflow', {
        taskQueue: `${prefix}io`,
        workflowId: `nosecret-${input.sessionId}`,
        args: [input],
        // A session that cannot run (a workflow task failing) fails the test instead of hanging it.
        workflowExecutionTimeout: '5 minutes',
      });
      const result = await waitForWorkflow<SessionResult>(handle);
      assert.ok(result.ordersPlaced >= 0);

      // Histories of every workflow of the run: as stored (ciphertext) and decrypted.
      const codec = codecFromEnv(env)!;
      const plain = new Client({ connection: t.connection });
      const ids = new Set<string>();
      for await (const w of plain.workflow.list({ query: `TaskQueue = "${prefix}io"` }))
        ids.add(w.workflowId);
      ids.add(handle.workflowId);
      assert.ok(ids.size >= 3, `skeleton, backfill and session histories: ${[...ids].join(', ')}`);
      let encrypted = 0;
      let decodedText = '';
      for (const id of ids) {
        const history = await plain.workflow.getHandle(id).fetchHistory();
        assertNoSecret(`the stored history of ${id}`, historyToJSON(history));
        const payloads = payloadsOf(history);
        const decoded = await codec.decode(payloads);
        encrypted += payloads.filter(
          (p) => new TextDecoder().decode(p.metadata?.encoding ?? new Uint8Array()) === ENCRYPTED_ENCODING,
        ).length;
        const text = decoded.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8')).join('\n');
        assertNoSecret(`the decrypted history of ${id}`, text);
        decodedText += text;
      }
      assert.ok(encrypted > 0, 'payload encryption was on');
      assert.ok(decodedText.includes('no-secrets-skeleton'), 'the decrypted histories were read');

      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(metrics, /trader_worker_up/);
      assertNoSecret('/metrics', metrics);

      // Everything the run stored, row by row.
      const { rows: tables } = await db.pool.query<{ s: string; t: string }>(
        `select table_schema as s, table_name as t from information_schema.tables
        where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'`,
      );
      let rowsChecked = 0;
      for (const { s, t: table } of tables) {
        const { rows } = await db.pool.query<{ row: string }>(
          `select x::text as row from "${s}"."${table}" x`,
        );
        rowsChecked += rows.length;
        assertNoSecret(`table ${s}.${table}`, rows.map((r) => r.row).join('\n'));
      }
      const stored = await db.pool.query<{ n: string }>(
        `select (select count(*) from skeleton_pings) + (select count(*) from session_reports) as n`,
      );
      assert.ok(Number(stored.rows[0]!.n) >= 2 && rowsChecked > 100, `rows checked: ${rowsChecked}`);

      // The worker's own log, start to stop.
      const exited = new Promise<void>((r) => worker!.once('exit', () => r()));
      process.kill(-worker.pid!, 'SIGTERM');
      await exited;
      assert.match(workerLog, /dev-worker: polling/);
      assertNoSecret("the dev worker's log", workerLog);
    },
  );
});
