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

/**
 * What the trading session, the emergency shutdown and the model loop tell operators. The activity
 * (`notify`) turns each into a Slack alert with its severity, de-duplication key, numbers and the commands to
 * act (src/monitoring/alerting/operator-alerts.ts), so workflows send facts, not message text.
 */
export type OperatorEvent =
  | {
      /** The risk engine entered HALTED (critical) or REDUCING (warning). */
      readonly kind: 'risk_state';
      readonly state: 'HALTED' | 'REDUCING';
      readonly account: string;
      /** Exchange-local date 'YYYY-MM-DD': one message per account, state and day. */
      readonly tradingDay: string;
      /** Why, as the risk engine says it (e.g. "daily loss -3.1% beyond the 3% limit"). */
      readonly reason: string;
      readonly workflowId?: string;
      readonly runId?: string;
      readonly dailyPnlDollars?: number;
      readonly dailyPnlRatio?: number;
      readonly dailyLossLimitRatio?: number;
      readonly drawdownRatio?: number;
    }
  | {
      /** A trading session ended failed: its positions are no longer managed (critical). */
      readonly kind: 'session_failed';
      readonly workflowId: string;
      readonly runId?: string;
      readonly account: string;
      readonly error: string;
      readonly openPositions?: number;
    }
  | {
      /** The session's newest bars are too old to trade on (warning); entries are blocked meanwhile. */
      readonly kind: 'stale_data';
      readonly account: string;
      readonly timeframe: string;
      readonly symbols: readonly string[];
      readonly newestBarAgeSeconds: number;
      readonly workflowId?: string;
    }
  | {
      readonly kind: 'emergency_shutdown_started';
      readonly workflowId: string;
      readonly reason: string;
      readonly requestedBy: string;
      readonly account?: string | null;
    }
  | {
      /** The emergency shutdown's outcome: flat, or what is still open (always critical: it closes the page). */
      readonly kind: 'emergency_shutdown_result';
      readonly workflowId: string;
      readonly reason: string;
      readonly flat: boolean;
      readonly sessionsKilled: number;
      readonly ordersCanceled: number;
      readonly closeOrders: number;
      readonly remainingPositions: ReadonlyArray<{ readonly symbol: string; readonly qty: number }>;
      readonly openOrders: number;
      /** The error that stopped it, when one did (e.g. a permanent broker error). */
      readonly error?: string;
    }
  | {
      /** The champion/challenger gate's decision on a retrained model: promoted (info) or rejected (warning). */
      readonly kind: 'model_decision';
      readonly name: string;
      readonly modelId: string;
      readonly decision: 'promoted' | 'rejected';
      readonly reason: string;
      readonly workflowId?: string;
      readonly oos?: { readonly netPnl: number; readonly hitRate: number; readonly ic: number };
    }
  | {
      /** Live predictions drifted from the training distribution (warning). */
      readonly kind: 'model_drift';
      readonly model: string;
      /** Population stability index of recent predictions vs training. */
      readonly psi: number;
      readonly threshold: number;
      readonly tradingDay: string;
      /** What breached, in words (the drift monitor: feature or score PSI, or a sequential test of the live record). */
      readonly reasons?: readonly string[];
      /** The model's name (the learning loop retrains per name). */
      readonly name?: string;
    };

export interface MonitoringActivities {
  /** Alerts operators about an event (Slack when configured, else the log); never fails the caller. */
  notify(
    event: OperatorEvent,
  ): Promise<{ outcome: 'sent' | 'logged' | 'deduplicated' | 'rate_limited' | 'failed' }>;
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
