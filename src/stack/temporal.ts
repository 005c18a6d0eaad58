import { execFile, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../../contracts/task-queues';

const execFileAsync = promisify(execFile);

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
/** Go 1.25 is the oldest toolchain the pinned CLI builds with. */
const MIN_GO = [1, 25] as const;

/** The build cache lives outside the clone so later runs (and CI) reuse it. */
export function temporalCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'trading-system', `temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

export type TemporalBinarySource = 'TEMPORAL_CLI' | 'PATH' | 'cache' | 'go install';

export interface ResolvedTemporalBinary {
  readonly path: string;
  readonly source: TemporalBinarySource;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, name);
    if (dir && isExecutable(p)) return p;
  }
  return undefined;
}

/** Parses `go version` output; undefined when Go is absent or unparsable. */
export function goVersion(goBin = 'go'): [number, number] | undefined {
  const r = spawnSync(goBin, ['version'], { encoding: 'utf8' });
  const m = /go(\d+)\.(\d+)/.exec(r.stdout ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function goIsRecentEnough(v: [number, number] | undefined): boolean {
  return !!v && (v[0] > MIN_GO[0] || (v[0] === MIN_GO[0] && v[1] >= MIN_GO[1]));
}

export const GO_INSTALL_COMMAND = `GOBIN=${temporalCacheDir()} go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`;

/**
 * Finds the Temporal CLI without building: TEMPORAL_CLI, then `temporal` on PATH, then the cached build.
 */
export function findTemporalBinary(env: NodeJS.ProcessEnv = process.env): ResolvedTemporalBinary | undefined {
  if (env.TEMPORAL_CLI) {
    if (!isExecutable(env.TEMPORAL_CLI)) {
      throw new Error(
        `TEMPORAL_CLI: "${env.TEMPORAL_CLI}" is not an executable file; fix the path or unset it`,
      );
    }
    return { path: env.TEMPORAL_CLI, source: 'TEMPORAL_CLI' };
  }
  const fromPath = onPath('temporal');
  if (fromPath) return { path: fromPath, source: 'PATH' };
  const cached = join(temporalCacheDir(), 'temporal');
  if (isExecutable(cached)) return { path: cached, source: 'cache' };
  return undefined;
}

/**
 * Resolves the CLI in DESIGN.md's order, building it with `go install` into the cache when needed.
 * The last resort of DESIGN.md (the SDK's own download) cannot work without internet, so instead of
 * trying it blindly we stop with the exact command that fixes the machine.
 */
export async function resolveTemporalBinary(
  log: (msg: string) => void = console.log,
): Promise<ResolvedTemporalBinary> {
  const found = findTemporalBinary();
  if (found) return found;
  const v = goVersion();
  if (!goIsRecentEnough(v)) {
    throw new Error(
      `Temporal CLI not found (TEMPORAL_CLI, PATH, ${temporalCacheDir()}) and Go >= ${MIN_GO.join('.')} is ` +
        `${v ? `too old (found ${v.join('.')})` : 'not installed'}. Fix: install Go >= 1.25 and run\n  ${GO_INSTALL_COMMAND}\n` +
        'or set TEMPORAL_CLI to a temporal binary, or TEMPORAL_ADDRESS to an existing server.',
    );
  }
  const dir = temporalCacheDir();
  mkdirSync(dir, { recursive: true });
  log(
    `building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${dir} (first run only, a few minutes)…`,
  );
  await execFileAsync('go', ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
    env: { ...process.env, GOBIN: dir, GOFLAGS: '-mod=mod' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const built = join(dir, 'temporal');
  if (!isExecutable(built)) throw new Error(`go install finished but ${built} is missing`);
  return { path: built, source: 'go install' };
}

/** Dynamic config of every dev server we start; mirrors the production settings in deploy/temporal. */
const DEV_SERVER_DYNAMIC_CONFIG = ['system.enableActivityEagerExecution=true'] as const;

export interface TemporalServerOptions {
  readonly dataDir: string;
  readonly ip?: string;
  readonly port: number;
  readonly uiPort: number;
  readonly namespace: string;
  readonly metricsPort?: number;
  readonly codecEndpoint?: string;
  /** Seconds to wait for the frontend to serve; 2-core machines need far more than the SDK's 5 s. */
  readonly startTimeoutS?: number;
}

export interface StartedTemporal {
  readonly address: string;
  readonly uiUrl: string;
  readonly pid: number;
  readonly binary: ResolvedTemporalBinary;
  readonly logFile: string;
  readonly dbFile: string;
}

/** True when a Temporal frontend answers its health check at `address`. */
export async function temporalIsServing(address: string, timeoutMs = 1500): Promise<boolean> {
  let conn: Connection | undefined;
  try {
    conn = await Connection.connect({ address, connectTimeout: timeoutMs });
    const res = await conn.healthService.check({});
    return res.status === 1; // SERVING
  } catch {
    return false;
  } finally {
    await conn?.close().catch(() => undefined);
  }
}

/**
 * Starts `temporal server start-dev` detached in its own process group (so `stack down` can stop the
 * whole group from another process), with a SQLite file in the data dir, the Web UI, the namespace
 * and the custom search attributes, then waits until the frontend serves.
 */
export async function startTemporalDevServer(opts: TemporalServerOptions): Promise<StartedTemporal> {
  const binary = await resolveTemporalBinary();
  const ip = opts.ip ?? '127.0.0.1';
  mkdirSync(opts.dataDir, { recursive: true });
  const dbFile = resolve(opts.dataDir, 'temporal.sqlite');
  const logFile = resolve(opts.dataDir, 'temporal.log');
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--db-filename',
    dbFile,
    '--namespace',
    opts.namespace,
    '--log-level',
    'warn',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([k, t]) => ['--search-attribute', `${k}=${t}`]),
    // Same as deploy/temporal/config/dynamic_config.yaml: the session's decide activity (on the workflow's own
    // queue) starts eagerly with the workflow-task completion, one dispatch fewer per bar.
    ...DEV_SERVER_DYNAMIC_CONFIG.flatMap((kv) => ['--dynamic-config-value', kv]),
  ];
  if (opts.metricsPort) args.push('--metrics-port', String(opts.metricsPort));
  if (opts.codecEndpoint) args.push('--ui-codec-endpoint', opts.codecEndpoint);
  const out = openSync(logFile, 'a');
  const child = spawn(binary.path, args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  const pid = child.pid!;
  const address = `${ip}:${opts.port}`;
  const deadline = Date.now() + (opts.startTimeoutS ?? 120) * 1000;
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  while (Date.now() < deadline) {
    if (exited !== null) {
      throw new Error(`temporal server exited with code ${exited} during start; see ${logFile}`);
    }
    if (await temporalIsServing(address)) {
      return { address, uiUrl: `http://${ip}:${opts.uiPort}`, pid, binary, logFile, dbFile };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  killProcessGroup(pid);
  throw new Error(
    `temporal server did not serve on ${address} within ${opts.startTimeoutS ?? 120} s; see ${logFile}`,
  );
}

