import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { combine, performanceWeights } from '../../../src/models/ensemble/ensemble';
import { successiveHalving } from '../../../src/models/hpo/successive-halving';

describe('ensemble weighted by recent out-of-sample performance', () => {
  const members = [
    { id: 'good', recentOosPnl: [3, 2, 4, 3, 5] },
    { id: 'ok', recentOosPnl: [1, -1, 2, 0, 1] },
    { id: 'losing', recentOosPnl: [-2, -3, -1, -2, -4] },
  ];

  test('when weighting, then better recent OOS Sharpe earns more weight and losing members get none', () => {
    const w = performanceWeights(members);
    assert.ok(w[0]! > w[1]! && w[1]! > 0);
    assert.equal(w[2], 0);
    assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    assert.deepEqual(performanceWeights([{ id: 'x', recentOosPnl: [-1, -2] }]), [0]);
  });

  test('when fewer members agree than the minimum consensus, then the ensemble stays flat', () => {
    const w = [0.2, 0.2, 0.2, 0.2, 0.2];
    assert.equal(combine([1, 1, 1, -1, -1], w, { minConsensus: 3 }).consensus, true);
    const split = combine([1, 1, -1, -1, 0], w, { minConsensus: 3 });
    assert.equal(split.score, 0);
    assert.equal(split.consensus, false);
    assert.throws(() => combine([1], [1], { minConsensus: 2 }), /minConsensus: must be between 1 and 1/);
  });
});

describe('successive halving with a budget, resumable', () => {
  const space = {
    x: { kind: 'float' as const, min: -5, max: 5 },
    depth: { kind: 'int' as const, min: 1, max: 8 },
  };
  // Score peaks at x = 1, depth = 4; more resource = less noise (a deterministic stand-in for longer training).
  const score = (p: Record<string, string | number>, r: number) =>
    -((Number(p.x) - 1) ** 2) - (Number(p.depth) - 4) ** 2 / 4 + Math.sin(Number(p.x) * 7) / r;

  test('when searching, then the winner is near the optimum and the budget is respected', async () => {
    let spent = 0;
    const { best, state } = await successiveHalving({
      space,
      trials: 27,
      minResource: 1,
      eta: 3,
      budget: 1000,
      seed: 4,
      evaluate: async (p, r) => {
        spent += r;
        return score(p, r);
      },
    });
    assert.equal(state.spent, spent);
    assert.ok(spent <= 1000);
    assert.equal(best.scores.length, 4); // rungs with 27, 9, 3, 1 trials
    const bestRandom = Math.max(...state.trials.map((t) => score(t.params, 1e9)));
    assert.ok(score(best.params, 1e9) >= bestRandom - 1, 'halving keeps a near-best configuration');
    const small = await successiveHalving({
      space,
      trials: 27,
      minResource: 1,
      budget: 10,
      seed: 4,
      evaluate: async (p, r) => score(p, r),
    });
    assert.equal(small.state.spent, 10);
  });

  test('when the search crashes and restarts, then finished evaluations are not repeated and the result is the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hpo-'));
    const statePath = join(dir, 'state.json');
    try {
      const full = await successiveHalving({
        space,
        trials: 9,
        minResource: 1,
        budget: 100,
        seed: 9,
        evaluate: async (p, r) => score(p, r),
      });
      let calls = 0;
      await assert.rejects(
        successiveHalving({
          space,
          trials: 9,
          minResource: 1,
          budget: 100,
          seed: 9,
          statePath,
          evaluate: async (p, r) => {
            if (++calls === 7) throw new Error('worker died');
            return score(p, r);
          },
        }),
        /worker died/,
      );
      let resumedCalls = 0;
      const resumed = await successiveHalving({
        space,
        trials: 9,
        minResource: 1,
        budget: 100,
        seed: 9,
        statePath,
        evaluate: async (p, r) => {
          resumedCalls++;
          return score(p, r);
        },
      });
      assert.equal(resumedCalls, 9 + 3 + 1 - 6);
      assert.deepEqual(resumed.best.params, full.best.params);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
