import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ScheduleNotFoundError } from '@temporalio/client';
import { LIVE_TRADING_CONFIRMATION } from '../../src/config/config';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

const root = resolve(__dirname, '../..');
const run = promisify(execFile);

/** The CLI or a worker entry point as a user runs it, with a clean broker environment plus `extra`. */
function runNode(args: string[], extra: NodeJS.ProcessEnv) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ['APCA_API_BASE_URL', 'APCA_API_KEY_ID', 'APCA_API_SECRET_KEY', 'LIVE_TRADING_CONFIRM'])
    if (!(k in extra)) delete env[k];
  if (!('TRADING_MODE' in extra)) delete env.TRADING_MODE;
  return run(process.execPath, ['--import', 'tsx', ...args], { cwd: root, env, timeout: 120_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

const keys = { APCA_API_KEY_ID: 'AKLIVEOPTIN', APCA_API_SECRET_KEY: 'live-opt-in-secret' };

describe('live trading needs the explicit opt-in everywhere', () => {
  let t: TemporalTestContext;
  before(async () => {
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
  });

  test('when the live Alpaca endpoint is set in the default paper mode, then the CLI and a worker refuse to start and name the fix', async () => {
    const env = { ...keys, APCA_API_BASE_URL: 'https://api.alpaca.markets' };
    const cli = await runNode(['cli/main.ts', 'config'], env);
    assert.equal(cli.code, 2, cli.stdout);
    assert.match(cli.stderr, /APCA_API_BASE_URL: .*real money, but TRADING_MODE is paper/);
    assert.match(cli.stderr, /TRADING_MODE=live and LIVE_TRADING_CONFIRM=/);
    assert.ok(!cli.stdout.includes('no real money'), 'no paper banner or config was printed');

    const worker = await runNode(['workers/execution.ts'], { ...env, METRICS_PORT: '0' });
    assert.notEqual(worker.code, 0);
    assert.match(worker.stderr, /APCA_API_BASE_URL: .*real money, but TRADING_MODE is paper/);
    assert.ok(!worker.stdout.includes('no real money'), 'the worker printed no paper banner');
  });

  test('when `schedules apply --mode live` runs from a paper setup, then it is refused and no Schedule exists; with the opt-in it is created', async () => {
    const account = `optin-${randomUUID().slice(0, 8)}`;
    const ids = [`${account}-live-pre-market`, `${account}-live-post-market`];
    const args = [
      'cli/main.ts',
      'schedules',
      'apply',
      '--symbols',
      'AAPL',
      '--account',
      account,
      '--mode',
      'live',
    ];

    const refused = await runNode(args, keys);
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(
      refused.stderr,
      /--mode live: live trading needs the explicit opt-in: set TRADING_MODE=live/,
    );
    for (const id of ids)
      await assert.rejects(t.client.schedule.getHandle(id).describe(), ScheduleNotFoundError, id);

    const optedIn = await runNode(args, {
      ...keys,
      TRADING_MODE: 'live',
      LIVE_TRADING_CONFIRM: LIVE_TRADING_CONFIRMATION,
    });
    try {
      assert.equal(optedIn.code, 0, optedIn.stderr);
      for (const id of ids) assert.match(optedIn.stdout, new RegExp(`created\\s+${id}`));
    } finally {
      for (const id of ids)
        await t.client.schedule
          .getHandle(id)
          .delete()
          .catch(() => undefined);
    }
  });
});
