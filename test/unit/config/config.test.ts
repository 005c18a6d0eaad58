import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  assertLiveOptIn,
  brokerEndpointMode,
  LIVE_TRADING_CONFIRMATION,
  loadConfig,
  redactConfig,
} from '../../../src/config/config';
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

  test('when URLs carry credentials, then the printed config keeps the host and hides the passwords and tokens', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgres://trader:pg-Pa55word@db.internal:5432/trader?sslmode=require&password=q-pass',
      REDIS_URL: 'redis://:redis-Pa55@cache.internal:6379/0',
      SLACK_API_URL: 'http://127.0.0.1:9/api?token=slack-tok-1',
    });
    const text = JSON.stringify(redactConfig(c));
    for (const secret of ['pg-Pa55word', 'q-pass', 'redis-Pa55', 'slack-tok-1'])
      assert.ok(!text.includes(secret), `${secret} printed: ${text}`);
    const r = redactConfig(c);
    assert.equal(
      r.DATABASE_URL,
      'postgres://trader:***@db.internal:5432/trader?sslmode=require&password=***',
    );
    assert.equal(r.REDIS_URL, 'redis://:***@cache.internal:6379/0');
  });

  test('when a config error names a URL with a password, then the error hides the password', () => {
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'mysql://u:db-Pa55word@h/x', REDIS_URL: 'http://:redis-Pa55@h' }),
      (e: Error) => {
        assert.match(e.message, /DATABASE_URL: .*\(got "mysql:\/\/u:\*\*\*@h\/x"\)/);
        assert.ok(!e.message.includes('db-Pa55word') && !e.message.includes('redis-Pa55'), e.message);
        return true;
      },
    );
  });

  test('when TRADER_CONFIG_FILE is not valid JSON, then the error does not quote the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, '{"APCA_API_SECRET_KEY": "file-secret-123" oops}');
    try {
      assert.throws(
        () => loadConfig({ TRADER_CONFIG_FILE: file }),
        (e: Error) => {
          assert.match(e.message, /TRADER_CONFIG_FILE: cannot read ".*" as JSON \(not valid JSON/);
          assert.ok(!e.message.includes('file-secret-123'), e.message);
          return true;
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
    assert.match(live, /endpoint: https:\/\/api\.alpaca\.markets/);
    assert.match(
      tradingModeBanner(loadConfig({ APCA_API_KEY_ID: 'k', APCA_API_SECRET_KEY: 's' })),
      /paper \(Alpaca paper at https:\/\/paper-api\.alpaca\.markets; no real money\)/,
    );
    assert.match(
      tradingModeBanner(loadConfig({ APCA_API_BASE_URL: 'http://127.0.0.1:8790' })),
      /paper \(the local Alpaca-compatible simulator at http:\/\/127\.0\.0\.1:8790; no real money\)/,
    );
    assert.match(tradingModeBanner(loadConfig({})), /no broker configured/);
  });
});

describe('live trading is one explicit decision', () => {
  const keys = { APCA_API_KEY_ID: 'k', APCA_API_SECRET_KEY: 's' };
  const confirmed = { TRADING_MODE: 'live', LIVE_TRADING_CONFIRM: LIVE_TRADING_CONFIRMATION };

  test('when the live Alpaca endpoint is set in paper mode, then start is refused naming the variable and both fixes', () => {
    assert.throws(
      () => loadConfig({ ...keys, APCA_API_BASE_URL: 'https://api.alpaca.markets' }),
      (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /APCA_API_BASE_URL: https:\/\/api\.alpaca\.markets .*real money/);
        assert.match(e.message, /TRADING_MODE is paper/);
        assert.match(e.message, /unset APCA_API_BASE_URL/);
        assert.match(e.message, /TRADING_MODE=live and LIVE_TRADING_CONFIRM=/);
        return true;
      },
    );
  });

  test('when an unknown remote endpoint is set without the opt-in, then it counts as live and is refused, in every non-live mode', () => {
    for (const mode of ['paper', 'replay', 'backtest'])
      assert.throws(
        () => loadConfig({ ...keys, TRADING_MODE: mode, APCA_API_BASE_URL: 'https://broker.example.com' }),
        /APCA_API_BASE_URL: .*real money/,
        mode,
      );
  });

  test('when the live endpoint comes with TRADING_MODE=live and the confirmation, then it is accepted and said to be live', () => {
    const c = loadConfig({ ...keys, ...confirmed, APCA_API_BASE_URL: 'https://api.alpaca.markets' });
    assert.equal(brokerEndpointMode(c), 'live');
    assert.doesNotThrow(() => assertLiveOptIn(c, 'schedules apply --mode live'));
  });

  test('when TRADING_MODE=live points at the paper endpoint, then start is refused (the modes disagree)', () => {
    assert.throws(
      () => loadConfig({ ...keys, ...confirmed, APCA_API_BASE_URL: 'https://paper-api.alpaca.markets' }),
      /APCA_API_BASE_URL: TRADING_MODE=live but this is the Alpaca paper endpoint/,
    );
  });

  test('when the endpoint is the paper host, a local simulator or unset, then the broker mode says so', () => {
    assert.equal(brokerEndpointMode(loadConfig(keys)), 'paper');
    assert.equal(
      brokerEndpointMode(loadConfig({ ...keys, APCA_API_BASE_URL: 'https://paper-api.alpaca.markets/' })),
      'paper',
    );
    assert.equal(brokerEndpointMode(loadConfig({ APCA_API_BASE_URL: 'http://localhost:8790' })), 'simulator');
    assert.equal(brokerEndpointMode(loadConfig({})), 'simulator');
    // Live declared explicitly is live, even through a local proxy or stub.
    assert.equal(
      brokerEndpointMode(loadConfig({ ...keys, ...confirmed, APCA_API_BASE_URL: 'http://127.0.0.1:8790' })),
      'live',
    );
  });

  test('when something asks for live without the opt-in, then assertLiveOptIn refuses naming the flag and the fix', () => {
    assert.throws(
      () => assertLiveOptIn(loadConfig(keys), '--mode live'),
      (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.match(
          e.message,
          /^--mode live: live trading needs the explicit opt-in: set TRADING_MODE=live/,
        );
        return true;
      },
    );
  });
});
