/**
 * The event-driven backtester: a driver of the trading kernel (src/trading) over stored bars, with the simulated
 * broker as the venue. At each close time ("step") it
 *   1. advances the kernel to the step: the bars that closed become visible (5m/15m/1h/1d are built from 1m bars
 *      as they complete, as in a live session);
 *   2. passes the execution bars that closed to the simulated broker, which fills orders submitted before those
 *      bars started (fills no earlier than the next bar) and marks positions;
 *   3. asks the kernel to decide on the broker's account, and carries out its actions (cancels, orders) at the
 *      step's time, in the kernel's order.
 * A trading session runs the same kernel step for step, so a replayed day sends the same orders (order-list
 * hash). Deterministic for a seed. A strategy that reads data beyond the clock raises LookAheadError and the run
 * stops with `stopped.reason = 'look-ahead'`. With an asynchronous prediction port, use `runBacktestAsync`.
 */
import type { BarColumns, Quote } from '../model/bar';
import { fnv1a64Hex, orderHashLine } from '../model/client-order-id';
import type { Fill, RiskStateChanged, TradingEvent } from '../model/events';
import type { InstrumentOverrides } from '../model/instrument';
import type { OrderSpec, OrderTag } from '../model/order';
import type { Timeframe } from '../model/timeframe';
import { SimBroker, type SimAccountSnapshot } from '../execution/sim-broker';
import type { FillModelConfig } from '../execution/fill-models';
import type { SizingConfig } from '../risk/sizing';
import { riskLimits, type RiskLimits } from '../risk/types';
import { LookAheadError, type Strategy } from '../strategy/types';
import type { Account, AccountOrder, AccountPosition } from '../trading/account';
import { TradingKernel, type Action, type Denial, type StepResult } from '../trading/kernel';
import type { PredictionPort } from '../trading/prediction';

export type { Denial } from '../trading/kernel';

export interface BacktestConfig {
  readonly strategy: Strategy;
  /**
   * Bars per (symbol, timeframe). The finest series of a symbol is its execution series (fills, marks, breakers);
   * strategy timeframes not given are built from its 1m bars.
   */
  readonly series: readonly BarColumns[];
  readonly startingCash?: number;
  readonly seed?: number;
  /** session id used in client order ids */
  readonly session?: string;
  readonly risk?: Partial<RiskLimits>;
  readonly sizing?: Partial<SizingConfig>;
  readonly fill?: Partial<FillModelConfig>;
  readonly marginMultiplier?: number;
  /** quotes per symbol, ts ascending; a quote row is valid from ts + quoteValidAfterMs */
  readonly quotes?: Readonly<Record<string, readonly Quote[]>>;
  readonly quoteValidAfterMs?: number;
  /** where the strategy's predictions come from (a model); none: the strategy's own signals */
  readonly predictions?: PredictionPort;
  readonly sectors?: Readonly<Record<string, string>>;
  readonly correlationGroups?: Readonly<Record<string, string>>;
  readonly instruments?: InstrumentOverrides;
  /** only bars with ts in [from, to) are stepped; earlier bars are history the strategy may read */
  readonly from?: number;
  readonly to?: number;
  /** commands before this instant are dropped: the strategy warms up on [from, tradeFrom) without trading */
  readonly tradeFrom?: number;
  /** intraday strategies are flat this long before the close (kernel default: two execution bars; null: never) */
  readonly flattenBeforeCloseMs?: number | null;
  readonly onProgress?: (done: number, total: number) => void;
  /** keep every fill in the result (off for benchmarks with millions of fills) */
  readonly keepFills?: boolean;
}

export interface TradeRecord {
  readonly symbol: string;
  readonly side: 'long' | 'short';
  readonly entryTs: number;
  readonly exitTs: number;
  readonly qty: number;
  readonly entryPrice: number;
  readonly exitPrice: number;
  /** net dollars: price P&L minus commissions, regulatory fees and borrow */
  readonly pnl: number;
  readonly costs: number;
  readonly equityAtEntry: number;
  readonly returnOnEquity: number;
  readonly timeframe: string;
  readonly tier: string;
  readonly model: string;
  readonly exitReason: string;
}

