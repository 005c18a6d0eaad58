import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../contracts/task-queues';
import { ensureSearchAttributes } from '../../src/stack/temporal';
import { TEST_TEMPORAL_ADDRESS } from '../support/temporal';

describe('search attributes', () => {
  test('when the stack meets a server, then SessionDate, TradingMode, Account, Symbols and ModelId are registered, idempotently', async () => {
    await ensureSearchAttributes(TEST_TEMPORAL_ADDRESS, 'default');
    assert.deepEqual(
      await ensureSearchAttributes(TEST_TEMPORAL_ADDRESS, 'default'),
      [],
      'second call adds nothing',
    );
    const conn = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
    try {
      const res = await conn.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const name of Object.keys(SEARCH_ATTRIBUTES))
        assert.ok(name in (res.customAttributes ?? {}), `${name} registered`);
    } finally {
      await conn.close();
    }
  });
});
