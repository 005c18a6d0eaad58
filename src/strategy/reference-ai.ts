/**
 * The reference AI strategy.
 *
 * Signals: model predictions per symbol (or, when no model is given, two indicator "models": EMA trend and
 * momentum, so the strategy runs without the models area). Signal tier by consensus confidence:
 * tier 1 ≥ 0.70, tier 2 ≥ 0.60, tier 3 ≥ 0.55, below that no trade.
 * Universe, three tiers, rebuilt every bar: primary (price and dollar-volume filters) → active (unusual
 * relative volume or volatility) → focus (top N by expected dollar profit).
 * Timeframe per ticker: the one whose past predictions scored best out of sample (each prediction is scored
 * only after its horizon has passed, so the choice never uses the future). With `regime` set, the market regime
 * (src/learning/regime.ts, fit on data up to t) narrows the choice first: in a trend the coarser half of the
 * timeframes (let the move run), in a calm or volatile range the finer half (short holds, quick exits); in a
 * crisis the kernel's crisis rule allows exits only.
 * Entry: model consensus + volume confirmation + trend alignment (EMA fast vs slow, price vs slow) +
 * reward/risk ≥ 1.5, sized by the shared sizing rule (risk to the ATR stop, tier band, Kelly from the
 * strategy's own measured win rate and payoff once it has enough trades, drawdown haircut).
 * When the measured Kelly of a tier is ≤ 0 the sizing rule gives no size; the signal is then followed as a
 * zero-size "shadow" position under the same exit rules and its outcome still feeds the tier's statistics.
 * Without that the statistics would freeze at the losing sample that stopped trading, and a tier that lost
 * early could never be traded again (an absorbing state: no size → no trades → no new evidence).
 * Exits: ATR-adaptive stop, take profit scaled by timeframe, trailing stop once in profit, peak detection
 * (giving back a set share of the best open profit), maximum holding time, and flattening intraday positions
 * before the session close.
 */
import type { Bar } from '../model/bar';
import type { Command } from '../model/command';
import { TIMEFRAME_MS, type Timeframe } from '../model/timeframe';
import type { SignalTier } from '../risk/sizing';
import { ATR, EMA, ROCR, SMA, type Indicator } from '../indicators';
import type { RegimeOptions, RegimeState } from '../learning/regime';
import {
  STRATEGY_API_VERSION,
  type BarFeed,
  type Prediction,
  type PredictionSet,
  type Strategy,
  type StrategyContext,
} from './types';

export interface UniverseParams {
  readonly minPrice: number;
  /** average dollar volume per bar */
  readonly minDollarVolume: number;
  readonly activeRelVolume: number;
  /** ATR as a fraction of price that counts as unusually volatile */
  readonly activeAtrFraction: number;
  readonly focusTopN: number;
}

export interface ReferenceAiParams {
  readonly tierConfidence: readonly [number, number, number];
  readonly minConsensus: number;
  readonly volumeConfirm: number;
  readonly emaFast: number;
  readonly emaSlow: number;
  readonly atrPeriod: number;
  readonly volumePeriod: number;
  readonly momentumBars: number;
  readonly stopAtr: number;
  readonly takeProfitAtr: Readonly<Record<Timeframe, number>>;
  readonly trailAtr: number;
  readonly trailActivationAtr: number;
  readonly peakMinProfitAtr: number;
  readonly peakGiveBack: number;
  readonly maxHoldBars: Readonly<Record<Timeframe, number>>;
  readonly minRewardRisk: number;
  readonly flattenBeforeCloseMs: number;
  readonly universe: UniverseParams;
  /** EWMA weight of the newest out-of-sample score when ranking timeframes */
  readonly timeframeScoreAlpha: number;
  readonly allowShort: boolean;
  /** closed trades needed before Kelly sizing replaces the default risk fraction */
  readonly kellyMinTrades: number;
  /**
   * Kelly is measured on each tier's newest `kellyWindow` outcomes (traded and shadow), so the estimate
   * follows the current regime instead of being dominated by an old losing streak.
   */
  readonly kellyWindow: number;
  /**
   * Market regimes (src/learning/regime.ts) for the timeframe choice and the kernel's crisis rule; undefined: off
   * (e.g. `{}` for the default detector).
   */
  readonly regime?: Partial<RegimeOptions>;
}

