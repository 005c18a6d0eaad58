import { condition, defineQuery, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

/** Activities a replayed session calls per bar; the test's implementations report through the metric helpers. */
export interface MeteredSessionActivities {
  processBar(input: { bar: number }): Promise<void>;
}

const { processBar } = proxyActivities<MeteredSessionActivities>({ startToCloseTimeout: '30s' });

export const continueSignal = defineSignal('continue');
export const barsDoneQuery = defineQuery<number>('barsDone');

/** Replays `first` bars, waits for the test to scrape, then replays the rest. */
export async function meteredSessionWorkflow(input: { first: number; total: number }): Promise<number> {
  let resume = false;
  let done = 0;
  setHandler(continueSignal, () => void (resume = true));
  setHandler(barsDoneQuery, () => done);
  for (let bar = 0; bar < input.total; bar++) {
    if (bar === input.first) await condition(() => resume);
    await processBar({ bar });
    done = bar + 1;
  }
  return done;
}
