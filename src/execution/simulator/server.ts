import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mulberry32 } from '../../model/random';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Bar, Quote } from '../../model/bar';
import type { TradePrint } from '../../data/tick-store';
import { clockAt, nyOffsetMinutes, tradingDays } from './calendar';
import { ExchangeError, type Exchange } from './exchange';
import { SimBrokerExchange, type SimBrokerExchangeOptions } from './sim-broker-exchange';
import { BarReplay } from './replay';
import { SimMarketData } from './market-data';
import { clockAdminRoutes } from './clock-admin';
import {
  accountToWire,
  alpacaError,
  assetIdFor,
  calendarDayToWire,
  clockToWire,
  orderSpecFromWire,
  orderToWire,
  positionToWire,
  tradeUpdateToWire,
} from './wire';

/**
 * An Alpaca-compatible simulator: the trading REST API (/v2/account, orders, positions, clock, calendar,
 * assets), the market-data REST API (/v2/stocks/.../bars), the trade_updates WebSocket (/stream, JSON,
 * Alpaca's authenticate/listen protocol) and the market-data WebSocket (/v2/{feed}, JSON or msgpack), over a
 * matching engine (the backtester's SimBroker, with its fill and cost models) fed by a BarReplay. The real SDK
 * talks to it over HTTP. Admin routes under /sim/ drive the replay and the fault knobs; they are the
 * simulator's own and never faulted.
 */
export interface SimulatorFaults {
  /** Added to every /v2 response, ms. */
  readonly latencyMs?: number;
  readonly latencyJitterMs?: number;
  /** Fraction (0..1) of /v2 requests answered with 500, 503 or 429. */
  readonly errorRate?: number;
  /** Fraction (0..1) of /v2 requests whose connection is destroyed without a response. */
  readonly dropRate?: number;
  /** Of the failed/dropped requests, the fraction that fail AFTER taking effect (the response is lost). */
  readonly failAfterEffectShare?: number;
  /** PRNG seed so a faulty run is reproducible. */
  readonly seed?: number;
}

export interface SimulatorOptions extends SimBrokerExchangeOptions {
  readonly port?: number;
  readonly host?: string;
  /** When set, requests must carry exactly these credentials (as Alpaca checks them). */
  readonly keyId?: string;
  readonly secretKey?: string;
  readonly bars?: readonly Bar[];
  /** Quotes and trades of the day, published on the market-data stream and REST as the clock passes them. */
  readonly quotes?: readonly Quote[];
  readonly trades?: readonly TradePrint[];
  readonly faults?: SimulatorFaults;
  /** Replay clock start (epoch ms); defaults to one bar before the first bar. */
  readonly startAt?: number;
  /** Runs the simulator's clock at this many simulated seconds per wall second from the start; 0/unset = stepped. */
  readonly speed?: number;
  /** Partial fills: an order fills at most this fraction of a bar's volume (0 = no cap); `fill.maxParticipation`. */
  readonly maxParticipation?: number;
}

export interface SimulatorServer {
  /** Trading API base URL (basePath for the SDK). */
  readonly url: string;
  /** Market-data API base URL. */
  readonly dataUrl: string;
  /** Trading stream URL (trade_updates). */
  readonly streamUrl: string;
  /** Market-data stream URL for a feed. */
  marketDataStreamUrl(feed?: string): string;
  readonly exchange: Exchange;
  readonly replay: BarReplay;
  /** Market-data REST + stream (its stats count connections, drops and frames). */
  readonly marketData: SimMarketData;
  setFaults(f: SimulatorFaults): void;
  /** Closes every open WebSocket (a dropped-connection fault); clients reconnect. Returns how many. */
  dropStreams(): number;
  readonly stats: { requests: number; faulted: number; dropped: number };
  close(): Promise<void>;
}