export const DEFAULT_REFERENCE_PARAMS: ReferenceAiParams = {
  tierConfidence: [0.7, 0.6, 0.55],
  minConsensus: 0.66,
  volumeConfirm: 1.2,
  emaFast: 10,
  emaSlow: 30,
  atrPeriod: 14,
  volumePeriod: 20,
  momentumBars: 10,
  stopAtr: 1.5,
  takeProfitAtr: { '1m': 3, '5m': 3.5, '15m': 4, '1h': 5, '1d': 6 },
  trailAtr: 2,
  trailActivationAtr: 1,
  peakMinProfitAtr: 2,
  peakGiveBack: 0.5,
  maxHoldBars: { '1m': 120, '5m': 78, '15m': 52, '1h': 35, '1d': 20 },
  minRewardRisk: 1.5,
  flattenBeforeCloseMs: 5 * 60_000,
  universe: {
    minPrice: 5,
    minDollarVolume: 50_000,
    activeRelVolume: 1.5,
    activeAtrFraction: 0.01,
    focusTopN: 5,
  },
  timeframeScoreAlpha: 0.05,
  allowShort: true,
  kellyMinTrades: 20,
  kellyWindow: 40,
};

interface SeriesState {
  readonly emaF: EMA;
  readonly emaS: EMA;
  readonly atr: ATR;
  /** mean volume of the last `volumePeriod` bars */
  readonly vol: SMA;
  /** close / close `momentumBars` bars ago */
  readonly mom: ROCR;
  n: number;
  close: number;
  volume: number;
  /** average volume of the bars before the newest one */
  avgVol: number;
  /** out-of-sample score of this timeframe's predictions (EWMA of signed realized return) */
  score: number;
  /** predictions waiting for their horizon: [dueIndex, sign, closeAtPrediction] triples */
  readonly pending: number[];
}

interface ManagedPosition {
  readonly side: 1 | -1;
  readonly timeframe: Timeframe;
  readonly entryRef: number;
  readonly atr: number;
  stop: number;
  readonly takeProfit: number;
  best: number;
  bars: number;
  readonly tier: SignalTier;
  readonly model: string;
}

interface Candidate {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly side: 1 | -1;
  readonly qty: number;
  readonly price: number;
  readonly stop: number;
  readonly takeProfit: number;
  readonly atr: number;
  readonly tier: SignalTier;
  readonly model: string;
  readonly expectedDollars: number;
}

const INTRADAY: ReadonlySet<Timeframe> = new Set(['1m', '5m', '15m', '1h']);

export class ReferenceAiStrategy implements Strategy {
  readonly name = 'reference-ai';
  readonly apiVersion = STRATEGY_API_VERSION;
  readonly warmUpBars: number;
  readonly timeframes: readonly Timeframe[];
  readonly p: ReferenceAiParams;
  readonly regime?: Partial<RegimeOptions>;
  private readonly series = new Map<string, SeriesState>();
  private readonly managed = new Map<string, ManagedPosition>();
  private readonly pendingEntry = new Map<string, { m: ManagedPosition; at: number }>();
  /** signals sized to zero for want of a measured edge, followed without capital to keep measuring it */
  private readonly shadow = new Map<string, ManagedPosition>();
  /** per tier: the newest `kellyWindow` outcomes as returns from the signal price (side-signed), oldest first */
  private readonly outcomes = new Map<SignalTier, number[]>();

  constructor(timeframes: readonly Timeframe[] = ['1m'], params: Partial<ReferenceAiParams> = {}) {
    this.p = {
      ...DEFAULT_REFERENCE_PARAMS,
      ...params,
      universe: { ...DEFAULT_REFERENCE_PARAMS.universe, ...(params.universe ?? {}) },
    };
    if (!(this.p.emaFast < this.p.emaSlow))
      throw new RangeError(`emaFast: ${this.p.emaFast} must be below emaSlow ${this.p.emaSlow}`);
    const [t1, t2, t3] = this.p.tierConfidence;
    if (!(t1 >= t2 && t2 >= t3 && t3 > 0.5))
      throw new RangeError(
        `tierConfidence: [${this.p.tierConfidence.join(', ')}] must be descending and above 0.5`,
      );
    if (!(Number.isInteger(this.p.kellyWindow) && this.p.kellyWindow >= this.p.kellyMinTrades))
      throw new RangeError(
        `kellyWindow: ${this.p.kellyWindow} must be an integer of at least kellyMinTrades ${this.p.kellyMinTrades}`,
      );
    this.timeframes = timeframes;
    if (this.p.regime) this.regime = this.p.regime;
    // a LEAN-style warm-up: the largest of the indicators' (the volume mean excludes the newest bar: +1)
    const probe = this.indicators();
    this.warmUpBars = Math.max(...probe.map((i) => i.warmUpPeriod), this.p.volumePeriod + 1);
  }

