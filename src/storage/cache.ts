import Redis from 'ioredis';

/** The online cache contract: Redis when reachable, else an in-process LRU. Never a hard failure. */
export interface KeyValueCache {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  getMany(keys: string[]): Promise<Array<string | null>>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** Sets several keys with one TTL in one round trip (a pipeline on Redis). */
  setMany?(entries: ReadonlyArray<readonly [string, string]>, ttlSeconds?: number): Promise<void>;
  /** Sets only if absent; true when this caller set it (used as a short lock against stampedes). */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  del(...keys: string[]): Promise<void>;
  close(): Promise<void>;
}

export interface CacheLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** An in-process LRU with TTLs. Map iteration order is insertion order, which gives LRU cheaply. */
export class MemoryCache implements KeyValueCache {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  constructor(
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  private live(key: string): string | null {
    const e = this.entries.get(key);
    if (!e) return null;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return null;
    }
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }
  async get(key: string) {
    return this.live(key);
  }
  async getMany(keys: string[]) {
    return keys.map((k) => this.live(k));
  }
  async set(key: string, value: string, ttlSeconds?: number) {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: ttlSeconds ? this.now() + ttlSeconds * 1000 : Infinity });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
  async setMany(entries: ReadonlyArray<readonly [string, string]>, ttlSeconds?: number) {
    for (const [k, v] of entries) await this.set(k, v, ttlSeconds);
  }
  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    if (this.live(key) !== null) return false;
    await this.set(key, value, ttlSeconds);
    return true;
  }
  async del(...keys: string[]) {
    for (const k of keys) this.entries.delete(k);
  }
  async close() {
    this.entries.clear();
  }
}

/**
 * Redis-backed cache that degrades instead of failing: if Redis goes away mid-run, reads miss and
 * writes are dropped (callers recompute), with one warning per outage.
 */
export class RedisCache implements KeyValueCache {
  readonly kind = 'redis' as const;
  private warned = false;
  constructor(
    readonly redis: Redis,
    private readonly logger: CacheLogger = console,
  ) {
    redis.on('error', () => this.degraded('connection error'));
    redis.on('ready', () => (this.warned = false));
  }
  private degraded(why: string) {
    if (!this.warned) {
      this.warned = true;
      this.logger.warn(`redis unavailable (${why}); the online cache misses until it returns`);
    }
  }
  private async safe<T>(fallback: T, op: () => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') {
      this.degraded(`status ${this.redis.status}`);
      return fallback;
    }
    try {
      return await op();
    } catch (err) {
      this.degraded((err as Error).message);
      return fallback;
    }
  }
  get(key: string) {
    return this.safe<string | null>(null, () => this.redis.get(key));
  }
  getMany(keys: string[]) {
    if (keys.length === 0) return Promise.resolve([]);
    return this.safe<Array<string | null>>(
      keys.map(() => null),
      () => this.redis.mget(keys),
    );
  }
  async set(key: string, value: string, ttlSeconds?: number) {
    await this.safe(undefined, async () => {
      if (ttlSeconds) await this.redis.set(key, value, 'EX', ttlSeconds);
      else await this.redis.set(key, value);
    });
  }
  async setMany(entries: ReadonlyArray<readonly [string, string]>, ttlSeconds?: number) {
    if (entries.length === 0) return;
    await this.safe(undefined, async () => {
      const p = this.redis.pipeline();
      for (const [k, v] of entries) {
        if (ttlSeconds) p.set(k, v, 'EX', ttlSeconds);
        else p.set(k, v);
      }
      const results = (await p.exec()) ?? [];
      const failed = results.find(([err]) => err);
      if (failed) throw failed[0];
    });
  }
  setIfAbsent(key: string, value: string, ttlSeconds: number) {
    // When Redis is down nobody else can hold the lock through it: let the caller compute.
    return this.safe(true, async () => (await this.redis.set(key, value, 'EX', ttlSeconds, 'NX')) === 'OK');
  }
  async del(...keys: string[]) {
    if (keys.length) await this.safe(undefined, async () => void (await this.redis.del(...keys)));
  }
  async close() {
    this.redis.disconnect();
  }
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Tries to reach Redis within `timeoutMs`; resolves the connected client or undefined. */
export async function tryConnectRedis(url: string, timeoutMs = 1500): Promise<Redis | undefined> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  redis.on('error', () => undefined);
  // connectTimeout covers only the TCP connect: a port that accepts but never speaks Redis would hang the
  // handshake and the PING, so the whole probe has a deadline too.
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no Redis answer')), 2 * timeoutMs);
      }),
    ]);
    return redis;
  } catch {
    redis.disconnect();
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * REDIS_URL, else 127.0.0.1:6379 if it answers, else an in-process cache with a logged warning.
 */
export async function createCache(opts: { url?: string; logger?: CacheLogger } = {}): Promise<KeyValueCache> {
  const logger = opts.logger ?? console;
  const url = opts.url ?? DEFAULT_REDIS_URL;
  const redis = await tryConnectRedis(url);
  if (redis) return new RedisCache(redis, logger);
  logger.warn(
    `redis not reachable at ${url.replace(/\/\/[^@]*@/, '//***@')}; using an in-process cache (features are recomputed per process)`,
  );
  return new MemoryCache();
}
