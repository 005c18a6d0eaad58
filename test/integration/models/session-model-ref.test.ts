import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decidedBy } from '../../../contracts/session';
import { sessionModel, strategySpecFrom } from '../../../cli/commands/session';
import { loadConfig, type AppConfig } from '../../../src/config/config';
import { ModelRegistry } from '../../../src/models/registry/registry';
import { DEFAULT_XGBOOST_SPEC } from '../../../src/models/spec';
import { createTestDatabase, type TestDatabase } from '../../support/db';

/** What `session start` and `schedules apply` pin as the deciding model, against a real registry. */
describe('session start: the model that decides', () => {
  let db: TestDatabase;
  let dir: string;
  let config: AppConfig;
  let registry: ModelRegistry;
  const register = (id: string, name: string) =>
    registry.register(
      {
        id,
        name,
        kind: 'xgboost',
        spec: DEFAULT_XGBOOST_SPEC,
        featureSet: 'features.core',
        featureSetVersion: 'v',
        symbol: 'AAPL',
        trainFrom: 0,
        trainTo: 1,
        dataHash: 'h',
        metrics: {},
        workflowId: null,
      },
      { modelCard: '# card' },
    );
  const refAi = strategySpecFrom('reference-ai', undefined, undefined);

  before(async () => {
    db = await createTestDatabase('tt_model_ref');
    dir = mkdtempSync(join(tmpdir(), 'tt-model-ref-'));
    config = loadConfig({
      ...process.env,
      DATABASE_URL: db.url,
      TRADER_ARTIFACT_DIR: dir,
      TRADER_CONFIG_FILE: '',
    });
    registry = new ModelRegistry(db.pool, config.artifactDir);
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when no name has a champion, then reference-ai trades its indicator signals and says so; model-signal is refused', async () => {
    const r = await sessionModel(config, refAi, undefined);
    assert.equal(r.modelId, undefined);
    assert.match(r.note, /indicator signals: the fallback/);
    assert.equal(decidedBy(refAi, null), 'reference-ai on indicator signals (fallback: no model)');
    await assert.rejects(
      sessionModel(config, strategySpecFrom('model-signal', undefined, undefined), undefined),
      /model-signal trades a model.*--model/,
    );
    await assert.rejects(sessionModel(config, refAi, 'champion'), /--model: no model name has a champion/);
  });

  test('when one name has a champion, then it decides by default, pinned to its id; champion:<name> and an id resolve; bad references name --model', async () => {
    await register('alpha-1', 'alpha');
    await registry.promote('alpha-1');
    const byDefault = await sessionModel(config, refAi, undefined);
    assert.equal(byDefault.modelId, 'alpha-1');
    assert.match(byDefault.note, /reference-ai on champion of alpha alpha-1/);
    assert.equal((await sessionModel(config, refAi, 'champion:alpha')).modelId, 'alpha-1');
    assert.equal((await sessionModel(config, refAi, 'alpha-1')).modelId, 'alpha-1');
    await assert.rejects(sessionModel(config, refAi, 'nope-7'), /--model: no model "nope-7" in the registry/);
    await assert.rejects(
      sessionModel(config, refAi, 'champion:beta'),
      /--model: no champion for model name "beta"/,
    );
    await assert.rejects(
      sessionModel(config, strategySpecFrom('sma-trend', undefined, undefined), 'alpha-1'),
      /--model: sma-trend reads no predictions/,
    );
    assert.equal(
      (await sessionModel(config, strategySpecFrom('sma-trend', undefined, undefined), undefined)).modelId,
      undefined,
    );
  });

  test('when two names have a champion, then the default is refused naming both', async () => {
    await register('beta-1', 'beta');
    await registry.promote('beta-1');
    await assert.rejects(
      sessionModel(config, refAi, undefined),
      /several names have a champion \(alpha, beta\)/,
    );
    assert.equal((await sessionModel(config, refAi, 'champion:beta')).modelId, 'beta-1');
  });
});