  private indicators(): Indicator[] {
    return [
      new EMA(this.p.emaFast),
      new EMA(this.p.emaSlow),
      new ATR(this.p.atrPeriod),
      new SMA(this.p.volumePeriod, (b) => b.volume),
      new ROCR(this.p.momentumBars),
    ];
  }

  get params(): Record<string, number | string | boolean> {
    return {
      stopAtr: this.p.stopAtr,
      trailAtr: this.p.trailAtr,
      minRewardRisk: this.p.minRewardRisk,
      emaFast: this.p.emaFast,
      emaSlow: this.p.emaSlow,
      volumeConfirm: this.p.volumeConfirm,
      focusTopN: this.p.universe.focusTopN,
    };
  }

  onBar(ctx: StrategyContext, bars: BarFeed, predictions?: PredictionSet): Command[] {
    const out: Command[] = [];
    const touched: Array<{ symbol: string; timeframe: Timeframe }> = [];
    for (const u of bars.updated) {
      if (!this.timeframes.includes(u.timeframe)) continue;
      const b = bars.last(u.symbol, u.timeframe)!;
      const s = this.state(u.symbol, u.timeframe);
      this.updateSeries(s, b);
      const preds = this.predictionsFor(u.symbol, u.timeframe, s, predictions);
      this.recordForScoring(s, preds);
      touched.push(u);
    }
    this.adoptFills(ctx);
    this.manageExits(ctx, bars, touched, out);
    this.findEntries(ctx, touched, predictions, out);
    return out;
  }

  // ------------------------------------------------------------------ state

  private key(symbol: string, tf: Timeframe): string {
    return `${symbol}|${tf}`;
  }

  private state(symbol: string, tf: Timeframe): SeriesState {
    const k = this.key(symbol, tf);
    let s = this.series.get(k);
    if (!s) {
      const [emaF, emaS, atr, vol, mom] = this.indicators() as [EMA, EMA, ATR, SMA, ROCR];
      s = { emaF, emaS, atr, vol, mom, n: 0, close: 0, volume: 0, avgVol: 0, score: 0, pending: [] };
      this.series.set(k, s);
    }
    return s;
  }

  private updateSeries(s: SeriesState, b: Bar): void {
    // the volume average excludes the current bar, so "relative volume" compares it to its past
    s.avgVol = s.vol.value;
    s.emaF.update(b);
    s.emaS.update(b);
    s.atr.update(b);
    s.vol.update(b);
    s.mom.update(b);
    s.n++;
    s.close = b.close;
    s.volume = b.volume;
    // score matured predictions (their horizon has passed: realized return is known now)
    const pend = s.pending;
    while (pend.length >= 3 && pend[0]! <= s.n) {
      const sign = pend[1]!;
      const c0 = pend[2]!;
      pend.splice(0, 3);
      const realized = sign * (b.close / c0 - 1);
      s.score += this.p.timeframeScoreAlpha * (realized - s.score);
    }
  }

  private ready(s: SeriesState): boolean {
    return s.n >= this.warmUpBars && s.emaS.isReady && s.atr.isReady && s.vol.isReady && s.mom.isReady;
  }

  private momentum(s: SeriesState): number {
    return s.mom.value - 1;
  }

  /**
   * Model predictions for this timeframe, else all for the symbol (none: no opinion); with no model at all
   * (`predictions` undefined), indicator signals.
   */
  private predictionsFor(
    symbol: string,
    tf: Timeframe,
    s: SeriesState,
    predictions?: PredictionSet,
  ): readonly Prediction[] {
    if (predictions) {
      // a model decides: no prediction for the symbol now is no opinion, never an indicator stand-in
      const given = predictions[symbol] ?? [];
      const sameTf = given.filter((p) => p.timeframe === tf);
      return sameTf.length > 0 ? sameTf : given;
    }
    if (!this.ready(s)) return [];
    const atrFrac = s.atr.value / s.close;
    const trend = (s.emaF.value - s.emaS.value) / s.atr.value;
    const mom = this.momentum(s);
    const momZ = atrFrac > 0 ? mom / (atrFrac * Math.sqrt(this.p.momentumBars)) : 0;
    return [
      {
        model: 'indicator:ema-trend',
        timeframe: tf,
        expectedReturn: Math.sign(trend) * Math.abs(mom),
        confidence: 0.5 + 0.5 * Math.tanh(Math.abs(trend) / 2),
        horizonBars: this.p.momentumBars,
      },
      {
        model: 'indicator:momentum',
        timeframe: tf,
        expectedReturn: mom,
        confidence: 0.5 + 0.5 * Math.tanh(Math.abs(momZ) / 2),
        horizonBars: this.p.momentumBars,
      },
    ];
  }

