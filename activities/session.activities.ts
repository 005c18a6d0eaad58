import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { ExecAlgoActivities } from '../contracts/exec-algo';
import type { DecideResult, SessionActivities } from '../contracts/session';
import { NYSE, addDays } from '../src/market/calendar';
import { ValidationError } from '../src/model/errors';
import { AuditLog } from '../src/monitoring/audit/audit-log';
import { recordControlAudit } from '../src/monitoring/audit/control-audit';
import type { OperatorResolver } from '../src/monitoring/audit/identity';
import type { SessionMetrics } from '../src/monitoring/session-metrics';
import { quotedSpreadBps, volumeCurve } from '../src/session/exec-algos';
import { TickStore } from '../src/data/tick-store';
import { SessionDecider, StateLostError, type Decision, type DecisionInput } from '../src/session/decider';
import { snapshotAccount, type AccountSnapshot } from '../src/trading/account';
import type { BarSource } from '../src/storage/bar-store';
import {
  decisionJournal,
  previousSessions,
  saveExecutionQuality,
  saveSessionReport,
} from '../src/storage/session-repo';
import { packActions } from '../src/trading/packed-actions';
import type { PredictionPort } from '../src/trading/prediction';
import { sessionWindow } from '../src/trading/warm-up';

export interface SessionActivityDeps {
  readonly bars: BarSource;
  /** Journal, reports and control audit; optional so a worker without a database still trades. */
  readonly pool?: Pool;
  /** Decision latency and data freshness to /metrics (the worker wires prometheusSessionMetrics). */
  readonly metrics?: SessionMetrics;
  /** A session's prediction port over a registered model (sessionModelPorts; sessions trading a model need it). */
  readonly predictions?: (
    modelId: string,
    session: { readonly sessionId: string; readonly tradeFrom: number },
  ) => Promise<PredictionPort>;
  /** Names who sent a control from its history event when the control does not name an operator. */
  readonly operators?: OperatorResolver;
  /** Stored quotes (default: the `quotes` table of `pool`). */
  readonly quotes?: Pick<TickStore, 'readQuotes'>;
}

const validation = (message: string) => ApplicationFailure.nonRetryable(message, 'ValidationError');

