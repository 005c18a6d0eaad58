/**
 * A real Prometheus and a real Alertmanager (the Debian `prometheus` and `prometheus-alertmanager` packages,
 * installed by `npm run setup`) for tests: each on its own ephemeral ports and temporary storage, so test files
 * can run them in parallel. Prometheus scrapes and evaluates every second. Prometheus itself is started by
 * src/monitoring/local-prometheus.ts (the demo runs one too), re-exported here with the test-only pieces.
 *
 * What runs is the shipped configuration with a documented transformation, never a hand-edited copy:
 * - alert rules (`fastAlertRules`): deploy/prometheus/rules/trader-alerts.yml with every `for:` duration
 *   divided by 60 (minutes become seconds: `for: 2m` → `for: 2s`, `for: 0m` stays 0). Expressions, windows,
 *   labels and texts are unchanged.
 * - Alertmanager (`testAlertmanagerConfig`): deploy/prometheus/alertmanager.yml with Slack's chat.postMessage
 *   URL replaced by the local Slack stub's, the bot-token file by a temporary one, and the grouping delays
 *   (group_wait, group_interval) set to 0 s / 1 s. Routes, receivers, channels and inhibition are unchanged.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { onPath, PROMETHEUS_BIN, startDaemon } from '../../src/monitoring/local-prometheus';

export {
  freePort,
  PROMETHEUS_BIN,
  startPrometheus,
  until,
  type ManagedPrometheus,
  type PromAlert,
  type PrometheusOptions,
  type PromSample,
} from '../../src/monitoring/local-prometheus';

const root = resolve(__dirname, '../..');
export const ALERT_RULES_FILE = join(root, 'deploy/prometheus/rules/trader-alerts.yml');
export const ALERTMANAGER_CONFIG_FILE = join(root, 'deploy/prometheus/alertmanager.yml');

/** Debian names the binary prometheus-alertmanager; upstream builds call it alertmanager. */
export const ALERTMANAGER_BIN =
  process.env.ALERTMANAGER ?? onPath('prometheus-alertmanager') ?? onPath('alertmanager');

/** Why the real-Prometheus tests cannot run here (a skip reason), or false when they can. */
export const prometheusSkipReason: string | false =
  PROMETHEUS_BIN && ALERTMANAGER_BIN
    ? false
    : `needs ${[!PROMETHEUS_BIN && 'prometheus', !ALERTMANAGER_BIN && 'prometheus-alertmanager'].filter(Boolean).join(' and ')} on PATH: run \`npm run setup\` (as root) or \`apt-get install -y prometheus prometheus-alertmanager\``;

/** The test copy of the alert rules: every `for:` duration divided by 60 (minutes → seconds). */
export function fastAlertRules(yaml: string): string {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
  let changed = 0;
  const out = yaml.replace(
    /^(\s*for:\s*)((?:\d+(?:ms|s|m|h|d))+)\s*$/gm,
    (_line, head: string, dur: string) => {
      let seconds = 0;
      for (const [, n, u] of dur.matchAll(/(\d+)(ms|s|m|h|d)/g)) seconds += Number(n) * units[u!]!;
      changed++;
      const fast = seconds === 0 ? 0 : Math.max(1, Math.round(seconds / 60));
      return `${head}${fast}s`;
    },
  );
  if (!changed)
    throw new Error('fastAlertRules: no `for:` durations found; has the rules file changed shape?');
  return out;
}

/** The test copy of alertmanager.yml: Slack at the stub, a token file, grouping delays of a second. */
export function testAlertmanagerConfig(
  yaml: string,
  opts: { slackApiUrl: string; tokenFile: string },
): string {
  const replace = (s: string, re: RegExp, by: string, what: string) => {
    if (!re.test(s)) throw new Error(`testAlertmanagerConfig: ${what} not found in alertmanager.yml`);
    return s.replace(new RegExp(re.source, 'gm'), by);
  };
  let out = replace(
    yaml,
    /api_url: https:\/\/slack\.com\/api\/chat\.postMessage$/m,
    `api_url: ${new URL('chat.postMessage', opts.slackApiUrl).toString()}`,
    'the chat.postMessage api_url',
  );
  out = replace(
    out,
    /credentials_file: \/etc\/alertmanager\/slack-bot-token$/m,
    `credentials_file: ${opts.tokenFile}`,
    'the bot token credentials_file',
  );
  out = replace(out, /^(\s*)group_wait: \S+$/m, '$1group_wait: 0s', 'group_wait');
  out = replace(out, /^(\s*)group_interval: \S+$/m, '$1group_interval: 1s', 'group_interval');
  return out;
}

export interface ManagedAlertmanager {
  readonly url: string;
  /** host:port for Prometheus' alerting config. */
  readonly hostPort: string;
  stop(): Promise<void>;
}

export async function startAlertmanager(opts: { dir: string; config: string }): Promise<ManagedAlertmanager> {
  if (!ALERTMANAGER_BIN) throw new Error(String(prometheusSkipReason));
  const configFile = join(opts.dir, 'alertmanager.yml');
  writeFileSync(configFile, opts.config);
  const d = await startDaemon(
    'alertmanager',
    ALERTMANAGER_BIN,
    (port) => [
      `--config.file=${configFile}`,
      `--storage.path=${join(opts.dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // No gossip port: a second test file's Alertmanager must not try to cluster with this one.
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    join(opts.dir, 'alertmanager.log'),
  );
  return { url: d.url, hostPort: new URL(d.url).host, stop: () => d.stop() };
}

/** A temporary directory for one test file's Prometheus/Alertmanager; `remove` deletes it. */
export function prometheusTempDir(prefix = 'prometheus-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
