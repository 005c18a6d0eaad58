import { hostname } from 'node:os';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { NYSE } from '../market/calendar';
import { QUALITY_RULES } from '../market/validation';
import { RISK_RULES } from '../risk/types';
import { TIMEFRAMES } from '../model/timeframe';

/**
 * The one Prometheus registry of the trading system. Every metric the system exports is defined here, and
 * other code changes them only through the typed helpers below (recordOrderSubmitted, setPnl, ...), so names,
 * units and labels stay consistent and the Grafana dashboards / alert rules can be checked against this file.
 *
 * Naming: `trader_` prefix, base units in the name (`_dollars`, `_seconds`, `_bps`, `_ratio`), counters end
 * in `_total`, timestamps are `_timestamp_seconds` (epoch seconds).
 *
 * Label cardinality is bounded (every bound is enforced by `BoundedLabel` or a closed enum):
 *   ticker / symbol  at most METRIC_LABEL_LIMITS.tickers distinct values (first come), then "other"
 *   model            at most METRIC_LABEL_LIMITS.models distinct values, then "other"
 *   account          at most METRIC_LABEL_LIMITS.accounts distinct values, then "other"
 *   workflow_type    at most METRIC_LABEL_LIMITS.workflowTypes distinct values, then "other"
 *   timeframe        one of TIMEFRAMES (1m 5m 15m 1h 1d), else "other"
 *   side             buy | sell;  order_type  market | limit | stop | stop_limit | trailing_stop | other
 *   reason / state / outcome / queue: closed enums below, anything else maps to "other"
 * So the largest series count is tickers x timeframes x models for P&L: 200 x 6 x 20 = 24k at the extreme, in
 * practice tens of tickers x 1-2 timeframes x a few models.
 */

export const METRIC_LABEL_LIMITS = {
  tickers: 200,
  models: 20,
  accounts: 10,
  workflowTypes: 30,
} as const;

export const OTHER_LABEL = 'other';

/** Admits the first `limit` distinct values; later new values collapse into "other" so series stay bounded. */
export class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(
    readonly name: string,
    readonly limit: number,
  ) {}

  value(raw: string | undefined): string {
    const v = sanitizeLabel(raw);
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.limit) return OTHER_LABEL;
    this.seen.add(v);
    return v;
  }

  get size(): number {
    return this.seen.size;
  }

  reset(): void {
    this.seen.clear();
  }
}

function sanitizeLabel(raw: string | undefined): string {
  if (raw === undefined || raw === '') return 'unknown';
  // Label values may hold any UTF-8, but capping length keeps a malformed id from bloating every scrape.
  return raw.length > 64 ? raw.slice(0, 64) : raw;
}

function oneOf<T extends string>(allowed: readonly T[], raw: string | undefined): T | typeof OTHER_LABEL {
  return raw !== undefined && (allowed as readonly string[]).includes(raw) ? (raw as T) : OTHER_LABEL;
}

export const RISK_STATES = ['ACTIVE', 'REDUCING', 'HALTED'] as const;
export type RiskStateLabel = (typeof RISK_STATES)[number];
export const ORDER_SIDES = ['buy', 'sell'] as const;
export const ORDER_TYPES = ['market', 'limit', 'stop', 'stop_limit', 'trailing_stop'] as const;
export const ORDER_REJECT_REASONS = [
  'risk_denied',
  'insufficient_buying_power',
  'invalid_order',
  'market_closed',
  'pdt_rule',
  'broker_error',
  'duplicate',
] as const;
/** Data-quality reasons are the validator's rules (src/market/validation.ts), so a finding keeps its name. */
export const DATA_QUALITY_REASONS = QUALITY_RULES;
/**
 * The `limit` label: the risk engine's rules (a denial names its rule, src/risk/types.ts) and the circuit breakers
 * that move the account out of ACTIVE (daily/monthly/quarterly loss, volatility, the crisis regime, an operator's
 * halt).
 */
export const RISK_LIMITS = [
  ...RISK_RULES,
  'volatility',
  'regime_crisis',
  'manual_halt',
  'position_size',
  'pdt',
  'drawdown',
] as const;
export const TRAINING_OUTCOMES = ['succeeded', 'failed', 'promoted', 'rejected'] as const;
export const WORKER_QUEUES = ['io', 'training', 'execution', 'dev'] as const;
export const DECISION_STAGES = ['end_to_end', 'features', 'inference', 'risk', 'submit'] as const;

const timeframeLabel = (tf: string | undefined) => oneOf(TIMEFRAMES, tf);

