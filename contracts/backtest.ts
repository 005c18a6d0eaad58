/**
 * What crosses the backtest activity's boundary (io queue): plain JSON, dates as YYYY-MM-DD strings.
 */
import { z } from 'zod';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export const RunBacktestInputSchema = z.object({
  symbols: z.array(z.string().min(1)).min(1),
  timeframes: z.array(z.enum(['1m', '5m', '15m', '1h', '1d'])).min(1),
  /** first day, inclusive */
  from: z.string().regex(DATE).optional(),
  /** day after the last, exclusive */
  to: z.string().regex(DATE).optional(),
  /** 'db' reads the bars table; 'csv' the shared-data folder the worker was given */
  barsFrom: z.enum(['db', 'csv']),
  csvSource: z.string().min(1).optional(),
  startingCash: z.number().positive().default(100_000),
  seed: z.number().int().default(1),
  monteCarloRuns: z.number().int().positive().max(100_000).default(1000),
  /** report file name inside the worker's report folder (no path separators) */
  reportName: z
    .string()
    .regex(/^[A-Za-z0-9._-]+\.html$/)
    .optional(),
  /** record the run in backtest_runs */
  save: z.boolean().default(true),
});
export type RunBacktestInput = z.input<typeof RunBacktestInputSchema>;

export interface RunBacktestResult {
  readonly runId?: string;
  readonly orderHash: string;
  readonly barEvents: number;
  readonly trades: number;
  readonly netProfit: number;
  readonly sharpe: number | null;
  readonly maxDrawdown: number;
  readonly reportPath?: string;
  readonly stopped?: string;
}

export interface BacktestActivities {
  runBacktest(input: RunBacktestInput): Promise<RunBacktestResult>;
}
