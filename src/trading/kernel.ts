/**
 * The trading kernel: the one harness around a Strategy, driven by the backtester and by the trading session
 * alike (NautilusTrader's kernel, LEAN's engine). What differs between modes is only what is injected — the
 * clock (the driver's step times), the bars (given whole, or appended as they arrive) and the venue (the
 * account the step reads, and whoever carries out the actions it returns). Everything else happens here, once:
 *
 *   advance(t)  bars that closed by t become visible: cursors move, 5m/15m/1h/1d are built from 1m bars as they
 *               complete (session-aware), the volatility tracker and data freshness see each execution bar;
 *               returns the execution bars that closed, for a simulated venue to fill against.
 *   decide(t, account, controls)
 *               day roll (loss anchors, a breaker's HALT ends with the day) → positions observed (open times,
 *               day trades, stops) → circuit breakers (loss → HALTED and flatten; volatility → REDUCING) → the
 *               strategy on its timeframes with the predictions of the bars that closed (a model may be
 *               awaited) → warm-up and trade-from gates → the risk engine on every command (operator caps
 *               included) → end-of-day / liquidation flatten → the actions for the venue, in order.
 *
 * Deterministic: given the same bars, accounts and controls, the same actions with the same client order ids.
 */
import type { Bar, BarColumns } from '../model/bar';
import { RESERVED_SEQ, makeClientOrderId } from '../model/client-order-id';
import type { Command } from '../model/command';
import type { RiskStateChanged } from '../model/events';
import {
  instrumentFor,
  roundToStep,
  type InstrumentOverrides,
  type InstrumentSpec,
} from '../model/instrument';
import type { OrderSpec } from '../model/order';
import { mulberry32 } from '../model/random';
import { timeframeRank, type Timeframe } from '../model/timeframe';
import { NYSE, addDays, nyDate, nyWallToUtc, type Session } from '../market/calendar';
import { evaluateMode, exposures } from '../risk/engine';
import { gateCommands, type GateDenial } from '../risk/gate';
import { DEFAULT_SIZING, sizePosition, type SizingConfig } from '../risk/sizing';
import type { RiskLimits, RiskMode, RiskPosition, RiskRule, RiskState } from '../risk/types';
import { VolatilityTracker } from '../risk/volatility';
import { RegimeDetector, regimeOptions, type RegimeState } from '../learning/regime';
import { strategyCalendar } from '../strategy/calendar-context';
import { DeterministicOrderFactory } from '../strategy/order-factory';
import {
  assertStrategyCompatible,
  type PortfolioView,
  type PositionView,
  type PredictionSet,
  type Strategy,
  type StrategyContext,
} from '../strategy/types';
import { StepAccount, type Account } from './account';
import { ClockedBarFeed } from './feed';
import type { PredictionPort } from './prediction';
import { Aggregator, BarSeries, calendarOf } from './series';
import { TradeBook } from './trade-book';

/** What the venue is asked to do, in this order. */
export type Action =
  | { readonly kind: 'cancel'; readonly clientOrderId: string; readonly reason: string }
  /** every open order of the symbol (bracket legs included) */
  | { readonly kind: 'cancelSymbol'; readonly symbol: string; readonly reason: string }
  | { readonly kind: 'cancelAll'; readonly reason: string }
  | {
      readonly kind: 'submit';
      readonly order: OrderSpec;
      /** the price risk was evaluated at (the strategy's last close, or the position's price for a flatten) */
      readonly refPrice: number;
      /** adds exposure (an execution algorithm may work it); false for exits and flattens */
      readonly entry: boolean;
    };

export interface Denial {
  readonly ts: number;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly rule: RiskRule;
  readonly reason: string;
}

export interface StepResult {
  readonly actions: Action[];
  readonly denials: Denial[];
  readonly mode: RiskMode;
  readonly modeReason: string;
  /** the strategy ran at this step (one of its timeframes had a bar close) */
  readonly decided: boolean;
  /** commands the strategy returned that were dropped: paused, warming up, before trade-from, or closing */
  readonly suppressed: number;
  /** the predictions the strategy was given (undefined: no model, or the strategy did not run) */
  readonly predictions?: PredictionSet;
}

