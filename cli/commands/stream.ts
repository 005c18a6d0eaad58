import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import type { Command } from 'commander';
import {
  MarketDataStreamInputSchema,
  marketDataStreamWorkflowId,
  type MarketDataStreamInput,
  type MarketDataStreamProgress,
  type MarketDataStreamResult,
} from '../../contracts/market-data';
import { TASK_QUEUES } from '../../contracts/task-queues';
import { loadConfig, type AppConfig } from '../../src/config/config';
import { alpacaEndpointsFromConfig } from '../../src/data/sources';
import { alpacaVenueClock } from '../../src/data/stream/venue-clock';
import { withStackVenue } from '../../src/stack/stack';
import { streamWindow } from '../../src/data/stream/window';
import { TickStore } from '../../src/data/tick-store';
import { nyDate } from '../../src/market/calendar';
import { temporalDataConverter } from '../../src/stack/data-converter';
import { resolveDatabaseUrl, resolveTemporalAddress } from '../../src/stack/resolve';
import { createPool } from '../../src/storage/pool';
import { waitForWorkflow } from '../workflow-result';

/**
 * `trader stream start|status|stop`: the day's real-time market-data stream (marketDataStreamWorkflow on the io
 * queue), one per account, feed and day. The pre-market routine starts the same workflow.
 */
async function withClient<T>(fn: (client: Client, config: AppConfig) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const connection = await Connection.connect({ address: resolveTemporalAddress(config) });
  try {
    return await fn(
      new Client({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        dataConverter: temporalDataConverter(),
      }),
      config,
    );
  } finally {
    await connection.close();
  }
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);

/** The venue's trading date now (Alpaca's clock, or the simulator's): what "today" means for a stream. */
export async function venueToday(config: AppConfig): Promise<string> {
  // the stack's simulator when the environment names no venue (the workers use it too)
  const alpaca = alpacaEndpointsFromConfig(withStackVenue(config));
  if (!alpaca)
    throw new Error(
      '--date: required here (no venue is configured to ask what today is: set APCA_API_KEY_ID/APCA_API_SECRET_KEY or APCA_API_BASE_URL)',
    );
  return nyDate(await alpacaVenueClock(alpaca).now());
}

function idOf(opts: Record<string, string | undefined>, date: string) {
  return marketDataStreamWorkflowId({
    account: opts.account ?? 'paper',
    feed: (opts.feed ?? 'iex') as 'iex' | 'sip',
    date,
  });
}

async function startInputOf(
  handle: WorkflowHandle,
  client: Client,
): Promise<MarketDataStreamInput | undefined> {
  const history = await handle.fetchHistory();
  const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
  const [input] = await decodeArrayFromPayloads(client.options.loadedDataConverter, payloads);
  return input as MarketDataStreamInput | undefined;
}

