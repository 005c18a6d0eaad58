/**
 * A real Prometheus and a real Alertmanager (the Debian `prometheus` and `prometheus-alertmanager` packages,
 * installed by `npm run setup`) for tests: each on its own ephemeral ports and temporary storage, so test files
 * can run them in parallel. Prometheus scrapes and evaluates every second.
 *
 * What runs is the shipped configuration with a documented transformation, never a hand-edited copy:
 * - alert rules (`fastAlertRules`): deploy/prometheus/rules/trader-alerts.yml with every `for:` duration
 *   divided by 60 (minutes become seconds: `for: 2m` → `for: 2s`, `for: 0m` stays 0). Expressions, windows,
 *   labels and texts are unchanged.
 * - Alertmanager (`testAlertmanagerConfig`): deploy/prometheus/alertmanager.yml with Slack's chat.postMessage
 *   URL replaced by the local Slack stub's, the bot-token file by a temporary one, and the grouping delays
 *   (group_wait, group_interval) set to 0 s / 1 s. Routes, receivers, channels and inhibition are unchanged.
 */
import { spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { killProcessGroup, processGroupAlive, stopProcessGroup } from '../../src/stack/temporal';

const root = resolve(__dirname, '../..');
export const ALERT_RULES_FILE = join(root, 'deploy/prometheus/rules/trader-alerts.yml');
export const ALERTMANAGER_CONFIG_FILE = join(root, 'deploy/prometheus/alertmanager.yml');

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export const PROMETHEUS_BIN = process.env.PROMETHEUS ?? onPath('prometheus');
/** Debian names the binary prometheus-alertmanager; upstream builds call it alertmanager. */
export const ALERTMANAGER_BIN =
  process.env.ALERTMANAGER ?? onPath('prometheus-alertmanager') ?? onPath('alertmanager');

/** Why the real-Prometheus tests cannot run here (a skip reason), or false when they can. */
export const prometheusSkipReason: string | false =
  PROMETHEUS_BIN && ALERTMANAGER_BIN
    ? false
    : `needs ${[!PROMETHEUS_BIN && 'prometheus', !ALERTMANAGER_BIN && 'prometheus-alertmanager'].filter(Boolean).join(' and ')} on PATH: run \`npm run setup\` (as root) or \`apt-get install -y prometheus prometheus-alertmanager\``;

/** The test copy of the alert rules: every `for:` duration divided by 60 (minutes → seconds). */
export function fastAlertRules(yaml: string): string {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
  let changed = 0;
  const out = yaml.replace(
    /^(\s*for:\s*)((?:\d+(?:ms|s|m|h|d))+)\s*$/gm,
    (_line, head: string, dur: string) => {
      let seconds = 0;
      for (const [, n, u] of dur.matchAll(/(\d+)(ms|s|m|h|d)/g)) seconds += Number(n) * units[u!]!;
      changed++;
      const fast = seconds === 0 ? 0 : Math.max(1, Math.round(seconds / 60));
      return `${head}${fast}s`;
    },
  );
  if (!changed)
    throw new Error('fastAlertRules: no `for:` durations found; has the rules file changed shape?');
  return out;
}

/** The test copy of alertmanager.yml: Slack at the stub, a token file, grouping delays of a second. */
export function testAlertmanagerConfig(
  yaml: string,
  opts: { slackApiUrl: string; tokenFile: string },
): string {
  const replace = (s: string, re: RegExp, by: string, what: string) => {
    if (!re.test(s)) throw new Error(`testAlertmanagerConfig: ${what} not found in alertmanager.yml`);
    return s.replace(new RegExp(re.source, 'gm'), by);
  };
  let out = replace(
    yaml,
    /api_url: https:\/\/slack\.com\/api\/chat\.postMessage$/m,
    `api_url: ${new URL('chat.postMessage', opts.slackApiUrl).toString()}`,
    'the chat.postMessage api_url',
  );
  out = replace(
    out,
    /credentials_file: \/etc\/alertmanager\/slack-bot-token$/m,
    `credentials_file: ${opts.tokenFile}`,
    'the bot token credentials_file',
  );
  out = replace(out, /^(\s*)group_wait: \S+$/m, '$1group_wait: 0s', 'group_wait');
  out = replace(out, /^(\s*)group_interval: \S+$/m, '$1group_interval: 1s', 'group_interval');
  return out;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r, j) => {
    s.once('error', j);
    s.listen(0, '127.0.0.1', () => r());
  });
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Polls until `check` returns a value (not undefined), failing after `timeoutMs` with what was last seen. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not reached within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) killProcessGroup(pid);
});

interface Daemon {
  readonly pid: number;
  readonly url: string;
  readonly log: string;
  stop(): Promise<void>;
}

/** Starts a daemon on a free port (retrying when another process takes the port first) and waits for /-/ready. */
async function startDaemon(
  name: string,
  bin: string,
  args: (port: number) => string[],
  log: string,
): Promise<Daemon> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const fd = openSync(log, 'a');
    const child = spawn(bin, args(port), { detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const pid = child.pid!;
    running.add(pid);
    let exited = false;
    child.once('exit', () => (exited = true));
    const url = `http://127.0.0.1:${port}`;
    try {
      await until(
        `${name} ready at ${url}`,
        async () => {
          if (exited) throw new Error(`${name} exited`);
          const r = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
          return r.ok ? true : undefined;
        },
        30_000,
      );
    } catch (err) {
      await stopProcessGroup(pid, 2000);
      running.delete(pid);
      const text = readFileSync(log, 'utf8');
      if (attempt < 3 && /address already in use/i.test(text)) continue;
      throw new Error(`${(err as Error).message}\n${name} log (${log}):\n${text.slice(-3000)}`);
    }
    return {
      pid,
      url,
      log,
      async stop() {
        if (processGroupAlive(pid)) await stopProcessGroup(pid, 5000);
        running.delete(pid);
      },
    };
  }
}

