import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

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

export interface StrategyParams {
  readonly name: 'sma-trend';
  readonly fast: number;
  readonly slow: number;
  /** Target position value per symbol as a fraction of equity. */
  readonly weight: number;
}

export const DEFAULT_STRATEGY: StrategyParams = { name: 'sma-trend', fast: 3, slow: 8, weight: 0.04 };

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
  readonly strategy?: StrategyParams;
  readonly limits?: SessionRiskLimits;
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
  readonly limits: SessionRiskLimits;
  readonly limitsVersion: number;
  readonly positions: readonly SessionPosition[];
  readonly startEquity: number;
  readonly equity: number;
  readonly buyingPower: number;
  readonly lastBarTs: number | null;
  readonly ordersPlaced: number;
  /** order-list hash chain over (client order id, side, qty), for parity checks */
  readonly orderHash: string;
  readonly deniedCount: number;
  readonly runs: number;
  readonly cycles: number;
  readonly controls: readonly ControlRecord[];
  readonly done: boolean;
  readonly dailyPnl: number | null;
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

export interface Decision {
  readonly symbol: string;
  /** target signed quantity after this bar */
  readonly targetQty: number;
  /** last close, the reference price for risk checks */
  readonly refPrice: number;
}

export interface PlannedOrder {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly type: 'market' | 'limit';
  readonly limitPrice?: number;
  readonly timeInForce: 'day';
  readonly refPrice: number;
  readonly reason: string;
}

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
  decideCycle(input: {
    sessionId: string;
    barTs: number;
    barMs: number;
    symbols: readonly string[];
    positions: readonly SessionPosition[];
    equity: number;
    strategy: StrategyParams;
    modelId: string | null;
  }): Promise<Decision[]>;
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
  cancelOpenOrders(input: { reason: string }): Promise<number>;
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
export const statusQuery = defineQuery<SessionStatus>('status');

export const SESSION_WORKFLOW_TYPE = 'tradingSessionWorkflow';

export function sessionWorkflowId(account: string, date: string, mode: SessionMode): string {
  return `session-${account}-${date}-${mode}`;
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
  readonly remainingPositions: readonly SessionPosition[];
  readonly ordersCanceled: number;
  readonly closeOrders: number;
  readonly flat: boolean;
}

export interface ShutdownActivities {
  findRunningSessions(input: { account: string | null }): Promise<string[]>;
  killSession(input: { workflowId: string; reason: string }): Promise<void>;
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
