/**
 * Risk: state, daily P&L against the loss limit, open risk, drawdown, breaches and denials.
 * The daily P&L series come from the execution activities (setAccountSnapshot). The risk state, limit ratios,
 * breaches and denials are set by the trading session each cycle (setRiskState, recordRiskBreach,
 * recordRiskDenial); the session now being rebuilt emits them (issue 16, second part).
 */
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as gauge from '@grafana/grafana-foundation-sdk/gauge';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import {
  DS,
  inRange,
  labelVariable,
  lastValue,
  legendBottom,
  q,
  qi,
  RATE,
  row,
  thresholds,
  traderDashboard,
  zeroWhile,
} from './common';

const acct = 'account=~"$account"';

export function riskDashboard() {
  return traderDashboard({
    uid: 'trader-risk',
    title: 'Trader / Risk',
    description: 'Risk engine state, limits and breaches.',
    variables: [labelVariable('account', 'Account', 'trader_daily_pnl_ratio')],
  })
    .withRow(row('State'))
    .withPanel(
      new statetimeline.PanelBuilder()
        .title('Risk state')
        .datasource(DS)
        .span(24)
        .height(5)
        .withTarget(q(`max by (account, state) (trader_risk_state{${acct}}) == 1`, '{{account}} {{state}}')),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Daily P&L vs loss limit')
        .datasource(DS)
        .unit('percentunit')
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(q(`min by (account) (trader_daily_pnl_ratio{${acct}})`, 'P&L {{account}}'))
        .withTarget(
          q(`-max by (account) (trader_risk_daily_loss_limit_ratio{${acct}})`, 'limit {{account}}'),
        ),
    )
    .withPanel(
      new gauge.PanelBuilder()
        .title('Open risk (fraction of equity)')
        .datasource(DS)
        .unit('percentunit')
        .min(0)
        .max(0.25)
        .span(12)
        .height(8)
        .reduceOptions(lastValue())
        .thresholds(thresholds('green', [0.15, 'orange'], [0.2, 'red']))
        .withTarget(q(`max by (account) (trader_risk_open_risk_ratio{${acct}})`, '{{account}}')),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Drawdown from peak')
        .datasource(DS)
        .unit('percentunit')
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(q(`max by (account) (trader_risk_drawdown_ratio{${acct}})`, '{{account}}')),
    )
    .withPanel(
      new bargauge.PanelBuilder()
        .title('Limit breaches (range)')
        .datasource(DS)
        .span(12)
        .height(8)
        .reduceOptions(lastValue())
        .thresholds(thresholds('green', [1, 'red']))
        .withTarget(
          qi(
            zeroWhile(
              inRange(`trader_risk_limit_breaches_total{${acct}}`, 'limit'),
              'limit',
              `count(trader_risk_state{${acct}})`,
            ),
            '{{limit}}',
          ),
        ),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Commands denied by the risk engine')
        .datasource(DS)
        .unit('short')
        .span(24)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(
            zeroWhile(
              `sum by (limit) (increase(trader_risk_denials_total{${acct}}[${RATE}]))`,
              'limit',
              `count(trader_risk_state{${acct}})`,
            ),
            '{{limit}}',
          ),
        ),
    );
}