/** Slippage in basis points: positive = worse than the decision price for the order's side. */
const SLIPPAGE_BPS_BUCKETS = [-50, -20, -10, -5, -2, -1, 0, 1, 2, 5, 10, 20, 50, 100];
/** Bar close → decision/submit: sub-second is the target, minutes is a problem. */
const LATENCY_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Model scores live in [-1, 1] (tanh position map); probabilities in [0, 1] fall in the upper half. */
const PREDICTION_BUCKETS = [-1, -0.75, -0.5, -0.25, -0.1, -0.05, 0, 0.05, 0.1, 0.25, 0.5, 0.75, 1];
const TRAINING_SECONDS_BUCKETS = [10, 30, 60, 300, 600, 1800, 3600, 7200, 14400];
/** Bar close at the venue → stored: milliseconds from the stream, seconds to minutes from a REST gap fill. */
const STORE_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300];
export const MARKET_DATA_FEEDS = ['iex', 'sip', 'delayed_sip', 'polygon'] as const;

/**
 * Clock for what is computed at scrape time (data staleness, market open) and for what counts as recent data;
 * replays and tests inject a simulated clock.
 */
let clockMs: () => number = () => Date.now();
export function setMetricsClock(clock: () => number): void {
  clockMs = clock;
}
export function metricsNow(): number {
  return clockMs();
}

/** Every metric and bounded label of one registry. One default instance backs the helper functions. */
export class TradingMetrics {
  readonly registry = new Registry();
  readonly labels = {
    ticker: new BoundedLabel('ticker', METRIC_LABEL_LIMITS.tickers),
    model: new BoundedLabel('model', METRIC_LABEL_LIMITS.models),
    account: new BoundedLabel('account', METRIC_LABEL_LIMITS.accounts),
    workflowType: new BoundedLabel('workflow_type', METRIC_LABEL_LIMITS.workflowTypes),
  };
  private readonly lastBarEndMs = new Map<string, { symbol: string; timeframe: string; endMs: number }>();
  private processMetrics = false;
  private readonly positionTickers = new Map<string, readonly string[]>();

  // --- P&L, positions, exposure -----------------------------------------------------------------------
  readonly pnlRealized = new Gauge({
    name: 'trader_pnl_realized_dollars',
    help: 'Realized P&L in dollars since the start of the trading day, by ticker, timeframe and model',
    labelNames: ['ticker', 'timeframe', 'model'] as const,
    registers: [this.registry],
  });
  readonly pnlUnrealized = new Gauge({
    name: 'trader_pnl_unrealized_dollars',
    help: 'Unrealized (mark-to-market) P&L in dollars of open positions, by ticker, timeframe and model',
    labelNames: ['ticker', 'timeframe', 'model'] as const,
    registers: [this.registry],
  });
  readonly dailyPnl = new Gauge({
    name: 'trader_daily_pnl_dollars',
    help: 'Account P&L in dollars since the start of the trading day (realized + unrealized, after costs)',
    labelNames: ['account'] as const,
    registers: [this.registry],
  });
  readonly dailyPnlRatio = new Gauge({
    name: 'trader_daily_pnl_ratio',
    help: 'Daily P&L as a fraction of start-of-day equity (-0.03 = a 3% loss)',
    labelNames: ['account'] as const,
    registers: [this.registry],
  });
  readonly equity = new Gauge({
    name: 'trader_equity_dollars',
    help: 'Account equity in dollars',
    labelNames: ['account'] as const,
    registers: [this.registry],
  });
  readonly positionQuantity = new Gauge({
    name: 'trader_position_quantity',
    help: 'Signed position size in shares/units (negative = short)',
    labelNames: ['account', 'ticker'] as const,
    registers: [this.registry],
  });
  readonly positionValue = new Gauge({
    name: 'trader_position_market_value_dollars',
    help: 'Signed market value of the position in dollars',
    labelNames: ['account', 'ticker'] as const,
    registers: [this.registry],
  });
  readonly exposureGross = new Gauge({
    name: 'trader_exposure_gross_dollars',
    help: 'Sum of absolute position market values in dollars',
    labelNames: ['account'] as const,
    registers: [this.registry],
  });
  readonly exposureNet = new Gauge({
    name: 'trader_exposure_net_dollars',
    help: 'Sum of signed position market values in dollars',
    labelNames: ['account'] as const,
    registers: [this.registry],
  });

