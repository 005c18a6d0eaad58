import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A legacy secondary attachment (what Alertmanager's slack_configs send). */
export interface StubAttachment {
  readonly title?: string;
  readonly text?: string;
  readonly fallback?: string;
  readonly color?: string;
}

/** A message the stub accepted through chat.postMessage. */
export interface StubMessage {
  readonly channel: string;
  readonly text: string;
  readonly blocks?: unknown[];
  readonly attachments?: StubAttachment[];
  readonly ts: string;
  readonly token: string;
}

/** Everything a person would read in a message: its text, then each attachment's title and text. */
export function readableText(m: StubMessage): string {
  return [m.text, ...(m.attachments ?? []).flatMap((a) => [a.title ?? '', a.text ?? ''])]
    .filter(Boolean)
    .join('\n');
}

export type StubFault = { status: 429; retryAfterSeconds: number } | { status: 500 | 502 | 503 };

/**
 * A local Slack Web API speaking chat.postMessage as documented (https://api.slack.com/methods/chat.postMessage):
 * POST /api/chat.postMessage with `Authorization: Bearer <token>`, form-encoded or JSON body; answers
 * `{ ok: true, channel, ts, message }`, or `{ ok: false, error }` with HTTP 200 (not_authed, invalid_auth,
 * channel_not_found, no_text). One of text, blocks or attachments is required, as in Slack (Alertmanager's
 * slack_configs send attachments only). Faults queued with `failNext` answer 429 + Retry-After or 5xx first.
 */
export class SlackStub {
  readonly messages: StubMessage[] = [];
  /** Every request, including faulted ones, in arrival order. */
  readonly requests: Array<{ method: string; status: number }> = [];
  private readonly faults: StubFault[] = [];
  private server?: Server;
  private seq = 0;

  constructor(private readonly opts: { token?: string; channels?: readonly string[] } = {}) {}

  get apiUrl(): string {
    const port = (this.server!.address() as AddressInfo).port;
    return `http://127.0.0.1:${port}/api/`;
  }

  failNext(...faults: StubFault[]): void {
    this.faults.push(...faults);
  }

  messagesIn(channel: string): StubMessage[] {
    return this.messages.filter((m) => m.channel === channel);
  }

  /** Resolves with the first message (already received or arriving) that matches, or fails after `timeoutMs`. */
  async waitFor(
    match: (m: StubMessage) => boolean,
    timeoutMs: number,
    what = 'a matching message',
  ): Promise<StubMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(
          `Slack stub: no ${what} within ${timeoutMs} ms; got ${this.messages.length}: ${this.messages
            .map((m) => `${m.channel} ${JSON.stringify(readableText(m).slice(0, 120))}`)
            .join('; ')}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, headers, body }) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }

  private async handle(
    req: IncomingMessage,
  ): Promise<{ status: number; headers?: Record<string, string>; body: unknown }> {
    const raw = await new Promise<string>((resolve) => {
      let s = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (s += c));
      req.on('end', () => resolve(s));
    });
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
    const fault = this.faults.shift();
    if (fault) {
      this.requests.push({ method, status: fault.status });
      if (fault.status === 429)
        return {
          status: 429,
          headers: { 'retry-after': String(fault.retryAfterSeconds) },
          body: { ok: false, error: 'ratelimited' },
        };
      return { status: fault.status, body: { ok: false, error: 'internal_error' } };
    }
    this.requests.push({ method, status: 200 });
    if (req.method !== 'POST') return { status: 200, body: { ok: false, error: 'invalid_request' } };
    if (method !== 'chat.postMessage') return { status: 200, body: { ok: false, error: 'unknown_method' } };
    const params = parseBody(raw, req.headers['content-type'] ?? '');
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '') || String(params.token ?? '');
    if (!token) return { status: 200, body: { ok: false, error: 'not_authed' } };
    if (this.opts.token && token !== this.opts.token)
      return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    const channel = String(params.channel ?? '');
    if (!channel || (this.opts.channels && !this.opts.channels.includes(channel)))
      return { status: 200, body: { ok: false, error: 'channel_not_found' } };
    const blocks =
      typeof params.blocks === 'string'
        ? (JSON.parse(params.blocks) as unknown[])
        : (params.blocks as unknown[] | undefined);
    const attachments =
      typeof params.attachments === 'string'
        ? (JSON.parse(params.attachments) as StubAttachment[])
        : (params.attachments as StubAttachment[] | undefined);
    const text = String(params.text ?? '');
    if (!text && !blocks?.length && !attachments?.length)
      return { status: 200, body: { ok: false, error: 'no_text' } };
    this.seq += 1;
    const ts = `${Math.floor(Date.now() / 1000)}.${String(this.seq).padStart(6, '0')}`;
    this.messages.push({ channel, text, blocks, attachments, ts, token });
    return {
      status: 200,
      body: { ok: true, channel, ts, message: { type: 'message', subtype: 'bot_message', text, ts, blocks } },
    };
  }
}

function parseBody(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.includes('application/json')) return JSON.parse(raw || '{}') as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(raw));
}
