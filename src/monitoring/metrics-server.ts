import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ConfigError } from '../model/errors';
import { metricsRegistry } from './metrics';

/**
 * A dependency check for readiness: resolves (or returns true) when healthy; throws or returns false when not. A
 * string it returns is healthy too, and says what the dependency is (e.g. which broker), as the check's `detail`.
 */
export type HealthCheck = () => Promise<boolean | string | void> | boolean | string | void;

/** Extra routes (e.g. the live dashboard) mounted on the same server; return true when the request was handled. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;

export interface MetricsServerOptions {
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly host?: string;
  readonly registry?: Registry;
  /**
   * The Temporal SDK runtime's own Prometheus endpoint (Runtime.install telemetryOptions.metrics.prometheus
   * bindAddress; workers bind it on 127.0.0.1 and an ephemeral port); its text is appended to every /metrics
   * response so one scrape target per worker carries both the trading metrics and the SDK's temporal_* metrics.
   */
  readonly temporalMetricsUrl?: string;
  /** Readiness checks by name (database, temporal, broker...). Each gets `checkTimeoutMs`. */
  readonly checks?: Readonly<Record<string, HealthCheck>>;
  readonly checkTimeoutMs?: number;
  readonly routes?: readonly RouteHandler[];
}

export interface MetricsServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  readonly live: true;
  readonly ready: boolean;
  readonly checks: Record<string, { ok: boolean; error?: string; detail?: string; ms: number }>;
}

/** Runs every readiness check concurrently, each bounded by a timeout so a hung dependency reads as down. */
export async function runHealthChecks(
  checks: Readonly<Record<string, HealthCheck>>,
  timeoutMs = 2000,
): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const t0 = Date.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        const ok = await Promise.race([
          Promise.resolve().then(check),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [
          name,
          ok === false
            ? { ok: false, error: 'check returned false', ms: Date.now() - t0 }
            : typeof ok === 'string'
              ? { ok: true, detail: ok, ms: Date.now() - t0 }
              : { ok: true, ms: Date.now() - t0 },
        ] as const;
      } catch (err) {
        return [name, { ok: false, error: (err as Error).message, ms: Date.now() - t0 }] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const result: Record<string, { ok: boolean; error?: string; detail?: string; ms: number }> = {};
  for (const [name, r] of entries) result[name] = r;
  const ready = entries.every(([, r]) => r.ok);
  return { status: ready ? 'ok' : 'unavailable', live: true, ready, checks: result };
}

/** Fetches the Temporal runtime's exposition text; a failure becomes a comment so the scrape still succeeds. */
async function temporalMetricsText(url: string): Promise<string> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    if (!r.ok) return `# temporal runtime metrics unavailable: HTTP ${r.status} from ${url}\n`;
    return await r.text();
  } catch (err) {
    // The SDK's exporter starts with the first worker; a scrape before then has only the trading metrics.
    return `# temporal runtime metrics unavailable: ${(err as Error).message}\n`;
  }
}

/**
 * Serves GET /metrics (the trading registry + Temporal SDK runtime metrics), /livez (process alive),
 * /healthz and /readyz (readiness: every dependency check passes → 200, else 503 with the failing checks).
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const registry = opts.registry ?? metricsRegistry;
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(err as Error).message}\n`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      let body = await registry.metrics();
      if (opts.temporalMetricsUrl) body += `\n${await temporalMetricsText(opts.temporalMetricsUrl)}`;
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    if (path === '/livez') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'ok', live: true }));
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const report = await runHealthChecks(opts.checks ?? {}, opts.checkTimeoutMs);
      res.writeHead(report.ready ? 200 : 503, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
      res.end(JSON.stringify(report));
      return;
    }
    for (const route of opts.routes ?? []) {
      if (await route(req, res)) return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics, /healthz, /livez\n');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigError(
              `METRICS_PORT: ${host}:${opts.port} is already in use (another worker?); stop what listens there or set METRICS_PORT to a free port`,
            )
          : err,
      ),
    );
    server.listen(opts.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
