import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { version } from '../../package.json';
import { tryConnectRedis } from '../../src/storage/cache';

const root = resolve(__dirname, '../..');
const run = promisify(execFile);

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    timeout: 60_000,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number | string; stdout: string; stderr: string; killed?: boolean }) => e,
  );

/** A port that accepts connections and never says a word: neither PostgreSQL nor Redis. */
describe('connect timeouts against a port that does not speak the protocol', () => {
  let silent: Server;
  let port: number;
  const sockets: Socket[] = [];
  before(async () => {
    silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    port = (silent.address() as AddressInfo).port;
  });
  after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });

  test('when DATABASE_URL points at it, then the CLI fails with the URL named, password hidden, instead of hanging', async () => {
    const r = await cli(['data', 'quality'], {
      DATABASE_URL: `postgres://trader:pg-canary-pass@127.0.0.1:${port}/trader`,
    });
    assert.equal(r.code, 2, `exit code (a hang is killed by the 60 s guard): ${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(
        `DATABASE_URL: cannot reach PostgreSQL at postgres://trader:\\*\\*\\*@127\\.0\\.0\\.1:${port}/trader \\(no answer within 3 s\\)`,
      ),
    );
    assert.ok(!r.stderr.includes('pg-canary-pass') && !r.stdout.includes('pg-canary-pass'));
  });

  test('when REDIS_URL points at it, then the probe gives up and the caller falls back instead of hanging', async () => {
    const hung = Symbol('hung');
    const result = await Promise.race([
      tryConnectRedis(`redis://:redis-canary@127.0.0.1:${port}`, 500),
      new Promise<typeof hung>((r) => setTimeout(() => r(hung), 20_000).unref()),
    ]);
    assert.notEqual(result, hung, 'tryConnectRedis returned');
    assert.equal(result, undefined);
  });

  test('when asked for --version, then the CLI prints the package version', async () => {
    const r = await cli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), version);
  });
});
