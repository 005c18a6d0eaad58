import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { operatorAlert, SlackAlerter, type Alert } from '../../src/monitoring/alerting';
import { SlackStub } from '../support/slack-stub';

const CHANNELS = {
  critical: '#trading-critical',
  warning: '#trading-warnings',
  info: '#trading-info',
} as const;
const TOKEN = 'xoxb-test-token';

function alerter(stub: SlackStub, extra: Partial<ConstructorParameters<typeof SlackAlerter>[0]> = {}) {
  const logs: string[] = [];
  const a = new SlackAlerter({
    token: TOKEN,
    slackApiUrl: stub.apiUrl,
    channels: CHANNELS,
    temporalUiUrl: 'http://127.0.0.1:8233',
    namespace: 'default',
    retries: 3,
    retryMinTimeoutMs: 10,
    log: (l) => logs.push(l),
    ...extra,
  });
  return { a, logs };
}

const warn = (key: string): Alert => ({
  key,
  severity: 'warning',
  title: `stale data ${key}`,
  text: 'no bar for 5 minutes',
});

describe('Slack alerts against a local chat.postMessage stub', () => {
  let stub: SlackStub;
  before(async () => {
    stub = await new SlackStub({ token: TOKEN, channels: Object.values(CHANNELS) }).start();
  });
  after(async () => stub.stop());

  test('when a daily-loss HALT is reported on every bar, then exactly one critical message arrives with the workflow link and commands', async () => {
    stub.messages.length = 0;
    const { a } = alerter(stub);
    const workflowId = 'session-paper-2024-03-04';
    // Equity path of a bad day: the 3% limit is crossed at the 4th bar and stays crossed; the session reports
    // its HALTED state on every bar after that.
    const equities = [100_000, 99_200, 98_100, 96_900, 96_500, 96_950, 96_000, 95_800];
    const outcomes: string[] = [];
    for (const equity of equities) {
      const ratio = (equity - 100_000) / 100_000;
      if (ratio > -0.03) continue;
      const alert = operatorAlert({
        kind: 'risk_state',
        state: 'HALTED',
        account: 'paper',
        tradingDay: '2024-03-04',
        reason: 'Daily loss limit breached',
        dailyPnlDollars: equity - 100_000,
        dailyPnlRatio: ratio,
        dailyLossLimitRatio: 0.03,
        workflowId,
      });
      outcomes.push((await a.send(alert)).outcome);
    }
    assert.deepEqual(outcomes, ['sent', 'deduplicated', 'deduplicated', 'deduplicated', 'deduplicated']);
    assert.equal(stub.messages.length, 1);
    const [msg] = stub.messages;
    assert.equal(msg!.channel, CHANNELS.critical);
    assert.match(msg!.text, /Risk engine HALTED on paper/);
    assert.match(msg!.text, /Daily loss limit breached/);
    assert.match(msg!.text, /-3\.10%/);
    assert.ok(msg!.text.includes(`http://127.0.0.1:8233/namespaces/default/workflows/${workflowId}`));
    assert.ok(msg!.text.includes(`session liquidate ${workflowId} --reason`));
    assert.ok(msg!.text.includes(`session pause ${workflowId} --reason`));
    assert.ok(JSON.stringify(msg!.blocks).includes('Open workflow'));
  });

  test('when the same HALT repeats concurrently, then still only one message is sent', async () => {
    stub.messages.length = 0;
    const { a } = alerter(stub);
    const alert = operatorAlert({
      kind: 'risk_state',
      state: 'HALTED',
      account: 'live',
      tradingDay: '2024-03-05',
      reason: 'Daily loss limit breached',
      dailyPnlDollars: -10_000,
      dailyPnlRatio: -0.1,
      dailyLossLimitRatio: 0.03,
    });
    const results = await Promise.all(Array.from({ length: 5 }, () => a.send(alert)));
    assert.equal(results.filter((r) => r.outcome === 'sent').length, 1);
    assert.equal(stub.messages.length, 1);
  });

  test('when the dedup window has passed, then the key is sent again and reports the suppressed repeats', async () => {
    stub.messages.length = 0;
    let now = 0;
    const { a } = alerter(stub, { clock: () => now, dedupWindowMs: 60_000 });
    await a.send(warn('AAPL'));
    now = 30_000;
    assert.equal((await a.send(warn('AAPL'))).outcome, 'deduplicated');
    now = 61_000;
    assert.equal((await a.send(warn('AAPL'))).outcome, 'sent');
    assert.equal(stub.messages.length, 2);
    assert.match(stub.messages[1]!.text, /1 repeats suppressed/);
  });

  test('when alerts of each severity are sent, then each goes to its own channel', async () => {
    stub.messages.length = 0;
    const { a } = alerter(stub);
    await a.send({ key: 'c', severity: 'critical', title: 'c', text: 'critical thing' });
    await a.send({ key: 'w', severity: 'warning', title: 'w', text: 'warning thing' });
    await a.send({ key: 'i', severity: 'info', title: 'i', text: 'info thing' });
    assert.deepEqual(
      stub.messages.map((m) => [m.channel, m.text.split('\n')[0]]),
      [
        [CHANNELS.critical, '[CRITICAL] c'],
        [CHANNELS.warning, '[WARNING] w'],
        [CHANNELS.info, '[INFO] i'],
      ],
    );
  });

  test('when Slack answers 429 with Retry-After, then the message is retried after it and delivered once', async () => {
    stub.messages.length = 0;
    stub.requests.length = 0;
    const { a } = alerter(stub);
    const r = await a.send({ key: 'rl', severity: 'critical', title: 'rate limited', text: 'x' });
    assert.equal(r.outcome, 'sent');
    assert.equal(stub.messages.length, 1);
    stub.failNext({ status: 429, retryAfterSeconds: 1 });
    const r2 = await a.send({ key: 'rl2', severity: 'critical', title: 'rate limited 2', text: 'x' });
    assert.equal(r2.outcome, 'sent');
    assert.deepEqual(
      stub.requests.map((q) => q.status),
      [200, 429, 200],
    );
    assert.equal(stub.messages.length, 2);
  });

  test('when Slack answers 5xx twice, then the alerter retries and the message arrives once', async () => {
    stub.messages.length = 0;
    stub.requests.length = 0;
    const { a } = alerter(stub);
    stub.failNext({ status: 500 }, { status: 503 });
    const r = await a.send({ key: '5xx', severity: 'warning', title: 'flaky slack', text: 'x' });
    assert.equal(r.outcome, 'sent');
    assert.deepEqual(
      stub.requests.map((q) => q.status),
      [500, 503, 200],
    );
    assert.equal(stub.messages.length, 1);
  });

  test('when Slack keeps failing past the retries, then the alert goes to the log and the key is not marked sent', async () => {
    stub.messages.length = 0;
    const { a, logs } = alerter(stub, { retries: 1 });
    stub.failNext({ status: 500 }, { status: 500 });
    const r = await a.send({ key: 'down', severity: 'critical', title: 'slack down', text: 'x' });
    assert.equal(r.outcome, 'failed');
    assert.ok(logs.some((l) => l.includes('slack down')));
    assert.equal(
      (await a.send({ key: 'down', severity: 'critical', title: 'slack down', text: 'x' })).outcome,
      'sent',
    );
  });

  test('when warnings exceed the rate limit, then the extra ones are dropped but a critical still goes out', async () => {
    stub.messages.length = 0;
    const { a } = alerter(stub, { rateLimit: { perMinute: 1, burst: 2 }, clock: () => 0 });
    const outcomes = [];
    for (const k of ['a', 'b', 'c', 'd']) outcomes.push((await a.send(warn(k))).outcome);
    assert.deepEqual(outcomes, ['sent', 'sent', 'rate_limited', 'rate_limited']);
    assert.equal(
      (await a.send({ key: 'crit', severity: 'critical', title: 'x', text: 'y' })).outcome,
      'sent',
    );
    assert.equal(stub.messages.length, 3);
  });

  test('when the token is wrong, then the platform error is reported and nothing is posted', async () => {
    stub.messages.length = 0;
    const { a } = alerter(stub, { token: 'xoxb-wrong' });
    const r = await a.send(warn('auth'));
    assert.equal(r.outcome, 'failed');
    assert.match(r.error ?? '', /invalid_auth/);
    assert.equal(stub.messages.length, 0);
  });

  test('when no token is configured, then alerts are written to the log and Slack is not called', async () => {
    stub.requests.length = 0;
    const logs: string[] = [];
    const a = new SlackAlerter({
      channels: CHANNELS,
      log: (l) => logs.push(l),
      temporalUiUrl: 'http://ui:8233',
      namespace: 'prod',
    });
    const r = await a.send({
      key: 'x',
      severity: 'critical',
      title: 'halted',
      text: 'risk HALTED',
      workflowId: 'wf-1',
    });
    assert.equal(r.outcome, 'logged');
    assert.equal(stub.requests.length, 0);
    assert.match(
      logs.join('\n'),
      /no SLACK_BOT_TOKEN[\s\S]*halted[\s\S]*http:\/\/ui:8233\/namespaces\/prod\/workflows\/wf-1/,
    );
  });

  test('when many distinct keys pass through over hours, then expired keys are forgotten', async () => {
    let now = 0;
    const a = new SlackAlerter({
      channels: CHANNELS,
      log: () => undefined,
      clock: () => now,
      dedupWindowMs: 60_000,
      rateLimit: { perMinute: 1_000_000, burst: 1_000_000 },
    });
    for (let i = 0; i < 1000; i++) {
      now += 1_000;
      await a.send({ key: `k${i}`, severity: 'info', title: 't', text: 'x' });
    }
    assert.ok(a.trackedKeys <= 256 + 60, `tracked ${a.trackedKeys}`);
  });

  test('when a channel is missing for a severity, then construction fails naming it', () => {
    assert.throws(
      () => new SlackAlerter({ channels: { critical: '#c', warning: '#w', info: '' } }),
      /channels\.info/,
    );
  });
});
