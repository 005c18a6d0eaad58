/** RetrainWorkflow: dataset (io) → train (training) → walk-forward evaluation → register → gate → promote/reject → alert. */

/** Where the training bars come from: a CSV in ../shared/data, or 1-minute bars already in the bars table. */
export type RetrainDataSource =
  | { kind: 'shared-csv'; path: string; symbol: string }
  | { kind: 'db'; symbol: string; fromMs: number; toMs: number };

/**
 * JSON-safe copy of src/models/spec (workflows may not import src/models); the training activities validate it
 * with the zod schema and name the first bad field.
 */
export interface RetrainXGBoostSpec {
  kind: 'xgboost';
  objective: 'dollar_profit' | 'squared_error';
  rounds: number;
  earlyStoppingRounds?: number;
  params: Record<string, string | number | boolean>;
  costRate: number;
  positionPenalty: number;
}

/** Fields of every neural net: a window of feature rows in, 10/50/90% quantiles of the forward return out. */
interface RetrainNeuralFields {
  /** Feature rows per input window (consecutive bars of the feature set's base timeframe). */
  window: number;
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  costRate: number;
}

export interface RetrainRecurrentSpec extends RetrainNeuralFields {
  kind: 'lstm' | 'gru';
  units: number;
}

export interface RetrainTransformerSpec extends RetrainNeuralFields {
  kind: 'transformer';
  dModel: number;
  heads: number;
  layers: number;
}

export interface RetrainMtfAttentionSpec extends RetrainNeuralFields {
  kind: 'mtf-attention';
  dModel: number;
  heads: number;
}

export type RetrainModelSpec =
  RetrainXGBoostSpec | RetrainRecurrentSpec | RetrainTransformerSpec | RetrainMtfAttentionSpec;

export interface RetrainInput {
  /** Model name in the registry; the champion is per name. */
  name: string;
  source: RetrainDataSource;
  /** 'models.minute-basic' (this area's own features, default) or a src/features set name ('core', 'compact'). */
  featureSet?: string;
  spec: RetrainModelSpec;
  horizonMinutes?: number;
  /** Keep only the last N dataset rows (small, fast runs). */
  maxRows?: number;
  folds?: number;
  embargoMinutes?: number;
  /** Significance level of the gate's one-sided test (default 0.05). */
  alpha?: number;
  /** Task-queue overrides (tests use unique names); default io / training. */
  taskQueues?: { io?: string; training?: string };
  /** Heartbeat timeout of the training activity; a dead worker is detected after this (default 30 s). */
  trainHeartbeatTimeoutMs?: number;
  /**
   * What the gate's verdict does: 'gate' (default) promotes a model that passes the walk-forward gate; 'shadow'
   * puts every model the leakage screen does not refuse in shadow status (scored beside the champion in live
   * sessions, never traded): the learning loop promotes it only if its shadow record beats the champion's.
   */
  promotion?: 'gate' | 'shadow';
  /**
   * Pipeline self-test: the dataset step adds a feature built from the future return (`canary_future_return`);
   * the evaluate step must catch it and the model must be refused, not promoted.
   */
  leakageCanary?: boolean;
}

/** A feature whose out-of-sample rank correlation with the label is implausibly strong (|IC| > 0.3). */
export interface LeakageFindingDto {
  feature: string;
  ic: number;
}

export interface DatasetRef {
  path: string;
  dataHash: string;
  symbol: string;
  featureSet: string;
  featureSetVersion: string;
  featureNames: string[];
  rows: number;
  fromMs: number;
  toMs: number;
  horizonMinutes: number;
  /** Milliseconds between feature rows (the feature set's base timeframe); absent in older histories. */
  barMs?: number;
}

export interface TrainResultDto {
  runKey: string;
  modelPath: string;
  rounds: number;
  /** Round the activity resumed from (0 = started fresh): proves checkpoint recovery. */
  resumedFromRound: number;
  attempt: number;
}

export interface OosSummary {
  netPnl: number;
  grossPnl: number;
  costs: number;
  sharpe: number;
  hitRate: number;
  trades: number;
  ic: number;
}

