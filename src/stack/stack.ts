import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { AppConfig } from '../config/config';
import { ConfigError } from '../model/errors';
import { redactUrl } from '../security/redact';
import { createPool } from '../storage/pool';
import { migrate } from '../storage/migrate';
import { DEFAULT_REDIS_URL, tryConnectRedis } from '../storage/cache';
import { readPostmasterPid, resolvePostgres, stopEmbeddedPostgres, type PostgresSource } from './postgres';
import {
  ensureSearchAttributes,
  processGroupAlive,
  startTemporalDevServer,
  stopProcessGroup,
  temporalIsServing,
  type TemporalBinarySource,
} from './temporal';
import {
  STACK_SIMULATOR_PORT,
  configuredVenue,
  describeVenue,
  simulatorClock,
  startStackSimulator,
  stopStackSimulator,
  type StartVenueOptions,
  type VenueState,
} from './venue';

export const REPO_ROOT = resolve(__dirname, '../..');

/** What `stack up` started or found, persisted so `stack down` in another process can stop it. */
export interface StackState {
  temporal: {
    address: string;
    namespace: string;
    uiUrl?: string;
    /** Set only when this stack started the server (else it belongs to someone else). */
    pid?: number;
    binary?: { path: string; source: TemporalBinarySource };
    logFile?: string;
    /** host:port of the server's Prometheus endpoint (/metrics), when this stack started it with one. */
    metricsTarget?: string;
    source: 'TEMPORAL_ADDRESS' | 'started' | 'reused';
  };
  postgres: { url: string; source: PostgresSource; embeddedDataDir?: string; timescale: boolean };
  redis: { kind: 'redis' | 'memory'; url?: string };
  worker?: { pid: number; logFile: string; metricsUrl: string };
  /** the paper venue: the broker (and feed) the config names, or the simulator this stack started */
  venue?: VenueState;
  startedAt: string;
}

export function stackStateFile(config: Pick<AppConfig, 'TRADER_DATA_DIR'>): string {
  return resolve(config.TRADER_DATA_DIR, 'stack.json');
}

