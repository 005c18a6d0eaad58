/**
 * Data health: market open (the exchange calendar, read at scrape time), freshness per symbol, ingestion and
 * validation rejects. Freshness: each stored chunk of recent bars and each session decision
 * (src/monitoring/data-metrics.ts, SessionMetrics.decided); ingestion and rejects: the backfill's ingestChunk
 * activity (recordChunkIngested). Rare events are drawn as counts since the worker started: a rate would hide
 * the batch that creates a series.
 */
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
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
  zeroWhile,
} from './common';

export function dataHealthDashboard() {
  return traderDashboard({
    uid: 'trader-data',
    title: 'Trader / Data health',
    description: 'Freshness per symbol, ingestion, validation rejects.',
    variables: [labelVariable('symbol', 'Symbol', 'trader_data_staleness_seconds')],
  })
    .withRow(row('Freshness'))
    .withPanel(
      new stat.PanelBuilder()
        .title('Market open')
        .datasource(DS)
        .span(4)
        .height(8)
        .reduceOptions(lastValue())
        .withTarget(q('max(trader_market_open)')),
    )
    .withPanel(
      new stat.PanelBuilder()
        .title('Stalest 1m symbol')
        .datasource(DS)
        .unit('s')
        .span(8)
        .height(8)
        .reduceOptions(lastValue())
        .thresholds(thresholds('green', [120, 'orange'], [180, 'red']))
        .withTarget(q('max(trader_data_staleness_seconds{timeframe="1m"})')),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Newest bar per symbol')
        .datasource(DS)
        .unit('dateTimeAsIso')
        .span(12)
        .height(8)
        .withTarget(
          qi('max by (symbol, timeframe) (trader_data_last_bar_timestamp_seconds{symbol=~"$symbol"}) * 1000'),
        ),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Staleness by symbol')
        .datasource(DS)
        .unit('s')
        .span(24)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(
            'max by (symbol, timeframe) (trader_data_staleness_seconds{symbol=~"$symbol"})',
            '{{symbol}} {{timeframe}}',
          ),
        ),
    )
    .withRow(row('Ingestion and validation'))
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Bars stored (since worker start)')
        .datasource(DS)
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q('sum by (timeframe) (trader_data_bars_ingested_total{symbol=~"$symbol"})', '{{timeframe}}'),
        ),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Validation rejects by reason (since worker start)')
        .datasource(DS)
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(
            zeroWhile(
              'sum by (reason) (trader_data_quality_rejects_total{symbol=~"$symbol"})',
              'reason',
              'sum(trader_data_bars_ingested_total{symbol=~"$symbol"})',
            ),
            '{{reason}}',
          ),
        ),
    );
}
