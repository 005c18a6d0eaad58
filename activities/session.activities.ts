import { ApplicationFailure } from '@temporalio/activity';
import type { SessionMetrics } from '../src/monitoring/session-metrics';
import type { Pool } from 'pg';
import type { ExecAlgoActivities } from '../contracts/exec-algo';
import type { DecideResult, SessionActivities } from '../contracts/session';
import { NYSE } from '../src/market/calendar';
import type { BarSource } from '../src/session/bar-source';
import { sizingFor } from '../src/session/cycle';
import { StrategyHost, type HostPortfolio } from '../src/session/strategy-host';
import { packCommands } from '../src/session/packed-commands';
import { volumeCurve } from '../src/session/exec-algos';
import { createStrategy } from '../src/strategy/registry';

export interface SessionActivityDeps {
  readonly bars: BarSource;
  /** Reports and control audit; optional so a worker without a database still trades. */
  readonly pool?: Pool;
  /** Decision latency and data freshness to /metrics (the worker wires prometheusSessionMetrics). */
  readonly metrics?: SessionMetrics;
}

interface JournalRow {
  readonly portfolio: HostPortfolio;
  readonly maxPositionPct: number;
}

/** Where each decision's inputs are kept so a lost strategy state can be rebuilt: Postgres, else this process. */
interface DecisionJournal {
  write(sessionId: string, closeTs: number, row: JournalRow): Promise<void>;
  /** rows with close_ts <= untilTs, ascending */
  read(sessionId: string, untilTs: number): Promise<Array<{ closeTs: number; row: JournalRow }>>;
}

function decisionJournal(pool: Pool | undefined): DecisionJournal {
  if (pool)
    return {
      async write(sessionId, closeTs, row) {
        await pool.query(
          `insert into strategy_journal (session_id, close_ts, portfolio) values ($1, $2, $3)
           on conflict (session_id, close_ts) do update set portfolio = excluded.portfolio`,
          [sessionId, closeTs, JSON.stringify(row)],
        );
      },
      async read(sessionId, untilTs) {
        const { rows } = await pool.query<{ close_ts: string; portfolio: JournalRow }>(
          `select close_ts, portfolio from strategy_journal where session_id = $1 and close_ts <= $2 order by close_ts`,
          [sessionId, untilTs],
        );
        return rows.map((r) => ({ closeTs: Number(r.close_ts), row: r.portfolio }));
      },
    };
  const mem = new Map<string, Map<number, JournalRow>>();
  return {
    async write(sessionId, closeTs, row) {
      const m = mem.get(sessionId) ?? new Map<number, JournalRow>();
      m.set(closeTs, structuredClone(row));
      mem.set(sessionId, m);
    },
    async read(sessionId, untilTs) {
      return [...(mem.get(sessionId) ?? new Map<number, JournalRow>()).entries()]
        .filter(([ts]) => ts <= untilTs)
        .sort(([a], [b]) => a - b)
        .map(([closeTs, row]) => ({ closeTs, row }));
    },
  };
}

interface HostEntry {
  readonly host: StrategyHost;
  readonly openMs: number;
  last?: DecideResult;
}

/** Strategy hosts kept per worker process (one per live session; the oldest is dropped beyond this). */
const MAX_HOSTS = 32;

