import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OperatorLimits, RiskMode } from '../src/risk/types';
import type { OperatorEvent } from './monitoring';
import type { StrategySpec } from '../src/strategy/registry';
import type { AccountPosition, AccountSnapshot } from '../src/trading/account';
import type { KernelStart } from '../src/trading/kernel';
import type { PackedActions } from '../src/trading/packed-actions';

export type { StrategySpec } from '../src/strategy/registry';
export type { AccountPosition, AccountSnapshot } from '../src/trading/account';
export type { OperatorLimits } from '../src/risk/types';
export { DEFAULT_OPERATOR_LIMITS, validateOperatorLimits } from '../src/risk/types';

/**
 * What crosses the TradingSession workflow boundary: plain JSON only (epoch-ms numbers, arrays, no Map/Date/
 * class instances), so state survives continue-as-new and histories replay. Credentials never appear here:
 * workers read them from the environment. The session is a driver of the trading kernel (src/trading): the
 * kernel's decisions come back from the decide activity as actions; the workflow orchestrates (timers,
 * controls, execution algorithms, continue-as-new) and the venue carries the actions out.
 */
export type SessionMode = 'replay' | 'paper' | 'live';
export type RiskState = RiskMode;

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
   * Assumed quoted spread in basis points for the market vs marketable-limit choice, used when the symbol has no
   * fresh quote in the store (the stream stores the focus symbols' quotes; 1m bars carry none).
   */
  readonly spreadBps: number;
  /** A stored quote this old or younger (venue ms before the decision) gives the spread instead of `spreadBps`. */
  readonly quoteMaxAgeMs: number;
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
  quoteMaxAgeMs: 60_000,
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

/** Strategies whose decisions read a model's predictions (the others ignore a model). */
export function readsPredictions(spec: StrategySpec): boolean {
  return spec.name === 'reference-ai' || spec.name === 'model-signal';
}

/**
 * What decides a session's trades, as status and reports name it: a strategy that reads predictions trading a
 * model, the same strategy on its own indicator signals when it has none (the fallback), or a strategy that reads
 * no model.
 */
export function decidedBy(strategy: StrategySpec, modelId: string | null): string {
  if (!readsPredictions(strategy)) return `${strategy.name} (reads no model)`;
  return modelId
    ? `${strategy.name} on model ${modelId}`
    : `${strategy.name} on indicator signals (fallback: no model)`;
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
  /** Operator limits (engine names); the rest are the risk engine's defaults. */
  readonly limits?: Partial<OperatorLimits>;
  /** How approved orders are sent (at once, or through TWAP/VWAP); defaults: DEFAULT_EXECUTION_ROUTING. */
  readonly execution?: Partial<ExecutionRouting>;
  /** Replay: wall-ms per bar (the timer); paper/live use the bar close on the workflow clock. */
  readonly replayBarDelayMs?: number;
  /**
   * Paper/live: how long after a bar's close (venue ms) the account is read and the decision starts (default 0:
   * the decision waits for the bar itself, see BAR_WAIT_MS).
   */
  readonly settleMs?: number;
  /** Limit the day to the first N bars (tests, demos). */
  readonly maxBars?: number;
  /** Intraday strategies are flat this many bars before the end of the session's day (default 2). */
  readonly flattenBarsBeforeClose?: number;
  /** Test-only: continue-as-new after this many cycles in one run (production relies on the server's suggestion). */
  readonly continueAsNewAfterCycles?: number;
  /** Activity start-to-close timeout, ms (default 30 s); chaos tests lower it so a killed worker's task retries fast. */
  readonly activityTimeoutMs?: number;
  /**
   * Task queues for the activities; default TASK_QUEUES.io / TASK_QUEUES.execution. `stream`: the day's
   * market-data stream activity (paper/live), default the io queue (a separate one keeps the stream's worker
   * apart from the session's).
   */
  readonly taskQueues?: { readonly io?: string; readonly execution?: string; readonly stream?: string };
  /**
   * Paper/live: settings of the day's market-data stream the session starts (when none runs yet): how fast a
   * dead consumer is noticed, how often it reads the venue's clock, the grace for the last bars, the feed.
   */
  readonly stream?: {
    readonly feed?: 'iex' | 'sip';
    readonly heartbeatTimeoutMs?: number;
    readonly clockPollMs?: number;
    readonly closeGraceMs?: number;
  };
  /** Carried state on continue-as-new; absent on the first run. */
  readonly carried?: SessionState;
}

export interface ControlRecord {
  readonly at: number;
  readonly action: string;
  readonly detail: string;
}

/**
 * The venue's clock against this machine's wall clock, read when a paper/live session starts: the venue's time
 * now, the wall time of that reading, and its pace (1 for a real broker; a simulator may run a stored day at 60×).
 * A venue instant v falls at wall time wallNow + (v − venueNow) / speed.
 */
export interface VenueTime {
  readonly venueNow: number;
  readonly wallNow: number;
  readonly speed: number;
}

export interface SessionState {
  readonly universe: readonly string[];
  readonly barTimes: readonly number[];
  readonly barMs: number;
  /** the end of a day cut short (`maxBars`, or stored bars ending early): its last bar's close; null: the close */
  readonly dayEndsAt: number | null;
  /** the first decision that may trade (the close of the first bar cycled); earlier bars only warm the kernel */
  readonly tradeFrom: number;
  /** paper/live: the venue's clock as read at the start (null in replay, whose clock is the replay) */
  readonly venue: VenueTime | null;
  /** index into barTimes of the next bar to process */
  readonly nextBar: number;
  readonly paused: boolean;
  readonly killed: boolean;
  readonly liquidateRequested: boolean;
  /** the kernel's risk mode after the last decision, and why */
  readonly riskState: RiskState;
  readonly riskReason: string;
  readonly limits: OperatorLimits;
  readonly limitsVersion: number;
  /** the model the session trades now, when an operator switched it (setModel); absent: the input's modelId */
  readonly modelId?: string | null;
  /** the account as the broker reported it at the last decision (execution algorithms' orders included) */
  readonly account: AccountSnapshot;
  /** the kernel's start: equity and loss anchors at the open, the day-trade window before today */
  readonly start: KernelStart;
  /** close time of the bar the kernel last decided on; the decide activity checks it is in step */
  readonly lastDecisionTs: number | null;
  readonly lastBarTs: number | null;
  readonly ordersPlaced: number;
  /** FNV-1a over the placed orders' `id|symbol|side|qty|type` lines: the backtester's order hash (parity) */
  readonly orderHash: string;
  readonly deniedCount: number;
  /** day trades today (pattern-day-trader rule), as the kernel counts them */
  readonly dayTrades: number;
  readonly runs: number;
  readonly cycles: number;
  readonly controls: readonly ControlRecord[];
  readonly done: boolean;
  readonly dailyPnl: number | null;
  /** execution algorithms working an order now */
  readonly algos: readonly AlgoInFlight[];
}

export interface SessionStatus {
  readonly sessionId: string;
  readonly mode: SessionMode;
  readonly account: string;
  readonly date: string;
  readonly modelId: string | null;
  /** what decides the trades, in words: the strategy and its model, or its indicator fallback (decidedBy) */
  readonly decidedBy: string;
  readonly state: SessionState;
}

export interface SessionResult {
  readonly sessionId: string;
  readonly ordersPlaced: number;
  readonly orderHash: string;
  readonly dailyPnl: number;
  readonly finalPositions: readonly AccountPosition[];
  readonly killed: boolean;
  readonly runs: number;
}

// ---- activity contracts -----------------------------------------------------------------------------------

/** The kernel's input at one decision: the account as the venue reports it and the controls in force. */
export interface DecideInput {
  readonly sessionId: string;
  readonly date: string;
  /** decision time: the close of the bar that starts at `barTs` */
  readonly barTs: number;
  readonly barMs: number;
  /** close time of the previous decision (null before the first): a worker not in step rebuilds first */
  readonly prevDecisionTs: number | null;
  readonly symbols: readonly string[];
  readonly account: AccountSnapshot;
  readonly controls: {
    readonly paused: boolean;
    readonly liquidate: boolean;
    readonly limits: OperatorLimits;
  };
  readonly strategy: StrategySpec;
  readonly seed: number;
  readonly modelId: string | null;
  readonly start: KernelStart;
  /** the first decision that may trade; the kernel warms up on every bar before it */
  readonly tradeFrom: number;
  /**
   * the end of a day cut short (`maxBars`): intraday strategies are flat before it; null: the exchange's close
   */
  readonly dayEndsAt: number | null;
  /**
   * paper/live: bars arrive from the market-data stream; wait until every symbol's bar of `barTs` is stored, or
   * until this wall-clock instant (then the kernel decides on what is there: a symbol without fresh data takes no
   * new entries). null: the bars are stored already (replay).
   */
  readonly waitForBarsUntil: number | null;
  readonly flattenBeforeCloseMs: number;
  /** return the average volume over this many bars of every symbol an entry is submitted for */
  readonly avgVolumeBars?: number;
  /**
   * return the quoted spread of every symbol an entry is submitted for, from its newest stored quote no older
   * than this (venue ms before the decision); symbols without a fresh quote are left out
   */
  readonly quoteMaxAgeMs?: number;
}

/** What the kernel decided at one bar close. */
export interface DecideResult {
  /** the actions for the venue, in order, packed (src/trading/packed-actions.ts) to keep the history small */
  readonly actions: PackedActions;
  readonly mode: RiskState;
  readonly modeReason: string;
  /** commands the risk engine denied, by rule */
  readonly denied: Readonly<Record<string, number>>;
  /** day trades today */
  readonly dayTrades: number;
  /** average 1m volume of the symbols entries are submitted for (only when the decide input asked for it) */
  readonly avgVolume?: Readonly<Record<string, number>>;
  /** quoted spread (bps) of the symbols entries are submitted for that have a fresh stored quote */
  readonly spreadBps?: Readonly<Record<string, number>>;
}

export interface OrderAck {
  readonly clientOrderId: string;
  readonly brokerOrderId: string | null;
  readonly status: string;
  readonly alreadyExisted: boolean;
  readonly rejected: string | null;
}

export interface ExecuteResult {
  /** one per submit action, in order */
  readonly acks: readonly OrderAck[];
}

export interface PreOpenResult {
  readonly universe: readonly string[];
  /** the session's bar grid: stored bars of the day (replay), or every minute of the trading window */
  readonly barTimes: readonly number[];
  readonly barMs: number;
  /** the end of a day cut short by `maxBars` (its last bar's close); null: the exchange's close */
  readonly dayEndsAt: number | null;
}

/** io task queue */
export interface SessionActivities {
  prepareSession(input: {
    date: string;
    candidates: readonly string[];
    maxSymbols: number;
    maxBars: number | null;
    /** 'stored': the day's stored bars (replay); 'calendar': every minute of the trading window (paper/live) */
    grid: 'stored' | 'calendar';
  }): Promise<PreOpenResult>;
  /** The account's history before today: loss anchors and the day-trade window (from earlier sessions). */
  sessionAnchors(input: {
    account: string;
    mode: SessionMode;
    date: string;
    equity: number;
  }): Promise<KernelStart>;
  /**
   * Steps the session's kernel at the close of bar `barTs`: loads the new bars, runs breakers, the strategy and
   * the risk engine exactly as the backtester does, and returns the actions. A worker whose kernel is not in
   * step with `prevDecisionTs` rebuilds it from the decision journal first.
   */
  decide(input: DecideInput): Promise<DecideResult>;
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
  /**
   * Writes an accepted control (or the session's start) to the audit log, once, attributed to the operator the
   * control names or, failing that, the identity Temporal recorded for it (`ref`).
   */
  recordControl(input: {
    sessionId: string;
    action: string;
    detail: string;
    workflowId: string;
    runId: string;
    operator?: string | null;
    ref?: ControlRef;
    atMs?: number;
  }): Promise<void>;
}

/** execution task queue */
export interface ExecutionActivities {
  /**
   * The account at the start of the day, after checking that this worker's broker may serve a session of
   * `mode` (a paper session on a live-trading worker, a live session on a paper one, or a replay without the
   * simulator is refused, naming the fix).
   */
  reconcile(input: { sessionId: string; mode: SessionMode }): Promise<AccountSnapshot>;
  /** The venue's clock now, against the wall clock. */
  venueClock(input: Record<string, never>): Promise<VenueTime>;
  /**
   * The account as the broker reports it now; with `notBefore`, first waits until the venue's clock has reached
   * `venueMs` (expected at wall time `wallMs`): a bar's close, so the account includes the fills on that bar.
   */
  syncAccount(input: {
    sessionId: string;
    notBefore?: { readonly venueMs: number; readonly wallMs: number };
  }): Promise<AccountSnapshot>;
  /** Carries out a decision's actions in order (each order exactly once, by client order id). */
  execute(input: { sessionId: string; actions: PackedActions }): Promise<ExecuteResult>;
  /**
   * The replay venue's step: carries out the actions, then plays the simulator's bars up to `advanceTo` and
   * returns the account as of then (one round trip per bar). Only a worker holding a simulator replay has it.
   */
  replayStep(input: {
    sessionId: string;
    actions: PackedActions | null;
    advanceTo: number;
  }): Promise<ExecuteResult & { account: AccountSnapshot }>;
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
  /**
   * The session's orders of the day at the broker (client order ids prefixed `<sessionId>:`), read symbol by
   * symbol (the broker lists at most 500 orders per request: 500 per symbol and day here).
   */
  sessionOrders(input: { sessionId: string; symbols: readonly string[] }): Promise<DayOrder[]>;
  verifyFlat(
    input: Record<string, never>,
  ): Promise<{ flat: boolean; positions: readonly AccountPosition[]; openOrders: number }>;
}

// ---- controls ---------------------------------------------------------------------------------------------

/**
 * A control's arguments: why, and who (the `trader` CLI sends its user or `--operator`). Without `operator`
 * (a Web UI or `temporal` CLI action) the audit log names the identity Temporal recorded for the control.
 */
export interface ControlArgs {
  readonly reason: string;
  readonly operator?: string;
}
/** Where Temporal recorded who sent a control: its update id, the n-th signal of its name in the run, the start. */
export type ControlRef =
  | { readonly updateId: string }
  | { readonly signal: string; readonly ordinal: number }
  | { readonly start: true };

export const pauseUpdate = defineUpdate<SessionStatus, [ControlArgs]>('pause');
export const resumeUpdate = defineUpdate<SessionStatus, [ControlArgs]>('resume');
/** The limits patch, and optionally who sends it (a second argument, so the patch stays the limits only). */
export const setRiskLimitsUpdate = defineUpdate<
  SessionStatus,
  [Partial<OperatorLimits>, { operator?: string }?]
>('setRiskLimits');
export const liquidateUpdate = defineUpdate<SessionStatus, [ControlArgs]>('liquidate');
/**
 * Trade another registered model from the next decision on (same feature set; the features carry on): an
 * operator's `session set-model`, or `models rollback` switching the sessions that trade the rolled-back model.
 */
export const setModelUpdate = defineUpdate<SessionStatus, [ControlArgs & { readonly modelId: string }]>(
  'setModel',
);
export const killSignal = defineSignal<[ControlArgs]>('kill');
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
    r.quoteMaxAgeMs !== undefined &&
    !(Number.isInteger(r.quoteMaxAgeMs) && r.quoteMaxAgeMs >= 0 && r.quoteMaxAgeMs <= 3_600_000)
  )
    return `execution.quoteMaxAgeMs: ${String(r.quoteMaxAgeMs)} must be an integer number of ms in [0, 3600000]`;
  if (
    r.volumeLookbackDays !== undefined &&
    !(Number.isInteger(r.volumeLookbackDays) && r.volumeLookbackDays >= 1 && r.volumeLookbackDays <= 250)
  )
    return `execution.volumeLookbackDays: ${String(r.volumeLookbackDays)} must be an integer in [1, 250]`;
  return undefined;
}

