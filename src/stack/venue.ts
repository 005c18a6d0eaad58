/**
 * The paper venue of the local stack: the broker and the market-data feed that sessions use. With Alpaca keys
 * (or APCA_API_BASE_URL) the config names it; without either, `stack up` starts the local Alpaca-compatible
 * simulator (broker + market data) and points the dev worker at it. The simulator is an idle venue on the wall
 * clock (orders accepted, no market data, no fills) unless told a stored day to play (`stack up --venue-date D
 * [--venue-speed 60]`): then it is that day's venue, on its own clock. One description of the venue serves
 * `stack up`, `stack status`, `doctor`, the worker banners and `/healthz`.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { brokerEndpointMode, type AppConfig } from '../config/config';
import { redactUrl } from '../security/redact';
import { migrate } from '../storage/migrate';
import { createPool } from '../storage/pool';
import { processGroupAlive, stopProcessGroup } from './temporal';

const REPO_ROOT = resolve(__dirname, '../..');
/** The port of the stack's simulator (the `trader simulator start` default). */
export const STACK_SIMULATOR_PORT = 8790;

export interface VenueState {
  /** the broker sessions trade at */
  readonly kind: 'simulator' | 'alpaca-paper' | 'alpaca-live';
  /** config: named by the environment; started: the stack's simulator process; reused: one already answering */
  readonly source: 'config' | 'started' | 'reused';
  /** the trading API (absent: Alpaca's own host) */
  readonly url?: string;
  readonly pid?: number;
  readonly logFile?: string;
  /** simulator: the stored day it plays; null: an idle venue on the wall clock */
  readonly date?: string | null;
  readonly speed?: number;
}

type VenueConfig = Pick<
  AppConfig,
  'TRADING_MODE' | 'APCA_API_BASE_URL' | 'APCA_DATA_BASE_URL' | 'hasAlpacaCredentials'
>;

/** The broker the environment names (keys or APCA_API_BASE_URL); undefined when it names none. */
export function configuredVenue(config: VenueConfig): VenueState | undefined {
  const mode = brokerEndpointMode(config);
  const kind = mode === 'live' ? 'alpaca-live' : mode === 'paper' ? 'alpaca-paper' : 'simulator';
  if (config.APCA_API_BASE_URL) return { kind, source: 'config', url: config.APCA_API_BASE_URL };
  if (config.hasAlpacaCredentials) return { kind, source: 'config' };
  return undefined;
}

/** The simulator's clock as its admin route reports it, or undefined when nothing answers at `url`. */
export async function simulatorClock(
  url: string,
): Promise<{ now: number; date: string; running: boolean; speed: number } | undefined> {
  try {
    const r = await fetch(`${url.replace(/\/+$/, '')}/sim/clock`, { signal: AbortSignal.timeout(1_500) });
    if (!r.ok) return undefined;
    return (await r.json()) as { now: number; date: string; running: boolean; speed: number };
  } catch {
    return undefined;
  }
}

/** One line each for the broker and the market-data feed of a venue (no secret: URLs are redacted). */
export function describeVenue(
  v: VenueState | undefined,
  feed: 'iex' | 'sip' = 'iex',
): {
  broker: string;
  feed: string;
} {
  if (!v)
    return {
      broker: 'none: no Alpaca keys and no simulator (sessions cannot place orders)',
      feed: 'none: no Alpaca keys and no simulator (no real-time market data)',
    };
  if (v.kind === 'alpaca-live')
    return {
      broker: `Alpaca LIVE${v.url ? ` at ${redactUrl(v.url)}` : ''} (real money)`,
      feed: `Alpaca market data (${feed} stream + REST)`,
    };
  if (v.kind === 'alpaca-paper')
    return {
      broker: `Alpaca paper${v.url ? ` at ${redactUrl(v.url)}` : ''} (no real money)`,
      feed: `Alpaca market data (${feed} stream + REST)`,
    };
  const url = v.url ? redactUrl(v.url) : '?';
  const day =
    v.date === undefined
      ? ''
      : v.date === null
        ? ', an idle venue on the wall clock'
        : `, playing ${v.date} at ${v.speed ?? 1}x`;
  return {
    broker: `the local Alpaca-compatible simulator at ${url}${day} (no real money)`,
    feed:
      v.date === null
        ? `the simulator's stream at ${url.replace(/^http/, 'ws')}/v2/${feed} (idle: no stored day, so no bars)`
        : `the simulator's stream at ${url.replace(/^http/, 'ws')}/v2/${feed}`,
  };
}