/** Operator controls in force at a decision (a backtest has none). */
export interface KernelControls {
  /** the strategy runs (its state stays that of a backtest) but its orders are not sent; breakers still act */
  readonly paused?: boolean;
  /** flatten everything and take no new exposure for the rest of the day */
  readonly liquidate?: boolean;
  /** limits changed by an operator during the day */
  readonly limits?: RiskLimits;
  /** the end of the driver's day (a session's last bar close, when it ends before the exchange's close) */
  readonly dayEndsAt?: number;
}

/** The account's history when the kernel starts: loss anchors and the day-trade window. */
export interface KernelStart {
  readonly equity: number;
  readonly dayStartEquity?: number;
  readonly monthStartEquity?: number;
  readonly quarterStartEquity?: number;
  readonly peakEquity?: number;
  /** day trades on each of the previous business days, oldest first (the PDT window) */
  readonly priorDayTrades?: readonly number[];
}

export interface KernelOptions {
  readonly strategy: Strategy;
  /** prefix of every client order id */
  readonly session: string;
  /** the strategy's PRNG seed */
  readonly seed: number;
  readonly limits: RiskLimits;
  readonly sizing?: Partial<SizingConfig>;
  readonly predictions?: PredictionPort;
  readonly sectors?: Readonly<Record<string, string>>;
  readonly correlationGroups?: Readonly<Record<string, string>>;
  readonly start: KernelStart;
  /**
   * Intraday strategies (every timeframe shorter than a day) are flattened this long before the session close
   * and take no new exposure after it; default: two execution bars. null: never (the strategy's own business).
   */
  readonly flattenBeforeCloseMs?: number | null;
  /** commands before this instant are dropped: the strategy warms up on earlier bars without trading */
  readonly tradeFrom?: number;
  readonly instruments?: InstrumentOverrides;
}

/** One (symbol, timeframe) the kernel is given: whole columns (a backtest), or none (bars appended live). */
export interface SeriesInput {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly columns?: BarColumns;
}

/** An execution bar that closed at the step: what a simulated venue fills against. */
export interface ClosedBar {
  readonly series: BarSeries;
  readonly index: number;
}

export class TradingKernel {
  readonly feed: ClockedBarFeed;
  readonly strategy: Strategy;
  readonly symbols: readonly string[];
  /** per symbol, the finest series given: orders fill, positions are marked and breakers measured on it */
  readonly execution: ReadonlyMap<string, BarSeries>;
  readonly riskModeChanges: RiskStateChanged[] = [];
  private limits: RiskLimits;
  private readonly given: BarSeries[];
  private readonly indexOf = new Map<BarSeries, number>();
  private readonly nextClose: Float64Array;
  private readonly isExec: Uint8Array;
  private readonly aggregators = new Map<BarSeries, Aggregator[]>();
  private readonly allAggregators: Aggregator[] = [];
  private readonly strategySeries: Set<BarSeries>;
  private readonly instruments = new Map<string, InstrumentSpec>();
  private readonly vol: VolatilityTracker;
  /** per symbol, the regime of its execution bars (only for a strategy that declares `regime`) */
  private readonly regimes: Map<string, RegimeDetector> | null;
  private readonly crisisShare: number;
  private readonly lastDataTs: Record<string, number> = {};
  private readonly book: TradeBook;
  private readonly factory: DeterministicOrderFactory;
  private readonly rng: () => number;
  private readonly calendar = strategyCalendar();
  private readonly sizing: SizingConfig;
  private readonly intraday: boolean;
  private readonly flattenBeforeCloseMs: number | null;
  private readonly hasSessionClose: boolean;
  private nyseSession: Session | null | undefined;
  private mode: RiskMode = 'ACTIVE';
  private modeReason = 'start';
  private dayKey = '';
  private nextDayAt = -Infinity;
  private dayStart: number;
  private monthStart: number;
  private quarterStart: number;
  private peak: number;
  private equityNow: number;
  private liquidated = false;
  private readonly newlyVisible: Array<{ symbol: string; timeframe: Timeframe }> = [];
  private readonly closedExec: ClosedBar[] = [];