export interface ManagedAlertmanager {
  readonly url: string;
  /** host:port for Prometheus' alerting config. */
  readonly hostPort: string;
  stop(): Promise<void>;
}

export async function startAlertmanager(opts: { dir: string; config: string }): Promise<ManagedAlertmanager> {
  if (!ALERTMANAGER_BIN) throw new Error(String(prometheusSkipReason));
  const configFile = join(opts.dir, 'alertmanager.yml');
  writeFileSync(configFile, opts.config);
  const d = await startDaemon(
    'alertmanager',
    ALERTMANAGER_BIN,
    (port) => [
      `--config.file=${configFile}`,
      `--storage.path=${join(opts.dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // No gossip port: a second test file's Alertmanager must not try to cluster with this one.
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    join(opts.dir, 'alertmanager.log'),
  );
  return { url: d.url, hostPort: new URL(d.url).host, stop: () => d.stop() };
}

export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export interface PromAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly value: string;
}

export interface ManagedPrometheus {
  readonly url: string;
  /** Instant query; throws with Prometheus' error for invalid PromQL. */
  query(expr: string): Promise<PromSample[]>;
  /** Alerts Prometheus holds now (pending and firing). */
  alerts(): Promise<PromAlert[]>;
  /** Waits until `alertname` fires with labels including `labels`; returns it. */
  waitForFiring(alertname: string, labels?: Record<string, string>, timeoutMs?: number): Promise<PromAlert>;
  /** Replaces the scrape targets of a job (file_sd: picked up within a second or two). */
  setTargets(job: string, targets: readonly string[]): void;
  /** Waits until every target of `job` was scraped with up == `up`. */
  waitForTargets(job: string, up: 0 | 1, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  readonly dir: string;
  /** Scrape jobs and their targets (host:port, path /metrics). */
  readonly jobs: Readonly<Record<string, readonly string[]>>;
  readonly ruleFiles?: readonly string[];
  /** Alertmanager host:port to send alerts to. */
  readonly alertmanager?: string;
}

export async function startPrometheus(opts: PrometheusOptions): Promise<ManagedPrometheus> {
  if (!PROMETHEUS_BIN) throw new Error(String(prometheusSkipReason));
  const targetsFile = (job: string) => join(opts.dir, `targets-${job}.json`);
  const setTargets = (job: string, targets: readonly string[]) =>
    writeFileSync(targetsFile(job), JSON.stringify([{ targets }]));
  for (const [job, targets] of Object.entries(opts.jobs)) setTargets(job, targets);
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 900ms',
    '  evaluation_interval: 1s',
    ...(opts.alertmanager
      ? [
          'alerting:',
          '  alertmanagers:',
          '    - static_configs:',
          `        - targets: ['${opts.alertmanager}']`,
        ]
      : []),
    'rule_files:',
    ...(opts.ruleFiles ?? []).map((f) => `  - ${JSON.stringify(f)}`),
    ...(opts.ruleFiles?.length ? [] : ['  []']),
    'scrape_configs:',
    ...Object.keys(opts.jobs).flatMap((job) => [
      `  - job_name: ${job}`,
      '    file_sd_configs:',
      `      - files: [${JSON.stringify(targetsFile(job))}]`,
      '        refresh_interval: 1s',
    ]),
    '',
  ].join('\n');
  const configFile = join(opts.dir, 'prometheus.yml');
  writeFileSync(configFile, config.replace('rule_files:\n  []', 'rule_files: []'));
  const d = await startDaemon(
    'prometheus',
    PROMETHEUS_BIN,
    (port) => [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(opts.dir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    join(opts.dir, 'prometheus.log'),
  );
  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${d.url}${path}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await r.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? r.status}`);
    return body.data;
  };
  const query = async (expr: string): Promise<PromSample[]> => {
    const data = await api<{
      resultType: string;
      result: Array<{ metric: Record<string, string>; value: [number, string] }>;
    }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
    if (data.resultType === 'scalar')
      return [{ metric: {}, value: Number((data.result as unknown as [number, string])[1]) }];
    return data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
  };
  const alerts = async () => (await api<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts;
  return {
    url: d.url,
    query,
    alerts,
    async waitForFiring(alertname, labels = {}, timeoutMs = 60_000) {
      return until(
        `alert ${alertname}${JSON.stringify(labels)} firing in Prometheus`,
        async () =>
          (await alerts()).find(
            (a) =>
              a.state === 'firing' &&
              a.labels.alertname === alertname &&
              Object.entries(labels).every(([k, v]) => a.labels[k] === v),
          ),
        timeoutMs,
      );
    },
    setTargets,
    async waitForTargets(job, up, timeoutMs = 30_000) {
      await until(
        `targets of ${job} up == ${up}`,
        async () => {
          const r = await query(`up{job="${job}"}`);
          return r.length > 0 && r.every((s) => s.value === up) ? true : undefined;
        },
        timeoutMs,
      );
    },
    stop: () => d.stop(),
  };
}

/** A temporary directory for one test file's Prometheus/Alertmanager; `remove` deletes it. */
export function prometheusTempDir(prefix = 'prometheus-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
