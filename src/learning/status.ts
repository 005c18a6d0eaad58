/**
 * What `trader learning status` shows for a model name, read from the registry and the learning loop's tables:
 * the champion, the challengers in shadow with their record so far, the champion's newest drift report and
 * the regime it saw, the next retrain (the learning Schedule's next run and the policy's days to the scheduled
 * retrain), the newest decisions and the status history. I/O (PostgreSQL) only; no Temporal.
 */
import type { Pool } from 'pg';
import type {
  LearningConfig,
  LearningDecisionsDto,
  LearningStateDto,
  RegimeSnapshotDto,
  SequentialStateDto,
  ShadowEvaluationDto,
} from '../../contracts/learning';
import type { ModelRegistry, StatusEvent } from '../models/registry/registry';
import { daysToScheduledRetrain, learningConfig } from './policy';

export interface DriftRow {
  readonly modelId: string;
  readonly day: string;
  readonly featureRows: number;
  readonly maxFeaturePsi: number | null;
  readonly predictionRows: number;
  readonly predictionPsi: number | null;
  readonly liveRows: number;
  readonly liveHitRate: number | null;
  readonly livePnl: number | null;
  readonly expectedHitRate: number | null;
  readonly sequential: SequentialStateDto;
  readonly breach: boolean;
  readonly reasons: readonly string[];
  readonly regime: RegimeSnapshotDto | null;
}

export interface LearningDayRow {
  readonly day: string;
  readonly championId: string | null;
  readonly state: LearningStateDto;
  readonly decisions: LearningDecisionsDto;
  readonly shadows: readonly ShadowEvaluationDto[];
  /** the policy's config that day */
  readonly config: LearningConfig | null;
  readonly workflowId: string | null;
}

export interface LearningStatus {
  readonly name: string;
  readonly champion: {
    readonly id: string;
    readonly since: number | null;
    readonly oosHitRate: number | null;
  } | null;
  readonly shadows: ReadonlyArray<{
    readonly id: string;
    readonly since: number | null;
    /** the record as of the newest learning day (null: not evaluated yet) */
    readonly record: ShadowEvaluationDto | null;
  }>;
  readonly drift: DriftRow | null;
  readonly regime: RegimeSnapshotDto | null;
  readonly lastDay: LearningDayRow | null;
  /** learning days to the scheduled retrain (null: no schedule cadence, or no day run yet) */
  readonly scheduledRetrainInDays: number | null;
  readonly recentDays: readonly LearningDayRow[];
  readonly history: readonly StatusEvent[];
}

export async function driftRows(pool: Pool, modelId: string, limit = 20): Promise<DriftRow[]> {
  const { rows } = await pool.query<{
    model_id: string;
    day: string;
    feature_rows: number;
    max_feature_psi: number | null;
    prediction_rows: number;
    prediction_psi: number | null;
    live_rows: number;
    live_hit_rate: number | null;
    live_pnl: number | null;
    expected_hit_rate: number | null;
    sequential: SequentialStateDto;
    breach: boolean;
    reasons: string[];
    regime: RegimeSnapshotDto | null;
  }>(
    `select model_id, to_char(day, 'YYYY-MM-DD') as day, feature_rows, max_feature_psi, prediction_rows, prediction_psi,
            live_rows, live_hit_rate, live_pnl, expected_hit_rate, sequential, breach, reasons, regime
       from model_drift where model_id = $1 order by day desc limit $2`,
    [modelId, limit],
  );
  return rows.map((r) => ({
    modelId: r.model_id,
    day: r.day,
    featureRows: r.feature_rows,
    maxFeaturePsi: r.max_feature_psi,
    predictionRows: r.prediction_rows,
    predictionPsi: r.prediction_psi,
    liveRows: r.live_rows,
    liveHitRate: r.live_hit_rate,
    livePnl: r.live_pnl,
    expectedHitRate: r.expected_hit_rate,
    sequential: r.sequential,
    breach: r.breach,
    reasons: r.reasons,
    regime: r.regime,
  }));
}

export async function learningDays(pool: Pool, name: string, limit = 10): Promise<LearningDayRow[]> {
  const { rows } = await pool.query<{
    day: string;
    champion_id: string | null;
    state: LearningStateDto;
    decisions: LearningDecisionsDto;
    inputs: { shadows?: ShadowEvaluationDto[]; config?: LearningConfig };
    workflow_id: string | null;
  }>(
    `select to_char(day, 'YYYY-MM-DD') as day, champion_id, state, decisions, inputs, workflow_id
       from learning_days where name = $1 order by day desc limit $2`,
    [name, limit],
  );
  return rows.map((r) => ({
    day: r.day,
    championId: r.champion_id,
    state: r.state,
    decisions: r.decisions,
    shadows: r.inputs.shadows ?? [],
    config: r.inputs.config ?? null,
    workflowId: r.workflow_id,
  }));
}

export async function readLearningStatus(
  pool: Pool,
  registry: ModelRegistry,
  name: string,
  config?: Partial<LearningConfig>,
): Promise<LearningStatus> {
  const champ = await registry.champion(name);
  const shadows = await registry.shadows(name);
  const history = await registry.statusHistory(name, 20);
  const since = (id: string) => history.find((e) => e.modelId === id && e.to !== 'retired')?.at ?? null;
  const recentDays = await learningDays(pool, name, 10);
  const lastDay = recentDays[0] ?? null;
  const drift = champ ? ((await driftRows(pool, champ.id, 1))[0] ?? null) : null;
  const perf = champ ? (champ.metrics as { drift?: { performance?: { hitRate: number } } }).drift : undefined;
  return {
    name,
    champion: champ
      ? { id: champ.id, since: since(champ.id), oosHitRate: perf?.performance?.hitRate ?? null }
      : null,
    shadows: shadows.map((m) => ({
      id: m.id,
      since: since(m.id),
      record: lastDay?.shadows.find((s) => s.modelId === m.id) ?? null,
    })),
    drift,
    regime: drift?.regime ?? null,
    lastDay,
    scheduledRetrainInDays: lastDay
      ? daysToScheduledRetrain(lastDay.state, learningConfig({ ...(lastDay.config ?? {}), ...config }))
      : null,
    recentDays,
    history,
  };
}
