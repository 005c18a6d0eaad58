/**
 * The session's per-bar write of online features: every symbol's newest row goes to the online store
 * (FeatureStore's key and record) in one round trip, and the store's read path returns the batch row.
 * Runs against the real Redis at 127.0.0.1:6379 (REDIS_URL), through a TCP proxy that counts round trips.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Pool } from 'pg';
import { syntheticMinuteBars } from '../../../src/data/synthetic';
import {
  CORE_FEATURE_SET,
  OnlineFeatures,
  barsFromMinutes,
  buildFeatureMatrix,
  publishOnlineFeatures,
} from '../../../src/features';
import { matrixRow } from '../../support/matrix-row';
import { latestFeatureVector } from '../../../src/features/store-service';
import { FeatureStore, encodeVector, onlineKey } from '../../../src/features/store';
import { barsToColumns } from '../../../src/model/bar';
import { ValidationError } from '../../../src/model/errors';
import { MemoryCache, RedisCache, tryConnectRedis } from '../../../src/storage/cache';
import { TEST_ADMIN_URL } from '../../support/db';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const set = CORE_FEATURE_SET;
const FROM = Date.UTC(2024, 3, 1);
const TO = Date.UTC(2024, 3, 4);

/**
 * A TCP proxy in front of Redis counting round trips: a turn starts whenever the client sends after the
 * server last spoke (or first), so a pipeline is one turn and N awaited commands are N.
 */
async function roundTripProxy(
  target: URL,
): Promise<{ port: number; turns: () => number; reset(): void; close(): Promise<void> }> {
  let turns = 0;
  const sockets: Socket[] = [];
  const server: Server = createServer((client) => {
    let serverSpokeLast = true;
    const upstream = connect(Number(target.port || 6379), target.hostname);
    sockets.push(client, upstream);
    client.on('data', (d) => {
      if (serverSpokeLast) turns++;
      serverSpokeLast = false;
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      serverSpokeLast = true;
      client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    turns: () => turns,
    reset: () => void (turns = 0),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('online features: the per-bar write to the online store', () => {
  const prefix = `OS${randomUUID().slice(0, 6).toUpperCase()}`;
  const symbols = Array.from({ length: 20 }, (_, i) => `${prefix}${i}`);
  const engines: OnlineFeatures[] = [];
  const lastRows = new Map<string, { ts: number; values: Float32Array }>();
  let pool: Pool;

  before(() => {
    pool = new Pool({ connectionString: TEST_ADMIN_URL, max: 1 });
    symbols.forEach((symbol, i) => {
      const minutes = barsToColumns(symbol, '1m', syntheticMinuteBars(symbol, FROM, TO, 40 + i));
      const bars = barsFromMinutes(minutes, set.timeframes);
      const e = new OnlineFeatures(set, { symbol });
      e.updateMany(bars);
      engines.push(e);
      const m = buildFeatureMatrix(bars, set, { symbol });
      lastRows.set(symbol, { ts: m.ts[m.rows - 1]!, values: matrixRow(m, m.rows - 1) });
    });
  });
  after(async () => {
    await pool.end();
  });

  test('when a session publishes every symbol of a bar, then it is one round trip and the store reads back the batch rows', async (t) => {
    const proxy = await roundTripProxy(new URL(REDIS_URL));
    const redis = await tryConnectRedis(`redis://127.0.0.1:${proxy.port}`);
    if (!redis) {
      await proxy.close();
      return t.skip('SKIPPED: no Redis at 127.0.0.1:6379');
    }
    const cache = new RedisCache(redis);
    try {
      proxy.reset();
      const written = await publishOnlineFeatures(cache, engines, { ttlSeconds: 120 });
      assert.equal(written, symbols.length);
      assert.equal(proxy.turns(), 1, 'all symbols in one round trip');

      const store = new FeatureStore(pool, cache);
      for (const symbol of symbols) {
        const want = lastRows.get(symbol)!;
        const v = await store.getOnline(symbol, set.baseTimeframe, set.version);
        assert.ok(v, symbol);
        assert.equal(v.ts, want.ts);
        assert.deepEqual(encodeVector(v.values), encodeVector(want.values), `${symbol}: the batch row`);
        // The read path of the feature activities serves it as the vector of the bar that closed last.
        const served = await latestFeatureVector({ pool, cache }, symbol, set, want.ts + 60_000);
        assert.deepEqual(encodeVector(served!.values), encodeVector(want.values));
      }
      const ttl = await redis.ttl(onlineKey(symbols[0]!, set.baseTimeframe, set.version));
      assert.ok(ttl > 100 && ttl <= 120, `ttl ${ttl}`);

      // Negative control: one putOnline per symbol is one round trip each.
      proxy.reset();
      for (const e of engines) await store.putOnline(e.vector()!);
      assert.equal(proxy.turns(), symbols.length);
    } finally {
      await redis.del(...symbols.map((s) => onlineKey(s, set.baseTimeframe, set.version)));
      await cache.close();
      await proxy.close();
    }
  });

  test('when Redis is down or absent, then publishing does not throw, and the in-process cache gets the rows', async () => {
    const memory = new MemoryCache();
    await publishOnlineFeatures(memory, engines);
    const v = await new FeatureStore(pool, memory).getOnline(symbols[3]!, set.baseTimeframe, set.version);
    assert.deepEqual(encodeVector(v!.values), encodeVector(lastRows.get(symbols[3]!)!.values));

    const redis = await tryConnectRedis(REDIS_URL);
    if (!redis) return;
    const warnings: string[] = [];
    const gone = new RedisCache(redis, { warn: (m) => warnings.push(m) });
    redis.disconnect();
    await publishOnlineFeatures(gone, engines);
    assert.equal(warnings.length, 1);
  });

  test('when an engine has no symbol or no base bar yet, then it is refused or skipped', async () => {
    const memory = new MemoryCache();
    await assert.rejects(
      publishOnlineFeatures(memory, [new OnlineFeatures(set)]),
      (e: unknown) => e instanceof ValidationError && e.field === 'OnlineFeatures.symbol',
    );
    assert.equal(await publishOnlineFeatures(memory, [new OnlineFeatures(set, { symbol: 'EMPTY' })]), 0);
  });
});
