import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { DASHBOARDS_DIR, renderDashboards } from '../../../scripts/generate-grafana-dashboards';
import { TradingMetrics } from '../../../src/monitoring/metrics';
import { metricFamily, metricNamesInPromQL } from '../../../src/monitoring/promql-names';

const root = resolve(__dirname, '../../..');

/** Every metric family the trading code registers, read from the registry itself (process metrics included). */
function exportedTraderMetrics(): Set<string> {
  const m = new TradingMetrics();
  m.enableProcessMetrics();
  return new Set(m.registry.getMetricsAsArray().map((x) => x.name));
}

/** Metric families in a Prometheus exposition file (# TYPE lines). */
function familiesIn(file: string): Set<string> {
  const text = readFileSync(resolve(root, file), 'utf8');
  return new Set([...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!));
}

const trader = exportedTraderMetrics();
/** Captured from a real @temporalio/worker Runtime Prometheus exporter (see the file's first line). */
const temporalSdk = familiesIn('test/fixtures/temporal/sdk-metrics.prom');
/** Captured from `temporal server start-dev --metrics-port`. */
const temporalServer = familiesIn('test/fixtures/temporal/server-metric-types.txt');

function resolveName(name: string): 'trader' | 'sdk' | 'server' | 'prometheus' | undefined {
  if (name === 'up') return 'prometheus';
  if (metricFamily(name, trader)) return 'trader';
  if (metricFamily(name, temporalSdk)) return 'sdk';
  if (metricFamily(name, temporalServer)) return 'server';
  return undefined;
}

interface Panel {
  type: string;
  title: string;
  id: number;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr: string }>;
}

const dashboards = readdirSync(DASHBOARDS_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({
    file: f,
    json: JSON.parse(readFileSync(resolve(DASHBOARDS_DIR, f), 'utf8')) as {
      uid: string;
      title: string;
      panels: Panel[];
      templating: { list: Array<{ type: string; definition?: string }> };
    },
  }));

function queriesOf(d: (typeof dashboards)[number]['json']): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  for (const p of d.panels)
    for (const t of p.targets ?? []) out.push({ where: `${d.uid} / ${p.title}`, expr: t.expr });
  for (const v of d.templating.list) {
    const m = /^label_values\((\w+),/.exec(v.definition ?? '');
    if (m) out.push({ where: `${d.uid} / variable`, expr: m[1]! });
  }
  return out;
}

describe('Grafana dashboards', () => {
  test('when the dashboards are listed, then P&L, risk, execution, data health, models and Temporal/system are provisioned', () => {
    assert.deepEqual(dashboards.map((d) => d.json.uid).sort(), [
      'trader-data',
      'trader-execution',
      'trader-models',
      'trader-pnl',
      'trader-risk',
      'trader-temporal-system',
    ]);
  });

  test('when the generator runs, then its output equals the committed JSON (no hand edits drift)', () => {
    const rendered = renderDashboards();
    assert.deepEqual(rendered.map((d) => d.file).sort(), dashboards.map((d) => d.file).sort());
    for (const d of rendered)
      assert.equal(
        readFileSync(resolve(DASHBOARDS_DIR, d.file), 'utf8'),
        d.json,
        `${d.file}: the committed JSON is not the generator's output; run npm run dashboards`,
      );
  });

  test('when every panel query is parsed, then each metric it names is one the code (or the Temporal SDK/server) really exports', () => {
    let checked = 0;
    for (const d of dashboards) {
      for (const q of queriesOf(d.json)) {
        const names = metricNamesInPromQL(q.expr);
        assert.ok(names.length > 0, `${q.where}: query names no metric: ${q.expr}`);
        for (const n of names) {
          assert.ok(
            resolveName(n),
            `${q.where}: "${n}" is not exported by src/monitoring/metrics.ts nor a Temporal SDK/server metric (query: ${q.expr})`,
          );
          checked++;
        }
      }
    }
    assert.ok(checked >= 60, `only ${checked} metric references checked`);
    // The check can fail: a misspelt or never-registered name is rejected.
    assert.equal(resolveName('trader_pnl_dollars'), undefined);
    assert.equal(resolveName('temporal_workflow_task_execution_latency_seconds_bucket'), undefined);
  });

  test('when the Temporal dashboard names temporal_* metrics, then they are real SDK metric names', () => {
    const d = dashboards.find((x) => x.json.uid === 'trader-temporal-system')!;
    const sdkNames = queriesOf(d.json)
      .flatMap((q) => metricNamesInPromQL(q.expr))
      .filter((n) => n.startsWith('temporal_'));
    assert.ok(sdkNames.includes('temporal_workflow_task_execution_latency_bucket'));
    for (const n of sdkNames)
      assert.ok(metricFamily(n, temporalSdk), `${n}: not a metric the TypeScript SDK runtime exports`);
  });

  test('when panels are laid out, then ids are unique and every panel fits the 24-column grid', () => {
    for (const d of dashboards) {
      const ids = d.json.panels.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${d.file}: duplicate panel ids`);
      for (const p of d.json.panels)
        assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${d.file} / ${p.title}: wider than the grid`);
    }
  });

  test('when the alert rules are parsed, then every metric they read is exported', () => {
    const rules = readFileSync(resolve(root, 'deploy/prometheus/rules/trader-alerts.yml'), 'utf8');
    const exprs: string[] = [];
    const lines = rules.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
      if (!m) continue;
      if (m[2] !== '|') {
        exprs.push(m[2]!);
        continue;
      }
      const block: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1]!.startsWith(`${m[1]}  `) || lines[i + 1]!.trim() === ''))
        block.push(lines[++i]!);
      exprs.push(block.join('\n'));
    }
    assert.ok(exprs.length >= 10);
    for (const e of exprs)
      for (const n of metricNamesInPromQL(e))
        assert.ok(resolveName(n), `alert rule reads unknown metric "${n}": ${e}`);
  });
});

describe('metricNamesInPromQL', () => {
  test('when a query has functions, grouping, matchers, ranges and variables, then only metric names come back', () => {
    assert.deepEqual(
      metricNamesInPromQL(
        'histogram_quantile(0.95, sum by (le, timeframe) (rate(trader_decision_latency_seconds_bucket{stage="end_to_end", ticker=~"$ticker"}[$__rate_interval]))) / on (account) group_left trader_equity_dollars offset 5m',
      ),
      ['trader_decision_latency_seconds_bucket', 'trader_equity_dollars'],
    );
    assert.deepEqual(metricNamesInPromQL('sum(x) and on () max(up) == 1 or vector(0)'), ['up', 'x']);
  });
});