  private recordForScoring(s: SeriesState, preds: readonly Prediction[]): void {
    if (preds.length === 0 || s.pending.length > 300) return;
    let w = 0;
    for (const p of preds) w += p.expectedReturn * (2 * p.confidence - 1);
    if (w === 0) return;
    const h = Math.max(1, Math.round(preds[0]!.horizonBars));
    s.pending.push(s.n + h, Math.sign(w), s.close);
  }

  private selectedTimeframe(symbol: string, regime?: RegimeState): Timeframe | undefined {
    let best: Timeframe | undefined;
    let bestScore = -Infinity;
    for (const tf of this.regimeTimeframes(symbol, regime)) {
      const s = this.series.get(this.key(symbol, tf));
      if (!s || !this.ready(s)) continue;
      if (s.score > bestScore) {
        best = tf;
        bestScore = s.score;
      }
    }
    return best;
  }

  /** The timeframes the regime prefers among the ready ones (all of them without a regime or a preference). */
  private regimeTimeframes(symbol: string, regime?: RegimeState): readonly Timeframe[] {
    if (!regime || this.timeframes.length < 2) return this.timeframes;
    const ready = this.timeframes.filter((tf) => {
      const s = this.series.get(this.key(symbol, tf));
      return s !== undefined && this.ready(s);
    });
    if (ready.length < 2) return ready;
    const sorted = [...ready].sort((a, b) => TIMEFRAME_MS[a] - TIMEFRAME_MS[b]);
    const half = Math.ceil(sorted.length / 2);
    if (regime === 'trend-up' || regime === 'trend-down') return sorted.slice(sorted.length - half);
    if (regime === 'calm' || regime === 'volatile') return sorted.slice(0, half);
    return sorted;
  }

  // ------------------------------------------------------------------ positions

  private adoptFills(ctx: StrategyContext): void {
    for (const [symbol, pe] of this.pendingEntry) {
      const pos = ctx.portfolio.position(symbol);
      if (pos && Math.sign(pos.qty) === pe.m.side) {
        this.managed.set(symbol, pe.m);
        this.pendingEntry.delete(symbol);
      } else if (ctx.portfolio.openOrders(symbol).length === 0) {
        this.pendingEntry.delete(symbol); // denied, rejected or expired
      }
    }
    for (const symbol of [...this.managed.keys()]) {
      const pos = ctx.portfolio.position(symbol);
      if (!pos || pos.qty === 0) this.managed.delete(symbol);
    }
  }

  private recordOutcome(m: ManagedPosition, exitPrice: number): void {
    let w = this.outcomes.get(m.tier);
    if (!w) this.outcomes.set(m.tier, (w = []));
    w.push(m.side * (exitPrice / m.entryRef - 1));
    if (w.length > this.p.kellyWindow) w.shift();
  }

  /** Win rate and payoff of a tier's recent outcomes, once there are enough of both kinds for Kelly. */
  private kellyInputs(tier: SignalTier): { winRate: number; payoff: number } | undefined {
    const w = this.outcomes.get(tier);
    if (!w || w.length < this.p.kellyMinTrades) return undefined;
    let wins = 0;
    let winSum = 0;
    let lossSum = 0;
    for (const r of w) {
      if (r > 0) {
        wins++;
        winSum += r;
      } else lossSum -= r;
    }
    const losses = w.length - wins;
    if (wins === 0 || losses === 0) return undefined;
    return { winRate: wins / w.length, payoff: winSum / wins / (lossSum / losses) };
  }

