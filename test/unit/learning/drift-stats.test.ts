import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mulberry32 } from '../../../src/model/random';
import { binOf, psi, referenceBins, shares } from '../../../src/learning/psi';
import {
  CUSUM_START,
  SPRT_START,
  cusumUpdate,
  sprtBounds,
  sprtUpdate,
  type SprtState,
} from '../../../src/learning/sequential';

function normals(n: number, seed: number, mean = 0, sd = 1): Float64Array {
  const rnd = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(1e-12, rnd());
    out[i] = mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
  }
  return out;
}

describe('PSI', () => {
  test('when the reference is split into deciles, then each bin holds a tenth and the sample of itself scores 0', () => {
    const ref = referenceBins(normals(10_000, 1));
    assert.equal(ref.edges.length, 9);
    for (const p of ref.props) assert.ok(Math.abs(p - 0.1) < 0.002, `bin share ${p}`);
    assert.equal(psi(ref, normals(10_000, 1)), 0);
  });

  test('when a sample comes from the same distribution, then PSI is small; shifted by one SD, it is large', () => {
    const ref = referenceBins(normals(20_000, 2));
    const same = psi(ref, normals(2_000, 3));
    const shifted = psi(ref, normals(2_000, 4, 1));
    assert.ok(same < 0.02, `same distribution: ${same}`);
    assert.ok(shifted > 0.25, `shifted by 1 SD: ${shifted}`);
  });

  test('when values are missing, then missing values are a bin of their own', () => {
    const ref = referenceBins([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(ref.missing, 0);
    const withNaN = psi(ref, [1, 2, 3, 4, 5, NaN, NaN, NaN, NaN, NaN]);
    assert.ok(withNaN > 1, `half missing: ${withNaN}`);
    assert.ok(Number.isNaN(psi(ref, [])), 'no sample: no evidence');
  });

  test('when values tie at a cut point, then the bins merge and a value on an edge goes to the upper bin', () => {
    const ref = referenceBins([0, 0, 0, 0, 0, 0, 1, 2, 3, 4], 5);
    assert.deepEqual(ref.edges, [1, 3]);
    assert.equal(binOf(ref.edges, 1), 1);
    assert.equal(binOf(ref.edges, 0.999), 0);
    assert.deepEqual(shares([0, 1, 3], ref.edges).props, [1 / 3, 1 / 3, 1 / 3]);
  });
});

describe('sequential tests', () => {
  const o = { p0: 0.56, delta: 0.05, alpha: 0.01, beta: 0.1 };
  function run(hitRate: number, days: number, perDay: number, seed: number): SprtState[] {
    const rnd = mulberry32(seed);
    const out: SprtState[] = [];
    let s = SPRT_START;
    for (let d = 0; d < days; d++) {
      let hits = 0;
      for (let i = 0; i < perDay; i++) if (rnd() < hitRate) hits++;
      s = sprtUpdate(s, hits, perDay, o);
      out.push(s);
    }
    return out;
  }

  test('when the live hit rate falls from 0.56 to 0.44, then the SPRT says degraded within a week of 78 predictions a day', () => {
    const days = run(0.44, 10, 78, 5);
    const at = days.findIndex((s) => s.verdict === 'degraded');
    assert.ok(at >= 0 && at < 5, `degraded on day ${at + 1}`);
    assert.ok(days[at]!.llr >= sprtBounds(o).upper);
  });

  test('when a model as good as its record has a bad week (two standard errors below it), then the SPRT gives no verdict', () => {
    // 0.56 over 390 predictions has a standard error of 0.025: a week at 0.51 is a bad week by chance
    let s = SPRT_START;
    for (let d = 0; d < 5; d++) s = sprtUpdate(s, 40, 78, o);
    assert.equal(s.verdict, 'continue', `LLR ${s.llr.toFixed(2)} < ${sprtBounds(o).upper.toFixed(2)}`);
    // the same week followed by the sign flip's hit rate is a verdict
    for (let d = 0; d < 3; d++) s = sprtUpdate(s, 34, 78, o);
    assert.equal(s.verdict, 'degraded');
  });

  test('when the model performs as promised, then the test keeps accepting H0 and restarting, never degraded', () => {
    const days = run(0.56, 60, 78, 10);
    assert.ok(days.every((s) => s.verdict === 'continue'));
    assert.ok(days[days.length - 1]!.restarts > 0);
  });

  test('when a CUSUM sees a week one standard error short, then no alarm; at two, it alarms within four days', () => {
    let s = CUSUM_START;
    for (let d = 0; d < 5; d++) s = cusumUpdate(s, -1);
    assert.equal(s.alarm, false);
    s = CUSUM_START;
    let day = 0;
    while (!s.alarm && day < 10) {
      s = cusumUpdate(s, -2);
      day++;
    }
    assert.ok(s.alarm && day <= 4, `alarm after ${day} days`);
    assert.equal(cusumUpdate(s, 10).alarm, true, 'an alarm stays until the state is reset');
  });
});
