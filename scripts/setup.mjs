#!/usr/bin/env node
// Idempotent set-up for a fresh machine with only Node 20+: npm packages, Debian packages (when root; otherwise
// stop with the exact command), and the Temporal CLI built with Go into a cache outside the clone.
// Plain JavaScript on purpose: it runs before any npm package (tsx, TypeScript) is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const log = (msg) => quiet || console.log(`[setup] ${msg}`);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function fail(msg) {
  console.error(`[setup] ${msg}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) fail(`command failed (${r.status}): ${cmd} ${args.join(' ')}`);
}

// 1. Node
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 3)) fail(`Node.js >= 20.3 is required (found ${process.version}).`);

// 2. npm packages: install only when package-lock.json changed since the last install.
const lock = resolve(root, 'package-lock.json');
const stamp = resolve(root, 'node_modules/.setup-stamp');
const lockHash = createHash('sha256').update(readFileSync(lock)).update(readFileSync(resolve(root, 'package.json'))).digest('hex');
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lockHash) {
  // `npm install` (not `npm ci`): it installs exactly the lockfile's versions when in sync, and npm 11 rejects
  // `npm ci` for lockfiles whose other-platform optional packages (@swc/core-*) it recorded without versions.
  log('installing npm packages (npm install, from package-lock.json)…');
  run('npm', ['install', '--no-audit', '--no-fund']);
  // npm may normalise the lockfile on install: stamp what is there now.
  writeFileSync(stamp, createHash('sha256').update(readFileSync(lock)).update(readFileSync(resolve(root, 'package.json'))).digest('hex'));
} else {
  log('npm packages up to date');
}
// The project's own `trader` bin (package.json "bin"): npm does not link a package's bins into its own
// node_modules/.bin, so link it here; `npx trader …` then runs it on every npm version, with nothing but the
// command's own output on stdout (unlike `npm run`, which prints its banner there).
const traderBin = resolve(root, 'node_modules/.bin/trader');
try {
  if (readlinkSync(traderBin) !== '../../cli/bin.js') throw new Error('stale');
} catch {
  mkdirSync(dirname(traderBin), { recursive: true });
  rmSync(traderBin, { force: true });
  symlinkSync('../../cli/bin.js', traderBin);
  log('linked node_modules/.bin/trader → cli/bin.js (npx trader …)');
}

// 3. Debian packages: the XGBoost C library and CLI (models, benchmarks), Prometheus + promtool and Alertmanager
//    (alert rule tests and the alert scenarios that run a real Prometheus → Alertmanager → Slack stub chain) and
//    Chromium (report and dashboard screenshots).
const debs = [
  { pkg: 'libxgboost0', probe: () => existsSync('/usr/lib/x86_64-linux-gnu/libxgboost.so.0') || existsSync('/usr/lib/aarch64-linux-gnu/libxgboost.so.0') || !!process.env.XGBOOST_LIBRARY_PATH },
  { pkg: 'libxgboost-dev', probe: () => existsSync('/usr/lib/x86_64-linux-gnu/libxgboost.so') || existsSync('/usr/lib/aarch64-linux-gnu/libxgboost.so') || !!process.env.XGBOOST_LIBRARY_PATH },
  { pkg: 'xgboost', probe: () => onPath('xgboost') },
  { pkg: 'prometheus', probe: () => onPath('promtool') && onPath('prometheus') },
  { pkg: 'prometheus-alertmanager', probe: () => onPath('prometheus-alertmanager') || onPath('alertmanager') },
  { pkg: 'chromium', probe: () => existsSync('/usr/bin/chromium') },
];
const missing = debs.filter((d) => !d.probe()).map((d) => d.pkg);
if (missing.length) {
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!isRoot) fail(`missing Debian packages: ${missing.join(', ')}. Run:\n  sudo sh -c '${cmd}'\nthen run this command again.`);
  if (!onPath('apt-get')) fail(`missing system packages ${missing.join(', ')} and no apt-get here; install them with your package manager.`);
  log(`installing Debian packages: ${missing.join(' ')}`);
  run('sh', ['-c', cmd], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
} else {
  log('Debian packages present');
}

// 4. Temporal CLI: TEMPORAL_ADDRESS needs none; else TEMPORAL_CLI, PATH, the cache, else go install into it.
const version = 'v1.5.1';
const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'trading-system', `temporal-cli-${version}`);
const cached = join(cacheDir, 'temporal');
if (process.env.TEMPORAL_ADDRESS) {
  log(`Temporal: using TEMPORAL_ADDRESS=${process.env.TEMPORAL_ADDRESS}`);
} else if (process.env.TEMPORAL_CLI && isExec(process.env.TEMPORAL_CLI)) {
  log(`Temporal CLI: ${process.env.TEMPORAL_CLI} (TEMPORAL_CLI)`);
} else if (onPath('temporal')) {
  log('Temporal CLI: on PATH');
} else if (isExec(cached)) {
  log(`Temporal CLI: cached build ${cached}`);
} else {
  const goOut = spawnSync('go', ['version'], { encoding: 'utf8' }).stdout ?? '';
  const m = /go(\d+)\.(\d+)/.exec(goOut);
  const goOk = m && (Number(m[1]) > 1 || Number(m[2]) >= 25);
  const cmd = `GOBIN=${cacheDir} go install github.com/temporalio/cli/cmd/temporal@${version}`;
  if (!goOk) fail(`the Temporal CLI is needed and Go >= 1.25 is ${m ? 'too old' : 'missing'}. Install Go >= 1.25, then run:\n  ${cmd}`);
  mkdirSync(cacheDir, { recursive: true });
  log(`building the Temporal CLI ${version} into ${cacheDir} (first run only; a few minutes on 2 cores)…`);
  execFileSync('go', ['install', `github.com/temporalio/cli/cmd/temporal@${version}`], {
    stdio: 'inherit',
    env: { ...process.env, GOBIN: cacheDir, GOFLAGS: '-mod=mod' },
  });
}
log('ready');

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && isExec(join(d, name)));
}
function isExec(p) {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
