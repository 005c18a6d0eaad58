/**
 * JSON over HTTP for the REST data clients: per-request timeout, retries with backoff on 429 (honouring
 * Retry-After), 5xx, timeouts, network faults and malformed bodies; 4xx other than 429 fail at once.
 * Errors say which request failed and why, and whether retrying later can help.
 */
import { PermanentError, TemporaryError } from '../model/errors';

export interface HttpOptions {
  readonly headers?: Record<string, string>;
  /** Per request, default 30 s. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt, default 4. */
  readonly maxRetries?: number;
  /** First backoff, doubled per retry (jittered), default 500 ms. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Injected for tests; default setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly signal?: AbortSignal;
  /** How the request is named in errors and findings (never includes credentials). */
  readonly label?: string;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retry-After as seconds or an HTTP date → ms, or undefined. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const s = Number(header);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const d = Date.parse(header);
  return Number.isNaN(d) ? undefined : Math.max(0, d - now);
}

export async function getJson(url: string, opts: HttpOptions = {}): Promise<unknown> {
  const label = opts.label ?? url.replace(/([?&](apiKey|token)=)[^&]+/gi, '$1***');
  const maxRetries = opts.maxRetries ?? 4;
  const sleep = opts.sleep ?? defaultSleep;
  const base = opts.baseDelayMs ?? 500;
  const maxDelay = opts.maxDelayMs ?? 30_000;
  let lastError: TemporaryError | undefined;
  for (let attempt = 0; attempt <= maxRetries; attempt++) {
    if (attempt > 0) {
      const backoff = Math.min(maxDelay, base * 2 ** (attempt - 1) * (0.8 + 0.4 * Math.random()));
      await sleep(lastError?.retryAfterMs ?? backoff);
    }
    opts.signal?.throwIfAborted();
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), opts.timeoutMs ?? 30_000);
    const onAbort = () => ctl.abort();
    opts.signal?.addEventListener('abort', onAbort);
    try {
      let res: Response;
      try {
        res = await fetch(url, {
          headers: { accept: 'application/json', ...opts.headers },
          signal: ctl.signal,
          redirect: 'error',
        });
      } catch (e) {
        opts.signal?.throwIfAborted();
        const timedOut = ctl.signal.aborted;
        lastError = new TemporaryError(
          `${label}: ${timedOut ? `timed out after ${opts.timeoutMs ?? 30_000} ms` : `network error (${(e as Error).message})`}`,
          undefined,
          { cause: e },
        );
        continue;
      }
      let text: string;
      try {
        text = await res.text();
      } catch (e) {
        lastError = new TemporaryError(
          `${label}: ${ctl.signal.aborted ? 'timed out reading the body' : `body read failed (${(e as Error).message})`}`,
          undefined,
          { cause: e },
        );
        continue;
      }
      if (res.status === 429) {
        lastError = new TemporaryError(
          `${label}: rate limited (429)`,
          retryAfterMs(res.headers.get('retry-after')) ?? base,
        );
        continue;
      }
      if (res.status >= 500) {
        lastError = new TemporaryError(
          `${label}: server error ${res.status}`,
          retryAfterMs(res.headers.get('retry-after')),
        );
        continue;
      }
      if (res.status >= 400) {
        throw new PermanentError(`${label}: HTTP ${res.status} ${text.slice(0, 200).replace(/\s+/g, ' ')}`);
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        lastError = new TemporaryError(
          `${label}: malformed body (not JSON): ${text.slice(0, 80).replace(/\s+/g, ' ')}`,
        );
        continue;
      }
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }
  throw new TemporaryError(
    `${lastError!.message} (gave up after ${maxRetries + 1} attempts)`,
    lastError!.retryAfterMs,
    { cause: lastError },
  );
}

/** Field accessors that name the field when a body has the wrong shape. */
export function field<T>(obj: unknown, name: string, check: (v: unknown) => v is T, where: string): T {
  const v = (obj as Record<string, unknown> | null)?.[name];
  if (!check(v))
    throw new PermanentError(
      `${where}: malformed body: field "${name}" is ${v === undefined ? 'missing' : `not valid (${JSON.stringify(v)?.slice(0, 40)})`}`,
    );
  return v;
}

export const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const isArr = (v: unknown): v is unknown[] => Array.isArray(v);
export const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