  private manageExits(
    ctx: StrategyContext,
    bars: BarFeed,
    touched: ReadonlyArray<{ symbol: string; timeframe: Timeframe }>,
    out: Command[],
  ): void {
    // end of day first: intraday positions never stay overnight
    for (const [symbol, m] of this.managed) {
      if (!INTRADAY.has(m.timeframe) || !this.mustBeFlat(ctx, symbol)) continue;
      const last = bars.last(symbol, m.timeframe);
      this.exit(ctx, symbol, m, last?.close ?? m.entryRef, 'end of day', out);
    }
    for (const [symbol, m] of this.shadow) {
      if (!INTRADAY.has(m.timeframe) || !this.mustBeFlat(ctx, symbol)) continue;
      this.recordOutcome(m, bars.last(symbol, m.timeframe)?.close ?? m.entryRef);
      this.shadow.delete(symbol);
    }
    for (const u of touched) {
      const s = this.series.get(this.key(u.symbol, u.timeframe))!;
      const sh = this.shadow.get(u.symbol);
      if (sh && sh.timeframe === u.timeframe && this.exitReason(sh, s) !== undefined) {
        this.recordOutcome(sh, s.close);
        this.shadow.delete(u.symbol);
      }
      const m = this.managed.get(u.symbol);
      if (!m || m.timeframe !== u.timeframe) continue;
      const reason = this.exitReason(m, s);
      if (reason) this.exit(ctx, u.symbol, m, s.close, reason, out);
    }
  }

  /** Advances a position by the bar that just closed (trail, best gain, age) and says why it exits, if it does. */
  private exitReason(m: ManagedPosition, s: SeriesState): string | undefined {
    const c = s.close;
    m.bars++;
    const atr = Number.isFinite(s.atr.value) ? s.atr.value : m.atr;
    const gain = m.side * (c - m.entryRef);
    m.best = Math.max(m.best, gain);
    if (m.best >= this.p.trailActivationAtr * m.atr) {
      const trail = m.side === 1 ? c - this.p.trailAtr * atr : c + this.p.trailAtr * atr;
      m.stop = m.side === 1 ? Math.max(m.stop, trail) : Math.min(m.stop, trail);
    }
    if (m.side * (c - m.stop) <= 0)
      return m.best >= this.p.trailActivationAtr * m.atr ? 'trailing stop' : 'ATR stop';
    if (m.side * (c - m.takeProfit) >= 0) return 'take profit';
    if (m.best >= this.p.peakMinProfitAtr * m.atr && gain <= (1 - this.p.peakGiveBack) * m.best)
      return 'peak passed';
    if (m.bars >= this.p.maxHoldBars[m.timeframe]) return 'max holding time';
    return undefined;
  }

  /** Intraday positions are flat from `flattenBeforeCloseMs` before the close until the next open (24/7 markets never). */
  private mustBeFlat(ctx: StrategyContext, symbol: string): boolean {
    const t = ctx.now - 1; // the bar that just closed
    if (!ctx.isMarketOpen(symbol, t)) return true;
    const close = ctx.sessionClose(symbol, t);
    return close !== undefined && ctx.now >= close - this.p.flattenBeforeCloseMs;
  }

  private exit(
    ctx: StrategyContext,
    symbol: string,
    m: ManagedPosition,
    price: number,
    reason: string,
    out: Command[],
  ): void {
    this.recordOutcome(m, price);
    this.managed.delete(symbol);
    out.push(ctx.orders.flatten(symbol, reason));
  }

  // ------------------------------------------------------------------ entries