  // --- Risk --------------------------------------------------------------------------------------------
  readonly riskState = new Gauge({
    name: 'trader_risk_state',
    help: 'Risk engine state: 1 for the current state (ACTIVE, REDUCING, HALTED), 0 for the others',
    labelNames: ['account', 'state'] as const,
    registers: [this.registry],
  });
  readonly riskOpenRiskRatio = new Gauge({
    name: 'trader_risk_open_risk_ratio',
    help: 'Total open risk (loss to stops) as a fraction of equity',
    labelNames: ['account'] as const,
    registers: [this.registry],
  });
  readonly riskDrawdownRatio = new Gauge({
    name: 'trader_risk_drawdown_ratio',
    help: 'Current drawdown from the equity peak as a fraction (0.05 = 5% below peak)',
    labelNames: ['account'] as const,
    registers: [this.registry],
  });
  readonly riskDailyLossLimitRatio = new Gauge({
    name: 'trader_risk_daily_loss_limit_ratio',
    help: 'Configured daily loss limit as a fraction of start-of-day equity (0.03 = 3%)',
    labelNames: ['account'] as const,
    registers: [this.registry],
  });
  readonly riskLimitBreaches = new Counter({
    name: 'trader_risk_limit_breaches_total',
    help: 'Risk limit breaches detected (a breaker tripped or a limit was found exceeded)',
    labelNames: ['account', 'limit'] as const,
    registers: [this.registry],
  });
  readonly riskDenials = new Counter({
    name: 'trader_risk_denials_total',
    help: 'Strategy commands the risk engine denied, by the limit that denied them',
    labelNames: ['account', 'limit'] as const,
    registers: [this.registry],
  });

  readonly sessionModel = new Gauge({
    name: 'trader_session_model_info',
    help: 'What decides the trading session\'s trades: 1 for the model id in use, or "indicator-fallback" when none',
    labelNames: ['account', 'model'] as const,
    registers: [this.registry],
  });

  // --- Orders and execution quality -------------------------------------------------------------------
  readonly ordersSubmitted = new Counter({
    name: 'trader_orders_submitted_total',
    help: 'Orders submitted to the broker',
    labelNames: ['ticker', 'side', 'order_type'] as const,
    registers: [this.registry],
  });
  readonly ordersFilled = new Counter({
    name: 'trader_orders_filled_total',
    help: 'Orders completely filled',
    labelNames: ['ticker', 'side'] as const,
    registers: [this.registry],
  });
  readonly ordersRejected = new Counter({
    name: 'trader_orders_rejected_total',
    help: 'Orders rejected by the broker or the risk engine, by reason',
    labelNames: ['ticker', 'reason'] as const,
    registers: [this.registry],
  });
  readonly filledNotional = new Counter({
    name: 'trader_filled_notional_dollars_total',
    help: 'Dollar notional of fills (turnover)',
    labelNames: ['ticker', 'side'] as const,
    registers: [this.registry],
  });
  readonly slippage = new Histogram({
    name: 'trader_order_slippage_bps',
    help: 'Fill price vs the decision price in basis points; positive = worse for the order side',
    labelNames: ['side'] as const,
    buckets: SLIPPAGE_BPS_BUCKETS,
    registers: [this.registry],
  });
  readonly decisionLatency = new Histogram({
    name: 'trader_decision_latency_seconds',
    help: 'Time from bar close to the decision (stage=end_to_end) and per pipeline stage',
    labelNames: ['timeframe', 'stage'] as const,
    buckets: LATENCY_SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'trader_decisions_total',
    help: 'Decision cycles completed (one per bar per session)',
    labelNames: ['timeframe'] as const,
    registers: [this.registry],
  });

