import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouteHandler } from '../metrics-server';
import { HostSampler, type HostStats } from './host-stats';
import { DASHBOARD_HTML } from './page';
import { EMPTY_SESSION_BOARD, readSessionBoard, type SessionBoard, type SessionStore } from './sessions';
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
  /**
   * Where the sessions panel reads running sessions (Temporal) and finished ones, fills and predictions
   * (PostgreSQL); a function, so a worker can hand over its dependencies once they exist. None: no sessions panel.
   */
  readonly sessions?: () => SessionStore | undefined;
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
    const store = this.opts.sessions?.();
    const [{ samples, sources }, system, sessions] = await Promise.all([
      collectSamples(this.opts.source),
      this.host.sample(),
      store ? readSessionBoard(store) : Promise.resolve<SessionBoard>(EMPTY_SESSION_BOARD),
    ]);
    const now = this.clock();
    const base = buildSnapshot(samples, sources, system, now);
    const max = this.opts.historyLength ?? 2000;
    const withEquity = base.accounts.filter((a) => a.equity !== null);
    // the workers' equity gauges; without them, the running sessions' equity (marked from their fills)
    const point = withEquity.length
      ? {
          equity: withEquity.reduce((s, a) => s + (a.equity ?? 0), 0),
          dailyPnl: withEquity.reduce((s, a) => s + (a.dailyPnl ?? 0), 0),
        }
      : sessions.running.length
        ? {
            equity: sessions.running.reduce((s, x) => s + x.equity, 0),
            dailyPnl: sessions.running.reduce((s, x) => s + x.pnl, 0),
          }
        : null;
    if (point) {
      this.curve.push({ t: now, ...point });
      if (this.curve.length > max) this.curve.splice(0, this.curve.length - max);
    }
    this.cpuHistory.push(system.cpuUtilization);
    if (this.cpuHistory.length > max) this.cpuHistory.splice(0, this.cpuHistory.length - max);
    this.latest = {
      ...base,
      pnlCurve: [...this.curve],
      system: { ...system, cpuHistory: [...this.cpuHistory] },
      sessions,
    };
    return this.latest;
  }
}

/** The page's one script asset: ECharts' browser build, served from node_modules (no CDN: it must work offline). */
export const ECHARTS_PATH = '/assets/echarts.min.js';
let echartsSource: Buffer | undefined;
function echartsBundle(): Buffer {
  echartsSource ??= readFileSync(require.resolve('echarts/dist/echarts.min.js'));
  return echartsSource;
}

/**
 * Routes for the dashboard: GET / (or /dashboard) → the page, GET /api/dashboard → the JSON snapshot,
 * GET /assets/echarts.min.js → ECharts.
 */
export function dashboardRoutes(service: DashboardService): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return false;
    if (path === '/' || path === '/dashboard') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
      });
      res.end(DASHBOARD_HTML);
      return true;
    }
    if (path === ECHARTS_PATH) {
      res.writeHead(200, {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'public, max-age=86400',
      });
      res.end(echartsBundle());
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
