/**
 * Alerts and audit entries as workflows send them to activities (plain JSON). Workflows such as
 * EmergencyShutdown and Retrain call these through proxyActivities<MonitoringActivities>() on the io queue.
 */
export type AlertSeverityDto = 'critical' | 'warning' | 'info';

export interface AlertDto {
  /** De-duplication key: the same key within the alerter's window is delivered once. */
  readonly key: string;
  readonly severity: AlertSeverityDto;
  readonly title: string;
  readonly text: string;
  readonly workflowId?: string;
  readonly runId?: string;
  readonly actions?: readonly string[];
  readonly fields?: Readonly<Record<string, string>>;
}

export interface AuditEntryDto {
  readonly actor: string;
  readonly action: string;
  readonly subject?: string;
  readonly reason?: string;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly workflowId?: string;
  readonly runId?: string;
  /** Epoch ms; workflows pass workflow time so a replay records the same instant. */
  readonly atMs?: number;
  /** Makes activity retries harmless: the same key is written once. */
  readonly idempotencyKey?: string;
}

export interface MonitoringActivities {
  sendAlert(
    alert: AlertDto,
  ): Promise<{ outcome: 'sent' | 'logged' | 'deduplicated' | 'rate_limited' | 'failed' }>;
  recordAudit(entry: AuditEntryDto): Promise<{ id: number }>;
  recordWorkflowFailure(input: {
    workflowType: string;
    workflowId: string;
    runId?: string;
    error: string;
    critical?: boolean;
  }): Promise<void>;
}