export function readStackState(config: Pick<AppConfig, 'TRADER_DATA_DIR'>): StackState | undefined {
  const f = stackStateFile(config);
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

function writeStackState(config: AppConfig, state: StackState) {
  mkdirSync(config.TRADER_DATA_DIR, { recursive: true });
  // Owner-only: the recorded database URL may carry a password.
  writeFileSync(stackStateFile(config), JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
}

export interface StackUpOptions {
  /** Start the all-in-one dev worker in the background (default true). */
  readonly worker?: boolean;
  readonly log?: (msg: string) => void;
  readonly skipLocalPostgres?: boolean;
  /** How long to wait for the dev worker to report ready on /healthz (default 180 s). */
  readonly workerReadyTimeoutMs?: number;
  /**
   * Without Alpaca keys or APCA_API_BASE_URL: what the stack's simulator plays (a stored day, at a speed); absent:
   * keep the running one, or start an idle venue on the wall clock.
   */
  readonly venue?: StartVenueOptions;
}

/**
 * Brings up Temporal, PostgreSQL (migrated) and Redis, each reused if already running, and optionally the
 * all-in-one dev worker. Idempotent: a second call finds everything up and changes nothing.
 */
export async function stackUp(config: AppConfig, opts: StackUpOptions = {}): Promise<StackState> {
  const log = opts.log ?? console.log;
  const prior = readStackState(config);
  mkdirSync(config.TRADER_DATA_DIR, { recursive: true });
  const reuseWorker = prior?.worker && processGroupAlive(prior.worker.pid) ? prior.worker : undefined;
  // Before anything starts: a dev worker that cannot bind its metrics port would die after we said it started.
  if (opts.worker !== false && !reuseWorker && config.METRICS_PORT)
    await assertPortFree(config.METRICS_HOST, config.METRICS_PORT, 'METRICS_PORT');

  // Temporal
  let temporal: StackState['temporal'];
  if (config.TEMPORAL_ADDRESS) {
    if (!(await temporalIsServing(config.TEMPORAL_ADDRESS, 5000))) {
      throw new Error(
        `TEMPORAL_ADDRESS: no Temporal frontend answers at ${config.TEMPORAL_ADDRESS}; start it or unset the variable`,
      );
    }
    temporal = {
      address: config.TEMPORAL_ADDRESS,
      namespace: config.TEMPORAL_NAMESPACE,
      source: 'TEMPORAL_ADDRESS',
    };
  } else if (
    prior?.temporal.pid &&
    processGroupAlive(prior.temporal.pid) &&
    (await temporalIsServing(prior.temporal.address))
  ) {
    temporal = prior.temporal;
    log(`reusing Temporal dev server at ${temporal.address} (pid ${temporal.pid})`);
  } else {
    const address = `127.0.0.1:${config.TEMPORAL_PORT}`;
    if (await temporalIsServing(address)) {
      temporal = {
        address,
        namespace: config.TEMPORAL_NAMESPACE,
        uiUrl: `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`,
        source: 'reused',
      };
      log(`a Temporal server already answers at ${address}; reusing it (not ours to stop)`);
    } else {
      log('starting Temporal dev server…');
      const metricsPort = config.TEMPORAL_PORT + 2; // 7235 by default; scraped by deploy/prometheus
      const started = await startTemporalDevServer({
        dataDir: config.TRADER_DATA_DIR,
        port: config.TEMPORAL_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        namespace: config.TEMPORAL_NAMESPACE,
        metricsPort,
      });
      temporal = {
        address: started.address,
        namespace: config.TEMPORAL_NAMESPACE,
        uiUrl: started.uiUrl,
        pid: started.pid,
        binary: started.binary,
        logFile: started.logFile,
        metricsTarget: `127.0.0.1:${metricsPort}`,
        source: 'started',
      };
      log(
        `Temporal dev server up at ${started.address} (binary from ${started.binary.source}: ${started.binary.path})`,
      );
    }
  }

  if (temporal.source !== 'started') {
    const added = await ensureSearchAttributes(temporal.address, temporal.namespace);
    if (added.length) log(`registered search attributes on ${temporal.namespace}: ${added.join(', ')}`);
  }

  // PostgreSQL
  const pg = await resolvePostgres({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.TRADER_DATA_DIR,
    skipLocal: opts.skipLocalPostgres,
    log,
  });
  const pool = createPool(pg.url, { max: 2 });
  let timescale = false;
  try {
    const m = await migrate(pool);
    timescale = m.timescale;
    if (m.applied.length) log(`migrations applied: ${m.applied.join(', ')}`);
  } finally {
    await pool.end();
  }

  // Redis
  const redisUrl = config.REDIS_URL ?? DEFAULT_REDIS_URL;
  const redisClient = await tryConnectRedis(redisUrl);
  redisClient?.disconnect();
  if (!redisClient)
    log(`redis not reachable at ${redactUrl(redisUrl)}: workers will use an in-process cache`);

  const venue = await resolveVenue(config, pg.url, prior?.venue, opts.venue, log);
  const state: StackState = {
    temporal,
    postgres: { url: pg.url, source: pg.source, embeddedDataDir: pg.dataDir, timescale },
    redis: redisClient ? { kind: 'redis', url: redisUrl } : { kind: 'memory' },
    venue,
    startedAt: prior?.startedAt ?? new Date().toISOString(),
  };
  if (reuseWorker) state.worker = reuseWorker;
  writeStackState(config, state);

  if (opts.worker !== false && !state.worker) {
    const started = startDevWorker(config, state);
    state.worker = started.worker;
    writeStackState(config, state);
    log(`dev worker starting (pid ${started.worker.pid}, log ${started.worker.logFile})…`);
    try {
      await waitForDevWorker(config, started, opts.workerReadyTimeoutMs ?? 180_000);
    } catch (err) {
      if (!processGroupAlive(started.worker.pid)) {
        delete state.worker;
        writeStackState(config, state);
      }
      throw err;
    }
    log(`dev worker ready (pid ${started.worker.pid})`);
  }
  return state;
}

/**
 * The paper venue: the broker the environment names; else the stack's simulator — the running one when it plays
 * what is asked (or nothing is asked), else a new one on the same port (the dev worker's URL stays valid).
 */
async function resolveVenue(
  config: AppConfig,
  databaseUrl: string,
  prior: VenueState | undefined,
  wanted: StartVenueOptions | undefined,
  log: (msg: string) => void,
): Promise<VenueState> {
  const configured = configuredVenue(config);
  if (configured) {
    if (wanted?.date)
      throw new ConfigError(
        `--venue-date: the venue is ${describeVenue(configured).broker} (Alpaca keys or APCA_API_BASE_URL are set); the stack starts its simulator only without them`,
      );
    return configured;
  }
  const port = wanted?.port ?? STACK_SIMULATOR_PORT;
  const ours =
    prior?.source === 'started' && prior.pid && processGroupAlive(prior.pid) && prior.url ? prior : undefined;
  // no day asked for: keep whatever runs; a day asked for: the running one only if it plays that day so
  const same = !wanted?.date || (wanted.date === ours?.date && (wanted.speed ?? 1) === (ours?.speed ?? 1));
  if (ours && same && (await simulatorClock(ours.url!))) {
    log(`reusing the simulator at ${ours.url} (pid ${ours.pid})`);
    return ours;
  }
  if (ours) await stopStackSimulator(ours);
  const url = `http://127.0.0.1:${port}`;
  const other = await simulatorClock(url);
  if (other) {
    if (wanted?.date)
      throw new ConfigError(
        `--venue-date: a simulator this stack did not start answers at ${url} (its day ${other.date}); stop it, or point APCA_API_BASE_URL at it`,
      );
    log(`a simulator already answers at ${url}; using it as the paper venue (not ours to stop)`);
    return { kind: 'simulator', source: 'reused', url, date: other.date, speed: other.speed };
  }
  log(
    wanted?.date
      ? `starting the simulator over ${wanted.date} at ${wanted.speed ?? 1}x…`
      : 'starting the simulator (no Alpaca keys): an idle venue on the wall clock…',
  );
  return startStackSimulator(config, databaseUrl, { ...wanted, port });
}

/**
 * The config as a CLI command should see the venue: APCA_API_BASE_URL from the stack's simulator when the
 * environment names no broker (so `session start` and `stream start` ask the same venue the workers use).
 */
export function withStackVenue<C extends AppConfig>(config: C): C {
  if (configuredVenue(config)) return config;
  const v = readStackState(config)?.venue;
  return v?.kind === 'simulator' && v.url ? { ...config, APCA_API_BASE_URL: v.url } : config;
}

/** Fails with the variable and the port named when something already listens on host:port. */
export async function assertPortFree(host: string, port: number, variable: string): Promise<void> {
  const probe = createServer();
  const err = await new Promise<NodeJS.ErrnoException | undefined>((resolveBind) => {
    probe.once('error', (e: NodeJS.ErrnoException) => resolveBind(e));
    probe.listen(port, host, () => resolveBind(undefined));
  });
  if (!err) {
    await new Promise<void>((r) => probe.close(() => r()));
    return;
  }
  if (err.code === 'EADDRINUSE')
    throw new ConfigError(
      `${variable}: ${host}:${port} is already in use, so the dev worker could not serve /metrics and /healthz; ` +
        `stop what listens there (ss -ltnp 'sport = :${port}') or set ${variable} to a free port`,
    );
  throw new ConfigError(`${variable}: cannot bind ${host}:${port} (${err.code ?? err.message})`);
}

/** Environment that points a child process at this stack. Credentials are inherited, never written down. */
export function stackEnv(config: AppConfig, state: StackState): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: state.temporal.address,
    TEMPORAL_NAMESPACE: state.temporal.namespace,
    DATABASE_URL: state.postgres.url,
    ...(state.redis.url ? { REDIS_URL: state.redis.url } : {}),
    // the stack's simulator is the broker and the feed when the environment names none
    ...(state.venue?.kind === 'simulator' && state.venue.source !== 'config' && state.venue.url
      ? { APCA_API_BASE_URL: state.venue.url }
      : {}),
    TRADER_DATA_DIR: config.TRADER_DATA_DIR,
  };
}

