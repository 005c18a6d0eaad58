/**
 * Execution quality: orders, rejects, turnover, slippage against the decision price, decision latency.
 * Submissions and rejects: the execution activities (SessionMetrics.ordersAcknowledged); decision latency and
 * cycles: the session's decide activity (SessionMetrics.decided). Fills, turnover and slippage
 * (recordOrderFilled) come from the trading session now being rebuilt (issue 16, second part).
 */
import * as heatmap from '@grafana/grafana-foundation-sdk/heatmap';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import {
  DS,
  labelVariable,
  lastValue,
  legendBottom,
  q,
  qh,
  RATE,
  row,
  thresholds,
  traderDashboard,
  zeroWhile,
} from './common';

const ticker = 'ticker=~"$ticker"';

/** Rejected share of the orders sent to the broker in the last 10 minutes (as the alert rule computes it). */
// No reject series yet but orders sent in the 10 minutes: a share of 0 (no orders at all: no data).
const REJECTED_10M =
  '(sum(increase(trader_orders_rejected_total[10m])) or on() 0 * sum(increase(trader_orders_submitted_total[10m])))';
const REJECT_SHARE = `${REJECTED_10M} / clamp_min(${REJECTED_10M} + (sum(increase(trader_orders_submitted_total[10m])) or vector(0)), 1)`;

export function executionDashboard() {
  return traderDashboard({
    uid: 'trader-execution',
    title: 'Trader / Execution quality',
    description: 'Orders, rejects, slippage against the decision price, decision latency, turnover.',
    variables: [labelVariable('ticker', 'Ticker', 'trader_orders_submitted_total')],
  })
    .withRow(row('Orders'))
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Orders per minute')
        .datasource(DS)
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(q(`sum(rate(trader_orders_submitted_total{${ticker}}[${RATE}])) * 60`, 'submitted'))
        .withTarget(q(`sum(rate(trader_orders_filled_total{${ticker}}[${RATE}])) * 60`, 'filled'))
        .withTarget(q(`sum(rate(trader_orders_rejected_total{${ticker}}[${RATE}])) * 60`, 'rejected')),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Order rejects by reason (since worker start)')
        .datasource(DS)
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(
            zeroWhile(
              `sum by (reason) (trader_orders_rejected_total{${ticker}})`,
              'reason',
              `sum(trader_orders_submitted_total{${ticker}})`,
            ),
            '{{reason}}',
          ),
        ),
    )
    .withPanel(
      new stat.PanelBuilder()
        .title('Reject share (10m)')
        .datasource(DS)
        .unit('percentunit')
        .span(6)
        .height(8)
        .reduceOptions(lastValue())
        .thresholds(thresholds('green', [0.1, 'orange'], [0.2, 'red']))
        .withTarget(q(REJECT_SHARE)),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Turnover (dollars per minute)')
        .datasource(DS)
        .unit('currencyUSD')
        .span(18)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(
            `sum by (side) (rate(trader_filled_notional_dollars_total{${ticker}}[${RATE}])) * 60`,
            '{{side}}',
          ),
        ),
    )
    .withRow(row('Slippage and latency'))
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Slippage vs decision price (bps, + = worse)')
        .datasource(DS)
        .unit('none')
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(`histogram_quantile(0.5, sum by (le) (rate(trader_order_slippage_bps_bucket[${RATE}])))`, 'p50'),
        )
        .withTarget(
          q(`histogram_quantile(0.95, sum by (le) (rate(trader_order_slippage_bps_bucket[${RATE}])))`, 'p95'),
        )
        .withTarget(
          q(
            `sum by (side) (rate(trader_order_slippage_bps_sum[${RATE}])) / sum by (side) (rate(trader_order_slippage_bps_count[${RATE}]))`,
            'mean {{side}}',
          ),
        ),
    )
    .withPanel(
      new heatmap.PanelBuilder()
        .title('Slippage distribution')
        .datasource(DS)
        .span(12)
        .height(8)
        .calculate(false)
        .withTarget(qh(`sum by (le) (increase(trader_order_slippage_bps_bucket[${RATE}]))`)),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Decision latency (bar close to decision)')
        .datasource(DS)
        .unit('s')
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(
            `histogram_quantile(0.5, sum by (le, timeframe) (rate(trader_decision_latency_seconds_bucket{stage="end_to_end"}[${RATE}])))`,
            'p50 {{timeframe}}',
          ),
        )
        .withTarget(
          q(
            `histogram_quantile(0.99, sum by (le, timeframe) (rate(trader_decision_latency_seconds_bucket{stage="end_to_end"}[${RATE}])))`,
            'p99 {{timeframe}}',
          ),
        ),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Decision cycles per minute')
        .datasource(DS)
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(q(`sum by (timeframe) (rate(trader_decisions_total[${RATE}])) * 60`, '{{timeframe}}')),
    );
}
