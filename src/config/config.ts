import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../model/errors';
import {
  REDACTED,
  redactText,
  redactUrl,
  SECRET_ENV_KEYS,
  secretValues,
  URL_ENV_KEYS,
} from '../security/redact';

/**
 * One validated configuration object, read from the environment and an optional JSON file
 * (TRADER_CONFIG_FILE). The environment wins over the file. A bad value fails at start with the
 * variable's name and the fix.
 */
const urlOf = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  );

/** The sentence an operator sets in LIVE_TRADING_CONFIRM to trade real money (with TRADING_MODE=live). */
export const LIVE_TRADING_CONFIRMATION = 'I understand this trades real money';
export const ALPACA_PAPER_URL = 'https://paper-api.alpaca.markets';
export const ALPACA_LIVE_URL = 'https://api.alpaca.markets';

/** Where orders sent to a broker endpoint go: a local simulator, Alpaca paper, or real money. */
export type BrokerEndpointMode = 'simulator' | 'paper' | 'live';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * What an APCA_API_BASE_URL is, by its host: localhost → the simulator, paper-api.alpaca.markets → paper,
 * anything else → live. An unknown remote endpoint counts as live: only the paper host is known to hold no
 * real money.
 */
export function endpointKindOfUrl(url: string): BrokerEndpointMode {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return 'live';
  }
  if (LOCAL_HOSTS.has(host)) return 'simulator';
  if (host === new URL(ALPACA_PAPER_URL).hostname) return 'paper';
  return 'live';
}

const hostPort = z.string().regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7233');

export const configSchema = z
  .object({
    DATABASE_URL: urlOf(['postgres:', 'postgresql:']).optional(),
    REDIS_URL: urlOf(['redis:', 'rediss:']).optional(),
    TEMPORAL_ADDRESS: hostPort.optional(),
    TEMPORAL_NAMESPACE: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, 'must be a Temporal namespace name')
      .default('default'),
    TEMPORAL_CLI: z.string().optional(),
    TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
    TEMPORAL_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
    APCA_API_KEY_ID: z.string().min(1).optional(),
    APCA_API_SECRET_KEY: z.string().min(1).optional(),
    APCA_API_BASE_URL: urlOf(['http:', 'https:']).optional(),
    APCA_DATA_BASE_URL: urlOf(['http:', 'https:']).optional(),
    TRADING_MODE: z.enum(['paper', 'live', 'replay', 'backtest']).default('paper'),
    LIVE_TRADING_CONFIRM: z.string().optional(),
    SLACK_BOT_TOKEN: z.string().min(1).optional(),
    SLACK_API_URL: urlOf(['http:', 'https:']).optional(),
    POLYGON_API_KEY: z.string().min(1).optional(),
    UNUSUAL_WHALES_API_KEY: z.string().min(1).optional(),
    XGBOOST_LIBRARY_PATH: z.string().min(1).optional(),
    /** XGBoost `device` on training workers: cpu, or cuda / cuda:N on GPU nodes. */
    XGBOOST_DEVICE: z
      .string()
      .regex(/^(cpu|cuda(:\d+)?)$/, 'must be cpu, cuda or cuda:N')
      .default('cpu'),
    TRADER_DATA_DIR: z.string().min(1).default(resolve(homedir(), '.local/share/temporal-trader')),
    TRADER_ARTIFACT_DIR: z.string().min(1).optional(),
    SHARED_DATA_DIR: z.string().min(1).optional(),
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
    /** 127.0.0.1 on laptops; 0.0.0.0 in Kubernetes so kubelet probes and Prometheus reach the pod IP. */
    METRICS_HOST: z
      .string()
      .regex(/^[0-9a-fA-F.:]+$|^localhost$/, 'must be an IP address to bind, e.g. 0.0.0.0')
      .default('127.0.0.1'),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    PAYLOAD_ENCRYPTION_KEYS: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    const endpoint = c.APCA_API_BASE_URL ? endpointKindOfUrl(c.APCA_API_BASE_URL) : undefined;
    if (endpoint === 'live' && c.TRADING_MODE !== 'live') {
      ctx.addIssue({
        code: 'custom',
        path: ['APCA_API_BASE_URL'],
        message:
          `${redactUrl(c.APCA_API_BASE_URL!)} is not the Alpaca paper endpoint nor a local simulator, so orders ` +
          `there trade real money, but TRADING_MODE is ${c.TRADING_MODE}. For paper: unset APCA_API_BASE_URL ` +
          `(or set it to ${ALPACA_PAPER_URL}); for live: set TRADING_MODE=live and ` +
          `LIVE_TRADING_CONFIRM="${LIVE_TRADING_CONFIRMATION}"`,
      });
    }
    if (endpoint === 'paper' && c.TRADING_MODE === 'live') {
      ctx.addIssue({
        code: 'custom',
        path: ['APCA_API_BASE_URL'],
        message: `TRADING_MODE=live but this is the Alpaca paper endpoint; unset APCA_API_BASE_URL (live uses ${ALPACA_LIVE_URL}) or unset TRADING_MODE for paper`,
      });
    }
    if (Boolean(c.APCA_API_KEY_ID) !== Boolean(c.APCA_API_SECRET_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: [c.APCA_API_KEY_ID ? 'APCA_API_SECRET_KEY' : 'APCA_API_KEY_ID'],
        message:
          'set both APCA_API_KEY_ID and APCA_API_SECRET_KEY, or neither (the local simulator is used then)',
      });
    }
    if (c.TRADING_MODE === 'live' && c.LIVE_TRADING_CONFIRM !== LIVE_TRADING_CONFIRMATION) {
      ctx.addIssue({
        code: 'custom',
        path: ['LIVE_TRADING_CONFIRM'],
        message: `live trading needs LIVE_TRADING_CONFIRM="${LIVE_TRADING_CONFIRMATION}"; unset TRADING_MODE for paper`,
      });
    }
    if (c.TRADING_MODE === 'live' && !c.APCA_API_KEY_ID) {
      ctx.addIssue({
        code: 'custom',
        path: ['APCA_API_KEY_ID'],
        message: 'live trading needs Alpaca credentials',
      });
    }
  });

