/**
 * The one schema of a trading session's input (SessionInput) and of the daily routines' input
 * (DailyRoutineInput), strict: an unknown key is an error, every field is checked (a real calendar date that is
 * an NYSE trading day for equities, symbol syntax, whole numbers ≥ 1 where a count is meant, the strategy's own
 * parameters, the operator limits and the execution routing). The CLI (`session start`, `schedules apply`) parses
 * its flags with it before any workflow starts; the workflows parse their input with it first and fail at once,
 * non-retryably, naming the field. Pure (zod and the calendar): safe in the workflow sandbox.
 */
import { z } from 'zod';
import { isCryptoSymbol, nyseDayInfo, parseDate } from '../src/market/calendar';
import { StrategySpecSchema } from '../src/strategy/spec-schema';
import {
  validateExecutionRouting,
  validateOperatorLimits,
  type DailyRoutineInput,
  type ExecutionRouting,
  type SessionInput,
} from './session';

/** Ticker symbols as the backfill schema takes them (A-Z, 0-9, . - /; crypto pairs like BTC/USD). */
export const SESSION_SYMBOL_RE = /^[A-Z][A-Z0-9.\-/]{0,14}$/;
/** Ids and labels that become workflow ids, search attributes and client-order-id prefixes. */
const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** A number field: `"abc" is not a number`, `0 must be ≥ 1`, `1.5 must be an integer`. */
function num(o: { int?: boolean; min?: number; above?: number; max?: number }) {
  return z
    .number({
      error: (iss) => (iss.input === undefined ? 'required' : `${show(iss.input)} is not a number`),
    })
    .superRefine((v, ctx) => {
      const fail = (message: string) => ctx.addIssue({ code: 'custom', message });
      if (!Number.isFinite(v)) return fail(`${show(v)} is not a finite number`);
      if (o.int && !Number.isInteger(v)) return fail(`${v} must be an integer`);
      if (o.min !== undefined && v < o.min) return fail(`${v} must be ≥ ${o.min}`);
      if (o.above !== undefined && v <= o.above) return fail(`${v} must be > ${o.above}`);
      if (o.max !== undefined && v > o.max) return fail(`${v} must be ≤ ${o.max}`);
    });
}

function label(what: string, max: number) {
  return z
    .string({ error: (iss) => `${show(iss.input)} is not a ${what}` })
    .max(max, `must be at most ${max} characters`)
    .regex(LABEL_RE, `not a ${what} (letters, digits, _ . : -; starting with a letter or digit)`);
}

const symbol = z
  .string({ error: (iss) => `${show(iss.input)} is not a ticker symbol` })
  .superRefine((s, ctx) => {
    if (!SESSION_SYMBOL_RE.test(s))
      ctx.addIssue({
        code: 'custom',
        message: `${show(s)} is not a ticker symbol (A-Z, 0-9, . - /; up to 15)`,
      });
  });

const candidates = z
  .array(symbol, { error: 'must be a list of ticker symbols' })
  .min(1, 'at least one symbol is needed')
  .max(10_000, 'at most 10000 symbols');

/** A real calendar date, YYYY-MM-DD, between 1900 and 2100 (whether the exchange trades is checked with the symbols). */
const date = z
  .string({ error: (iss) => `${show(iss.input)} is not a date (YYYY-MM-DD)` })
  .superRefine((d, ctx) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(d))
      return void ctx.addIssue({ code: 'custom', message: `${show(d)} is not a date (YYYY-MM-DD)` });
    try {
      parseDate(d);
    } catch {
      return void ctx.addIssue({
        code: 'custom',
        message: `${show(d)} is not a date (no such calendar day)`,
      });
    }
    if (d < '1900-01-01' || d >= '2100-01-01')
      ctx.addIssue({ code: 'custom', message: `${d} is outside 1900–2099` });
  });

const mode = z.enum(['replay', 'paper', 'live'], {
  error: (iss) => `${show(iss.input)} must be replay, paper or live`,
});

