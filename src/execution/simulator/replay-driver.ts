import { TemporaryError } from '../../model/errors';

/** Advances a simulator's bar replay over the simulator's admin HTTP route. Idempotent. */
export interface ReplayDriver {
  advanceTo(untilTs: number): Promise<void>;
}

export function httpReplayDriver(simulatorUrl: string): ReplayDriver {
  return {
    async advanceTo(untilTs) {
      let res: Response;
      try {
        res = await fetch(`${simulatorUrl.replace(/\/+$/, '')}/sim/advance`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ until: untilTs }),
        });
      } catch (e) {
        throw new TemporaryError(`simulator ${simulatorUrl}: advance failed: ${(e as Error).message}`);
      }
      if (!res.ok)
        throw new TemporaryError(
          `simulator ${simulatorUrl}: advance answered ${res.status}: ${await res.text()}`,
        );
    },
  };
}