// ---- emergency shutdown -------------------------------------------------------------------------------------

export const EMERGENCY_SHUTDOWN_WORKFLOW_TYPE = 'emergencyShutdownWorkflow';

/**
 * One emergency shutdown per account at a time: the CLI starts it under this id with the conflict policy
 * USE_EXISTING, so a second request while one runs joins it instead of starting another. (Two that do run at
 * once — an account's and an all-accounts one, or ids chosen by hand — are harmless too: closing orders have
 * ids derived from the broker's state, src/execution/close-out.ts.)
 */
export function emergencyShutdownWorkflowId(account?: string | null): string {
  return `emergency-shutdown-${account ? account.replace(/[^A-Za-z0-9_.-]/g, '_') : 'all-accounts'}`;
}

export interface EmergencyShutdownInput {
  readonly reason: string;
  /** Who asked for it (the CLI's user or `--operator`); the audit log's operator. */
  readonly requestedBy: string;
  /** Only sessions of this account (Account search attribute); all accounts when absent. */
  readonly account?: string;
  /** How many close-out steps (each reads the broker, cancels, sends what is missing) before giving up (30). */
  readonly verifyAttempts?: number;
  /** ms between close-out steps (2000). */
  readonly verifyIntervalMs?: number;
  /** ms a closing order is given to fill before the next escalation level replaces it (10000). */
  readonly escalateAfterMs?: number;
  /** Escalation levels after the market order: marketable limits at band × 1, 2, 4 … (3). */
  readonly maxEscalations?: number;
  /** The first marketable limit's distance through the last price, basis points (50). */
  readonly limitBandBps?: number;
  readonly taskQueues?: { readonly io?: string; readonly execution?: string };
}

