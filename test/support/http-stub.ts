import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** A scripted response: status/headers/body, or 'hang' to never answer (timeouts). */
export type StubReply = { status?: number; headers?: Record<string, string>; body: string } | 'hang';

export interface HttpStub {
  readonly url: string;
  readonly requests: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }>;
  /** Replies are taken in order; when the queue is empty the fallback answers. */
  enqueue(...replies: StubReply[]): void;
  /** Drops unanswered scripted replies and the request log (between tests). */
  reset(): void;
  close(): Promise<void>;
}

export function fixture(venue: string, name: string, base = ''): string {
  return readFileSync(resolve(__dirname, '../fixtures', venue, name), 'utf8').replaceAll('{{BASE}}', base);
}

/** A local HTTP server that speaks whatever the test scripts: the provider's documented payloads. */
export async function startStub(
  fallback: StubReply = { status: 404, body: '{"message":"not scripted"}' },
): Promise<HttpStub> {
  const queue: StubReply[] = [];
  const requests: HttpStub['requests'] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '', headers: req.headers });
    const reply = queue.shift() ?? fallback;
    if (reply === 'hang') {
      hanging.add(res);
      return;
    }
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
    res.end(reply.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...r) => queue.push(...r),
    reset: () => {
      queue.length = 0;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const h of hanging) h.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
