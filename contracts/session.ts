import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OrderSpec } from '../src/model/order';
import type { HostPortfolio } from '../src/session/strategy-host';
import type { StrategySpec } from '../src/strategy/registry';
import type { PackedCommands } from '../src/session/packed-commands';

export type { StrategySpec } from '../src/strategy/registry';

/**
 * What crosses the TradingSession workflow boundary: plain JSON only (epoch-ms numbers, arrays, no Map/Date/
 * class instances), so state survives continue-as-new and histories replay. Credentials never appear here:
 * workers read them from the environment.
 */
export type SessionMode = 'replay' | 'paper' | 'live';
export type RiskState = 'ACTIVE' | 'REDUCING' | 'HALTED';

export interface SessionRiskLimits {
  /** Largest position, as a fraction of equity (0..1]. */
  readonly maxPositionPct: number;
  /** Sum of |position value| over equity (0..). */
  readonly maxGrossExposurePct: number;
  /** Daily loss (fraction of start-of-day equity) that halts the session and flattens. */
  readonly maxDailyLossPct: number;
  /** Largest single order notional, dollars. */
  readonly maxOrderNotional: number;
  /** Cap on orders per cycle (a runaway strategy cannot flood the broker). */
  readonly maxOrdersPerCycle: number;
}

export const DEFAULT_SESSION_LIMITS: SessionRiskLimits = {
  maxPositionPct: 0.05,
  maxGrossExposurePct: 1,
  maxDailyLossPct: 0.03,
  maxOrderNotional: 25_000,
  maxOrdersPerCycle: 200,
};

/**
 * How the session sends an approved order. An entry at or above `algoMinNotional` dollars is too large to send
 * at once: it goes to an execution-algorithm child workflow (TWAP, or VWAP on the symbol's historical volume
 * curve) that works it in `slices` over time. Exits and flattens always go at once (a risk-reducing order
 * must not wait). The default threshold lies above the default sizing (5% of $100k), so a default session
 * sends every order at once, exactly as the backtester does.
 */
export interface ExecutionRouting {
  /** entries of at least this notional (dollars) go to an algorithm; null: never */
  readonly algoMinNotional: number | null;
  /**
   * entries larger than this fraction of the symbol's average 1m volume (over the last `volumeBars` bars) go to
   * an algorithm too, whatever their notional; null: no participation rule
   */
  readonly algoMaxParticipation: number | null;
  /** bars the average volume of the participation rule is taken over */
  readonly volumeBars: number;
  readonly algo: 'twap' | 'vwap';
  readonly slices: number;
  /** ms between slices; default: one bar (paper/live), or max(1 s, replayBarDelayMs) in replay */
  readonly intervalMs?: number;
  readonly urgency: 'low' | 'normal' | 'high';
  /**
   * Assumed quoted spread in basis points for the market vs marketable-limit choice (1m bars carry no quotes;
   * the choice then follows urgency and this figure).
   */
  readonly spreadBps: number;
  /** VWAP: sessions of history the volume curve is averaged over */
  readonly volumeLookbackDays: number;
}

export const DEFAULT_EXECUTION_ROUTING: ExecutionRouting = {
  algoMinNotional: 10_000,
  algoMaxParticipation: null,
  volumeBars: 30,
  algo: 'twap',
  slices: 5,
  urgency: 'normal',
  spreadBps: 5,
  volumeLookbackDays: 10,
};

/** An execution algorithm the session started and has not heard back from (carried across continue-as-new). */
export interface AlgoInFlight {
  readonly workflowId: string;
  /** the approved order's client order id; the strategy sees it as one open order while the algorithm works */
  readonly parentId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  /** the position when the algorithm started: fills since then are its progress */
  readonly startQty: number;
  /** how many slices it may send (their ids are deterministic) */
  readonly slices: number;
  /** workflow time after which the session stops waiting for the algorithm's done signal */
  readonly until: number;
}

/** The session's default strategy (cheap, trades often); `reference-ai` is the production one. */
export const DEFAULT_STRATEGY: StrategySpec = { name: 'sma-trend', fast: 3, slow: 8, weight: 0.04 };

