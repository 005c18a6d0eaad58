import { ApplicationFailure } from '@temporalio/activity';
import type { SessionMetrics } from '../src/monitoring/session-metrics';
import type { Pool } from 'pg';
import type { ExecAlgoActivities } from '../contracts/exec-algo';
import type { SessionActivities } from '../contracts/session';
import { NYSE } from '../src/market/calendar';
import type { BarSource } from '../src/session/bar-source';
import { smaTrendDecisions } from '../src/session/sma-trend';

export interface SessionActivityDeps {
  readonly bars: BarSource;
  /** Reports and control audit; optional so a worker without a database still trades. */
  readonly pool?: Pool;
  /** Decision latency and data freshness to /metrics (the worker wires prometheusSessionMetrics). */
  readonly metrics?: SessionMetrics;
}

/** io task queue: session preparation, per-bar decisions (bars → strategy → targets), reports, audit. */
export function createSessionActivities(
  deps: SessionActivityDeps,
): SessionActivities & Pick<ExecAlgoActivities, 'recordExecutionQuality'> {
  return {
    async prepareSession({ date, candidates, maxSymbols, maxBars }) {
      const session = NYSE.sessionFor(date);
      if (!session)
        throw ApplicationFailure.nonRetryable(`date: ${date} is not an NYSE trading day`, 'ValidationError');
      if (!candidates.length)
        throw ApplicationFailure.nonRetryable(
          'candidates: at least one symbol is required',
          'ValidationError',
        );
      // Universe: most liquid candidates by the previous five days' dollar volume (known before the open).
      const dv = await deps.bars.dollarVolume(candidates, session.openMs - 5 * 86_400_000, session.openMs);
      const universe = [...candidates]
        .sort((a, b) => (dv.get(b) ?? 0) - (dv.get(a) ?? 0) || (a < b ? -1 : 1))
        .slice(0, maxSymbols)
        .sort();
      const times = await deps.bars.barTimes(universe, session.openMs, session.closeMs);
      // The cycle grid is the regular session's minutes; replay limits it to the minutes with stored bars.
      const grid = times.length ? times : [];
      return { universe, barTimes: maxBars ? grid.slice(0, maxBars) : grid, barMs: 60_000 };
    },

    async decideCycle({ barTs, symbols, positions, equity, strategy }) {
      const t0 = performance.now();
      const bars = await deps.bars.recentBars(symbols, barTs, strategy.slow + 2);
      const decisions = smaTrendDecisions(bars, strategy, equity, positions);
      deps.metrics?.decided({
        timeframe: '1m',
        seconds: (performance.now() - t0) / 1000,
        barTs,
        barMs: 60_000,
        symbols,
      });
      return decisions;
    },

    async recordSessionReport({ sessionId, date, account, mode, state }) {
      if (!deps.pool) return;
      await deps.pool.query(
        `insert into session_reports (session_id, session_date, account, mode, daily_pnl, orders_placed, order_hash, killed, state)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (session_id) do update set daily_pnl = excluded.daily_pnl, orders_placed = excluded.orders_placed,
           order_hash = excluded.order_hash, killed = excluded.killed, state = excluded.state, recorded_at = now()`,
        [
          sessionId,
          date,
          account,
          mode,
          state.dailyPnl ?? 0,
          state.ordersPlaced,
          state.orderHash,
          state.killed,
          JSON.stringify(state),
        ],
      );
    },

    async recordExecutionQuality({ sessionId, decidedAt, symbol, side, algo, qty, arrivalPrice, result }) {
      if (!deps.pool) return;
      await deps.pool.query(
        `insert into execution_quality (parent_key, session_id, symbol, side, algo, qty, filled_qty, arrival_price, avg_price, slippage_bps, implementation_shortfall, children)
         values ($12, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         on conflict (parent_key) do update set filled_qty = excluded.filled_qty, avg_price = excluded.avg_price,
           slippage_bps = excluded.slippage_bps, implementation_shortfall = excluded.implementation_shortfall, children = excluded.children`,
        [
          sessionId,
          symbol,
          side,
          algo,
          qty,
          result.filledQty,
          arrivalPrice,
          result.avgPrice,
          result.slippageBps,
          result.implementationShortfall,
          JSON.stringify(result.children),
          `${sessionId}:${decidedAt}:${symbol}`,
        ],
      );
    },

    async recordControl({ sessionId, action, detail, workflowId, runId }) {
      if (!deps.pool) return;
      await deps.pool.query(
        `insert into audit_log (actor, action, subject, reason, details, workflow_id, run_id) values ($1, $2, $3, $4, $5, $6, $7)`,
        ['trading-session', action, sessionId, detail, JSON.stringify({ sessionId }), workflowId, runId],
      );
    },
  };
}
