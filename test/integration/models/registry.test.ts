import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChampionScorer } from '../../../src/models/onnx/champion';
import { xgboostToOnnx } from '../../../src/models/onnx/xgboost-export';
import { ModelRegistry, modelCard } from '../../../src/models/registry/registry';
import { DMatrix, train } from '../../../src/models/xgboost';
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

describe('serving the champion through ONNX Runtime', () => {
  let db: TestDatabase;
  let dir: string;
  before(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'champion-'));
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function model(bias: number) {
    const X = Float32Array.from({ length: 200 }, (_, i) => (i % 13) / 13);
    const d = DMatrix.fromFloat32(X, 100, 2, {
      label: Float32Array.from({ length: 100 }, (_, i) => bias + X[i * 2]!),
    });
    const r = await train({ params: { nthread: 1, max_depth: 2, base_score: 0 }, dtrain: d, rounds: 5 });
    const native = r.booster.toBuffer('json');
    const preds = r.booster.predict(d);
    r.booster.free();
    d.free();
    return { native, onnx: xgboostToOnnx(native), preds, X };
  }

  test('when a new champion is promoted, then the scorer switches to it on refresh and until then keeps the cached one', async () => {
    const reg = new ModelRegistry(db.pool, dir);
    let clock = 0;
    const scorer = new ChampionScorer(reg, 'srv', 1000, () => clock);
    assert.equal(await scorer.score(new Float32Array(2), 1), undefined, 'no champion yet');
    const base = {
      name: 'srv',
      kind: 'xgboost',
      spec: DEFAULT_XGBOOST_SPEC,
      featureSet: 'models.minute-basic',
      featureSetVersion: '1',
      symbol: 'SPY',
      trainFrom: 0,
      trainTo: 1,
      dataHash: 'h',
      workflowId: null,
    };
    const a = await model(0),
      b = await model(10);
    await reg.register(
      { ...base, id: 'a', metrics: { featureNames: ['x0', 'x1'] } },
      { native: a.native, onnx: a.onnx, modelCard: '' },
    );
    await reg.register(
      { ...base, id: 'b', metrics: { featureNames: ['x0', 'x1'] } },
      { native: b.native, onnx: b.onnx, modelCard: '' },
    );
    await reg.promote('a');
    const first = await scorer.score(a.X.subarray(0, 2), 1);
    assert.equal(first?.modelId, 'a');
    assert.ok(Math.abs(first!.scores[0]! - a.preds[0]!) <= 1e-5);
    await reg.promote('b');
    clock = 500;
    assert.equal(
      (await scorer.score(a.X.subarray(0, 2), 1))?.modelId,
      'a',
      'within the refresh interval the cached champion serves',
    );
    clock = 1500;
    const second = await scorer.score(a.X.subarray(0, 2), 1);
    assert.equal(second?.modelId, 'b');
    assert.ok(Math.abs(second!.scores[0]! - b.preds[0]!) <= 1e-5);
    await scorer.close();
  });
});
