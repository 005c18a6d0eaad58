import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import type {
  DriftReportDto,
  HpoActivities,
  LearningActivities,
  LearningConfig,
  LearningContextDto,
  LearningStateDto,
  RegimeSnapshotDto,
  SequentialStateDto,
} from '../contracts/learning';
import type { RetrainModelSpec } from '../contracts/retrain';
import { FEATURE_SETS } from '../src/features';
import { driftReport, realise, type DriftReference } from '../src/learning/drift';
import { daysToScheduledRetrain } from '../src/learning/policy';
import { regimeByDay } from '../src/learning/regime';
import { evaluateShadowRecord, type SourcedPrediction } from '../src/learning/shadow';
import { NYSE, addDays, nyDate } from '../src/market/calendar';
import type { Bar } from '../src/model/bar';
import { TradingError, ValidationError } from '../src/model/errors';
import { TIMEFRAME_MS, type Timeframe } from '../src/model/timeframe';
import {
  buildDatasetFor,
  MODELS_FEATURE_SET,
  type DatasetFeatureSet,
  type MinuteBars,
} from '../src/models/dataset';
import { suggestTrials, type ParamSpace } from '../src/models/hpo/tpe';
import { ModelRegistry, type ModelRecord } from '../src/models/registry/registry';
import { AuditLog } from '../src/monitoring/audit/audit-log';
import {
  recordLearningDecision,
  setLearningStatus,
  setMarketRegime,
  setModelDrift,
} from '../src/monitoring/metrics';
import { PgBarSource } from '../src/storage/bar-store';
import { predictionsOf, type PredictionRow } from '../src/storage/prediction-repo';

export interface LearningDeps {
  readonly pool: Pool;
  readonly artifactDir: string;
  readonly log?: (msg: string) => void;
}

const DAY_MS = 86_400_000;

/** A trading day's regular session, or why there is none. */
function sessionOf(day: string): { openMs: number; closeMs: number } | string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new ValidationError('day', `"${day}" is not a date YYYY-MM-DD`);
  const s = NYSE.sessionFor(day);
  if (!s) {
    const dow = new Date(`${day}T12:00:00Z`).getUTCDay();
    return dow === 0 || dow === 6 ? 'weekend' : 'exchange holiday';
  }
  return { openMs: s.openMs, closeMs: s.closeMs };
}

function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((err: unknown) => {
    if ((err instanceof TradingError && !err.retryable) || err instanceof RangeError)
      throw ApplicationFailure.nonRetryable((err as Error).message, (err as Error).name);
    throw err;
  });
}

function columns(symbol: string, bars: readonly Bar[]): MinuteBars {
  const col = (f: (b: Bar) => number) => Float64Array.from(bars, f);
  return {
    symbol,
    ts: col((b) => b.ts),
    open: col((b) => b.open),
    high: col((b) => b.high),
    low: col((b) => b.low),
    close: col((b) => b.close),
    volume: col((b) => b.volume),
  };
}

/** Calendar days of bars a feature set needs before a day for its slowest feature to be warm (generous). */
function warmUpDays(featureSet: string): number {
  const set = FEATURE_SETS[featureSet.replace(/^features\./, '')];
  if (!set) return 5;
  let sessions = 1;
  for (const f of set.features) {
    const perSession = Math.max(1, Math.floor((390 * 60_000) / TIMEFRAME_MS[f.timeframe]));
    sessions = Math.max(sessions, Math.ceil((f.period ?? 14) / perSession) + 1);
  }
  return Math.min(120, Math.ceil(sessions * 1.6) + 5);
}

function datasetSetName(featureSet: string): DatasetFeatureSet | null {
  if (featureSet === MODELS_FEATURE_SET) return MODELS_FEATURE_SET;
  const name = featureSet.replace(/^features\./, '');
  return name in FEATURE_SETS ? (name as DatasetFeatureSet) : null;
}

function horizonOf(rec: ModelRecord): number {
  return (rec.metrics as { horizonMinutes?: number }).horizonMinutes ?? 5;
}

