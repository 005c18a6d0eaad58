/**
 * The venue's clock as a market-data consumer needs it: what time it is at the venue (Alpaca's /v2/clock,
 * through the SDK), and where a venue instant falls on this machine's wall clock — the same instant for
 * Alpaca, another day and pace for the local simulator, which publishes its clock's anchor at /sim/clock.
 * The mapping is what the latency probe measures against: a bar closes at the venue at ts + 1 minute, and
 * its store latency is the wall time it was stored minus that close on the wall clock.
 */
import { trading } from '@alpacahq/alpaca-trade-api';
import { TemporaryError } from '../../model/errors';

export interface VenueClock {
  /** The venue's time now (epoch ms). */
  now(): Promise<number>;
  /**
   * The wall-clock time of a venue instant: identity for a venue on the wall clock; undefined for a simulator
   * whose clock is paused (stepped), where no fixed mapping exists.
   */
  toWall(venueMs: number): number | undefined;
  /** Re-reads the venue's mapping onto the wall clock (after a reconnect, say). */
  refresh(): Promise<void>;
}

interface Anchor {
  readonly anchorSim: number;
  readonly anchorWall: number;
  readonly speed: number;
  readonly running: boolean;
}

const LOCAL = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/;

/** Alpaca's (or the simulator's) clock through the SDK's trading ClockApi. */
export function alpacaVenueClock(opts: {
  readonly keyId: string;
  readonly secret: string;
  /** The trading API base URL (paper-api.alpaca.markets, or the simulator). */
  readonly tradingBaseUrl: string;
  readonly timeoutMs?: number;
}): VenueClock {
  const base = opts.tradingBaseUrl.replace(/\/+$/, '');
  const api = new trading.ClockApi(
    new trading.Configuration({
      basePath: base,
      keyId: opts.keyId,
      secret: opts.secret,
      timeoutMs: opts.timeoutMs ?? 10_000,
      retry: { maxRetries: 2, retryDelayMs: 100, maxDelayMs: 1_000 },
    }),
  );
  // Only a local simulator runs on another clock; Alpaca's venue clock is the wall clock.
  const simulated = LOCAL.test(base);
  let anchor: Anchor | undefined;
  return {
    async now() {
      try {
        return (await api.legacyClock()).timestamp.getTime();
      } catch (e) {
        throw new TemporaryError(`venue clock ${base}/v2/clock: ${(e as Error).message}`, undefined, {
          cause: e,
        });
      }
    },
    toWall(venueMs) {
      if (!simulated) return venueMs;
      if (!anchor?.running || !(anchor.speed > 0)) return undefined;
      return anchor.anchorWall + (venueMs - anchor.anchorSim) / anchor.speed;
    },
    async refresh() {
      if (!simulated) return;
      try {
        const res = await fetch(`${base}/sim/clock`, { signal: AbortSignal.timeout(5_000) });
        if (res.ok) anchor = (await res.json()) as Anchor;
      } catch {
        /* keep the previous mapping: the probe is best effort, the data path does not depend on it */
      }
    },
  };
}
