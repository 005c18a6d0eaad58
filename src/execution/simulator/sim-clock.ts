/**
 * The simulator's own clock: simulated epoch ms that advance at `speed` × wall time while running (60 = one
 * simulated minute per wall second, so a 390-minute day takes 6.5 minutes), or stand still while paused (the
 * stepped replay moves it). It never goes back. A venue's "now" — /v2/clock, when a bar is published, when an
 * order is stamped — is read from here, so the simulator is a venue living on another day at another pace.
 */
export interface SimClockSnapshot {
  /** Simulated time now (epoch ms). */
  readonly now: number;
  readonly speed: number;
  readonly running: boolean;
  /** While running: simulated time `anchorSim` was at wall time `anchorWall`; now = anchorSim + (wall − anchorWall) × speed. */
  readonly anchorSim: number;
  readonly anchorWall: number;
}

export class SimClock {
  private anchorSim: number;
  private anchorWall: number;
  private rate = 0;
  private isRunning = false;

  constructor(
    startAt: number,
    private readonly wall: () => number = Date.now,
  ) {
    if (!Number.isFinite(startAt)) throw new RangeError(`startAt: ${startAt} is not an epoch-ms number`);
    this.anchorSim = startAt;
    this.anchorWall = wall();
  }

  now(): number {
    return this.isRunning
      ? this.anchorSim + Math.max(0, this.wall() - this.anchorWall) * this.rate
      : this.anchorSim;
  }

  get speed(): number {
    return this.rate;
  }

  get running(): boolean {
    return this.isRunning;
  }

  /** Runs the clock at `speed` × wall time from its current reading. */
  start(speed: number): void {
    if (!(Number.isFinite(speed) && speed > 0))
      throw new RangeError(
        `speed: must be a positive number of simulated seconds per wall second, got ${speed}`,
      );
    this.rebase();
    this.rate = speed;
    this.isRunning = true;
  }

  /** Freezes the clock at its current reading. */
  pause(): void {
    this.rebase();
    this.isRunning = false;
  }

  /** Moves the clock forward to `simMs` (a no-op when it is already later); a running clock keeps running from there. */
  advanceTo(simMs: number): void {
    if (!(simMs > this.now())) return;
    this.anchorSim = simMs;
    this.anchorWall = this.wall();
  }

  /** The wall time at which the running clock reads `simMs` (now when that is past); undefined while paused. */
  wallAt(simMs: number): number | undefined {
    if (!this.isRunning) return undefined;
    const now = this.now();
    const wallNow = this.wall();
    return simMs <= now ? wallNow : wallNow + (simMs - now) / this.rate;
  }

  snapshot(): SimClockSnapshot {
    this.rebase();
    return {
      now: this.anchorSim,
      speed: this.rate,
      running: this.isRunning,
      anchorSim: this.anchorSim,
      anchorWall: this.anchorWall,
    };
  }

  private rebase(): void {
    this.anchorSim = this.now();
    this.anchorWall = this.wall();
  }
}
