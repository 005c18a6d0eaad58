/** RetrainWorkflow: dataset (io) → train (training) → walk-forward evaluation → register → gate → promote/reject → alert. */

/** Where the training bars come from: a CSV in ../shared/data, or 1-minute bars already in the bars table. */
export type RetrainDataSource =
  | { kind: 'shared-csv'; path: string; symbol: string }
  | { kind: 'db'; symbol: string; fromMs: number; toMs: number };

/** JSON-safe copy of src/models/spec (workflows may not import src/models). */
export interface RetrainModelSpec {
  kind: 'xgboost';
  objective: 'dollar_profit' | 'squared_error';
  rounds: number;
  earlyStoppingRounds?: number;
  params: Record<string, string | number | boolean>;
  costRate: number;
  positionPenalty: number;
}

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
}

export interface RegisteredDto {
  id: string;
  onnxPath: string;
  nativePath: string;
  parityMaxAbsDiff: number;
}

export interface RetrainResult {
  modelId: string;
  decision: 'promoted' | 'rejected';
  gate: GateDecisionDto;
  oos: OosSummary;
  parityMaxAbsDiff: number;
  resumedFromRound: number;
  dataHash: string;
}

export interface ModelIoActivities {
  buildRetrainDataset(input: {
    source: RetrainDataSource;
    horizonMinutes: number;
    maxRows?: number;
    featureSet?: string;
  }): Promise<DatasetRef>;
  notifyRetrain(input: {
    workflowId: string;
    name: string;
    modelId: string;
    decision: 'promoted' | 'rejected';
    reason: string;
    oos: OosSummary;
  }): Promise<void>;
}

export interface TrainingActivities {
  trainRetrainModel(input: {
    runKey: string;
    dataset: DatasetRef;
    spec: RetrainModelSpec;
  }): Promise<TrainResultDto>;
  evaluateRetrainModel(input: {
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
  setModelDecision(input: { id: string; promote: boolean }): Promise<void>;
  trainLstmModel(input: LstmTrainInput): Promise<LstmTrainResult>;
}

/** LSTM over windows of consecutive dataset rows; heartbeats and checkpoints every epoch. */
export interface LstmTrainInput {
  runKey: string;
  dataset: DatasetRef;
  timesteps: number;
  units: number;
  epochs: number;
  batchSize?: number;
}

export interface LstmTrainResult {
  runKey: string;
  onnxPath: string;
  epochs: number;
  resumedFromEpoch: number;
  parityMaxAbsDiff: number;
  backend: string;
  samples: number;
}

export const RETRAIN_WORKFLOW = 'retrainWorkflow';
