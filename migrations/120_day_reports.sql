-- The post-market routine's report of a trading day (P&L, orders, fills, slippage against the arrival price,
-- data completeness), one per account, mode and date; `trader session report --date` prints it.
CREATE TABLE day_reports (
  account      text        NOT NULL,
  mode         text        NOT NULL CHECK (mode IN ('replay', 'paper', 'live')),
  session_date date        NOT NULL,
  session_id   text        NOT NULL,
  report       jsonb       NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account, mode, session_date)
);
