/**
 * Continuous learning as workflows (docs/models.md, "Continuous learning"): the post-market learning cycle per
 * model name (drift monitor → shadow evaluation → the policy's decisions → retrain into shadow / promote / reject),
 * the drift monitor per model, and the Bayesian hyperparameter search. Plain JSON only.
 */
import type { DatasetRef, GateDecisionDto, RetrainModelSpec } from './retrain';

/** The policy's knobs; every field has a default (`DEFAULT_LEARNING_CONFIG` in src/learning/policy.ts). */
export interface LearningConfig {
  /** trading days of paired shadow predictions before a challenger can be promoted */
  readonly shadowDays: number;
  /** a challenger not proven after this many shadow days is rejected */
  readonly maxShadowDays: number;
  /** scheduled retrain every this many learning days (0: only drift triggers retrain) */
  readonly retrainEveryDays: number;
  /** no retrain within this many learning days of the previous one */
  readonly cooldownDays: number;
  /** calendar days of stored 1m bars (up to the day's close) a retrain trains on */
  readonly trainWindowDays: number;
  /**
   * Trading days (the day and the ones before it) whose feature rows and scores the distribution checks read:
   * one day of 5-minute rows is a small, autocorrelated sample
   */
  readonly driftWindowDays: number;
  /** PSI of the window's scores vs out-of-sample scores above this is a breach */
  readonly predictionPsiThreshold: number;
  /** PSI of a feature vs the training window above this is a breach */
  readonly featurePsiThreshold: number;
  /** share of features over their threshold that makes the feature distribution a breach */
  readonly featureBreachShare: number;
  /** consecutive days of a distribution breach before it triggers a retrain */
  readonly psiDays: number;
  /** significance of the gate's one-sided test on the shadow record */
  readonly alpha: number;
  /** cost per unit of position taken, as a fraction, in the realised and shadow P&L */
  readonly costRate: number;
  /** rows per block in the gate's block sums (at least the horizon in rows) */
  readonly blockRows: number;
  readonly sprt: { readonly delta: number; readonly alpha: number; readonly beta: number };
  readonly cusum: { readonly k: number; readonly h: number };
}

/** The sequential tests' state per model (continues from the model's previous drift day). */
export interface SequentialStateDto {
  readonly sprt: {
    readonly llr: number;
    readonly n: number;
    readonly restarts: number;
    readonly verdict: 'continue' | 'degraded';
  };
  readonly cusum: { readonly s: number; readonly days: number; readonly alarm: boolean };
  /** the day's standardised shortfall fed to the CUSUM (null: no realised rows that day) */
  readonly z: number | null;
}

/** A regime as the detector reports it at a day's close (src/learning/regime.ts). */
export interface RegimeSnapshotDto {
  readonly symbol: string;
  readonly state: 'warming-up' | 'calm' | 'trend-up' | 'trend-down' | 'volatile' | 'crisis';
  readonly volRatio: number;
  readonly trendZ: number;
  readonly days: number;
}

/** The drift monitor's report of one model on one trading day (stored in `model_drift`). */
export interface DriftReportDto {
  readonly modelId: string;
  readonly name: string;
  /** New York trading day, YYYY-MM-DD */
  readonly day: string;
  /** trading days the distribution checks read (the day and the ones before it) */
  readonly windowDays: number;
  /** feature rows recomputed from the window's stored bars */
  readonly featureRows: number;
  readonly featurePsi: Readonly<Record<string, number>>;
  readonly maxFeaturePsi: number | null;
  /** features over the feature threshold, worst first */
  readonly driftedFeatures: readonly string[];
  /** the model's predictions in the window (traded or shadow) */
  readonly predictionRows: number;
  readonly predictionPsi: number | null;
  /** predictions of the day whose outcome is known from the stored bars */
  readonly live: {
    readonly rows: number;
    readonly hitRate: number | null;
    readonly meanReturn: number | null;
    /** sum of the rows' returns: position sign(expected return), minus costs */
    readonly pnl: number;
  };
  /** the model's out-of-sample record on the same terms (null: the registry row has none) */
  readonly expected: {
    readonly hitRate: number;
    readonly meanReturn: number;
    readonly sdReturn: number;
    readonly rows: number;
  } | null;
  readonly sequential: SequentialStateDto;
  readonly regime: RegimeSnapshotDto | null;
  /** the sequential tests say the live record is worse than the out-of-sample one */
  readonly performanceAlarm: boolean;
  /** the features' or the scores' distribution moved past its threshold */
  readonly distributionAlarm: boolean;
  readonly breach: boolean;
  readonly reasons: readonly string[];
}

