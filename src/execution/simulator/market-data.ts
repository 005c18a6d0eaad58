/**
 * The simulator's Alpaca market-data side, over one stored day on the simulator's clock:
 * - REST history (`/v2/stocks/bars|quotes|trades`, per symbol or multi-symbol, `…/latest`) with Alpaca's
 *   shapes and paging (`limit`, `next_page_token`, `sort`); a bar is visible once the clock has passed its
 *   close, a quote or trade once the clock has passed its time;
 * - the market-data WebSocket (`/v2/{feed}`) as Alpaca's protocol has it and the official SDK speaks it:
 *   `connected`, `auth` → `authenticated` (402 and close on bad credentials), `subscribe`/`unsubscribe` for
 *   bars, quotes and trades (`*` for all), then `b`/`q`/`t` frames as the clock publishes them. msgpack when
 *   the client asks for it (the SDK sends `Content-Type: application/msgpack`) or speaks it, JSON otherwise;
 * - `dropStreams()` for fault tests: every market-data socket is cut and the clients must reconnect.
 */
import type { IncomingMessage } from 'node:http';
import { decode as msgpackDecode, encode as msgpackEncode } from '@msgpack/msgpack';
import type { WebSocket } from 'ws';
import type { Bar, Quote } from '../../model/bar';
import type { Timeframe } from '../../model/timeframe';
import { aggregateBars, barCloseMs } from '../../market/aggregate';
import { nyDate, nyWallToUtc } from '../../market/calendar';
import type { TradePrint } from '../../data/tick-store';
import type { BarReplay } from './replay';

/** What a route handler answers (the server's RouteResult). */
export interface SimRouteResult {
  readonly status: number;
  readonly body?: unknown;
}
export type SimRouteHandler = (
  params: Record<string, string>,
  query: URLSearchParams,
  body: unknown,
) => SimRouteResult;

export interface SimMarketDataOptions {
  readonly replay: BarReplay;
  readonly quotes?: readonly Quote[];
  readonly trades?: readonly TradePrint[];
  /** Alpaca's credential check (the server's). */
  readonly authorized: (key: unknown, secret: unknown) => boolean;
}

interface Subscriber {
  readonly ws: WebSocket;
  binary: boolean;
  authed: boolean;
  readonly bars: Set<string>;
  readonly quotes: Set<string>;
  readonly trades: Set<string>;
  pending: Array<Record<string, unknown> & { t: Date }>;
}

const TIMEFRAMES: Record<string, Timeframe> = {
  '1Min': '1m',
  '1T': '1m',
  '5Min': '5m',
  '5T': '5m',
  '15Min': '15m',
  '15T': '15m',
  '1Hour': '1h',
  '1H': '1h',
  '1Day': '1d',
  '1D': '1d',
};
const MAX_LIMIT = 10_000;
const ok = (body: unknown): SimRouteResult => ({ status: 200, body });
const unprocessable = (message: string): SimRouteResult => ({
  status: 422,
  body: { code: 42210000, message },
});
const byTs = <T extends { ts: number }>(a: T, b: T) => a.ts - b.ts;

function bySymbol<T extends { symbol: string; ts: number }>(rows: readonly T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    let l = m.get(r.symbol);
    if (!l) m.set(r.symbol, (l = []));
    l.push(r);
  }
  for (const l of m.values()) l.sort(byTs);
  return m;
}

export class SimMarketData {
  private readonly replay: BarReplay;
  private readonly quotes: Quote[];
  private readonly trades: TradePrint[];
  private readonly quotesBySymbol: Map<string, Quote[]>;
  private readonly tradesBySymbol: Map<string, TradePrint[]>;
  private quoteCursor = 0;
  private tradeCursor = 0;
  private readonly subscribers = new Set<Subscriber>();
  readonly stats = { connects: 0, authenticated: 0, subscribes: 0, dropped: 0, frames: 0 };

  constructor(private readonly opts: SimMarketDataOptions) {
    this.replay = opts.replay;
    this.quotes = [...(opts.quotes ?? [])].sort(byTs);
    this.trades = [...(opts.trades ?? [])].sort(byTs);
    this.quotesBySymbol = bySymbol(this.quotes);
    this.tradesBySymbol = bySymbol(this.trades);
    this.replay.onBar((bar) => this.queue('bars', bar.symbol, barFrame(bar)));
    const ticks = this.quotes.length || this.trades.length ? 20 : undefined;
    this.replay.onTick((now) => this.tick(now), ticks);
  }