export function register(program: Command): void {
  const stream = program
    .command('stream')
    .description('the real-time market-data stream into the store (one workflow per account, feed and day)');

  stream
    .command('start')
    .description('start the day’s stream: minute bars of --symbols, quotes and trades of --focus')
    .requiredOption('--symbols <list>', 'symbols, comma separated')
    .option('--focus <list>', 'symbols whose quotes and trades are stored too (a subset of --symbols)')
    .option('--date <YYYY-MM-DD>', 'the trading day (default: the venue’s today, from its clock)')
    .option('--feed <iex|sip>', 'Alpaca data feed', 'iex')
    .option('--account <id>', 'account label (part of the workflow id)', 'paper')
    .option('--extended', 'store 04:00–20:00 New York, not only the regular session')
    .option('--wait', 'wait until the day’s stream ends and print its counts')
    .action(async (opts: Record<string, string | undefined>) => {
      await withClient(async (client, config) => {
        const date = opts.date ?? (await venueToday(config));
        const parsed = MarketDataStreamInputSchema.safeParse({
          account: opts.account,
          feed: opts.feed,
          date,
          symbols: list(opts.symbols),
          ...(opts.focus ? { focus: list(opts.focus) } : {}),
          ...(opts.extended ? { session: 'extended' } : {}),
        });
        if (!parsed.success)
          throw new Error(
            parsed.error.issues.map((i) => `--${String(i.path[0] ?? 'input')}: ${i.message}`).join('; '),
          );
        const input = parsed.data;
        streamWindow(input.date, input.session); // a clear error for a weekend or holiday before anything starts
        const workflowId = marketDataStreamWorkflowId(input);
        let handle: WorkflowHandle;
        try {
          handle = await client.workflow.start('marketDataStreamWorkflow', {
            taskQueue: TASK_QUEUES.io,
            workflowId,
            args: [input],
          });
          console.log(
            `started ${workflowId}: ${input.symbols.length} symbols, focus ${input.focus?.length ?? 0}`,
          );
        } catch (e) {
          if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
          console.log(`${workflowId} is already running (trader stream status / stop)`);
          handle = client.workflow.getHandle(workflowId);
        }
        if (opts.wait) {
          const r = await waitForWorkflow<MarketDataStreamResult>(handle);
          console.log(JSON.stringify(r, null, 2));
        }
      });
    });

  stream
    .command('status')
    .description('the stream’s state, its last heartbeat, and the newest stored minute per symbol')
    .option('--date <YYYY-MM-DD>', 'the trading day (default: the venue’s today)')
    .option('--feed <iex|sip>', 'Alpaca data feed', 'iex')
    .option('--account <id>', 'account label', 'paper')
    .option('--json', 'machine-readable output')
    .action(async (opts: Record<string, string | undefined>) => {
      await withClient(async (client, config) => {
        const date = opts.date ?? (await venueToday(config));
        const workflowId = idOf(opts, date);
        const handle = client.workflow.getHandle(workflowId);
        const d = await handle.describe();
        const pending = d.raw.pendingActivities?.[0];
        const [beat] = pending
          ? await decodeArrayFromPayloads(
              client.options.loadedDataConverter,
              pending.heartbeatDetails?.payloads,
            )
          : [];
        const progress = beat as MarketDataStreamProgress | undefined;
        const input = await startInputOf(handle, client);
        let stored: Record<string, string> = {};
        if (input) {
          const pool = createPool(await resolveDatabaseUrl(config), { max: 1 });
          try {
            const { fromMs, untilMs } = streamWindow(input.date, input.session);
            const latest = await new TickStore(pool).latestBarTimes(input.symbols, '1m', fromMs, untilMs);
            stored = Object.fromEntries(
              input.symbols.map((s) => [s, latest.has(s) ? new Date(latest.get(s)!).toISOString() : '-']),
            );
          } finally {
            await pool.end();
          }
        }
        const out = {
          workflowId,
          status: d.status.name,
          attempt: pending?.attempt ?? null,
          lastFailure: pending?.lastFailure?.message ?? null,
          lastHeartbeat: pending?.lastHeartbeatTime
            ? new Date(Number(pending.lastHeartbeatTime.seconds) * 1000).toISOString()
            : null,
          counts: progress
            ? {
                barsFromStream: progress.barsFromStream,
                barsFromRest: progress.barsFromRest,
                quotes: progress.quotes,
                trades: progress.trades,
                reconnects: progress.reconnects,
                findings: progress.findings,
              }
            : null,
          newestStoredMinute: stored,
        };
        if (opts.json) return console.log(JSON.stringify(out, null, 2));
        console.log(`${workflowId}: ${out.status}${out.attempt ? `, attempt ${out.attempt}` : ''}`);
        if (out.lastFailure) console.log(`  last failure: ${out.lastFailure}`);
        if (out.lastHeartbeat) console.log(`  last heartbeat: ${out.lastHeartbeat}`);
        if (out.counts) console.log(`  counts: ${JSON.stringify(out.counts)}`);
        for (const [s, t] of Object.entries(stored))
          console.log(`  ${s.padEnd(8)} newest stored minute ${t}`);
      });
    });

  stream
    .command('stop')
    .description('stop the day’s stream (cancels the workflow; what was received is stored)')
    .option('--date <YYYY-MM-DD>', 'the trading day (default: the venue’s today)')
    .option('--feed <iex|sip>', 'Alpaca data feed', 'iex')
    .option('--account <id>', 'account label', 'paper')
    .action(async (opts: Record<string, string | undefined>) => {
      await withClient(async (client, config) => {
        const workflowId = idOf(opts, opts.date ?? (await venueToday(config)));
        const handle = client.workflow.getHandle(workflowId);
        await handle.cancel();
        const r = await waitForWorkflow<MarketDataStreamResult>(handle);
        console.log(`${workflowId}: ${r.stopped ? 'stopped' : 'had already finished the day'}`);
      });
    });
}
