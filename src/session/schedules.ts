import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import { SCHEDULED_LEARNING_WORKFLOW, type LearningCycleInput } from '../../contracts/learning';
import type { DailyRoutineInput } from '../../contracts/session';
import { TASK_QUEUES } from '../../contracts/task-queues';
import { nyseDayInfo } from '../market/calendar';

/**
 * The pre-market and post-market Schedules: America/New_York wall times on weekdays, exchange holidays in
 * the schedule's skip list (so the Web UI shows them), an explicit catch-up window (a routine missed while
 * the cluster was down runs if it is at most that late), and no overlap. `applySchedules` creates or updates
 * them, so running it twice changes nothing.
 */
export interface ScheduleSettings {
  readonly routine: DailyRoutineInput;
  readonly taskQueue?: string;
  readonly idPrefix?: string;
  /** Years of holidays to put in the skip list, starting from `fromYear`. */
  readonly fromYear: number;
  readonly years?: number;
  readonly catchupWindow?: string;
}

const WEEKDAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] as const;
const MONTHS = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
] as const;

/** Weekday NYSE holidays of the given years as calendar specs for a schedule's skip list. */
export function holidaySkips(fromYear: number, years: number) {
  const out: Array<{
    year: number;
    month: (typeof MONTHS)[number];
    dayOfMonth: number;
    hour: { start: number; end: number };
    minute: { start: number; end: number };
    comment: string;
  }> = [];
  for (let y = fromYear; y < fromYear + years; y++) {
    for (let t = Date.UTC(y, 0, 1); t < Date.UTC(y + 1, 0, 1); t += 86_400_000) {
      const d = new Date(t);
      const dow = d.getUTCDay();
      if (dow === 0 || dow === 6) continue;
      const date = d.toISOString().slice(0, 10);
      const info = nyseDayInfo(date);
      if (info.holiday)
        out.push({
          year: y,
          month: MONTHS[d.getUTCMonth()]!,
          dayOfMonth: d.getUTCDate(),
          hour: { start: 0, end: 23 },
          minute: { start: 0, end: 59 },
          comment: info.holiday,
        });
    }
  }
  return out;
}

export function scheduleDefinitions(s: ScheduleSettings): ScheduleOptions[] {
  const prefix = s.idPrefix ?? `${s.routine.account}-${s.routine.mode}`;
  const skip = holidaySkips(s.fromYear, s.years ?? 3);
  const common = {
    policies: { catchupWindow: s.catchupWindow ?? '30 minutes', overlap: ScheduleOverlapPolicy.SKIP },
  };
  const def = (
    id: string,
    workflowType: string,
    hour: number,
    minute: number,
    note: string,
  ): ScheduleOptions => ({
    scheduleId: `${prefix}-${id}`,
    spec: {
      calendars: [{ hour, minute, dayOfWeek: [...WEEKDAYS], comment: note }],
      skip,
      timezone: 'America/New_York',
    },
    action: {
      type: 'startWorkflow',
      workflowType,
      taskQueue: s.taskQueue ?? TASK_QUEUES.io,
      args: [s.routine],
      workflowId: `${prefix}-${id}`,
    },
    ...common,
  });
  return [
    def('pre-market', 'preMarketRoutineWorkflow', 9, 0, 'pre-market: start the day’s session'),
    def('post-market', 'postMarketRoutineWorkflow', 16, 30, 'post-market: verify flat'),
  ];
}

export async function applySchedules(
  client: Client,
  s: ScheduleSettings,
): Promise<Array<{ scheduleId: string; outcome: 'created' | 'updated' }>> {
  const out: Array<{ scheduleId: string; outcome: 'created' | 'updated' }> = [];
  for (const def of scheduleDefinitions(s)) {
    const handle = client.schedule.getHandle(def.scheduleId);
    try {
      await handle.describe();
      await handle.update((prev) => ({
        ...prev,
        spec: def.spec,
        action: def.action as typeof prev.action,
        policies: { ...prev.policies, ...def.policies },
      }));
      out.push({ scheduleId: def.scheduleId, outcome: 'updated' });
    } catch (e) {
      if (!(e instanceof ScheduleNotFoundError)) throw e;
      await client.schedule.create(def);
      out.push({ scheduleId: def.scheduleId, outcome: 'created' });
    }
  }
  return out;
}