export interface GateDecisionDto {
  promote: boolean;
  test: string;
  blocks: number;
  meanDiff: number;
  tStat: number;
  pValue: number;
  alpha: number;
  reason: string;
}

export interface EvaluationDto {
  challenger: {
    summary: OosSummary;
    folds: Array<OosSummary & { fold: number; trainRows: number; testRows: number }>;
  };
  champion: { id: string; summary: OosSummary } | null;
  gate: GateDecisionDto;
  /** Features the leakage screen flagged on the evaluation folds; non-empty means the model is refused. */
  leakage?: LeakageFindingDto[];
  /** Challenger's out-of-sample net P&L per UTC day [dayStartMs, pnl], oldest first (ensemble weights use it). */
  oosPnlByDay?: Array<[number, number]>;
  /** Standard deviation of the challenger's out-of-sample scores (ensembles read members as z-scores). */
  oosScoreSd?: number;
  /** XGBoost: the walk-forward fold models (JSON paths) whose spread gives the served interval. */
  foldModels?: string[];
  /** The drift monitor's reference: OOS score bins and record (src/learning/drift.ts); stored with the model. */
  driftReference?: {
    scores: { edges: number[]; props: number[]; missing: number; n: number };
    performance: { hitRate: number; meanReturn: number; sdReturn: number; rows: number };
    costRate: number;
  };
  /** Permutation importance on the last OOS fold (src/learning/importance.ts); stored with the model. */
  permutationImportance?: {
    method: 'oos-permutation';
    metric: 'net-pnl-drop';
    fold: number;
    rows: number;
    baselineNetPnl: number;
    values: Record<string, number>;
  };
}

export interface RegisteredDto {
  id: string;
  onnxPath: string;
  nativePath: string;
  parityMaxAbsDiff: number;
}

export interface RetrainResult {
  modelId: string;
  /** Absent in histories recorded before model kinds existed (then xgboost). */
  kind?: RetrainModelSpec['kind'];
  /** 'shadow': `promotion: 'shadow'` and not refused; the learning loop decides later */
  decision: 'promoted' | 'rejected' | 'shadow';
  gate: GateDecisionDto;
  oos: OosSummary;
  parityMaxAbsDiff: number;
  resumedFromRound: number;
  dataHash: string;
  leakage?: LeakageFindingDto[];
}

export interface ModelIoActivities {
  buildRetrainDataset(input: {
    source: RetrainDataSource;
    horizonMinutes: number;
    maxRows?: number;
    featureSet?: string;
    leakageCanary?: boolean;
  }): Promise<DatasetRef>;
  notifyRetrain(input: {
    workflowId: string;
    name: string;
    modelId: string;
    decision: 'promoted' | 'rejected' | 'shadow';
    reason: string;
    oos: OosSummary;
  }): Promise<void>;
}

export interface TrainingActivities {
  /** Final model on all rows; heartbeats and checkpoints every boosting round / epoch; a retry resumes. */
  trainRetrainModel(input: {
    runKey: string;
    dataset: DatasetRef;
    spec: RetrainModelSpec;
  }): Promise<TrainResultDto>;
  /** Leakage screen, then challenger and champion on the same purged walk-forward folds, then the gate. */
  evaluateRetrainModel(input: {
    /** Where fold models are kept for registration (absent in older histories). */
    runKey?: string;
    name: string;
    dataset: DatasetRef;
    spec: RetrainModelSpec;
    folds: number;
    embargoMinutes: number;
    alpha: number;
  }): Promise<EvaluationDto>;
  registerRetrainModel(input: {
    id: string;
    name: string;
    workflowId: string;
    dataset: DatasetRef;
    spec: RetrainModelSpec;
    modelPath: string;
    evaluation: EvaluationDto;
  }): Promise<RegisteredDto>;
  /** Promote, or (not promoted) shadow when `shadow`, else reject; idempotent. */
  setModelDecision(input: { id: string; promote: boolean; shadow?: boolean }): Promise<void>;
}

export const RETRAIN_WORKFLOW = 'retrainWorkflow';