/** A shadow challenger's record against the champion over the same bars. */
export interface ShadowEvaluationDto {
  readonly modelId: string;
  /** the day it entered shadow */
  readonly enteredDay: string;
  /** distinct trading days with paired predictions (challenger and champion on the same symbol and bar) */
  readonly days: number;
  readonly pairs: number;
  readonly challengerPnl: number;
  readonly championPnl: number;
  readonly challengerHitRate: number | null;
  readonly championHitRate: number | null;
  /** the gate's test on the paired per-row P&L (null: fewer than two blocks) */
  readonly gate: GateDecisionDto | null;
}

/** What the learning policy carries from one day to the next (one row per name and day in `learning_days`). */
export interface LearningStateDto {
  readonly version: 1;
  readonly championId: string | null;
  /** learning days run so far (trading days the cycle ran) */
  readonly cycles: number;
  /** cycle number of the last retrain started (null: none) */
  readonly lastRetrainCycle: number | null;
  readonly lastRetrainDay: string | null;
  /** consecutive days with a distribution breach of the champion */
  readonly distributionBreachDays: number;
}

export type RetrainTrigger = 'bootstrap' | 'schedule' | 'performance' | 'distribution';

/** What the policy decided on a day, and what came of it. */
export interface LearningDecisionsDto {
  readonly retrain: {
    readonly trigger: RetrainTrigger;
    readonly reason: string;
    readonly workflowId?: string;
    /** the model the retrain registered and its entry decision (absent until it finished) */
    readonly modelId?: string;
    readonly outcome?: 'shadow' | 'promoted' | 'rejected' | 'duplicate';
  } | null;
  readonly promote: { readonly modelId: string; readonly reason: string } | null;
  readonly reject: ReadonlyArray<{ readonly modelId: string; readonly reason: string }>;
  /** why nothing else happened (cool-down, a challenger still in shadow, …) */
  readonly notes: readonly string[];
}

/** What the policy decides on: the day's facts, gathered by activities. */
export interface LearningDayInputs {
  readonly day: string;
  readonly championId: string | null;
  readonly drift: DriftReportDto | null;
  readonly shadows: readonly ShadowEvaluationDto[];
}

/** How a retrain started by the loop is set up (defaults: the champion's spec, feature set, symbol, horizon). */
export interface LearningRetrainTemplate {
  readonly symbol?: string;
  readonly spec?: RetrainModelSpec;
  readonly featureSet?: string;
  readonly horizonMinutes?: number;
  readonly maxRows?: number;
  readonly folds?: number;
  readonly embargoMinutes?: number;
}

export interface LearningCycleInput {
  /** model name (the champion and challengers are per name) */
  readonly name: string;
  /** New York trading day to run (default: today in New York, by workflow time) */
  readonly day?: string;
  readonly config?: Partial<LearningConfig>;
  readonly retrain?: LearningRetrainTemplate;
  readonly taskQueues?: { readonly io?: string; readonly training?: string };
}

export interface LearningCycleResult {
  readonly name: string;
  readonly day: string;
  /** null: not a trading day (weekend or exchange holiday) */
  readonly skipped: string | null;
  readonly championId: string | null;
  readonly drift: DriftReportDto | null;
  readonly shadows: readonly ShadowEvaluationDto[];
  readonly decisions: LearningDecisionsDto | null;
  readonly state: LearningStateDto | null;
}

export interface DriftMonitorInput {
  readonly modelId: string;
  readonly name: string;
  readonly day: string;
  readonly config?: Partial<LearningConfig>;
  readonly taskQueues?: { readonly io?: string };
}

/** The learning day's context from the registry and the previous day. */
export interface LearningContextDto {
  readonly day: string;
  /** why the day is not a trading day (null: it is) */
  readonly closed: string | null;
  readonly champion: {
    readonly id: string;
    readonly symbol: string;
    readonly spec: RetrainModelSpec | null;
    readonly featureSet: string;
    readonly horizonMinutes: number;
  } | null;
  readonly shadows: ReadonlyArray<{ readonly id: string; readonly enteredDay: string }>;
  /** the newest earlier day's state (null: the first day) */
  readonly previous: { readonly day: string; readonly state: LearningStateDto } | null;
  /** the training window of a retrain today: [fromMs, toMs) of stored 1m bars, up to the day's close */
  readonly trainWindow: { readonly fromMs: number; readonly toMs: number };
}