interface StartedDevWorker {
  readonly worker: NonNullable<StackState['worker']>;
  /** Where this start's output begins in the (appended) log file. */
  readonly logOffset: number;
  /** Resolves with the exit code if the worker exits. */
  readonly exited: Promise<number>;
}

function startDevWorker(config: AppConfig, state: StackState): StartedDevWorker {
  const logFile = resolve(config.TRADER_DATA_DIR, 'dev-worker.log');
  const logOffset = existsSync(logFile) ? statSync(logFile).size : 0;
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, 'workers/dev.ts')], {
    cwd: REPO_ROOT,
    env: stackEnv(config, state),
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const exited = new Promise<number>((r) =>
    child.once('exit', (code, signal) => r(code ?? (signal ? 128 : 1))),
  );
  child.unref();
  const host =
    config.METRICS_HOST === '0.0.0.0' || config.METRICS_HOST === '::' ? '127.0.0.1' : config.METRICS_HOST;
  return {
    worker: { pid: child.pid!, logFile, metricsUrl: `http://${host}:${config.METRICS_PORT}/metrics` },
    logOffset,
    exited,
  };
}

/**
 * Waits until the dev worker is ready: /healthz answers 200 (every worker polling, PostgreSQL and Temporal
 * reachable), or with METRICS_PORT=0 its "polling" line in the log. A worker that exits first fails `stack
 * up` with the end of its log (e.g. the port it could not bind).
 */
