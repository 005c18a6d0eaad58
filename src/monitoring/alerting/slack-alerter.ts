import { LogLevel, WebClient, type ChatPostMessageArguments, type Logger } from '@slack/web-api';
import { recordAlertSent } from '../metrics';
import { renderAlertText, SEVERITIES, temporalWorkflowUrl, type Alert, type Severity } from './alert';

export interface SlackAlerterOptions {
  /** Bot token (SLACK_BOT_TOKEN). Without one, alerts are written to the log and nothing is sent. */
  readonly token?: string;
  /** Slack Web API base URL; tests point it at a local stub. Default https://slack.com/api/. */
  readonly slackApiUrl?: string;
  /** Channel per severity, e.g. { critical: '#trading-critical', warning: '#trading-warn', info: '#trading-info' }. */
  readonly channels: Readonly<Record<Severity, string>>;
  /** Same key within this window is sent once. Default 15 minutes. */
  readonly dedupWindowMs?: number;
  /**
   * Token bucket over all channels: at most `burst` messages at once, refilled at `perMinute`. Critical alerts
   * are never dropped by the limiter (they are de-duplicated, not rate-limited); warning/info beyond it are
   * dropped and counted.
   */
  readonly rateLimit?: { readonly perMinute: number; readonly burst: number };
  /** Retries of one message on 5xx/network errors; 429s wait Retry-After and retry too. Default 4. */
  readonly retries?: number;
  /** First retry delay; doubles each time. Default 1000 ms. */
  readonly retryMinTimeoutMs?: number;
  /** Per-request timeout. Default 10 s. */
  readonly timeoutMs?: number;
  /** Temporal Web UI base, e.g. http://127.0.0.1:8233, for workflow links. */
  readonly temporalUiUrl?: string;
  readonly namespace?: string;
  readonly clock?: () => number;
  readonly log?: (line: string) => void;
}

export type AlertOutcome = 'sent' | 'logged' | 'deduplicated' | 'rate_limited' | 'failed';

export interface AlertResult {
  readonly outcome: AlertOutcome;
  readonly channel?: string;
  /** Slack message timestamp (its id) when sent. */
  readonly ts?: string;
  readonly error?: string;
  /** Repeats of this key suppressed since the last delivery (reported in the next delivered message). */
  readonly suppressed?: number;
}

const quietLogger = (log: (l: string) => void): Logger => ({
  debug: () => undefined,
  info: () => undefined,
  warn: (...m: unknown[]) => log(`slack: ${m.map(String).join(' ')}`),
  error: (...m: unknown[]) => log(`slack: ${m.map(String).join(' ')}`),
  setLevel: () => undefined,
  getLevel: () => LogLevel.WARN,
  setName: () => undefined,
});

/**
 * Sends alerts to Slack with severity routing, de-duplication by key, rate limiting and retries; without a
 * token it logs them instead. Delivery failures never throw to the caller: an alert must not break trading.
 */
export class SlackAlerter {
  private readonly client?: WebClient;
  private readonly clock: () => number;
  private readonly log: (line: string) => void;
  private readonly dedupWindowMs: number;
  private readonly lastSent = new Map<string, { at: number; suppressed: number }>();
  private readonly inFlight = new Map<string, Promise<AlertResult>>();
  private tokens: number;
  private tokensAt: number;

  constructor(private readonly opts: SlackAlerterOptions) {
    for (const s of SEVERITIES) {
      if (!opts.channels[s])
        throw new RangeError(`channels.${s}: missing; give a Slack channel for every severity`);
    }
    this.clock = opts.clock ?? (() => Date.now());
    this.log = opts.log ?? ((l) => console.log(l));
    this.dedupWindowMs = opts.dedupWindowMs ?? 15 * 60_000;
    this.tokens = opts.rateLimit?.burst ?? 20;
    this.tokensAt = this.clock();
    if (opts.token) {
      const retries = opts.retries ?? 4;
      this.client = new WebClient(opts.token, {
        slackApiUrl: opts.slackApiUrl,
        timeout: opts.timeoutMs ?? 10_000,
        logger: quietLogger(this.log),
        retryConfig: {
          retries,
          factor: 2,
          minTimeout: opts.retryMinTimeoutMs ?? 1000,
          maxTimeout: 30_000,
          randomize: false,
        },
      });
    }
  }

  /** Keys remembered for de-duplication (bounded by pruning expired ones). */
  get trackedKeys(): number {
    return this.lastSent.size;
  }

  get sendsToSlack(): boolean {
    return this.client !== undefined;
  }

  async send(alert: Alert): Promise<AlertResult> {
    // Concurrent repeats of one key join the delivery already under way instead of racing past de-duplication.
    const pending = this.inFlight.get(alert.key);
    if (pending) {
      await pending;
      return this.suppress(alert);
    }
    const now = this.clock();
    this.pruneExpired(now);
    const prev = this.lastSent.get(alert.key);
    if (prev && now - prev.at < this.dedupWindowMs) return this.suppress(alert);
    if (alert.severity !== 'critical' && !this.takeToken(now)) {
      recordAlertSent(alert.severity, 'rate_limited');
      this.log(`alert rate-limited (dropped): [${alert.severity}] ${alert.title}`);
      return { outcome: 'rate_limited' };
    }
    const delivery = this.deliver(alert, prev?.suppressed ?? 0);
    this.inFlight.set(alert.key, delivery);
    try {
      const result = await delivery;
      if (result.outcome !== 'failed') this.lastSent.set(alert.key, { at: now, suppressed: 0 });
      return result;
    } finally {
      this.inFlight.delete(alert.key);
    }
  }

