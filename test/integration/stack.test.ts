import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import type { StackState } from '../../src/stack/stack';
import { temporalIsServing } from '../../src/stack/temporal';

const root = resolve(__dirname, '../..');
const run = promisify(execFile);

/**
 * `stack up` → UI answers 200 → the skeleton workflow runs through the stack's own dev worker and shows in
 * `temporal workflow list` → `stack down` leaves no process of ours alive. Runs on its own ports and data
 * dir so it never touches the suite's Temporal server.
 */
describe('stack up / down', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'trader-stack-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TRADER_DATA_DIR: dataDir,
    TEMPORAL_PORT: '7833',
    TEMPORAL_UI_PORT: '8833',
    METRICS_PORT: '9833',
  };
  delete env.TEMPORAL_ADDRESS;
  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { cwd: root, env, timeout: 240_000 });
  let pids: number[] = [];

  after(async () => {
    await cli('stack', 'down').catch(() => undefined);
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('when the stack goes up (no Alpaca keys) and down, then the simulator is the paper venue, the UI serves, the workflow is listed, and nothing is left running', async () => {
    const up = await cli('stack', 'up', '--venue-port', '8933');
    const uiUrl = /Temporal UI: (http:\/\/\S+)/.exec(up.stdout)?.[1];
    assert.equal(uiUrl, 'http://127.0.0.1:8833', up.stdout);
    const state = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as StackState;
    assert.equal(state.temporal.source, 'started');
    pids = [state.temporal.pid!, state.worker!.pid, state.venue!.pid!];
    // no Alpaca keys: the simulator is the broker and the feed, and says so
    assert.match(
      up.stdout,
      /^Broker: {5}the local Alpaca-compatible simulator at http:\/\/127\.0\.0\.1:8933, an idle venue on the wall clock \(no real money\)$/m,
    );
    assert.match(up.stdout, /^Market data: the simulator's stream at ws:\/\/127\.0\.0\.1:8933\/v2\/iex/m);
    const health = (await (await fetch('http://127.0.0.1:9833/healthz')).json()) as {
      checks: Record<string, { ok: boolean; detail?: string }>;
    };
    assert.equal(health.checks.broker?.ok, true, 'the execution queue has a broker');
    assert.match(health.checks.broker?.detail ?? '', /simulator at http:\/\/127\.0\.0\.1:8933/);
    assert.match(health.checks.feed?.detail ?? '', /simulator's stream/);
    const doctor = await cli('doctor').catch((e: { stdout: string }) => e);
    assert.match(
      doctor.stdout,
      /\[ok {2}\] broker: the local Alpaca-compatible simulator at http:\/\/127\.0\.0\.1:8933/,
    );

    const res = await fetch(uiUrl!);
    assert.equal(res.status, 200);

    const again = await cli('stack', 'up');
    assert.match(again.stdout, /reusing Temporal dev server/);
    const state2 = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as StackState;
    assert.equal(state2.temporal.pid, state.temporal.pid, 'a second `stack up` reuses the running server');
    assert.equal(state2.worker?.pid, state.worker?.pid);
    assert.equal(state2.venue?.pid, state.venue?.pid, 'and the running simulator');

    const sk = await cli('skeleton', '--message', 'stack test');
    const { workflowId } = JSON.parse(sk.stdout.trim().split('\n').pop()!) as { workflowId: string };
    const list = execFileSync(
      state.temporal.binary!.path,
      ['workflow', 'list', '--address', '127.0.0.1:7833', '--output', 'json'],
      {
        encoding: 'utf8',
      },
    );
    assert.ok(list.includes(workflowId), `temporal workflow list shows ${workflowId}`);

    const metrics = await (await fetch('http://127.0.0.1:9833/metrics')).text();
    assert.match(metrics, /trader_worker_up\{queue="io"\} 1/);

    const down = await cli('stack', 'down');
    assert.match(down.stdout, /stopped Temporal dev server/);
    assert.match(down.stdout, /stopped simulator/);
    for (const pid of pids) {
      assert.throws(() => process.kill(-pid, 0), `process group ${pid} is gone`);
    }
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    assert.ok(!ps.includes(dataDir), 'no process refers to the stack data dir');
    await assert.rejects(fetch(uiUrl!), 'the UI no longer answers');
  });
});

describe('stack up with a taken METRICS_PORT', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'trader-stack-port-'));
  let blocker: Server | undefined;
  after(() => {
    blocker?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('when the dev worker could not bind its metrics port, then `stack up` fails naming the port and starts nothing', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', () => r()));
    const metricsPort = (blocker.address() as AddressInfo).port;
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const temporalPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TRADER_DATA_DIR: dataDir,
      TEMPORAL_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(temporalPort + 1),
      METRICS_PORT: String(metricsPort),
    };
    delete env.TEMPORAL_ADDRESS;
    const r = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'stack', 'up'], {
      cwd: root,
      env,
      timeout: 120_000,
    }).then(
      (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, new RegExp(`METRICS_PORT: 127\\.0\\.0\\.1:${metricsPort} is already in use`));
    assert.doesNotMatch(r.stdout, /dev worker/);
    assert.ok(!existsSync(join(dataDir, 'stack.json')), 'no stack recorded');
    assert.equal(await temporalIsServing(`127.0.0.1:${temporalPort}`), false, 'no Temporal server started');
  });
});
