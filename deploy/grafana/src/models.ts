/**
 * Models: what decides each account's session (its model id, or indicator-fallback: trader_session_model_info,
 * set by the session's decide activity), prediction distribution and confidence (a session trading a registered
 * model: sessionModelPorts), drift (the drift monitor's computeDrift), training runs (every attempt of the training
 * activity, observeTrainingRun, and the gate's promoted/rejected decision; `model` is the model family).
 */
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as heatmap from '@grafana/grafana-foundation-sdk/heatmap';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import {
  DS,
  inRange,
  labelVariable,
  lastValue,
  legendBottom,
  q,
  qh,
  qi,
  RATE,
  row,
  thresholds,
  traderDashboard,
} from './common';

export function modelsDashboard() {
  return traderDashboard({
    uid: 'trader-models',
    title: 'Trader / Models',
    description: 'Prediction distribution and drift, confidence, training runs.',
    variables: [labelVariable('model', 'Model', 'trader_model_prediction_count')],
  })
    .withRow(row('Sessions'))
    .withPanel(
      new bargauge.PanelBuilder()
        .title('What decides the trades (per account)')
        .description('The model id a session trades on, or indicator-fallback for a strategy without a model')
        .datasource(DS)
        .span(24)
        .height(4)
        .reduceOptions(lastValue())
        .withTarget(qi('max by (account, model) (trader_session_model_info)', '{{account}}: {{model}}')),
    )
    .withRow(row('Predictions'))
    .withPanel(
      new heatmap.PanelBuilder()
        .title('Prediction distribution')
        .datasource(DS)
        .span(12)
        .height(8)
        .calculate(false)
        .withTarget(qh(`sum by (le) (increase(trader_model_prediction_bucket{model=~"$model"}[${RATE}]))`)),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Drift (PSI, > 0.25 significant)')
        .datasource(DS)
        .unit('none')
        .span(12)
        .height(8)
        .legend(legendBottom())
        .thresholds(thresholds('green', [0.1, 'orange'], [0.25, 'red']))
        .withTarget(q('max by (model) (trader_model_prediction_drift{model=~"$model"})', '{{model}}')),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Confidence')
        .datasource(DS)
        .unit('percentunit')
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(q('max by (model) (trader_model_confidence_ratio{model=~"$model"})', '{{model}}')),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Predictions per minute')
        .datasource(DS)
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(
            `sum by (model, timeframe) (rate(trader_model_prediction_count{model=~"$model"}[${RATE}])) * 60`,
            '{{model}} {{timeframe}}',
          ),
        ),
    )
    .withRow(row('Training'))
    .withPanel(
      new bargauge.PanelBuilder()
        .title('Training runs by outcome (range)')
        .datasource(DS)
        .span(12)
        .height(8)
        .reduceOptions(lastValue())
        .withTarget(qi(inRange('trader_training_runs_total', 'outcome'), '{{outcome}}')),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Training duration (mean per run)')
        .datasource(DS)
        .unit('s')
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(
            'sum by (model) (trader_training_duration_seconds_sum) / sum by (model) (trader_training_duration_seconds_count)',
            '{{model}}',
          ),
        ),
    );
}
