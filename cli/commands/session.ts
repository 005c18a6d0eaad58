import { hostname, userInfo } from 'node:os';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { resolveDatabaseUrl, resolveTemporalAddress } from '../../src/stack/resolve';
import { temporalDataConverter } from '../../src/stack/data-converter';
import type { Command } from 'commander';
import {
  DEFAULT_EXECUTION_ROUTING,
  DEFAULT_STRATEGY,
  readsPredictions,
  EMERGENCY_SHUTDOWN_WORKFLOW_TYPE,
  emergencyShutdownWorkflowId,
  killSignal,
  liquidateUpdate,
  pauseUpdate,
  setModelUpdate,
  resumeUpdate,
  sessionWorkflowId,
  setRiskLimitsUpdate,
  statusQuery,
  validateExecutionRouting,
  validateOperatorLimits,
  type DailyRoutineInput,
  type ExecutionRouting,
  type EmergencyShutdownInput,
  type EmergencyShutdownResult,
  type SessionInput,
  type SessionMode,
  type SessionResult,
  type OperatorLimits,
  type SessionStatus,
  type RoutineBackfillSource,
} from '../../contracts/session';
import {
  DailyRoutineInputSchema,
  SessionInputFields,
  SessionInputSchema,
  describeInputIssues,
} from '../../contracts/session-input';
import { StrategySpecSchema } from '../../src/strategy/spec-schema';
import { addDays, nyWallToUtc } from '../../src/market/calendar';
import { formatDayReport } from '../../src/session/day-report';
import { readDayReports } from '../../src/storage/day-report-repo';
import { createPool } from '../../src/storage/pool';
import { ModelRegistry } from '../../src/models/registry/registry';
import { assertSwitchable, switchRunningSessions } from '../../src/session/model-switch';
import { TASK_QUEUES } from '../../contracts/task-queues';
import { STRATEGY_NAMES, type StrategySpec } from '../../src/strategy/registry';
import { parseTimeframe, type Timeframe } from '../../src/model/timeframe';
import { assertLiveOptIn, loadConfig, type AppConfig } from '../../src/config/config';
import { ConfigError } from '../../src/model/errors';
import { codecFromEnv, startCodecServer } from '../../src/security/codec';
import { applySchedules } from '../../src/session/schedules';
import { readStackState, withStackVenue } from '../../src/stack/stack';
import { traderCliIdentity } from '../../src/monitoring/audit/identity';
import { waitForWorkflow } from '../workflow-result';
import { venueToday } from './stream';
import { alpacaEndpointsFromConfig } from '../../src/data/sources';

/**
 * Operator commands for trading sessions: start, inspect and steer a session (updates with validators, kill
 * signal), the emergency shutdown and the daily Schedules. docs/operations.md gives the `temporal` CLI and
 * Web UI equivalent of each.
 */
async function withClient<T>(
  fn: (client: Client, config: AppConfig) => Promise<T>,
  operator?: string,
): Promise<T> {
  const config = loadConfig();
  const address = resolveTemporalAddress(config);
  const connection = await Connection.connect({ address });
  try {
    return await fn(
      new Client({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        dataConverter: temporalDataConverter(),
        // Temporal records this identity on every start, update and signal: the audit log names the operator by it
        ...(operator ? { identity: traderCliIdentity(operator, hostname()) } : {}),
      }),
      config,
    );
  } finally {
    await connection.close();
  }
}

function uiUrl(config: AppConfig, workflowId: string): string {
  const base = readStackState(config)?.temporal.uiUrl ?? `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`;
  return `${base.replace(/\/+$/, '')}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(workflowId)}`;
}

function printStatus(s: SessionStatus): void {
  const st = s.state;
  console.log(
    `session ${s.sessionId}  ${s.mode}  account ${s.account}  date ${s.date}  decides: ${s.decidedBy ?? `model ${s.modelId ?? '-'}`}`,
  );
  console.log(
    `  bar ${st.nextBar}/${st.barTimes.length}  last bar ${st.lastBarTs ? new Date(st.lastBarTs).toISOString() : '-'}  risk ${st.riskState} (${st.riskReason})` +
      `${st.paused ? '  PAUSED' : ''}${st.killed ? '  KILLED' : ''}${st.liquidateRequested ? '  LIQUIDATING' : ''}${st.done ? '  DONE' : ''}`,
  );
  console.log(
    `  equity ${st.account.equity.toFixed(2)}  day P&L ${(st.account.equity - st.start.equity).toFixed(2)}  orders ${st.ordersPlaced}  denied ${st.deniedCount}  day trades ${st.dayTrades}  runs ${st.runs}`,
  );
  console.log(`  limits ${JSON.stringify(st.limits)}`);
  if (st.account.positions.length)
    console.table(
      st.account.positions.map((p) => ({
        symbol: p.symbol,
        qty: p.qty,
        avgPrice: p.avgPrice.toFixed(2),
        value: (p.qty * p.lastPrice).toFixed(2),
      })),
    );
}