export interface CloseOutFailure {
  readonly symbol: string;
  readonly error: string;
}

export interface EmergencyShutdownResult {
  readonly sessionsKilled: readonly string[];
  /** execution algorithms told to stop slicing */
  readonly algosStopped: readonly string[];
  /** positions still held at the last read of the broker (the last known ones when the broker failed) */
  readonly remainingPositions: readonly AccountPosition[];
  /** open orders at the last read of the broker */
  readonly openOrders: number;
  /** orders this run canceled (sessions' and algorithms' orders, and closing orders it replaced) */
  readonly ordersCanceled: number;
  /** closing orders this run placed */
  readonly closeOrders: number;
  /** escalation level reached (0: market orders only) */
  readonly escalations: number;
  /** symbols given up on after a permanent broker error, and the error */
  readonly failures: readonly CloseOutFailure[];
  /** flat verified at the broker (no position, no open order) */
  readonly flat: boolean;
  /** what stopped the shutdown before it could verify flat (e.g. a permanent broker error); null when none */
  readonly error: string | null;
}

/** One close-out step at the broker (src/execution/close-out.ts plans it). */
export interface CloseOutStepResult {
  /** positions and open orders as read at the start of the step */
  readonly positions: readonly AccountPosition[];
  readonly openOrders: number;
  /** no position and no open order at the start of the step */
  readonly flat: boolean;
  /** orders canceled this step (not closing orders), and closing orders canceled to be replaced */
  readonly canceled: number;
  readonly replaced: number;
  /** closing orders placed this step (a concurrent shutdown's identical order is not counted) */
  readonly sent: readonly string[];
  /** symbols a permanent error stopped this step */
  readonly failures: readonly CloseOutFailure[];
}

