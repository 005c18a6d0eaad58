/**
 * Source of the provisioned Grafana dashboards in deploy/grafana/dashboards/*.json. Edit here, then run
 * `npx tsx scripts/generate-grafana-dashboards.ts`; a unit test fails when the committed JSON differs from
 * this output, and checks every query names a metric the code really exports.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

type Unit = 'currencyUSD' | 'percentunit' | 's' | 'ms' | 'short' | 'bytes' | 'reqps' | 'none';

interface Target {
  readonly expr: string;
  readonly legend?: string;
  readonly instant?: boolean;
}

interface PanelSpec {
  readonly title: string;
  readonly type: 'timeseries' | 'stat' | 'table' | 'heatmap' | 'gauge' | 'bargauge' | 'state-timeline';
  readonly targets: readonly Target[];
  readonly unit?: Unit;
  readonly w?: number;
  readonly h?: number;
  readonly description?: string;
  readonly thresholds?: ReadonlyArray<{ value: number | null; color: string }>;
  readonly min?: number;
  readonly max?: number;
}

interface DashboardSpec {
  readonly uid: string;
  readonly file: string;
  readonly title: string;
  readonly description: string;
  readonly variables: ReadonlyArray<{ name: string; query: string; label: string }>;
  readonly rows: ReadonlyArray<{ title: string; panels: readonly PanelSpec[] }>;
}

const DS = { type: 'prometheus', uid: '${datasource}' };
const RATE = '$__rate_interval';

function panelJson(p: PanelSpec, id: number, x: number, y: number): Record<string, unknown> {
  return {
    id,
    type: p.type,
    title: p.title,
    description: p.description ?? '',
    datasource: DS,
    gridPos: { h: p.h ?? 8, w: p.w ?? 12, x, y },
    fieldConfig: {
      defaults: {
        unit: p.unit ?? 'short',
        ...(p.min !== undefined ? { min: p.min } : {}),
        ...(p.max !== undefined ? { max: p.max } : {}),
        thresholds: { mode: 'absolute', steps: p.thresholds ?? [{ value: null, color: 'green' }] },
      },
      overrides: [],
    },
    options:
      p.type === 'heatmap'
        ? { calculate: false, yAxis: { unit: p.unit ?? 'short' } }
        : { legend: { displayMode: 'list', placement: 'bottom' } },
    targets: p.targets.map((t, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DS,
      expr: t.expr,
      legendFormat: t.legend ?? '__auto',
      ...(t.instant ? { instant: true, range: false } : { range: true }),
      ...(p.type === 'heatmap' ? { format: 'heatmap' } : {}),
    })),
  };
}

export function dashboardJson(d: DashboardSpec): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of d.rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    let rowH = 0;
    for (const p of row.panels) {
      const w = p.w ?? 12;
      if (x + w > 24) {
        x = 0;
        y += rowH;
        rowH = 0;
      }
      panels.push(panelJson(p, id++, x, y));
      x += w;
      rowH = Math.max(rowH, p.h ?? 8);
    }
    y += rowH;
  }
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['temporal-trader'],
    timezone: 'America/New_York',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    links: [{ type: 'dashboards', tags: ['temporal-trader'], asDropdown: true, title: 'Trader dashboards' }],
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source', current: {} },
        ...d.variables.map((v) => ({
          name: v.name,
          label: v.label,
          type: 'query',
          datasource: DS,
          query: { query: v.query, refId: `${v.name}-var` },
          definition: v.query,
          includeAll: true,
          multi: true,
          allValue: '.*',
          refresh: 2,
          current: { text: 'All', value: '$__all' },
        })),
      ],
    },
    panels,
  };
}

const acct = 'account=~"$account"';
const ticker = 'ticker=~"$ticker"';

export const DASHBOARDS: readonly DashboardSpec[] = [
  {
    uid: 'trader-pnl',
    file: 'pnl.json',
    title: 'Trader / P&L',
    description:
      'Dollar P&L realized and unrealized by ticker, timeframe and model; equity, positions and exposure.',
    variables: [
      { name: 'account', label: 'Account', query: 'label_values(trader_equity_dollars, account)' },
      { name: 'ticker', label: 'Ticker', query: 'label_values(trader_pnl_realized_dollars, ticker)' },
    ],
    rows: [
      {
        title: 'Today',
        panels: [
          {
            title: 'Daily P&L',
            type: 'stat',
            unit: 'currencyUSD',
            w: 6,
            targets: [
              { expr: `sum by (account) (trader_daily_pnl_dollars{${acct}})`, legend: '{{account}}' },
            ],
            thresholds: [
              { value: null, color: 'red' },
              { value: 0, color: 'green' },
            ],
          },
          {
            title: 'Daily P&L %',
            type: 'stat',
            unit: 'percentunit',
            w: 6,
            targets: [{ expr: `min by (account) (trader_daily_pnl_ratio{${acct}})`, legend: '{{account}}' }],
            thresholds: [
              { value: null, color: 'red' },
              { value: -0.02, color: 'orange' },
              { value: 0, color: 'green' },
            ],
          },
          {
            title: 'Equity',
            type: 'timeseries',
            unit: 'currencyUSD',
            targets: [{ expr: `sum by (account) (trader_equity_dollars{${acct}})`, legend: '{{account}}' }],
          },
        ],
      },
      {
        title: 'Attribution',
        panels: [
          {
            title: 'Realized P&L by ticker',
            type: 'timeseries',
            unit: 'currencyUSD',
            targets: [
              { expr: `sum by (ticker) (trader_pnl_realized_dollars{${ticker}})`, legend: '{{ticker}}' },
            ],
          },
          {
            title: 'Unrealized P&L by ticker',
            type: 'timeseries',
            unit: 'currencyUSD',
            targets: [
              { expr: `sum by (ticker) (trader_pnl_unrealized_dollars{${ticker}})`, legend: '{{ticker}}' },
            ],
          },
          {
            title: 'Total P&L by model',
            type: 'bargauge',
            unit: 'currencyUSD',
            targets: [
              {
                expr: 'sum by (model) (trader_pnl_realized_dollars) + sum by (model) (trader_pnl_unrealized_dollars)',
                legend: '{{model}}',
                instant: true,
              },
            ],
          },
          {
            title: 'Total P&L by timeframe',
            type: 'bargauge',
            unit: 'currencyUSD',
            targets: [
              {
                expr: 'sum by (timeframe) (trader_pnl_realized_dollars) + sum by (timeframe) (trader_pnl_unrealized_dollars)',
                legend: '{{timeframe}}',
                instant: true,
              },
            ],
          },
        ],
      },
      {
        title: 'Positions and exposure',
        panels: [
          {
            title: 'Positions (shares)',
            type: 'table',
            targets: [
              {
                expr: `sum by (account, ticker) (trader_position_quantity{${acct}, ${ticker}})`,
                instant: true,
              },
            ],
          },
          {
            title: 'Position market value',
            type: 'bargauge',
            unit: 'currencyUSD',
            targets: [
              {
                expr: `sum by (ticker) (trader_position_market_value_dollars{${acct}, ${ticker}})`,
                legend: '{{ticker}}',
                instant: true,
              },
            ],
          },
          {
            title: 'Gross and net exposure',
            type: 'timeseries',
            unit: 'currencyUSD',
            w: 24,
            targets: [
              {
                expr: `sum by (account) (trader_exposure_gross_dollars{${acct}})`,
                legend: 'gross {{account}}',
              },
              { expr: `sum by (account) (trader_exposure_net_dollars{${acct}})`, legend: 'net {{account}}' },
            ],
          },
        ],
      },
    ],
  },
  {
    uid: 'trader-risk',
    file: 'risk.json',
    title: 'Trader / Risk',
    description: 'Risk engine state, limits and breaches.',
    variables: [{ name: 'account', label: 'Account', query: 'label_values(trader_risk_state, account)' }],
    rows: [
      {
        title: 'State',
        panels: [
          {
            title: 'Risk state',
            type: 'state-timeline',
            w: 24,
            h: 5,
            targets: [
              {
                expr: `max by (account, state) (trader_risk_state{${acct}}) == 1`,
                legend: '{{account}} {{state}}',
              },
            ],
          },
          {
            title: 'Daily P&L vs loss limit',
            type: 'timeseries',
            unit: 'percentunit',
            targets: [
              { expr: `min by (account) (trader_daily_pnl_ratio{${acct}})`, legend: 'P&L {{account}}' },
              {
                expr: `-max by (account) (trader_risk_daily_loss_limit_ratio{${acct}})`,
                legend: 'limit {{account}}',
              },
            ],
          },
          {
            title: 'Open risk (fraction of equity)',
            type: 'gauge',
            unit: 'percentunit',
            min: 0,
            max: 0.25,
            targets: [
              { expr: `max by (account) (trader_risk_open_risk_ratio{${acct}})`, legend: '{{account}}' },
            ],
            thresholds: [
              { value: null, color: 'green' },
              { value: 0.15, color: 'orange' },
              { value: 0.2, color: 'red' },
            ],
          },
          {
            title: 'Drawdown from peak',
            type: 'timeseries',
            unit: 'percentunit',
            targets: [
              { expr: `max by (account) (trader_risk_drawdown_ratio{${acct}})`, legend: '{{account}}' },
            ],
          },
          {
            title: 'Limit breaches (range)',
            type: 'bargauge',
            targets: [
              {
                expr: `sum by (limit) (increase(trader_risk_limit_breaches_total{${acct}}[$__range]))`,
                legend: '{{limit}}',
                instant: true,
              },
            ],
            thresholds: [
              { value: null, color: 'green' },
              { value: 1, color: 'red' },
            ],
          },
          {
            title: 'Commands denied by the risk engine',
            type: 'timeseries',
            unit: 'short',
            w: 24,
            targets: [
              {
                expr: `sum by (limit) (increase(trader_risk_denials_total{${acct}}[${RATE}]))`,
                legend: '{{limit}}',
              },
            ],
          },
        ],
      },
    ],
  },
  {
    uid: 'trader-execution',
    file: 'execution.json',
    title: 'Trader / Execution quality',
    description: 'Orders, rejects, slippage against the decision price, decision latency, turnover.',
    variables: [
      { name: 'ticker', label: 'Ticker', query: 'label_values(trader_orders_submitted_total, ticker)' },
    ],
    rows: [
      {
        title: 'Orders',
        panels: [
          {
            title: 'Orders per minute',
            type: 'timeseries',
            unit: 'short',
            targets: [
              {
                expr: `sum(rate(trader_orders_submitted_total{${ticker}}[${RATE}])) * 60`,
                legend: 'submitted',
              },
              { expr: `sum(rate(trader_orders_filled_total{${ticker}}[${RATE}])) * 60`, legend: 'filled' },
              {
                expr: `sum(rate(trader_orders_rejected_total{${ticker}}[${RATE}])) * 60`,
                legend: 'rejected',
              },
            ],
          },
          {
            title: 'Rejects by reason',
            type: 'timeseries',
            unit: 'short',
            targets: [
              {
                expr: `sum by (reason) (increase(trader_orders_rejected_total{${ticker}}[${RATE}]))`,
                legend: '{{reason}}',
              },
            ],
          },
          {
            title: 'Reject share (10m)',
            type: 'stat',
            unit: 'percentunit',
            w: 6,
            targets: [
              {
                expr: 'sum(increase(trader_orders_rejected_total[10m])) / clamp_min(sum(increase(trader_orders_submitted_total[10m])), 1)',
              },
            ],
            thresholds: [
              { value: null, color: 'green' },
              { value: 0.1, color: 'orange' },
              { value: 0.2, color: 'red' },
            ],
          },
          {
            title: 'Turnover (dollars per minute)',
            type: 'timeseries',
            unit: 'currencyUSD',
            w: 18,
            targets: [
              {
                expr: `sum by (side) (rate(trader_filled_notional_dollars_total{${ticker}}[${RATE}])) * 60`,
                legend: '{{side}}',
              },
            ],
          },
        ],
      },
      {
        title: 'Slippage and latency',
        panels: [
          {
            title: 'Slippage vs decision price (bps, + = worse)',
            type: 'timeseries',
            unit: 'none',
            targets: [
              {
                expr: `histogram_quantile(0.5, sum by (le) (rate(trader_order_slippage_bps_bucket[${RATE}])))`,
                legend: 'p50',
              },
              {
                expr: `histogram_quantile(0.95, sum by (le) (rate(trader_order_slippage_bps_bucket[${RATE}])))`,
                legend: 'p95',
              },
              {
                expr: `sum by (side) (rate(trader_order_slippage_bps_sum[${RATE}])) / sum by (side) (rate(trader_order_slippage_bps_count[${RATE}]))`,
                legend: 'mean {{side}}',
              },
            ],
          },
          {
            title: 'Slippage distribution',
            type: 'heatmap',
            unit: 'none',
            targets: [
              { expr: `sum by (le) (increase(trader_order_slippage_bps_bucket[${RATE}]))`, legend: '{{le}}' },
            ],
          },
          {
            title: 'Decision latency (bar close to decision)',
            type: 'timeseries',
            unit: 's',
            targets: [
              {
                expr: `histogram_quantile(0.5, sum by (le, timeframe) (rate(trader_decision_latency_seconds_bucket{stage="end_to_end"}[${RATE}])))`,
                legend: 'p50 {{timeframe}}',
              },
              {
                expr: `histogram_quantile(0.99, sum by (le, timeframe) (rate(trader_decision_latency_seconds_bucket{stage="end_to_end"}[${RATE}])))`,
                legend: 'p99 {{timeframe}}',
              },
            ],
          },
          {
            title: 'Latency by pipeline stage (p95)',
            type: 'timeseries',
            unit: 's',
            targets: [
              {
                expr: `histogram_quantile(0.95, sum by (le, stage) (rate(trader_decision_latency_seconds_bucket{stage!="end_to_end"}[${RATE}])))`,
                legend: '{{stage}}',
              },
            ],
          },
          {
            title: 'Decision cycles per minute',
            type: 'timeseries',
            unit: 'short',
            w: 24,
            h: 6,
            targets: [
              {
                expr: `sum by (timeframe) (rate(trader_decisions_total[${RATE}])) * 60`,
                legend: '{{timeframe}}',
              },
            ],
          },
        ],
      },
    ],
  },
  {
    uid: 'trader-data',
    file: 'data-health.json',
    title: 'Trader / Data health',
    description: 'Freshness per symbol, ingestion, validation rejects.',
    variables: [
      { name: 'symbol', label: 'Symbol', query: 'label_values(trader_data_staleness_seconds, symbol)' },
    ],
    rows: [
      {
        title: 'Freshness',
        panels: [
          { title: 'Market open', type: 'stat', w: 4, targets: [{ expr: 'max(trader_market_open)' }] },
          {
            title: 'Stalest 1m symbol',
            type: 'stat',
            unit: 's',
            w: 8,
            targets: [{ expr: 'max(trader_data_staleness_seconds{timeframe="1m"})' }],
            thresholds: [
              { value: null, color: 'green' },
              { value: 120, color: 'orange' },
              { value: 180, color: 'red' },
            ],
          },
          {
            title: 'Newest bar per symbol',
            type: 'table',
            w: 12,
            targets: [
              {
                expr: 'max by (symbol, timeframe) (trader_data_last_bar_timestamp_seconds{symbol=~"$symbol"}) * 1000',
                instant: true,
              },
            ],
          },
          {
            title: 'Staleness by symbol',
            type: 'timeseries',
            unit: 's',
            w: 24,
            targets: [
              {
                expr: 'max by (symbol, timeframe) (trader_data_staleness_seconds{symbol=~"$symbol"})',
                legend: '{{symbol}} {{timeframe}}',
              },
            ],
          },
        ],
      },
      {
        title: 'Ingestion and validation',
        panels: [
          {
            title: 'Bars stored per minute',
            type: 'timeseries',
            unit: 'short',
            targets: [
              {
                expr: `sum by (timeframe) (rate(trader_data_bars_ingested_total{symbol=~"$symbol"}[${RATE}])) * 60`,
                legend: '{{timeframe}}',
              },
            ],
          },
          {
            title: 'Validation rejects by reason',
            type: 'timeseries',
            unit: 'short',
            targets: [
              {
                expr: `sum by (reason) (increase(trader_data_quality_rejects_total{symbol=~"$symbol"}[${RATE}]))`,
                legend: '{{reason}}',
              },
            ],
          },
        ],
      },
    ],
  },
  {
    uid: 'trader-models',
    file: 'models.json',
    title: 'Trader / Models',
    description: 'Prediction distribution and drift, confidence, training runs.',
    variables: [
      { name: 'model', label: 'Model', query: 'label_values(trader_model_prediction_count, model)' },
    ],
    rows: [
      {
        title: 'Predictions',
        panels: [
          {
            title: 'Prediction distribution',
            type: 'heatmap',
            targets: [
              {
                expr: `sum by (le) (increase(trader_model_prediction_bucket{model=~"$model"}[${RATE}]))`,
                legend: '{{le}}',
              },
            ],
          },
          {
            title: 'Drift (PSI, > 0.25 significant)',
            type: 'timeseries',
            unit: 'none',
            targets: [
              {
                expr: 'max by (model) (trader_model_prediction_drift{model=~"$model"})',
                legend: '{{model}}',
              },
            ],
            thresholds: [
              { value: null, color: 'green' },
              { value: 0.1, color: 'orange' },
              { value: 0.25, color: 'red' },
            ],
          },
          {
            title: 'Confidence',
            type: 'timeseries',
            unit: 'percentunit',
            targets: [
              {
                expr: 'max by (model) (trader_model_confidence_ratio{model=~"$model"})',
                legend: '{{model}}',
              },
            ],
          },
          {
            title: 'Predictions per minute',
            type: 'timeseries',
            unit: 'short',
            targets: [
              {
                expr: `sum by (model, timeframe) (rate(trader_model_prediction_count{model=~"$model"}[${RATE}])) * 60`,
                legend: '{{model}} {{timeframe}}',
              },
            ],
          },
        ],
      },
      {
        title: 'Training',
        panels: [
          {
            title: 'Training runs by outcome (range)',
            type: 'bargauge',
            targets: [
              {
                expr: 'sum by (outcome) (increase(trader_training_runs_total[$__range]))',
                legend: '{{outcome}}',
                instant: true,
              },
            ],
          },
          {
            title: 'Training duration (p50)',
            type: 'timeseries',
            unit: 's',
            targets: [
              {
                expr: `histogram_quantile(0.5, sum by (le, model) (rate(trader_training_duration_seconds_bucket[${RATE}])))`,
                legend: '{{model}}',
              },
            ],
          },
        ],
      },
    ],
  },
  {
    uid: 'trader-temporal-system',
    file: 'temporal-system.json',
    title: 'Trader / Temporal and system',
    description:
      'Workers, workflows (trader counters + Temporal SDK runtime metrics, histograms in milliseconds), the Temporal server, and host resources.',
    variables: [{ name: 'instance', label: 'Worker', query: 'label_values(trader_worker_up, instance)' }],
    rows: [
      {
        title: 'Workers',
        panels: [
          {
            title: 'Workers polling',
            type: 'state-timeline',
            w: 24,
            h: 5,
            targets: [
              {
                expr: 'max by (instance, queue) (trader_worker_up{instance=~"$instance"})',
                legend: '{{instance}} {{queue}}',
              },
            ],
          },
          {
            title: 'Worker versions',
            type: 'table',
            targets: [
              {
                expr: 'max by (instance, worker, version, node_version, trading_mode) (trader_worker_info)',
                instant: true,
              },
            ],
          },
          {
            title: 'Task slots used',
            type: 'timeseries',
            targets: [
              {
                expr: 'sum by (task_queue, worker_type) (temporal_worker_task_slots_used)',
                legend: '{{task_queue}} {{worker_type}}',
              },
              {
                expr: 'sum by (task_queue, worker_type) (temporal_worker_task_slots_available)',
                legend: 'free {{task_queue}} {{worker_type}}',
              },
            ],
          },
          {
            title: 'Pollers and sticky cache',
            type: 'timeseries',
            targets: [
              { expr: 'sum by (poller_type) (temporal_num_pollers)', legend: 'pollers {{poller_type}}' },
              { expr: 'sum(temporal_sticky_cache_size)', legend: 'cached workflows' },
            ],
          },
        ],
      },
      {
        title: 'Workflows and activities (SDK)',
        panels: [
          {
            title: 'Workflows completed / failed per minute',
            type: 'timeseries',
            targets: [
              {
                expr: `sum by (workflow_type) (rate(temporal_workflow_completed[${RATE}])) * 60`,
                legend: 'completed {{workflow_type}}',
              },
              {
                expr: `sum by (workflow_type) (rate(temporal_workflow_failed[${RATE}])) * 60`,
                legend: 'failed {{workflow_type}}',
              },
              {
                expr: `sum by (workflow_type) (rate(trader_workflow_failures_total[${RATE}])) * 60`,
                legend: 'trader-recorded failures {{workflow_type}}',
              },
            ],
          },
          {
            title: 'Workflow task execution latency p95',
            type: 'timeseries',
            unit: 'ms',
            targets: [
              {
                expr: `histogram_quantile(0.95, sum by (le, workflow_type) (rate(temporal_workflow_task_execution_latency_bucket[${RATE}])))`,
                legend: '{{workflow_type}}',
              },
            ],
          },
          {
            title: 'Schedule-to-start latency p95 (backlog)',
            type: 'timeseries',
            unit: 'ms',
            targets: [
              {
                expr: `histogram_quantile(0.95, sum by (le, task_queue) (rate(temporal_workflow_task_schedule_to_start_latency_bucket[${RATE}])))`,
                legend: 'workflow {{task_queue}}',
              },
              {
                expr: `histogram_quantile(0.95, sum by (le, task_queue) (rate(temporal_activity_schedule_to_start_latency_bucket[${RATE}])))`,
                legend: 'activity {{task_queue}}',
              },
            ],
          },
          {
            title: 'Activity execution latency p95 and failures',
            type: 'timeseries',
            unit: 'ms',
            targets: [
              {
                expr: `histogram_quantile(0.95, sum by (le, activity_type) (rate(temporal_activity_execution_latency_bucket[${RATE}])))`,
                legend: '{{activity_type}}',
              },
              {
                expr: `sum by (activity_type) (increase(temporal_activity_execution_failed[${RATE}]))`,
                legend: 'failed {{activity_type}}',
              },
            ],
          },
        ],
      },
      {
        title: 'Temporal server',
        panels: [
          {
            title: 'Server requests per second',
            type: 'timeseries',
            unit: 'reqps',
            targets: [
              {
                expr: `sum by (operation) (rate(service_requests{job="temporal-server"}[${RATE}]))`,
                legend: '{{operation}}',
              },
            ],
          },
          {
            title: 'Server latency p95 and persistence p95',
            type: 'timeseries',
            unit: 's',
            targets: [
              {
                expr: `histogram_quantile(0.95, sum by (le) (rate(service_latency_bucket{job="temporal-server"}[${RATE}])))`,
                legend: 'service',
              },
              {
                expr: `histogram_quantile(0.95, sum by (le) (rate(persistence_latency_bucket{job="temporal-server"}[${RATE}])))`,
                legend: 'persistence',
              },
            ],
          },
        ],
      },
      {
        title: 'System',
        panels: [
          {
            title: 'Host CPU',
            type: 'timeseries',
            unit: 'percentunit',
            w: 8,
            targets: [
              { expr: 'max by (instance) (trader_host_cpu_utilization_ratio)', legend: '{{instance}}' },
            ],
          },
          {
            title: 'GPU utilisation',
            type: 'timeseries',
            unit: 'percentunit',
            w: 8,
            targets: [
              {
                expr: 'max by (instance, gpu) (trader_gpu_utilization_ratio)',
                legend: '{{instance}} gpu{{gpu}}',
              },
            ],
          },
          {
            title: 'GPU memory',
            type: 'timeseries',
            unit: 'bytes',
            w: 8,
            targets: [
              {
                expr: 'max by (instance, gpu) (trader_gpu_memory_used_bytes)',
                legend: '{{instance}} gpu{{gpu}}',
              },
            ],
          },
          {
            title: 'Worker process CPU (cores)',
            type: 'timeseries',
            unit: 'short',
            w: 8,
            targets: [
              {
                expr: `rate(trader_worker_process_cpu_seconds_total{instance=~"$instance"}[${RATE}])`,
                legend: '{{instance}}',
              },
            ],
          },
          {
            title: 'Worker memory',
            type: 'timeseries',
            unit: 'bytes',
            w: 8,
            targets: [
              {
                expr: 'trader_worker_process_resident_memory_bytes{instance=~"$instance"}',
                legend: 'rss {{instance}}',
              },
              {
                expr: 'sum by (instance) (trader_worker_nodejs_heap_size_used_bytes{instance=~"$instance"})',
                legend: 'heap {{instance}}',
              },
            ],
          },
          {
            title: 'Event loop lag p99',
            type: 'timeseries',
            unit: 's',
            w: 8,
            targets: [
              {
                expr: 'trader_worker_nodejs_eventloop_lag_p99_seconds{instance=~"$instance"}',
                legend: '{{instance}}',
              },
            ],
          },
          {
            title: 'Alerts sent',
            type: 'timeseries',
            unit: 'short',
            w: 24,
            h: 6,
            targets: [
              {
                expr: `sum by (severity, outcome) (increase(trader_alerts_sent_total[${RATE}]))`,
                legend: '{{severity}} {{outcome}}',
              },
            ],
          },
        ],
      },
    ],
  },
];

export const DASHBOARDS_DIR = resolve(__dirname, '../deploy/grafana/dashboards');

export function renderDashboard(d: DashboardSpec): string {
  return `${JSON.stringify(dashboardJson(d), null, 2)}\n`;
}

if (require.main === module) {
  for (const d of DASHBOARDS) {
    writeFileSync(resolve(DASHBOARDS_DIR, d.file), renderDashboard(d));
    console.log(`wrote deploy/grafana/dashboards/${d.file}`);
  }
}
