import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTemporalDevServer, stopProcessGroup, type StartedTemporal } from '../../src/stack/temporal';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { startSimulatorServer } from '../../src/execution/simulator/server';

const root = resolve(__dirname, '../..');

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface WorkerProcess {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number>;
}

function spawnWorker(entry: string, env: NodeJS.ProcessEnv): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: root, env, detached: true });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? 1)));
  return { child, output: () => out, exited };
}

async function healthz(port: number) {
  const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) });
  return {
    status: r.status,
    body: (await r.json()) as { checks: Record<string, { ok: boolean; error?: string }> },
  };
}

/** Polls until `pred` holds (on the system's state, not a fixed sleep), failing after `timeoutMs`. */
async function until<T>(what: string, fn: () => Promise<T>, pred: (v: T) => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn().catch(() => undefined as T);
    if (last !== undefined && pred(last)) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.fail(`${what} not reached within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

/** Listening TCP sockets of a process: "address:port" strings, from `ss`. */
function listeningSockets(pid: number): string[] {
  const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => l.trim().split(/\s+/)[3]!);
}

/**
 * A real worker process (workers/io.ts) against its own Temporal dev server: ports it opens, readiness
 * that covers Temporal, and a taken METRICS_PORT failing at once with the port named.
 */
describe('worker ports and readiness', () => {
  let db: TestDatabase;
  let temporal: StartedTemporal | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'worker-health-'));
  const workers: WorkerProcess[] = [];
  let blocker: Server | undefined;

  before(async () => {
    db = await createTestDatabase('tt_worker_health');
    const port = await freePort();
    temporal = await startTemporalDevServer({
      dataDir,
      port,
      uiPort: await freePort(),
      namespace: 'default',
      startTimeoutS: 120,
    });
  });
  after(async () => {
    for (const w of workers) {
      try {
        process.kill(-w.child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    blocker?.close();
    if (temporal) await stopProcessGroup(temporal.pid);
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const workerEnv = (metricsPort: number): NodeJS.ProcessEnv => ({
    ...process.env,
    TEMPORAL_ADDRESS: temporal!.address,
    DATABASE_URL: db.url,
    METRICS_PORT: String(metricsPort),
    METRICS_HOST: '127.0.0.1',
    TASK_QUEUE_PREFIX: `health-${metricsPort}-`,
    TRADER_DATA_DIR: dataDir,
  });

  test('when METRICS_PORT is taken, then the worker exits at once naming the port', async () => {
    blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker!.listen(port, '127.0.0.1', () => r()));
    const w = spawnWorker('workers/io.ts', workerEnv(port));
    workers.push(w);
    const code = await w.exited;
    assert.equal(code, 1, w.output());
    assert.match(w.output(), new RegExp(`METRICS_PORT: 127\\.0\\.0\\.1:${port} is already in use`));
    assert.doesNotMatch(w.output(), /polling/, 'it never started polling');
  });

  test('when the execution worker has no broker, then /healthz is not ready and names the fix; pointed at the simulator, it is ready and names it', async () => {
    const noBroker = { ...workerEnv(await freePort()) };
    for (const k of ['APCA_API_KEY_ID', 'APCA_API_SECRET_KEY', 'APCA_API_BASE_URL', 'TRADING_MODE'])
      delete noBroker[k];
    const w = spawnWorker('workers/execution.ts', noBroker);
    workers.push(w);
    const down = await until(
      'the worker polling without a broker',
      () => healthz(Number(noBroker.METRICS_PORT)),
      (h) => h.status === 503 && h.body.checks.workers?.ok === true,
      150_000,
    );
    assert.equal(down.body.checks.broker?.ok, false);
    assert.match(
      down.body.checks.broker?.error ?? '',
      /^none: no Alpaca keys and no simulator .*; set APCA_API_KEY_ID\/APCA_API_SECRET_KEY for Alpaca paper, or APCA_API_BASE_URL to the simulator \(npm run trader -- stack up starts one\)$/,
    );
    assert.match(w.output(), /broker: none: no Alpaca keys and no simulator/, 'the banner says so too');
    process.kill(-w.child.pid!, 'SIGKILL');

    const sim = await startSimulatorServer({ startAt: Date.now(), speed: 1 });
    try {
      const withSim = { ...noBroker, METRICS_PORT: String(await freePort()), APCA_API_BASE_URL: sim.url };
      const w2 = spawnWorker('workers/execution.ts', withSim);
      workers.push(w2);
      const ready = await until(
        'the worker ready with the simulator',
        () => healthz(Number(withSim.METRICS_PORT)),
        (h) => h.status === 200,
        150_000,
      );
      assert.match(
        (ready.body.checks.broker as { detail?: string } | undefined)?.detail ?? '',
        new RegExp(`^the local Alpaca-compatible simulator at ${sim.url.replace(/[.]/g, '\\.')}`),
      );
      assert.match(w2.output(), /broker: the local Alpaca-compatible simulator/);
      process.kill(-w2.child.pid!, 'SIGKILL');
    } finally {
      await sim.close();
    }
  });

  test('when a worker runs, then it listens only on METRICS_PORT publicly (runtime metrics on loopback, merged into /metrics), and /healthz turns 503 when Temporal goes down', async () => {
    const metricsPort = await freePort();
    const w = spawnWorker('workers/io.ts', workerEnv(metricsPort));
    workers.push(w);
    const ready = await until(
      'worker ready',
      () => healthz(metricsPort),
      (h) => h.status === 200,
      150_000,
    );
    assert.equal(ready.body.checks.temporal?.ok, true);

    const sockets = listeningSockets(w.child.pid!);
    assert.ok(sockets.includes(`127.0.0.1:${metricsPort}`), sockets.join(', '));
    assert.ok(
      !sockets.some((s) => s.endsWith(`:${metricsPort + 100}`)),
      `no METRICS_PORT+100: ${sockets.join(', ')}`,
    );
    for (const s of sockets)
      assert.match(s, /^127\.0\.0\.1:\d+$/, `every listener is on loopback: ${sockets.join(', ')}`);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^trader_worker_up\{queue="io"\} 1/m);
    assert.match(metrics, /^temporal_\w+/m, 'the Temporal runtime metrics are merged into /metrics');

    await stopProcessGroup(temporal!.pid, 10_000);
    temporal = undefined;
    const down = await until(
      '/healthz 503',
      () => healthz(metricsPort),
      (h) => h.status === 503,
      30_000,
    );
    assert.equal(down.body.checks.temporal?.ok, false);
    assert.match(down.body.checks.temporal?.error ?? '', /Temporal at 127\.0\.0\.1:\d+ does not answer/);
    assert.equal(down.body.checks.postgres?.ok, true, 'only the failing dependency is reported down');
  });
});