export interface SessionInput {
  /** Unique per account and day, e.g. `sess-2024-03-12-paper`; prefix of every client order id. */
  readonly sessionId: string;
  readonly account: string;
  readonly mode: SessionMode;
  /** Exchange date YYYY-MM-DD (America/New_York). */
  readonly date: string;
  /** Candidate symbols; universe selection picks at most maxSymbols of them. */
  readonly candidates: readonly string[];
  readonly maxSymbols?: number;
  readonly modelId?: string;
  /** The strategy, by name and parameters: the same spec a backtest is given (src/strategy/registry). */
  readonly strategy?: StrategySpec;
  /** Seed of the strategy's PRNG (ctx.random), as in a backtest; default 1. */
  readonly seed?: number;
  readonly limits?: SessionRiskLimits;
  /** How approved orders are sent (at once, or through TWAP/VWAP); defaults: DEFAULT_EXECUTION_ROUTING. */
  readonly execution?: Partial<ExecutionRouting>;
  /** Replay: wall-ms per bar (the timer); paper/live use the bar close on the workflow clock. */
  readonly replayBarDelayMs?: number;
  /** Settle delay after a bar closes before deciding (paper/live), ms. */
  readonly settleMs?: number;
  /** Limit the day to the first N bars (tests, demos). */
  readonly maxBars?: number;
  /** Bars before the last at which intraday positions are flattened (default 2). */
  readonly flattenBarsBeforeClose?: number;
  /** Test-only: continue-as-new after this many cycles in one run (production relies on the server's suggestion). */
  readonly continueAsNewAfterCycles?: number;
  /** Activity start-to-close timeout, ms (default 30 s); chaos tests lower it so a killed worker's task retries fast. */
  readonly activityTimeoutMs?: number;
  /** Task queues for the activities; default TASK_QUEUES.io / TASK_QUEUES.execution. */
  readonly taskQueues?: { readonly io?: string; readonly execution?: string };
  /** Carried state on continue-as-new; absent on the first run. */
  readonly carried?: SessionState;
}

export interface SessionPosition {
  readonly symbol: string;
  readonly qty: number;
  readonly avgEntryPrice: number;
  readonly marketValue: number;
  /** the broker's last price for the symbol (the risk engine values positions at it) */
  readonly currentPrice: number;
}

/** An open order as the session sees it (for the strategy's view and the risk engine's pending entries). */
export interface SessionOpenOrder {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly filledQty: number;
  readonly limitPrice: number | null;
  /** a leg of a bracket/OCO (its parent carries the risk) */
  readonly child: boolean;
  /** a flatten the session itself just raised (never a pending entry) */
  readonly exit?: boolean;
}

export interface ControlRecord {
  readonly at: number;
  readonly action: string;
  readonly detail: string;
}

export interface SessionState {
  readonly universe: readonly string[];
  readonly barTimes: readonly number[];
  readonly barMs: number;
  /** index into barTimes of the next bar to process */
  readonly nextBar: number;
  readonly paused: boolean;
  readonly killed: boolean;
  readonly liquidateRequested: boolean;
  readonly riskState: RiskState;
  /** why the risk engine's breakers put the session in riskState */
  readonly riskReason: string;
  readonly limits: SessionRiskLimits;
  readonly limitsVersion: number;
  readonly positions: readonly SessionPosition[];
  readonly openOrders: readonly SessionOpenOrder[];
  readonly startEquity: number;
  readonly equity: number;
  readonly cash: number;
  readonly buyingPower: number;
  readonly peakEquity: number;
  /** per symbol: when the position was first seen open today (epoch ms), for the strategy and the PDT count */
  readonly openedAt: Readonly<Record<string, number>>;
  /** positions opened and closed the same day (pattern-day-trader rule) */
  readonly dayTrades: number;
  /** protective stops of open positions, from the strategy's submit commands (open-risk limit) */
  readonly riskStops: Readonly<Record<string, number>>;
  /** close time of the bar the strategy last decided on; the decide activity checks it is in step */
  readonly lastDecisionTs: number | null;
  readonly lastBarTs: number | null;
  readonly ordersPlaced: number;
  /** FNV-1a over the placed orders' `id|symbol|side|qty|type` lines: the backtester's order hash (parity) */
  readonly orderHash: string;
  readonly deniedCount: number;
  readonly runs: number;
  readonly cycles: number;
  readonly controls: readonly ControlRecord[];
  readonly done: boolean;
  readonly dailyPnl: number | null;
  /** execution algorithms working an order now */
  readonly algos: readonly AlgoInFlight[];
  /** Replay: the portfolio at the start of bar `barTs`, fetched by the previous cycle's submit call. */
  readonly prefetched: { readonly barTs: number; readonly snapshot: PortfolioSnapshot } | null;
}