/** io task queue: session preparation, per-bar decisions (the trading kernel), reports, audit. */
export function createSessionActivities(
  deps: SessionActivityDeps,
): SessionActivities & Pick<ExecAlgoActivities, 'recordExecutionQuality'> {
  const audit = deps.pool ? new AuditLog(deps.pool) : undefined;
  // the stream stores the focus symbols' quotes: their newest gives an algorithm's spread
  const quotes = deps.quotes ?? (deps.pool ? new TickStore(deps.pool) : undefined);
  const decider = new SessionDecider({
    bars: deps.bars,
    journal: decisionJournal<DecisionInput>(deps.pool),
    predictions: deps.predictions,
  });

  return {
    async prepareSession({ date, candidates, maxSymbols, maxBars, grid: gridKind }) {
      if (!candidates.length) throw validation('candidates: at least one symbol is required');
      const window = sessionWindow(date, candidates);
      if (!window) throw validation(`date: ${date} is not an NYSE trading day`);
      // Universe: most liquid candidates by the previous five days' dollar volume (known before the open).
      const dv = await deps.bars.dollarVolume(candidates, window.openMs - 5 * 86_400_000, window.openMs);
      const universe = [...candidates]
        .sort((a, b) => (dv.get(b) ?? 0) - (dv.get(a) ?? 0) || (a < b ? -1 : 1))
        .slice(0, maxSymbols)
        .sort();
      // The cycle grid: a replayed day's minutes with stored bars, or every minute of a live trading window.
      const grid =
        gridKind === 'stored'
          ? await deps.bars.barTimes(universe, window.openMs, window.closeMs)
          : Array.from(
              { length: (window.closeMs - window.openMs) / 60_000 },
              (_, i) => window.openMs + i * 60_000,
            );
      const barTimes = maxBars ? grid.slice(0, maxBars) : grid;
      // a day cut short (maxBars, or a replayed day whose stored bars end early) ends at its last bar's close
      const end = barTimes.length ? barTimes[barTimes.length - 1]! + 60_000 : window.closeMs;
      return { universe, barTimes, barMs: 60_000, dayEndsAt: end < window.closeMs ? end : null };
    },

    async sessionAnchors({ account, mode, date, equity }) {
      if (!deps.pool) return { equity };
      // The month's and quarter's first sessions set their loss anchors; the last four days the PDT window.
      const quarterStart = `${date.slice(0, 4)}-${String(Math.floor((Number(date.slice(5, 7)) - 1) / 3) * 3 + 1).padStart(2, '0')}-01`;
      const rows = await previousSessions(deps.pool, account, mode, date, quarterStart);
      const month = rows.find((r) => r.date.slice(0, 7) === date.slice(0, 7));
      const recent = rows.filter((r) => r.date >= addDays(date, -7)).slice(-4);
      return {
        equity,
        dayStartEquity: equity,
        monthStartEquity: month?.startEquity ?? equity,
        quarterStartEquity: rows[0]?.startEquity ?? equity,
        peakEquity: Math.max(equity, ...rows.map((r) => r.endEquity)),
        priorDayTrades: recent.map((r) => r.dayTrades),
      };
    },

    async decide(input) {
      const t0 = performance.now();
      const window = sessionWindow(input.date, input.symbols);
      if (!window) throw validation(`date: ${input.date} is not an NYSE trading day`);
      const at = input.barTs + input.barMs;
      // paper/live: the stream stores the bar shortly after its close; wait for it (bounded), then decide
      if (input.waitForBarsUntil !== null)
        await waitForBars(deps.bars, input.symbols, input.barTs, input.waitForBarsUntil);
      let out;
      try {
        out = await decider.decide(
          {
            sessionId: input.sessionId,
            symbols: input.symbols,
            strategy: input.strategy,
            seed: input.seed,
            start: input.start,
            tradeFrom: input.tradeFrom,
            dayEndsAt: input.dayEndsAt,
            flattenBeforeCloseMs: input.flattenBeforeCloseMs,
          },
          at,
          input.barTs,
          input.prevDecisionTs,
          { account: input.account, controls: input.controls, modelId: input.modelId },
        );
      } catch (e) {
        if (e instanceof StateLostError) throw ApplicationFailure.nonRetryable(e.message, e.name);
        // a bad strategy spec or limit names its field: no retry can fix it
        if (e instanceof RangeError) throw validation(e.message);
        throw e;
      }
      const { result, kernel } = out;
      if (deps.metrics)
        reportRisk(deps.metrics, out, input.account, input.controls.limits.dailyLossLimit, at);
      let avgVolume: Record<string, number> | undefined;
      if (input.avgVolumeBars) {
        avgVolume = {};
        for (const a of result.actions) {
          if (a.kind !== 'submit' || !a.entry || avgVolume[a.order.symbol] !== undefined) continue;
          const v = kernel.avgVolume(a.order.symbol, input.avgVolumeBars);
          if (v !== undefined) avgVolume[a.order.symbol] = Math.round(v);
        }
      }
      let spreadBps: Record<string, number> | undefined;
      if (input.quoteMaxAgeMs !== undefined && quotes) {
        spreadBps = {};
        for (const a of result.actions) {
          if (a.kind !== 'submit' || !a.entry || spreadBps[a.order.symbol] !== undefined) continue;
          const recent = await quotes.readQuotes(a.order.symbol, at - input.quoteMaxAgeMs, at + 1);
          const bps = quotedSpreadBps(recent[recent.length - 1], at, input.quoteMaxAgeMs);
          if (bps !== null) spreadBps[a.order.symbol] = Math.round(bps * 100) / 100;
        }
      }
      const denied: Record<string, number> = {};
      for (const d of result.denials) denied[d.rule] = (denied[d.rule] ?? 0) + 1;
      const decided: DecideResult = {
        actions: packActions(result.actions),
        mode: result.mode,
        modeReason: result.modeReason,
        denied,
        dayTrades: kernel.dayTrades.today,
        ...(avgVolume ? { avgVolume } : {}),
        ...(spreadBps && Object.keys(spreadBps).length ? { spreadBps } : {}),
      };
      deps.metrics?.decided({
        timeframe: '1m',
        seconds: (performance.now() - t0) / 1000,
        barTs: input.barTs,
        barMs: input.barMs,
        symbols: input.symbols,
      });
      return decided;
    },

    async algoVolumeCurve({ symbol, fromTs, slices, intervalMs, lookbackDays }) {
      const today = NYSE.sessionFor(fromTs);
      if (!today) throw validation(`fromTs: ${new Date(fromTs).toISOString()} is not in a trading session`);
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
      await saveSessionReport(deps.pool, {
        sessionId,
        date,
        account,
        mode,
        dailyPnl: state.dailyPnl ?? 0,
        ordersPlaced: state.ordersPlaced,
        orderHash: state.orderHash,
        killed: state.killed,
        startEquity: state.start.equity,
        dayTrades: state.dayTrades,
        state,
      });
    },

    async recordExecutionQuality({ sessionId, decidedAt, symbol, side, algo, qty, arrivalPrice, result }) {
      if (!deps.pool) return;
      await saveExecutionQuality(deps.pool, {
        sessionId,
        decidedAt,
        symbol,
        side,
        algo,
        qty,
        arrivalPrice,
        filledQty: result.filledQty,
        avgPrice: result.avgPrice,
        slippageBps: result.slippageBps,
        implementationShortfall: result.implementationShortfall,
        children: result.children,
      });
    },

    async recordControl(input) {
      if (!audit) return;
      try {
        await recordControlAudit({ log: audit, operators: deps.operators }, input);
      } catch (e) {
        if (e instanceof RangeError || e instanceof ValidationError) throw validation(e.message);
        throw e;
      }
    },
  };
}

