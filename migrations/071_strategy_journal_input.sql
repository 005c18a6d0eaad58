-- The decision journal holds the kernel's whole input at each decision (the account as the broker reported it and
-- the operator controls in force), not only the portfolio the strategy saw, plus the predictions it was given.
ALTER TABLE strategy_journal RENAME COLUMN portfolio TO input;
ALTER TABLE strategy_journal ADD COLUMN predictions jsonb;
-- Start-of-day anchors a session reads from the sessions before it (monthly/quarterly loss limits, PDT window).
ALTER TABLE session_reports ADD COLUMN start_equity double precision;
ALTER TABLE session_reports ADD COLUMN day_trades integer;
CREATE INDEX session_reports_account_date ON session_reports (account, session_date);
