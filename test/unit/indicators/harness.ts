/**
 * The one harness every indicator goes through (LEAN style): reference comparison against TA-Lib,
 * incremental == batch, warm-up, reset and out-of-order handling.
 */
import assert from 'node:assert/strict';
import type { IndicatorColumns, IndicatorInput, IndicatorSpec } from '../../../src/indicators';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const talib = require('talib') as {
  execute(args: Record<string, unknown>): {
    begIndex: number;
    nbElement: number;
    result: Record<string, number[]>;
  };
};

export const MAX_REL_DIFF = 1e-9;

export function inputAt(c: IndicatorColumns, i: number): IndicatorInput {
  return {
    ts: c.ts ? c.ts[i]! : i,
    open: c.open?.[i] ?? NaN,
    high: c.high?.[i] ?? NaN,
    low: c.low?.[i] ?? NaN,
    close: c.close?.[i] ?? NaN,
    volume: c.volume?.[i] ?? NaN,
    benchmark: c.benchmark?.[i],
    bid: c.bid?.[i],
    ask: c.ask?.[i],
    bidSize: c.bidSize?.[i],
    askSize: c.askSize?.[i],
  };
}

function length(c: IndicatorColumns): number {
  return (c.close ?? c.high ?? c.volume ?? c.bid)!.length;
}

/** Runs the incremental class over the columns; returns one array per output. */
export function runIncremental(spec: IndicatorSpec, c: IndicatorColumns): Float64Array[] {
  const ind = spec.create();
  const n = length(c);
  const outs = ind.outputNames.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    ind.update(inputAt(c, i));
    for (let k = 0; k < outs.length; k++) outs[k]![i] = ind.outputs[k]!;
  }
  return outs;
}