/** io task queue: session preparation, per-bar decisions (bars → strategy → commands), reports, audit. */
export function createSessionActivities(
  deps: SessionActivityDeps,
): SessionActivities & Pick<ExecAlgoActivities, 'recordExecutionQuality'> {
  const hosts = new Map<string, HostEntry>();
  const journal = decisionJournal(deps.pool);

  /**
   * A fresh strategy stepped through the journaled decisions before this one, over the stored bars. The
   * strategy is deterministic, so its state equals the one the lost host had.
   */
  const rebuild = async (input: Parameters<SessionActivities['decideCycle']>[0]): Promise<HostEntry> => {
    const session = NYSE.sessionFor(input.date);
    if (!session)
      throw ApplicationFailure.nonRetryable(
        `date: ${input.date} is not an NYSE trading day`,
        'ValidationError',
      );
    let strategy;
    try {
      strategy = createStrategy(input.strategy);
    } catch (e) {
      throw ApplicationFailure.nonRetryable(e instanceof Error ? e.message : String(e), 'ValidationError');
    }
    const host = new StrategyHost(strategy, {
      session: input.sessionId,
      symbols: input.symbols,
      seed: input.seed,
      sizing: sizingFor(input.limits),
    });
    const rows =
      input.prevDecisionTs === null ? [] : await journal.read(input.sessionId, input.prevDecisionTs);
    if (input.prevDecisionTs !== null && rows[rows.length - 1]?.closeTs !== input.prevDecisionTs)
      throw ApplicationFailure.nonRetryable(
        `decideCycle: the decision journal of session ${input.sessionId} ends before ${new Date(input.prevDecisionTs).toISOString()}; its strategy state cannot be rebuilt`,
        'StateLostError',
      );
    host.append(await deps.bars.barsBetween(input.symbols, session.openMs - 1, input.barTs));
    for (const { closeTs, row } of rows)
      host.step(closeTs, row.portfolio, sizingFor({ ...input.limits, maxPositionPct: row.maxPositionPct }));
    const entry: HostEntry = { host, openMs: session.openMs };
    hosts.set(input.sessionId, entry);
    if (hosts.size > MAX_HOSTS) hosts.delete(hosts.keys().next().value!);
    return entry;
  };

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

    async decideCycle(input) {
      const t0 = performance.now();
      const at = input.barTs + input.barMs;
      const sizing = sizingFor(input.limits);
      let entry = hosts.get(input.sessionId);
      // A retry of a decision this worker already made returns the same answer without stepping again.
      if (entry && entry.host.lastCloseTs === at && entry.last) return entry.last;
      if (!entry || entry.host.lastCloseTs !== input.prevDecisionTs) entry = await rebuild(input);
      await journal.write(input.sessionId, at, {
        portfolio: input.portfolio,
        maxPositionPct: input.limits.maxPositionPct,
      });
      // New bars: a small window back, so a bar that reached the store late is still picked up.
      const loaded = entry.host.loadedUntil;
      const after = loaded === null ? entry.openMs - 1 : Math.min(loaded, input.barTs - 5 * input.barMs);
      entry.host.append(await deps.bars.barsBetween(input.symbols, after, input.barTs));
      const out = entry.host.step(at, input.portfolio, sizing);
      const prices: Record<string, number> = {};
      for (const o of input.portfolio.openOrders) {
        const px = entry.host.lastClose(o.symbol);
        if (px !== undefined) prices[o.symbol] = px;
      }
      const staleData: Record<string, number | null> = {};
      for (const s of input.symbols) {
        const ts = out.lastDataTs[s];
        if (ts !== at) staleData[s] = ts ?? null;
      }
      let avgVolume: Record<string, number> | undefined;
      if (input.avgVolumeBars) {
        avgVolume = {};
        for (const c of out.commands) {
          if (c.kind !== 'submit' || avgVolume[c.order.symbol] !== undefined) continue;
          const v = entry.host.avgVolume(c.order.symbol, input.avgVolumeBars);
          if (v !== undefined) avgVolume[c.order.symbol] = Math.round(v);
        }
      }
      const result: DecideResult = {
        commands: packCommands(out.commands),
        volatilityRatio: out.volatilityRatio,
        staleData,
        prices,
        ...(avgVolume ? { avgVolume } : {}),
      };
      entry.last = result;
      deps.metrics?.decided({
        timeframe: '1m',
        seconds: (performance.now() - t0) / 1000,
        barTs: input.barTs,
        barMs: input.barMs,
        symbols: input.symbols,
      });
      return result;
    },

    async algoVolumeCurve({ symbol, fromTs, slices, intervalMs, lookbackDays }) {
      const today = NYSE.sessionFor(fromTs);
      if (!today)
        throw ApplicationFailure.nonRetryable(
          `fromTs: ${new Date(fromTs).toISOString()} is not in a trading session`,
          'ValidationError',
        );
      const offset = fromTs - today.openMs;
      const horizon = slices * intervalMs;
      const days: number[][] = [];
      let day = today;
      for (let d = 0; d < lookbackDays; d++) {
        day = NYSE.previousSession(day.openMs);
        const from = day.openMs + offset;
        const until = Math.min(day.closeMs, from + horizon);
        if (until <= from) continue;
        const bars = await deps.bars.barsBetween([symbol], from - 1, until - 1);
        if (!bars.length) continue;
        // volume per slice window of that day
        const perSlice = new Array<number>(slices).fill(0);
        for (const b of bars) {
          const k = Math.min(slices - 1, Math.floor((b.ts - from) / intervalMs));
          if (k >= 0) perSlice[k]! += b.volume;
        }
        days.push(perSlice);
      }
      // one "minute" per slice: volumeCurve averages the days and falls back to flat without history
      return volumeCurve(days, slices);
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
