import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool, PoolClient } from 'pg';
import { ValidationError } from '../../model/errors';
import type { EnsembleSpec, ModelSpec } from '../spec';

/**
 * candidate: registered, not serving · shadow: scored beside the champion in live sessions (journaled with role
 * 'shadow', never traded) until its shadow record decides · champion: the one model of its name that trades ·
 * retired: a former champion (or a shadow withdrawn) · rejected: refused by the gate or by its shadow record.
 */
export type ModelStatus = 'candidate' | 'shadow' | 'champion' | 'retired' | 'rejected';

export const MODEL_STATUSES: readonly ModelStatus[] = [
  'candidate',
  'shadow',
  'champion',
  'retired',
  'rejected',
];

/** Who changed a model's status and why (the status history and the audit log carry it). */
export interface StatusChange {
  readonly actor: string;
  readonly reason: string;
}

/** One status change of a model, as `model_status_events` keeps it. */
export interface StatusEvent {
  readonly id: number;
  readonly modelId: string;
  readonly name: string;
  readonly from: ModelStatus | null;
  readonly to: ModelStatus;
  readonly actor: string;
  readonly reason: string;
  readonly at: number;
}

const SYSTEM_CHANGE: StatusChange = { actor: 'system', reason: '' };

/** What a row describes: a trained model's spec, or an ensemble over registered models. */
export type RegisteredSpec = ModelSpec | EnsembleSpec;

/**
 * Feature importance by feature name, with the method that measured it (XGBoost: gain), and the permutation
 * importance on the last out-of-sample fold when it was measured (src/learning/importance.ts). Null: neither.
 */
export interface FeatureImportance {
  method: string;
  values: Record<string, number>;
  permutation?: {
    method: string;
    metric: string;
    fold: number;
    rows: number;
    baselineNetPnl: number;
    values: Record<string, number>;
  };
}

export interface ModelRecord {
  id: string;
  name: string;
  kind: string;
  spec: RegisteredSpec;
  featureSet: string;
  featureSetVersion: string;
  symbol: string;
  trainFrom: number;
  trainTo: number;
  dataHash: string;
  metrics: Record<string, unknown>;
  /** Paths: `native` (booster JSON / net weights), `onnx`, `card`, and extra ONNX files by name (`intervals`). */
  artifacts: { native?: string; onnx?: string; card?: string; intervals?: string };
  modelCard: string;
  status: ModelStatus;
  createdAt: number;
  workflowId: string | null;
  featureImportance: FeatureImportance | null;
}

interface Row {
  id: string;
  name: string;
  kind: string;
  spec: RegisteredSpec;
  feature_set: string;
  feature_set_version: string;
  symbol: string;
  train_from: Date;
  train_to: Date;
  data_hash: string;
  metrics: Record<string, unknown>;
  artifacts: ModelRecord['artifacts'];
  model_card: string;
  status: ModelStatus;
  created_at: Date;
  workflow_id: string | null;
  feature_importance: FeatureImportance | null;
}

const fromRow = (r: Row): ModelRecord => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  spec: r.spec,
  featureSet: r.feature_set,
  featureSetVersion: r.feature_set_version,
  symbol: r.symbol,
  trainFrom: r.train_from.getTime(),
  trainTo: r.train_to.getTime(),
  dataHash: r.data_hash,
  metrics: r.metrics,
  artifacts: r.artifacts,
  modelCard: r.model_card,
  status: r.status,
  createdAt: r.created_at.getTime(),
  workflowId: r.workflow_id,
  featureImportance: r.feature_importance ?? null,
});

type NewRecord = Omit<
  ModelRecord,
  'status' | 'createdAt' | 'artifacts' | 'modelCard' | 'featureImportance'
> & {
  featureImportance?: FeatureImportance | null;
};

/** The model registry: a Postgres table plus an artifact directory (one folder per model id). */
export class ModelRegistry {
  constructor(
    private readonly pool: Pool,
    readonly artifactDir: string,
  ) {}