const limits = z
  .strictObject({
    maxPositionFraction: num({ above: 0, max: 1 }).optional(),
    maxGrossExposure: num({ above: 0, max: 10 }).optional(),
    dailyLossLimit: num({ above: 0, max: 1 }).optional(),
    maxOrderNotional: num({ above: 0, max: 1e9 }).optional(),
    maxOrdersPerCycle: num({ int: true, min: 1 }).optional(),
  })
  .superRefine((l, ctx) => {
    const problem = validateOperatorLimits(l);
    if (problem) {
      const [key] = problem.split(':');
      ctx.addIssue({ code: 'custom', path: [key!], message: problem.slice(key!.length + 2) });
    }
  });

const execution = z
  .strictObject({
    algoMinNotional: num({ above: 0 }).nullable().optional(),
    algoMaxParticipation: num({ above: 0, max: 1 }).nullable().optional(),
    volumeBars: num({ int: true, min: 1, max: 390 }).optional(),
    algo: z.enum(['twap', 'vwap'], { error: (iss) => `${show(iss.input)} must be twap or vwap` }).optional(),
    slices: num({ int: true, min: 1, max: 999 }).optional(),
    intervalMs: num({ min: 1_000 }).optional(),
    urgency: z
      .enum(['low', 'normal', 'high'], { error: (iss) => `${show(iss.input)} must be low, normal or high` })
      .optional(),
    spreadBps: num({ min: 0, max: 9_999.999 }).optional(),
    quoteMaxAgeMs: num({ int: true, min: 0, max: 3_600_000 }).optional(),
    volumeLookbackDays: num({ int: true, min: 1, max: 250 }).optional(),
  } satisfies Record<keyof ExecutionRouting, z.ZodType>)
  .superRefine((r, ctx) => {
    const problem = validateExecutionRouting(r);
    if (problem) {
      const m = /^execution\.(\w+): (.*)$/s.exec(problem);
      ctx.addIssue({ code: 'custom', path: m ? [m[1]!] : [], message: m ? m[2]! : problem });
    }
  });

const taskQueues = z.strictObject({
  io: label('task queue', 200).optional(),
  execution: label('task queue', 200).optional(),
  stream: label('task queue', 200).optional(),
});

const stream = z.strictObject({
  feed: z.enum(['iex', 'sip'], { error: (iss) => `${show(iss.input)} must be iex or sip` }).optional(),
  heartbeatTimeoutMs: num({ int: true, min: 100, max: 600_000 }).optional(),
  clockPollMs: num({ int: true, min: 10, max: 600_000 }).optional(),
  closeGraceMs: num({ int: true, min: 0, max: 3_600_000 }).optional(),
});

const modelRef = z
  .string({ error: (iss) => `${show(iss.input)} is not a model id` })
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^\S+$/, 'must not contain spaces');

/** The state a continued run carries (written by the workflow itself, continue-as-new): an object. */
const carried = z.custom<NonNullable<SessionInput['carried']>>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  'must be the state a continued session carries (an object)',
);

/** Every key of SessionInput, checked (the `satisfies` keeps the schema and the interface in step). */
const sessionShape = {
  sessionId: label('session id', 100),
  account: label('account label', 64),
  mode,
  date,
  candidates,
  maxSymbols: num({ int: true, min: 1, max: 10_000 }).optional(),
  modelId: modelRef.optional(),
  strategy: StrategySpecSchema.optional(),
  seed: num({ int: true, min: -(2 ** 31), max: 2 ** 32 - 1 }).optional(),
  limits: limits.optional(),
  execution: execution.optional(),
  replayBarDelayMs: num({ min: 0, max: 3_600_000 }).optional(),
  settleMs: num({ min: 0, max: 3_600_000 }).optional(),
  maxBars: num({ int: true, min: 1, max: 100_000 }).optional(),
  flattenBarsBeforeClose: num({ int: true, min: 0, max: 390 }).optional(),
  continueAsNewAfterCycles: num({ int: true, min: 1 }).optional(),
  activityTimeoutMs: num({ int: true, min: 100, max: 3_600_000 }).optional(),
  taskQueues: taskQueues.optional(),
  stream: stream.optional(),
  carried: carried.optional(),
} satisfies Record<keyof SessionInput, z.ZodType>;

