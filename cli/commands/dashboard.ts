import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import type { Pool } from 'pg';
import { loadConfig } from '../../src/config/config';
import { ValidationError } from '../../src/model/errors';
import { startDashboardServer } from '../../src/monitoring/dashboard/server';
import type { SessionStore } from '../../src/monitoring/dashboard/sessions';
import { temporalDataConverter } from '../../src/stack/data-converter';
import { resolveDatabaseUrl, resolveTemporalAddress } from '../../src/stack/resolve';
import { createPool } from '../../src/storage/pool';
import { checkPanels, formatPanelReport, readDashboards } from '../../src/monitoring/panel-check';

const DURATION_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

export function register(program: Command): void {
  program
    .command('dashboard')
    .description(
      'serve the live dashboard: running and finished sessions (P&L realised/unrealised, fills, risk, the deciding model and its predictions), P&L curve, positions, risk gauges, workers, CPU/GPU',
    )
    .option('--port <port>', 'port to serve on', '8088')
    .option('--host <host>', 'address to bind (0.0.0.0 to share on the network)', '127.0.0.1')
    .option(
      '--metrics-url <url...>',
      "workers' /metrics endpoints to read (default: this machine's worker on METRICS_PORT)",
    )
    .option('--interval <seconds>', 'seconds between P&L curve points', '5')
    .option(
      '--no-sessions',
      'do not read sessions (by default: running ones from Temporal, finished ones, fills and predictions from PostgreSQL)',
    )
    .action(
      async (opts: {
        port: string;
        host: string;
        metricsUrl?: string[];
        interval: string;
        sessions: boolean;
      }) => {
        const config = loadConfig();
        const port = Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new ValidationError('--port', `"${opts.port}" is not a port number`);
        const interval = Number(opts.interval);
        if (!(interval >= 1))
          throw new ValidationError('--interval', `"${opts.interval}" must be a number of seconds >= 1`);
        const urls = opts.metricsUrl?.length
          ? opts.metricsUrl
          : [`http://127.0.0.1:${config.METRICS_PORT}/metrics`];
        for (const u of urls) {
          try {
            new URL(u);
          } catch {
            throw new ValidationError(
              '--metrics-url',
              `"${u}" is not a URL, e.g. http://127.0.0.1:9464/metrics`,
            );
          }
        }
        const store = opts.sessions ? await openSessionStore() : undefined;
        const server = await startDashboardServer({
          port,
          host: opts.host,
          source: { kind: 'urls', urls },
          sampleIntervalMs: interval * 1000,
          ...(store ? { sessions: () => store.store } : {}),
        });
        console.log(
          `dashboard: ${server.url}/  (reading ${urls.join(', ')}${store ? `; sessions from ${store.describe}` : ''}; Ctrl-C to stop)`,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
        await store?.close();
      },
    );

  const monitoring = program.command('monitoring').description('checks of the Prometheus / Grafana setup');
  monitoring
    .command('check-panels')
    .description(
      'run every Grafana panel query against Prometheus over a time window and list the panels without data (exit 1 if any)',
    )
    .requiredOption('--prometheus <url>', 'Prometheus base URL, e.g. http://127.0.0.1:9090')
    .option('--range <duration>', 'window ending now, like the dashboard time range: 30m, 6h, 1d', '6h')
    .option('--scrape-interval <seconds>', "Prometheus' scrape interval (for $__rate_interval)", '15')
    .option(
      '--dashboards <dir>',
      'folder of dashboard JSON',
      resolve(__dirname, '../../deploy/grafana/dashboards'),
    )
    .option('--json', 'print the report as JSON')
    .action(
      async (opts: {
        prometheus: string;
        range: string;
        scrapeInterval: string;
        dashboards: string;
        json?: boolean;
      }) => {
        try {
          new URL(opts.prometheus);
        } catch {
          throw new ValidationError(
            '--prometheus',
            `"${opts.prometheus}" is not a URL, e.g. http://127.0.0.1:9090`,
          );
        }
        const m = /^(\d+)(s|m|h|d)$/.exec(opts.range);
        if (!m || Number(m[1]) === 0)
          throw new ValidationError('--range', `"${opts.range}" is not a duration such as 30m, 6h or 1d`);
        const scrape = Number(opts.scrapeInterval);
        if (!(scrape > 0))
          throw new ValidationError(
            '--scrape-interval',
            `"${opts.scrapeInterval}" must be a number of seconds > 0`,
          );
        const report = await checkPanels({
          prometheusUrl: opts.prometheus,
          dashboards: readDashboards(opts.dashboards),
          rangeMs: Number(m[1]) * DURATION_S[m[2]!]! * 1000,
          scrapeIntervalS: scrape,
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatPanelReport(report));
        if (report.emptyPanels > 0) process.exitCode = 1;
      },
    );
}

/**
 * The database (DATABASE_URL or the stack's) and, when one is configured, Temporal (TEMPORAL_ADDRESS or the
 * stack's): without Temporal the dashboard shows finished sessions only, and says so.
 */
async function openSessionStore(): Promise<{
  store: SessionStore;
  describe: string;
  close(): Promise<void>;
}> {
  const config = loadConfig();
  const pool: Pool = createPool(await resolveDatabaseUrl(config), { max: 2 });
  let connection: Connection | undefined;
  let address: string | undefined;
  try {
    address = resolveTemporalAddress(config);
    connection = await Connection.connect({ address, connectTimeout: '3s' });
  } catch (err) {
    console.warn(`dashboard: no running sessions (${(err as Error).message})`);
  }
  const client = connection
    ? new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: temporalDataConverter() })
    : undefined;
  return {
    store: { pool, ...(client ? { client } : {}) },
    describe: `PostgreSQL${client ? ` and Temporal at ${address}` : ''}`,
    async close() {
      await connection?.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}