/**
 * The risk engine's state and readings after a decision, what tripped at it and what it denied, and the model it
 * traded on. A retried decision (the same answer again) sets the gauges but counts nothing twice.
 */
function reportRisk(
  metrics: SessionMetrics,
  d: Decision,
  account: AccountSnapshot,
  dailyLossLimit: number,
  at: number,
): void {
  const r = d.kernel.riskReadings(snapshotAccount(account));
  const breaches: string[] = [];
  if (!d.repeated)
    for (let i = d.kernel.riskModeChanges.length - 1; i >= 0; i--) {
      const ev = d.kernel.riskModeChanges[i]!;
      if (ev.ts !== at) break;
      if (ev.to !== 'ACTIVE') breaches.unshift(breakerLimit(ev.reason));
    }
  metrics.riskChecked({
    state: d.result.mode,
    openRiskRatio: r.openRisk,
    drawdownRatio: r.drawdown,
    dailyLossLimitRatio: dailyLossLimit,
    breaches,
    denials: d.repeated ? [] : d.result.denials.map((x) => x.rule),
  });
  metrics.modelInUse(d.modelId);
}

/** The limit a breaker's reason names (src/risk/engine.ts evaluateMode, the kernel's crisis rule). */
function breakerLimit(reason: string): string {
  if (reason.startsWith('daily loss')) return 'daily_loss';
  if (reason.startsWith('monthly loss')) return 'monthly_loss';
  if (reason.startsWith('quarterly loss')) return 'quarterly_loss';
  if (reason.startsWith('volatility')) return 'volatility';
  if (reason.startsWith('regime')) return 'regime_crisis';
  if (reason.includes('operator')) return 'manual_halt';
  return 'other';
}

/** Polls the store until every symbol has its bar of `barTs`, or the wall clock reaches `until`. */
async function waitForBars(
  bars: BarSource,
  symbols: readonly string[],
  barTs: number,
  until: number,
): Promise<void> {
  for (;;) {
    const have = new Set((await bars.barsBetween(symbols, barTs - 1, barTs)).map((b) => b.symbol));
    if (have.size >= symbols.length || Date.now() >= until) return;
    heartbeatIfInActivity();
    // a short poll: the decision (and its order) follows the bar by this much more at most
    await new Promise((r) => setTimeout(r, Math.min(10, Math.max(2, until - Date.now()))));
  }
}

function heartbeatIfInActivity(): void {
  try {
    heartbeat();
  } catch {
    // called outside an activity (tests driving the cycle in process)
  }
}
