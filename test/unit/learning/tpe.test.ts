import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mulberry32 } from '../../../src/model/random';
import { sampleParams } from '../../../src/models/hpo/successive-halving';
import { suggestTrials, type ParamSpace } from '../../../src/models/hpo/tpe';

const space: ParamSpace = {
  x: { kind: 'float', min: -2, max: 2 },
  lr: { kind: 'float', min: 1e-4, max: 1, log: true },
  depth: { kind: 'int', min: 1, max: 8 },
  booster: { kind: 'choice', values: ['gbtree', 'dart'] },
};

/** Best at x = 0.3, lr = 0.01, depth = 5, gbtree. */
function objective(p: Record<string, string | number>): number {
  return (
    -((Number(p.x) - 0.3) ** 2) -
    (Math.log10(Number(p.lr)) + 2) ** 2 / 4 -
    (Number(p.depth) - 5) ** 2 / 10 -
    (p.booster === 'dart' ? 0.5 : 0)
  );
}

function tpeSearch(seed: number, n: number, parallel = 1): number[] {
  const history: Array<{ params: Record<string, string | number>; score: number }> = [];
  for (let t = 0; t < n; t += parallel) {
    const trials = Array.from({ length: Math.min(parallel, n - t) }, (_, k) => t + k);
    for (const s of suggestTrials({ space, history, trials, seed, startupTrials: 6 }))
      history.push({ params: s.params, score: objective(s.params) });
  }
  return history.map((h) => h.score);
}

describe('TPE', () => {
  test('when it searches a smooth objective, then its best after 40 trials beats random search on average over seeds', () => {
    let tpeSum = 0;
    let randomSum = 0;
    let wins = 0;
    const seeds = Array.from({ length: 12 }, (_, i) => i + 1);
    for (const seed of seeds) {
      const tpe = Math.max(...tpeSearch(seed, 40));
      const rnd = mulberry32(seed + 1000);
      let random = -Infinity;
      for (let i = 0; i < 40; i++) random = Math.max(random, objective(sampleParams(space, rnd)));
      tpeSum += tpe;
      randomSum += random;
      if (tpe > random) wins++;
    }
    const tpeMean = tpeSum / seeds.length;
    const randomMean = randomSum / seeds.length;
    assert.ok(tpeMean > randomMean, `mean best: TPE ${tpeMean.toFixed(3)}, random ${randomMean.toFixed(3)}`);
    assert.ok(wins >= 7, `TPE won on ${wins} of ${seeds.length} seeds`);
  });

  test('when the same trial is proposed twice from the same history, then the parameters are identical; parallel trials differ', () => {
    const history = tpeSearch(9, 12).map((score, i) => ({
      params: { x: i / 10, lr: 0.01, depth: 3, booster: 'gbtree' },
      score,
    }));
    const a = suggestTrials({ space, history, trials: [12, 13, 14], seed: 9 });
    const b = suggestTrials({ space, history, trials: [12, 13, 14], seed: 9 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a[0]!.params, a[1]!.params);
  });

  test('when parameters are proposed, then they respect the space (int, log bounds, choices)', () => {
    const scores = tpeSearch(11, 30, 3);
    assert.equal(scores.length, 30);
    const history = Array.from({ length: 10 }, (_, i) => ({
      params: { x: 0, lr: 0.01, depth: 1 + (i % 8), booster: 'dart' },
      score: i,
    }));
    for (const s of suggestTrials({ space, history, trials: [10, 11, 12, 13], seed: 3 })) {
      assert.ok(
        Number.isInteger(s.params.depth) && Number(s.params.depth) >= 1 && Number(s.params.depth) <= 8,
      );
      assert.ok(Number(s.params.lr) >= 1e-4 && Number(s.params.lr) <= 1);
      assert.ok(['gbtree', 'dart'].includes(String(s.params.booster)));
    }
  });

  test('when the space is empty or inverted, then the error names the parameter', () => {
    assert.throws(
      () => suggestTrials({ space: {}, history: [], trials: [0], seed: 1 }),
      /space: no parameters/,
    );
    assert.throws(
      () =>
        suggestTrials({ space: { a: { kind: 'int', min: 5, max: 1 } }, history: [], trials: [0], seed: 1 }),
      /space\.a: max 1 is below min 5/,
    );
  });
});