  constructor(
    private readonly opts: KernelOptions,
    series: readonly SeriesInput[],
  ) {
    const strategy = (this.strategy = opts.strategy);
    assertStrategyCompatible(strategy);
    this.limits = opts.limits;
    const wanted = new Set<Timeframe>(strategy.timeframes);
    const bySymbol = new Map<string, BarSeries[]>();
    for (const s of series) {
      const inst = this.instrument(s.symbol);
      const list = bySymbol.get(s.symbol) ?? [];
      if (list.some((x) => x.timeframe === s.timeframe))
        throw new RangeError(`series: ${s.symbol} ${s.timeframe} is given twice`);
      list.push(new BarSeries(s.symbol, s.timeframe, calendarOf(inst.calendar), s.columns));
      bySymbol.set(s.symbol, list);
    }
    if (bySymbol.size === 0) throw new RangeError('series: the kernel needs at least one symbol');
    this.symbols = [...bySymbol.keys()];
    const given: BarSeries[] = [];
    const exec = new Map<string, BarSeries>();
    const feedSeries: BarSeries[] = [];
    const strategySeries = new Set<BarSeries>();
    for (const [symbol, list] of bySymbol) {
      list.sort((a, b) => timeframeRank(a.timeframe) - timeframeRank(b.timeframe));
      exec.set(symbol, list[0]!);
      given.push(...list);
      for (const s of list)
        if (wanted.has(s.timeframe)) {
          feedSeries.push(s);
          strategySeries.add(s);
        }
      const minute = list.find((s) => s.timeframe === '1m');
      for (const tf of strategy.timeframes) {
        if (list.some((s) => s.timeframe === tf)) continue;
        if (!minute)
          throw new RangeError(
            `series: ${symbol} has no ${tf} bars and no 1m bars to build them from (given: ${list.map((s) => s.timeframe).join(', ')})`,
          );
        const derived = new BarSeries(symbol, tf, minute.calendar);
        const agg = new Aggregator(derived, minute.calendar);
        const aggs = this.aggregators.get(minute) ?? [];
        aggs.push(agg);
        this.aggregators.set(minute, aggs);
        this.allAggregators.push(agg);
        feedSeries.push(derived);
        strategySeries.add(derived);
      }
    }
    this.given = given;
    this.execution = exec;
    this.strategySeries = strategySeries;
    this.feed = new ClockedBarFeed(feedSeries);
    this.isExec = new Uint8Array(given.length);
    this.nextClose = new Float64Array(given.length);
    given.forEach((s, i) => {
      this.indexOf.set(s, i);
      this.isExec[i] = exec.get(s.symbol) === s ? 1 : 0;
      this.nextClose[i] = s.n > 0 ? s.closeAt(0) : Infinity;
    });
    this.vol = new VolatilityTracker(given.length);
    const ro = strategy.regime ? regimeOptions(strategy.regime) : null;
    this.crisisShare = ro?.crisisShare ?? 1;
    this.regimes = ro
      ? new Map(
          this.symbols.map((sym) => [sym, new RegimeDetector(ro, this.instrument(sym).calendar !== 'NYSE')]),
        )
      : null;
    this.intraday = strategy.timeframes.every((tf) => tf !== '1d');
    this.hasSessionClose = this.symbols.some((sym) => this.instrument(sym).calendar === 'NYSE');
    const execMs = Math.min(...[...exec.values()].map((s) => s.tfMs));
    this.flattenBeforeCloseMs =
      opts.flattenBeforeCloseMs === undefined ? 2 * execMs : opts.flattenBeforeCloseMs;
    this.factory = new DeterministicOrderFactory(opts.session);
    this.rng = mulberry32(opts.seed);
    this.sizing = {
      ...DEFAULT_SIZING,
      maxPositionFraction: opts.limits.maxPositionFraction,
      ...opts.sizing,
    };
    const st = opts.start;
    this.equityNow = st.equity;
    this.dayStart = st.dayStartEquity ?? st.equity;
    this.monthStart = st.monthStartEquity ?? st.equity;
    this.quarterStart = st.quarterStartEquity ?? st.equity;
    this.peak = Math.max(st.peakEquity ?? st.equity, st.equity);
    this.book = new TradeBook([], st.priorDayTrades ?? []);
  }

  // ------------------------------------------------------------------------------------------------ bars

  /** Positions held when the kernel starts (opened before today: never a day trade). */
  holdAtStart(account: Account): void {
    for (const p of account.positions()) this.book.observe(p.symbol, p.qty, 0);
  }

  /**
   * Appends closed 1m bars that arrived (a live session); bars of unknown symbols, of series given whole and
   * bars already held are ignored. Bars must come in time order per symbol.
   */
  append(bars: Iterable<Bar>): void {
    for (const b of bars) {
      const s = this.execution.get(b.symbol);
      if (!s || s.timeframe !== b.timeframe) continue;
      const i = this.indexOf.get(s)!;
      if (s.append(b.ts, b.open, b.high, b.low, b.close, b.volume) && this.nextClose[i] === Infinity)
        this.nextClose[i] = s.closeAt(s.cursor + 1);
    }
  }

