-- Execution quality per parent order worked by TWAP/VWAP: slippage against the arrival price and
-- implementation shortfall (execution cost plus the opportunity cost of what did not fill).
CREATE TABLE execution_quality (
  id            bigserial   PRIMARY KEY,
  -- one row per parent order: a retried report activity updates it instead of adding another
  parent_key    text        NOT NULL UNIQUE,
  session_id    text        NOT NULL,
  symbol        text        NOT NULL,
  side          text        NOT NULL CHECK (side IN ('buy', 'sell')),
  algo          text        NOT NULL,
  qty           double precision NOT NULL,
  filled_qty    double precision NOT NULL,
  arrival_price double precision NOT NULL,
  avg_price     double precision,
  slippage_bps  double precision,
  implementation_shortfall double precision,
  children      jsonb       NOT NULL,
  recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX execution_quality_session ON execution_quality (session_id);