  /** Open market-data sockets now. */
  get connections(): number {
    return this.subscribers.size;
  }

  /** Cuts every market-data socket (a dropped-connection fault); returns how many. */
  dropStreams(): number {
    const n = this.subscribers.size;
    for (const s of this.subscribers) s.ws.terminate();
    this.subscribers.clear();
    this.stats.dropped += n;
    return n;
  }

  // ---- REST ---------------------------------------------------------------------------------------------
  routes(add: (method: string, pattern: string, handler: SimRouteHandler) => void): void {
    add('GET', '/v2/stocks/bars/latest', (_p, q) => {
      const out: Record<string, unknown> = {};
      for (const s of symbolsOf(q)) {
        const b = this.replay.latest(s);
        if (b) out[s] = barWire(b);
      }
      return ok({ bars: out });
    });
    add('GET', '/v2/stocks/quotes/latest', (_p, q) => {
      const out: Record<string, unknown> = {};
      for (const s of symbolsOf(q)) {
        const x = lastVisible(this.quotesBySymbol.get(s), this.replay.now());
        if (x) out[s] = quoteWire(x);
      }
      return ok({ quotes: out });
    });
    add('GET', '/v2/stocks/trades/latest', (_p, q) => {
      const out: Record<string, unknown> = {};
      for (const s of symbolsOf(q)) {
        const x = lastVisible(this.tradesBySymbol.get(s), this.replay.now());
        if (x) out[s] = tradeWire(x);
      }
      return ok({ trades: out });
    });
    add('GET', '/v2/stocks/bars', (_p, q) => this.page('bars', symbolsOf(q), q, true));
    add('GET', '/v2/stocks/:symbol/bars', (p, q) => this.page('bars', [p.symbol!], q, false));
    add('GET', '/v2/stocks/quotes', (_p, q) => this.page('quotes', symbolsOf(q), q, true));
    add('GET', '/v2/stocks/:symbol/quotes', (p, q) => this.page('quotes', [p.symbol!], q, false));
    add('GET', '/v2/stocks/trades', (_p, q) => this.page('trades', symbolsOf(q), q, true));
    add('GET', '/v2/stocks/:symbol/trades', (p, q) => this.page('trades', [p.symbol!], q, false));
  }

