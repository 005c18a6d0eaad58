import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ModelRegistry, modelCard } from '../../../src/models/registry/registry';
import { DEFAULT_XGBOOST_SPEC } from '../../../src/models/spec';
import { createTestDatabase, type TestDatabase } from '../../support/db';

describe('model registry (Postgres table + artifact directory)', () => {
  let db: TestDatabase;
  let dir: string;
  let reg: ModelRegistry;
  before(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'registry-'));
    reg = new ModelRegistry(db.pool, dir);
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const rec = (id: string) => ({
    id,
    name: 'spy',
    kind: 'xgboost',
    spec: DEFAULT_XGBOOST_SPEC,
    featureSet: 'models.minute-basic',
    featureSetVersion: '1',
    symbol: 'SPY',
    trainFrom: Date.UTC(2011, 0, 3),
    trainTo: Date.UTC(2011, 2, 31),
    dataHash: 'abc',
    metrics: { summary: { netPnl: 12.5, sharpe: 0.01, hitRate: 0.51, ic: 0.02 }, folds: [{}, {}] },
    workflowId: 'wf-1',
  });

  test('when a model is registered twice (a retried activity), then one row and its artifacts exist', async () => {
    const files = {
      native: Buffer.from('{"learner":{}}'),
      onnx: new Uint8Array([1, 2, 3]),
      modelCard: modelCard(rec('m1')),
    };
    await reg.register(rec('m1'), files);
    const again = await reg.register(rec('m1'), files);
    assert.equal((await reg.list()).length, 1);
    assert.equal(again.status, 'candidate');
    assert.equal(again.trainFrom, Date.UTC(2011, 0, 3));
    assert.ok(existsSync(again.artifacts.onnx!) && existsSync(again.artifacts.native!));
    assert.match(readFileSync(again.artifacts.card!, 'utf8'), /net dollar P&L: 12.50/);
  });

  test('when a second model is promoted, then the previous champion is retired and there is one champion', async () => {
    const files = { native: Buffer.from('{}'), onnx: new Uint8Array([1]), modelCard: '' };
    await reg.register(rec('m2'), files);
    await reg.promote('m1');
    await reg.promote('m1');
    assert.equal((await reg.champion('spy'))!.id, 'm1');
    await reg.promote('m2');
    assert.equal((await reg.champion('spy'))!.id, 'm2');
    assert.equal((await reg.get('m1'))!.status, 'retired');
    await assert.rejects(reg.promote('nope'), /id: no model nope/);
    assert.throws(() => reg.modelDir('../x'), /id: "..\/x" may contain only/);
  });
});
