/**
 * The daily routines' own steps on the io queue (workflows/daily-routines.workflow.ts): pin the day's model at
 * the open, check the day's stored minutes, build and store the day's report, and the retrain trigger hook
 * after the close. Thin: validate, call src/, map errors.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { RoutineActivities } from '../contracts/session';
import { NYSE } from '../src/market/calendar';
import { ModelRegistry } from '../src/models/registry/registry';
import { buildDayReport } from '../src/session/day-report';
import type { BarSource } from '../src/storage/bar-store';
import { saveDayReport, sessionOutcome } from '../src/storage/day-report-repo';

export interface RoutineActivityDeps {
  readonly pool: Pool;
  readonly bars: BarSource;
  /** the model registry's artifact directory */
  readonly artifactDir: string;
  /** starts the day's learning cycle of every model name in use (src/learning/trigger.ts) */
  readonly learning?: (
    date: string,
  ) => Promise<ReadonlyArray<{ name: string; workflowId: string; started: boolean }>>;
}

const validation = (message: string) => ApplicationFailure.nonRetryable(message, 'ValidationError');

export function createRoutineActivities(deps: RoutineActivityDeps): RoutineActivities {
  return {
    async preMarketModel({ modelId }) {
      const registry = new ModelRegistry(deps.pool, deps.artifactDir);
      let rec;
      try {
        rec = await registry.resolveRef(modelId);
      } catch (e) {
        throw validation((e as Error).message);
      }
      // `champion` with no champion anywhere: the session trades the indicator fallback, and says so
      if (!rec) return { modelId: null, note: 'no champion in the registry: the indicator fallback trades' };
      const pinned = modelId.trim().startsWith('champion')
        ? `champion of ${rec.name} at the open: `
        : 'model ';
      return { modelId: rec.id, note: `${pinned}${rec.id}` };
    },

    async sessionUniverse({ sessionId }) {
      const { rows } = await deps.pool.query<{ universe: string[] | null }>(
        `select state->'universe' as universe from session_reports where session_id = $1`,
        [sessionId],
      );
      const u = rows[0]?.universe;
      return Array.isArray(u) && u.length ? u : null;
    },

    async validateDay({ date, symbols }) {
      const day = NYSE.sessionFor(date);
      if (!day) throw validation(`date: ${date} is not an NYSE trading day`);
      const expected = (day.closeMs - day.openMs) / 60_000;
      const { rows } = await deps.pool.query<{ symbol: string; n: string }>(
        `select symbol, count(*)::text as n from bars where timeframe = '1m' and symbol = any($1)
            and ts >= $2 and ts < $3 group by symbol`,
        [symbols, new Date(day.openMs), new Date(day.closeMs)],
      );
      const stored = new Map(rows.map((r) => [r.symbol, Number(r.n)]));
      const missing: Record<string, number> = {};
      for (const s of symbols) missing[s] = expected - (stored.get(s) ?? 0);
      return { expectedMinutes: expected, missing };
    },

    async dayReport({ date, account, mode, sessionId, orders, data, flat }) {
      const day = NYSE.sessionFor(date);
      if (!day) throw validation(`date: ${date} is not an NYSE trading day`);
      const symbols = [...new Set(orders.map((o) => o.symbol))];
      // the day's bars (and the previous evening's, for a decision at the open) give each order's arrival price
      const bars = symbols.length
        ? await deps.bars.barsBetween(symbols, day.openMs - 86_400_000, day.closeMs)
        : [];
      const bySymbol = new Map<string, Array<{ closeAt: number; close: number }>>();
      for (const b of bars) {
        const list = bySymbol.get(b.symbol) ?? [];
        list.push({ closeAt: b.ts + 60_000, close: b.close });
        bySymbol.set(b.symbol, list);
      }
      const arrival = (symbol: string, decidedAt: number) => {
        const list = bySymbol.get(symbol);
        if (!list) return undefined;
        let lo = 0;
        let hi = list.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (list[mid]!.closeAt <= decidedAt) lo = mid + 1;
          else hi = mid;
        }
        return lo > 0 ? list[lo - 1]!.close : undefined;
      };
      const report = buildDayReport({
        date,
        account,
        mode,
        sessionId,
        tradedModels: (
          await deps.pool.query<{ model_id: string }>(
            `select distinct model_id from predictions where source = $1 and role = 'traded' order by 1`,
            [sessionId],
          )
        ).rows.map((r) => r.model_id),
        orders,
        arrival,
        session: await sessionOutcome(deps.pool, sessionId),
        data,
        flat,
      });
      await saveDayReport(deps.pool, report);
      return report;
    },

    async postMarketRetrainHook({ date, account }) {
      // Continuous learning: the day's learning cycle per model name in use decides (drift, realised against
      // expected performance, shadow records) whether to retrain, promote or reject.
      if (!deps.learning)
        return {
          triggered: false,
          note: `retrain trigger for ${account} ${date}: no learning loop on this worker`,
        };
      const started = await deps.learning(date);
      if (!started.length)
        return { triggered: false, note: `no model in use: no learning cycle for ${date}` };
      return {
        triggered: started.some((c) => c.started),
        note: started.map((c) => `${c.workflowId} ${c.started ? 'started' : 'already started'}`).join(', '),
      };
    },
  };
}