export interface SessionStatus {
  readonly sessionId: string;
  readonly mode: SessionMode;
  readonly account: string;
  readonly date: string;
  readonly modelId: string | null;
  readonly state: SessionState;
}

export interface SessionResult {
  readonly sessionId: string;
  readonly ordersPlaced: number;
  readonly orderHash: string;
  readonly dailyPnl: number;
  readonly finalPositions: readonly SessionPosition[];
  readonly killed: boolean;
  readonly runs: number;
}

// ---- activity contracts -----------------------------------------------------------------------------------

/** What the strategy decided at one bar close: commands for the risk gate, plus the breakers' inputs. */
export interface DecideResult {
  /** the strategy's commands in its order, packed (src/session/packed-commands.ts) to keep the history small */
  readonly commands: PackedCommands;
  readonly volatilityRatio: number;
  /**
   * The symbols whose newest bar does not close at this decision, with that bar's close time (null: no bar
   * yet); every other symbol has fresh data. Only the exceptions travel, to keep the history small.
   */
  readonly staleData: Readonly<Record<string, number | null>>;
  /** last close of symbols with open orders (their pending entries are valued at it) */
  readonly prices: Readonly<Record<string, number>>;
  /** average 1m volume of the symbols the commands submit for (only when the decide input asked for it) */
  readonly avgVolume?: Readonly<Record<string, number>>;
}

/** An order the workflow approved, as the execution activity submits it. */
export type PlannedOrder = Omit<OrderSpec, 'tag'> & {
  /** the price risk was evaluated at (last close) */
  readonly refPrice: number;
  readonly reason: string;
};

export interface OrderAck {
  readonly clientOrderId: string;
  readonly brokerOrderId: string | null;
  readonly status: string;
  readonly alreadyExisted: boolean;
  readonly rejected: string | null;
}

export interface SubmitOrdersResult {
  readonly acks: readonly OrderAck[];
  /** the portfolio after advancing the replay (only when advanceReplayTo was given) */
  readonly portfolio: PortfolioSnapshot | null;
}

export interface PortfolioSnapshot {
  readonly equity: number;
  readonly cash: number;
  readonly buyingPower: number;
  readonly positions: readonly SessionPosition[];
  readonly openOrders: number;
  readonly orders: readonly SessionOpenOrder[];
}

export interface PreOpenResult {
  readonly universe: readonly string[];
  readonly barTimes: readonly number[];
  readonly barMs: number;
}

/** io task queue */
export interface SessionActivities {
  prepareSession(input: {
    date: string;
    candidates: readonly string[];
    maxSymbols: number;
    maxBars: number | null;
  }): Promise<PreOpenResult>;
  /**
   * Steps the session's strategy at the close of bar `barTs` (loads the new bars, runs the strategy as the
   * backtester does) and returns its commands. `prevDecisionTs` is the close time of the previous decision:
   * a worker whose strategy state is not there rebuilds it from the decision journal first.
   */
  decideCycle(input: {
    sessionId: string;
    date: string;
    barTs: number;
    barMs: number;
    prevDecisionTs: number | null;
    symbols: readonly string[];
    portfolio: HostPortfolio;
    strategy: StrategySpec;
    seed: number;
    limits: SessionRiskLimits;
    modelId: string | null;
    /** return the average volume over this many bars of every symbol a command submits for */
    avgVolumeBars?: number;
  }): Promise<DecideResult>;
  /**
   * VWAP: relative volume per slice for the window an algorithm will work (from `fromTs`, `slices` ×
   * `intervalMs`), averaged over the same minutes of the previous `lookbackDays` sessions in the store.
   */
  algoVolumeCurve(input: {
    symbol: string;
    fromTs: number;
    slices: number;
    intervalMs: number;
    lookbackDays: number;
  }): Promise<number[]>;
  recordSessionReport(input: {
    sessionId: string;
    date: string;
    account: string;
    mode: SessionMode;
    state: SessionState;
  }): Promise<void>;
  recordControl(input: {
    sessionId: string;
    action: string;
    detail: string;
    workflowId: string;
    runId: string;
  }): Promise<void>;
}