/** execution task queue: the emergency shutdown's broker side. */
export interface CloseOutActivities {
  closeOutStep(input: {
    level: number;
    escalating: boolean;
    limitBandBps: number;
    /** symbols given up on: nothing is sent or canceled for them */
    skip: readonly string[];
    /** the operator behind the shutdown (audit) */
    operator: string;
  }): Promise<CloseOutStepResult>;
}

export interface ShutdownActivities {
  findRunningSessions(input: { account: string | null }): Promise<string[]>;
  killSession(input: { workflowId: string; reason: string; operator?: string }): Promise<void>;
  /** Stops every running execution algorithm (of the account when given); returns their workflow ids. */
  stopExecAlgos(input: { account: string | null; reason: string }): Promise<string[]>;
  /** Tells operators about the shutdown (Slack through the monitoring alerter); never fails. */
  notify(event: ShutdownEvent): Promise<void>;
  /** A free-text alert (the post-market routine's flat check); never fails. */
  alert(input: { severity: 'critical' | 'info'; text: string }): Promise<void>;
  /** Writes the shutdown's start or result to the audit log, once per run and action. */
  audit(input: {
    action: 'shutdown.emergency' | 'shutdown.emergency_completed';
    reason: string;
    requestedBy: string;
    details: Record<string, unknown>;
    workflowId: string;
    runId: string;
  }): Promise<void>;
}