async function runUpdate(fn: () => Promise<SessionStatus>): Promise<void> {
  try {
    printStatus(await fn());
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) {
      console.error(`refused: ${(e.cause as Error | undefined)?.message ?? e.message}`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
}

/** The set-limits flags (operator-facing names) onto the risk engine's limit names. */
const LIMIT_FLAGS: ReadonlyArray<readonly [string, keyof OperatorLimits]> = [
  ['maxPositionPct', 'maxPositionFraction'],
  ['maxGrossExposurePct', 'maxGrossExposure'],
  ['maxDailyLossPct', 'dailyLossLimit'],
  ['maxOrderNotional', 'maxOrderNotional'],
  ['maxOrdersPerCycle', 'maxOrdersPerCycle'],
];

function parseLimits(opts: Record<string, string | undefined>): Partial<OperatorLimits> {
  const out: Record<string, number> = {};
  const flag = (opt: string) => `--${opt.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  for (const [opt, key] of LIMIT_FLAGS) {
    const v = opts[opt];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new ConfigError(`${flag(opt)}: "${v}" is not a number`);
    out[key] = n;
  }
  if (!Object.keys(out).length)
    throw new ConfigError('set-limits: give at least one limit, e.g. --max-position-pct 0.03');
  const problem = validateOperatorLimits(out);
  if (problem) {
    const [key] = problem.split(':');
    const opt = LIMIT_FLAGS.find(([, k]) => k === key)?.[0];
    throw new ConfigError(`${opt ? flag(opt) : key}:${problem.slice(key!.length + 1)}`);
  }
  return out;
}

/**
 * The session's day: replay needs --date; paper and live trade the venue's current day only (its clock: Alpaca's,
 * or the simulator's, which may live on another day), so a --date other than that is refused here, naming the
 * fix (the workflow refuses it too, against the execution worker's broker).
 */
async function sessionDate(config: AppConfig, mode: SessionMode, date: string | undefined): Promise<string> {
  if (mode === 'replay') {
    if (date === undefined)
      throw new ConfigError('--date: required with --mode replay (the stored day to replay)');
    return date;
  }
  // no venue configured here (the workers hold the broker): the workflow checks the day against theirs
  if (date !== undefined && !alpacaEndpointsFromConfig(withStackVenue(config))) return date;
  const today = await venueToday(config);
  if (date !== undefined && date !== today)
    throw new ConfigError(
      `--date: ${date} is not the venue's current trading day (${today}, by its clock); a ${mode} session trades the venue's today only — leave --date out, or replay a past day with --mode replay`,
    );
  return today;
}

export function register(program: Command): void {
  const session = program
    .command('session')
    .description('trading sessions on Temporal: start, status, pause/resume, limits, liquidate, kill');

  session
    .command('start')
    .description(
      'start the trading session for one account and day (replay: a stored day through the simulator)',
    )
    .option(
      '--date <YYYY-MM-DD>',
      "exchange date; paper/live trade the venue's current day only (the default, read from its clock); replay: required",
    )
    .requiredOption('--symbols <list>', 'candidate symbols, comma separated')
    .option('--mode <mode>', 'replay | paper | live', 'paper')
    .option('--account <id>', 'account label (search attribute Account)', 'paper')
    .option('--max-symbols <n>', 'universe size', '100')
    .option(
      '--model <id|champion[:name]>',
      'the model whose predictions the strategy trades (pinned now: champion[:name] becomes its id); default: the champion when exactly one name has one, else reference-ai trades its indicator signals (the fallback)',
    )
    .option('--model-id <id>', 'same as --model (kept for scripts)')
    .option('--replay-delay-ms <ms>', 'replay: wall ms per bar', '0')
    .option('--max-bars <n>', 'only the first N bars of the day')
    .option(
      '--strategy <name>',
      `strategy: ${STRATEGY_NAMES.join(' | ')} (default reference-ai; sma-trend and buy-and-hold read no model)`,
    )
    .option(
      '--strategy-params <json>',
      'strategy parameters as JSON, e.g. \'{"fast":3,"slow":8,"weight":0.04}\' (the same spec a backtest takes)',
    )
    .option('--tf <list>', 'timeframes the strategy trades, comma separated (e.g. 1m,5m,15m; sma-trend: one)')
    .option('--seed <n>', "seed of the strategy's PRNG", '1')
    .option(
      '--algo-min-notional <usd|off>',
      `entries of at least this notional are worked by TWAP/VWAP instead of sent at once (default ${DEFAULT_EXECUTION_ROUTING.algoMinNotional}; off: never)`,
    )
    .option(
      '--algo-max-participation <f|off>',
      "entries over this fraction of the symbol's average 1m volume are worked by an algorithm too (default off)",
    )
    .option('--algo <name>', `twap | vwap (default ${DEFAULT_EXECUTION_ROUTING.algo})`)
    .option('--algo-slices <n>', `slices per algorithm order (default ${DEFAULT_EXECUTION_ROUTING.slices})`)
    .option('--algo-interval-ms <ms>', 'ms between slices (default: one bar; replay: 1 s)')
    .option('--algo-urgency <level>', `low | normal | high (default ${DEFAULT_EXECUTION_ROUTING.urgency})`)
    .option('--wait', 'wait for the session to finish and print the result')
    .option(
      '--force',
      'start a new run of a session that already ran (completed): it gets a new session id, so its orders are new',
    )
    .option('--operator <name>', 'who starts it, for the audit log (default: your user name)')
    .action(
      async (
        opts: SessionStartFlags & {
          force?: boolean;
          operator?: string;
          model?: string;
          modelId?: string;
          wait?: boolean;
        },
      ) => {
        const { flags, strategy, mode, candidates } = sessionStartFlags(opts);
        await withClient(async (client, config) => {
          const date = await sessionDate(config, mode, opts.date);
          if (mode === 'live') {
            if (config.TRADING_MODE !== 'live')
              throw new ConfigError(
                '--mode live: set TRADING_MODE=live and LIVE_TRADING_CONFIRM to trade real money',
              );
            console.error(
              '\n!!! LIVE TRADING: this session sends REAL orders with REAL money to Alpaca !!!\n',
            );
          }
          const workflowId = sessionWorkflowId(opts.account, date, mode);
          // a session that ran is not run again by accident: refused unless --force (which starts a new session)
          const previous = await describeSession(client, workflowId);
          if (previous?.status.name === 'RUNNING')
            throw new ConfigError(
              `session ${workflowId} is running (run ${previous.runId}): see session status ${workflowId}; stop it with session kill`,
            );
          if (previous?.status.name === 'COMPLETED' && !opts.force)
            throw new ConfigError(alreadyRan(workflowId, previous));
          const unknown = await unknownSymbols(config, mode, date, candidates);
          if (unknown) throw new ConfigError(unknown);
          const model = await sessionModel(config, strategy, modelRef(opts));
          console.log(`decides: ${model.note}`);
          // --force over a run that exists: a new session id (client order ids, journal), so the run really trades
          const sessionId = opts.force && previous ? `${workflowId}.f${Date.now().toString(36)}` : workflowId;
          const parsed = SessionInputSchema.safeParse({
            ...flags,
            sessionId,
            date,
            ...(model.modelId ? { modelId: model.modelId } : {}),
          });
          if (!parsed.success) throw new ConfigError(describeInputIssues(parsed.error.issues, sessionFlag));
          const input: SessionInput = parsed.data;
          let handle;
          try {
            handle = await client.workflow.start('tradingSessionWorkflow', {
              taskQueue: TASK_QUEUES.io,
              workflowId,
              args: [input],
              // Temporal refuses a second run of a completed session (a failed or terminated one may be run
              // again: same session id, so orders already sent are not sent twice); --force allows any
              workflowIdReusePolicy: opts.force ? 'ALLOW_DUPLICATE' : 'ALLOW_DUPLICATE_FAILED_ONLY',
            });
          } catch (e) {
            if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
            const now = await describeSession(client, workflowId);
            throw new ConfigError(
              now?.status.name === 'RUNNING'
                ? `session ${workflowId} is running (run ${now.runId}): see session status ${workflowId}`
                : alreadyRan(workflowId, now),
            );
          }
          console.log(
            `started ${workflowId} (run ${handle.firstExecutionRunId})${sessionId !== workflowId ? `, session id ${sessionId} (--force: a new run)` : ''}`,
          );
          console.log(`watch it: ${uiUrl(config, workflowId)}`);
          console.log(`status:   npm run trader -- session status ${workflowId}`);
          if (opts.wait) console.log(JSON.stringify(await waitForWorkflow<SessionResult>(handle), null, 2));
        }, operatorName(opts.operator));
      },
    );

  session
    .command('report')
    .description(
      "the day's report the post-market routine stored: P&L, orders, fills, slippage against the arrival price, data completeness",
    )
    .requiredOption('--date <YYYY-MM-DD>', 'the trading day')
    .option('--account <id>', 'only this account')
    .option('--mode <mode>', 'only this mode (replay | paper | live)')
    .option('--json', 'print JSON')
    .action(async (opts: { date: string; account?: string; mode?: string; json?: boolean }) => {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.date))
        throw new ConfigError(`--date: "${opts.date}" must be YYYY-MM-DD`);
      if (opts.mode !== undefined && !['replay', 'paper', 'live'].includes(opts.mode))
        throw new ConfigError(`--mode: "${opts.mode}" must be replay, paper or live`);
      const pool = createPool(await resolveDatabaseUrl(loadConfig()), { max: 1 });
      try {
        const reports = await readDayReports(pool, opts.date, {
          ...(opts.account ? { account: opts.account } : {}),
          ...(opts.mode ? { mode: opts.mode as SessionMode } : {}),
        });
        if (opts.json) console.log(JSON.stringify(reports, null, 2));
        else if (!reports.length) {
          console.log(
            `no report for ${opts.date}${opts.account ? ` (${opts.account})` : ''}: the post-market routine writes it after the close (schedules apply)`,
          );
          process.exitCode = 1;
        } else console.log(reports.map(formatDayReport).join('\n\n'));
      } finally {
        await pool.end();
      }
    });

  session
    .command('status <workflowId>')
    .description('positions, P&L, risk state, last bar and model of a session (query `status`)')
    .option('--json', 'print JSON')
    .action(async (workflowId: string, opts: { json?: boolean }) => {
      await withClient(async (client) => {
        const s = await client.workflow.getHandle(workflowId).query(statusQuery);
        if (opts.json) console.log(JSON.stringify(s, null, 2));
        else printStatus(s);
      });
    });

  // Controls that take only a reason: one update each, validated by the workflow before it is accepted.
  const reasonControls = [
    ['pause', 'stop new orders (positions are kept and synced)', pauseUpdate],
    ['resume', 'resume a paused session', resumeUpdate],
    ['liquidate', 'flatten every position and take no new entries for the rest of the day', liquidateUpdate],
  ] as const;
  for (const [name, description, update] of reasonControls) {
    session
      .command(`${name} <workflowId>`)
      .description(description)
      .requiredOption('--reason <text>', 'why (audit log)')
      .option('--operator <name>', 'who acts, for the audit log (default: your user name)')
      .action(async (workflowId: string, opts: { reason: string; operator?: string }) => {
        const operator = operatorName(opts.operator);
        await withClient(
          (client) =>
            runUpdate(() =>
              client.workflow
                .getHandle(workflowId)
                .executeUpdate(update, { args: [{ reason: opts.reason, operator }] }),
            ),
          operator,
        );
      });
  }

  session
    .command('set-model <workflowId>')
    .description(
      "trade another registered model from the session's next decision (same feature set; audited): an id or champion[:name], pinned now",
    )
    .requiredOption('--model <ref>', 'a model id, champion:<name> or champion')
    .requiredOption('--reason <text>', 'why (audit log)')
    .option('--operator <name>', 'who acts, for the audit log (default: your user name)')
    .action(async (workflowId: string, opts: { model: string; reason: string; operator?: string }) => {
      const operator = operatorName(opts.operator);
      await withClient(async (client, config) => {
        const pool = createPool(await resolveDatabaseUrl(config), { max: 1 });
        try {
          const registry = new ModelRegistry(pool, config.artifactDir);
          const to = await registry.resolveRef(opts.model, '--model');
          if (!to) throw new ConfigError('--model: no model name has a champion yet');
          const handle = client.workflow.getHandle(workflowId);
          const current = (await handle.query(statusQuery)).modelId;
          if (current) await assertSwitchable(registry, current, to.id);
          await runUpdate(() =>
            handle.executeUpdate(setModelUpdate, {
              args: [{ modelId: to.id, reason: opts.reason, operator }],
            }),
          );
        } finally {
          await pool.end();
        }
      }, operator);
    });

  session
    .command('set-limits <workflowId>')
    .description('change risk limits of a running session (validated before they are accepted)')
    .option('--max-position-pct <f>', 'largest position, fraction of equity')
    .option('--max-gross-exposure-pct <f>', 'gross exposure, multiple of equity')
    .option('--max-daily-loss-pct <f>', 'daily loss that halts and flattens')
    .option('--max-order-notional <usd>', 'largest single order')
    .option('--max-orders-per-cycle <n>', 'orders per bar')
    .option('--operator <name>', 'who acts, for the audit log (default: your user name)')
    .action(async (workflowId: string, opts: Record<string, string | undefined>) => {
      const { operator: named, ...limitOpts } = opts;
      const patch = parseLimits(limitOpts);
      const operator = operatorName(named);
      await withClient(
        (client) =>
          runUpdate(() =>
            client.workflow
              .getHandle(workflowId)
              .executeUpdate(setRiskLimitsUpdate, { args: [patch, { operator }] }),
          ),
        operator,
      );
    });

  session
    .command('kill <workflowId>')
    .description(
      'stop the session now (signal: delivered even when no worker is up); open orders are canceled',
    )
    .requiredOption('--reason <text>', 'why (audit log)')
    .option('--operator <name>', 'who acts, for the audit log (default: your user name)')
    .action(async (workflowId: string, opts: { reason: string; operator?: string }) => {
      const operator = operatorName(opts.operator);
      await withClient(async (client) => {
        await client.workflow.getHandle(workflowId).signal(killSignal, { reason: opts.reason, operator });
        console.log(`kill sent to ${workflowId}`);
      }, operator);
    });

  program
    .command('shutdown')
    .description('EMERGENCY: kill every running session, cancel orders, flatten, verify flat, alert')
    .requiredOption('--emergency', 'required: confirms you mean it')
    .requiredOption('--reason <text>', 'why (alert and audit log)')
    .option('--account <id>', 'only this account’s sessions')
    .option('--operator <name>', 'who asks, for the alert and the audit log (default: your user name)')
    .action(async (opts: { reason: string; account?: string; operator?: string }) => {
      const operator = operatorName(opts.operator);
      await withClient(async (client, config) => {
        const handle = await startEmergencyShutdown(client, {
          reason: opts.reason,
          requestedBy: operator,
          account: opts.account,
        });
        const workflowId = handle.workflowId;
        console.error(
          `emergency shutdown ${workflowId} (run ${handle.firstExecutionRunId}): ${uiUrl(config, workflowId)}`,
        );
        const r = await waitForWorkflow<EmergencyShutdownResult>(handle);
        console.log(JSON.stringify(r, null, 2));
        if (!r.flat) process.exitCode = 2;
      }, operator);
    });

  const schedules = program.command('schedules').description('pre-market and post-market Temporal Schedules');
  schedules
    .command('apply')
    .description('create or update the daily Schedules (idempotent)')
    .requiredOption('--symbols <list>', 'candidate symbols for the daily session')
    .option('--account <id>', 'account label', 'paper')
    .option('--mode <mode>', 'paper | live', 'paper')
    .option('--catchup-window <duration>', 'how late a missed routine may still run', '30 minutes')
    .option('--max-symbols <n>', 'universe size the pre-market routine picks', '100')
    .option(
      '--strategy <name>',
      `the session's strategy: ${STRATEGY_NAMES.join(' | ')} (default reference-ai)`,
    )
    .option('--strategy-params <json>', 'strategy parameters as JSON (as for session start)')
    .option('--tf <list>', 'timeframes the strategy trades, comma separated')
    .option(
      '--model <ref>',
      'the model the session trades: a model id, champion:<name> or champion (each pinned to the champion at the open); default with a strategy that reads predictions: champion (none: the indicator fallback)',
    )
    .option('--model-id <ref>', 'same as --model (kept for scripts)')
    .option(
      '--backfill-source <source>',
      'where the previous day (pre-market) and the day (post-market) are gap-filled from: alpaca[:iex|sip] | polygon | csv:<set>; default: no backfill',
    )
    .option('--feature-set <name|none>', 'feature set refreshed before the open', 'core')
    .action(async (opts: Record<string, string>) => {
      if (opts.mode !== 'paper' && opts.mode !== 'live')
        throw new ConfigError(`--mode: "${opts.mode}" must be paper or live`);
      if (opts.mode === 'live') assertLiveOptIn(loadConfig(), '--mode live');
      const strategy = strategySpecFrom(opts.strategy ?? 'reference-ai', opts.strategyParams, opts.tf);
      const ref = modelRef(opts) ?? (readsPredictions(strategy) ? 'champion' : undefined);
      if (ref && !readsPredictions(strategy))
        throw new ConfigError(
          `--model: ${strategy.name} reads no predictions (use reference-ai or model-signal)`,
        );
      const backfillSource = opts.backfillSource ? routineBackfillSource(opts.backfillSource) : undefined;
      // the routines' input, checked by its one schema before any Schedule is written
      const parsed = DailyRoutineInputSchema.safeParse({
        account: opts.account!,
        mode: opts.mode as SessionMode,
        candidates: symbolList(opts.symbols!),
        maxSymbols: numberFlag(opts.maxSymbols),
        strategy,
        ...(ref ? { modelId: ref } : {}),
        ...(backfillSource ? { backfillSource } : {}),
        featureSet: opts.featureSet === 'none' ? null : opts.featureSet!,
      });
      if (!parsed.success)
        throw new ConfigError(
          describeInputIssues(parsed.error.issues, (p) =>
            p === 'featureSet'
              ? '--feature-set'
              : p.startsWith('backfillSource')
                ? '--backfill-source'
                : sessionFlag(p),
          ),
        );
      const routine: DailyRoutineInput = parsed.data;
      const config = loadConfig();
      const unknown = await unknownSymbols(config, routine.mode, null, routine.candidates);
      if (unknown) throw new ConfigError(unknown);
      await withClient(async (client) => {
        const results = await applySchedules(client, {
          routine,
          fromYear: new Date().getUTCFullYear(),
          catchupWindow: opts.catchupWindow,
        });
        for (const r of results) console.log(`${r.outcome.padEnd(8)} ${r.scheduleId}`);
      });
    });

  program
    .command('codec-server')
    .description(
      'serve the payload codec for the Web UI / temporal CLI (decrypts payloads: keep it on localhost)',
    )
    .option('--port <n>', 'port', '8888')
    .option('--allow-origin <url>', 'Web UI origin allowed by CORS', 'http://localhost:8233')
    .action(async (opts: { port: string; allowOrigin: string }) => {
      const codec = codecFromEnv();
      if (!codec) throw new ConfigError('PAYLOAD_ENCRYPTION_KEYS: not set; nothing to decode');
      const server = await startCodecServer(codec, {
        port: Number(opts.port),
        allowOrigin: opts.allowOrigin,
      });
      console.log(`codec server on ${server.url}; start the UI with --ui-codec-endpoint ${server.url}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}

/** Execution routing from the CLI flags (only what was given); errors name the flag. */
export function executionRoutingFrom(opts: {
  algoMinNotional?: string;
  algoMaxParticipation?: string;
  algo?: string;
  algoSlices?: string;
  algoIntervalMs?: string;
  algoUrgency?: string;
}): Partial<ExecutionRouting> {
  const r: { -readonly [K in keyof ExecutionRouting]?: ExecutionRouting[K] } = {};
  if (opts.algoMinNotional !== undefined)
    r.algoMinNotional = opts.algoMinNotional === 'off' ? null : (numberFlag(opts.algoMinNotional) as number);
  if (opts.algoMaxParticipation !== undefined)
    r.algoMaxParticipation =
      opts.algoMaxParticipation === 'off' ? null : (numberFlag(opts.algoMaxParticipation) as number);
  if (opts.algo !== undefined) r.algo = opts.algo as ExecutionRouting['algo'];
  if (opts.algoSlices !== undefined) r.slices = numberFlag(opts.algoSlices) as number;
  if (opts.algoIntervalMs !== undefined) r.intervalMs = numberFlag(opts.algoIntervalMs) as number;
  if (opts.algoUrgency !== undefined) r.urgency = opts.algoUrgency as ExecutionRouting['urgency'];
  const problem = validateExecutionRouting(r);
  if (problem) {
    const flag: Record<string, string> = {
      algoMinNotional: '--algo-min-notional',
      algoMaxParticipation: '--algo-max-participation',
      algo: '--algo',
      slices: '--algo-slices',
      intervalMs: '--algo-interval-ms',
      urgency: '--algo-urgency',
    };
    const field = /^execution\.(\w+)/.exec(problem)?.[1] ?? '';
    throw new ConfigError(`${flag[field] ?? field}: ${problem.replace(/^execution\.\w+: /, '')}`);
  }
  return r;
}

/** A strategy spec from the CLI flags, checked by building the strategy (errors name the field). */
/** `--backfill-source`: the sources a daily routine may gap-fill the day from (never synthetic). */
function routineBackfillSource(v: string): RoutineBackfillSource {
  const [kind, arg] = v.split(':', 2);
  if (kind === 'alpaca' && (arg === undefined || arg === 'iex' || arg === 'sip'))
    return arg ? { kind, feed: arg } : { kind };
  if (kind === 'polygon' && arg === undefined) return { kind };
  if (kind === 'csv' && arg) return { kind, dataset: arg };
  throw new ConfigError(`--backfill-source: "${v}" must be alpaca[:iex|sip], polygon or csv:<set>`);
}

/**
 * After `models rollback`: every running session that traded the rolled-back model trades the reinstated champion
 * from its next decision. Temporal unreachable: the rollback stands, and the error says how to switch by hand.
 */
export async function switchSessionsAfterRollback(o: {
  readonly fromId: string;
  readonly toId: string;
  readonly reason: string;
  readonly operator: string;
}): Promise<Array<{ workflowId: string; refused?: string }>> {
  try {
    return await withClient(async (client, config) => {
      const pool = createPool(await resolveDatabaseUrl(config), { max: 1 });
      try {
        return (await switchRunningSessions(client, new ModelRegistry(pool, config.artifactDir), o)).map(
          ({ workflowId, refused }) => ({ workflowId, ...(refused ? { refused } : {}) }),
        );
      } finally {
        await pool.end();
      }
    }, o.operator);
  } catch (e) {
    throw new ConfigError(
      `rolled back, but running sessions trading ${o.fromId} were not switched (${(e as Error).message}); switch each with: trader session set-model <session> --model ${o.toId} --reason "rollback"`,
    );
  }
}

/** --model, or its older spelling --model-id (both given and different: refused). */
function modelRef(opts: { model?: string; modelId?: string }): string | undefined {
  if (opts.model !== undefined && opts.modelId !== undefined && opts.model !== opts.modelId)
    throw new ConfigError('--model-id: same flag as --model; give one');
  const ref = (opts.model ?? opts.modelId)?.trim();
  if (ref === '') throw new ConfigError('--model: must not be empty');
  return ref;
}

/**
 * What decides a session's trades, pinned when it starts: the model `ref` names now (a model id; champion:<name>
 * and champion become the champion's id), or — no ref — the champion when exactly one name has one; with no
 * champion, reference-ai trades its indicator signals (the fallback) and model-signal is refused.
 */
export async function sessionModel(
  config: AppConfig,
  strategy: StrategySpec,
  ref: string | undefined,
): Promise<{ modelId?: string; note: string }> {
  if (!readsPredictions(strategy)) {
    if (ref)
      throw new ConfigError(
        `--model: ${strategy.name} reads no predictions (use reference-ai or model-signal)`,
      );
    return { note: `${strategy.name} (no model)` };
  }
  const pool = createPool(await resolveDatabaseUrl(config));
  try {
    const registry = new ModelRegistry(pool, config.artifactDir);
    let rec;
    try {
      rec = await registry.resolveRef(ref ?? 'champion', '--model');
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
    if (rec) {
      const how = ref && !ref.startsWith('champion') ? 'model' : `champion of ${rec.name}`;
      return { modelId: rec.id, note: `${strategy.name} on ${how} ${rec.id} (${rec.kind})` };
    }
    if (ref)
      throw new ConfigError(`--model: no model name has a champion yet (train one: trader models retrain)`);
    if (strategy.name === 'model-signal')
      throw new ConfigError(
        '--strategy: model-signal trades a model and no name has a champion: pass --model <id>',
      );
    return { note: `${strategy.name} on its indicator signals: the fallback, no champion in the registry` };
  } finally {
    await pool.end();
  }
}

export function strategySpecFrom(name: string, paramsJson: string | undefined, tf?: string): StrategySpec {
  let params: Record<string, unknown> = {};
  if (paramsJson !== undefined) {
    try {
      params = JSON.parse(paramsJson) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`--strategy-params: not valid JSON (${(e as Error).message})`);
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params))
      throw new ConfigError('--strategy-params: must be a JSON object');
  }
  let timeframes: Timeframe[] | undefined;
  if (tf !== undefined) {
    try {
      timeframes = [...new Set(tf.split(',').map((t) => parseTimeframe(t.trim(), '--tf')))];
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
  }
  let spec: StrategySpec;
  if (name === 'sma-trend') {
    if (timeframes && timeframes.length !== 1)
      throw new ConfigError(`--tf: sma-trend trades one timeframe, got ${timeframes.join(',')}`);
    spec = {
      ...DEFAULT_STRATEGY,
      ...params,
      ...(timeframes ? { timeframe: timeframes[0] } : {}),
      name,
    } as StrategySpec;
  } else if (name === 'reference-ai')
    spec = { name, params, ...(timeframes ? { timeframes } : {}) } as StrategySpec;
  else if (name === 'model-signal') {
    if (timeframes && timeframes.length !== 1)
      throw new ConfigError(`--tf: model-signal trades one timeframe, got ${timeframes.join(',')}`);
    spec = {
      weight: 0.05,
      ...params,
      ...(timeframes ? { timeframe: timeframes[0] } : {}),
      name,
    } as StrategySpec;
  } else if (name === 'buy-and-hold') {
    if (timeframes)
      throw new ConfigError('--tf: buy-and-hold buys at the first daily close; it takes no --tf');
    spec = { weight: 0.05, ...params, name } as StrategySpec;
  } else throw new ConfigError(`--strategy: "${name}" must be one of ${STRATEGY_NAMES.join(', ')}`);
  const parsed = StrategySpecSchema.safeParse(spec);
  if (!parsed.success)
    throw new ConfigError(
      describeInputIssues(parsed.error.issues, (p) => sessionFlag(p ? `strategy.${p}` : 'strategy')),
    );
  return parsed.data;
}

/** The flags of `session start` as commander gives them (strings). */
export interface SessionStartFlags {
  algoMinNotional?: string;
  algoMaxParticipation?: string;
  algo?: string;
  algoSlices?: string;
  algoIntervalMs?: string;
  algoUrgency?: string;
  strategy?: string;
  strategyParams?: string;
  tf?: string;
  seed: string;
  date?: string;
  symbols: string;
  mode: string;
  account: string;
  maxSymbols: string;
  replayDelayMs: string;
  maxBars?: string;
}

/**
 * The flags of `session start` as the session's input (less the day when it comes from the venue, the session id
 * and the model), checked by the session's one schema before anything connects or starts; a problem is a
 * ConfigError naming the flag.
 */
export function sessionStartFlags(opts: SessionStartFlags) {
  const strategy = strategySpecFrom(opts.strategy ?? 'reference-ai', opts.strategyParams, opts.tf);
  const execution = executionRoutingFrom(opts);
  const mode = opts.mode as SessionMode;
  const candidates = symbolList(opts.symbols);
  const flags = {
    account: opts.account,
    mode,
    candidates,
    maxSymbols: numberFlag(opts.maxSymbols),
    replayBarDelayMs: numberFlag(opts.replayDelayMs),
    ...(opts.maxBars !== undefined ? { maxBars: numberFlag(opts.maxBars) } : {}),
    strategy,
    seed: numberFlag(opts.seed),
    ...(Object.keys(execution).length ? { execution } : {}),
  };
  const early =
    opts.date !== undefined
      ? SessionInputSchema.safeParse({ ...flags, sessionId: 'session-check', date: opts.date })
      : SessionInputFields.omit({ sessionId: true, date: true }).safeParse(flags);
  if (!early.success) throw new ConfigError(describeInputIssues(early.error.issues, sessionFlag));
  return { flags, strategy, mode, candidates };
}

/** `--symbols a,b`: upper-cased, trimmed, empty entries dropped (the schema checks each symbol). */
function symbolList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
}

/** A numeric flag as a number, or the text as given (the schema then names it: `"abc" is not a number`). */
export function numberFlag(v: string): number | string {
  const t = v.trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : v;
}

const SESSION_FLAGS: Readonly<Record<string, string>> = {
  sessionId: '--account',
  account: '--account',
  mode: '--mode',
  date: '--date',
  candidates: '--symbols',
  maxSymbols: '--max-symbols',
  maxBars: '--max-bars',
  replayBarDelayMs: '--replay-delay-ms',
  seed: '--seed',
  modelId: '--model',
  'strategy.name': '--strategy',
  'strategy.timeframe': '--tf',
  'strategy.timeframes': '--tf',
  'execution.algoMinNotional': '--algo-min-notional',
  'execution.algoMaxParticipation': '--algo-max-participation',
  'execution.algo': '--algo',
  'execution.slices': '--algo-slices',
  'execution.intervalMs': '--algo-interval-ms',
  'execution.urgency': '--algo-urgency',
};

/** The flag behind a field of the session's input (a strategy parameter: `--strategy-params: <param>`). */
export function sessionFlag(path: string): string {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '')
    if (SESSION_FLAGS[p]) return SESSION_FLAGS[p]!;
  if (path === 'strategy' || path === 'strategy.params') return '--strategy-params';
  if (path.startsWith('strategy.')) return `--strategy-params: ${path.replace(/^strategy\.(params\.)?/, '')}`;
  return path ? `--${path}` : 'flags';
}

async function describeSession(
  client: Client,
  workflowId: string,
): Promise<WorkflowExecutionDescription | undefined> {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined;
    throw e;
  }
}

function alreadyRan(workflowId: string, d: WorkflowExecutionDescription | undefined): string {
  const when = d?.closeTime ? ` at ${d.closeTime.toISOString()}` : '';
  return `session ${workflowId} already ran (${(d?.status.name ?? 'closed').toLowerCase()}${when}, run ${d?.runId ?? '?'}); it is not started again — pass --force to start a new run (a new session id, so its orders are new)`;
}

/**
 * Candidates the session cannot trade, named, or undefined. Replay: symbols without stored 1m bars on the day
 * (the replay trades the store's bars only). Paper/live: symbols the venue's asset list (GET /v2/assets: Alpaca
 * or the simulator) does not hold as tradable; without a venue configured here, symbols the store holds no bar of.
 */
export async function unknownSymbols(
  config: AppConfig,
  mode: SessionMode,
  date: string | null,
  symbols: readonly string[],
): Promise<string | undefined> {
  const name = (xs: readonly string[]) => xs.join(', ');
  const venue = mode === 'replay' ? undefined : alpacaEndpointsFromConfig(withStackVenue(config));
  if (venue) {
    let res: Response;
    try {
      res = await fetch(`${venue.tradingBaseUrl.replace(/\/+$/, '')}/v2/assets?status=active`, {
        headers: { 'APCA-API-KEY-ID': venue.keyId, 'APCA-API-SECRET-KEY': venue.secret },
        signal: AbortSignal.timeout(15_000),
      });
    } catch (e) {
      console.error(
        `warning: the venue's asset list could not be read (${(e as Error).message}); symbols not checked`,
      );
      return undefined;
    }
    if (!res.ok) {
      console.error(`warning: the venue's asset list answered ${res.status}; symbols not checked`);
      return undefined;
    }
    const assets = (await res.json()) as Array<{ symbol?: string; tradable?: boolean }>;
    const tradable = new Set(assets.filter((a) => a.tradable !== false).map((a) => a.symbol));
    const missing = symbols.filter((s) => !tradable.has(s));
    return missing.length
      ? `--symbols: ${name(missing)}: not tradable at the venue (${venue.tradingBaseUrl}: not in its asset list)`
      : undefined;
  }
  const pool = createPool(await resolveDatabaseUrl(config), { max: 1 });
  try {
    if (mode === 'replay' && date) {
      const from = nyWallToUtc(date, 0);
      const to = nyWallToUtc(addDays(date, 1), 0);
      const { rows } = await pool.query<{ s: string }>(
        `select s from unnest($1::text[]) s
          where not exists (select 1 from bars b where b.symbol = s and b.timeframe = '1m' and b.ts >= $2 and b.ts < $3)`,
        [symbols, new Date(from), new Date(to)],
      );
      const missing = rows.map((r) => r.s);
      return missing.length
        ? `--symbols: ${name(missing)}: no stored 1m bars on ${date} (unknown symbol${missing.length > 1 ? 's' : ''}, or the day is not in the store: trader backfill --symbols ${missing.join(',')} ...)`
        : undefined;
    }
    const { rows } = await pool.query<{ s: string }>(
      `select s from unnest($1::text[]) s where not exists (select 1 from bars b where b.symbol = s)`,
      [symbols],
    );
    const missing = rows.map((r) => r.s);
    return missing.length
      ? `--symbols: ${name(missing)}: unknown (no venue configured to ask, and the store holds no bar of ${missing.length > 1 ? 'them' : 'it'})`
      : undefined;
  } finally {
    await pool.end();
  }
}

/** The operator the CLI acts for: `--operator`, else the OS user (audit log, alerts, Temporal identity). */
export function operatorName(explicit?: string): string {
  const named = explicit?.trim();
  if (explicit !== undefined && !named) throw new ConfigError('--operator: must not be empty');
  if (named) return named;
  try {
    return userInfo().username || process.env.USER || 'unknown';
  } catch {
    // no passwd entry for this uid (some containers)
    return process.env.USER || 'unknown';
  }
}

/**
 * Starts the emergency shutdown of an account (all accounts without one) under its one workflow id; while one
 * runs, a second request joins it (conflict policy USE_EXISTING) instead of starting another.
 */
export function startEmergencyShutdown(
  client: Client,
  input: EmergencyShutdownInput,
): Promise<
  WorkflowHandleWithFirstExecutionRunId<(i: EmergencyShutdownInput) => Promise<EmergencyShutdownResult>>
> {
  return client.workflow.start<(i: EmergencyShutdownInput) => Promise<EmergencyShutdownResult>>(
    EMERGENCY_SHUTDOWN_WORKFLOW_TYPE,
    {
      taskQueue: input.taskQueues?.io ?? TASK_QUEUES.io,
      workflowId: emergencyShutdownWorkflowId(input.account),
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [input],
    },
  );
}
