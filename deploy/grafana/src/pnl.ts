/**
 * P&L: equity, daily P&L, realized/unrealized by ticker, model and timeframe, positions, exposure.
 * Emitted by the execution activities after each account sync (SessionMetrics.portfolio → setAccountSnapshot,
 * setPnl; src/monitoring/session-metrics.ts).
 */
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import {
  DS,
  labelVariable,
  lastValue,
  legendBottom,
  q,
  qi,
  row,
  thresholds,
  traderDashboard,
} from './common';

const acct = 'account=~"$account"';
const ticker = 'ticker=~"$ticker"';

/** Realised plus unrealised P&L summed by one label (model or timeframe), the newest value per bar. */
function totalPnlBy(label: 'model' | 'timeframe') {
  return new bargauge.PanelBuilder()
    .title(`Total P&L by ${label}`)
    .datasource(DS)
    .unit('currencyUSD')
    .span(12)
    .height(8)
    .reduceOptions(lastValue())
    .withTarget(
      qi(
        `sum by (${label}) (trader_pnl_realized_dollars) + sum by (${label}) (trader_pnl_unrealized_dollars)`,
        `{{${label}}}`,
      ),
    );
}

export function pnlDashboard() {
  return (
    traderDashboard({
      uid: 'trader-pnl',
      title: 'Trader / P&L',
      description:
        'Dollar P&L realized and unrealized by ticker, timeframe and model; equity, positions and exposure.',
      variables: [
        labelVariable('account', 'Account', 'trader_equity_dollars'),
        labelVariable('ticker', 'Ticker', 'trader_pnl_unrealized_dollars'),
      ],
    })
      .withRow(row('Today'))
      .withPanel(
        new stat.PanelBuilder()
          .title('Daily P&L')
          .datasource(DS)
          .unit('currencyUSD')
          .span(6)
          .height(8)
          .reduceOptions(lastValue())
          .thresholds(thresholds('red', [0, 'green']))
          .withTarget(q(`sum by (account) (trader_daily_pnl_dollars{${acct}})`, '{{account}}')),
      )
      .withPanel(
        new stat.PanelBuilder()
          .title('Daily P&L %')
          .datasource(DS)
          .unit('percentunit')
          .span(6)
          .height(8)
          .reduceOptions(lastValue())
          .thresholds(thresholds('red', [-0.02, 'orange'], [0, 'green']))
          .withTarget(q(`min by (account) (trader_daily_pnl_ratio{${acct}})`, '{{account}}')),
      )
      .withPanel(
        new timeseries.PanelBuilder()
          .title('Equity')
          .datasource(DS)
          .unit('currencyUSD')
          .span(12)
          .height(8)
          .legend(legendBottom())
          .withTarget(q(`sum by (account) (trader_equity_dollars{${acct}})`, '{{account}}')),
      )
      .withRow(row('Attribution'))
      .withPanel(
        new timeseries.PanelBuilder()
          .title('Realized P&L by ticker')
          .datasource(DS)
          .unit('currencyUSD')
          .span(12)
          .height(8)
          .legend(legendBottom())
          .withTarget(q(`sum by (ticker) (trader_pnl_realized_dollars{${ticker}})`, '{{ticker}}')),
      )
      .withPanel(
        new timeseries.PanelBuilder()
          .title('Unrealized P&L by ticker')
          .datasource(DS)
          .unit('currencyUSD')
          .span(12)
          .height(8)
          .legend(legendBottom())
          .withTarget(q(`sum by (ticker) (trader_pnl_unrealized_dollars{${ticker}})`, '{{ticker}}')),
      )
      .withPanel(totalPnlBy('model'))
      .withPanel(totalPnlBy('timeframe'))
      .withRow(row('Positions and exposure'))
      // Over the range, not only at its end: a position the session held and closed shows where it was held, and a
      // series ends when its position is closed (setAccountSnapshot removes it).
      .withPanel(
        new timeseries.PanelBuilder()
          .title('Positions (shares)')
          .datasource(DS)
          .span(12)
          .height(8)
          .legend(legendBottom())
          .withTarget(
            q(
              `sum by (account, ticker) (trader_position_quantity{${acct}, ${ticker}})`,
              '{{account}} {{ticker}}',
            ),
          ),
      )
      .withPanel(
        new timeseries.PanelBuilder()
          .title('Position market value')
          .datasource(DS)
          .unit('currencyUSD')
          .span(12)
          .height(8)
          .legend(legendBottom())
          .withTarget(
            q(`sum by (ticker) (trader_position_market_value_dollars{${acct}, ${ticker}})`, '{{ticker}}'),
          ),
      )
      .withPanel(
        new timeseries.PanelBuilder()
          .title('Gross and net exposure')
          .datasource(DS)
          .unit('currencyUSD')
          .span(24)
          .height(8)
          .legend(legendBottom())
          .withTarget(q(`sum by (account) (trader_exposure_gross_dollars{${acct}})`, 'gross {{account}}'))
          .withTarget(q(`sum by (account) (trader_exposure_net_dollars{${acct}})`, 'net {{account}}')),
      )
  );
}
