import { createHash } from 'node:crypto';
import { ValidationError } from '../../model/errors';
import type { ModelRecord, ModelRegistry } from '../registry/registry';
import { modelCard } from '../registry/registry';
import { servingInfo } from '../serving/served-model';
import { EnsembleSpecSchema, type EnsembleSpec } from '../spec';

/**
 * Ensembles as registry rows: `kind = 'ensemble'`, the spec lists member ids, no artifacts of their own (the
 * members' ONNX graphs serve). Members must read the same rows: one feature set and version, one column order, one
 * horizon and bar spacing; windows may differ (the ensemble takes the longest, each member its trailing rows).
 */
export async function ensembleMembers(registry: ModelRegistry, spec: EnsembleSpec): Promise<ModelRecord[]> {
  const recs: ModelRecord[] = [];
  for (const id of spec.members) {
    const r = await registry.get(id);
    if (!r) throw new ValidationError('ensemble.members', `no model "${id}" in the registry`);
    if (r.spec.kind === 'ensemble')
      throw new ValidationError('ensemble.members', `"${id}" is an ensemble; ensembles do not nest`);
    recs.push(r);
  }
  const first = recs[0]!;
  const info0 = servingInfo(first);
  const names0 = featureNamesOf(first).join(',');
  for (const r of recs.slice(1)) {
    const i = servingInfo(r);
    if (r.featureSet !== first.featureSet || r.featureSetVersion !== first.featureSetVersion)
      throw new ValidationError(
        'ensemble.members',
        `${r.id} uses feature set ${r.featureSet} v${r.featureSetVersion}, ${first.id} ${first.featureSet} v${first.featureSetVersion}: members must share one`,
      );
    if (featureNamesOf(r).join(',') !== names0)
      throw new ValidationError(
        'ensemble.members',
        `${r.id} orders its feature columns differently from ${first.id}`,
      );
    if (i.horizonMinutes !== info0.horizonMinutes || i.barMs !== info0.barMs)
      throw new ValidationError(
        'ensemble.members',
        `${r.id} predicts ${i.horizonMinutes} min ahead, ${first.id} ${info0.horizonMinutes}: members must share the horizon`,
      );
  }
  return recs;
}

export function featureNamesOf(rec: ModelRecord): string[] {
  const names = (rec.metrics as { featureNames?: string[] }).featureNames;
  if (!names?.length)
    throw new ValidationError(
      'metrics.featureNames',
      `model ${rec.id} has no feature names; cannot size its input`,
    );
  return names;
}

/** Registers an ensemble over registered members (checked compatible); `id` defaults to `<name>-<hash of spec>`. */
export async function registerEnsemble(
  registry: ModelRegistry,
  input: { name: string; spec: unknown; id?: string },
): Promise<ModelRecord> {
  const r = EnsembleSpecSchema.safeParse(input.spec);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ValidationError(`ensemble.${i.path.join('.')}`, i.message);
  }
  const spec = r.data;
  const recs = await ensembleMembers(registry, spec);
  const hash = createHash('sha256').update(JSON.stringify(spec)).digest('hex');
  const first = recs[0]!;
  const rec = {
    id: input.id ?? `${input.name}-${hash.slice(0, 12)}`,
    name: input.name,
    kind: 'ensemble',
    spec,
    featureSet: first.featureSet,
    featureSetVersion: first.featureSetVersion,
    symbol: [...new Set(recs.map((m) => m.symbol))].join(','),
    trainFrom: Math.min(...recs.map((m) => m.trainFrom)),
    trainTo: Math.max(...recs.map((m) => m.trainTo)),
    dataHash: createHash('sha256')
      .update(recs.map((m) => m.dataHash).join(','))
      .digest('hex'),
    metrics: {
      featureNames: featureNamesOf(first),
      horizonMinutes: servingInfo(first).horizonMinutes,
      members: recs.map((m) => ({ id: m.id, kind: m.kind, status: m.status })),
    },
    workflowId: null,
  };
  return registry.register(rec, { modelCard: modelCard(rec) });
}