export interface BacktestResult {
  readonly strategy: string;
  readonly params: Readonly<Record<string, number | string | boolean>>;
  readonly seed: number;
  readonly startingCash: number;
  readonly equityTs: Float64Array;
  readonly equity: Float64Array;
  /** gross exposure / equity per step */
  readonly exposure: Float64Array;
  readonly trades: TradeRecord[];
  readonly fills: Fill[];
  readonly fillCount: number;
  readonly submitted: number;
  readonly denials: Denial[];
  readonly deniedByRule: Readonly<Record<string, number>>;
  readonly rejectedByBroker: number;
  readonly orderHash: string;
  readonly barEvents: number;
  readonly slices: number;
  readonly tradedNotional: number;
  readonly riskModeChanges: RiskStateChanged[];
  readonly finalAccount: SimAccountSnapshot;
  /** positions still open at the end, with their last price */
  readonly openPositions: ReadonlyArray<{
    readonly symbol: string;
    readonly qty: number;
    readonly avgPrice: number;
    readonly lastPrice: number;
  }>;
  readonly stopped?: { readonly reason: 'look-ahead'; readonly message: string; readonly at: number };
  readonly symbols: readonly string[];
  readonly timeframes: readonly Timeframe[];
  /** the prediction port the strategy traded on (undefined: the strategy's own signals) */
  readonly predictions?: string;
}

/** A synchronous backtest (the prediction port, if any, must answer synchronously). */
export function runBacktest(cfg: BacktestConfig): BacktestResult {
  const run = backtestRun(cfg);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
    throw new Error(
      `predictions: port "${cfg.predictions?.name}" answered with a promise; use runBacktestAsync`,
    );
  }
}

/** A backtest whose prediction port may answer asynchronously (awaited inside the kernel's step). */
export async function runBacktestAsync(cfg: BacktestConfig): Promise<BacktestResult> {
  const run = backtestRun(cfg);
  let r = run.next();
  while (!r.done) r = run.next(await r.value);
  return r.value;
}

interface OpenTrade {
  side: 1 | -1;
  entryTs: number;
  qty: number;
  maxQty: number;
  entryNotional: number;
  entryQty: number;
  exitNotional: number;
  exitQty: number;
  gross: number;
  costs: number;
  equityAtEntry: number;
  tag: OrderTag | undefined;
}

class Growable {
  buf: Float64Array;
  n = 0;
  constructor(cap = 1024) {
    this.buf = new Float64Array(cap);
  }
  push(x: number): void {
    if (this.n === this.buf.length) {
      const b = new Float64Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.n++] = x;
  }
  done(): Float64Array {
    return this.buf.slice(0, this.n);
  }
}