/** The shutdown's operator events (contracts/monitoring.ts OperatorEvent). */
export type ShutdownEvent = Extract<
  OperatorEvent,
  { kind: 'emergency_shutdown_started' } | { kind: 'emergency_shutdown_result' }
>;

// ---- daily routines (Temporal Schedules) ------------------------------------------------------------------

/**
 * What the pre-market and post-market routines (Temporal Schedules) run with: the account, the session's mode,
 * strategy and model, where the day's gaps are filled from, and the queues.
 */
export interface DailyRoutineInput {
  readonly account: string;
  readonly mode: SessionMode;
  readonly candidates: readonly string[];
  readonly maxSymbols?: number;
  /**
   * The model the session trades: a model id, or `champion:<name>` — the pre-market routine pins it to the
   * model that is champion at the open (a promotion during the day does not switch the running session).
   */
  readonly modelId?: string;
  readonly strategy?: StrategySpec;
  readonly seed?: number;
  readonly limits?: Partial<OperatorLimits>;
  readonly execution?: Partial<ExecutionRouting>;
  /**
   * Where the previous day's gap (pre-market) and the day's end (post-market) are backfilled from, e.g.
   * `{ kind: 'alpaca' }`; absent: no backfill (the routine's result says so). Never synthetic by default.
   */
  readonly backfillSource?: RoutineBackfillSource;
  /** The feature set refreshed before the open (default 'core'); null: none. */
  readonly featureSet?: string | null;
  /** The day's market-data stream settings (SessionInput.stream). */
  readonly stream?: SessionInput['stream'];
  /** Test and demo use: the session trades only the first N bars of the day. */
  readonly maxBars?: number;
  readonly taskQueues?: SessionInput['taskQueues'];
}