  /** Start time of the newest bar held over all symbols (null before any). */
  get loadedUntil(): number | null {
    let m: number | null = null;
    for (const s of this.given) if (s.n > 0 && (m === null || s.ts[s.n - 1]! > m)) m = s.ts[s.n - 1]!;
    return m;
  }

  /**
   * Makes the bars that start before `from` visible without stepping through them: history the strategy may
   * read from its first step on (a backtest over a window of a longer series).
   */
  seek(from: number): void {
    this.given.forEach((s, i) => {
      const aggs = this.aggregators.get(s);
      while (s.cursor + 1 < s.n && s.ts[s.cursor + 1]! < from) {
        const k = ++s.cursor;
        if (this.regimes && this.isExec[i]) this.regimes.get(s.symbol)!.update(s.closeAt(k), s.close[k]!);
        if (aggs)
          for (const a of aggs) a.add(s.ts[k]!, s.open[k]!, s.high[k]!, s.low[k]!, s.close[k]!, s.volume[k]!);
      }
      this.nextClose[i] = s.cursor + 1 < s.n ? s.closeAt(s.cursor + 1) : Infinity;
    });
    for (const a of this.allAggregators) {
      a.closeDue(from);
      a.target.cursor = a.target.n - 1;
    }
  }

  /** The earliest close time of a bar not yet visible (Infinity when none is held): a backtest's next step. */
  nextStep(): number {
    let t = Infinity;
    const nc = this.nextClose;
    for (let i = 0; i < nc.length; i++) if (nc[i]! < t) t = nc[i]!;
    return t;
  }

  /**
   * Makes every bar that closed by `t` visible; returns the execution bars among them (the venue fills and
   * marks on those before the decision at `t`).
   */
  advance(t: number): readonly ClosedBar[] {
    const closed = this.closedExec;
    closed.length = 0;
    const updated = this.newlyVisible;
    updated.length = 0;
    const given = this.given;
    const nc = this.nextClose;
    for (let i = 0; i < given.length; i++) {
      if (!(nc[i]! <= t)) continue;
      const s = given[i]!;
      const aggs = this.aggregators.get(s);
      const exec = this.isExec[i];
      const shown = this.strategySeries.has(s);
      // the next bar's close is known from the previous pass (nc[i]); later ones are asked of the series
      let closeAt = nc[i]!;
      while (s.cursor + 1 < s.n && closeAt <= t) {
        const k = ++s.cursor;
        if (exec) {
          if (k > 0) this.vol.update(i, s.close[k - 1]!, s.close[k]!);
          this.regimes?.get(s.symbol)!.update(closeAt, s.close[k]!);
          this.lastDataTs[s.symbol] = closeAt;
          closed.push({ series: s, index: k });
        }
        if (shown) updated.push({ symbol: s.symbol, timeframe: s.timeframe });
        if (aggs)
          for (const a of aggs)
            if (a.add(s.ts[k]!, s.open[k]!, s.high[k]!, s.low[k]!, s.close[k]!, s.volume[k]!))
              this.showDerived(a, updated);
        closeAt = s.cursor + 1 < s.n ? s.closeAt(s.cursor + 1) : Infinity;
      }
      nc[i] = s.cursor + 1 < s.n ? s.closeAt(s.cursor + 1) : Infinity;
    }
    for (const a of this.allAggregators) if (a.closeDue(t)) this.showDerived(a, updated);
    this.feed.now = t;
    return closed;
  }

  private showDerived(a: Aggregator, updated: Array<{ symbol: string; timeframe: Timeframe }>): void {
    a.target.cursor = a.target.n - 1;
    updated.push({ symbol: a.target.symbol, timeframe: a.target.timeframe });
  }

  // ------------------------------------------------------------------------------------------------ decide

