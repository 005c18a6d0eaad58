/**
 * The full test suite: type-check, lint (incl. workflow determinism), format check, then every test file under test/ with
 * Node's test runner, against a real Temporal dev server started here on its own ports and SQLite file,
 * real PostgreSQL and real Redis. `npm test -- test/unit` runs a subset (lint and type-check still run unless
 * --no-static).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { startTemporalDevServer, stopProcessGroup } from '../src/stack/temporal';
import { sharedDataDir } from '../test/support/shared-data';

const root = resolve(__dirname, '..');

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures') continue;
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

function step(name: string, cmd: string, args: string[]): void {
  const t0 = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`=== ${name} FAILED (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
  console.log(`=== ${name} ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

async function main() {
  const args = process.argv.slice(2);
  const noStatic = args.includes('--no-static');
  const selectors = args.filter((a) => !a.startsWith('--'));
  if (!noStatic) {
    step('type-check', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']);
    step('lint', 'npx', ['eslint', '.', '--max-warnings=0']);
    step('format', 'npx', ['prettier', '--check', '**/*.ts']);
  }
  let files = findTests(join(root, 'test'));
  if (selectors.length) {
    files = files.filter((f) => selectors.some((s) => relative(root, f).startsWith(s.replace(/^\.\//, ''))));
  }
  if (!files.length) {
    console.error(`no test files match ${selectors.join(' ')}`);
    process.exit(1);
  }

  console.log(
    sharedDataDir()
      ? `real data: ${sharedDataDir()} (tests on real data run)`
      : 'real data: NOT FOUND (../shared/data): tests on real data are SKIPPED and say so',
  );

  let temporalPid: number | undefined;
  const env: NodeJS.ProcessEnv = { ...process.env, TRADER_TEST: '1' };
  const dataDir = mkdtempSync(join(tmpdir(), 'trader-test-'));
  if (!process.env.TEMPORAL_ADDRESS) {
    const port = Number(process.env.TEST_TEMPORAL_PORT ?? 7633);
    const t0 = Date.now();
    const started = await startTemporalDevServer({
      dataDir,
      port,
      uiPort: port + 1000,
      namespace: 'default',
      startTimeoutS: 180,
    });
    temporalPid = started.pid;
    env.TEMPORAL_ADDRESS = started.address;
    env.TEMPORAL_UI_URL = started.uiUrl;
    env.TEMPORAL_CLI = started.binary.path;
    console.log(
      `Temporal dev server for tests at ${started.address} (UI ${started.uiUrl}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  const cleanup = async () => {
    if (temporalPid) await stopProcessGroup(temporalPid);
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));

  console.log(`\n=== tests: ${files.length} files`);
  const code = await new Promise<number>((resolveExit) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
        '--test-timeout=600000',
        '--test-reporter=spec',
        ...files.map((f) => relative(root, f)),
      ],
      { cwd: root, env, stdio: 'inherit' },
    );
    child.on('exit', (c, sig) => resolveExit(c ?? (sig ? 1 : 0)));
  });
  await cleanup();
  process.exit(code);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
