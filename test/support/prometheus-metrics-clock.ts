/**
 * Runs a real worker entry point with its metrics clock moved (tests):
 *   node --import tsx test/support/prometheus-metrics-clock.ts workers/dev.ts
 * When METRICS_CLOCK_START_MS is set, the worker's metrics clock (setMetricsClock, the hook replays use) starts at
 * that instant and runs at wall speed, so market-open and data staleness are read on a known trading day. Nothing
 * else in the worker sees this clock; the entry point then runs unchanged. (Not a --import preload: Temporal's
 * workflow threads inherit execArgv and cannot load a .ts preload.)
 */
import { resolve } from 'node:path';
import { setMetricsClock } from '../../src/monitoring/metrics';

const start = Number(process.env.METRICS_CLOCK_START_MS);
if (Number.isFinite(start) && start > 0) {
  const offset = start - Date.now();
  setMetricsClock(() => Date.now() + offset);
}
const entry = process.argv[2];
if (!entry) throw new Error('usage: prometheus-metrics-clock.ts <worker entry, e.g. workers/dev.ts>');
// A dynamic import of the entry, after the clock is set (tsx compiles it to require in this CommonJS package).
void import(resolve(__dirname, '../..', entry));
