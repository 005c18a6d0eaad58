-- The session strategy's decision journal: the portfolio the strategy saw at each bar close. A worker that
-- lost a session's strategy state (restart, another io worker took the task) rebuilds it by stepping a fresh
-- strategy through these rows over the stored bars: the strategy is deterministic, so the state is the same.
CREATE TABLE strategy_journal (
  session_id text NOT NULL,
  close_ts bigint NOT NULL,
  portfolio jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, close_ts)
);
