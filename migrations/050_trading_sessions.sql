-- One row per trading session day: the end-of-day report (daily P&L, orders, final state). Idempotent upsert
-- by session id, so a retried report activity writes the same row.
CREATE TABLE session_reports (
  session_id   text        PRIMARY KEY,
  session_date date        NOT NULL,
  account      text        NOT NULL,
  mode         text        NOT NULL CHECK (mode IN ('replay', 'paper', 'live')),
  daily_pnl    double precision NOT NULL,
  orders_placed integer    NOT NULL,
  order_hash   text        NOT NULL,
  killed       boolean     NOT NULL,
  state        jsonb       NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_reports_date ON session_reports (session_date);