/** The backtest as a generator: it yields a step's pending promise (an async model) and is resumed with its result. */
function* backtestRun(cfg: BacktestConfig): Generator<Promise<StepResult>, BacktestResult, StepResult> {
  const strategy = cfg.strategy;
  const startingCash = cfg.startingCash ?? 100_000;
  const seed = cfg.seed ?? 1;
  const limits = riskLimits(cfg.risk);
  const sessionId = cfg.session ?? 'bt';
  const broker = new SimBroker({
    startingCash,
    marginMultiplier: cfg.marginMultiplier ?? 1,
    fill: cfg.fill,
    idPrefix: sessionId,
  });
  const wanted = new Set<Timeframe>(strategy.timeframes);
  const series = cfg.series.map((c) => clip(c, cfg.to));
  // a symbol's finest series executes; other series the strategy does not read are not needed
  const finest = new Map<string, BarColumns>();
  for (const c of series) {
    const f = finest.get(c.symbol);
    if (!f || rank(c.timeframe) < rank(f.timeframe)) finest.set(c.symbol, c);
  }
  const given = series.filter((c) => wanted.has(c.timeframe) || finest.get(c.symbol) === c);
  if (given.length === 0)
    throw new RangeError(
      `series: none given for the strategy's timeframes (${strategy.timeframes.join(', ')})`,
    );
  for (const c of given)
    for (let k = 1; k < c.ts.length; k++)
      if (!(c.ts[k]! > c.ts[k - 1]!))
        throw new RangeError(`series ${c.symbol} ${c.timeframe}: ts must be strictly ascending (index ${k})`);

  const kernel = new TradingKernel(
    {
      strategy,
      session: sessionId,
      seed,
      limits,
      sizing: cfg.sizing,
      predictions: cfg.predictions,
      sectors: cfg.sectors,
      correlationGroups: cfg.correlationGroups,
      start: { equity: startingCash },
      flattenBeforeCloseMs: cfg.flattenBeforeCloseMs,
      tradeFrom: cfg.tradeFrom,
      instruments: cfg.instruments,
    },
    given.map((c) => ({ symbol: c.symbol, timeframe: c.timeframe, columns: c })),
  );
  if (cfg.from !== undefined) kernel.seek(cfg.from);
  let total = 0;
  for (const s of kernel.execution.values()) total += s.n - (s.cursor + 1);

  // ---- bookkeeping
  const cap = Math.min(1 << 20, total + 16);
  const equityTs = new Growable(cap);
  const equityV = new Growable(cap);
  const exposureV = new Growable(cap);
  const fills: Fill[] = [];
  let fillCount = 0;
  const trades: TradeRecord[] = [];
  const openTrades = new Map<string, OpenTrade>();
  const denials: Denial[] = [];
  const deniedByRule: Record<string, number> = {};
  const hashLines: string[] = [];
  const changed = new Set<string>();
  let submitted = 0;
  let rejectedByBroker = 0;
  let tradedNotional = 0;
  let stopped: BacktestResult['stopped'];
  let barEvents = 0;
  let slices = 0;
  let equityNow = startingCash;

  const onEvents = (events: readonly TradingEvent[]) => {
    for (const e of events) {
      if (e.type === 'OrderFilled' || e.type === 'OrderPartiallyFilled') {
        const f = e.fill;
        fillCount++;
        if (cfg.keepFills !== false) fills.push(f);
        tradedNotional += f.qty * f.price;
        changed.add(f.symbol);
        trackTrade(f, e.positionQty);
      } else if (e.type === 'OrderRejected') {
        rejectedByBroker++;
      } else if (e.type === 'BorrowFeeCharged') {
        const t = openTrades.get(e.symbol);
        if (t) t.costs += e.amount;
      }
    }
  };

  /** Round trips for the report, from fills (P&L attribution needs each fill's tag and costs). */
  const trackTrade = (f: Fill, after: number) => {
    const signed = f.side === 'buy' ? f.qty : -f.qty;
    const before = after - signed;
    const cost = f.commission + f.regulatoryFees;
    let t = openTrades.get(f.symbol);
    let remaining = f.qty;
    if (t && before !== 0 && Math.sign(signed) !== Math.sign(before)) {
      const closing = Math.min(Math.abs(before), f.qty);
      const share = closing / f.qty;
      t.exitNotional += closing * f.price;
      t.exitQty += closing;
      t.gross += t.side * (f.price - t.entryNotional / t.entryQty) * closing;
      t.costs += cost * share;
      t.qty -= closing;
      remaining -= closing;
      if (t.qty <= 1e-9) {
        const pnl = t.gross - t.costs;
        trades.push({
          symbol: f.symbol,
          side: t.side === 1 ? 'long' : 'short',
          entryTs: t.entryTs,
          exitTs: f.ts,
          qty: t.maxQty,
          entryPrice: t.entryNotional / t.entryQty,
          exitPrice: t.exitNotional / t.exitQty,
          pnl,
          costs: t.costs,
          equityAtEntry: t.equityAtEntry,
          returnOnEquity: pnl / t.equityAtEntry,
          timeframe: t.tag?.timeframe ?? 'n/a',
          tier: t.tag?.tier !== undefined ? `tier ${t.tag.tier}` : 'n/a',
          model: t.tag?.model ?? 'n/a',
          exitReason: f.tag?.reason ?? 'exit',
        });
        openTrades.delete(f.symbol);
        t = undefined;
      }
      if (remaining <= 1e-9) return;
    }
    if (!t) {
      t = {
        side: signed > 0 ? 1 : -1,
        entryTs: f.ts,
        qty: 0,
        maxQty: 0,
        entryNotional: 0,
        entryQty: 0,
        exitNotional: 0,
        exitQty: 0,
        gross: 0,
        costs: 0,
        equityAtEntry: equityNow,
        tag: f.tag,
      };
      openTrades.set(f.symbol, t);
    }
    t.qty += remaining;
    t.maxQty = Math.max(t.maxQty, t.qty);
    t.entryNotional += remaining * f.price;
    t.entryQty += remaining;
    t.costs += cost * (remaining / f.qty);
  };

  const account = simBrokerAccount(broker, changed);

  const submit = (spec: OrderSpec, now: number) => {
    const out = broker.submit(spec, now);
    if (!out.alreadyExisted) {
      submitted++;
      hashLines.push(orderHashLine(spec));
    }
    onEvents(out.events);
  };

  const apply = (actions: readonly Action[], now: number) => {
    for (const a of actions) {
      if (a.kind === 'submit') submit(a.order, now);
      else if (a.kind === 'cancel') {
        const o = broker.getOrderByClientId(a.clientOrderId);
        if (o && (o.status === 'new' || o.status === 'accepted' || o.status === 'partially_filled'))
          onEvents(broker.cancel(o.id, now, a.reason));
      } else if (a.kind === 'cancelSymbol') {
        // parents first (their legs go with them), then legs left working on their own
        for (const pass of [false, true])
          for (const o of broker.listOrders('open', [a.symbol]))
            if (Boolean(o.parentId) === pass) onEvents(broker.cancel(o.id, now, a.reason));
      } else onEvents(broker.cancelAll(now));
    }
  };

  const record = (r: StepResult) => {
    for (const d of r.denials) {
      denials.push(d);
      deniedByRule[d.rule] = (deniedByRule[d.rule] ?? 0) + 1;
    }
  };

  // ---- main loop
  const quoteCursor = new Map<string, number>();
  const quoteDelay = cfg.quoteValidAfterMs ?? 60_000;
  let progressAt = 65_536;
  let T = 0;
  try {
    for (;;) {
      T = kernel.nextStep();
      if (T === Infinity) break;
      slices++;
      for (const { series: s, index: k } of kernel.advance(T)) {
        const barTs = s.ts[k]!;
        if (cfg.quotes) feedQuotes(cfg.quotes, s.symbol, barTs, quoteDelay, quoteCursor, broker);
        const ev = broker.processBar(
          s.symbol,
          barTs,
          s.tfMs,
          s.open[k]!,
          s.high[k]!,
          s.low[k]!,
          s.close[k]!,
          s.volume[k]!,
        );
        if (ev.length > 0) onEvents(ev);
        barEvents++;
      }
      equityNow = broker.equity();
      let step = kernel.decide(T, account);
      if (step instanceof Promise) step = yield step;
      changed.clear();
      record(step);
      if (step.actions.length > 0) apply(step.actions, T);
      if (cfg.tradeFrom === undefined || T >= cfg.tradeFrom) {
        equityTs.push(T);
        equityV.push(equityNow);
        exposureV.push(equityNow > 0 ? broker.grossExposure() / equityNow : 0);
      }
      if (barEvents >= progressAt && cfg.onProgress) {
        cfg.onProgress(barEvents, total);
        progressAt = barEvents + 65_536;
      }
    }
  } catch (e) {
    if (!(e instanceof LookAheadError)) throw e;
    stopped = { reason: 'look-ahead', message: e.message, at: T };
  }
  cfg.onProgress?.(barEvents, total);

  return {
    strategy: strategy.name,
    params: strategy.params ?? {},
    seed,
    startingCash,
    equityTs: equityTs.done(),
    equity: equityV.done(),
    exposure: exposureV.done(),
    trades,
    fills,
    fillCount,
    submitted,
    denials,
    deniedByRule,
    rejectedByBroker,
    orderHash: fnv1a64Hex(hashLines.join('\n')),
    barEvents,
    slices,
    tradedNotional,
    riskModeChanges: kernel.riskModeChanges,
    finalAccount: broker.account(),
    openPositions: broker
      .positions()
      .filter((p) => p.qty !== 0)
      .map((p) => ({ symbol: p.symbol, qty: p.qty, avgPrice: p.avgPrice, lastPrice: p.lastPrice })),
    stopped,
    symbols: kernel.symbols,
    timeframes: [...new Set(kernel.feed.symbols().flatMap((s) => kernel.feed.timeframes(s)))],
    ...(cfg.predictions ? { predictions: cfg.predictions.name } : {}),
  };
}

