/**
 * Money helpers. Prices and cash are JS numbers (float64) inside the engine for speed; every value that
 * leaves it (ledger snapshots, reports, workflow state) is rounded to cents or to a fixed number of decimals,
 * and `toDecimalString` gives an exact decimal string where a boundary needs one. Pure: safe in workflows.
 */
export const BPS = 1e-4;

/** Rounds to whole cents, half away from zero (float noise like 0.1+0.2 is absorbed first). */
export function roundCents(x: number): number {
  const scaled = Math.abs(x) * 100;
  const r = Math.round(scaled + 1e-9) / 100;
  return x < 0 ? -r : r;
}

/** Rounds to `digits` decimals (prices: 4 for sub-dollar, 2 otherwise is the broker's job). */
export function roundTo(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Basis points to a fraction. */
export function bps(n: number): number {
  return n * BPS;
}

/** Exact decimal string with `digits` decimals (for JSON payloads where money must be exact). */
export function toDecimalString(x: number, digits = 2): string {
  if (!Number.isFinite(x)) throw new RangeError(`amount: ${x} is not a finite number`);
  return roundTo(x, digits).toFixed(digits);
}

/** Parses a decimal string strictly; names the field on failure. */
export function parseDecimal(s: string, field = 'amount'): number {
  if (!/^-?\d+(\.\d+)?$/.test(s.trim())) throw new RangeError(`${field}: "${s}" is not a decimal number`);
  return Number(s);
}

/** Kahan-compensated sum: equity summed over thousands of fills stays exact to the cent. */
export function sumExact(xs: readonly number[]): number {
  let sum = 0;
  let c = 0;
  for (const x of xs) {
    const y = x - c;
    const t = sum + y;
    c = t - sum - y;
    sum = t;
  }
  return sum;
}
