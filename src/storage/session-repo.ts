/**
 * What trading sessions store: the decision journal (each decision's input, so a lost kernel is rebuilt by
 * replaying it), the end-of-day reports (and from them the start-of-period anchors of the next sessions), and
 * execution quality per algorithm-worked order. The only SQL of the session area.
 */
import type { Pool } from 'pg';

export interface JournalRow<I = unknown> {
  readonly closeTs: number;
  readonly input: I;
}

/** Where each decision's input is kept so a lost kernel can be rebuilt: Postgres, else this process. */
export interface DecisionJournal<I = unknown> {
  write(sessionId: string, closeTs: number, input: I, predictions?: unknown): Promise<void>;
  /** rows with close_ts <= untilTs, ascending */
  read(sessionId: string, untilTs: number): Promise<Array<JournalRow<I>>>;
}

export function decisionJournal<I>(pool: Pool | undefined): DecisionJournal<I> {
  if (pool)
    return {
      async write(sessionId, closeTs, input, predictions) {
        await pool.query(
          `insert into strategy_journal (session_id, close_ts, input, predictions) values ($1, $2, $3, $4)
           on conflict (session_id, close_ts) do update set input = excluded.input, predictions = excluded.predictions`,
          [
            sessionId,
            closeTs,
            JSON.stringify(input),
            predictions === undefined ? null : JSON.stringify(predictions),
          ],
        );
      },
      async read(sessionId, untilTs) {
        const { rows } = await pool.query<{ close_ts: string; input: I }>(
          `select close_ts, input from strategy_journal where session_id = $1 and close_ts <= $2 order by close_ts`,
          [sessionId, untilTs],
        );
        return rows.map((r) => ({ closeTs: Number(r.close_ts), input: r.input }));
      },
    };
  const mem = new Map<string, Map<number, I>>();
  return {
    async write(sessionId, closeTs, input) {
      const m = mem.get(sessionId) ?? new Map<number, I>();
      m.set(closeTs, structuredClone(input));
      mem.set(sessionId, m);
    },
    async read(sessionId, untilTs) {
      return [...(mem.get(sessionId) ?? new Map<number, I>()).entries()]
        .filter(([ts]) => ts <= untilTs)
        .sort(([a], [b]) => a - b)
        .map(([closeTs, input]) => ({ closeTs, input }));
    },
  };
}

export interface SessionReportRow {
  readonly sessionId: string;
  readonly date: string;
  readonly account: string;
  readonly mode: string;
  readonly dailyPnl: number;
  readonly ordersPlaced: number;
  readonly orderHash: string;
  readonly killed: boolean;
  readonly startEquity: number;
  readonly dayTrades: number;
  readonly state: unknown;
}

/** Idempotent by session id: a retried report writes the same row. */
export async function saveSessionReport(pool: Pool, r: SessionReportRow): Promise<void> {
  await pool.query(
    `insert into session_reports (session_id, session_date, account, mode, daily_pnl, orders_placed, order_hash, killed, state, start_equity, day_trades)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     on conflict (session_id) do update set daily_pnl = excluded.daily_pnl, orders_placed = excluded.orders_placed,
       order_hash = excluded.order_hash, killed = excluded.killed, state = excluded.state,
       start_equity = excluded.start_equity, day_trades = excluded.day_trades, recorded_at = now()`,
    [
      r.sessionId,
      r.date,
      r.account,
      r.mode,
      r.dailyPnl,
      r.ordersPlaced,
      r.orderHash,
      r.killed,
      JSON.stringify(r.state),
      r.startEquity,
      r.dayTrades,
    ],
  );
}

/** The account's earlier sessions (before `date`, same mode), oldest first: the start-of-period anchors. */
export async function previousSessions(
  pool: Pool,
  account: string,
  mode: string,
  date: string,
  fromDate: string,
): Promise<Array<{ date: string; startEquity: number; endEquity: number; dayTrades: number }>> {
  const { rows } = await pool.query<{
    d: string;
    start_equity: number | null;
    daily_pnl: number;
    day_trades: number | null;
  }>(
    `select to_char(session_date, 'YYYY-MM-DD') as d, start_equity, daily_pnl, day_trades from session_reports
      where account = $1 and mode = $2 and session_date < $3 and session_date >= $4 and start_equity is not null
      order by session_date, recorded_at`,
    [account, mode, date, fromDate],
  );
  return rows.map((r) => ({
    date: r.d,
    startEquity: r.start_equity!,
    endEquity: r.start_equity! + r.daily_pnl,
    dayTrades: r.day_trades ?? 0,
  }));
}

export interface ExecutionQualityRow {
  readonly sessionId: string;
  readonly decidedAt: number;
  readonly symbol: string;
  readonly side: string;
  readonly algo: string;
  readonly qty: number;
  readonly arrivalPrice: number;
  readonly filledQty: number;
  readonly avgPrice: number | null;
  readonly slippageBps: number | null;
  readonly implementationShortfall: number | null;
  readonly children: unknown;
}

/** One row per parent order: a retried report activity updates it instead of adding another. */
export async function saveExecutionQuality(pool: Pool, r: ExecutionQualityRow): Promise<void> {
  await pool.query(
    `insert into execution_quality (parent_key, session_id, symbol, side, algo, qty, filled_qty, arrival_price, avg_price, slippage_bps, implementation_shortfall, children)
     values ($12, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     on conflict (parent_key) do update set filled_qty = excluded.filled_qty, avg_price = excluded.avg_price,
       slippage_bps = excluded.slippage_bps, implementation_shortfall = excluded.implementation_shortfall, children = excluded.children`,
    [
      r.sessionId,
      r.symbol,
      r.side,
      r.algo,
      r.qty,
      r.filledQty,
      r.arrivalPrice,
      r.avgPrice,
      r.slippageBps,
      r.implementationShortfall,
      JSON.stringify(r.children),
      `${r.sessionId}:${r.decidedAt}:${r.symbol}`,
    ],
  );
}
