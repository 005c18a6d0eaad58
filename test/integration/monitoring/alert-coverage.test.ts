import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ALERT_RULES_FILE } from '../../support/prometheus';

const root = resolve(__dirname, '../../..');

/**
 * Where each alert rule of deploy/prometheus/rules/trader-alerts.yml is shown firing through the real
 * Prometheus → Alertmanager → Slack chain (test/support/prometheus-alert-chain.ts). A new rule needs an entry
 * here and a scenario written like those in alert-scenarios.test.ts (emit through the real code path, then
 * `chain.expectAlertInSlack(alertname, labels)`), or it is removed: no rule stays unproven.
 */
type Coverage = { readonly file: string; readonly test: string };

const SCENARIOS = 'test/integration/monitoring/alert-scenarios.test.ts';
/** The replayed session whose daily-loss breaker trips (HALTED), then whose limit an operator raises. */
const HALT =
  'when a replayed session loses past a tiny daily loss limit, then the HALT reaches Slack as daily-loss breached, limit breach and approaching, and TraderRiskHalted once the limit is raised';

const ALERT_SCENARIOS: Readonly<Record<string, Coverage>> = {
  TraderOrderRejectsSpike: {
    file: SCENARIOS,
    test: 'when more than 5 orders in 10 minutes are refused by the broker, then TraderOrderRejectsSpike reaches #trading-warnings',
  },
  TraderTrainingFailures: {
    file: SCENARIOS,
    test: 'when two training runs fail, then TraderTrainingFailures reaches #trading-warnings for the model family',
  },
  TraderWorkflowFailures: {
    file: SCENARIOS,
    test: 'when a workflow fails on the worker, then TraderWorkflowFailures (Temporal SDK metric) reaches #trading-warnings',
  },
  TraderDataQualityRejectsHigh: {
    file: SCENARIOS,
    test: 'when a backfill stores bars that stop minutes before now, with 25 bad rows, then stale-data (1m and 5m) and data-quality alerts reach Slack and ingestion is counted',
  },
  TraderStaleData: {
    file: SCENARIOS,
    test: 'when a backfill stores bars that stop minutes before now, with 25 bad rows, then stale-data (1m and 5m) and data-quality alerts reach Slack and ingestion is counted',
  },
  TraderStaleDataSlowTimeframes: {
    file: SCENARIOS,
    test: 'when a backfill stores bars that stop minutes before now, with 25 bad rows, then stale-data (1m and 5m) and data-quality alerts reach Slack and ingestion is counted',
  },
  TraderWorkerDown: {
    file: SCENARIOS,
    test: 'when the worker process is killed, then TraderWorkerDown reaches #trading-critical',
  },
  TraderDailyLossLimitBreached: { file: SCENARIOS, test: HALT },
  TraderDailyLossApproaching: { file: SCENARIOS, test: HALT },
  TraderRiskLimitBreach: { file: SCENARIOS, test: HALT },
  TraderRiskHalted: { file: SCENARIOS, test: HALT },
  TraderModelDrift: {
    file: SCENARIOS,
    test: 'when the drift monitor finds a day of scores far from the out-of-sample ones, then TraderModelDrift reaches #trading-warnings',
  },
};

function alertNames(): string[] {
  return [...readFileSync(ALERT_RULES_FILE, 'utf8').matchAll(/^\s*- alert: (\w+)\s*$/gm)].map((m) => m[1]!);
}

describe('alert rule scenarios', () => {
  test('when the rules are listed, then each has a firing scenario, and nothing else is listed', () => {
    const rules = alertNames().sort();
    assert.ok(rules.length >= 10, `rules found: ${rules.join(', ')}`);
    assert.deepEqual(Object.keys(ALERT_SCENARIOS).sort(), rules);
  });

  test('when a scenario is named, then its test file holds a test of that name', () => {
    for (const [alert, c] of Object.entries(ALERT_SCENARIOS)) {
      const file = join(root, c.file);
      assert.ok(existsSync(file), `${alert}: ${c.file} missing`);
      assert.ok(
        readFileSync(file, 'utf8').includes(`'${c.test}'`),
        `${alert}: no test "${c.test}" in ${c.file}`,
      );
    }
  });
});