  /** One page of a history request, ordered by symbol then time (Alpaca's order), from the page token on. */
  private page(
    kind: 'bars' | 'quotes' | 'trades',
    symbols: readonly string[],
    q: URLSearchParams,
    multi: boolean,
  ): SimRouteResult {
    if (!symbols.length) return unprocessable('symbols: at least one symbol is required');
    const start = q.get('start') ? Date.parse(q.get('start')!) : -Infinity;
    const end = q.get('end') ? Date.parse(q.get('end')!) : Infinity;
    if (Number.isNaN(start)) return unprocessable(`start: "${q.get('start')}" is not an RFC-3339 time`);
    if (Number.isNaN(end)) return unprocessable(`end: "${q.get('end')}" is not an RFC-3339 time`);
    const limit = q.get('limit') ? Number(q.get('limit')) : 1_000;
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIMIT))
      return unprocessable(`limit: must be an integer in 1..${MAX_LIMIT}`);
    const desc = q.get('sort') === 'desc';
    let tf: Timeframe = '1m';
    if (kind === 'bars') {
      const raw = q.get('timeframe') ?? '1Min';
      const t = TIMEFRAMES[raw];
      if (!t) return unprocessable(`timeframe: "${raw}" is not served (1Min, 5Min, 15Min, 1Hour, 1Day)`);
      tf = t;
    }
    let token: { s: number; i: number } = { s: 0, i: 0 };
    const rawToken = q.get('page_token');
    if (rawToken) {
      try {
        token = JSON.parse(Buffer.from(rawToken, 'base64url').toString('utf8')) as typeof token;
      } catch {
        return unprocessable('page_token: not a token this server gave out');
      }
    }
    const sorted = [...symbols].sort();
    const out: Record<string, unknown[]> = {};
    let left = limit;
    let next: string | null = null;
    for (let s = token.s; s < sorted.length; s++) {
      const symbol = sorted[s]!;
      const rows = this.visible(kind, symbol, tf, start, end);
      if (desc) rows.reverse();
      const from = s === token.s ? token.i : 0;
      const take = rows.slice(from, from + left);
      if (take.length) out[symbol] = take.map((r) => wireOf(kind, r));
      left -= take.length;
      if (left === 0) {
        const more = from + take.length < rows.length;
        const nextS = more ? s : s + 1;
        const nextI = more ? from + take.length : 0;
        if (more || sorted.slice(nextS).some((x) => this.visible(kind, x, tf, start, end).length))
          next = Buffer.from(JSON.stringify({ s: nextS, i: nextI })).toString('base64url');
        break;
      }
    }
    if (multi) return ok({ [kind]: out, next_page_token: next });
    return ok({ [kind]: out[sorted[0]!] ?? [], symbol: sorted[0], next_page_token: next });
  }

  /** Rows of one symbol visible now (closed by the clock) in [start, end]. */
  private visible(
    kind: 'bars' | 'quotes' | 'trades',
    symbol: string,
    tf: Timeframe,
    start: number,
    end: number,
  ): Array<Bar | Quote | TradePrint> {
    const now = this.replay.now();
    if (kind === 'bars') {
      const minutes = this.replay.history(symbol);
      const bars =
        tf === '1m' ? minutes : aggregateBars(minutes, tf).filter((b) => barCloseMs(b.ts, tf) <= now);
      return bars.filter((b) => b.ts >= start && b.ts <= end);
    }
    const rows = (kind === 'quotes' ? this.quotesBySymbol : this.tradesBySymbol).get(symbol) ?? [];
    return rows.filter((r) => r.ts >= start && r.ts <= end && r.ts <= now);
  }

  // ---- WebSocket ----------------------------------------------------------------------------------------
  /** Serves one market-data socket (the server routes `/v2/{feed}` upgrades here). */
  socket(ws: WebSocket, req: IncomingMessage): void {
    this.stats.connects++;
    const sub: Subscriber = {
      ws,
      binary: /msgpack/i.test(String(req.headers['content-type'] ?? '')),
      authed: false,
      bars: new Set(),
      quotes: new Set(),
      trades: new Set(),
      pending: [],
    };
    const reply = (msg: unknown[]) => this.send(sub, msg);
    reply([{ T: 'success', msg: 'connected' }]);
    ws.on('message', (raw, isBinary) => {
      let msg: Record<string, unknown>;
      try {
        if (isBinary) {
          sub.binary = true;
          msg = msgpackDecode(raw as Buffer) as Record<string, unknown>;
        } else msg = JSON.parse(String(raw)) as Record<string, unknown>;
      } catch {
        return reply([{ T: 'error', code: 400, msg: 'invalid syntax' }]);
      }
      if (msg.action === 'auth') {
        if (sub.authed) return reply([{ T: 'error', code: 403, msg: 'already authenticated' }]);
        if (!this.opts.authorized(msg.key, msg.secret)) {
          reply([{ T: 'error', code: 402, msg: 'auth failed' }]);
          return ws.close();
        }
        sub.authed = true;
        this.stats.authenticated++;
        this.subscribers.add(sub);
        return reply([{ T: 'success', msg: 'authenticated' }]);
      }
      if (!sub.authed) return reply([{ T: 'error', code: 401, msg: 'not authenticated' }]);
      if (msg.action === 'subscribe' || msg.action === 'unsubscribe') {
        if (msg.action === 'subscribe') this.stats.subscribes++;
        for (const channel of ['bars', 'quotes', 'trades'] as const) {
          const list = msg[channel];
          if (!Array.isArray(list)) continue;
          for (const s of list) {
            if (typeof s !== 'string') continue;
            if (msg.action === 'subscribe') sub[channel].add(s);
            else sub[channel].delete(s);
          }
        }
        return reply([
          {
            T: 'subscription',
            trades: [...sub.trades],
            quotes: [...sub.quotes],
            bars: [...sub.bars],
            updatedBars: [],
            dailyBars: [],
            statuses: [],
            lulds: [],
            corrections: [],
            cancelErrors: [],
          },
        ]);
      }
      return reply([{ T: 'error', code: 400, msg: 'invalid syntax' }]);
    });
    ws.on('close', () => this.subscribers.delete(sub));
  }

  private send(sub: Subscriber, msg: unknown[]): void {
    if (sub.ws.readyState !== sub.ws.OPEN) return;
    this.stats.frames++;
    sub.ws.send(sub.binary ? Buffer.from(msgpackEncode(msg)) : JSON.stringify(msg));
  }

  private queue(
    channel: 'bars' | 'quotes' | 'trades',
    symbol: string,
    frame: Record<string, unknown> & { t: Date },
  ) {
    for (const s of this.subscribers)
      if (s[channel].has(symbol) || s[channel].has('*')) s.pending.push(frame);
  }

  /** The clock moved: publish quotes and trades it has passed, then flush each socket's frames at once. */
  private tick(now: number): void {
    while (this.quoteCursor < this.quotes.length && this.quotes[this.quoteCursor]!.ts <= now) {
      const q = this.quotes[this.quoteCursor++]!;
      this.queue('quotes', q.symbol, { T: 'q', S: q.symbol, ...quoteWire(q), t: new Date(q.ts) });
    }
    while (this.tradeCursor < this.trades.length && this.trades[this.tradeCursor]!.ts <= now) {
      const t = this.trades[this.tradeCursor++]!;
      this.queue('trades', t.symbol, { T: 't', S: t.symbol, ...tradeWire(t), t: new Date(t.ts) });
    }
    for (const s of this.subscribers) {
      if (!s.pending.length) continue;
      const frames = s.pending;
      s.pending = [];
      // Binary frames carry msgpack timestamps (Alpaca's encoding); JSON ones RFC-3339 strings.
      this.send(s, s.binary ? frames : frames.map((f) => ({ ...f, t: f.t.toISOString() })));
    }
  }
}