  /** Keys whose window ended are forgotten, so a long-running worker's memory stays bounded. */
  private pruneExpired(now: number): void {
    if (this.lastSent.size < 256) return;
    for (const [key, e] of this.lastSent) if (now - e.at >= this.dedupWindowMs) this.lastSent.delete(key);
  }

  private suppress(alert: Alert): AlertResult {
    const entry = this.lastSent.get(alert.key);
    if (entry) entry.suppressed += 1;
    recordAlertSent(alert.severity, 'deduplicated');
    return { outcome: 'deduplicated', suppressed: entry?.suppressed ?? 1 };
  }

  private takeToken(now: number): boolean {
    const perMinute = this.opts.rateLimit?.perMinute ?? 20;
    const burst = this.opts.rateLimit?.burst ?? 20;
    this.tokens = Math.min(burst, this.tokens + ((now - this.tokensAt) / 60_000) * perMinute);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private workflowUrl(alert: Alert): string | undefined {
    if (!alert.workflowId || !this.opts.temporalUiUrl) return undefined;
    return temporalWorkflowUrl(
      this.opts.temporalUiUrl,
      this.opts.namespace ?? 'default',
      alert.workflowId,
      alert.runId,
    );
  }

  private async deliver(alert: Alert, suppressedBefore: number): Promise<AlertResult> {
    const url = this.workflowUrl(alert);
    const text =
      renderAlertText(alert, url) +
      (suppressedBefore ? `\n(${suppressedBefore} repeats suppressed in the previous window)` : '');
    const channel = this.opts.channels[alert.severity];
    if (!this.client) {
      this.log(`ALERT ${channel} (no SLACK_BOT_TOKEN; not sent to Slack)\n${text}`);
      recordAlertSent(alert.severity, 'logged');
      return { outcome: 'logged', channel };
    }
    try {
      const res = await this.client.chat.postMessage({
        channel,
        text,
        blocks: blocksFor(alert, url),
        unfurl_links: false,
      });
      recordAlertSent(alert.severity, 'sent');
      return { outcome: 'sent', channel: res.channel ?? channel, ts: res.ts };
    } catch (err) {
      const message = (err as Error).message;
      recordAlertSent(alert.severity, 'failed');
      // The alert must still reach a human: fall back to the log with the full text.
      this.log(`ALERT delivery to Slack ${channel} failed (${message}); alert follows\n${text}`);
      return { outcome: 'failed', channel, error: message };
    }
  }
}

const EMOJI: Record<Severity, string> = {
  critical: ':rotating_light:',
  warning: ':warning:',
  info: ':information_source:',
};

function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Block Kit layout: header, text, fields, a button to the workflow, the commands as code. */
type Blocks = NonNullable<Extract<ChatPostMessageArguments, { blocks?: unknown }>['blocks']>;

function blocksFor(alert: Alert, url: string | undefined): Blocks {
  const blocks: Blocks = [
    {
      type: 'header',
      text: { type: 'plain_text', text: `${alert.severity.toUpperCase()}: ${alert.title}`.slice(0, 150) },
    },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `${EMOJI[alert.severity]} ${escapeMrkdwn(alert.text)}`.slice(0, 3000) },
    },
  ];
  const fields = Object.entries(alert.fields ?? {});
  if (fields.length) {
    blocks.push({
      type: 'section',
      fields: fields
        .slice(0, 10)
        .map(([k, v]) => ({ type: 'mrkdwn', text: `*${escapeMrkdwn(k)}*\n${escapeMrkdwn(v)}` })),
    });
  }
  if (url)
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `<${url}|Open workflow ${escapeMrkdwn(alert.workflowId ?? '')} in the Temporal UI>`,
      },
    });
  if (alert.actions?.length) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: alert.actions.map((a) => `\`${a}\``).join('\n') },
    });
  }
  return blocks;
}

/** The alerter from configuration: SLACK_BOT_TOKEN / SLACK_API_URL, channel names from SLACK_CHANNEL_* env. */
export function createAlerterFromEnv(
  config: {
    SLACK_BOT_TOKEN?: string;
    SLACK_API_URL?: string;
    TEMPORAL_NAMESPACE?: string;
    TEMPORAL_UI_PORT?: number;
  },
  env: NodeJS.ProcessEnv = process.env,
): SlackAlerter {
  return new SlackAlerter({
    token: config.SLACK_BOT_TOKEN,
    slackApiUrl: config.SLACK_API_URL,
    channels: {
      critical: env.SLACK_CHANNEL_CRITICAL ?? '#trading-critical',
      warning: env.SLACK_CHANNEL_WARNING ?? '#trading-warnings',
      info: env.SLACK_CHANNEL_INFO ?? '#trading-info',
    },
    temporalUiUrl: env.TEMPORAL_UI_URL ?? `http://127.0.0.1:${config.TEMPORAL_UI_PORT ?? 8233}`,
    namespace: config.TEMPORAL_NAMESPACE,
  });
}