  modelDir(id: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(id))
      throw new ValidationError('id', `"${id}" may contain only letters, digits, . _ -`);
    return join(this.artifactDir, 'models', id);
  }

  /** Writes the artifacts and inserts the row; re-registering the same id (a retried activity) is a no-op. */
  async register(
    rec: NewRecord,
    files: { native?: Buffer; onnx?: Uint8Array; intervals?: Uint8Array; modelCard: string },
  ): Promise<ModelRecord> {
    const dir = this.modelDir(rec.id);
    mkdirSync(dir, { recursive: true });
    const artifacts: ModelRecord['artifacts'] = { card: join(dir, 'MODEL_CARD.md') };
    if (files.native) writeFileSync((artifacts.native = join(dir, 'model.json')), files.native);
    if (files.onnx) writeFileSync((artifacts.onnx = join(dir, 'model.onnx')), files.onnx);
    if (files.intervals) writeFileSync((artifacts.intervals = join(dir, 'intervals.onnx')), files.intervals);
    writeFileSync(artifacts.card!, files.modelCard);
    const inserted = await this.pool.query(
      `insert into models (id, name, kind, spec, feature_set, feature_set_version, symbol, train_from, train_to, data_hash,
                           metrics, artifacts, model_card, workflow_id, feature_importance)
       values ($1,$2,$3,$4,$5,$6,$7,to_timestamp($8/1000.0),to_timestamp($9/1000.0),$10,$11,$12,$13,$14,$15)
       on conflict (id) do nothing`,
      [
        rec.id,
        rec.name,
        rec.kind,
        JSON.stringify(rec.spec),
        rec.featureSet,
        rec.featureSetVersion,
        rec.symbol,
        rec.trainFrom,
        rec.trainTo,
        rec.dataHash,
        JSON.stringify(rec.metrics),
        JSON.stringify(artifacts),
        files.modelCard,
        rec.workflowId,
        rec.featureImportance ? JSON.stringify(rec.featureImportance) : null,
      ],
    );
    if (inserted.rowCount)
      await this.pool.query(
        `insert into model_status_events (model_id, name, from_status, to_status, actor, reason) values ($1, $2, null, 'candidate', $3, 'registered')`,
        [rec.id, rec.name, rec.workflowId ? `workflow:${rec.workflowId}` : 'system'],
      );
    const got = await this.get(rec.id);
    if (!got) throw new Error(`registry: model ${rec.id} vanished after insert`);
    return got;
  }

  async get(id: string): Promise<ModelRecord | undefined> {
    const { rows } = await this.pool.query<Row>('select * from models where id = $1', [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async list(filter: { name?: string; status?: ModelStatus } = {}): Promise<ModelRecord[]> {
    const { rows } = await this.pool.query<Row>(
      `select * from models where ($1::text is null or name = $1) and ($2::text is null or status = $2) order by created_at desc, id`,
      [filter.name ?? null, filter.status ?? null],
    );
    return rows.map(fromRow);
  }

  async champion(name: string): Promise<ModelRecord | undefined> {
    return (await this.list({ name, status: 'champion' }))[0];
  }

  /** Names that have a champion, sorted. */
  async championNames(): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>(
      `select distinct name from models where status = 'champion' order by name`,
    );
    return rows.map((r) => r.name);
  }

  /**
   * A model reference as a user writes it (`field` names the flag in errors) → the registered model it means now:
   * a model id; `champion:<name>` (that name's champion); `champion` (the champion of the one name that has
   * one). `champion` while no name has a champion → undefined: the caller's indicator fallback.
   */
  async resolveRef(ref: string, field = 'modelId'): Promise<ModelRecord | undefined> {
    const text = ref.trim();
    if (text === 'champion') {
      const names = await this.championNames();
      if (names.length > 1)
        throw new ValidationError(
          field,
          `several names have a champion (${names.join(', ')}): pass champion:<name>`,
        );
      return names[0] ? this.champion(names[0]) : undefined;
    }
    if (text.startsWith('champion:')) {
      const name = text.slice('champion:'.length);
      const rec = await this.champion(name);
      if (!rec) throw new ValidationError(field, `no champion for model name "${name}" in the registry`);
      return rec;
    }
    const rec = await this.get(text);
    if (!rec) throw new ValidationError(field, `no model "${text}" in the registry (trader models list)`);
    return rec;
  }

  /** Shadow challengers of a name (oldest first: the order they entered shadow). */
  async shadows(name: string): Promise<ModelRecord[]> {
    const { rows } = await this.pool.query<Row>(
      `select * from models where name = $1 and status = 'shadow' order by status_changed_at, id`,
      [name],
    );
    return rows.map(fromRow);
  }

  /** Model names that have a champion or a shadow challenger (what the learning loop looks after). */
  async activeNames(): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>(
      `select distinct name from models where status in ('champion', 'shadow') order by name`,
    );
    return rows.map((r) => r.name);
  }

  /**
   * Makes `id` the champion of its name and retires the previous one, atomically, recording both changes.
   * Idempotent: promoting the champion changes nothing.
   */
  async promote(id: string, change: StatusChange = SYSTEM_CHANGE): Promise<void> {
    await this.transaction(async (c) => {
      const { rows } = await c.query<{ name: string; status: ModelStatus }>(
        'select name, status from models where id = $1 for update',
        [id],
      );
      if (!rows[0]) throw new ValidationError('id', `no model ${id}`);
      if (rows[0].status === 'champion') return;
      const name = rows[0].name;
      const prev = await c.query<{ id: string }>(
        `update models set status = 'retired', status_changed_at = now() where name = $1 and status = 'champion' returning id`,
        [name],
      );
      for (const p of prev.rows)
        await this.event(c, p.id, name, 'champion', 'retired', {
          actor: change.actor,
          reason: `replaced by ${id}${change.reason ? `: ${change.reason}` : ''}`,
        });
      await c.query(`update models set status = 'champion', status_changed_at = now() where id = $1`, [id]);
      await this.event(c, id, name, rows[0].status, 'champion', change);
    });
  }

  /** Any status but champion (promotion has its own transaction). Setting the status a model has is a no-op. */
  async setStatus(
    id: string,
    status: Exclude<ModelStatus, 'champion'>,
    change: StatusChange = SYSTEM_CHANGE,
  ): Promise<void> {
    await this.transaction(async (c) => {
      const { rows } = await c.query<{ name: string; status: ModelStatus }>(
        'select name, status from models where id = $1 for update',
        [id],
      );
      if (!rows[0]) throw new ValidationError('id', `no model ${id}`);
      if (rows[0].status === status) return;
      await c.query(`update models set status = $2, status_changed_at = now() where id = $1`, [id, status]);
      await this.event(c, id, rows[0].name, rows[0].status, status, change);
    });
  }

  /**
   * Reinstates the champion before the current one, at once: the current champion is retired and the previous
   * champion (the last model of this name that was champion before it, now retired) becomes champion again, in one
   * transaction. A session resolving `champion:<name>` at its next decision scores with the restored model.
   */
  async rollback(
    name: string,
    change: StatusChange,
  ): Promise<{ readonly from: string; readonly to: string }> {
    return this.transaction(async (c) => {
      const cur = await c.query<{ id: string }>(
        `select id from models where name = $1 and status = 'champion' for update`,
        [name],
      );
      const current = cur.rows[0]?.id;
      if (!current) throw new ValidationError('name', `model name "${name}" has no champion to roll back`);
      // The champion before the current one: the newest promotion of another model before the current one's.
      const prev = await c.query<{ model_id: string; status: ModelStatus }>(
        `select e.model_id, m.status from model_status_events e join models m on m.id = e.model_id
          where e.name = $1 and e.to_status = 'champion' and e.model_id <> $2
            and e.id < (select max(id) from model_status_events where model_id = $2 and to_status = 'champion')
          order by e.id desc limit 1`,
        [name, current],
      );
      const target = prev.rows[0];
      if (!target)
        throw new ValidationError('name', `model name "${name}" has no earlier champion than ${current}`);
      if (target.status === 'rejected')
        throw new ValidationError(
          'name',
          `the previous champion of "${name}", ${target.model_id}, was rejected since; promote a model by id instead`,
        );
      await c.query(`update models set status = 'retired', status_changed_at = now() where id = $1`, [
        current,
      ]);
      await this.event(c, current, name, 'champion', 'retired', {
        actor: change.actor,
        reason: `rolled back to ${target.model_id}${change.reason ? `: ${change.reason}` : ''}`,
      });
      await c.query(`update models set status = 'champion', status_changed_at = now() where id = $1`, [
        target.model_id,
      ]);
      await this.event(c, target.model_id, name, target.status, 'champion', {
        actor: change.actor,
        reason: `rollback from ${current}${change.reason ? `: ${change.reason}` : ''}`,
      });
      return { from: current, to: target.model_id };
    });
  }

  /** Status changes of a name's models, newest first. */
  async statusHistory(name: string, limit = 50): Promise<StatusEvent[]> {
    const { rows } = await this.pool.query<{
      id: string;
      model_id: string;
      name: string;
      from_status: ModelStatus | null;
      to_status: ModelStatus;
      actor: string;
      reason: string;
      at: Date;
    }>(`select * from model_status_events where name = $1 order by id desc limit $2`, [name, limit]);
    return rows.map((r) => ({
      id: Number(r.id),
      modelId: r.model_id,
      name: r.name,
      from: r.from_status,
      to: r.to_status,
      actor: r.actor,
      reason: r.reason,
      at: r.at.getTime(),
    }));
  }

  /** Merges keys into a model's metrics (e.g. its live out-of-sample record); other keys stay. */
  async mergeMetrics(id: string, patch: Record<string, unknown>): Promise<void> {
    const r = await this.pool.query(`update models set metrics = metrics || $2::jsonb where id = $1`, [
      id,
      JSON.stringify(patch),
    ]);
    if (r.rowCount === 0) throw new ValidationError('id', `no model ${id}`);
  }

  private async event(
    c: PoolClient,
    id: string,
    name: string,
    from: ModelStatus | null,
    to: ModelStatus,
    change: StatusChange,
  ): Promise<void> {
    await c.query(
      `insert into model_status_events (model_id, name, from_status, to_status, actor, reason) values ($1, $2, $3, $4, $5, $6)`,
      [id, name, from, to, change.actor, change.reason],
    );
  }

  private async transaction<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('begin');
      const out = await fn(c);
      await c.query('commit');
      return out;
    } catch (err) {
      await c.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }
}

