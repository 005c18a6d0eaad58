/**
 * The event-driven backtester. Bars of many symbols and timeframes are merged by close time; at each close
 * time ("slice") it
 *   1. passes every execution-timeframe bar that closed to the simulated broker, which fills orders that
 *      were submitted before that bar started (fills no earlier than the next bar);
 *   2. advances the feed's cursors, so the strategy sees exactly the bars closed by the clock;
 *   3. runs the circuit breakers, then the strategy, then the risk engine on every command, then submits
 *      the approved orders at the clock time.
 * The same Strategy, RiskEngine and SimBroker run in paper trading. Deterministic for a seed (the seed only
 * drives the strategy's PRNG; the engine itself has no randomness). A strategy that reads data beyond the
 * clock raises LookAheadError and the run stops with `stopped.reason = 'look-ahead'`.
 */
import type { BarColumns, Quote } from '../model/bar';
import type { Command, SubmitCommand } from '../model/command';
import { RESERVED_SEQ, fnv1a64Hex, makeClientOrderId, orderHashLine } from '../model/client-order-id';
import type { Fill, RiskStateChanged, TradingEvent } from '../model/events';
import type { OrderSpec, OrderTag } from '../model/order';
import { TIMEFRAME_MS, timeframeRank, type Timeframe } from '../model/timeframe';
import { addDays, nyDate, nyWallToUtc } from '../market/calendar';
import { SimBroker, type SimAccountSnapshot } from '../execution/sim-broker';
import type { FillModelConfig } from '../execution/fill-models';
import { evaluateMode } from '../risk/engine';
import { gateCommands } from '../risk/gate';
import { VolatilityTracker } from '../risk/volatility';
import { isWarmedUp, strategyCalendar } from '../strategy/calendar-context';
import { DEFAULT_SIZING, sizePosition, type SizingConfig, type SizingInput } from '../risk/sizing';
import {
  riskLimits,
  type RiskLimits,
  type RiskMode,
  type RiskPosition,
  type RiskRule,
  type RiskState,
} from '../risk/types';
import { DeterministicOrderFactory } from '../strategy/order-factory';
import {
  assertStrategyCompatible,
  LookAheadError,
  type PortfolioView,
  type PositionView,
  type PredictionSet,
  type Strategy,
  type StrategyContext,
} from '../strategy/types';
import { ClockedBarFeed, type FeedSeries } from './feed';
import { mulberry32 } from '../model/random';

