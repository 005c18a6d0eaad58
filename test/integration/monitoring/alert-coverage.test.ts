import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ALERT_RULES_FILE } from '../../support/prometheus';

const root = resolve(__dirname, '../../..');

/**
 * Where each alert rule of deploy/prometheus/rules/trader-alerts.yml is shown firing through the real
 * Prometheus → Alertmanager → Slack chain (test/support/prometheus-alert-chain.ts), or why it cannot be yet.
 * A new rule needs an entry here; a pending rule gets its scenario when the code that emits its metric lands,
 * written like those in alert-scenarios.test.ts: emit through the real code path, then
 * `chain.expectAlertInSlack(alertname, labels)`.
 */
type Coverage =
  { readonly file: string; readonly test: string } | { readonly pending: string; readonly emittedBy: string };

const SCENARIOS = 'test/integration/monitoring/alert-scenarios.test.ts';

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
  TraderDailyLossLimitBreached: {
    pending: 'the trading session is being rebuilt; its daily-loss breach scenario comes with it',
    emittedBy:
      'execution activities → SessionMetrics.portfolio (trader_daily_pnl_ratio, emitted today) and the session each cycle → setRiskState (trader_risk_daily_loss_limit_ratio, not emitted yet)',
  },
  TraderDailyLossApproaching: {
    pending: 'as TraderDailyLossLimitBreached',
    emittedBy: 'as TraderDailyLossLimitBreached',
  },
  TraderRiskLimitBreach: {
    pending: 'the session kernel is being rebuilt',
    emittedBy: 'the session when a breaker trips → recordRiskBreach (trader_risk_limit_breaches_total)',
  },
  TraderRiskHalted: {
    pending: 'the session kernel is being rebuilt',
    emittedBy: 'the session each cycle → setRiskState (trader_risk_state{state="HALTED"})',
  },
  TraderModelDrift: {
    pending: 'the model loop (predictions and drift) is being rebuilt',
    emittedBy:
      'the inference path → setPredictionDrift (trader_model_prediction_drift, PSI against training)',
  },
};

function alertNames(): string[] {
  return [...readFileSync(ALERT_RULES_FILE, 'utf8').matchAll(/^\s*- alert: (\w+)\s*$/gm)].map((m) => m[1]!);
}

describe('alert rule scenarios', () => {
  test('when the rules are listed, then each has a firing scenario or a stated reason it is pending, and nothing else is listed', () => {
    const rules = alertNames().sort();
    assert.ok(rules.length >= 10, `rules found: ${rules.join(', ')}`);
    assert.deepEqual(Object.keys(ALERT_SCENARIOS).sort(), rules);
  });

  test('when a scenario is named, then its test file holds a test of that name', (t) => {
    for (const [alert, c] of Object.entries(ALERT_SCENARIOS)) {
      if ('pending' in c) {
        t.diagnostic(`${alert}: pending — ${c.pending}; emitted by: ${c.emittedBy}`);
        continue;
      }
      const file = join(root, c.file);
      assert.ok(existsSync(file), `${alert}: ${c.file} missing`);
      assert.ok(
        readFileSync(file, 'utf8').includes(`'${c.test}'`),
        `${alert}: no test "${c.test}" in ${c.file}`,
      );
    }
  });
});
