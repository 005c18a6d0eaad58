import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../model/errors';

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
    if (Boolean(c.APCA_API_KEY_ID) !== Boolean(c.APCA_API_SECRET_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: [c.APCA_API_KEY_ID ? 'APCA_API_SECRET_KEY' : 'APCA_API_KEY_ID'],
        message:
          'set both APCA_API_KEY_ID and APCA_API_SECRET_KEY, or neither (the local simulator is used then)',
      });
    }
    if (c.TRADING_MODE === 'live' && c.LIVE_TRADING_CONFIRM !== 'I understand this trades real money') {
      ctx.addIssue({
        code: 'custom',
        path: ['LIVE_TRADING_CONFIRM'],
        message:
          'live trading needs LIVE_TRADING_CONFIRM="I understand this trades real money"; unset TRADING_MODE for paper',
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

const SECRET_KEYS = [
  'APCA_API_KEY_ID',
  'APCA_API_SECRET_KEY',
  'SLACK_BOT_TOKEN',
  'POLYGON_API_KEY',
  'UNUSUAL_WHALES_API_KEY',
  'PAYLOAD_ENCRYPTION_KEYS',
] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  let fileValues: Record<string, unknown> = {};
  const file = env.TRADER_CONFIG_FILE;
  if (file) {
    try {
      fileValues = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(
        `TRADER_CONFIG_FILE: cannot read "${file}" as JSON (${(err as Error).message}); fix the file or unset the variable`,
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
      const got =
        name in merged && !SECRET_KEYS.includes(name as never) ? ` (got "${String(merged[name])}")` : '';
      return `  ${name}: ${i.message}${got}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  return {
    ...c,
    artifactDir: c.TRADER_ARTIFACT_DIR ?? resolve(c.TRADER_DATA_DIR, 'artifacts'),
    sharedDataDir: c.SHARED_DATA_DIR ?? (existsSync(DEFAULT_SHARED_DATA) ? DEFAULT_SHARED_DATA : undefined),
    hasAlpacaCredentials: Boolean(c.APCA_API_KEY_ID && c.APCA_API_SECRET_KEY),
  };
}

/** The config with every secret replaced, for printing and logging. */
export function redactConfig(config: AppConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const k of SECRET_KEYS) if (out[k] !== undefined) out[k] = '***';
  return out;
}
