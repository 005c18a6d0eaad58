import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ModelRegistry } from '../../../src/models/registry/registry';
import { DEFAULT_XGBOOST_SPEC } from '../../../src/models/spec';
import { createTestDatabase, type TestDatabase } from '../../support/db';

describe('registry: shadow status, status history and rollback', () => {
  let db: TestDatabase;
  let dir: string;
  let reg: ModelRegistry;
  before(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'registry-shadow-'));
    reg = new ModelRegistry(db.pool, dir);
    for (const id of ['a', 'b', 'c'])
      await reg.register(
        {
          id,
          name: 'spy',
          kind: 'xgboost',
          spec: DEFAULT_XGBOOST_SPEC,
          featureSet: 'features.compact',
          featureSetVersion: 'v',
          symbol: 'SPY',
          trainFrom: 0,
          trainTo: 1,
          dataHash: id,
          metrics: {},
          workflowId: null,
        },
        { modelCard: '' },
      );
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when a model enters shadow and is promoted, then each change is in the history with who and why', async () => {
    await reg.promote('a', { actor: 'cli:ops', reason: 'first' });
    await reg.setStatus('b', 'shadow', { actor: 'workflow:learn', reason: 'retrained' });
    assert.deepEqual(
      (await reg.shadows('spy')).map((m) => m.id),
      ['b'],
    );
    assert.deepEqual(await reg.activeNames(), ['spy']);
    await reg.promote('b', { actor: 'workflow:learn', reason: 'shadow record beats the champion' });
    assert.equal((await reg.champion('spy'))!.id, 'b');
    assert.equal((await reg.get('a'))!.status, 'retired');
    const h = await reg.statusHistory('spy');
    assert.deepEqual(
      h.slice(0, 4).map((e) => [e.modelId, e.from, e.to, e.actor]),
      [
        ['b', 'shadow', 'champion', 'workflow:learn'],
        ['a', 'champion', 'retired', 'workflow:learn'],
        ['b', 'candidate', 'shadow', 'workflow:learn'],
        ['a', 'candidate', 'champion', 'cli:ops'],
      ],
    );
    assert.match(h[1]!.reason, /replaced by b/);
  });

  test('when the champion is rolled back, then the previous champion is reinstated at once and both moves are recorded', async () => {
    const r = await reg.rollback('spy', { actor: 'cli:alice', reason: 'bad fills' });
    assert.deepEqual(r, { from: 'b', to: 'a' });
    assert.equal((await reg.champion('spy'))!.id, 'a');
    assert.equal((await reg.get('b'))!.status, 'retired');
    const [last, before] = await reg.statusHistory('spy', 2);
    assert.deepEqual([last!.modelId, last!.to, last!.actor], ['a', 'champion', 'cli:alice']);
    assert.match(last!.reason, /rollback from b: bad fills/);
    assert.deepEqual([before!.modelId, before!.to], ['b', 'retired']);
    // a second rollback undoes the first
    assert.deepEqual(await reg.rollback('spy', { actor: 'cli:alice', reason: 'undo' }), {
      from: 'a',
      to: 'b',
    });
  });

  test('when a name has no earlier champion or no champion, then rollback refuses and changes nothing', async () => {
    await assert.rejects(reg.rollback('qqq', { actor: 'cli:x', reason: '' }), /name: .*no champion/);
    const d = new ModelRegistry(db.pool, dir);
    await d.register(
      {
        id: 'q1',
        name: 'qqq',
        kind: 'xgboost',
        spec: DEFAULT_XGBOOST_SPEC,
        featureSet: 'features.compact',
        featureSetVersion: 'v',
        symbol: 'QQQ',
        trainFrom: 0,
        trainTo: 1,
        dataHash: 'q1',
        metrics: {},
        workflowId: null,
      },
      { modelCard: '' },
    );
    await d.promote('q1');
    await assert.rejects(d.rollback('qqq', { actor: 'cli:x', reason: '' }), /no earlier champion than q1/);
    assert.equal((await d.champion('qqq'))!.id, 'q1');
  });

  test('when a status outside the list is written, then the database refuses it', async () => {
    await assert.rejects(
      db.pool.query(`update models set status = 'zombie' where id = 'c'`),
      /models_status_check/,
    );
  });
});
