/**
 * Where a session's orders go and where its clock comes from: the one choice that differs between a replayed day
 * and a paper or live one, made once when the session starts (no `if (replay)` anywhere else).
 *
 * - live (paper or live broker): bars are timed by the venue's clock (read once at the start: a simulator may run
 *   its day at 60×). The workflow's timer covers the wait to each bar's close but the last stretch: server timers
 *   have whole-second granularity (one shorter than a second fires after a second, a bar at 60×), so the account
 *   read waits the rest itself, to the millisecond, and reads the account once the venue has passed the close.
 *   Actions go to the broker as they are decided.
 * - replay (the local simulator over stored bars): the clock is the replay's pace; the simulator plays each bar
 *   when the session reaches it, so fills happen exactly where a backtest puts them. Carrying out a decision and
 *   playing the next bar is one round trip: the account at the next bar comes back with it.
 *
 * Deterministic (workflow code): only activity proxies and the workflow's timer are used.
 */
import type { AccountSnapshot, ExecutionActivities, OrderAck, VenueTime } from '../../contracts/session';
import type { PackedActions } from '../trading/packed-actions';

export interface Venue {
  /** Waits until bar `barTs` has closed at the venue; true when `interrupted` became true meanwhile. */
  untilClose(barTs: number, barMs: number, interrupted: () => boolean): Promise<boolean>;
  /** The account as of the close of bar `barTs` (after the venue has filled against that bar). */
  account(barTs: number): Promise<AccountSnapshot>;
  /**
   * Carries out a decision's actions (null: none); `nextBarTs` is the bar the session decides on next (null:
   * none today).
   */
  execute(actions: PackedActions | null, nextBarTs: number | null): Promise<readonly OrderAck[]>;
  /** The account at the end of the day (the last bar played). */
  finalAccount(lastBarTs: number | null): Promise<AccountSnapshot>;
}

type Exec = Pick<ExecutionActivities, 'syncAccount' | 'execute' | 'replayStep'>;

export interface Clock {
  now(): number;
  /** resolves true when `interrupted` became true before `ms` passed */
  wait(interrupted: () => boolean, ms: number): Promise<boolean>;
}

/** The shortest timer the server honours (a shorter one fires after this long). */
export const TIMER_MIN_MS = 1_000;
/** A timer stops this far (wall ms) short of a bar's close; it fires up to some tens of ms late. */
const TIMER_MARGIN_MS = 300;

/** The wall-clock instant of a venue instant, by the venue's clock read at the start. */
export function wallOf(v: VenueTime, venueMs: number): number {
  return v.wallNow + (venueMs - v.venueNow) / v.speed;
}

/** `settleMs`: venue ms after a bar's close before its account is read. */
export function liveVenue(
  sessionId: string,
  exec: Exec,
  clock: Clock,
  settleMs: number,
  time: VenueTime,
): Venue {
  // the close the next account read waits for (set by untilClose)
  let due: { venueMs: number; wallMs: number } | null = null;
  return {
    async untilClose(barTs, barMs, interrupted) {
      const venueMs = barTs + barMs + settleMs;
      due = { venueMs, wallMs: wallOf(time, venueMs) };
      const coarse = due.wallMs - TIMER_MARGIN_MS - clock.now();
      return coarse >= TIMER_MIN_MS ? clock.wait(interrupted, coarse) : interrupted();
    },
    account() {
      const notBefore = due;
      due = null;
      return exec.syncAccount({ sessionId, ...(notBefore ? { notBefore } : {}) });
    },
    async execute(actions) {
      if (!actions || actions.rows.length === 0) return [];
      return (await exec.execute({ sessionId, actions })).acks;
    },
    finalAccount: () => exec.syncAccount({ sessionId }),
  };
}

export function replayVenue(sessionId: string, exec: Exec, clock: Clock, barDelayMs: number): Venue {
  // the account at the start of a bar, fetched with the previous decision's actions
  let next: { barTs: number; account: AccountSnapshot } | null = null;
  return {
    async untilClose(_barTs, _barMs, interrupted) {
      // with no delay the timer is skipped: the server fires timers with about one second of granularity
      return barDelayMs > 0 ? clock.wait(interrupted, barDelayMs) : interrupted();
    },
    async account(barTs) {
      if (next && next.barTs === barTs) return next.account;
      next = null;
      return (await exec.replayStep({ sessionId, actions: null, advanceTo: barTs })).account;
    },
    async execute(actions, nextBarTs) {
      next = null;
      const has = actions !== null && actions.rows.length > 0;
      if (nextBarTs === null) {
        if (!has) return [];
        return (await exec.execute({ sessionId, actions: actions! })).acks;
      }
      const r = await exec.replayStep({ sessionId, actions: has ? actions : null, advanceTo: nextBarTs });
      next = { barTs: nextBarTs, account: r.account };
      return r.acks;
    },
    async finalAccount(lastBarTs) {
      return (await exec.replayStep({ sessionId, actions: null, advanceTo: lastBarTs ?? 0 })).account;
    },
  };
}
