import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { loadConfig } from '../../../src/config/config';
import { runDoctor } from '../../../src/stack/doctor';

const root = resolve(__dirname, '../../..');
const run = promisify(execFile);

describe('doctor', () => {
  test('when XGBOOST_LIBRARY_PATH points nowhere, then doctor names libxgboost and the install command', async () => {
    const checks = await runDoctor(loadConfig({ XGBOOST_LIBRARY_PATH: '/nonexistent/libxgboost.so' }));
    const x = checks.find((c) => c.name === 'libxgboost');
    assert.ok(x);
    assert.equal(x.level, 'fail');
    assert.match(x.detail, /XGBOOST_LIBRARY_PATH does not load: \/nonexistent\/libxgboost.so: no such file/);
    assert.match(x.fix ?? '', /apt-get install -y libxgboost0/);
  });

  test('when run from the CLI with a bad library path, then it exits non-zero and prints the fix', async () => {
    const err = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'doctor'], {
      cwd: root,
      env: { ...process.env, XGBOOST_LIBRARY_PATH: '/nonexistent/libxgboost.so' },
    }).then(
      () => undefined,
      (e: { code: number; stdout: string }) => e,
    );
    assert.ok(err, 'doctor must fail');
    assert.equal(err.code, 1);
    assert.match(err.stdout, /\[FAIL\] libxgboost/);
    assert.match(err.stdout, /fix: .*libxgboost0/);
  });

  test('when the system library is present, then doctor reports its version', async (t) => {
    const checks = await runDoctor(loadConfig({}));
    const x = checks.find((c) => c.name === 'libxgboost')!;
    if (x.level !== 'ok') return t.skip(`SKIPPED: no system libxgboost (${x.detail})`);
    assert.match(x.detail, /XGBoost \d+\.\d+\.\d+/);
  });
});