export async function startSimulatorServer(opts: SimulatorOptions = {}): Promise<SimulatorServer> {
  const bars = opts.bars ?? [];
  const firstTs = bars.length ? Math.min(...bars.map((b) => b.ts)) : Date.now();
  const start = opts.startAt ?? firstTs;
  const exchange: Exchange = new SimBrokerExchange(
    {
      startingCash: opts.startingCash,
      marginMultiplier: opts.marginMultiplier,
      accountId: opts.accountId,
      fill: {
        ...(opts.fill ?? {}),
        ...(opts.maxParticipation !== undefined ? { maxParticipation: opts.maxParticipation } : {}),
      },
    },
    start,
  );
  const replay = new BarReplay(exchange, bars);
  let faults: SimulatorFaults = opts.faults ?? {};
  let rng = mulberry32(faults.seed ?? 1);
  const stats = { requests: 0, faulted: 0, dropped: 0 };
  const tradeSockets = new Set<WebSocket>();

  const authorized = (key: unknown, secret: unknown) =>
    opts.keyId === undefined
      ? Boolean(key) && Boolean(secret)
      : key === opts.keyId && secret === opts.secretKey;

  exchange.onOrderEvent((e) => {
    const data = tradeUpdateToWire(e);
    if (!data) return;
    const frame = JSON.stringify({ stream: 'trade_updates', data });
    for (const ws of tradeSockets) if (ws.readyState === ws.OPEN) ws.send(frame);
  });
  const marketData = new SimMarketData({
    replay,
    quotes: opts.quotes,
    trades: opts.trades,
    authorized,
  });

  const routes = new Router();
  // ---- trading API --------------------------------------------------------------------------------------
  routes.add('GET', '/v2/account', () =>
    ok(accountToWire(exchange.getAccount(), exchange.getPositions(), exchange.now)),
  );
  routes.add('GET', '/v2/orders', (_p, q) => {
    const status = (q.get('status') ?? 'open') as 'open' | 'closed' | 'all';
    const symbols = q.get('symbols')?.split(',').filter(Boolean);
    const limit = Math.min(Number(q.get('limit') ?? 50), 500);
    return ok(
      exchange
        .listOrders(status, symbols)
        .slice(0, limit)
        .map((o) => orderToWire(o)),
    );
  });
  routes.add('POST', '/v2/orders', (_p, _q, body) => {
    let req;
    try {
      req = orderSpecFromWire(body as Record<string, unknown>);
    } catch (e) {
      return err(422, 40010000, (e as Error).message);
    }
    return ok(orderToWire(exchange.submit(req)));
  });
  routes.add('GET', '/v2/orders:by_client_order_id', (_p, q) => {
    const id = q.get('client_order_id');
    if (!id) return err(422, 40010000, 'client_order_id is required');
    const o = exchange.getOrderByClientOrderId(id);
    return o ? ok(orderToWire(o)) : err(404, 40410000, 'order not found');
  });
  routes.add('GET', '/v2/orders/:id', (p) => {
    const o = exchange.getOrder(p.id!);
    return o ? ok(orderToWire(o)) : err(404, 40410000, 'order not found');
  });
  routes.add('DELETE', '/v2/orders/:id', (p) => {
    exchange.cancel(p.id!);
    return { status: 204 };
  });
  routes.add('DELETE', '/v2/orders', () =>
    ok(
      exchange.cancelAll().map((id) => ({ id, status: 200 })),
      207,
    ),
  );
  routes.add('GET', '/v2/positions', () => ok(exchange.getPositions().map((p) => positionToWire(p))));
  routes.add('GET', '/v2/positions/:symbol', (p) => {
    const pos = exchange.getPosition(p.symbol!.toUpperCase());
    return pos ? ok(positionToWire(pos)) : err(404, 40410000, 'position does not exist');
  });
  routes.add('DELETE', '/v2/positions/:symbol', (p) => {
    const o = closePosition(p.symbol!.toUpperCase());
    return o ? ok(o) : err(404, 40410000, 'position does not exist');
  });
  routes.add('DELETE', '/v2/positions', (_p, q) => {
    if (q.get('cancel_orders') === 'true') exchange.cancelAll();
    const out = exchange
      .getPositions()
      .map((pos) => ({ symbol: pos.symbol, status: 200, body: closePosition(pos.symbol) }));
    return ok(out, 207);
  });
  routes.add('GET', '/v2/clock', () => {
    const now = replay.now();
    return ok(clockToWire(clockAt(now), nyOffsetMinutes(now)));
  });
  routes.add('GET', '/v2/calendar', (_p, q) => {
    const today = new Date(replay.now()).toISOString().slice(0, 10);
    const start = (q.get('start') ?? today).slice(0, 10);
    return ok(tradingDays(start, (q.get('end') ?? start).slice(0, 10)).map(calendarDayToWire));
  });
  routes.add('GET', '/v2/assets', () => ok(replay.symbols.map(assetToWire)));
  routes.add('GET', '/v2/assets/:symbol', (p) =>
    replay.symbols.includes(p.symbol!.toUpperCase())
      ? ok(assetToWire(p.symbol!.toUpperCase()))
      : err(404, 40410000, 'asset not found'),
  );
  // ---- market-data API ----------------------------------------------------------------------------------
  marketData.routes((method, pattern, handler) => routes.add(method, pattern, handler));
  // ---- simulator admin ----------------------------------------------------------------------------------
  routes.add('POST', '/sim/advance', (_p, _q, body) => {
    const until = Number((body as { until?: unknown }).until);
    if (!Number.isFinite(until)) return err(422, 40010000, 'until: must be an epoch-ms number');
    const processed = replay.advanceTo(until);
    return ok({ processed, watermark: replay.watermark, now: exchange.now, done: replay.done });
  });
  routes.add('POST', '/sim/faults', (_p, _q, body) => {
    faults = body as SimulatorFaults;
    rng = mulberry32(faults.seed ?? 1);
    return ok(faults);
  });
  routes.add('POST', '/sim/drop-streams', () => ok({ dropped: dropStreams() }));
  clockAdminRoutes(replay, (method, pattern, handler) => routes.add(method, pattern, handler));
  routes.add('GET', '/sim/state', () =>
    ok({
      now: exchange.now,
      watermark: replay.watermark,
      done: replay.done,
      barTimes: replay.barTimes(),
      symbols: replay.symbols,
      placements: exchange.placementLog,
      orders: exchange.listOrders('all').map((o) => orderToWire(o)),
      positions: exchange.getPositions(),
      account: exchange.getAccount(),
      stats,
    }),
  );

  function closePosition(symbol: string) {
    const pos = exchange.getPosition(symbol);
    if (!pos) return undefined;
    return orderToWire(
      exchange.submit({
        clientOrderId: `close:${symbol}:${exchange.now}:${exchange.placementLog.length}`,
        symbol,
        side: pos.qty > 0 ? 'sell' : 'buy',
        qty: Math.abs(pos.qty),
        type: 'market',
        timeInForce: 'day',
      }),
    );
  }

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    replay.sync();
    const url = new URL(req.url ?? '/', 'http://sim');
    const body = await readBody(req);
    const isApi = url.pathname.startsWith('/v2/');
    if (isApi) {
      stats.requests++;
      const key = req.headers['apca-api-key-id'];
      const secret = req.headers['apca-api-secret-key'];
      if (!authorized(key, secret)) return send(res, 401, alpacaError(40110000, 'request is not authorized'));
      const delay = (faults.latencyMs ?? 0) + (faults.latencyJitterMs ? rng() * faults.latencyJitterMs : 0);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    }
    // Fault decision: before the effect (the request is lost) or after it (the response is lost).
    let fault: 'error' | 'drop' | undefined;
    if (isApi) {
      const r = rng();
      if (r < (faults.dropRate ?? 0)) fault = 'drop';
      else if (r < (faults.dropRate ?? 0) + (faults.errorRate ?? 0)) fault = 'error';
    }
    const after = fault !== undefined && rng() < (faults.failAfterEffectShare ?? 0.5);
    if (fault && !after) return injectFault(res, fault);
    let result: RouteResult;
    const match = routes.match(req.method ?? 'GET', url.pathname);
    if (!match) result = err(404, 40410000, `route not found: ${req.method} ${url.pathname}`);
    else {
      try {
        result = match.handler(match.params, url.searchParams, body);
      } catch (e) {
        result =
          e instanceof ExchangeError
            ? err(e.httpStatus, e.code, e.message)
            : err(500, 50010000, (e as Error).message);
      }
    }
    if (fault && after) return injectFault(res, fault);
    send(res, result.status, result.body);
  }

  function injectFault(res: ServerResponse, fault: 'error' | 'drop') {
    if (fault === 'drop') {
      stats.dropped++;
      res.socket?.destroy();
      return;
    }
    stats.faulted++;
    const pick = Math.floor(rng() * 3);
    if (pick === 2) {
      res.setHeader('Retry-After', '0');
      return send(res, 429, alpacaError(42910000, 'rate limit exceeded'));
    }
    send(res, pick === 0 ? 500 : 503, alpacaError(50010000, 'internal server error'));
  }

  // ---- WebSockets -----------------------------------------------------------------------------------------
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (path === '/stream') tradingStream(ws);
      else if (/^\/v2\/[a-z_]+$/.test(path)) marketData.socket(ws, req);
      else ws.close(1008, 'unknown stream');
    });
  });

  function tradingStream(ws: WebSocket) {
    let authed = false;
    ws.on('message', (raw) => {
      let msg: { action?: string; data?: Record<string, any> };
      try {
        msg = JSON.parse(raw.toString()) as typeof msg;
      } catch {
        return ws.send(JSON.stringify({ stream: 'error', data: { error_message: 'invalid syntax' } }));
      }
      if (msg.action === 'authenticate' || msg.action === 'auth') {
        authed = authorized(msg.data?.key_id, msg.data?.secret_key);
        ws.send(
          JSON.stringify({
            stream: 'authorization',
            data: { status: authed ? 'authorized' : 'unauthorized', action: 'authenticate' },
          }),
        );
        if (!authed) ws.close();
      } else if (msg.action === 'listen') {
        if (!authed)
          return ws.send(
            JSON.stringify({ stream: 'authorization', data: { status: 'unauthorized', action: 'listen' } }),
          );
        const streams: string[] = msg.data?.streams ?? [];
        if (streams.includes('trade_updates')) tradeSockets.add(ws);
        else tradeSockets.delete(ws);
        ws.send(JSON.stringify({ stream: 'listening', data: { streams } }));
      }
    });
    ws.on('close', () => tradeSockets.delete(ws));
  }

  /** Cuts every trade-update and market-data socket; returns how many. */
  function dropStreams(): number {
    const trades = tradeSockets.size;
    for (const ws of tradeSockets) ws.terminate();
    return trades + marketData.dropStreams();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  if (opts.speed) replay.start(opts.speed);
  const addr = server.address() as AddressInfo;
  const base = `http://${addr.address}:${addr.port}`;
  return {
    url: base,
    dataUrl: base,
    streamUrl: `ws://${addr.address}:${addr.port}/stream`,
    marketDataStreamUrl: (feed = 'iex') => `ws://${addr.address}:${addr.port}/v2/${feed}`,
    exchange,
    replay,
    marketData,
    stats,
    setFaults(f) {
      faults = f;
      rng = mulberry32(f.seed ?? 1);
    },
    dropStreams,
    async close() {
      replay.stop();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function assetToWire(symbol: string) {
  return {
    id: assetIdFor(symbol),
    class: 'us_equity',
    exchange: 'NASDAQ',
    symbol,
    name: symbol,
    status: 'active',
    tradable: true,
    marginable: true,
    shortable: true,
    easy_to_borrow: true,
    fractionable: true,
    maintenance_margin_requirement: 30,
    attributes: [],
  };
}

interface RouteResult {
  status: number;
  body?: unknown;
}
type Handler = (params: Record<string, string>, query: URLSearchParams, body: unknown) => RouteResult;

const ok = (body: unknown, status = 200): RouteResult => ({ status, body });
const err = (status: number, code: number, message: string): RouteResult => ({
  status,
  body: alpacaError(code, message),
});

class Router {
  private readonly routes: Array<{ method: string; re: RegExp; keys: string[]; handler: Handler }> = [];
  add(method: string, pattern: string, handler: Handler) {
    const keys: string[] = [];
    const re = new RegExp(
      '^' +
        pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\/:([a-z]+)/g, (_m, k: string) => {
          keys.push(k);
          return '/([^/:]+)';
        }) +
        '$',
    );
    this.routes.push({ method, re, keys, handler });
  }
  match(method: string, path: string) {
    for (const r of this.routes) {
      if (r.method !== method) continue;
      const m = r.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1]!)));
      return { handler: r.handler, params };
    }
    return undefined;
  }
}

function send(res: ServerResponse, status: number, body?: unknown) {
  if (res.writableEnded || res.destroyed) return;
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'x-request-id': `sim-${Date.now().toString(36)}`,
    })
    .end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (!chunks.length) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return {};
  }
}
