-- One row per recorded backtest: what ran (strategy, parameters, symbols, range, seed), its order-list hash
-- (the parity key with replayed trading sessions) and its statistics. Keyed by a run id the caller derives
-- from the inputs, so a retried activity writes the same row instead of a second one.
CREATE TABLE backtest_runs (
  run_id         text             PRIMARY KEY,
  strategy       text             NOT NULL,
  params         jsonb            NOT NULL,
  symbols        text[]           NOT NULL,
  timeframes     text[]           NOT NULL,
  range_from     timestamptz,
  range_to       timestamptz,
  seed           integer          NOT NULL,
  starting_cash  double precision NOT NULL,
  order_hash     text             NOT NULL,
  bar_events     bigint           NOT NULL,
  trades         integer          NOT NULL,
  net_profit     double precision NOT NULL,
  sharpe         double precision,
  max_drawdown   double precision NOT NULL,
  metrics        jsonb            NOT NULL,
  attribution    jsonb            NOT NULL,
  stopped_reason text,
  report_path    text,
  recorded_at    timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX backtest_runs_strategy_recorded ON backtest_runs (strategy, recorded_at DESC);