/** The simulated broker as the kernel's account: read lazily, nothing copied per step. */
function simBrokerAccount(broker: SimBroker, changed: ReadonlySet<string>): Account {
  const position = (symbol: string): AccountPosition | undefined => {
    const p = broker.position(symbol);
    return p && p.qty !== 0
      ? { symbol, qty: p.qty, avgPrice: p.avgPrice, lastPrice: p.lastPrice }
      : undefined;
  };
  const order = (o: ReturnType<SimBroker['listOrders']>[number]): AccountOrder => ({
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    qty: o.qty,
    filledQty: o.filledQty,
    limitPrice: o.limitPrice ?? null,
    leg: Boolean(o.parentId),
  });
  return {
    get equity() {
      return broker.equity();
    },
    get cash() {
      return broker.cash();
    },
    get buyingPower() {
      return broker.buyingPower();
    },
    position,
    positions: () =>
      broker
        .positions()
        .filter((p) => p.qty !== 0)
        .map((p) => ({ symbol: p.symbol, qty: p.qty, avgPrice: p.avgPrice, lastPrice: p.lastPrice })),
    hasOpenOrders: (symbol) => broker.hasOpenOrders(symbol),
    openOrders: (symbol) =>
      broker.hasOpenOrders(symbol)
        ? broker.listOrders('open', symbol === undefined ? undefined : [symbol]).map(order)
        : [],
    changedSymbols: () => changed,
  };
}