  /**
   * The decision at `t` (after `advance(t)`), on the account as the venue reports it now. Returns a promise only
   * when the prediction port answers with one.
   */
  decide(t: number, account: Account, controls: KernelControls = {}): StepResult | Promise<StepResult> {
    if (controls.limits) this.setLimits(controls.limits);
    if (t >= this.nextDayAt) this.rollDay(t);
    this.observePositions(account, t);
    this.equityNow = cents(account.equity);
    if (this.equityNow > this.peak) this.peak = this.equityNow;
    if (controls.liquidate) this.liquidated = true;

    const step = new StepAccount(account);
    const actions: Action[] = [];
    const closing = this.liquidated || this.inClosingWindow(t, controls.dayEndsAt);
    const ev = this.regimeRule(evaluateMode(this.breakerState(t, account), this.limits));
    if (ev.mode !== this.mode || ev.reason !== this.modeReason) this.setMode(ev.mode, ev.reason, t);
    if (ev.flatten && !closing && account.positions().length > 0)
      this.flattenAll(t, account, step, actions, RESERVED_SEQ.breaker, `breaker: ${ev.reason}`);

    const updated = this.newlyVisible;
    let run = false;
    for (const u of updated)
      if (this.strategy.timeframes.includes(u.timeframe)) {
        run = true;
        break;
      }
    if (!run) return this.finish(t, account, step, actions, [], closing, false, 0, undefined);
    this.feed.updated.length = 0;
    for (const u of updated) this.feed.updated.push(u);
    const port = this.opts.predictions;
    const preds = port?.predict({
      now: t,
      feed: this.feed,
      updated: this.feed.updated,
      bars: (symbol) => this.execution.get(symbol),
    });
    if (preds instanceof Promise)
      return preds.then((p) => this.runStrategy(t, account, step, actions, closing, controls, p));
    return this.runStrategy(t, account, step, actions, closing, controls, preds);
  }

  private runStrategy(
    t: number,
    account: Account,
    step: StepAccount,
    actions: Action[],
    closing: boolean,
    controls: KernelControls,
    predictions: PredictionSet | undefined,
  ): StepResult {
    this.factory.setBar(t);
    const ctx = this.context(t, step);
    const commands = this.strategy.onBar(ctx, this.feed, predictions);
    let suppressed = 0;
    let tradable: Command[] = commands;
    if (closing || controls.paused) {
      suppressed = commands.length;
      tradable = [];
    } else if (commands.length > 0) {
      const trading = this.opts.tradeFrom === undefined || t >= this.opts.tradeFrom;
      tradable = commands.filter((c) => c.kind !== 'submit' || (trading && this.warmedUp(c.order.symbol)));
      suppressed = commands.length - tradable.length;
    }
    return this.finish(t, account, step, actions, tradable, closing, true, suppressed, predictions);
  }

  private finish(
    t: number,
    account: Account,
    step: StepAccount,
    actions: Action[],
    commands: readonly Command[],
    closing: boolean,
    decided: boolean,
    suppressed: number,
    predictions: PredictionSet | undefined,
  ): StepResult {
    const denials: Denial[] = [];
    if (commands.length > 0) {
      const gate = gateCommands(commands, this.riskState(t, account, step), this.limits);
      for (const d of gate.denied) denials.push(denialOf(t, d));
      for (const { command: c, riskReducing } of gate.approved) {
        if (c.kind === 'cancel') {
          if (step.openOrders().some((o) => o.clientOrderId === c.clientOrderId)) {
            actions.push({
              kind: 'cancel',
              clientOrderId: c.clientOrderId,
              reason: 'canceled by the strategy',
            });
            step.cancelOrder(c.clientOrderId);
          }
        } else if (c.kind === 'flatten') {
          this.flattenSymbol(c.symbol, c.clientOrderId, c.reason, account, step, actions);
        } else {
          if (!riskReducing && c.riskStopPrice !== undefined)
            this.book.setStop(c.order.symbol, c.riskStopPrice);
          this.submit(c.order, c.refPrice, !riskReducing, step, actions);
        }
      }
    }
    if (closing && (account.positions().length > 0 || step.hasOpenOrders())) {
      const reason = this.liquidated ? 'liquidate requested' : 'end of day flatten';
      const seq = this.liquidated ? RESERVED_SEQ.liquidate : RESERVED_SEQ.endOfDay;
      if (step.hasOpenOrders()) {
        actions.push({ kind: 'cancelAll', reason });
        step.cancelAll();
      }
      this.flattenAll(t, account, step, actions, seq, reason, false);
    }
    return {
      actions,
      denials,
      mode: this.mode,
      modeReason: this.modeReason,
      decided,
      suppressed,
      ...(predictions ? { predictions } : {}),
    };
  }

  // ------------------------------------------------------------------------------------------------ rules

  /** A symbol trades once one of the strategy's timeframes holds `warmUpBars` completed bars. */
  warmedUp(symbol: string): boolean {
    for (const tf of this.feed.timeframes(symbol))
      if (this.feed.count(symbol, tf) >= this.strategy.warmUpBars) return true;
    return false;
  }

