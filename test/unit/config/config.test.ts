import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig, redactConfig } from '../../../src/config/config';
import { tradingModeBanner } from '../../../src/config/mode-banner';
import { ConfigError } from '../../../src/model/errors';

describe('configuration', () => {
  test('when nothing is set, then trading is paper and defaults apply', () => {
    const c = loadConfig({});
    assert.equal(c.TRADING_MODE, 'paper');
    assert.equal(c.TEMPORAL_NAMESPACE, 'default');
    assert.equal(c.hasAlpacaCredentials, false);
  });

  test('when a value is bad, then start fails naming the variable and the fix', () => {
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'mysql://x' }),
      (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /DATABASE_URL: must be a URL starting with postgres:\/\/ or postgresql:\/\//);
        return true;
      },
    );
    assert.throws(() => loadConfig({ TEMPORAL_ADDRESS: 'localhost' }), /TEMPORAL_ADDRESS: must be host:port/);
    assert.throws(() => loadConfig({ METRICS_PORT: '70000' }), /METRICS_PORT/);
    assert.throws(() => loadConfig({ TRADING_MODE: 'yolo' }), /TRADING_MODE: .*"yolo"/);
  });

  test('when only one Alpaca credential is set, then the other is named as missing', () => {
    assert.throws(() => loadConfig({ APCA_API_KEY_ID: 'k' }), /APCA_API_SECRET_KEY: set both/);
  });

  test('when live trading is asked for without the explicit confirmation, then start fails', () => {
    const env = { TRADING_MODE: 'live', APCA_API_KEY_ID: 'k', APCA_API_SECRET_KEY: 's' };
    assert.throws(() => loadConfig(env), /LIVE_TRADING_CONFIRM/);
    const ok = loadConfig({ ...env, LIVE_TRADING_CONFIRM: 'I understand this trades real money' });
    assert.equal(ok.TRADING_MODE, 'live');
  });

  test('when a bad secret is reported, then its value is never echoed; redaction hides secrets', () => {
    const c = loadConfig({
      APCA_API_KEY_ID: 'AKSECRET',
      APCA_API_SECRET_KEY: 'SSECRET',
      SLACK_BOT_TOKEN: 'xoxb-1',
    });
    const text = JSON.stringify(redactConfig(c));
    for (const secret of ['AKSECRET', 'SSECRET', 'xoxb-1']) assert.ok(!text.includes(secret));
  });
});

describe('trading mode banner', () => {
  test('when live, then the banner says LIVE and real money; when paper, it says no real money', () => {
    const live = tradingModeBanner(
      loadConfig({
        TRADING_MODE: 'live',
        APCA_API_KEY_ID: 'k',
        APCA_API_SECRET_KEY: 's',
        LIVE_TRADING_CONFIRM: 'I understand this trades real money',
      }),
    );
    assert.match(live, /LIVE TRADING.*REAL MONEY/);
    assert.match(
      tradingModeBanner(loadConfig({})),
      /paper \(the local Alpaca-compatible simulator; no real money\)/,
    );
  });
});
