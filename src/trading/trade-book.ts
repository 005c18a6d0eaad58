/**
 * What the kernel remembers of positions between decisions: when each was opened (the strategy's
 * `PositionView.openedAt` and the pattern-day-trader rule), the protective stop it carries (the open-risk limit)
 * and the day trades of the rolling five-business-day window. It is fed by the positions the account shows at
 * each decision, the same way in a backtest and in a session, so both count the same day trades.
 */
import type { AccountPosition } from './account';

/** FINRA's window: day trades in the last five business days (today included). */
const PDT_WINDOW_DAYS = 5;

export class TradeBook {
  private readonly qty = new Map<string, number>();
  private readonly opened = new Map<string, { at: number; day: number }>();
  private readonly stops = new Map<string, number>();
  private dayTradeDays: number[] = [];
  private day = 0;

  /**
   * @param held positions held when the kernel starts (opened before today: never a day trade today)
   * @param priorDayTrades day trades on each of the previous business days, oldest first
   */
  constructor(held: readonly AccountPosition[] = [], priorDayTrades: readonly number[] = []) {
    const prior = priorDayTrades.slice(-(PDT_WINDOW_DAYS - 1));
    prior.forEach((n, i) => {
      for (let k = 0; k < n; k++) this.dayTradeDays.push(i - prior.length);
    });
    for (const p of held)
      if (p.qty !== 0) {
        this.qty.set(p.symbol, p.qty);
        this.opened.set(p.symbol, { at: 0, day: -Infinity });
      }
  }

  /** The position in `symbol` is `after` at decision time `now`. */
  observe(symbol: string, after: number, now: number): void {
    const before = this.qty.get(symbol) ?? 0;
    if (before === after) return;
    const closed = before !== 0 && (after === 0 || Math.sign(after) !== Math.sign(before));
    if (closed) {
      if (this.opened.get(symbol)?.day === this.day) this.dayTradeDays.push(this.day);
      this.opened.delete(symbol);
      this.stops.delete(symbol);
    }
    if (after !== 0 && (before === 0 || closed)) this.opened.set(symbol, { at: now, day: this.day });
    if (after === 0) this.qty.delete(symbol);
    else this.qty.set(symbol, after);
  }

  /** Symbols the book holds a position in. */
  held(): IterableIterator<string> {
    return this.qty.keys();
  }

  /** A new trading day. */
  rollDay(): void {
    this.day++;
    this.dayTradeDays = this.dayTradeDays.filter((d) => d > this.day - PDT_WINDOW_DAYS);
  }

  dayTradesInWindow(): number {
    let n = 0;
    for (const d of this.dayTradeDays) if (d > this.day - PDT_WINDOW_DAYS) n++;
    return n;
  }

  /** Day trades made today. */
  dayTradesToday(): number {
    let n = 0;
    for (const d of this.dayTradeDays) if (d === this.day) n++;
    return n;
  }

  /** When the open position in `symbol` was opened (0: before the kernel started, or flat). */
  openedAt(symbol: string): number {
    return this.opened.get(symbol)?.at ?? 0;
  }

  stop(symbol: string): number | undefined {
    return this.stops.get(symbol);
  }

  setStop(symbol: string, price: number): void {
    this.stops.set(symbol, price);
  }
}
