import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { championChallengerGate, studentTCdf } from '../../../src/models/gate/champion-challenger';
import { purgedKFold, walkForwardSplits } from '../../../src/models/validation/walk-forward';

const MIN = 60_000;
/** Minute rows with gaps; labels end `h` minutes after the decision. */
function times(n: number, h: number, gapEvery = 50) {
  const d: number[] = [],
    e: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += i % gapEvery === 0 ? 600 * MIN : MIN;
    d.push(t);
    e.push(t + h * MIN);
  }
  return { d, e };
}

describe('walk-forward splits with purging and embargo', () => {
  test('when splitting, then every training label ends before its test block starts and test blocks are disjoint and ordered', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 600 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 30 }),
        (n, folds, h) => {
          const { d, e } = times(n, h);
          const fs = walkForwardSplits(d, e, { folds, embargoMs: 20 * MIN });
          let lastTest = -1;
          for (const f of fs) {
            for (const i of f.train)
              assert.ok(e[i]! < f.testFrom, `train row ${i} label leaks into fold ${f.index}`);
            for (const i of f.test) assert.ok(i > lastTest);
            lastTest = f.test[f.test.length - 1]!;
            for (const i of f.train)
              for (const p of fs.slice(0, f.index))
                assert.ok(!(d[i]! > p.testTo && d[i]! <= p.testTo + 20 * MIN), 'embargoed row used');
          }
          assert.equal(fs[fs.length - 1]!.test[fs[fs.length - 1]!.test.length - 1], n - 1);
        },
      ),
    );
  });

  test('when labels overlap the boundary, then exactly those rows are purged', () => {
    const n = 100;
    const d = Array.from({ length: n }, (_, i) => i * MIN);
    const e = d.map((t) => t + 5 * MIN);
    const [f] = walkForwardSplits(d, e, { folds: 1, embargoMs: 0 });
    assert.equal(f!.test[0], 50);
    assert.equal(f!.purged, 5); // rows 45..49 end at or after row 50's decision time
    assert.deepEqual(
      f!.train,
      Array.from({ length: 45 }, (_, i) => i),
    );
  });

  test('when purged k-fold runs, then rows after a test block are embargoed and none overlap it', () => {
    const { d, e } = times(500, 10, 1000);
    for (const f of purgedKFold(d, e, 5, 30 * MIN)) {
      for (const i of f.train) {
        assert.ok(!(d[i]! <= f.testTo && e[i]! >= f.testFrom));
        assert.ok(!(d[i]! > f.testTo && d[i]! <= f.testTo + 30 * MIN));
      }
    }
  });

  test('when inputs are unsorted or folds do not fit, then the error names the field', () => {
    assert.throws(
      () => walkForwardSplits([2, 1], [3, 2], { folds: 1, embargoMs: 0 }),
      /decisionTs: not sorted at row 1/,
    );
    assert.throws(
      () => walkForwardSplits([1, 2], [2, 3], { folds: 5, embargoMs: 0 }),
      /folds: 5 folds do not fit in 2 rows/,
    );
  });
});

describe('champion/challenger gate', () => {
  test('when the Student-t CDF is evaluated, then it matches reference values', () => {
    assert.ok(Math.abs(studentTCdf(2, 10) - 0.963306) < 1e-5);
    assert.ok(Math.abs(studentTCdf(1, 5) - 0.818391) < 1e-5);
    assert.ok(Math.abs(studentTCdf(0, 3) - 0.5) < 1e-12);
    // Table values: t(0.99, 30) = 2.457; large df tends to the normal (1.96 → 0.975).
    assert.ok(Math.abs(studentTCdf(2.457, 30) - 0.99) < 1e-4);
    assert.ok(Math.abs(studentTCdf(1.96, 1e6) - 0.975) < 1e-4);
  });

  test('when there is no champion, then the challenger must beat staying flat by the same test', () => {
    const profitable = Array.from({ length: 600 }, (_, i) => 1 + Math.sin(i) * 3);
    const losing = profitable.map((x) => x - 2);
    const win = championChallengerGate({ challengerPnl: profitable, championPnl: null, blockSize: 30 });
    assert.equal(win.promote, true);
    assert.match(win.reason, /no champion yet, so the baseline is staying flat/);
    const lose = championChallengerGate({ challengerPnl: losing, championPnl: null, blockSize: 30 });
    assert.equal(lose.promote, false, 'a model that loses money out of sample never becomes champion');
    assert.equal(
      championChallengerGate({ challengerPnl: [1, 2], championPnl: null, blockSize: 1 }).promote,
      false,
      'too few blocks',
    );
  });

  test('when the challenger is consistently better, then it is promoted; when equal or worse, then it is rejected', () => {
    const champ = Array.from({ length: 600 }, (_, i) => Math.sin(i) * 10);
    const better = champ.map((x, i) => x + 2 + Math.cos(i * 3));
    const worse = champ.map((x, i) => x - 1 + Math.cos(i * 3));
    assert.equal(
      championChallengerGate({ challengerPnl: better, championPnl: champ, blockSize: 30 }).promote,
      true,
    );
    const w = championChallengerGate({ challengerPnl: worse, championPnl: champ, blockSize: 30 });
    assert.equal(w.promote, false);
    assert.equal(w.blocks, 20);
    assert.equal(
      championChallengerGate({ challengerPnl: champ, championPnl: champ, blockSize: 30 }).promote,
      false,
    );
    assert.throws(
      () => championChallengerGate({ challengerPnl: [1], championPnl: [1, 2], blockSize: 1 }),
      /not the same folds/,
    );
  });
});
