/** Worker-thread entry: builds one symbol's feature matrix (and labels) per message. */
import { parentPort } from 'node:worker_threads';
import { buildLabels } from './labels';
import { buildFeatureMatrix } from './matrix';
import { defineFeatureSet } from './definition';
import { barsFromMinutes } from './prepare';
import type { FeatureJob, FeatureJobResult } from './parallel-protocol';

export function runFeatureJob(job: FeatureJob): { result: FeatureJobResult; transfer: ArrayBuffer[] } {
  const t0 = performance.now();
  const set = defineFeatureSet(job.set);
  if (set.version !== job.version)
    throw new Error(
      `feature set ${set.name}: worker computed version ${set.version}, caller expected ${job.version}`,
    );
  const bars = barsFromMinutes({ symbol: job.symbol, timeframe: '1m', ...job.minutes }, set.timeframes);
  const m = buildFeatureMatrix(bars, set, { symbol: job.symbol });
  const labels = job.withLabels ? buildLabels(bars[set.baseTimeframe]!, set.labels) : undefined;
  const computeMs = performance.now() - t0;
  let checksum = 0;
  for (let i = 0; i < m.values.length; i++) {
    const v = m.values[i]!;
    if (Number.isFinite(v)) checksum += v;
  }
  const base = { id: job.id, symbol: job.symbol, rows: m.rows, cols: m.cols, computeMs, checksum };
  if (!job.returnValues) return { result: base, transfer: [] };
  const result: FeatureJobResult = {
    ...base,
    ts: m.ts,
    availableAt: m.availableAt,
    values: m.values,
    ...(labels ? { labelNames: labels.names, labels: labels.values } : {}),
  };
  const transfer = [
    m.ts.buffer,
    m.availableAt.buffer,
    m.values.buffer,
    ...(labels ? [labels.values.buffer] : []),
  ] as ArrayBuffer[];
  return { result, transfer };
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: FeatureJob) => {
    try {
      const { result, transfer } = runFeatureJob(job);
      port.postMessage(result, transfer);
    } catch (err) {
      const e: FeatureJobResult = {
        id: job.id,
        symbol: job.symbol,
        rows: 0,
        cols: 0,
        computeMs: 0,
        checksum: 0,
        error: (err as Error).stack ?? String(err),
      };
      port.postMessage(e);
    }
  });
}
