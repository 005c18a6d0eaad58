import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';

/** One row of a benchmark result, in the format of DESIGN.md (Benchmarks). */
export interface BenchRow {
  metric: string;
  value: number;
  unit: string;
  peer?: { name: string; value: number };
  /** Ours relative to the peer, stated so that bigger is better unless the metric's name says otherwise. */
  ratio?: number;
  target?: { op: '>=' | '<=' | '<' | '>'; value: number };
  pass?: boolean;
  note?: string;
}

export function machine() {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    cpu = execSync("grep -m1 'model name' /proc/cpuinfo", { encoding: 'utf8' }).split(':')[1]!.trim();
  } catch {
    /* keep os.cpus() */
  }
  return { cpu, cores: cpus().length, node: process.version, os: `${process.platform} ${process.arch}` };
}

export function withTarget(row: BenchRow): BenchRow {
  if (!row.target) return row;
  const { op, value } = row.target;
  const v = row.value;
  const pass = op === '>=' ? v >= value : op === '<=' ? v <= value : op === '<' ? v < value : v > value;
  return { ...row, pass };
}

/** Median of several runs: machines here are shared and noisy. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[idx]!;
}

export function timeIt(fn: () => void, runs = 5): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

export async function timeItAsync(fn: () => Promise<void>, runs = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

/** Prints the table and writes bench/results/<name>.json. */
export function writeResults(name: string, rows: BenchRow[], extra: Record<string, unknown> = {}): void {
  const results = rows.map(withTarget);
  const doc = { name, date: new Date().toISOString(), machine: machine(), results, ...extra };
  const dir = resolve(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, `${name}.json`), JSON.stringify(doc, null, 2) + '\n');
  const fmt = (v: number | undefined) =>
    v === undefined
      ? ''
      : Math.abs(v) >= 1000
        ? v.toFixed(0)
        : Math.abs(v) >= 1
          ? v.toFixed(3)
          : v.toPrecision(4);
  console.log(`\n${name} — ${doc.machine.cpu}, ${doc.machine.cores} cores, node ${doc.machine.node}`);
  console.table(
    results.map((r) => ({
      metric: r.metric,
      value: fmt(r.value),
      unit: r.unit,
      peer: r.peer ? `${r.peer.name}: ${fmt(r.peer.value)}` : '',
      ratio: fmt(r.ratio),
      target: r.target ? `${r.target.op} ${r.target.value}` : '',
      pass: r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL',
    })),
  );
  console.log(`wrote bench/results/${name}.json`);
}
