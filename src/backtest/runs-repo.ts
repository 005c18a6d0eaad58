/**
 * Recorded backtest runs (table backtest_runs, migration 040). Idempotent by run id: recording the same run
 * twice (a retried activity) leaves one row. Does I/O.
 */
import type { Pool } from 'pg';
import { fnv1a64Hex } from '../model/client-order-id';
import type { BacktestResult } from './engine';
import type { Attribution, BacktestMetrics } from './metrics';

export interface BacktestRunRecord {
  readonly runId: string;
  readonly strategy: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly symbols: readonly string[];
  readonly timeframes: readonly string[];
  readonly rangeFrom?: number;
  readonly rangeTo?: number;
  readonly seed: number;
  readonly startingCash: number;
  readonly orderHash: string;
  readonly barEvents: number;
  readonly metrics: BacktestMetrics;
  readonly attribution: Attribution;
  readonly stoppedReason?: string;
  readonly reportPath?: string;
}

/** A run id derived from what was run: same inputs → same id. */
export function backtestRunId(parts: {
  strategy: string;
  params: unknown;
  symbols: readonly string[];
  timeframes: readonly string[];
  from?: number;
  to?: number;
  seed: number;
  startingCash: number;
}): string {
  return `bt-${fnv1a64Hex(JSON.stringify([parts.strategy, parts.params, [...parts.symbols].sort(), [...parts.timeframes].sort(), parts.from ?? null, parts.to ?? null, parts.seed, parts.startingCash]))}`;
}

export function toRunRecord(
  r: BacktestResult,
  a: { metrics: BacktestMetrics; attribution: Attribution },
  extra: { from?: number; to?: number; reportPath?: string },
): BacktestRunRecord {
  return {
    runId: backtestRunId({
      strategy: r.strategy,
      params: r.params,
      symbols: r.symbols,
      timeframes: r.timeframes,
      from: extra.from,
      to: extra.to,
      seed: r.seed,
      startingCash: r.startingCash,
    }),
    strategy: r.strategy,
    params: r.params,
    symbols: r.symbols,
    timeframes: r.timeframes,
    rangeFrom: extra.from,
    rangeTo: extra.to,
    seed: r.seed,
    startingCash: r.startingCash,
    orderHash: r.orderHash,
    barEvents: r.barEvents,
    metrics: a.metrics,
    attribution: a.attribution,
    stoppedReason: r.stopped?.reason,
    reportPath: extra.reportPath,
  };
}

export async function saveBacktestRun(
  pool: Pool,
  run: BacktestRunRecord,
): Promise<{ runId: string; inserted: boolean }> {
  const m = run.metrics;
  const res = await pool.query(
    `insert into backtest_runs (run_id, strategy, params, symbols, timeframes, range_from, range_to, seed, starting_cash, order_hash, bar_events, trades, net_profit, sharpe, max_drawdown, metrics, attribution, stopped_reason, report_path)
     values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)
     on conflict (run_id) do update set report_path = coalesce(excluded.report_path, backtest_runs.report_path)
     returning (xmax = 0) as inserted`,
    [
      run.runId,
      run.strategy,
      JSON.stringify(run.params),
      run.symbols,
      run.timeframes,
      run.rangeFrom === undefined ? null : new Date(run.rangeFrom),
      run.rangeTo === undefined ? null : new Date(run.rangeTo),
      run.seed,
      run.startingCash,
      run.orderHash,
      run.barEvents,
      m.trades,
      m.netProfit,
      m.sharpe,
      m.maxDrawdown,
      JSON.stringify(m),
      JSON.stringify(run.attribution),
      run.stoppedReason ?? null,
      run.reportPath ?? null,
    ],
  );
  return { runId: run.runId, inserted: Boolean((res.rows[0] as { inserted: boolean }).inserted) };
}

export interface BacktestRunRow {
  readonly runId: string;
  readonly strategy: string;
  readonly orderHash: string;
  readonly trades: number;
  readonly netProfit: number;
  readonly sharpe: number | null;
  readonly maxDrawdown: number;
  readonly recordedAt: Date;
  readonly reportPath: string | null;
}

export async function listBacktestRuns(pool: Pool, limit = 20): Promise<BacktestRunRow[]> {
  const r = await pool.query<{
    run_id: string;
    strategy: string;
    order_hash: string;
    trades: number;
    net_profit: number;
    sharpe: number | null;
    max_drawdown: number;
    recorded_at: Date;
    report_path: string | null;
  }>(
    'select run_id, strategy, order_hash, trades, net_profit, sharpe, max_drawdown, recorded_at, report_path from backtest_runs order by recorded_at desc, run_id limit $1',
    [limit],
  );
  return r.rows.map((x) => ({
    runId: x.run_id,
    strategy: x.strategy,
    orderHash: x.order_hash,
    trades: x.trades,
    netProfit: x.net_profit,
    sharpe: x.sharpe,
    maxDrawdown: x.max_drawdown,
    recordedAt: x.recorded_at,
    reportPath: x.report_path,
  }));
}
