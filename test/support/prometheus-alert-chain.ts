/**
 * The whole alert path of production, on one test's ports: a real Prometheus scraping the given /metrics
 * targets and evaluating deploy/prometheus/rules/trader-alerts.yml (`for:` minutes as seconds, see
 * test/support/prometheus.ts), a real Alertmanager running deploy/prometheus/alertmanager.yml, whose
 * slack_configs post to Slack's chat.postMessage, here the local Slack stub (test/support/slack-stub.ts) with
 * the three severity channels. A scenario emits a metric through the real code path and then calls
 * `expectAlertInSlack`: the rule fires in Prometheus and Alertmanager delivers it to its severity's channel.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ALERT_RULES_FILE,
  ALERTMANAGER_CONFIG_FILE,
  fastAlertRules,
  prometheusTempDir,
  startAlertmanager,
  startPrometheus,
  testAlertmanagerConfig,
  type ManagedAlertmanager,
  type ManagedPrometheus,
  type PromAlert,
} from './prometheus';
import { readableText, SlackStub, type StubMessage } from './slack-stub';

/** Where alertmanager.yml routes each severity. */
export const SLACK_CHANNELS = {
  critical: '#trading-critical',
  warning: '#trading-warnings',
  info: '#trading-info',
} as const;

const BOT_TOKEN = 'xoxb-alert-chain-test';

export interface AlertChain {
  readonly slack: SlackStub;
  readonly prometheus: ManagedPrometheus;
  readonly alertmanager: ManagedAlertmanager;
  readonly dir: string;
  /**
   * Waits until Prometheus fires `alertname` with labels including `labels`, then until Alertmanager has posted
   * it (its summary) to the channel of its severity; returns both.
   */
  expectAlertInSlack(
    alertname: string,
    labels?: Record<string, string>,
    timeoutMs?: number,
  ): Promise<{ alert: PromAlert; message: StubMessage }>;
  stop(): Promise<void>;
}

export async function startAlertChain(opts: {
  /** Scrape jobs: name → host:port targets. The rules expect workers in a job named trader-workers. */
  readonly jobs: Readonly<Record<string, readonly string[]>>;
}): Promise<AlertChain> {
  const tmp = prometheusTempDir('alert-chain-');
  const slack = await new SlackStub({ token: BOT_TOKEN, channels: Object.values(SLACK_CHANNELS) }).start();
  let alertmanager: ManagedAlertmanager | undefined;
  let prometheus: ManagedPrometheus | undefined;
  const stop = async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    await slack.stop();
    tmp.remove();
  };
  try {
    const tokenFile = join(tmp.dir, 'slack-bot-token');
    writeFileSync(tokenFile, BOT_TOKEN);
    alertmanager = await startAlertmanager({
      dir: tmp.dir,
      config: testAlertmanagerConfig(readFileSync(ALERTMANAGER_CONFIG_FILE, 'utf8'), {
        slackApiUrl: slack.apiUrl,
        tokenFile,
      }),
    });
    const rules = join(tmp.dir, 'trader-alerts.fast.yml');
    writeFileSync(rules, fastAlertRules(readFileSync(ALERT_RULES_FILE, 'utf8')));
    prometheus = await startPrometheus({
      dir: tmp.dir,
      jobs: opts.jobs,
      ruleFiles: [rules],
      alertmanager: alertmanager.hostPort,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const prom = prometheus;
  return {
    slack,
    prometheus: prom,
    alertmanager,
    dir: tmp.dir,
    async expectAlertInSlack(alertname, labels = {}, timeoutMs = 60_000) {
      const alert = await prom.waitForFiring(alertname, labels, timeoutMs);
      const severity = alert.labels.severity as keyof typeof SLACK_CHANNELS;
      const channel = SLACK_CHANNELS[severity];
      if (!channel) throw new Error(`${alertname}: severity "${severity}" has no Slack channel`);
      const summary = alert.annotations.summary ?? alertname;
      const message = await slack.waitFor(
        (m) => m.channel === channel && readableText(m).includes(summary),
        timeoutMs,
        `${channel} message with "${summary}"`,
      );
      return { alert, message };
    },
    stop,
  };
}