/** A short model card: what it is, what it was trained on, how it did out of sample, and its limits. */
export function modelCard(rec: NewRecord): string {
  const m = rec.metrics as {
    summary?: Record<string, number>;
    folds?: unknown[];
    leakage?: Array<{ feature: string; ic: number }>;
    serving?: {
      window?: number;
      horizonMinutes?: number;
      parity?: { reference: string; maxAbsDiff: number };
    };
  };
  const s = m.summary ?? {};
  const spec = rec.spec;
  const what =
    spec.kind === 'xgboost'
      ? `objective ${spec.objective}`
      : spec.kind === 'ensemble'
        ? `members ${spec.members.join(', ')}; at least ${spec.minConsensus} must agree`
        : 'profit-weighted pinball loss, quantiles 10/50/90%';
  return [
    `# Model ${rec.id}`,
    '',
    `- name: ${rec.name} (${rec.kind}, ${what})`,
    `- feature set: ${rec.featureSet} v${rec.featureSetVersion}; symbol ${rec.symbol}`,
    `- training range: ${new Date(rec.trainFrom).toISOString()} .. ${new Date(rec.trainTo).toISOString()}`,
    `- data hash: ${rec.dataHash}`,
    `- spec: \`${JSON.stringify(rec.spec)}\``,
    ...(m.serving
      ? [
          `- serving: window ${m.serving.window ?? 1} rows, horizon ${m.serving.horizonMinutes ?? '?'} min; ONNX Runtime vs ${m.serving.parity?.reference ?? '?'}: max |diff| ${m.serving.parity?.maxAbsDiff.toExponential(2) ?? 'n/a'}`,
        ]
      : []),
    ...(m.leakage?.length
      ? [
          `- REFUSED: leakage — ${m.leakage.map((f) => `${f.feature} (OOS rank IC ${f.ic.toFixed(3)})`).join(', ')}`,
        ]
      : []),
    '',
    '## Out-of-sample (walk-forward, purged, embargoed)',
    '',
    `- folds: ${m.folds?.length ?? 0}`,
    `- net dollar P&L: ${s.netPnl?.toFixed(2) ?? 'n/a'}; Sharpe (per row): ${s.sharpe?.toFixed(4) ?? 'n/a'}; hit rate: ${s.hitRate?.toFixed(3) ?? 'n/a'}; IC: ${s.ic?.toFixed(4) ?? 'n/a'}`,
    '',
    '## Limits',
    '',
    "- Trained on one symbol's bars over the range above; costs are a flat rate of notional, not a fill simulation.",
    '- Scores map to positions by tanh; the sizing rule caps notional at the configured fraction of equity.',
    '',
  ].join('\n');
}
