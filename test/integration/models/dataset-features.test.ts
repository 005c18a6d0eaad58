import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createModelIoActivities } from '../../../activities/models-io.activities';
import type { DatasetRef } from '../../../contracts/retrain';
import { CORE_FEATURE_SET } from '../../../src/features';
import { buildDatasetFromFeatureSet, readBarsCsvGz, type MinuteBars } from '../../../src/models/dataset';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { sharedDataOrSkip } from '../../support/shared-data';

describe('training datasets over src/features feature sets', () => {
  let db: TestDatabase;
  let dir: string;
  before(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'ds-features-'));
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when built from the core set on real minutes, then rows carry its version, exact label windows, and no look-ahead', (t) => {
    const data = sharedDataOrSkip(t);
    if (!data) return;
    const bars = readBarsCsvGz(join(data, 'lean_equity_usa/1min/SPY.csv.gz'), 'SPY');
    const ds = buildDatasetFromFeatureSet(bars, 'core', { horizonMinutes: 5 });
    assert.equal(ds.featureSetVersion, CORE_FEATURE_SET.version);
    assert.equal(ds.featureSet, 'features.core');
    assert.deepEqual(ds.featureNames, [...CORE_FEATURE_SET.names]);
    for (let i = 0; i < ds.nrow; i++) assert.equal(ds.labelEndTs[i]! - ds.decisionTs[i]!, 5 * 60_000);
    // Perturb a late minute: rows decided before it keep every feature value.
    const k = bars.ts.length - 200;
    const changed: MinuteBars = {
      ...bars,
      close: Float64Array.from(bars.close),
      high: Float64Array.from(bars.high),
    };
    changed.close[k] = changed.close[k]! * 1.05;
    changed.high[k] = Math.max(changed.high[k]!, changed.close[k]!);
    const ds2 = buildDatasetFromFeatureSet(changed, 'core', { horizonMinutes: 5 });
    let checked = 0;
    for (let i = 0; i < ds.nrow && ds.decisionTs[i]! <= bars.ts[k]!; i++, checked++) {
      const a = ds.X.subarray(i * ds.ncol, (i + 1) * ds.ncol),
        b = ds2.X.subarray(i * ds.ncol, (i + 1) * ds.ncol);
      for (let j = 0; j < ds.ncol; j++) assert.ok(Object.is(a[j], b[j]), `row ${i} ${ds.featureNames[j]}`);
    }
    assert.ok(checked > 100);
  });

  test('when the io activity is asked for an unknown feature set, then it fails naming the field', async (t) => {
    const data = sharedDataOrSkip(t);
    if (!data) return;
    const io = createModelIoActivities({
      pool: db.pool,
      artifactDir: dir,
      sharedDataDir: data,
      log: () => undefined,
    });
    const input: Parameters<typeof io.buildRetrainDataset>[0] = {
      source: { kind: 'shared-csv', path: 'lean_equity_usa/1min/SPY.csv.gz', symbol: 'SPY' },
      horizonMinutes: 5,
      featureSet: 'nope',
    };
    await assert.rejects(
      new MockActivityEnvironment().run(io.buildRetrainDataset, input),
      /featureSet: unknown "nope"/,
    );
    const ok: DatasetRef = await new MockActivityEnvironment().run(io.buildRetrainDataset, {
      ...input,
      featureSet: 'core',
    });
    assert.equal(ok.featureSetVersion, CORE_FEATURE_SET.version);
  });
});
