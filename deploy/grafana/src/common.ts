/**
 * Shared pieces of the trader dashboards, built with Grafana's typed Foundation SDK
 * (@grafana/grafana-foundation-sdk). One file per dashboard next to this one; `npm run dashboards`
 * (scripts/generate-grafana-dashboards.ts) writes deploy/grafana/dashboards/*.json from them.
 *
 * Every panel's query reads metrics some code path emits (src/monitoring/metrics.ts helpers, the Temporal SDK
 * runtime merged into each worker's /metrics, the Temporal server); `npm run trader -- monitoring check-panels`
 * runs every query against a Prometheus and lists the panels without data.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';

/** Every panel and variable queries the Prometheus chosen in the dashboard's data-source variable. */
export const DS: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };
export const RATE = '$__rate_interval';

/** A range query drawn as a series; `legend` is Grafana's legend template, e.g. '{{ticker}}'. */
export function q(expr: string, legend?: string): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(DS)
    .expr(expr)
    .legendFormat(legend ?? '__auto')
    .range();
}

/** An instant query (tables, bar gauges: the value now). */
export function qi(expr: string, legend?: string): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(DS)
    .expr(expr)
    .legendFormat(legend ?? '__auto')
    .instant()
    .format(prometheus.PromQueryFormat.Table);
}

/** A heatmap query over histogram buckets. */
export function qh(expr: string): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(DS)
    .expr(expr)
    .legendFormat('{{le}}')
    .range()
    .format(prometheus.PromQueryFormat.Heatmap);
}

/**
 * Events of a counter within the dashboard's range, by `by`: a series born in the range counts its whole value
 * (increase() never sees the event that creates a series), older series their increase. As the alert rules.
 */
export function inRange(series: string, by: string): string {
  return `sum by (${by}) ((${series} unless ${series} offset $__range) * 1 or increase(${series}[$__range]))`;
}

/**
 * A count of rare events (`expr`, grouped by `label`) that reads 0 — one series, `label`="none" — instead of "No
 * data" while `alongside` has a value: a single-series expression of what the same code path emits whenever it
 * runs (orders submitted, a risk engine's state, bars stored). prom-client exports a labelled counter only from
 * its first event, so a day without rejects would otherwise look like a scrape that never worked; with nothing
 * running, the panel still has no data.
 */
export function zeroWhile(expr: string, label: string, alongside: string): string {
  return `${expr} or on() label_replace(0 * ${alongside}, "${label}", "none", "", "")`;
}

/** Absolute thresholds: the base color, then [value, color] steps upward. */
export function thresholds(
  base: string,
  ...steps: ReadonlyArray<readonly [number, string]>
): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
    // Grafana's base step has no value (-Infinity); its JSON is null.
    { value: null as unknown as number, color: base },
    ...steps.map(([value, color]) => ({ value, color })),
  ]);
}

export const legendBottom = () =>
  new common.VizLegendOptionsBuilder()
    .showLegend(true)
    .displayMode(common.LegendDisplayMode.List)
    .placement(common.LegendPlacement.Bottom);

export const lastValue = () => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']);

/** A multi-value variable from a label of a metric, "All" by default. */
export function labelVariable(name: string, label: string, metric: string): dashboard.QueryVariableBuilder {
  const query = `label_values(${metric}, ${name === 'instance' ? 'instance' : name})`;
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DS)
    .query({ query, refId: `${name}-var` })
    .definition(query)
    .includeAll(true)
    .multi(true)
    .allValue('.*')
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .current({ text: 'All', value: '$__all' });
}

/** The frame every trader dashboard shares: tags, New York time, 30 s refresh, data-source picker, links. */
export function traderDashboard(spec: {
  uid: string;
  title: string;
  description: string;
  variables?: readonly dashboard.QueryVariableBuilder[];
}): dashboard.DashboardBuilder {
  const builder = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['temporal-trader'])
    .timezone('America/New_York')
    .editable()
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .link(
      new dashboard.DashboardLinkBuilder('Trader dashboards')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(['temporal-trader'])
        .asDropdown(true),
    )
    .withVariable(
      new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'),
    );
  for (const v of spec.variables ?? []) builder.withVariable(v);
  return builder;
}

export const row = (title: string) => new dashboard.RowBuilder(title);
