import type { Command } from 'commander';
import { loadConfig } from '../../src/config/config';
import { ValidationError } from '../../src/model/errors';
import { startDashboardServer } from '../../src/monitoring/dashboard/server';

export function register(program: Command): void {
  program
    .command('dashboard')
    .description(
      'serve the live dashboard (P&L curve, positions, model confidence, risk gauges, workers, CPU/GPU)',
    )
    .option('--port <port>', 'port to serve on', '8088')
    .option('--host <host>', 'address to bind (0.0.0.0 to share on the network)', '127.0.0.1')
    .option(
      '--metrics-url <url...>',
      "workers' /metrics endpoints to read (default: this machine's worker on METRICS_PORT)",
    )
    .option('--interval <seconds>', 'seconds between P&L curve points', '5')
    .action(async (opts: { port: string; host: string; metricsUrl?: string[]; interval: string }) => {
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
      const server = await startDashboardServer({
        port,
        host: opts.host,
        source: { kind: 'urls', urls },
        sampleIntervalMs: interval * 1000,
      });
      console.log(`dashboard: ${server.url}/  (reading ${urls.join(', ')}; Ctrl-C to stop)`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}