/** Activities of the learning loop (io queue): drift, shadow records, registry decisions, the day's record. */
export function createLearningActivities(deps: LearningDeps): LearningActivities & HpoActivities {
  const registry = new ModelRegistry(deps.pool, deps.artifactDir);
  const bars = new PgBarSource(deps.pool);
  const audit = new AuditLog(deps.pool);
  const log = deps.log ?? ((m: string) => console.log(m));

  /** Minute closes of symbols over (from, until], by bar end time: close at T = the 1m bar that ended at T. */
  async function closesBetween(symbols: readonly string[], from: number, until: number) {
    const rows = await bars.barsBetween(symbols, from - 60_000, until);
    const bySymbol = new Map<string, Map<number, number>>();
    for (const b of rows) {
      let m = bySymbol.get(b.symbol);
      if (!m) bySymbol.set(b.symbol, (m = new Map()));
      m.set(b.ts + 60_000, b.close);
    }
    return (symbol: string, t: number) => bySymbol.get(symbol)?.get(t);
  }

  /** The regime of a symbol at a day's close, from its daily closes up to that close (never later). */
  async function regimeAt(symbol: string, day: string, closeMs: number): Promise<RegimeSnapshotDto | null> {
    const { rows } = await deps.pool.query<{ d: string; close: number }>(
      `select to_char((ts at time zone 'America/New_York')::date, 'YYYY-MM-DD') as d,
              (array_agg(close order by ts desc))[1] as close
         from bars
        where symbol = $1 and timeframe = '1m' and ts >= $2 and ts < $3
          and (ts at time zone 'America/New_York')::time < '16:00'
        group by 1 order by 1`,
      [symbol, new Date(closeMs - 200 * DAY_MS), new Date(closeMs)],
    );
    const closes = rows.filter((r) => NYSE.sessionFor(r.d));
    const byDay = regimeByDay(
      closes.map((r) => NYSE.sessionFor(r.d)!.closeMs),
      closes.map((r) => r.close),
    );
    const last = byDay[byDay.length - 1];
    if (!last || last.day !== day) return null;
    setMarketRegime(symbol, last.state);
    return { symbol, state: last.state, volRatio: last.volRatio, trendZ: last.trendZ, days: byDay.length };
  }

  function sourced(
    rows: readonly PredictionRow[],
    closeAt: (s: string, t: number) => number | undefined,
    until: number,
  ) {
    const out: SourcedPrediction[] = [];
    const realised = realise(
      rows.map((r) => ({
        symbol: r.symbol,
        ts: r.ts,
        expectedReturn: r.expectedReturn,
        horizonBars: r.horizonBars,
        barMs: TIMEFRAME_MS[r.timeframe as Timeframe] ?? 60_000,
      })),
      closeAt,
      until,
    );
    // realise keeps order and drops rows without an outcome: match back by (symbol, ts) within the source
    const key = (s: string, t: number) => `${s}|${t}`;
    const outcome = new Map(realised.map((r) => [key(r.symbol, r.ts), r.realised]));
    for (const r of rows) {
      const v = outcome.get(key(r.symbol, r.ts));
      if (v === undefined) continue;
      out.push({
        source: r.source,
        day: nyDate(r.ts - 1),
        symbol: r.symbol,
        ts: r.ts,
        expectedReturn: r.expectedReturn,
        realised: v,
      });
    }
    return out;
  }

  return {
    async learningContext({ name, day, trainWindowDays }): Promise<LearningContextDto> {
      return mapErrors(async () => {
        const session = sessionOf(day);
        const closeMs = typeof session === 'string' ? Date.parse(`${day}T21:00:00Z`) : session.closeMs;
        const champ = await registry.champion(name);
        const shadows = await registry.shadows(name);
        const { rows } = await deps.pool.query<{ day: string; state: LearningStateDto }>(
          `select to_char(day, 'YYYY-MM-DD') as day, state from learning_days where name = $1 and day < $2::date order by day desc limit 1`,
          [name, day],
        );
        return {
          day,
          closed: typeof session === 'string' ? session : null,
          champion: champ
            ? {
                id: champ.id,
                symbol: champ.symbol,
                spec: champ.spec.kind === 'ensemble' ? null : (champ.spec as RetrainModelSpec),
                featureSet: champ.featureSet,
                horizonMinutes: horizonOf(champ),
              }
            : null,
          // a challenger's shadow record starts after its training data: its predictions from then on are out of sample
          shadows: shadows.map((m) => ({ id: m.id, enteredDay: nyDate(m.trainTo) })),
          previous: rows[0] ? { day: rows[0].day, state: rows[0].state } : null,
          trainWindow: { fromMs: closeMs - trainWindowDays * DAY_MS, toMs: closeMs },
        };
      });
    },

    async computeDrift({ modelId, name, day, config }): Promise<DriftReportDto> {
      return mapErrors(async () => {
        const session = sessionOf(day);
        if (typeof session === 'string')
          throw new ValidationError('day', `${day} is not a trading day (${session})`);
        const rec = await registry.get(modelId);
        if (!rec) throw new ValidationError('modelId', `no model ${modelId}`);
        const ref = ((rec.metrics as { drift?: DriftReference }).drift ?? {}) as DriftReference;
        // the distribution checks read a trailing window of trading days; the sequential tests the day itself
        let windowOpen = session.openMs;
        for (let d = day, k = 1; k < config.driftWindowDays; k++) {
          d = previousTradingDay(d);
          windowOpen = NYSE.sessionFor(d)!.openMs;
        }
        const windowPreds = await predictionsOf(deps.pool, modelId, windowOpen + 1, session.closeMs + 1);
        const preds = windowPreds.filter((p) => p.ts > session.openMs);
        const symbols = [
          ...new Set([
            ...windowPreds.map((p) => p.symbol),
            ...(rec.symbol.includes(',') ? [] : [rec.symbol]),
          ]),
        ];
        // ---- the window's feature rows, recomputed from stored bars with the training code (warm-up before it)
        const setName = datasetSetName(rec.featureSet);
        const notes: string[] = [];
        let features: { X: Float32Array; rows: number; names: string[] } | null = null;
        if (!setName) notes.push(`feature set ${rec.featureSet} is not known to this worker`);
        else if (setName !== MODELS_FEATURE_SET && FEATURE_SETS[setName]!.version !== rec.featureSetVersion)
          notes.push(
            `feature set ${setName} is at ${FEATURE_SETS[setName]!.version}, the model was trained on ${rec.featureSetVersion}`,
          );
        else {
          const from = windowOpen - warmUpDays(rec.featureSet) * DAY_MS;
          const chunks: Float32Array[] = [];
          let ncol = 0;
          let names: string[] = [];
          let rows = 0;
          for (const symbol of symbols) {
            const b = await bars.barsBetween([symbol], from, session.closeMs - 60_000);
            if (b.length < 100) continue;
            let ds;
            try {
              ds = buildDatasetFor(columns(symbol, b), setName, { horizonMinutes: horizonOf(rec) });
            } catch {
              continue; // no usable rows for this symbol in the window
            }
            ncol = ds.ncol;
            names = ds.featureNames;
            for (let r = 0; r < ds.nrow; r++) {
              const t = ds.decisionTs[r]!;
              if (t > windowOpen && t <= session.closeMs) {
                chunks.push(ds.X.subarray(r * ds.ncol, (r + 1) * ds.ncol));
                rows++;
              }
            }
          }
          const X = new Float32Array(rows * ncol);
          chunks.forEach((c, i) => X.set(c, i * ncol));
          features = { X, rows, names };
        }
        // ---- outcomes of the day's predictions known by the close
        const closeAt = await closesBetween(symbols, session.openMs - DAY_MS, session.closeMs);
        const realised = sourced(preds, closeAt, session.closeMs);
        const { rows: prevRows } = await deps.pool.query<{ sequential: SequentialStateDto }>(
          `select sequential from model_drift where model_id = $1 and day < $2::date order by day desc limit 1`,
          [modelId, day],
        );
        const regime = symbols[0] ? await regimeAt(symbols[0], day, session.closeMs) : null;
        const report = driftReport({
          modelId,
          name,
          day,
          reference: ref,
          windowDays: config.driftWindowDays,
          features,
          // a daily feature takes one value a day: a few days of it are no distribution to compare
          skipFeatures: new Set(Object.keys(ref.features ?? {}).filter((k) => k.startsWith('1d:'))),
          scores: Float64Array.from(windowPreds, (p) => p.score),
          realised,
          previous: prevRows[0]?.sequential ?? null,
          regime,
          config: ref.costRate !== undefined ? { ...config, costRate: ref.costRate } : config,
        });
        const out: DriftReportDto = { ...report, reasons: [...report.reasons, ...notes] };
        await deps.pool.query(
          `insert into model_drift (model_id, name, day, feature_rows, feature_psi, max_feature_psi, prediction_rows,
             prediction_psi, live_rows, live_hit_rate, live_pnl, expected_hit_rate, expected_pnl, sequential, breach,
             reasons, regime)
           values ($1,$2,$3::date,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)
           on conflict (model_id, day) do update set name = excluded.name, feature_rows = excluded.feature_rows,
             feature_psi = excluded.feature_psi, max_feature_psi = excluded.max_feature_psi,
             prediction_rows = excluded.prediction_rows, prediction_psi = excluded.prediction_psi,
             live_rows = excluded.live_rows, live_hit_rate = excluded.live_hit_rate, live_pnl = excluded.live_pnl,
             expected_hit_rate = excluded.expected_hit_rate, expected_pnl = excluded.expected_pnl,
             sequential = excluded.sequential, breach = excluded.breach, reasons = excluded.reasons,
             regime = excluded.regime, computed_at = now()`,
          [
            modelId,
            name,
            day,
            out.featureRows,
            JSON.stringify(out.featurePsi),
            out.maxFeaturePsi,
            out.predictionRows,
            out.predictionPsi,
            out.live.rows,
            out.live.hitRate,
            out.live.pnl,
            out.expected?.hitRate ?? null,
            out.expected ? out.expected.meanReturn * out.live.rows : null,
            JSON.stringify(out.sequential),
            out.breach,
            JSON.stringify(out.reasons),
            out.regime ? JSON.stringify(out.regime) : null,
          ],
        );
        setModelDrift({
          model: modelId,
          predictionPsi: out.predictionPsi,
          maxFeaturePsi: out.maxFeaturePsi,
          liveHitRate: out.live.hitRate,
          expectedHitRate: out.expected?.hitRate ?? null,
          distributionAlarm: out.distributionAlarm,
          performanceAlarm: out.performanceAlarm,
        });
        log(
          `[drift] ${modelId} ${day}: features ${out.featureRows} rows (max PSI ${out.maxFeaturePsi?.toFixed(3) ?? 'n/a'}), scores PSI ${out.predictionPsi?.toFixed(3) ?? 'n/a'}, live ${out.live.rows} rows hit ${out.live.hitRate?.toFixed(3) ?? 'n/a'} vs ${out.expected?.hitRate.toFixed(3) ?? 'n/a'}${out.breach ? ` BREACH: ${out.reasons.join('; ')}` : ''}`,
        );
        return out;
      });
    },

    async evaluateShadow({ championId, shadowId, enteredDay, day, config }) {
      return mapErrors(async () => {
        const session = sessionOf(day);
        if (typeof session === 'string')
          throw new ValidationError('day', `${day} is not a trading day (${session})`);
        const rec = await registry.get(shadowId);
        if (!rec) throw new ValidationError('shadowId', `no model ${shadowId}`);
        // out of sample only: after the challenger's training data ended, up to today's close
        const from = rec.trainTo;
        const until = session.closeMs + 1;
        const mine = await predictionsOf(deps.pool, shadowId, from, until);
        const theirs = championId ? await predictionsOf(deps.pool, championId, from, until) : null;
        const symbols = [...new Set(mine.map((p) => p.symbol))];
        const closeAt = await closesBetween(symbols, from - DAY_MS, session.closeMs);
        const ref = (rec.metrics as { drift?: DriftReference }).drift;
        return evaluateShadowRecord({
          modelId: shadowId,
          enteredDay,
          challenger: sourced(mine, closeAt, session.closeMs),
          champion: theirs ? sourced(theirs, closeAt, session.closeMs) : null,
          costRate: ref?.costRate ?? config.costRate,
          blockRows: config.blockRows,
          alpha: config.alpha,
        });
      });
    },

    async applyModelDecision({ name, modelId, decision, reason, workflowId, day }) {
      return mapErrors(async () => {
        const change = { actor: `workflow:${workflowId}`, reason };
        const m = await registry.get(modelId);
        if (!m) throw new ValidationError('modelId', `no model ${modelId}`);
        if (decision === 'promote') await registry.promote(modelId, change);
        // idempotent: only a challenger still undecided is rejected; a champion is never demoted here
        else if (m.status === 'shadow' || m.status === 'candidate')
          await registry.setStatus(modelId, 'rejected', change);
        const action = decision === 'promote' ? 'model.promoted' : 'model.rejected';
        await audit.append({
          actor: 'workflow:learningCycleWorkflow',
          action,
          subject: modelId,
          reason,
          details: { name, day, via: 'shadow record' },
          workflowId,
          idempotencyKey: `${workflowId}:${action}:${modelId}`,
        });
        recordLearningDecision(name, decision === 'promote' ? 'promote' : 'reject');
      });
    },

    async refreshLiveRecords({ name, day, config }) {
      return mapErrors(async () => {
        const session = sessionOf(day);
        if (typeof session === 'string') return { updated: [] };
        const inUse = [
          ...(await registry.list({ name, status: 'champion' })),
          ...(await registry.shadows(name)),
        ];
        const updated: string[] = [];
        const lookbackFrom = session.closeMs - 60 * DAY_MS;
        for (const m of inUse) {
          if (m.kind === 'ensemble') continue;
          const rows = await predictionsOf(
            deps.pool,
            m.id,
            Math.max(m.trainTo, lookbackFrom),
            session.closeMs + 1,
          );
          if (!rows.length) continue;
          const symbols = [...new Set(rows.map((r) => r.symbol))];
          const closeAt = await closesBetween(symbols, lookbackFrom - DAY_MS, session.closeMs);
          const ref = (m.metrics as { drift?: DriftReference }).drift;
          const cost = ref?.costRate ?? config.costRate;
          const byDay = new Map<number, number>();
          for (const r of sourced(rows, closeAt, session.closeMs)) {
            const d = Date.parse(`${r.day}T00:00:00Z`);
            byDay.set(
              d,
              (byDay.get(d) ?? 0) +
                Math.sign(r.expectedReturn) * r.realised -
                cost * Math.abs(Math.sign(r.expectedReturn)),
            );
          }
          // the member's live out-of-sample record per day: a served ensemble weights its members on the newest days
          await registry.mergeMetrics(m.id, {
            liveOosPnlByDay: [...byDay.entries()].sort((a, b) => a[0] - b[0]),
            liveOosAsOf: day,
          });
          updated.push(m.id);
        }
        return { updated };
      });
    },

    async recordLearningDay({ name, day, state, decisions, inputs, workflowId, config }) {
      return mapErrors(async () => {
        await deps.pool.query(
          `insert into learning_days (name, day, champion_id, state, decisions, inputs, workflow_id)
           values ($1, $2::date, $3, $4, $5, $6, $7)
           on conflict (name, day) do update set champion_id = excluded.champion_id, state = excluded.state,
             decisions = excluded.decisions, inputs = excluded.inputs, workflow_id = excluded.workflow_id, recorded_at = now()`,
          [
            name,
            day,
            state.championId,
            JSON.stringify(state),
            JSON.stringify(decisions),
            JSON.stringify({ ...inputs, config }),
            workflowId,
          ],
        );
        const shadows = await registry.shadows(name);
        setLearningStatus({
          name,
          champion: (await registry.champion(name))?.id ?? null,
          shadows: shadows.length,
          nextRetrainDays: daysToScheduledRetrain(state, config),
        });
        if (decisions.retrain) recordLearningDecision(name, 'retrain');
      });
    },

    async suggestHpoTrials({ space, finished, trials, seed, startupTrials }) {
      return mapErrors(async () =>
        suggestTrials({
          space: space as ParamSpace,
          history: finished.map((t) => ({ params: t.params, score: t.score })),
          trials,
          seed,
          startupTrials,
        }),
      );
    },
  };
}

/** The trading day before `day`. */
function previousTradingDay(day: string): string {
  let d = addDays(day, -1);
  while (!NYSE.sessionFor(d)) d = addDays(d, -1);
  return d;
}

export type { LearningConfig };
