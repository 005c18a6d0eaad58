import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { createCache, MemoryCache, RedisCache, tryConnectRedis } from '../../../src/storage/cache';

describe('online cache', () => {
  test('when Redis is unreachable, then an in-process cache is used with a warning, and works', async () => {
    const warnings: string[] = [];
    const cache = await createCache({
      url: 'redis://127.0.0.1:1',
      logger: { warn: (m) => warnings.push(m) },
    });
    assert.equal(cache.kind, 'memory');
    assert.match(warnings.join('\n'), /using an in-process cache/);
    await cache.set('k', 'v', 60);
    assert.equal(await cache.get('k'), 'v');
    assert.equal(await cache.setIfAbsent('k', 'w', 60), false);
    assert.deepEqual(await cache.getMany(['k', 'missing']), ['v', null]);
    await cache.close();
  });

  test('when entries expire or exceed capacity, then the memory cache forgets the oldest', async () => {
    let now = 1_000;
    const cache = new MemoryCache(2, () => now);
    await cache.set('a', '1', 10);
    await cache.set('b', '2');
    await cache.get('a'); // a is now most recently used
    await cache.set('c', '3');
    assert.equal(await cache.get('b'), null, 'least recently used entry evicted');
    assert.equal(await cache.get('a'), '1');
    now += 11_000;
    assert.equal(await cache.get('a'), null, 'expired');
    assert.equal(await cache.setIfAbsent('a', 'x', 5), true);
  });

  test('when Redis answers, then values round-trip through it and the NX lock is exclusive', async (t) => {
    const redis = await tryConnectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    if (!redis) return t.skip('SKIPPED: no Redis at 127.0.0.1:6379');
    const cache = new RedisCache(redis);
    const key = `test:${randomUUID()}`;
    await cache.set(key, 'v', 30);
    assert.equal(await cache.get(key), 'v');
    assert.equal(await cache.setIfAbsent(`${key}:lock`, '1', 30), true);
    assert.equal(await cache.setIfAbsent(`${key}:lock`, '1', 30), false);
    await cache.del(key, `${key}:lock`);
    assert.equal(await cache.get(key), null);
    await cache.close();
  });

  test('when Redis goes away mid-run, then reads miss and writes are dropped without throwing', async (t) => {
    const redis = await tryConnectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    if (!redis) return t.skip('SKIPPED: no Redis at 127.0.0.1:6379');
    const warnings: string[] = [];
    const cache = new RedisCache(redis, { warn: (m) => warnings.push(m) });
    redis.disconnect();
    assert.equal(await cache.get('anything'), null);
    await cache.set('anything', 'v');
    assert.deepEqual(await cache.getMany(['a', 'b']), [null, null]);
    assert.equal(await cache.setIfAbsent('lock', '1', 5), true, 'the caller computes itself');
    assert.equal(warnings.length, 1, 'one warning per outage');
  });
});