export interface LearningActivities {
  learningContext(input: { name: string; day: string; trainWindowDays: number }): Promise<LearningContextDto>;
  /** Drift of one model on one day: computed from stored bars and predictions, stored, exported as metrics. */
  computeDrift(input: {
    modelId: string;
    name: string;
    day: string;
    config: LearningConfig;
  }): Promise<DriftReportDto>;
  evaluateShadow(input: {
    name: string;
    championId: string | null;
    shadowId: string;
    enteredDay: string;
    day: string;
    config: LearningConfig;
  }): Promise<ShadowEvaluationDto>;
  /** Registry status change with its audit row and operator alert (idempotent per workflow and model). */
  applyModelDecision(input: {
    name: string;
    modelId: string;
    decision: 'promote' | 'reject';
    reason: string;
    workflowId: string;
    day: string;
  }): Promise<void>;
  /** The members' live out-of-sample record per day (from the predictions table): ensembles weight on it. */
  refreshLiveRecords(input: {
    name: string;
    day: string;
    config: LearningConfig;
  }): Promise<{ updated: string[] }>;
  recordLearningDay(input: {
    name: string;
    day: string;
    state: LearningStateDto;
    decisions: LearningDecisionsDto;
    inputs: LearningDayInputs;
    workflowId: string;
    config: LearningConfig;
  }): Promise<void>;
}

// ---- hyperparameter search ----------------------------------------------------------------------------------

export type HpoParamDto =
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'float'; readonly min: number; readonly max: number; readonly log?: boolean }
  | { readonly kind: 'choice'; readonly values: ReadonlyArray<string | number> };

export interface HpoInput {
  /** the search's id: trials are stored under it (default: the workflow id) */
  readonly searchId?: string;
  readonly name: string;
  readonly source:
    | { readonly kind: 'shared-csv'; readonly path: string; readonly symbol: string }
    | { readonly kind: 'db'; readonly symbol: string; readonly fromMs: number; readonly toMs: number };
  readonly featureSet?: string;
  readonly horizonMinutes?: number;
  readonly maxRows?: number;
  /** the spec every trial starts from; trial parameters go into `params` (XGBoost) or the spec's fields (nets) */
  readonly spec: RetrainModelSpec;
  /** the search space (default: depth, learning rate, subsample, min child weight for XGBoost) */
  readonly space?: Readonly<Record<string, HpoParamDto>>;
  readonly trials: number;
  /** trials run at once on the training queue */
  readonly parallel?: number;
  /** random trials before the TPE model proposes (default max(4, 2 × parallel)) */
  readonly startupTrials?: number;
  readonly folds?: number;
  readonly embargoMinutes?: number;
  readonly seed?: number;
  readonly taskQueues?: { readonly io?: string; readonly training?: string };
  /** heartbeat timeout of a trial (a dead worker is found after this; default 30 s) */
  readonly trialHeartbeatTimeoutMs?: number;
  /** trials finished in earlier runs of this workflow (continue-as-new carries them) */
  readonly finished?: readonly HpoTrialDto[];
}

export interface HpoTrialDto {
  readonly trial: number;
  readonly params: Readonly<Record<string, string | number>>;
  /** out-of-sample net P&L on the walk-forward folds (bigger is better) */
  readonly score: number;
  /** computed now, or read back (a finished trial is never computed twice) */
  readonly reused: boolean;
}

export interface HpoResult {
  readonly searchId: string;
  readonly trials: readonly HpoTrialDto[];
  readonly best: HpoTrialDto;
  /** the base spec with the best trial's parameters */
  readonly spec: RetrainModelSpec;
}

export interface HpoActivities {
  /** TPE proposals for the next trials given every finished one (deterministic for the inputs and seed). */
  suggestHpoTrials(input: {
    space: Readonly<Record<string, HpoParamDto>>;
    finished: readonly HpoTrialDto[];
    trials: readonly number[];
    seed: number;
    startupTrials: number;
  }): Promise<Array<{ trial: number; params: Record<string, string | number> }>>;
}

export interface HpoTrainingActivities {
  /** One trial on the walk-forward folds (training queue, heartbeating); a finished trial is read back, not rerun. */
  runHpoTrial(input: {
    searchId: string;
    trial: number;
    params: Record<string, string | number>;
    spec: RetrainModelSpec;
    dataset: DatasetRef;
    folds: number;
    embargoMinutes: number;
  }): Promise<HpoTrialDto>;
}

export const LEARNING_CYCLE_WORKFLOW = 'learningCycleWorkflow';
export const SCHEDULED_LEARNING_WORKFLOW = 'scheduledLearningWorkflow';
export const HPO_WORKFLOW = 'hpoWorkflow';

/** One learning cycle per name and day: a second start of the same day joins the first. */
export function learningCycleWorkflowId(name: string, day: string): string {
  return `learning-${name}-${day}`;
}

/** One retrain per name and day, whoever asks (the schedule or a drift trigger): the id deduplicates. */
export function learningRetrainWorkflowId(name: string, day: string): string {
  return `retrain-${name}-${day}`;
}