function clip(c: BarColumns, to: number | undefined): BarColumns {
  if (to === undefined) return c;
  let b = c.ts.length;
  while (b > 0 && c.ts[b - 1]! >= to) b--;
  if (b === c.ts.length) return c;
  return {
    symbol: c.symbol,
    timeframe: c.timeframe,
    ts: c.ts.subarray(0, b),
    open: c.open.subarray(0, b),
    high: c.high.subarray(0, b),
    low: c.low.subarray(0, b),
    close: c.close.subarray(0, b),
    volume: c.volume.subarray(0, b),
  };
}

const RANKS: Readonly<Record<Timeframe, number>> = { '1m': 0, '5m': 1, '15m': 2, '1h': 3, '1d': 4 };
function rank(tf: Timeframe): number {
  return RANKS[tf];
}

function feedQuotes(
  quotes: Readonly<Record<string, readonly Quote[]>>,
  symbol: string,
  barTs: number,
  delay: number,
  cursor: Map<string, number>,
  broker: SimBroker,
): void {
  const list = quotes[symbol];
  if (!list) return;
  let i = cursor.get(symbol) ?? 0;
  let last: Quote | undefined;
  while (i < list.length && list[i]!.ts + delay <= barTs) last = list[i++];
  cursor.set(symbol, i);
  // the quote becomes known at ts + delay (a minute quote bar's last quote is only final at its end)
  if (last) broker.onQuote({ ...last, ts: last.ts + delay });
}