const DEFAULT_SHARED_DATA = resolve(__dirname, '../../../shared/data');

export type RawConfig = z.infer<typeof configSchema>;

export interface AppConfig extends RawConfig {
  readonly artifactDir: string;
  /** SHARED_DATA_DIR, else ../shared/data beside the repository when it exists. */
  readonly sharedDataDir?: string;
  /** Credentials as a separate object so they are never serialised with the rest of the config. */
  readonly hasAlpacaCredentials: boolean;
}

const SECRET_KEYS: readonly string[] = SECRET_ENV_KEYS;
const URL_KEYS: readonly string[] = URL_ENV_KEYS;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  let fileValues: Record<string, unknown> = {};
  const file = env.TRADER_CONFIG_FILE;
  if (file) {
    try {
      fileValues = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      // JSON.parse quotes the text around the fault, which may be a secret: say only what and where.
      const why =
        err instanceof SyntaxError
          ? `not valid JSON${/position \d+/.exec(err.message) ? ` at ${/position \d+/.exec(err.message)![0]}` : ''}`
          : ((err as NodeJS.ErrnoException).code ?? 'unreadable');
      throw new ConfigError(
        `TRADER_CONFIG_FILE: cannot read "${file}" as JSON (${why}); fix the file or unset the variable`,
      );
    }
  }
  const merged: Record<string, unknown> = { ...fileValues };
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') merged[key] = v;
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = i.path.join('.') || '(config)';
      const got = name in merged ? ` (got "${printableValue(name, String(merged[name]))}")` : '';
      return `  ${name}: ${i.message}${got}`;
    });
    throw new ConfigError(redactText(`Invalid configuration:\n${lines.join('\n')}`, secretsOf(merged)));
  }
  const c = parsed.data;
  return {
    ...c,
    artifactDir: c.TRADER_ARTIFACT_DIR ?? resolve(c.TRADER_DATA_DIR, 'artifacts'),
    sharedDataDir: c.SHARED_DATA_DIR ?? (existsSync(DEFAULT_SHARED_DATA) ? DEFAULT_SHARED_DATA : undefined),
    hasAlpacaCredentials: Boolean(c.APCA_API_KEY_ID && c.APCA_API_SECRET_KEY),
  };
}

/** A value as it may be printed: a secret variable as `***`, a URL without its credentials. */
function printableValue(key: string, value: string): string {
  if (SECRET_KEYS.includes(key)) return REDACTED;
  if (URL_KEYS.includes(key)) return redactUrl(value);
  return value;
}

/** The secret values among the merged settings (a file may hold them too), for redacting error text. */
function secretsOf(merged: Record<string, unknown>): string[] {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(merged)) if (typeof v === 'string') env[k] = v;
  return secretValues(env);
}

/** The config with every secret replaced and every URL stripped of credentials, for printing and logging. */
export function redactConfig(config: AppConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const [k, v] of Object.entries(out))
    if (typeof v === 'string' && (SECRET_KEYS.includes(k) || URL_KEYS.includes(k)))
      out[k] = printableValue(k, v);
  return out;
}

/**
 * Which kind of broker this process's execution worker talks to. TRADING_MODE=live (which config load only
 * accepts with LIVE_TRADING_CONFIRM and Alpaca keys) is live whatever the URL: the operator declared real
 * money. Otherwise APCA_API_BASE_URL decides (endpointKindOfUrl; config load refuses a live one); without
 * it, Alpaca keys mean Alpaca paper, and no keys the simulator (nothing real is reachable).
 */
export function brokerEndpointMode(
  config: Pick<AppConfig, 'TRADING_MODE' | 'APCA_API_BASE_URL' | 'hasAlpacaCredentials'>,
): BrokerEndpointMode {
  if (config.TRADING_MODE === 'live') return 'live';
  if (config.APCA_API_BASE_URL) return endpointKindOfUrl(config.APCA_API_BASE_URL);
  return config.hasAlpacaCredentials ? 'paper' : 'simulator';
}

/**
 * The one check for anything that would trade real money from this process (live sessions, live
 * Schedules): the config must be the live opt-in. `what` names the flag or command refused.
 */
export function assertLiveOptIn(
  config: Pick<AppConfig, 'TRADING_MODE' | 'APCA_API_BASE_URL' | 'hasAlpacaCredentials'>,
  what: string,
): void {
  if (brokerEndpointMode(config) !== 'live')
    throw new ConfigError(
      `${what}: live trading needs the explicit opt-in: set TRADING_MODE=live and ` +
        `LIVE_TRADING_CONFIRM="${LIVE_TRADING_CONFIRMATION}" (with live Alpaca keys), here and on the workers`,
    );
}
