import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { version } from '../package.json';
import type { AppConfig } from '../src/config/config';
import { PROMETHEUS_BIN, startPrometheus, type ManagedPrometheus } from '../src/monitoring/local-prometheus';
import { setWorkerInfo, tradingMetrics } from '../src/monitoring/metrics';
import { startMetricsServer, type MetricsServer } from '../src/monitoring/metrics-server';
import { checkPanels, formatPanelReport, readDashboards } from '../src/monitoring/panel-check';
import { REPO_ROOT, type StackState } from '../src/stack/stack';

/**
 * The demo's monitoring: a real Prometheus scraping every process of the demo that serves metrics — the dev
 * worker, this process (the paper session's io and execution workers run here) and the Temporal dev server — every
 * second, and at the end the check of `trader monitoring check-panels` over the demo's window: every Grafana panel
 * query of deploy/grafana/dashboards, a report of the panels with data and the empty ones.
 */
export interface DemoMonitoring {
  readonly prometheus: ManagedPrometheus;
  /** What Prometheus scrapes, for the demo's output. */
  readonly describe: string;
  /** The demo's last step: the panel check over the window since Prometheus started. */
  readonly panelCheckStep: {
    readonly title: string;
    run(): Promise<string>;
  };
  /** Stops Prometheus (it flushes its storage) and this process's /metrics. */
  stop(): Promise<void>;
}

/** Why the demo runs without Prometheus (its one line), or undefined when the binary is there. */
export function demoMonitoringUnavailable(): string | undefined {
  return PROMETHEUS_BIN
    ? undefined
    : 'monitoring: no prometheus on PATH (`npm run setup` installs the Debian package): the demo skips its Prometheus and the panel check';
}

export interface DemoMonitoringOptions {
  readonly config: AppConfig;
  readonly state: StackState;
  /** The Temporal SDK runtime's Prometheus exporter in this process (installRuntime), merged into its /metrics. */
  readonly runtimeMetricsUrl?: string;
}

export async function startDemoMonitoring(o: DemoMonitoringOptions): Promise<DemoMonitoring> {
  const dir = join(o.config.TRADER_DATA_DIR, 'demo-prometheus');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  tradingMetrics.enableProcessMetrics();
  setWorkerInfo({ worker: 'demo', version, tradingMode: o.config.TRADING_MODE });
  const own: MetricsServer = await startMetricsServer({
    port: 0,
    host: '127.0.0.1',
    temporalMetricsUrl: o.runtimeMetricsUrl,
  });
  const workers = [new URL(own.url).host];
  const dev = o.state.worker?.metricsUrl ? new URL(o.state.worker.metricsUrl) : undefined;
  if (dev && dev.port !== '0' && dev.port !== '') workers.push(dev.host);
  const server = o.state.temporal.metricsTarget;
  let prometheus: ManagedPrometheus;
  try {
    prometheus = await startPrometheus({
      dir,
      scrapeIntervalS: 1,
      jobs: { 'trader-workers': workers, ...(server ? { 'temporal-server': [server] } : {}) },
    });
    await prometheus.waitForTargets('trader-workers', 1, 60_000);
    if (server) await prometheus.waitForTargets('temporal-server', 1, 60_000);
  } catch (err) {
    await own.close();
    throw err;
  }
  // Ctrl-C or a kill mid-demo: leave through process.exit, so the 'exit' hook of local-prometheus stops
  // Prometheus's process group instead of leaving it running
  const onSignal = (signal: NodeJS.Signals) => process.exit(signal === 'SIGINT' ? 130 : 143);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const startedMs = Date.now();
  const describe = [
    `Prometheus ${prometheus.url} (storage ${dir}) scrapes every ${prometheus.scrapeIntervalS} s: `,
    `this process ${workers[0]}`,
    workers[1] ? `, the dev worker ${workers[1]}` : ', no dev worker (METRICS_PORT=0)',
    server
      ? `, the Temporal server ${server}`
      : `, not the Temporal server (${o.state.temporal.source}: this stack did not start it with --metrics-port)`,
  ].join('');
  const report = join(o.config.TRADER_DATA_DIR, 'reports', 'demo-panel-check.txt');
  return {
    prometheus,
    describe,
    panelCheckStep: {
      title:
        "monitoring: every Grafana panel query against the demo's Prometheus over the demo's window (trader monitoring check-panels)",
      async run() {
        // two more scrapes, so the values the last step left are in Prometheus
        await new Promise((r) => setTimeout(r, 2000 * prometheus.scrapeIntervalS + 500));
        const endMs = Date.now();
        const r = await checkPanels({
          prometheusUrl: prometheus.url,
          dashboards: readDashboards(join(REPO_ROOT, 'deploy/grafana/dashboards')),
          endMs,
          rangeMs: endMs - startedMs,
          scrapeIntervalS: prometheus.scrapeIntervalS,
        });
        const text = formatPanelReport(r);
        mkdirSync(join(o.config.TRADER_DATA_DIR, 'reports'), { recursive: true });
        writeFileSync(report, `# npm run demo, ${new Date(endMs).toISOString()}, ${machine()}\n${text}`);
        for (const line of text.trimEnd().split('\n')) console.log(`   ${line}`);
        const withData = r.panels.length - r.emptyPanels;
        return `${r.panels.length} panels, ${withData} with data, ${r.emptyPanels} empty; report: ${report}`;
      },
    },
    async stop() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await prometheus.stop();
      await own.close();
    },
  };
}

/** This machine in a few words: cores, memory, OS. */
function machine(): string {
  let os = process.platform as string;
  try {
    os = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    /* not Linux */
  }
  return `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ${os}, Node ${process.version}`;
}
