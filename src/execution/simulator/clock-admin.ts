/**
 * Admin routes of the simulator's clock (never faulted, like every /sim/ route):
 * - `GET /sim/clock`: simulated now, speed, running, the wall-clock anchor (so a client can map a venue time
 *   onto the wall clock: wall = anchorWall + (venue − anchorSim) / speed), the venue's date and open state;
 * - `POST /sim/clock {"speed": 60}` runs the clock at that speed, `{"speed": 0}` pauses it,
 *   `{"until": <epoch ms>}` moves it forward (publishing every bar closed by then).
 */
import { NYSE, nyDate } from '../../market/calendar';
import type { SimRouteHandler } from './market-data';
import type { BarReplay } from './replay';

export interface SimClockView {
  readonly now: number;
  readonly speed: number;
  readonly running: boolean;
  readonly anchorSim: number;
  readonly anchorWall: number;
  /** The venue's trading date (New York) now. */
  readonly date: string;
  readonly isOpen: boolean;
  /** Start of the newest bar published. */
  readonly watermark: number | null;
  readonly done: boolean;
}

export function clockView(replay: BarReplay): SimClockView {
  const c = replay.clock.snapshot();
  return {
    ...c,
    date: nyDate(c.now),
    isOpen: NYSE.isOpen(c.now),
    watermark: Number.isFinite(replay.watermark) ? replay.watermark : null,
    done: replay.done,
  };
}

export function clockAdminRoutes(
  replay: BarReplay,
  add: (method: string, pattern: string, handler: SimRouteHandler) => void,
): void {
  add('GET', '/sim/clock', () => ({ status: 200, body: clockView(replay) }));
  add('POST', '/sim/clock', (_p, _q, body) => {
    const b = (body ?? {}) as { speed?: unknown; until?: unknown };
    const bad = (message: string) => ({ status: 422, body: { code: 42210000, message } });
    if (b.until !== undefined) {
      const until = Number(b.until);
      if (!Number.isFinite(until)) return bad('until: must be an epoch-ms number');
      replay.clock.advanceTo(until);
      replay.advanceTo(Math.floor(until / replay.barMs) * replay.barMs - replay.barMs);
    }
    if (b.speed !== undefined) {
      const speed = Number(b.speed);
      if (!(Number.isFinite(speed) && speed >= 0)) return bad('speed: must be a number >= 0 (0 pauses)');
      if (speed === 0) replay.stop();
      else replay.start(speed);
    }
    return { status: 200, body: clockView(replay) };
  });
}