  /** From `flattenBeforeCloseMs` before the session close, an intraday strategy's day is over (24/7: never). */
  private inClosingWindow(t: number, dayEndsAt: number | undefined): boolean {
    // 24/7 instruments have no close: their positions carry into the next day
    if (!this.intraday || this.flattenBeforeCloseMs === null || !this.hasSessionClose) return false;
    if (dayEndsAt !== undefined && t >= dayEndsAt - this.flattenBeforeCloseMs) return true;
    let s = this.nyseSession;
    if (s === undefined || s === null || t <= s.openMs || t > s.closeMs)
      s = this.nyseSession = NYSE.sessionFor(t - 1);
    return s !== null && t > s.openMs && t <= s.closeMs && t >= s.closeMs - this.flattenBeforeCloseMs;
  }

  private rollDay(t: number): void {
    const date = nyDate(t - 1);
    const prev = this.dayKey;
    this.dayKey = date;
    this.nextDayAt = nyWallToUtc(addDays(date, 1), 0, 0) + 1;
    if (prev === '') return;
    this.book.rollDay();
    this.dayStart = this.equityNow;
    if (prev.slice(0, 7) !== date.slice(0, 7)) this.monthStart = this.equityNow;
    const q = (d: string) => `${d.slice(0, 4)}-${Math.floor((Number(d.slice(5, 7)) - 1) / 3)}`;
    if (q(prev) !== q(date)) this.quarterStart = this.equityNow;
    if (this.mode === 'HALTED') this.setMode('ACTIVE', 'new trading day', t);
    this.liquidated = false;
  }

  private observePositions(account: Account, t: number): void {
    const hint = account.changedSymbols?.();
    if (hint) {
      for (const s of hint) this.book.observe(s, account.position(s)?.qty ?? 0, t);
      return;
    }
    const seen = new Set<string>();
    for (const p of account.positions()) {
      seen.add(p.symbol);
      this.book.observe(p.symbol, p.qty, t);
    }
    for (const s of [...this.book.held()]) if (!seen.has(s)) this.book.observe(s, 0, t);
  }

  private setMode(m: RiskMode, reason: string, t: number): void {
    if (m !== this.mode)
      this.riskModeChanges.push({
        type: 'RiskStateChanged',
        eventId: `risk-${this.riskModeChanges.length + 1}`,
        ts: t,
        receivedTs: t,
        from: this.mode,
        to: m,
        reason,
      });
    this.mode = m;
    this.modeReason = reason;
  }

  /**
   * The crisis rule: while at least `crisisShare` of the symbols are in a crisis regime (src/learning/regime.ts),
   * an otherwise ACTIVE account is REDUCING (exits only). Only for a strategy that declares `regime`.
   */
  private regimeRule(ev: ReturnType<typeof evaluateMode>): ReturnType<typeof evaluateMode> {
    if (!this.regimes || ev.mode !== 'ACTIVE') return ev;
    const crisis = [...this.regimes].filter(([, d]) => d.state === 'crisis').map(([sym]) => sym);
    if (crisis.length === 0 || crisis.length < this.crisisShare * this.regimes.size) return ev;
    return { mode: 'REDUCING', reason: `regime: crisis in ${crisis.sort().join(', ')}`, flatten: false };
  }

  /** Each symbol's regime (empty unless the strategy declares `regime`). */
  regimeStates(): Readonly<Record<string, RegimeState>> {
    const out: Record<string, RegimeState> = {};
    if (this.regimes) for (const [sym, d] of this.regimes) out[sym] = d.state;
    return out;
  }

  private setLimits(limits: RiskLimits): void {
    this.limits = limits;
  }

  /** What the circuit breakers read: equity against the loss anchors, and the volatility ratio. */
  private breakerState(t: number, account: Account): RiskState {
    return {
      mode: this.mode,
      modeReason: this.modeReason,
      now: t,
      equity: cents(account.equity),
      buyingPower: cents(account.buyingPower),
      dayStartEquity: this.dayStart,
      monthStartEquity: this.monthStart,
      quarterStartEquity: this.quarterStart,
      positions: [],
      lastDataTs: this.lastDataTs,
      dayTradesInWindow: 0,
      volatilityRatio: this.vol.ratio(this.isExec),
    };
  }

