import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { registerEnsemble } from '../../../src/models/ensemble/registered';
import { xgboostToOnnx } from '../../../src/models/onnx/xgboost-export';
import { ModelRegistry } from '../../../src/models/registry/registry';
import { loadServedModel, sha256, type ServingInfo } from '../../../src/models/serving/served-model';
import { DEFAULT_XGBOOST_SPEC } from '../../../src/models/spec';
import { DMatrix, train } from '../../../src/models/xgboost';
import { createTestDatabase, type TestDatabase } from '../../support/db';

/**
 * Five registered row models with known opinions: three predict +x0, two predict −x0. The served ensemble must
 * follow the 3-of-5 rule, weight members by their recent out-of-sample P&L, and be flat without consensus.
 */
describe('a served ensemble of registered models', () => {
  let db: TestDatabase;
  let dir: string;
  let reg: ModelRegistry;
  const N = 200;
  const X = Float32Array.from({ length: N * 2 }, (_, i) =>
    i % 2 === 0 ? -1 + (2 * (i / 2)) / (N - 1) : 0.5,
  );
  const x0 = (i: number) => X[i * 2]!;

  before(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'ensemble-'));
    reg = new ModelRegistry(db.pool, dir);
    const signs = [1, 1, 1, -1, -1];
    for (const [k, s] of signs.entries()) {
      const d = DMatrix.fromFloat32(X, N, 2, {
        label: Float32Array.from({ length: N }, (_, i) => s * x0(i)),
      });
      const r = await train({
        params: { nthread: 1, max_depth: 4, eta: 0.5, base_score: 0, objective: 'reg:squarederror' },
        dtrain: d,
        rounds: 40,
      });
      const native = r.booster.toBuffer('json');
      r.booster.free();
      d.free();
      const onnx = xgboostToOnnx(native, { output: 'margin', numFeatures: 2 });
      const serving: ServingInfo = {
        window: 1,
        horizonMinutes: 5,
        barMs: 60_000,
        output: 'score',
        scoreUnits: 'return-sd',
        labelScale: 0.001,
        onnxSha256: sha256(onnx),
        parity: {
          runtime: 'onnxruntime',
          executionProvider: 'cpu',
          reference: 'xgboost-native',
          maxAbsDiff: 0,
          rows: N,
          tolerance: 1e-5,
        },
      };
      // The two contrarians lost money lately (their weight must be 0 in the weighted variant).
      const pnl = Array.from({ length: 30 }, (_, d) => (k < 3 ? 5 : -5) + Math.sin(d + k));
      await reg.register(
        {
          id: `m${k}`,
          name: 'member',
          kind: 'xgboost',
          spec: { ...DEFAULT_XGBOOST_SPEC, objective: 'squared_error' },
          featureSet: 'models.minute-basic',
          featureSetVersion: '1',
          symbol: 'SPY',
          trainFrom: Date.UTC(2024, 0, 2),
          trainTo: Date.UTC(2024, 5, 28),
          dataHash: `h${k}`,
          metrics: {
            featureNames: ['x0', 'x1'],
            serving,
            oosScoreSd: 1,
            oosPnlByDay: pnl.map((p, d) => [d * 86_400_000, p]),
          },
          workflowId: null,
        },
        { native, onnx, modelCard: '' },
      );
    }
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when three of five members agree and the contrarians have lost money lately, then the ensemble trades with the three and gives the losers no weight', async () => {
    const rec = await registerEnsemble(reg, {
      name: 'five',
      spec: { kind: 'ensemble', members: ['m0', 'm1', 'm2', 'm3', 'm4'], minConsensus: 3 },
    });
    const ens = await loadServedModel(reg, rec.id);
    try {
      assert.deepEqual(
        ens.members.map((m) => [m.id, m.weight > 0]),
        [
          ['m0', true],
          ['m1', true],
          ['m2', true],
          ['m3', false],
          ['m4', false],
        ],
      );
      assert.equal(ens.featureSet, 'models.minute-basic');
      assert.equal(ens.window, 1);
      const out = await ens.score(X, N);
      for (let i = 0; i < N; i++) {
        if (Math.abs(x0(i)) > 0.3) {
          assert.equal(Math.sign(out.score[i]!), Math.sign(x0(i)), `row ${i}`);
          assert.ok(out.lower![i]! <= out.score[i]! && out.score[i]! <= out.upper![i]!);
        }
      }
    } finally {
      await ens.close();
    }
  });

  test('when members are weighted equally and fewer than the minimum agree, then the ensemble is flat', async () => {
    // Equal recent records: the weighted direction is the majority's (+x0), agreed on by 3 members.
    await reg.register(
      {
        id: 'm5',
        name: 'member',
        kind: 'xgboost',
        spec: DEFAULT_XGBOOST_SPEC,
        featureSet: 'models.minute-basic',
        featureSetVersion: '1',
        symbol: 'SPY',
        trainFrom: 0,
        trainTo: 1,
        dataHash: 'x',
        metrics: { featureNames: ['x1', 'x0'] },
        workflowId: null,
      },
      { modelCard: '' },
    );
    await assert.rejects(
      loadServedModel(reg, { kind: 'ensemble', members: ['m0', 'm5'], minConsensus: 1 }),
      /ensemble\.members: m5 orders its feature columns differently from m0/,
    );
    const three = await loadServedModel(reg, {
      kind: 'ensemble',
      members: ['m0', 'm1', 'm2', 'm3', 'm4'],
      minConsensus: 4,
    });
    try {
      const out = await three.score(X, N);
      assert.ok(
        out.score.every((s) => s === 0),
        'only 3 agree, 4 required: flat everywhere',
      );
    } finally {
      await three.close();
    }
    await assert.rejects(
      loadServedModel(reg, { kind: 'ensemble', members: ['m0', 'nope'], minConsensus: 1 }),
      /ensemble\.members: no model "nope" in the registry/,
    );
  });
});