/** execution task queue */
export interface ExecutionActivities {
  reconcile(input: { sessionId: string }): Promise<PortfolioSnapshot>;
  advanceReplay(input: { untilTs: number }): Promise<void>;
  /**
   * Places the orders (exactly once each). Replay: with advanceReplayTo, then plays the next bar and returns the
   * portfolio at its start, which saves the next cycle a round trip.
   */
  submitOrders(input: {
    sessionId: string;
    orders: readonly PlannedOrder[];
    advanceReplayTo?: number | null;
  }): Promise<SubmitOrdersResult>;
  /** advanceReplayTo: replay mode plays the bars up to this ts on the simulator first. */
  syncPortfolio(input: { sessionId: string; advanceReplayTo?: number | null }): Promise<PortfolioSnapshot>;
  /**
   * Cancels open orders: those with the given client order ids when `clientOrderIds` is set, else those of
   * `symbols` when given, else all (bracket legs go with their parent). Returns how many it canceled.
   */
  cancelOpenOrders(input: {
    reason: string;
    symbols?: readonly string[];
    clientOrderIds?: readonly string[];
  }): Promise<number>;
  flattenAll(input: { reason: string }): Promise<number>;
  verifyFlat(
    input: Record<string, never>,
  ): Promise<{ flat: boolean; positions: readonly SessionPosition[]; openOrders: number }>;
}

// ---- controls ---------------------------------------------------------------------------------------------

export const pauseUpdate = defineUpdate<SessionStatus, [{ reason: string }]>('pause');
export const resumeUpdate = defineUpdate<SessionStatus, [{ reason: string }]>('resume');
export const setRiskLimitsUpdate = defineUpdate<SessionStatus, [Partial<SessionRiskLimits>]>('setRiskLimits');
export const liquidateUpdate = defineUpdate<SessionStatus, [{ reason: string }]>('liquidate');
export const killSignal = defineSignal<[{ reason: string }]>('kill');
/** From an execution-algorithm child to its session: it has finished (filled, stopped or failed). */
export const algoDoneSignal = defineSignal<[{ parentId: string; filledQty: number }]>('algoDone');
/** From a session (or an emergency shutdown) to an execution algorithm: send no more slices. */
export const algoStopSignal = defineSignal<[{ reason: string }]>('algoStop');
export const EXEC_ALGO_WORKFLOW_TYPE = 'executionAlgoWorkflow';
export const statusQuery = defineQuery<SessionStatus>('status');

export const SESSION_WORKFLOW_TYPE = 'tradingSessionWorkflow';

export function sessionWorkflowId(account: string, date: string, mode: SessionMode): string {
  return `session-${account}-${date}-${mode}`;
}

/** Validates a session's execution routing; returns the problem with the field name, or undefined. */
export function validateExecutionRouting(r: Partial<ExecutionRouting>): string | undefined {
  const known = [...Object.keys(DEFAULT_EXECUTION_ROUTING), 'intervalMs'];
  for (const k of Object.keys(r))
    if (!known.includes(k)) return `execution.${k}: unknown setting (known: ${known.join(', ')})`;
  const positive = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;
  if (r.algoMinNotional !== undefined && r.algoMinNotional !== null && !positive(r.algoMinNotional))
    return `execution.algoMinNotional: ${String(r.algoMinNotional)} must be a positive dollar amount or null (never)`;
  if (
    r.algoMaxParticipation !== undefined &&
    r.algoMaxParticipation !== null &&
    !(positive(r.algoMaxParticipation) && r.algoMaxParticipation <= 1)
  )
    return `execution.algoMaxParticipation: ${String(r.algoMaxParticipation)} must be a fraction in (0, 1] or null (no participation rule)`;
  if (
    r.volumeBars !== undefined &&
    !(Number.isInteger(r.volumeBars) && r.volumeBars >= 1 && r.volumeBars <= 390)
  )
    return `execution.volumeBars: ${String(r.volumeBars)} must be an integer in [1, 390]`;
  if (r.algo !== undefined && r.algo !== 'twap' && r.algo !== 'vwap')
    return `execution.algo: "${String(r.algo)}" must be twap or vwap`;
  if (r.slices !== undefined && !(Number.isInteger(r.slices) && r.slices >= 1 && r.slices <= 999))
    return `execution.slices: ${String(r.slices)} must be an integer in [1, 999]`;
  if (r.intervalMs !== undefined && !(positive(r.intervalMs) && r.intervalMs >= 1_000))
    return `execution.intervalMs: ${String(r.intervalMs)} must be at least 1000 ms`;
  if (r.urgency !== undefined && !['low', 'normal', 'high'].includes(r.urgency))
    return `execution.urgency: "${String(r.urgency)}" must be low, normal or high`;
  if (
    r.spreadBps !== undefined &&
    !(typeof r.spreadBps === 'number' && r.spreadBps >= 0 && r.spreadBps < 10_000)
  )
    return `execution.spreadBps: ${String(r.spreadBps)} must be a number in [0, 10000)`;
  if (
    r.volumeLookbackDays !== undefined &&
    !(Number.isInteger(r.volumeLookbackDays) && r.volumeLookbackDays >= 1 && r.volumeLookbackDays <= 250)
  )
    return `execution.volumeLookbackDays: ${String(r.volumeLookbackDays)} must be an integer in [1, 250]`;
  return undefined;
}