  /** The risk engine's view: positions at their venue price, working entries, anchors, freshness, PDT, volatility. */
  private riskState(t: number, account: Account, step: StepAccount): RiskState {
    const positions: RiskPosition[] = [];
    for (const p of account.positions())
      positions.push({
        symbol: p.symbol,
        qty: p.qty,
        price: p.lastPrice,
        stopPrice: this.book.stop(p.symbol),
        sector: this.opts.sectors?.[p.symbol],
        correlationGroup: this.opts.correlationGroups?.[p.symbol],
      });
    const pendingEntries: RiskPosition[] = [];
    if (step.hasOpenOrders())
      for (const o of step.openOrders()) {
        if (o.leg) continue;
        const q = account.position(o.symbol)?.qty ?? 0;
        const signed = o.side === 'buy' ? 1 : -1;
        if (q !== 0 && Math.sign(q) !== signed) continue; // reduces the position
        pendingEntries.push({
          symbol: o.symbol,
          qty: signed * (o.qty - o.filledQty),
          price: this.lastPrice(o.symbol) ?? o.limitPrice ?? 0,
          stopPrice: this.book.stop(o.symbol),
          sector: this.opts.sectors?.[o.symbol],
          correlationGroup: this.opts.correlationGroups?.[o.symbol],
        });
      }
    return {
      mode: this.mode,
      modeReason: this.modeReason,
      now: t,
      equity: cents(account.equity),
      buyingPower: cents(account.buyingPower),
      dayStartEquity: this.dayStart,
      monthStartEquity: this.monthStart,
      quarterStartEquity: this.quarterStart,
      positions,
      pendingEntries,
      lastDataTs: this.lastDataTs,
      dayTradesInWindow: this.book.dayTradesInWindow(),
      volatilityRatio: this.vol.ratio(this.isExec),
    };
  }

  // ------------------------------------------------------------------------------------------------ orders

  private submit(
    order: OrderSpec,
    refPrice: number,
    entry: boolean,
    step: StepAccount,
    actions: Action[],
  ): void {
    actions.push({ kind: 'submit', order, refPrice, entry });
    step.add({
      clientOrderId: order.clientOrderId,
      symbol: order.symbol,
      side: order.side,
      qty: order.qty,
      filledQty: 0,
      limitPrice: order.limitPrice ?? null,
      leg: false,
    });
  }

  /** Cancels the symbol's open orders and closes its position at market. */
  private flattenSymbol(
    symbol: string,
    clientOrderId: string,
    reason: string,
    account: Account,
    step: StepAccount,
    actions: Action[],
    cancel = true,
  ): void {
    if (cancel && step.hasOpenOrders(symbol)) {
      actions.push({ kind: 'cancelSymbol', symbol, reason: `flatten: ${reason}` });
      step.cancelSymbol(symbol);
    }
    const p = account.position(symbol);
    if (!p || p.qty === 0) return;
    this.submit(
      {
        clientOrderId,
        symbol,
        side: p.qty > 0 ? 'sell' : 'buy',
        qty: Math.abs(p.qty),
        type: 'market',
        timeInForce: this.instrument(symbol).marketTimeInForce,
        tag: { intent: 'exit', reason },
      },
      p.lastPrice,
      false,
      step,
      actions,
    );
  }

  /** Every position closed (by symbol, reserved sequence numbers: ids independent of the strategy's orders). */
  private flattenAll(
    t: number,
    account: Account,
    step: StepAccount,
    actions: Action[],
    seq: number,
    reason: string,
    cancel = true,
  ): void {
    const held = [...account.positions()].sort((a, b) =>
      a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0,
    );
    for (const p of held)
      this.flattenSymbol(
        p.symbol,
        makeClientOrderId({ session: this.opts.session, barTs: t, symbol: p.symbol, seq }),
        reason,
        account,
        step,
        actions,
        cancel,
      );
  }

  // ------------------------------------------------------------------------------------------------ context

  /** The strategy's view of the step: built once per kernel, read lazily (nothing is computed it does not read). */
  private ctxT = 0;
  private ctxStep: StepAccount | undefined;
  private ctxObject: StrategyContext | undefined;

  private context(t: number, step: StepAccount): StrategyContext {
    this.ctxT = t;
    this.ctxStep = step;
    return (this.ctxObject ??= this.buildContext());
  }