/** The backfill sources a routine may use for the day's bars (contracts/backfill.ts BackfillSource). */
export type RoutineBackfillSource =
  | { readonly kind: 'alpaca'; readonly feed?: 'iex' | 'sip' }
  | { readonly kind: 'polygon' }
  | { readonly kind: 'csv'; readonly dataset: string };

export interface DailyRoutineResult {
  /** the venue's trading day the routine ran for */
  readonly date: string;
  readonly skipped: string | null;
  readonly sessionWorkflowId: string | null;
  /** pre-market: the universe the session trades (post-market: the one it traded) */
  readonly universe?: readonly string[];
  /** what the routine did, step by step (shown in the Web UI's result) */
  readonly steps?: readonly string[];
  /** post-market: the day's report as stored */
  readonly report?: DayReport;
}

/** An order of the day as the broker reports it (the post-market report's input). */
export interface DayOrder {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly filledQty: number;
  readonly avgPrice: number | null;
  readonly status: string;
}

/**
 * The day's report, stored by the post-market routine (`trader session report --date`): P&L, orders and fills
 * at the broker, slippage of every fill against the arrival price (the close of the bar the order was decided
 * on), the completeness of the day's stored minutes, and whether the account ended flat.
 */
export interface DayReport {
  readonly date: string;
  readonly account: string;
  readonly mode: SessionMode;
  readonly sessionId: string;
  /** the models whose journaled predictions the session traded (none: its strategy decided without a model) */
  readonly tradedModels: readonly string[];
  readonly pnl: {
    readonly daily: number | null;
    readonly startEquity: number | null;
    readonly endEquity: number | null;
  };
  readonly orders: {
    readonly placed: number;
    readonly filled: number;
    readonly partiallyFilled: number;
    readonly unfilled: number;
  };
  readonly fills: { readonly shares: number; readonly notional: number };
  /** signed: positive is worse than the arrival price for the order's side; weighted by filled notional */
  readonly slippage: {
    readonly avgBps: number | null;
    readonly worstBps: number | null;
    readonly bySymbol: ReadonlyArray<{
      readonly symbol: string;
      readonly orders: number;
      readonly filledQty: number;
      readonly notional: number;
      readonly slippageBps: number | null;
    }>;
  };
  /** stored 1m bars against the calendar's minutes (null: not checked) */
  readonly data: {
    readonly expectedMinutes: number;
    readonly missing: Readonly<Record<string, number>>;
  } | null;
  readonly flat: boolean | null;
}

/** io task queue: the daily routines' own steps. */
export interface RoutineActivities {
  /**
   * The model the day trades: a model id, `champion:<name>` or `champion` (pinned to the champion at the open);
   * null when `champion` finds none (the indicator fallback).
   */
  preMarketModel(input: { modelId: string }): Promise<{ modelId: string | null; note: string }>;
  /** The universe a session traded (from its recorded report); null when it recorded none. */
  sessionUniverse(input: { sessionId: string }): Promise<string[] | null>;
  /** The day's stored 1m bars of `symbols` against the calendar's minutes. */
  validateDay(input: { date: string; symbols: readonly string[] }): Promise<NonNullable<DayReport['data']>>;
  /** Builds the day's report from the broker's orders, the store's bars and the session's record; stores it. */
  dayReport(input: {
    date: string;
    account: string;
    mode: SessionMode;
    sessionId: string;
    orders: readonly DayOrder[];
    data: DayReport['data'];
    flat: boolean | null;
  }): Promise<DayReport>;
  /**
   * The retrain trigger after the close: a hook for continuous learning (src/learning) to decide whether the
   * day's results call for retraining. Today a no-op that says so.
   */
  postMarketRetrainHook(input: {
    date: string;
    account: string;
    mode: SessionMode;
    report: DayReport;
  }): Promise<{ triggered: boolean; note: string }>;
}