  // --- Data health -------------------------------------------------------------------------------------
  readonly lastBarTimestamp = new Gauge({
    name: 'trader_data_last_bar_timestamp_seconds',
    help: 'End time (epoch seconds) of the newest stored bar per symbol and timeframe',
    labelNames: ['symbol', 'timeframe'] as const,
    registers: [this.registry],
  });
  readonly dataStaleness: Gauge<'symbol' | 'timeframe'>;
  readonly dataQualityRejects = new Counter({
    name: 'trader_data_quality_rejects_total',
    help: 'Bars rejected or quarantined by validation, by reason',
    labelNames: ['symbol', 'timeframe', 'reason'] as const,
    registers: [this.registry],
  });
  readonly barsIngested = new Counter({
    name: 'trader_data_bars_ingested_total',
    help: 'Bars accepted and stored',
    labelNames: ['symbol', 'timeframe'] as const,
    registers: [this.registry],
  });
  readonly barStoreLatency = new Histogram({
    name: 'trader_data_bar_store_latency_seconds',
    help: 'Real-time feed: bar close at the venue (on the wall clock) to the bar committed in the store, by feed and path (stream or rest gap fill)',
    labelNames: ['feed', 'path'] as const,
    buckets: STORE_LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly marketOpen: Gauge;

  // --- Models ------------------------------------------------------------------------------------------
  readonly prediction = new Histogram({
    name: 'trader_model_prediction',
    help: 'Distribution of model scores (position-mapped, in [-1, 1])',
    labelNames: ['model', 'timeframe'] as const,
    buckets: PREDICTION_BUCKETS,
    registers: [this.registry],
  });
  readonly predictionDrift = new Gauge({
    name: 'trader_model_prediction_drift',
    help: 'Population stability index of recent predictions vs the training distribution (>0.25 = significant drift)',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly modelConfidence = new Gauge({
    name: 'trader_model_confidence_ratio',
    help: 'Latest mean model confidence in [0, 1] (|score| or ensemble consensus)',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly trainingRuns = new Counter({
    name: 'trader_training_runs_total',
    help: 'Model training runs by outcome (succeeded, failed, promoted, rejected)',
    labelNames: ['model', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly trainingDuration = new Histogram({
    name: 'trader_training_duration_seconds',
    help: 'Wall time of a model training run',
    labelNames: ['model'] as const,
    buckets: TRAINING_SECONDS_BUCKETS,
    registers: [this.registry],
  });

  // --- Continuous learning (src/learning; the learning cycle and drift monitor workflows) ----------------
  readonly featureDriftMax = new Gauge({
    name: 'trader_model_feature_drift_max',
    help: "Largest per-feature PSI of the day's feature rows vs the model's training rows (>0.25 = significant)",
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly liveHitRate = new Gauge({
    name: 'trader_model_live_hit_rate_ratio',
    help: "Hit rate of the model's predictions of the day whose outcome is known (direction right)",
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly expectedHitRate = new Gauge({
    name: 'trader_model_expected_hit_rate_ratio',
    help: "The model's out-of-sample hit rate on the drift monitor's terms (what the live one is tested against)",
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly driftBreach = new Gauge({
    name: 'trader_model_drift_breach',
    help: 'The drift monitor found a breach on the newest day (1) or not (0): distribution or sequential test',
    labelNames: ['model', 'kind'] as const,
    registers: [this.registry],
  });
  readonly learningChampion = new Gauge({
    name: 'trader_learning_champion_info',
    help: 'The champion of a model name (1 for the model that trades)',
    labelNames: ['name', 'model'] as const,
    registers: [this.registry],
  });
  readonly learningShadows = new Gauge({
    name: 'trader_learning_shadows_quantity',
    help: 'Challengers of a model name scored in shadow (never traded)',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly learningNextRetrain = new Gauge({
    name: 'trader_learning_days_to_retrain_quantity',
    help: "Learning days until the name's scheduled retrain (drift can start one earlier)",
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly learningDecisions = new Counter({
    name: 'trader_learning_decisions_total',
    help: 'Decisions of the learning loop per model name: retrain, promote, reject, rollback',
    labelNames: ['name', 'decision'] as const,
    registers: [this.registry],
  });
  readonly marketRegime = new Gauge({
    name: 'trader_market_regime_state',
    help: 'Regime of a symbol at the newest completed day (1 for its state, 0 for the others)',
    labelNames: ['ticker', 'state'] as const,
    registers: [this.registry],
  });

  // --- Workers and workflows ---------------------------------------------------------------------------
  readonly workerUp = new Gauge({
    name: 'trader_worker_up',
    help: 'Worker polling (1) or stopped (0), per task queue',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });
  readonly workerInfo = new Gauge({
    name: 'trader_worker_info',
    help: 'Constant 1 with build/runtime information as labels',
    labelNames: ['worker', 'version', 'node_version', 'trading_mode'] as const,
    registers: [this.registry],
  });
  readonly workflowFailures = new Counter({
    name: 'trader_workflow_failures_total',
    help: 'Workflows that ended failed, timed out or terminated, by workflow type',
    labelNames: ['workflow_type', 'status'] as const,
    registers: [this.registry],
  });
  readonly alertsSent = new Counter({
    name: 'trader_alerts_sent_total',
    help: 'Alerts delivered (or logged without a Slack token), by severity and outcome',
    labelNames: ['severity', 'outcome'] as const,
    registers: [this.registry],
  });

  // --- Host (the live dashboard's sampler sets these; GPU only where nvidia-smi answers) -----------------
  // Labelled by host so that a worker without the sampler exports nothing rather than a constant 0.
  readonly hostCpuUtilization = new Gauge({
    name: 'trader_host_cpu_utilization_ratio',
    help: 'Host CPU utilisation over the last sample interval, all cores, in [0, 1]',
    labelNames: ['host'] as const,
    registers: [this.registry],
  });
  readonly gpuUtilization = new Gauge({
    name: 'trader_gpu_utilization_ratio',
    help: 'GPU utilisation in [0, 1] as reported by nvidia-smi, per GPU index',
    labelNames: ['gpu'] as const,
    registers: [this.registry],
  });
  readonly gpuMemoryUsed = new Gauge({
    name: 'trader_gpu_memory_used_bytes',
    help: 'GPU memory in use as reported by nvidia-smi, per GPU index',
    labelNames: ['gpu'] as const,
    registers: [this.registry],
  });

  constructor() {
    // Read from the exchange calendar at scrape time, so it flips at the open and close (early closes and
    // holidays included) without a timer, on the same clock as staleness.
    this.marketOpen = new Gauge({
      name: 'trader_market_open',
      help: '1 while the NYSE regular session is open by the exchange calendar (stale-data alerts only apply then)',
      registers: [this.registry],
      collect() {
        this.set(NYSE.isOpen(clockMs()) ? 1 : 0);
      },
    });
    // Staleness is computed at scrape time so it keeps growing when ingestion stalls (the alert case).
    const lastBar = this.lastBarEndMs;
    this.dataStaleness = new Gauge({
      name: 'trader_data_staleness_seconds',
      help: 'Seconds since the end of the newest bar per symbol and timeframe (computed at scrape time)',
      labelNames: ['symbol', 'timeframe'] as const,
      registers: [this.registry],
      collect() {
        const now = clockMs();
        for (const { symbol, timeframe, endMs } of lastBar.values()) {
          this.set({ symbol, timeframe }, Math.max(0, (now - endMs) / 1000));
        }
      },
    });
  }

  /** Node process metrics (CPU, memory, event loop lag, GC) under `trader_worker_`; idempotent. */
  enableProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry, prefix: 'trader_worker_' });
  }

  /** Records the newest bar end for staleness; called by ingestion after a successful store. */
  noteLastBar(symbol: string, timeframe: string, barEndMs: number): void {
    const s = this.labels.ticker.value(symbol);
    const tf = timeframeLabel(timeframe);
    const key = `${s}\u0000${tf}`;
    const prev = this.lastBarEndMs.get(key);
    if (prev && prev.endMs >= barEndMs) return;
    this.lastBarEndMs.set(key, { symbol: s, timeframe: tf, endMs: barEndMs });
    this.lastBarTimestamp.set({ symbol: s, timeframe: tf }, barEndMs / 1000);
  }

  openPositionTickers(account: string): readonly string[] {
    return this.positionTickers.get(account) ?? [];
  }

  setOpenPositionTickers(account: string, tickers: readonly string[]): void {
    this.positionTickers.set(account, tickers);
  }

  /** Clears values (not definitions): used between tests and at process start. */
  reset(): void {
    this.registry.resetMetrics();
    this.lastBarEndMs.clear();
    this.positionTickers.clear();
    for (const l of Object.values(this.labels)) l.reset();
  }
}

/** The process-wide instance every helper below writes to and /metrics serves. */
export const tradingMetrics = new TradingMetrics();
export const metricsRegistry: Registry = tradingMetrics.registry;

// --- Typed helpers: the only way other code touches metrics -------------------------------------------

export interface PnlSample {
  readonly ticker: string;
  readonly timeframe: string;
  readonly model: string;
  readonly realizedDollars: number;
  readonly unrealizedDollars: number;
}

/** Sets P&L for one (ticker, timeframe, model) attribution bucket; call after each fill and each mark. */
export function setPnl(s: PnlSample, m: TradingMetrics = tradingMetrics): void {
  const labels = {
    ticker: m.labels.ticker.value(s.ticker),
    timeframe: timeframeLabel(s.timeframe),
    model: m.labels.model.value(s.model),
  };
  m.pnlRealized.set(labels, finite(s.realizedDollars, 'realizedDollars'));
  m.pnlUnrealized.set(labels, finite(s.unrealizedDollars, 'unrealizedDollars'));
}

/** One reading of the account for the metrics (AccountSnapshot is the broker's account as the kernel reads it). */
export interface AccountMetricsSample {
  readonly account: string;
  readonly equityDollars: number;
  /** Equity at the start of the trading day; the base for the daily P&L ratio. */
  readonly startOfDayEquityDollars: number;
  readonly positions: ReadonlyArray<{
    readonly ticker: string;
    readonly quantity: number;
    readonly marketValueDollars: number;
  }>;
}

/** Sets equity, daily P&L, positions and exposure from one account snapshot (after sync with the broker). */
export function setAccountSnapshot(s: AccountMetricsSample, m: TradingMetrics = tradingMetrics): void {
  const account = m.labels.account.value(s.account);
  const equity = finite(s.equityDollars, 'equityDollars');
  const sod = finite(s.startOfDayEquityDollars, 'startOfDayEquityDollars');
  m.equity.set({ account }, equity);
  m.dailyPnl.set({ account }, equity - sod);
  m.dailyPnlRatio.set({ account }, sod > 0 ? (equity - sod) / sod : 0);
  let gross = 0;
  let net = 0;
  const qty = new Map<string, number>();
  const value = new Map<string, number>();
  for (const p of s.positions) {
    // Tickers past the cardinality cap share "other", so values are summed, not overwritten.
    const ticker = m.labels.ticker.value(p.ticker);
    qty.set(ticker, (qty.get(ticker) ?? 0) + finite(p.quantity, 'quantity'));
    value.set(ticker, (value.get(ticker) ?? 0) + finite(p.marketValueDollars, 'marketValueDollars'));
    gross += Math.abs(p.marketValueDollars);
    net += p.marketValueDollars;
  }
  // Positions closed since the last snapshot disappear instead of keeping their last value.
  for (const ticker of m.openPositionTickers(account)) {
    if (!qty.has(ticker)) {
      m.positionQuantity.remove({ account, ticker });
      m.positionValue.remove({ account, ticker });
    }
  }
  for (const [ticker, q] of qty) {
    m.positionQuantity.set({ account, ticker }, q);
    m.positionValue.set({ account, ticker }, value.get(ticker) ?? 0);
  }
  m.setOpenPositionTickers(account, [...qty.keys()]);
  m.exposureGross.set({ account }, gross);
  m.exposureNet.set({ account }, net);
}

export interface RiskSnapshot {
  readonly account: string;
  readonly state: RiskStateLabel;
  readonly openRiskRatio?: number;
  readonly drawdownRatio?: number;
  readonly dailyLossLimitRatio?: number;
}

export function setRiskState(s: RiskSnapshot, m: TradingMetrics = tradingMetrics): void {
  const account = m.labels.account.value(s.account);
  for (const state of RISK_STATES) m.riskState.set({ account, state }, state === s.state ? 1 : 0);
  if (s.openRiskRatio !== undefined)
    m.riskOpenRiskRatio.set({ account }, finite(s.openRiskRatio, 'openRiskRatio'));
  if (s.drawdownRatio !== undefined)
    m.riskDrawdownRatio.set({ account }, finite(s.drawdownRatio, 'drawdownRatio'));
  if (s.dailyLossLimitRatio !== undefined)
    m.riskDailyLossLimitRatio.set({ account }, finite(s.dailyLossLimitRatio, 'dailyLossLimitRatio'));
}

export function recordRiskBreach(account: string, limit: string, m: TradingMetrics = tradingMetrics): void {
  m.riskLimitBreaches.inc({ account: m.labels.account.value(account), limit: oneOf(RISK_LIMITS, limit) });
}

const sessionModelLabel = new Map<string, string>();

/** The model the account's session trades on (its id), or `indicator-fallback`: one series per account at a time. */
export function setSessionModel(account: string, model: string, m: TradingMetrics = tradingMetrics): void {
  const a = m.labels.account.value(account);
  const label = m.labels.model.value(model);
  const before = sessionModelLabel.get(a);
  if (before !== undefined && before !== label) m.sessionModel.remove({ account: a, model: before });
  m.sessionModel.set({ account: a, model: label }, 1);
  sessionModelLabel.set(a, label);
}

export function recordRiskDenial(account: string, limit: string, m: TradingMetrics = tradingMetrics): void {
  m.riskDenials.inc({ account: m.labels.account.value(account), limit: oneOf(RISK_LIMITS, limit) });
}

export interface OrderLabels {
  readonly ticker: string;
  readonly side: 'buy' | 'sell';
  readonly orderType?: string;
}

export function recordOrderSubmitted(o: OrderLabels, m: TradingMetrics = tradingMetrics): void {
  m.ordersSubmitted.inc({
    ticker: m.labels.ticker.value(o.ticker),
    side: oneOf(ORDER_SIDES, o.side),
    order_type: oneOf(ORDER_TYPES, o.orderType ?? 'market'),
  });
}

export interface FillSample {
  readonly ticker: string;
  readonly side: 'buy' | 'sell';
  readonly quantity: number;
  readonly fillPrice: number;
  /**
   * The price the decision was made at (e.g. the bar close the strategy saw); unknown (a fill of an order placed
   * before this process started): the fill and its notional count, its slippage is not observed.
   */
  readonly decisionPrice?: number;
}

/** Slippage in bps, signed so that positive is worse for the side: buying above or selling below the decision. */
export function slippageBps(side: 'buy' | 'sell', fillPrice: number, decisionPrice: number): number {
  if (!(decisionPrice > 0)) throw new RangeError(`decisionPrice: must be > 0 (got ${decisionPrice})`);
  const raw = ((fillPrice - decisionPrice) / decisionPrice) * 10_000;
  return side === 'buy' ? raw : -raw;
}

/** A complete fill: counts it, adds turnover and observes slippage against the decision price. */
export function recordOrderFilled(f: FillSample, m: TradingMetrics = tradingMetrics): void {
  const ticker = m.labels.ticker.value(f.ticker);
  const side = oneOf(ORDER_SIDES, f.side);
  m.ordersFilled.inc({ ticker, side });
  m.filledNotional.inc(
    { ticker, side },
    Math.abs(finite(f.quantity, 'quantity') * finite(f.fillPrice, 'fillPrice')),
  );
  if (f.decisionPrice !== undefined)
    m.slippage.observe({ side }, slippageBps(f.side, f.fillPrice, f.decisionPrice));
}

export function recordOrderRejected(
  ticker: string,
  reason: string,
  m: TradingMetrics = tradingMetrics,
): void {
  m.ordersRejected.inc({
    ticker: m.labels.ticker.value(ticker),
    reason: oneOf(ORDER_REJECT_REASONS, reason),
  });
}

/** Observes decision latency; stage "end_to_end" (default) is bar close → decisions returned. */
export function observeDecisionLatency(
  timeframe: string,
  seconds: number,
  stage: (typeof DECISION_STAGES)[number] = 'end_to_end',
  m: TradingMetrics = tradingMetrics,
): void {
  const tf = timeframeLabel(timeframe);
  m.decisionLatency.observe(
    { timeframe: tf, stage: oneOf(DECISION_STAGES, stage) },
    Math.max(0, finite(seconds, 'seconds')),
  );
  if (stage === 'end_to_end') m.decisions.inc({ timeframe: tf });
}

/** Records that bars up to `barEndMs` (exclusive end of the newest bar) are stored for symbol/timeframe. */
export function setDataFreshness(
  symbol: string,
  timeframe: string,
  barEndMs: number,
  m: TradingMetrics = tradingMetrics,
): void {
  m.noteLastBar(symbol, timeframe, finite(barEndMs, 'barEndMs'));
}

export function recordBarsIngested(
  symbol: string,
  timeframe: string,
  count: number,
  m: TradingMetrics = tradingMetrics,
): void {
  if (count > 0)
    m.barsIngested.inc(
      { symbol: m.labels.ticker.value(symbol), timeframe: timeframeLabel(timeframe) },
      count,
    );
}

/** A real-time bar reached the store `seconds` after its close at the venue (wall clock). */
export function observeBarStoreLatency(
  feed: string,
  path: 'stream' | 'rest',
  seconds: number,
  m: TradingMetrics = tradingMetrics,
): void {
  m.barStoreLatency.observe(
    { feed: oneOf(MARKET_DATA_FEEDS, feed), path: path === 'rest' ? 'rest' : 'stream' },
    Math.max(0, finite(seconds, 'seconds')),
  );
}

export function recordDataQualityReject(
  symbol: string,
  timeframe: string,
  reason: string,
  count = 1,
  m: TradingMetrics = tradingMetrics,
): void {
  m.dataQualityRejects.inc(
    {
      symbol: m.labels.ticker.value(symbol),
      timeframe: timeframeLabel(timeframe),
      reason: oneOf(DATA_QUALITY_REASONS, reason),
    },
    count,
  );
}

export function observePrediction(
  model: string,
  timeframe: string,
  score: number,
  m: TradingMetrics = tradingMetrics,
): void {
  m.prediction.observe(
    { model: m.labels.model.value(model), timeframe: timeframeLabel(timeframe) },
    finite(score, 'score'),
  );
}

export function setPredictionDrift(model: string, psi: number, m: TradingMetrics = tradingMetrics): void {
  m.predictionDrift.set({ model: m.labels.model.value(model) }, finite(psi, 'psi'));
}

export const LEARNING_DECISIONS = ['retrain', 'promote', 'reject', 'rollback'] as const;
export const REGIME_LABELS = ['warming-up', 'calm', 'trend-up', 'trend-down', 'volatile', 'crisis'] as const;

/** The drift monitor's day for one model (src/learning/drift.ts). */
export function setModelDrift(
  s: {
    readonly model: string;
    readonly predictionPsi: number | null;
    readonly maxFeaturePsi: number | null;
    readonly liveHitRate: number | null;
    readonly expectedHitRate: number | null;
    readonly distributionAlarm: boolean;
    readonly performanceAlarm: boolean;
  },
  m: TradingMetrics = tradingMetrics,
): void {
  const model = m.labels.model.value(s.model);
  if (s.predictionPsi !== null) setPredictionDrift(s.model, s.predictionPsi, m);
  if (s.maxFeaturePsi !== null) m.featureDriftMax.set({ model }, finite(s.maxFeaturePsi, 'maxFeaturePsi'));
  if (s.liveHitRate !== null) m.liveHitRate.set({ model }, finite(s.liveHitRate, 'liveHitRate'));
  if (s.expectedHitRate !== null)
    m.expectedHitRate.set({ model }, finite(s.expectedHitRate, 'expectedHitRate'));
  m.driftBreach.set({ model, kind: 'distribution' }, s.distributionAlarm ? 1 : 0);
  m.driftBreach.set({ model, kind: 'performance' }, s.performanceAlarm ? 1 : 0);
}

const championLabel = new Map<string, string>();

/** The learning loop's view of a model name: its champion, challengers in shadow, days to the next retrain. */
export function setLearningStatus(
  s: {
    readonly name: string;
    readonly champion: string | null;
    readonly shadows: number;
    readonly nextRetrainDays: number | null;
  },
  m: TradingMetrics = tradingMetrics,
): void {
  const name = m.labels.model.value(s.name);
  const model = s.champion ? m.labels.model.value(s.champion) : null;
  const before = championLabel.get(name);
  if (before !== undefined && before !== model) m.learningChampion.remove({ name, model: before });
  if (model) {
    m.learningChampion.set({ name, model }, 1);
    championLabel.set(name, model);
  } else championLabel.delete(name);
  m.learningShadows.set({ name }, s.shadows);
  if (s.nextRetrainDays !== null) m.learningNextRetrain.set({ name }, s.nextRetrainDays);
}

export function recordLearningDecision(
  name: string,
  decision: (typeof LEARNING_DECISIONS)[number],
  m: TradingMetrics = tradingMetrics,
): void {
  m.learningDecisions.inc({
    name: m.labels.model.value(name),
    decision: oneOf(LEARNING_DECISIONS, decision),
  });
}

export function setMarketRegime(symbol: string, state: string, m: TradingMetrics = tradingMetrics): void {
  const ticker = m.labels.ticker.value(symbol);
  for (const st of REGIME_LABELS) m.marketRegime.set({ ticker, state: st }, st === state ? 1 : 0);
}

export function setModelConfidence(
  model: string,
  confidence: number,
  m: TradingMetrics = tradingMetrics,
): void {
  m.modelConfidence.set(
    { model: m.labels.model.value(model) },
    Math.min(1, Math.max(0, finite(confidence, 'confidence'))),
  );
}

export function recordTrainingRun(
  model: string,
  outcome: (typeof TRAINING_OUTCOMES)[number],
  durationSeconds?: number,
  m: TradingMetrics = tradingMetrics,
): void {
  const label = m.labels.model.value(model);
  m.trainingRuns.inc({ model: label, outcome: oneOf(TRAINING_OUTCOMES, outcome) });
  if (durationSeconds !== undefined)
    m.trainingDuration.observe({ model: label }, finite(durationSeconds, 'durationSeconds'));
}

export function setWorkerUp(queue: string, up: boolean, m: TradingMetrics = tradingMetrics): void {
  m.workerUp.set({ queue: oneOf(WORKER_QUEUES, queue) }, up ? 1 : 0);
}

export function setWorkerInfo(
  info: { worker: string; version: string; tradingMode: string },
  m: TradingMetrics = tradingMetrics,
): void {
  m.workerInfo.reset();
  m.workerInfo.set(
    {
      worker: sanitizeLabel(info.worker),
      version: sanitizeLabel(info.version),
      node_version: process.version,
      trading_mode: sanitizeLabel(info.tradingMode),
    },
    1,
  );
}

export function recordWorkflowFailure(
  workflowType: string,
  status: 'failed' | 'timed_out' | 'terminated' | 'canceled' = 'failed',
  m: TradingMetrics = tradingMetrics,
): void {
  m.workflowFailures.inc({ workflow_type: m.labels.workflowType.value(workflowType), status });
}

export function recordAlertSent(
  severity: string,
  outcome: 'sent' | 'logged' | 'deduplicated' | 'rate_limited' | 'failed',
  m: TradingMetrics = tradingMetrics,
): void {
  m.alertsSent.inc({ severity: oneOf(['critical', 'warning', 'info'] as const, severity), outcome });
}

export interface HostSample {
  readonly cpuUtilization: number;
  readonly gpus: ReadonlyArray<{
    readonly index: number;
    readonly utilization: number;
    readonly memoryUsedBytes: number;
  }>;
}

export function setHostStats(h: HostSample, m: TradingMetrics = tradingMetrics): void {
  m.hostCpuUtilization.set(
    { host: sanitizeLabel(hostname()) },
    Math.min(1, Math.max(0, finite(h.cpuUtilization, 'cpuUtilization'))),
  );
  // GPU indexes are few (a node has at most 8-16), so the label stays bounded.
  for (const g of h.gpus.slice(0, 16)) {
    m.gpuUtilization.set(
      { gpu: String(g.index) },
      Math.min(1, Math.max(0, finite(g.utilization, 'utilization'))),
    );
    m.gpuMemoryUsed.set({ gpu: String(g.index) }, finite(g.memoryUsedBytes, 'memoryUsedBytes'));
  }
}

function finite(v: number, field: string): number {
  if (!Number.isFinite(v)) throw new RangeError(`${field}: must be a finite number (got ${v})`);
  return v;
}
