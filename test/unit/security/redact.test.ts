import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { redactError, redactText, redactUrl, secretValues } from '../../../src/security/redact';

describe('redaction of credentials', () => {
  test('when a URL has user:password@, then the password is hidden and the user, host and path kept', () => {
    assert.equal(
      redactUrl('postgres://trader:s3cret@db:5432/trader'),
      'postgres://trader:***@db:5432/trader',
    );
    assert.equal(redactUrl('redis://:s3cret@127.0.0.1:6379/0'), 'redis://:***@127.0.0.1:6379/0');
    assert.equal(redactUrl('postgres://postgres@127.0.0.1:5432/x'), 'postgres://postgres@127.0.0.1:5432/x');
    assert.equal(redactUrl('http://127.0.0.1:8790'), 'http://127.0.0.1:8790');
  });

  test('when a URL has credential query parameters, then only their values are hidden', () => {
    assert.equal(
      redactUrl('postgres://h/db?sslmode=require&password=p1&application_name=x'),
      'postgres://h/db?sslmode=require&password=***&application_name=x',
    );
    assert.equal(
      redactUrl('https://api.example.com/v1?token=t1&symbol=SPY&apiKey=k1#frag'),
      'https://api.example.com/v1?token=***&symbol=SPY&apiKey=***#frag',
    );
  });

  test('when text embeds URLs and known secret values, then both are hidden wherever they appear', () => {
    const env = {
      DATABASE_URL: 'postgres://u:db-pass-777@h:5432/x',
      APCA_API_SECRET_KEY: 'alpaca-secret-777',
      PAYLOAD_ENCRYPTION_KEYS: 'k1:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=',
      SLACK_BOT_TOKEN: 'xoxb',
    };
    const secrets = secretValues(env);
    assert.ok(secrets.includes('db-pass-777'));
    assert.ok(secrets.includes('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY='), 'each encryption key alone');
    assert.ok(!secrets.includes('xoxb'), 'too short to replace everywhere');
    const text =
      'connect to "postgres://u:db-pass-777@h:5432/x" failed; password db-pass-777 rejected; key alpaca-secret-777; ' +
      'k1:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=';
    const out = redactText(text, secrets);
    for (const s of ['db-pass-777', 'alpaca-secret-777', 'QUJDREVG']) assert.ok(!out.includes(s), out);
    assert.match(out, /postgres:\/\/u:\*\*\*@h:5432\/x/);
  });

  test('when an error is redacted with its stack, then the stack keeps its frames but not the secret', () => {
    const err = new Error('login failed for redis://:r-pass-9999@cache:6379');
    const out = redactError(err, { stack: true, secrets: [] });
    assert.match(out, /redis:\/\/:\*\*\*@cache:6379/);
    assert.match(out, /at /);
    assert.ok(!out.includes('r-pass-9999'));
  });
});
