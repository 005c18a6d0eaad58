import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
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