/** Validates a limits patch; returns the problem with the field name, or undefined. Pure: used by the validator. */
export function validateLimitsPatch(p: Partial<SessionRiskLimits>): string | undefined {
  const known = Object.keys(DEFAULT_SESSION_LIMITS);
  for (const k of Object.keys(p))
    if (!known.includes(k)) return `${k}: unknown risk limit (known: ${known.join(', ')})`;
  const frac = (k: keyof SessionRiskLimits, max: number) => {
    const v = p[k];
    if (v === undefined) return undefined;
    return typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= max
      ? undefined
      : `${k}: ${String(v)} must be a number in (0, ${max}]`;
  };
  return (
    frac('maxPositionPct', 1) ??
    frac('maxGrossExposurePct', 10) ??
    frac('maxDailyLossPct', 1) ??
    frac('maxOrderNotional', 1e9) ??
    (p.maxOrdersPerCycle !== undefined && !(Number.isInteger(p.maxOrdersPerCycle) && p.maxOrdersPerCycle > 0)
      ? `maxOrdersPerCycle: ${p.maxOrdersPerCycle} must be a positive integer`
      : undefined)
  );
}

// ---- emergency shutdown -------------------------------------------------------------------------------------

export interface EmergencyShutdownInput {
  readonly reason: string;
  readonly requestedBy: string;
  /** Only sessions of this account (Account search attribute); all accounts when absent. */
  readonly account?: string;
  /** How many times to re-check flatness at the broker (every verifyIntervalMs) before giving up. */
  readonly verifyAttempts?: number;
  readonly verifyIntervalMs?: number;
  readonly taskQueues?: { readonly io?: string; readonly execution?: string };
}

export interface EmergencyShutdownResult {
  readonly sessionsKilled: readonly string[];
  /** execution algorithms told to stop slicing (optional: absent in results from before they existed) */
  readonly algosStopped?: readonly string[];
  readonly remainingPositions: readonly SessionPosition[];
  readonly ordersCanceled: number;
  readonly closeOrders: number;
  readonly flat: boolean;
}

export interface ShutdownActivities {
  findRunningSessions(input: { account: string | null }): Promise<string[]>;
  killSession(input: { workflowId: string; reason: string }): Promise<void>;
  /** Stops every running execution algorithm (of the account when given); returns their workflow ids. */
  stopExecAlgos(input: { account: string | null; reason: string }): Promise<string[]>;
  alert(input: { severity: 'critical' | 'info'; text: string }): Promise<void>;
  audit(input: {
    action: string;
    reason: string;
    details: Record<string, unknown>;
    workflowId: string;
    runId: string;
  }): Promise<void>;
}

// ---- daily routines (Temporal Schedules) ------------------------------------------------------------------

export interface DailyRoutineInput {
  readonly account: string;
  readonly mode: SessionMode;
  readonly candidates: readonly string[];
  readonly maxSymbols?: number;
  readonly modelId?: string;
  readonly taskQueues?: { readonly io?: string; readonly execution?: string };
}

export interface DailyRoutineResult {
  readonly date: string;
  readonly skipped: string | null;
  readonly sessionWorkflowId: string | null;
}