export interface BacktestConfig {
  readonly strategy: Strategy;
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
  /** model inference hook: predictions for this slice (called after the feed advanced) */
  readonly predict?: (feed: ClockedBarFeed, now: number) => PredictionSet | undefined;
  readonly sectors?: Readonly<Record<string, string>>;
  readonly correlationGroups?: Readonly<Record<string, string>>;
  /** only bars with ts in [from, to) are processed */
  readonly from?: number;
  readonly to?: number;
  /** commands before this instant are dropped: the strategy warms up on [from, tradeFrom) without trading */
  readonly tradeFrom?: number;
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

export interface Denial {
  readonly ts: number;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly rule: RiskRule;
  readonly reason: string;
}

export interface BacktestResult {
  readonly strategy: string;
  readonly params: Readonly<Record<string, number | string | boolean>>;
  readonly seed: number;
  readonly startingCash: number;
  readonly equityTs: Float64Array;
  readonly equity: Float64Array;
  /** gross exposure / equity per slice */
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
  readonly stopped?: { readonly reason: 'look-ahead'; readonly message: string; readonly at: number };
  readonly symbols: readonly string[];
  readonly timeframes: readonly Timeframe[];
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
  exitReason: string;
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

export function runBacktest(cfg: BacktestConfig): BacktestResult {
  const strategy = cfg.strategy;
  assertStrategyCompatible(strategy);
  const startingCash = cfg.startingCash ?? 100_000;
  const seed = cfg.seed ?? 1;
  const limits = riskLimits(cfg.risk);
  const sizing: SizingConfig = {
    ...DEFAULT_SIZING,
    maxPositionFraction: limits.maxPositionFraction,
    fractional: cfg.fill?.fractional ?? false,
    ...cfg.sizing,
  };
  const broker = new SimBroker({
    startingCash,
    marginMultiplier: cfg.marginMultiplier ?? 1,
    fill: cfg.fill,
    idPrefix: cfg.session ?? 'bt',
  });
  const rng = mulberry32(seed);
  const sessionId = cfg.session ?? 'bt';
  const factory = new DeterministicOrderFactory(sessionId);

  // ---- series: the strategy's timeframes; the finest per symbol drives executions
  const wanted = new Set<Timeframe>(strategy.timeframes);
  const feedSeries: FeedSeries[] = [];
  for (const c of cfg.series) {
    if (!wanted.has(c.timeframe)) continue;
    feedSeries.push({
      symbol: c.symbol,
      timeframe: c.timeframe,
      tfMs: TIMEFRAME_MS[c.timeframe],
      cols: c,
      cursor: -1,
    });
  }
  if (feedSeries.length === 0)
    throw new RangeError(`series: none in the strategy's timeframes (${strategy.timeframes.join(', ')})`);
  const finest = new Map<string, Timeframe>();
  for (const s of feedSeries) {
    const f = finest.get(s.symbol);
    if (f === undefined || timeframeRank(s.timeframe) < timeframeRank(f)) finest.set(s.symbol, s.timeframe);
  }
  const S = feedSeries.length;
  const isExec = new Uint8Array(S);
  const pos = new Int32Array(S); // next bar index
  const end = new Int32Array(S);
  for (let i = 0; i < S; i++) {
    const s = feedSeries[i]!;
    isExec[i] = finest.get(s.symbol) === s.timeframe ? 1 : 0;
    const ts = s.cols.ts;
    let a = 0;
    let b = ts.length;
    if (cfg.from !== undefined) while (a < b && ts[a]! < cfg.from) a++;
    if (cfg.to !== undefined) while (b > a && ts[b - 1]! >= cfg.to) b--;
    // bars before `from` are history the strategy may see (warm-up) but they are not traded on
    pos[i] = 0;
    end[i] = b;
    s.cursor = -1;
    if (a > 0) {
      s.cursor = a - 1;
      pos[i] = a;
    }
    for (let k = a + 1; k < b; k++)
      if (!(ts[k]! > ts[k - 1]!))
        throw new RangeError(`series ${s.symbol} ${s.timeframe}: ts must be strictly ascending (index ${k})`);
  }
  const feed = new ClockedBarFeed(feedSeries);
  let total = 0;
  for (let i = 0; i < S; i++) total += end[i]! - pos[i]!;

  // ---- quotes
  const quoteCursor = new Map<string, number>();
  const quoteDelay = cfg.quoteValidAfterMs ?? 60_000;

  // ---- bookkeeping
  const equityTs = new Growable(Math.min(1 << 20, total + 16));
  const equityV = new Growable(Math.min(1 << 20, total + 16));
  const exposureV = new Growable(Math.min(1 << 20, total + 16));
  const fills: Fill[] = [];
  let fillCount = 0;
  const trades: TradeRecord[] = [];
  const openTrades = new Map<string, OpenTrade>();
  const denials: Denial[] = [];
  const deniedByRule: Record<string, number> = {};
  const hashLines: string[] = [];
  const riskStops = new Map<string, number>();
  const lastDataTs: Record<string, number> = {};
  const modeChanges: RiskStateChanged[] = [];
  const exitReasons = new Map<string, string>();
  let submitted = 0;
  let rejectedByBroker = 0;
  let tradedNotional = 0;
  let mode: RiskMode = 'ACTIVE';
  let modeReason = 'start';
  let peakEquity = startingCash;
  let dayStart = startingCash;
  let monthStart = startingCash;
  let quarterStart = startingCash;
  let dayKey = '';
  let nextDayAt = -Infinity;
  let tradingDay = 0;
  const dayTradeDays: number[] = [];
  const openedOnDay = new Map<string, number>();
  // volatility spike detector: fast/slow EWMA of absolute log returns per execution series
  const vol = new VolatilityTracker(S);
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
        trackTrade(f, e.positionQty);
      } else if (e.type === 'OrderRejected') {
        rejectedByBroker++;
      } else if (e.type === 'BorrowFeeCharged') {
        const t = openTrades.get(e.symbol);
        if (t) t.costs += e.amount;
      }
    }
  };

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
          exitReason: exitReasons.get(f.clientOrderId) ?? f.tag?.reason ?? 'exit',
        });
        openTrades.delete(f.symbol);
        const od = openedOnDay.get(f.symbol);
        if (od === tradingDay) dayTradeDays.push(tradingDay);
        openedOnDay.delete(f.symbol);
        riskStops.delete(f.symbol);
        t = undefined;
      }
      if (remaining <= 1e-9) return;
    }
    const side = (signed > 0 ? 1 : -1) as 1 | -1;
    if (!t) {
      t = {
        side,
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
        exitReason: '',
      };
      openTrades.set(f.symbol, t);
      openedOnDay.set(f.symbol, tradingDay);
    }
    t.qty += remaining;
    t.maxQty = Math.max(t.maxQty, t.qty);
    t.entryNotional += remaining * f.price;
    t.entryQty += remaining;
    t.costs += cost * (remaining / f.qty);
  };

  // ---- context given to the strategy
  const portfolio: PortfolioView = {
    get equity() {
      return equityNow;
    },
    get cash() {
      return broker.account().cash;
    },
    get buyingPower() {
      return broker.buyingPower();
    },
    get peakEquity() {
      return peakEquity;
    },
    position(symbol: string): PositionView | undefined {
      const p = broker.position(symbol);
      return p ? { symbol, qty: p.qty, avgPrice: p.avgPrice, openedAt: p.openedAt } : undefined;
    },
    positions(): PositionView[] {
      return broker
        .positions()
        .map((p) => ({ symbol: p.symbol, qty: p.qty, avgPrice: p.avgPrice, openedAt: p.openedAt }));
    },
    openOrders(symbol: string): string[] {
      if (!broker.hasOpenOrders(symbol)) return [];
      return broker.listOrders('open', [symbol]).map((o) => o.clientOrderId);
    },
  };
  const ctx: StrategyContext & { now: number } = {
    now: 0,
    portfolio,
    orders: factory,
    size: (input: Omit<SizingInput, 'equity'>) => sizePosition({ ...input, equity: equityNow }, sizing),
    ...strategyCalendar(),
    random: rng,
  };

  const riskState = (now: number): RiskState => {
    const positions: RiskPosition[] = [];
    for (const p of broker.positions())
      positions.push({
        symbol: p.symbol,
        qty: p.qty,
        price: p.lastPrice,
        stopPrice: riskStops.get(p.symbol),
        sector: cfg.sectors?.[p.symbol],
        correlationGroup: cfg.correlationGroups?.[p.symbol],
      });
    const pending: RiskPosition[] = [];
    if (broker.hasOpenOrders()) {
      for (const o of broker.listOrders('open')) {
        if (o.parentId || o.tag?.intent === 'exit') continue;
        const q = broker.positionQty(o.symbol);
        const signed = o.side === 'buy' ? 1 : -1;
        if (q !== 0 && Math.sign(q) !== signed) continue;
        const px = broker.lastPrice(o.symbol) ?? o.limitPrice ?? 0;
        pending.push({
          symbol: o.symbol,
          qty: signed * (o.qty - o.filledQty),
          price: px,
          stopPrice: riskStops.get(o.symbol),
          sector: cfg.sectors?.[o.symbol],
          correlationGroup: cfg.correlationGroups?.[o.symbol],
        });
      }
    }
    let dayTrades = 0;
    for (const d of dayTradeDays) if (d > tradingDay - 5) dayTrades++;
    return {
      mode,
      modeReason,
      now,
      equity: equityNow,
      buyingPower: broker.buyingPower(),
      dayStartEquity: dayStart,
      monthStartEquity: monthStart,
      quarterStartEquity: quarterStart,
      positions,
      pendingEntries: pending,
      lastDataTs,
      dayTradesInWindow: dayTrades,
      volatilityRatio: volRatio(),
    };
  };

  const volRatio = (): number => vol.ratio(isExec);

  const submitSpec = (spec: OrderSpec, now: number) => {
    const out = broker.submit(spec, now);
    if (!out.alreadyExisted) {
      submitted++;
      hashLines.push(orderHashLine(spec));
    }
    onEvents(out.events);
  };

  const flattenSymbol = (symbol: string, clientOrderId: string, reason: string, now: number) => {
    if (broker.hasOpenOrders(symbol))
      for (const o of broker.listOrders('open', [symbol]))
        if (!o.parentId) onEvents(broker.cancel(o.id, now, `flatten: ${reason}`));
    const q = broker.positionQty(symbol);
    if (q === 0) return;
    exitReasons.set(clientOrderId, reason);
    submitSpec(
      {
        clientOrderId,
        symbol,
        side: q > 0 ? 'sell' : 'buy',
        qty: Math.abs(q),
        type: 'market',
        timeInForce: 'gtc',
        tag: { intent: 'exit', reason },
      },
      now,
    );
  };

  const handle = (cmds: readonly Command[], now: number) => {
    if (cmds.length === 0) return;
    const tradable = cmds.filter(
      (c) =>
        c.kind !== 'submit' ||
        (isWarmedUp(feed, c.order.symbol, strategy.warmUpBars) &&
          (cfg.tradeFrom === undefined || now >= cfg.tradeFrom)),
    );
    const gate = gateCommands(tradable, riskState(now), limits);
    for (const d of gate.denied) {
      denials.push({
        ts: now,
        clientOrderId: d.clientOrderId,
        symbol: d.symbol,
        rule: d.rule,
        reason: d.reason,
      });
      deniedByRule[d.rule] = (deniedByRule[d.rule] ?? 0) + 1;
    }
    for (const { command: c, riskReducing } of gate.approved) {
      if (c.kind === 'cancel') {
        const o = broker.getOrderByClientId(c.clientOrderId);
        if (o && (o.status === 'new' || o.status === 'accepted' || o.status === 'partially_filled'))
          onEvents(broker.cancel(o.id, now));
      } else if (c.kind === 'flatten') {
        flattenSymbol(c.symbol, c.clientOrderId, c.reason, now);
      } else {
        submitApproved(c, now, riskReducing);
      }
    }
  };

  const submitApproved = (c: SubmitCommand, now: number, reducing: boolean) => {
    if (!reducing && c.riskStopPrice !== undefined) riskStops.set(c.order.symbol, c.riskStopPrice);
    submitSpec(c.order, now);
  };

  const rollDay = (now: number) => {
    const date = nyDate(now - 1);
    if (date === dayKey) return;
    const prev = dayKey;
    dayKey = date;
    nextDayAt = nyWallToUtc(addDays(date, 1), 0, 0) + 1;
    tradingDay++;
    if (prev === '') return;
    dayStart = equityNow;
    if (prev.slice(0, 7) !== date.slice(0, 7)) monthStart = equityNow;
    const q = (d: string) => `${d.slice(0, 4)}-${Math.floor((Number(d.slice(5, 7)) - 1) / 3)}`;
    if (q(prev) !== q(date)) quarterStart = equityNow;
    if (mode === 'HALTED') setMode('ACTIVE', 'new trading day', now);
  };

  const setMode = (m: RiskMode, reason: string, now: number) => {
    if (m === mode) {
      modeReason = reason;
      return;
    }
    modeChanges.push({
      type: 'RiskStateChanged',
      eventId: `risk-${modeChanges.length + 1}`,
      ts: now,
      receivedTs: now,
      from: mode,
      to: m,
      reason,
    });
    mode = m;
    modeReason = reason;
  };

  // ---- main loop
  const refs = feedSeries.map((s) => ({ symbol: s.symbol, timeframe: s.timeframe }));
  const nextClose = new Float64Array(S);
  for (let i = 0; i < S; i++)
    nextClose[i] = pos[i]! < end[i]! ? feedSeries[i]!.cols.ts[pos[i]!]! + feedSeries[i]!.tfMs : Infinity;
  let progressAt = 65_536;
  try {
    for (;;) {
      let T = Infinity;
      for (let i = 0; i < S; i++) if (nextClose[i]! < T) T = nextClose[i]!;
      if (T === Infinity) break;
      slices++;
      if (T >= nextDayAt) rollDay(T);
      const updated = feed.updated;
      updated.length = 0;
      for (let i = 0; i < S; i++) {
        if (nextClose[i] !== T) continue;
        const s = feedSeries[i]!;
        const k = pos[i]!;
        const c = s.cols;
        if (isExec[i]) {
          const barTs = c.ts[k]!;
          if (cfg.quotes) feedQuotes(cfg.quotes, s.symbol, barTs, quoteDelay, quoteCursor, broker);
          const ev = broker.processBar(
            s.symbol,
            barTs,
            s.tfMs,
            c.open[k]!,
            c.high[k]!,
            c.low[k]!,
            c.close[k]!,
            c.volume[k]!,
          );
          if (ev.length > 0) onEvents(ev);
          lastDataTs[s.symbol] = T;
          if (k > 0) vol.update(i, c.close[k - 1]!, c.close[k]!);
        }
        s.cursor = k;
        pos[i] = k + 1;
        nextClose[i] = k + 1 < end[i]! ? c.ts[k + 1]! + s.tfMs : Infinity;
        updated.push(refs[i]!);
        barEvents++;
      }
      feed.now = T;
      ctx.now = T;
      equityNow = broker.equity();
      if (equityNow > peakEquity) peakEquity = equityNow;

      // circuit breakers before the strategy: a halted account only exits
      const ev = evaluateMode(
        {
          mode,
          modeReason,
          now: T,
          equity: equityNow,
          buyingPower: 0,
          dayStartEquity: dayStart,
          monthStartEquity: monthStart,
          quarterStartEquity: quarterStart,
          positions: [],
          lastDataTs,
          dayTradesInWindow: 0,
          volatilityRatio: volRatio(),
        },
        limits,
      );
      if (ev.mode !== mode) setMode(ev.mode, ev.reason, T);
      if (ev.flatten && broker.positionCount() > 0) {
        // Reserved sequence numbers: the ids do not depend on how many orders the strategy sends this bar.
        // By symbol, as the trading session does (not in the broker's internal order).
        const held = broker
          .positions()
          .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
        for (const p of held)
          flattenSymbol(
            p.symbol,
            makeClientOrderId({ session: sessionId, barTs: T, symbol: p.symbol, seq: RESERVED_SEQ.breaker }),
            `breaker: ${ev.reason}`,
            T,
          );
      }

      factory.setBar(T);
      const preds = cfg.predict ? cfg.predict(feed, T) : undefined;
      const cmds = strategy.onBar(ctx, feed, preds);
      handle(cmds, T);

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
    stopped = { reason: 'look-ahead', message: e.message, at: feed.now };
  }
  cfg.onProgress?.(barEvents, total);

  const symbols = [...new Set(feedSeries.map((s) => s.symbol))];
  const timeframes = [...new Set(feedSeries.map((s) => s.timeframe))];
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
    riskModeChanges: modeChanges,
    finalAccount: broker.account(),
    stopped,
    symbols,
    timeframes,
  };
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