  private findEntries(
    ctx: StrategyContext,
    touched: ReadonlyArray<{ symbol: string; timeframe: Timeframe }>,
    predictions: PredictionSet | undefined,
    out: Command[],
  ): void {
    const cands: Candidate[] = [];
    const u = this.p.universe;
    for (const t of touched) {
      if (this.managed.has(t.symbol) || this.pendingEntry.has(t.symbol) || this.shadow.has(t.symbol))
        continue;
      if (ctx.portfolio.position(t.symbol) || ctx.portfolio.openOrders(t.symbol).length > 0) continue;
      if (this.selectedTimeframe(t.symbol, ctx.regime?.(t.symbol)) !== t.timeframe) continue;
      const s = this.series.get(this.key(t.symbol, t.timeframe))!;
      if (!this.ready(s)) continue;
      if (INTRADAY.has(t.timeframe) && this.mustBeFlat(ctx, t.symbol)) continue; // no intraday entries outside the session or into the close
      const price = s.close;
      const atr = s.atr.value;
      const avgVol = s.avgVol;
      // primary universe: liquidity and price
      if (price < u.minPrice || price * avgVol < u.minDollarVolume) continue;
      // active universe: something unusual is happening
      const relVol = avgVol > 0 ? s.volume / avgVol : 0;
      if (!(relVol >= u.activeRelVolume || atr / price >= u.activeAtrFraction)) continue;
      const preds = this.predictionsFor(t.symbol, t.timeframe, s, predictions);
      if (preds.length === 0) continue;
      let wsum = 0;
      let csum = 0;
      for (const p of preds) {
        wsum += p.expectedReturn * p.confidence;
        csum += p.confidence;
      }
      const dir = Math.sign(wsum) as 1 | -1 | 0;
      if (dir === 0 || (dir === -1 && !this.p.allowShort)) continue;
      let agree = 0;
      let confAgree = 0;
      for (const p of preds) {
        if (Math.sign(p.expectedReturn) === dir) {
          agree++;
          confAgree += p.confidence;
        }
      }
      if (agree / preds.length < this.p.minConsensus) continue;
      const confidence = confAgree / agree;
      const tier = this.tierOf(confidence);
      if (tier === undefined) continue;
      if (!(s.volume >= this.p.volumeConfirm * avgVol)) continue; // volume confirmation
      const trendUp = price > s.emaS.value && s.emaF.value > s.emaS.value;
      const trendDown = price < s.emaS.value && s.emaF.value < s.emaS.value;
      if (dir === 1 ? !trendUp : !trendDown) continue; // trend alignment
      const stopDist = this.p.stopAtr * atr;
      const tpDist = this.p.takeProfitAtr[t.timeframe] * atr;
      const expectedMove = Math.abs(wsum / csum) * price;
      const reward = Math.min(tpDist, expectedMove);
      if (!(stopDist > 0) || reward / stopDist < this.p.minRewardRisk) continue;
      const stop = price - dir * stopDist;
      const kellyInputs = this.kellyInputs(tier) ?? {};
      const [t1, t2, t3] = this.p.tierConfidence;
      const lo = tier === 1 ? t1 : tier === 2 ? t2 : t3;
      const hi = tier === 1 ? 1 : tier === 2 ? t1 : t2;
      const sized = ctx.size({
        symbol: t.symbol,
        price,
        stopPrice: stop,
        tier,
        confidence: (confidence - lo) / (hi - lo),
        drawdown: 1 - ctx.portfolio.equity / ctx.portfolio.peakEquity,
        ...kellyInputs,
      });
      if (sized.binding === 'no_edge') {
        // follow it without capital so the tier's edge keeps being measured (see the header)
        this.shadow.set(t.symbol, {
          side: dir,
          timeframe: t.timeframe,
          entryRef: price,
          atr,
          stop,
          takeProfit: price + dir * tpDist,
          best: 0,
          bars: 0,
          tier,
          model: 'shadow',
        });
        continue;
      }
      if (sized.qty <= 0) continue;
      const model =
        preds.length === 1
          ? preds[0]!.model
          : preds.every((p) => p.model.startsWith('indicator:'))
            ? 'indicators'
            : 'consensus';
      cands.push({
        symbol: t.symbol,
        timeframe: t.timeframe,
        side: dir,
        qty: sized.qty,
        price,
        stop,
        takeProfit: price + dir * tpDist,
        atr,
        tier,
        model,
        expectedDollars: sized.qty * expectedMove * (2 * confidence - 1),
      });
    }
    // focus universe: top N by expected dollar profit (ties broken by symbol for determinism)
    cands.sort((a, b) => b.expectedDollars - a.expectedDollars || (a.symbol < b.symbol ? -1 : 1));
    for (const c of cands.slice(0, u.focusTopN)) {
      const tag = {
        tier: c.tier,
        model: c.model,
        timeframe: c.timeframe,
        intent: 'entry' as const,
        reason: 'consensus+volume+trend',
      };
      const order = ctx.orders.market(c.symbol, c.side === 1 ? 'buy' : 'sell', c.qty, tag);
      out.push(ctx.orders.submit(order, c.price, { riskStopPrice: c.stop }));
      this.pendingEntry.set(c.symbol, {
        m: {
          side: c.side,
          timeframe: c.timeframe,
          entryRef: c.price,
          atr: c.atr,
          stop: c.stop,
          takeProfit: c.takeProfit,
          best: 0,
          bars: 0,
          tier: c.tier,
          model: c.model,
        },
        at: ctx.now,
      });
    }
  }

  private tierOf(confidence: number): SignalTier | undefined {
    const [t1, t2, t3] = this.p.tierConfidence;
    if (confidence >= t1) return 1;
    if (confidence >= t2) return 2;
    if (confidence >= t3) return 3;
    return undefined;
  }
}
