import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouteHandler } from '../metrics-server';
import { HostSampler, type HostStats } from './host-stats';
import { DASHBOARD_HTML } from './page';
import { buildSnapshot, collectSamples, type DashboardSnapshot, type SampleSource } from './snapshot';

export interface DashboardServiceOptions {
  readonly source: SampleSource;
  /** How often the P&L curve and CPU history get a point. Default 5 s. */
  readonly sampleIntervalMs?: number;
  /** Points kept per curve (default 2000: ~2.8 h at 5 s). */
  readonly historyLength?: number;
  readonly clock?: () => number;
  /** Host stats provider; tests may pin it. Default samples this machine (CPU, memory, nvidia-smi GPUs). */
  readonly hostStats?: { sample(): Promise<HostStats> };
}

/** Keeps the latest snapshot plus the P&L curve and CPU history accumulated while the dashboard runs. */
export class DashboardService {
  private readonly curve: Array<{ t: number; equity: number; dailyPnl: number }> = [];
  private readonly cpuHistory: number[] = [];
  private latest?: DashboardSnapshot;
  private refreshing?: Promise<DashboardSnapshot>;
  private timer?: NodeJS.Timeout;
  private readonly clock: () => number;
  private readonly host: { sample(): Promise<HostStats> };

  constructor(private readonly opts: DashboardServiceOptions) {
    this.clock = opts.clock ?? (() => Date.now());
    this.host = opts.hostStats ?? new HostSampler();
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(
      () => void this.refresh().catch(() => undefined),
      this.opts.sampleIntervalMs ?? 5000,
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Collects samples now and appends one point to each history; concurrent callers share one refresh. */
  refresh(): Promise<DashboardSnapshot> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  async snapshot(): Promise<DashboardSnapshot> {
    const fresh =
      this.latest && this.clock() - this.latest.generatedAtMs < (this.opts.sampleIntervalMs ?? 5000);
    return fresh ? this.latest! : this.refresh();
  }

  private async doRefresh(): Promise<DashboardSnapshot> {
    const [{ samples, sources }, system] = await Promise.all([
      collectSamples(this.opts.source),
      this.host.sample(),
    ]);
    const now = this.clock();
    const base = buildSnapshot(samples, sources, system, now);
    const max = this.opts.historyLength ?? 2000;
    const withEquity = base.accounts.filter((a) => a.equity !== null);
    if (withEquity.length) {
      this.curve.push({
        t: now,
        equity: withEquity.reduce((s, a) => s + (a.equity ?? 0), 0),
        dailyPnl: withEquity.reduce((s, a) => s + (a.dailyPnl ?? 0), 0),
      });
      if (this.curve.length > max) this.curve.splice(0, this.curve.length - max);
    }
    this.cpuHistory.push(system.cpuUtilization);
    if (this.cpuHistory.length > max) this.cpuHistory.splice(0, this.cpuHistory.length - max);
    this.latest = {
      ...base,
      pnlCurve: [...this.curve],
      system: { ...system, cpuHistory: [...this.cpuHistory] },
    };
    return this.latest;
  }
}

/** Routes for the dashboard: GET / (or /dashboard) → the page, GET /api/dashboard → the JSON snapshot. */
export function dashboardRoutes(service: DashboardService): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return false;
    if (path === '/' || path === '/dashboard') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
      });
      res.end(DASHBOARD_HTML);
      return true;
    }
    if (path === '/api/dashboard') {
      const snap = await service.snapshot();
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(snap));
      return true;
    }
    return false;
  };
}

export interface DashboardServer {
  readonly url: string;
  readonly service: DashboardService;
  close(): Promise<void>;
}

/** A standalone HTTP server for the dashboard (the `trader dashboard` command). */
export async function startDashboardServer(
  opts: DashboardServiceOptions & { port: number; host?: string },
): Promise<DashboardServer> {
  const service = new DashboardService(opts);
  const routes = dashboardRoutes(service);
  const server: Server = createServer((req, res) => {
    void Promise.resolve(routes(req, res)).then(
      (handled) => {
        if (!handled)
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; the dashboard is at /\n');
      },
      (err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`dashboard error: ${(err as Error).message}\n`);
      },
    );
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`--port: ${host}:${opts.port} is already in use; pick another`)
          : err,
      ),
    );
    server.listen(opts.port, host, () => resolve());
  });
  await service.refresh();
  service.start();
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    service,
    close: () =>
      new Promise<void>((resolve) => {
        service.stop();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