export interface StartVenueOptions {
  /** a stored day to play; absent: an idle venue on the wall clock */
  readonly date?: string;
  /** simulated seconds per wall second (default 1) */
  readonly speed?: number;
  /** the database the day is read from (default the stack's) */
  readonly database?: string;
  readonly port?: number;
}

/**
 * Starts the stack's simulator (`trader simulator start`) detached in its own process group, and waits until it
 * answers; a simulator that exits first fails with the end of its log.
 */
export async function startStackSimulator(
  config: Pick<AppConfig, 'TRADER_DATA_DIR'>,
  databaseUrl: string,
  opts: StartVenueOptions = {},
): Promise<VenueState> {
  const port = opts.port ?? STACK_SIMULATOR_PORT;
  const url = `http://127.0.0.1:${port}`;
  const logFile = resolve(config.TRADER_DATA_DIR, 'simulator.log');
  const offset = existsSync(logFile) ? statSync(logFile).size : 0;
  const speed = opts.speed ?? 1;
  const args = ['simulator', 'start', '--port', String(port), '--speed', String(speed)];
  if (opts.date) args.push('--date', opts.date, '--database', opts.database ?? databaseUrl);
  const out = openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl };
  // the simulator accepts any key pair unless it is told one: the workers' defaults (no keys) are welcome
  delete env.APCA_API_KEY_ID;
  delete env.APCA_API_SECRET_KEY;
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, 'cli/main.ts'), ...args], {
    cwd: REPO_ROOT,
    env,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  child.unref();
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (exited !== null)
      throw new Error(
        `simulator exited with code ${exited} during start:\n${tail(logFile, offset)}\n(full log: ${logFile})`,
      );
    if (await simulatorClock(url))
      return {
        kind: 'simulator',
        source: 'started',
        url,
        pid: child.pid!,
        logFile,
        date: opts.date ?? null,
        speed,
      };
    await new Promise((r) => setTimeout(r, 300));
  }
  await stopProcessGroup(child.pid!);
  throw new Error(`simulator (pid ${child.pid}) did not answer at ${url} within 120 s; see ${logFile}`);
}

/** Stops the stack's simulator when the stack started it. */
export async function stopStackSimulator(v: VenueState | undefined): Promise<boolean> {
  if (!v?.pid || v.source !== 'started' || !processGroupAlive(v.pid)) return false;
  await stopProcessGroup(v.pid, 10_000);
  return true;
}

/**
 * The venue's own database beside the stack's (`<name>_venue` on the same server), created and migrated when
 * missing: a simulator reads its day from there, so the stack's store receives that day only through the
 * market-data stream. Returns its URL.
 */
export async function ensureVenueDatabase(mainUrl: string): Promise<string> {
  const url = new URL(mainUrl);
  const name = `${decodeURIComponent(url.pathname.slice(1)) || 'postgres'}_venue`;
  if (!/^[A-Za-z0-9_]+$/.test(name))
    throw new Error(
      `DATABASE_URL: the database name must be letters, digits and _ for its venue twin (${name})`,
    );
  const admin = createPool(mainUrl, { max: 1 });
  try {
    const { rowCount } = await admin.query(`select 1 from pg_database where datname = $1`, [name]);
    if (!rowCount)
      await admin.query(`create database ${name}`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e; // created meanwhile by another process
      });
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), { max: 1 });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  return url.toString();
}

function tail(file: string, offset: number): string {
  try {
    return readFileSync(file, 'utf8').slice(offset).trimEnd().split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}