function symbolsOf(q: URLSearchParams): string[] {
  return (q.get('symbols') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function lastVisible<T extends { ts: number }>(rows: readonly T[] | undefined, now: number): T | undefined {
  if (!rows) return undefined;
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i]!.ts <= now) return rows[i];
  return undefined;
}

/** Alpaca keys daily bars at New York midnight of the session date. */
function barTime(b: Bar): number {
  return b.timeframe === '1d' ? nyWallToUtc(nyDate(b.ts + 12 * 3_600_000), 0) : b.ts;
}

function barWire(b: Bar): Record<string, unknown> {
  return {
    t: new Date(barTime(b)).toISOString(),
    o: b.open,
    h: b.high,
    l: b.low,
    c: b.close,
    v: b.volume,
    n: b.tradeCount ?? 0,
    vw: b.vwap ?? b.close,
  };
}

function barFrame(b: Bar): Record<string, unknown> & { t: Date } {
  return { ...barWire(b), T: 'b', S: b.symbol, t: new Date(b.ts) };
}

function quoteWire(q: Quote): Record<string, unknown> {
  return {
    t: new Date(q.ts),
    bx: 'V',
    bp: Number.isNaN(q.bid) ? 0 : q.bid,
    bs: q.bidSize,
    ax: 'V',
    ap: Number.isNaN(q.ask) ? 0 : q.ask,
    as: q.askSize,
    c: ['R'],
    z: 'C',
  };
}

function tradeWire(t: TradePrint): Record<string, unknown> {
  return {
    t: new Date(t.ts),
    x: t.exchange ?? 'V',
    p: t.price,
    s: t.size,
    i: t.id !== undefined && /^\d+$/.test(t.id) ? Number(t.id) : 0,
    c: [...(t.conditions ?? ['@'])],
    z: t.tape ?? 'C',
  };
}

function wireOf(kind: 'bars' | 'quotes' | 'trades', r: Bar | Quote | TradePrint): Record<string, unknown> {
  if (kind === 'bars') return barWire(r as Bar);
  const w = kind === 'quotes' ? quoteWire(r as Quote) : tradeWire(r as TradePrint);
  return { ...w, t: (w.t as Date).toISOString() };
}
