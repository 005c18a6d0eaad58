import { performance } from 'node:perf_hooks';
import { recordTrainingRun } from './metrics';

/**
 * Runs one training attempt and records it: `trader_training_runs_total{outcome="succeeded"|"failed"}` and its
 * wall time in `trader_training_duration_seconds`. Every attempt counts (a retried attempt that failed is a
 * failed run), which is what the repeated-failures alert needs. `model` is the model family (xgboost, lstm).
 */
export async function observeTrainingRun<T>(model: string, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  try {
    const result = await run();
    recordTrainingRun(model, 'succeeded', seconds());
    return result;
  } catch (err) {
    recordTrainingRun(model, 'failed', seconds());
    throw err;
  }
}
