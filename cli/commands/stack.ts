import { Client, Connection } from '@temporalio/client';
import { resolveDatabaseUrl, resolveTemporalAddress } from '../../src/stack/resolve';
import { temporalDataConverter } from '../../src/stack/data-converter';
import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { TASK_QUEUES } from '../../contracts/task-queues';
import { loadConfig, redactConfig } from '../../src/config/config';
import { formatDoctor, runDoctor } from '../../src/stack/doctor';
import { stackDown, stackStatus, stackUp } from '../../src/stack/stack';
import { STACK_SIMULATOR_PORT, describeVenue } from '../../src/stack/venue';
import { ConfigError } from '../../src/model/errors';
import { redactUrl } from '../../src/security/redact';
import { createPool } from '../../src/storage/pool';
import { migrate } from '../../src/storage/migrate';
import { executeWorkflow } from '../workflow-result';

export function register(program: Command): void {
  const stack = program.command('stack').description('the embedded Temporal + PostgreSQL + Redis stack');
  stack
    .command('up')
    .description('start (or reuse) Temporal, PostgreSQL, Redis and the dev worker; prints where they are')
    .option('--no-worker', 'do not start the all-in-one dev worker')
    .option(
      '--venue-date <YYYY-MM-DD>',
      'without Alpaca keys: the stored day the simulator plays as the paper venue (default: an idle venue on the wall clock)',
    )
    .option(
      '--venue-speed <x>',
      'the simulator’s pace for --venue-date (simulated seconds per wall second)',
      '1',
    )
    .option('--venue-database <url>', 'read the --venue-date day from this database (default: the stack’s)')
    .option('--venue-port <n>', 'the simulator’s port', String(STACK_SIMULATOR_PORT))
    .action(
      async (opts: {
        worker: boolean;
        venueDate?: string;
        venueSpeed: string;
        venueDatabase?: string;
        venuePort: string;
      }) => {
        const config = loadConfig();
        const speed = Number(opts.venueSpeed);
        if (!(Number.isFinite(speed) && speed > 0))
          throw new ConfigError(`--venue-speed: "${opts.venueSpeed}" must be a positive number`);
        if (opts.venueDate !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.venueDate))
          throw new ConfigError(`--venue-date: "${opts.venueDate}" must be YYYY-MM-DD`);
        const port = Number(opts.venuePort);
        if (!Number.isInteger(port) || port < 1 || port > 65535)
          throw new ConfigError(`--venue-port: "${opts.venuePort}" must be a port number`);
        const state = await stackUp(config, {
          worker: opts.worker,
          venue: {
            port,
            ...(opts.venueDate
              ? {
                  date: opts.venueDate,
                  speed,
                  ...(opts.venueDatabase ? { database: opts.venueDatabase } : {}),
                }
              : {}),
          },
        });
        console.log(
          `Temporal:   ${state.temporal.address} (namespace ${state.temporal.namespace}, ${state.temporal.source})`,
        );
        console.log(`Temporal UI: ${state.temporal.uiUrl ?? '(managed elsewhere)'}`);
        console.log(
          `PostgreSQL: ${redactUrl(state.postgres.url)} (${state.postgres.source}${state.postgres.timescale ? ', TimescaleDB' : ', native partitions'})`,
        );
        console.log(
          `Redis:      ${state.redis.kind === 'redis' && state.redis.url ? redactUrl(state.redis.url) : 'in-process cache (Redis not reachable)'}`,
        );
        if (state.worker)
          console.log(
            `Dev worker: pid ${state.worker.pid}, metrics ${state.worker.metricsUrl}, log ${state.worker.logFile}`,
          );
        const venue = describeVenue(state.venue);
        console.log(`Broker:     ${venue.broker}`);
        console.log(`Market data: ${venue.feed}`);
        if (state.venue?.kind === 'simulator' && state.venue.source === 'started')
          console.log(
            state.venue.date === null
              ? '            (no Alpaca keys: the simulator is the paper venue; set APCA_API_KEY_ID/APCA_API_SECRET_KEY for Alpaca paper, or play a stored day: stack up --venue-date D --venue-speed 60)'
              : `            (no Alpaca keys: the simulator is the paper venue; its log ${state.venue.logFile})`,
          );
      },
    );
  stack
    .command('down')
    .description('stop what `stack up` started (never a server it only reused)')
    .action(async () => {
      const r = await stackDown(loadConfig());
      for (const l of r.leftRunning) console.log(`left running: ${l}`);
    });
  stack
    .command('status')
    .description('show what is running')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const s = await stackStatus(loadConfig());
      if (opts.json) {
        console.log(JSON.stringify({ ...s, state: undefined }, null, 2));
        return;
      }
      console.log(
        `Temporal:   ${s.temporal.address ?? '(not started)'} ${s.temporal.serving ? 'SERVING' : 'DOWN'}`,
      );
      console.log(`Temporal UI: ${s.temporal.uiUrl ?? '-'}`);
      console.log(`PostgreSQL: ${s.postgres.url ?? '-'} (${s.postgres.source ?? '-'})`);
      console.log(`Redis:      ${s.redis.kind ?? '-'}`);
      console.log(
        `Dev worker: ${s.worker.pid ? `pid ${s.worker.pid} ${s.worker.alive ? 'running' : 'DEAD'}` : '-'}`,
      );
      console.log(`Broker:     ${s.venue.broker}${s.venue.alive === false ? '  DOWN' : ''}`);
      console.log(`Market data: ${s.venue.feed}`);
    });

  program
    .command('migrate')
    .description('apply pending database migrations (each once, in a transaction)')
    .action(async () => {
      const config = loadConfig();
      const pool = createPool(await resolveDatabaseUrl(config), { max: 1 });
      try {
        const r = await migrate(pool);
        console.log(r.applied.length ? `applied: ${r.applied.join(', ')}` : 'database is up to date');
        console.log(
          `already applied: ${r.skipped.length}; time-series storage: ${r.timescale ? 'TimescaleDB hypertables' : 'native monthly partitions'}`,
        );
      } finally {
        await pool.end();
      }
    });

  program
    .command('doctor')
    .description('check every dependency and print the exact fix for each miss')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const checks = await runDoctor(loadConfig());
      console.log(opts.json ? JSON.stringify(checks, null, 2) : formatDoctor(checks));
      if (checks.some((c) => c.level === 'fail')) process.exitCode = 1;
    });

  program
    .command('config')
    .description('print the validated configuration (secrets redacted)')
    .action(() => console.log(JSON.stringify(redactConfig(loadConfig()), null, 2)));

  program
    .command('skeleton')
    .description('run the walking-skeleton workflow (Temporal → io worker → Postgres) and print its result')
    .option('-m, --message <text>', 'message to store', 'hello from the skeleton')
    .action(async (opts: { message: string }) => {
      const config = loadConfig();
      const address = resolveTemporalAddress(config);
      const connection = await Connection.connect({ address });
      try {
        const client = new Client({
          connection,
          namespace: config.TEMPORAL_NAMESPACE,
          dataConverter: temporalDataConverter(),
        });
        const workflowId = `skeleton-${randomUUID()}`;
        const result = await executeWorkflow<object>(client, 'skeletonWorkflow', {
          taskQueue: `${process.env.TASK_QUEUE_PREFIX ?? ''}${TASK_QUEUES.io}`,
          workflowId,
          args: [{ message: opts.message }],
          workflowExecutionTimeout: '2 minutes',
        });
        console.log(JSON.stringify({ workflowId, ...result }));
      } finally {
        await connection.close();
      }
    });
}
