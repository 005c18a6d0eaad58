/**
 * A real Prometheus (the Debian `prometheus` package, installed by `npm run setup`) run by this process on an
 * ephemeral port with its own storage directory: the demo runs one to scrape its processes and check the Grafana
 * panels, the monitoring tests run theirs (test/support/prometheus.ts). Scrape targets are file_sd files in the
 * directory, so jobs can change while it runs.
 */
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { killProcessGroup, processGroupAlive, stopProcessGroup } from '../stack/temporal';

/** The executable `name` on PATH, or undefined. */
export function onPath(name: string): string | undefined {
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

/** The Prometheus binary: $PROMETHEUS, else `prometheus` on PATH; undefined when neither. */
export const PROMETHEUS_BIN = process.env.PROMETHEUS ?? onPath('prometheus');

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

export interface Daemon {
  readonly pid: number;
  readonly url: string;
  readonly log: string;
  stop(): Promise<void>;
}

/**
 * Starts a Prometheus-style daemon (answers /-/ready) on a free port, retrying when another process takes the
 * port first; killed with this process if still running then.
 */
export async function startDaemon(
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
  /** Seconds between scrapes (and rule evaluations). */
  readonly scrapeIntervalS: number;
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
  /** Stops it (SIGTERM: it flushes its storage), SIGKILL after 5 s. */
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** Its configuration, target files, storage and log go here. */
  readonly dir: string;
  /** Scrape jobs and their targets (host:port, path /metrics). */
  readonly jobs: Readonly<Record<string, readonly string[]>>;
  /** Seconds between scrapes and rule evaluations (default 1). */
  readonly scrapeIntervalS?: number;
  readonly ruleFiles?: readonly string[];
  /** Alertmanager host:port to send alerts to. */
  readonly alertmanager?: string;
}

export async function startPrometheus(opts: PrometheusOptions): Promise<ManagedPrometheus> {
  if (!PROMETHEUS_BIN)
    throw new Error(
      'prometheus: not on PATH; run `npm run setup` (as root) or `apt-get install -y prometheus`, or set PROMETHEUS',
    );
  const scrapeIntervalS = opts.scrapeIntervalS ?? 1;
  const targetsFile = (job: string) => join(opts.dir, `targets-${job}.json`);
  const setTargets = (job: string, targets: readonly string[]) =>
    writeFileSync(targetsFile(job), JSON.stringify([{ targets }]));
  for (const [job, targets] of Object.entries(opts.jobs)) setTargets(job, targets);
  const config = [
    'global:',
    `  scrape_interval: ${scrapeIntervalS}s`,
    `  scrape_timeout: ${Math.round(scrapeIntervalS * 900)}ms`,
    `  evaluation_interval: ${scrapeIntervalS}s`,
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
    scrapeIntervalS,
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