async function waitForDevWorker(
  config: AppConfig,
  started: StartedDevWorker,
  timeoutMs: number,
): Promise<void> {
  const { worker } = started;
  let exitCode: number | undefined;
  void started.exited.then((c) => (exitCode = c));
  const healthz = worker.metricsUrl.replace(/\/metrics$/, '/healthz');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined)
      throw new Error(
        `dev worker exited with code ${exitCode} during start:\n${logTail(worker.logFile, started.logOffset)}\n(full log: ${worker.logFile})`,
      );
    if (config.METRICS_PORT) {
      const ok = await fetch(healthz, { signal: AbortSignal.timeout(3000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
    } else if (/: polling /.test(logTail(worker.logFile, started.logOffset))) {
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `dev worker (pid ${worker.pid}) not ready within ${Math.round(timeoutMs / 1000)} s (${healthz}); see ${worker.logFile}`,
  );
}

/** The last lines a process wrote to `file` since `offset`. */
function logTail(file: string, offset: number, maxLines = 15): string {
  try {
    const size = statSync(file).size;
    const start = Math.max(offset, size - 16_384);
    const buf = Buffer.alloc(size - start);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buf, 0, buf.length, start);
    } finally {
      closeSync(fd);
    }
    return buf.toString('utf8').trimEnd().split('\n').slice(-maxLines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface StackDownResult {
  stopped: string[];
  leftRunning: string[];
}

/** Stops what `stack up` started (never a server it merely reused) and forgets the state. */
export async function stackDown(
  config: AppConfig,
  log: (msg: string) => void = console.log,
): Promise<StackDownResult> {
  const state = readStackState(config);
  const stopped: string[] = [];
  const leftRunning: string[] = [];
  if (!state) {
    log('stack: nothing recorded as running');
    return { stopped, leftRunning };
  }
  if (state.worker) {
    await stopProcessGroup(state.worker.pid, 30_000);
    stopped.push(`dev worker (pid ${state.worker.pid})`);
  }
  if (await stopStackSimulator(state.venue)) stopped.push(`simulator (pid ${state.venue!.pid})`);
  if (state.temporal.pid) {
    await stopProcessGroup(state.temporal.pid, 15_000);
    stopped.push(`Temporal dev server (pid ${state.temporal.pid})`);
  } else {
    leftRunning.push(`Temporal at ${state.temporal.address} (${state.temporal.source}, not started by us)`);
  }
  if (state.postgres.source === 'embedded' && state.postgres.embeddedDataDir) {
    const pid = readPostmasterPid(state.postgres.embeddedDataDir);
    await stopEmbeddedPostgres(state.postgres.embeddedDataDir);
    stopped.push(`embedded PostgreSQL${pid ? ` (pid ${pid})` : ''}`);
  } else {
    leftRunning.push(`PostgreSQL (${state.postgres.source}, not started by us)`);
  }
  rmSync(stackStateFile(config), { force: true });
  for (const s of stopped) log(`stopped ${s}`);
  return { stopped, leftRunning };
}

export interface StackStatus {
  state?: StackState;
  temporal: { address?: string; serving: boolean; uiUrl?: string };
  postgres: { url?: string; source?: string };
  redis: { kind?: string };
  worker: { pid?: number; alive: boolean };
  venue: { broker: string; feed: string; alive: boolean | null };
}

export async function stackStatus(config: AppConfig): Promise<StackStatus> {
  const state = readStackState(config);
  const address = state?.temporal.address ?? config.TEMPORAL_ADDRESS;
  return {
    state,
    temporal: {
      address,
      serving: address ? await temporalIsServing(address) : false,
      uiUrl: state?.temporal.uiUrl,
    },
    postgres: { url: state ? redactUrl(state.postgres.url) : undefined, source: state?.postgres.source },
    redis: { kind: state?.redis.kind },
    worker: { pid: state?.worker?.pid, alive: state?.worker ? processGroupAlive(state.worker.pid) : false },
    venue: {
      ...describeVenue(state?.venue ?? configuredVenue(config)),
      alive:
        state?.venue?.kind === 'simulator' && state.venue.url
          ? (await simulatorClock(state.venue.url)) !== undefined
          : null,
    },
  };
}