/** The fields of SessionInput without the cross-field checks (the CLI checks its flags before it knows the day). */
export const SessionInputFields = z.strictObject(sessionShape);

/** The one schema of SessionInput (CLI and tradingSessionWorkflow). */
export const SessionInputSchema: z.ZodType<SessionInput, SessionInput> = SessionInputFields.superRefine(
  (v, ctx) => {
    // an equity session needs a day the exchange trades (an all-crypto one trades every day)
    if (!Array.isArray(v.candidates) || v.candidates.every((c) => typeof c === 'string' && isCryptoSymbol(c)))
      return;
    let holiday: string | undefined;
    try {
      holiday = nyseDayInfo(v.date).holiday;
    } catch {
      return; // not a date: the field's own issue says so
    }
    {
      if (holiday)
        ctx.addIssue({
          code: 'custom',
          path: ['date'],
          message: `${v.date} is not an NYSE trading day (${holiday})`,
        });
    }
  },
) as unknown as z.ZodType<SessionInput, SessionInput>;

const routineBackfillSource = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('alpaca'), feed: z.enum(['iex', 'sip']).optional() }),
    z.strictObject({ kind: z.literal('polygon') }),
    z.strictObject({
      kind: z.literal('csv'),
      dataset: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a folder name inside the data directory'),
    }),
  ],
  { error: 'must be alpaca, polygon or csv' },
);

/** The one schema of DailyRoutineInput (`schedules apply`, the pre- and post-market routines). */
export const DailyRoutineInputSchema: z.ZodType<DailyRoutineInput, DailyRoutineInput> = z.strictObject({
  account: sessionShape.account,
  mode,
  candidates,
  maxSymbols: sessionShape.maxSymbols,
  modelId: modelRef.optional(),
  strategy: sessionShape.strategy,
  seed: sessionShape.seed,
  limits: sessionShape.limits,
  execution: sessionShape.execution,
  backfillSource: routineBackfillSource.optional(),
  featureSet: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'not a feature set name')
    .nullable()
    .optional(),
  stream: sessionShape.stream,
  maxBars: sessionShape.maxBars,
  taskQueues: sessionShape.taskQueues,
} satisfies Record<keyof DailyRoutineInput, z.ZodType>) as unknown as z.ZodType<
  DailyRoutineInput,
  DailyRoutineInput
>;

interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly code?: string;
  readonly keys?: readonly string[];
}

/**
 * The issues of a failed parse as one line, `field: problem; field: problem` (first five); an unknown key reads
 * `field: unknown key "x"`. `rename` maps a dotted path to what the user typed (the CLI: its flag).
 */
export function describeInputIssues(
  issues: readonly Issue[],
  rename: (path: string) => string = (p) => p || 'input',
): string {
  // a field's first problem only (the engine's own validators repeat the field checks)
  const seen = new Set<string>();
  const firsts = issues.filter((i) => {
    const key = i.path.map(String).join('.');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const parts = firsts.slice(0, 5).map((i) => {
    const path = i.path.map(String).join('.');
    const message =
      i.code === 'unrecognized_keys' && i.keys
        ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`
        : i.message;
    return `${rename(path)}: ${message}`;
  });
  return parts.join('; ') + (firsts.length > 5 ? ` (and ${firsts.length - 5} more)` : '');
}

/** Parses a session's input or returns the problem, naming the field (the workflow's nonRetryable message). */
export function sessionInputProblem(input: unknown): string | undefined {
  const r = SessionInputSchema.safeParse(input);
  return r.success ? undefined : `session input: ${describeInputIssues(r.error.issues)}`;
}

/** Parses a daily routine's input or returns the problem, naming the field. */
export function routineInputProblem(input: unknown): string | undefined {
  const r = DailyRoutineInputSchema.safeParse(input);
  return r.success ? undefined : `routine input: ${describeInputIssues(r.error.issues)}`;
}
