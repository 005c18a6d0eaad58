/**
 * Backtest activity (io queue): loads bars (Postgres or the shared-data CSV folder), runs the event-driven
 * backtest with the reference strategy, writes the HTML report and records the run. Heartbeats progress.
 * Deterministic for its input: a retry writes the same report and the same backtest_runs row.
 */
import { join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import {
  RunBacktestInputSchema,
  type BacktestActivities,
  type RunBacktestInput,
  type RunBacktestResult,
} from '../contracts/backtest';
import { runBacktestPipeline } from '../src/backtest/pipeline';
import { TradingError } from '../src/model/errors';

export interface BacktestActivityDeps {
  readonly pool: Pool;
  /** the shared-data folder for barsFrom = 'csv' */
  readonly sharedDataDir?: string;
  /** where reports are written */
  readonly reportDir: string;
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    /* not in an activity (direct calls in tests) */
  }
}

export function createBacktestActivities(deps: BacktestActivityDeps): BacktestActivities {
  return {
    async runBacktest(raw: RunBacktestInput): Promise<RunBacktestResult> {
      const parsed = RunBacktestInputSchema.safeParse(raw);
      if (!parsed.success)
        throw ApplicationFailure.nonRetryable(
          `runBacktest: ${parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ')}`,
          'ValidationError',
        );
      const input = parsed.data;
      if (input.barsFrom === 'csv' && !deps.sharedDataDir)
        throw ApplicationFailure.nonRetryable(
          'barsFrom: csv needs the worker to be given a shared-data folder',
          'ValidationError',
        );
      try {
        const out = await runBacktestPipeline(
          {
            symbols: input.symbols,
            timeframes: input.timeframes,
            from: input.from,
            to: input.to,
            db: input.barsFrom === 'db',
            dataDir: deps.sharedDataDir,
            source: input.csvSource,
            cash: input.startingCash,
            seed: input.seed,
            mcRuns: input.monteCarloRuns,
            report: input.reportName ? join(deps.reportDir, input.reportName) : undefined,
            save: input.save,
          },
          { pool: deps.pool, onProgress: (done, total) => heartbeat({ done, total }) },
        );
        const m = out.metrics;
        return {
          runId: out.runId,
          orderHash: out.result.orderHash,
          barEvents: out.result.barEvents,
          trades: m.trades,
          netProfit: m.netProfit,
          sharpe: m.sharpe,
          maxDrawdown: m.maxDrawdown,
          reportPath: out.reportPath,
          stopped: out.result.stopped?.message,
        };
      } catch (err) {
        if (err instanceof TradingError && !err.retryable)
          throw ApplicationFailure.nonRetryable(err.message, err.name);
        if (err instanceof RangeError) throw ApplicationFailure.nonRetryable(err.message, 'RangeError');
        throw err;
      }
    },
  };
}