export function relDiff(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

/** (1) Against TA-Lib: same first index, max relative difference ≤ 1e-9 on every output TA-Lib has. */
export function checkAgainstTalib(
  spec: IndicatorSpec,
  c: IndicatorColumns,
  label: string,
): { compared: number; maxRel: number; runningSumExcused: number } {
  const ref = spec.talib;
  assert.ok(ref, `${spec.id} has no TA-Lib reference`);
  const n = length(c);
  const args: Record<string, unknown> = { name: ref.name, startIdx: 0, endIdx: n - 1, ...ref.options };
  // Plain arrays: the binding reads typed arrays as garbage.
  for (const [taName, ours] of Object.entries(ref.inputs)) args[taName] = Array.from(c[ours]!);
  if (Object.values(ref.inputs).includes('high')) {
    for (const k of ['open', 'high', 'low', 'close', 'volume'] as const) if (c[k]) args[k] = Array.from(c[k]);
  }
  const res = talib.execute(args);
  const ours = spec.batch(c);
  let compared = 0;
  let maxRel = 0;
  let runningSumExcused = 0;
  ref.outputs.forEach((key, k) => {
    if (key === null) return;
    const theirs = res.result[key];
    assert.ok(theirs, `${spec.id}: TA-Lib returned no ${key} (got ${Object.keys(res.result).join(', ')})`);
    const mine = ours[k]!;
    const firstOurs = mine.findIndex((v) => !Number.isNaN(v));
    assert.equal(
      firstOurs,
      res.begIndex,
      `${spec.id} ${key} on ${label}: first value at ${firstOurs}, TA-Lib at ${res.begIndex}`,
    );
    const rs = key.includes('Middle') ? undefined : ref.runningSumVariance;
    for (let j = 0; j < res.nbElement; j++) {
      const i = res.begIndex + j;
      let d = relDiff(mine[i]!, theirs[j]!);
      if (rs && d > MAX_REL_DIFF) {
        // Outside 1e-9 only where TA-Lib's running-sum variance is itself that inaccurate.
        const src = c[ref.inputs.inReal!]!;
        let mx = 0;
        for (let w = i - rs.period + 1; w <= i; w++) mx = Math.max(mx, src[w]! * src[w]!);
        const bound = rs.nbDev * Math.sqrt(rs.period * 4 * Number.EPSILON * mx);
        if (Math.abs(mine[i]! - theirs[j]!) <= bound) {
          runningSumExcused++;
          d = 0;
        }
      }
      if (d > maxRel) maxRel = d;
      if (!(d <= MAX_REL_DIFF))
        assert.fail(
          `${spec.id} ${key} on ${label} at ${i}: ours ${mine[i]} vs TA-Lib ${theirs[j]} (rel ${d})`,
        );
      compared++;
    }
  });
  return { compared, maxRel, runningSumExcused };
}

/** (2) The incremental class and the batch kernel give the same numbers, bit for bit. */
export function checkIncrementalEqualsBatch(spec: IndicatorSpec, c: IndicatorColumns, label: string): void {
  const inc = runIncremental(spec, c);
  const bat = spec.batch(c);
  assert.equal(inc.length, bat.length, `${spec.id}: output count`);
  for (let k = 0; k < inc.length; k++) {
    const a = inc[k]!;
    const b = bat[k]!;
    for (let i = 0; i < a.length; i++) {
      if (!Object.is(a[i], b[i]))
        assert.fail(`${spec.id} output ${k} on ${label} at ${i}: incremental ${a[i]} vs batch ${b[i]}`);
    }
  }
}

/** (3) Warm-up: not ready before warmUpPeriod samples, ready at it, and the first value appears then. */
export function checkWarmUp(spec: IndicatorSpec, c: IndicatorColumns): void {
  const ind = spec.create();
  const n = length(c);
  assert.ok(n > ind.warmUpPeriod + 5, `${spec.id}: series too short for warm-up check`);
  assert.equal(ind.isReady, false);
  assert.equal(ind.samples, 0);
  for (let i = 0; i < ind.warmUpPeriod + 3; i++) {
    const ready = ind.update(inputAt(c, i));
    assert.equal(ind.samples, i + 1);
    if (i + 1 < ind.warmUpPeriod) {
      assert.equal(
        ready,
        false,
        `${spec.id}: ready after ${i + 1} samples, warmUpPeriod ${ind.warmUpPeriod}`,
      );
      assert.ok(Number.isNaN(ind.value), `${spec.id}: value before warm-up`);
    }
  }
  if (spec.id.startsWith('RelativeVolume')) return; // readiness follows the minute-of-day history instead
  assert.equal(ind.isReady, true, `${spec.id}: not ready after warmUpPeriod`);
  const batch = spec.batch(c)[0]!;
  assert.equal(
    batch.findIndex((v) => !Number.isNaN(v)),
    ind.warmUpPeriod - 1,
    `${spec.id}: first batch value index vs warmUpPeriod`,
  );
}

/** (4) reset() forgets everything; (5) out-of-order and duplicate samples are ignored. */
export function checkResetAndOrdering(spec: IndicatorSpec, c: IndicatorColumns): void {
  const n = Math.min(length(c), 400);
  const fresh = spec.create();
  const reused = spec.create();
  for (let i = 0; i < n / 2; i++) reused.update(inputAt(c, i));
  reused.reset();
  assert.equal(reused.samples, 0);
  assert.equal(reused.isReady, false);
  for (let i = 0; i < n; i++) {
    fresh.update(inputAt(c, i));
    reused.update(inputAt(c, i));
    if (i > 3 && i % 7 === 0) {
      // A stale sample with different numbers must change nothing.
      const before = Array.from(reused.outputs);
      const samples: number = reused.samples;
      const stale = inputAt(c, i - 2);
      reused.update({ ...stale, close: stale.close * 3, high: stale.high * 3, volume: stale.volume + 1 });
      reused.update(inputAt(c, i));
      assert.equal(reused.samples, samples, `${spec.id}: out-of-order sample counted`);
      assert.deepEqual(
        Array.from(reused.outputs),
        before,
        `${spec.id}: out-of-order sample changed the output`,
      );
    }
    assert.deepEqual(
      Array.from(reused.outputs),
      Array.from(fresh.outputs),
      `${spec.id}: after reset differs at ${i}`,
    );
  }
}
