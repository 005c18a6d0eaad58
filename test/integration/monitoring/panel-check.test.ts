import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  recordOrderRejected,
  recordOrderSubmitted,
  setAccountSnapshot,
  TradingMetrics,
} from '../../../src/monitoring/metrics';
import { startMetricsServer, type MetricsServer } from '../../../src/monitoring/metrics-server';
import type { PanelCheckReport } from '../../../src/monitoring/panel-check';
import { buildProgram } from '../../../cli/main';
import {
  prometheusSkipReason,
  prometheusTempDir,
  startPrometheus,
  until,
  type ManagedPrometheus,
} from '../../support/prometheus';

const root = resolve(__dirname, '../../..');

/**
 * Runs `trader monitoring check-panels` without blocking this process: the /metrics endpoint Prometheus scrapes
 * lives here, and a blocked event loop would turn its series stale mid-check.
 */
function checkPanelsCli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', 'monitoring', 'check-panels', ...args],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
      (err, stdout, stderr) =>
        done({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * `trader monitoring check-panels` against a real Prometheus (1 s scrapes) scraping a /metrics endpoint whose
 * registry holds the account and order series only: the panels reading them have data, the others are reported
 * empty, and the command exits 1.
 */
describe('trader monitoring check-panels', { skip: prometheusSkipReason }, () => {
  const tmp = prometheusTempDir('panel-check-');
  let server: MetricsServer;
  let prometheus: ManagedPrometheus;
  before(async () => {
    const m = new TradingMetrics();
    setAccountSnapshot(
      {
        account: 'paper',
        equityDollars: 101_000,
        startOfDayEquityDollars: 100_000,
        positions: [{ ticker: 'AAA', quantity: 10, marketValueDollars: 1_000 }],
      },
      m,
    );
    recordOrderSubmitted({ ticker: 'AAA', side: 'buy' }, m);
    recordOrderRejected('AAA', 'insufficient_buying_power', m);
    server = await startMetricsServer({ port: 0, registry: m.registry });
    prometheus = await startPrometheus({
      dir: tmp.dir,
      jobs: { 'trader-workers': [new URL(server.url).host] },
    });
    await prometheus.waitForTargets('trader-workers', 1);
    // A few scrapes, so range queries and rates have samples.
    await until(
      '5 scrapes',
      async () => ((await prometheus.query('count_over_time(up[1m])'))[0]?.value ?? 0) >= 5 || undefined,
      30_000,
    );
  });
  after(async () => {
    await prometheus?.stop();
    await server?.close();
    tmp.remove();
  });

  test('when only account and order metrics exist, then their panels have data, the others are listed empty and the command exits 1', async () => {
    const r = await checkPanelsCli(
      '--prometheus',
      prometheus.url,
      '--range',
      '5m',
      '--scrape-interval',
      '1',
      '--json',
    );
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(r.stdout) as PanelCheckReport;
    const state = (dashboard: string, panel: string) => {
      const p = report.panels.find((x) => x.dashboard === dashboard && x.panel === panel);
      assert.ok(p, `${dashboard} / ${panel} checked`);
      return p.hasData;
    };
    assert.equal(state('Trader / P&L', 'Equity'), true);
    assert.equal(state('Trader / P&L', 'Positions (shares)'), true);
    assert.equal(state('Trader / Execution quality', 'Order rejects by reason (since worker start)'), true);
    assert.equal(state('Trader / Execution quality', 'Reject share (10m)'), true);
    assert.equal(state('Trader / Execution quality', 'Slippage vs decision price (bps, + = worse)'), false);
    assert.equal(state('Trader / Models', 'Drift (PSI, > 0.25 significant)'), false);
    assert.equal(report.emptyPanels, report.panels.filter((p) => !p.hasData).length);
    assert.ok(report.emptyPanels > 10 && report.emptyPanels < report.panels.length);
    assert.ok(
      report.panels.every((p) => p.queries.every((q) => !q.error)),
      `Prometheus accepts every query: ${JSON.stringify(report.panels.flatMap((p) => p.queries.filter((q) => q.error)))}`,
    );
  });

  test('when the text report is printed, then empty panels are marked and counted', async () => {
    const r = await checkPanelsCli('--prometheus', prometheus.url, '--range', '5m', '--scrape-interval', '1');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^ok +Trader \/ P&L \/ Equity {2}\(1 series\)$/m);
    assert.match(r.stdout, /^EMPTY +Trader \/ Models \/ Confidence$/m);
    assert.match(r.stdout, /\d+ panels, \d+ with data, \d+ empty\n$/);
  });

  test('when --range is not a duration, then the command fails naming the option', async () => {
    await assert.rejects(
      buildProgram().parseAsync([
        'node',
        'trader',
        'monitoring',
        'check-panels',
        '--prometheus',
        prometheus.url,
        '--range',
        'six hours',
      ]),
      /--range.*"six hours" is not a duration/,
    );
  });
});
