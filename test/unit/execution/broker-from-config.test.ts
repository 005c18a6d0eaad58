import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { executionBrokerFromConfig } from '../../../src/execution/alpaca/from-config';
import { ConfigError } from '../../../src/model/errors';

describe('execution broker from config', () => {
  test('when the base URL is a local simulator, then the simulator is used with a replay driver, keys optional', () => {
    const d = executionBrokerFromConfig({
      APCA_API_BASE_URL: 'http://127.0.0.1:8790',
      TRADING_MODE: 'paper',
    });
    assert.equal(d.target, 'simulator');
    assert.ok(d.replay);
  });
  test('when only credentials are set, then Alpaca paper (or live when TRADING_MODE=live), without a replay driver', () => {
    const creds = { APCA_API_KEY_ID: 'PK1', APCA_API_SECRET_KEY: 's' };
    assert.equal(executionBrokerFromConfig({ ...creds, TRADING_MODE: 'paper' }).target, 'alpaca-paper');
    const live = executionBrokerFromConfig({ ...creds, TRADING_MODE: 'live' });
    assert.equal(live.target, 'alpaca-live');
    assert.equal(live.replay, undefined);
  });
  test('when TRADING_MODE=live points at a local URL, then it is a live broker all the same, without a replay driver', () => {
    const d = executionBrokerFromConfig({
      APCA_API_KEY_ID: 'AK1',
      APCA_API_SECRET_KEY: 's',
      APCA_API_BASE_URL: 'http://127.0.0.1:8790',
      TRADING_MODE: 'live',
    });
    assert.equal(d.target, 'alpaca-live');
    assert.equal(d.replay, undefined);
  });
  test('when neither credentials nor a simulator URL are set, then a ConfigError says what to do', () => {
    assert.throws(
      () => executionBrokerFromConfig({ TRADING_MODE: 'paper' }),
      (e: unknown) => e instanceof ConfigError && /simulator start/.test((e as Error).message),
    );
  });
});
