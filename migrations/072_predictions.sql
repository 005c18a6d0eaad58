-- Every prediction a model made where it mattered: in a session (traded, or in shadow: scored and journaled,
-- never traded) and in model backtests. One row per source (session id or backtest run), model, symbol and
-- decision time; the inputs' hash ties it to the exact feature row scored. The drift monitor, the shadow
-- evaluation and the scoreboard read realised outcomes against these rows later, from the stored bars.
CREATE TABLE predictions (
  source          text             NOT NULL,
  model_id        text             NOT NULL,
  role            text             NOT NULL CHECK (role IN ('traded', 'shadow')),
  symbol          text             NOT NULL,
  ts              bigint           NOT NULL,
  timeframe       text             NOT NULL,
  score           double precision NOT NULL,
  expected_return double precision NOT NULL,
  confidence      double precision NOT NULL,
  horizon_bars    integer          NOT NULL,
  inputs_hash     text             NOT NULL,
  recorded_at     timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (source, model_id, symbol, ts)
);
CREATE INDEX predictions_model_ts ON predictions (model_id, ts);
