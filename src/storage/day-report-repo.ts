import type { Pool } from 'pg';
import type { DayReport, SessionMode } from '../../contracts/session';

/** Stores the day's report (a rerun of the post-market routine replaces it). */
export async function saveDayReport(pool: Pool, r: DayReport): Promise<void> {
  await pool.query(
    `insert into day_reports (account, mode, session_date, session_id, report) values ($1, $2, $3, $4, $5)
     on conflict (account, mode, session_date) do update
       set session_id = excluded.session_id, report = excluded.report, recorded_at = now()`,
    [r.account, r.mode, r.date, r.sessionId, JSON.stringify(r)],
  );
}

/** The stored reports of a day (every account and mode unless narrowed). */
export async function readDayReports(
  pool: Pool,
  date: string,
  filter: { account?: string; mode?: SessionMode } = {},
): Promise<DayReport[]> {
  const { rows } = await pool.query<{ report: DayReport }>(
    `select report from day_reports where session_date = $1 and ($2::text is null or account = $2)
        and ($3::text is null or mode = $3) order by account, mode`,
    [date, filter.account ?? null, filter.mode ?? null],
  );
  return rows.map((r) => r.report);
}

/** A session's recorded P&L and start equity (session_reports), or null when it recorded none. */
export async function sessionOutcome(
  pool: Pool,
  sessionId: string,
): Promise<{ dailyPnl: number; startEquity: number | null } | null> {
  const { rows } = await pool.query<{ daily_pnl: number; start_equity: number | null }>(
    `select daily_pnl, start_equity from session_reports where session_id = $1`,
    [sessionId],
  );
  return rows[0] ? { dailyPnl: rows[0].daily_pnl, startEquity: rows[0].start_equity } : null;
}