/**
 * The learning Schedule of a model name: its learning cycle (drift → shadow records → promote / reject → retrain
 * into shadow) after the close on every NYSE trading day, America/New_York, holidays in the skip list, the same
 * catch-up window and no overlap as the daily routines. Each run starts the day's cycle under
 * `learning-<name>-<day>` (scheduledLearningWorkflow): with the post-market routine's hook, one cycle a day.
 */
export interface LearningScheduleSettings {
  readonly input: Omit<LearningCycleInput, 'day'>;
  readonly taskQueue?: string;
  readonly fromYear: number;
  readonly years?: number;
  /** New York wall time of the run (default 16:45, after the post-market routine) */
  readonly hour?: number;
  readonly minute?: number;
  readonly catchupWindow?: string;
}

export function learningScheduleId(name: string): string {
  return `learning-${name}`;
}

export function learningScheduleDefinition(s: LearningScheduleSettings): ScheduleOptions {
  const hour = s.hour ?? 16;
  const minute = s.minute ?? 45;
  if (!(Number.isInteger(hour) && hour >= 16 && hour <= 23))
    throw new RangeError(`hour: ${hour} must be an hour after the 16:00 close (16-23)`);
  if (!(Number.isInteger(minute) && minute >= 0 && minute <= 59))
    throw new RangeError(`minute: ${minute} must be 0-59`);
  const id = learningScheduleId(s.input.name);
  return {
    scheduleId: id,
    spec: {
      calendars: [
        {
          hour,
          minute,
          dayOfWeek: [...WEEKDAYS],
          comment: `learning cycle of ${s.input.name} after the close`,
        },
      ],
      skip: holidaySkips(s.fromYear, s.years ?? 3),
      timezone: 'America/New_York',
    },
    action: {
      type: 'startWorkflow',
      workflowType: SCHEDULED_LEARNING_WORKFLOW,
      taskQueue: s.taskQueue ?? TASK_QUEUES.io,
      args: [s.input],
      workflowId: id,
    },
    policies: { catchupWindow: s.catchupWindow ?? '2 hours', overlap: ScheduleOverlapPolicy.SKIP },
  };
}

/** Creates or updates the learning Schedule of a name (running it twice changes nothing). */
export async function applyLearningSchedule(
  client: Client,
  s: LearningScheduleSettings,
): Promise<{ scheduleId: string; outcome: 'created' | 'updated' }> {
  const def = learningScheduleDefinition(s);
  const handle = client.schedule.getHandle(def.scheduleId);
  try {
    await handle.describe();
    await handle.update((prev) => ({
      ...prev,
      spec: def.spec,
      action: def.action as typeof prev.action,
      policies: { ...prev.policies, ...def.policies },
    }));
    return { scheduleId: def.scheduleId, outcome: 'updated' };
  } catch (e) {
    if (!(e instanceof ScheduleNotFoundError)) throw e;
    await client.schedule.create(def);
    return { scheduleId: def.scheduleId, outcome: 'created' };
  }
}

/** When the learning Schedule of a name runs next (null: no schedule, or paused). */
export async function nextLearningRun(client: Client, name: string): Promise<number | null> {
  try {
    const d = await client.schedule.getHandle(learningScheduleId(name)).describe();
    if (d.state.paused) return null;
    const next = d.info.nextActionTimes[0];
    return next ? next.getTime() : null;
  } catch (e) {
    if (e instanceof ScheduleNotFoundError) return null;
    throw e;
  }
}
