import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { TASK_QUEUES } from '../../contracts/task-queues';
import { loadConfig, type AppConfig } from '../../src/config/config';
import { stackUp, type StackState } from '../../src/stack/stack';

/** One step of the demo: it prints what it did and where to look. */
interface DemoStep {
  readonly title: string;
  run(ctx: DemoContext): Promise<string>;
}

interface DemoContext {
  readonly config: AppConfig;
  readonly state: StackState;
  readonly client: Client;
}

/**
 * The end-to-end demo, in the order a quant would do it: bring the stack up, load data through a backfill,
 * compute features, train and register a model, backtest it into an HTML report, then trade a replayed paper
 * session through Temporal on the local Alpaca-compatible simulator.
 */
export const demoSteps: DemoStep[] = [
  {
    title: 'walking skeleton: Temporal → io worker → PostgreSQL',
    async run({ client }) {
      const workflowId = `demo-skeleton-${randomUUID()}`;
      const r = await client.workflow.execute('skeletonWorkflow', {
        taskQueue: TASK_QUEUES.io,
        workflowId,
        args: [{ message: 'demo' }],
        workflowExecutionTimeout: '2 minutes',
      });
      return `workflow ${workflowId} stored ping #${r.pingId}`;
    },
  },
];

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the whole system end to end on this machine (paper trading on the local simulator)')
    .action(async () => {
      const config = loadConfig();
      console.log('== stack up');
      const state = await stackUp(config);
      console.log(`   Temporal UI: ${state.temporal.uiUrl ?? state.temporal.address}`);
      const connection = await Connection.connect({ address: state.temporal.address });
      const client = new Client({ connection, namespace: state.temporal.namespace });
      try {
        for (const [i, step] of demoSteps.entries()) {
          const t0 = Date.now();
          console.log(`== ${i + 1}/${demoSteps.length} ${step.title}`);
          const summary = await step.run({ config, state, client });
          console.log(`   ${summary} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        }
      } finally {
        await connection.close();
      }
      console.log(`\nDone. Watch the workflows in the Temporal UI: ${state.temporal.uiUrl ?? '(your Temporal UI)'}`);
      console.log('Stop everything with: npm run trader -- stack down');
    });
}
