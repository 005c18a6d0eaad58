import { ApplicationFailure } from '@temporalio/activity';
import type { MonitoringActivities } from '../contracts/monitoring';
import { ValidationError } from '../src/model/errors';
import { operatorAlert, workflowFailedAlert, type SlackAlerter } from '../src/monitoring/alerting';
import type { AuditLog } from '../src/monitoring/audit/audit-log';
import { recordWorkflowFailure } from '../src/monitoring/metrics';

/** Alerting and audit for workflows; runs on the io queue. Delivery failures never fail the workflow. */
export function createMonitoringActivities(deps: {
  alerter: SlackAlerter;
  audit: AuditLog;
}): MonitoringActivities {
  return {
    async notify(event) {
      const r = await deps.alerter.send(operatorAlert(event));
      return { outcome: r.outcome };
    },
    async sendAlert(alert) {
      const r = await deps.alerter.send(alert);
      return { outcome: r.outcome };
    },
    async recordAudit(entry) {
      try {
        const e = await deps.audit.append(entry);
        return { id: e.id };
      } catch (err) {
        if (err instanceof ValidationError)
          throw ApplicationFailure.nonRetryable(err.message, 'ValidationError');
        throw err;
      }
    },
    async recordWorkflowFailure(input) {
      recordWorkflowFailure(input.workflowType, 'failed');
      await deps.alerter.send(workflowFailedAlert(input));
    },
  };
}