/** SIGTERM then SIGKILL the process group led by `pid`; resolves when every member is gone. */
export async function stopProcessGroup(pid: number, graceMs = 10_000): Promise<void> {
  if (!processGroupAlive(pid)) return;
  killProcessGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!processGroupAlive(pid)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  killProcessGroup(pid, 'SIGKILL');
  const hard = Date.now() + 5000;
  while (processGroupAlive(pid) && Date.now() < hard) await new Promise((r) => setTimeout(r, 50));
}

export function killProcessGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

export function processGroupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    try {
      process.kill(pid, 0);
      return !isZombie(pid);
    } catch {
      return false;
    }
  }
}

function isZombie(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  const r = spawnSync('cat', [stat], { encoding: 'utf8' });
  return / Z /.test(r.stdout ?? '');
}

const INDEXED_TYPES: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KeywordList: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  Text: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/**
 * Registers our custom search attributes on a namespace when missing (a server we did not start, e.g.
 * TEMPORAL_ADDRESS or a cluster, may lack them). Idempotent; returns the names it added.
 */
export async function ensureSearchAttributes(address: string, namespace: string): Promise<string[]> {
  const conn = await Connection.connect({ address });
  try {
    const existing = await conn.operatorService.listSearchAttributes({ namespace });
    const have = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !have.has(name));
    if (missing.length) {
      await conn.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_TYPES[type]!])),
      });
    }
    return missing.map(([name]) => name);
  } finally {
    await conn.close();
  }
}
