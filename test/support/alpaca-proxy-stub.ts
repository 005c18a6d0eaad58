import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A "live-configured" broker for chaos tests: an HTTP server speaking Alpaca's trading API by passing every
 * request to the local simulator, except where a rule answers instead with what Alpaca answers in a failure
 * (e.g. 403 `{"code":40310000,"message":"…"}` for an account or asset that may not trade). It logs each order
 * placement attempt and, for emergency closing orders (`esd-…`), whether another closing order of the same
 * symbol was still working at the simulator when it arrived.
 */
export interface ProxyRule {
  readonly method: string;
  readonly path: RegExp;
  /** the request's JSON body (POST) decides; absent: always */
  readonly when?: (body: Record<string, unknown> | null) => boolean;
  readonly status: number;
  readonly body: unknown;
}

export interface OrderAttempt {
  readonly symbol: string;
  readonly clientOrderId: string;
  readonly type: string;
  /** the status the client got back */
  readonly status: number;
}

export interface AlpacaProxyStub {
  readonly url: string;
  readonly attempts: OrderAttempt[];
  /** closing orders that arrived while another closing order of their symbol was working */
  readonly overlaps: string[];
  rules: ProxyRule[];
  close(): Promise<void>;
}

export async function startAlpacaProxyStub(
  target: string,
  rules: ProxyRule[] = [],
): Promise<AlpacaProxyStub> {
  const attempts: OrderAttempt[] = [];
  const overlaps: string[] = [];
  const stub: AlpacaProxyStub = {
    url: '',
    attempts,
    overlaps,
    rules,
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const body = raw && /json/.test(req.headers['content-type'] ?? '') ? safeJson(raw) : null;
      const path = (req.url ?? '/').split('?')[0]!;
      const auth = {
        'APCA-API-KEY-ID': String(req.headers['apca-api-key-id'] ?? ''),
        'APCA-API-SECRET-KEY': String(req.headers['apca-api-secret-key'] ?? ''),
      };
      const isOrder = req.method === 'POST' && path === '/v2/orders' && body !== null;
      if (isOrder && String(body.client_order_id ?? '').startsWith('esd-')) {
        const open = (await (
          await fetch(`${target}/v2/orders?status=open&limit=500&symbols=${String(body.symbol)}`, {
            headers: auth,
          })
        ).json()) as Array<{ client_order_id: string; symbol: string }>;
        const other = open.find(
          (o) => o.client_order_id.startsWith('esd-') && o.client_order_id !== body.client_order_id,
        );
        if (other) overlaps.push(`${String(body.client_order_id)} while ${other.client_order_id} worked`);
      }
      const rule = stub.rules.find(
        (r) => r.method === req.method && r.path.test(path) && (!r.when || r.when(body)),
      );
      let status: number;
      let text: string;
      if (rule) {
        status = rule.status;
        text = JSON.stringify(rule.body);
      } else {
        const upstream = await fetch(`${target}${req.url ?? '/'}`, {
          method: req.method,
          headers: { ...auth, ...(raw ? { 'content-type': 'application/json' } : {}) },
          ...(raw && req.method !== 'GET' && req.method !== 'DELETE' ? { body: raw } : {}),
        });
        status = upstream.status;
        text = await upstream.text();
      }
      if (isOrder)
        attempts.push({
          symbol: String(body.symbol),
          clientOrderId: String(body.client_order_id),
          type: String(body.type),
          status,
        });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 204 ? undefined : text);
    })().catch((e: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 50010000, message: `proxy stub: ${(e as Error).message}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(stub, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (s += c));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

function safeJson(s: string): Record<string, unknown> | null {
  try {
    return JSON.parse(s) as Record<string, unknown>;
  } catch {
    return null;
  }
}