  private buildContext(): StrategyContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- getters and methods of plain objects below
    const k = this;
    const step = () => k.ctxStep!;
    const view = (p: { symbol: string; qty: number; avgPrice: number }): PositionView => ({
      symbol: p.symbol,
      qty: p.qty,
      avgPrice: p.avgPrice,
      openedAt: k.book.openedAt(p.symbol),
    });
    const portfolio: PortfolioView = {
      get equity() {
        return step().equity;
      },
      get cash() {
        return step().cash;
      },
      get buyingPower() {
        return step().buyingPower;
      },
      get peakEquity() {
        return k.peak;
      },
      position(symbol) {
        const p = step().position(symbol);
        return p && p.qty !== 0 ? view(p) : undefined;
      },
      positions() {
        return step().positions().map(view);
      },
      openOrders(symbol) {
        return step()
          .openOrders(symbol)
          .map((o) => o.clientOrderId);
      },
    };
    return {
      get now() {
        return k.ctxT;
      },
      portfolio,
      orders: this.factory,
      size(input) {
        return sizePosition(
          { ...input, equity: step().equity },
          input.symbol ? { ...k.sizing, qtyStep: k.instrument(input.symbol).qtyStep } : k.sizing,
        );
      },
      roundQty(symbol, qty) {
        return roundToStep(qty, k.instrument(symbol).qtyStep);
      },
      ...(this.regimes
        ? {
            regime(symbol: string) {
              return k.regimes!.get(symbol)?.state;
            },
          }
        : {}),
      ...this.calendar,
      random: this.rng,
    };
  }

  // ------------------------------------------------------------------------------------------------ queries

  instrument(symbol: string): InstrumentSpec {
    let i = this.instruments.get(symbol);
    if (!i) this.instruments.set(symbol, (i = instrumentFor(symbol, this.opts.instruments)));
    return i;
  }

  /** The close of the symbol's newest execution bar. */
  lastPrice(symbol: string): number | undefined {
    const s = this.execution.get(symbol);
    return s && s.cursor >= 0 ? s.close[s.cursor] : undefined;
  }

  /** Mean volume of the symbol's last `bars` execution bars (fewer when fewer are visible). */
  avgVolume(symbol: string, bars: number): number | undefined {
    const s = this.execution.get(symbol);
    if (!s || s.cursor < 0) return undefined;
    const from = Math.max(0, s.cursor - bars + 1);
    let sum = 0;
    for (let k = from; k <= s.cursor; k++) sum += s.volume[k]!;
    return sum / (s.cursor - from + 1);
  }

  /** Per symbol, the close time of its newest execution bar. */
  dataTimes(): Readonly<Record<string, number>> {
    return this.lastDataTs;
  }

  get riskMode(): { readonly mode: RiskMode; readonly reason: string } {
    return { mode: this.mode, reason: this.modeReason };
  }

  get peakEquity(): number {
    return this.peak;
  }

  /**
   * What the risk dashboards read after a decision, as fractions of the account's equity: the loss to the stops of
   * the open positions (the engine's open risk, working entries left out), the drawdown from the equity peak, and
   * the loss since the day's start. Reads only; the next decision is unchanged by it.
   */
  riskReadings(account: Account): { openRisk: number; drawdown: number; dayLoss: number } {
    const equity = cents(account.equity);
    const positions: RiskPosition[] = account.positions().map((p) => ({
      symbol: p.symbol,
      qty: p.qty,
      price: p.lastPrice,
      stopPrice: this.book.stop(p.symbol),
    }));
    const open = exposures(positions, this.limits).openRisk;
    return {
      openRisk: equity > 0 ? open / equity : 0,
      drawdown: this.peak > 0 ? Math.max(0, (this.peak - equity) / this.peak) : 0,
      dayLoss: this.dayStart > 0 ? (this.dayStart - equity) / this.dayStart : 0,
    };
  }

  get dayTrades(): { readonly today: number; readonly window: number } {
    return { today: this.book.dayTradesToday(), window: this.book.dayTradesInWindow() };
  }

  volatilityRatio(): number {
    return this.vol.ratio(this.isExec);
  }
}

/**
 * Account money in dollars and cents, as brokers report it (Alpaca's account fields are cents; the simulated
 * broker's ledger is exact): every decision reads the same figure whichever venue reported it.
 */
export function cents(x: number): number {
  return Math.round(x * 100) / 100;
}

function denialOf(t: number, d: GateDenial): Denial {
  return { ts: t, clientOrderId: d.clientOrderId, symbol: d.symbol, rule: d.rule, reason: d.reason };
}
