/** What an alert says; channels, de-duplication and delivery live in the alerter. */
export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Alert {
  /**
   * Identity for de-duplication: the same key within the window is sent once (e.g. `daily-loss:<account>:<day>`).
   * Put what makes two alerts "the same problem" in the key, not the changing numbers.
   */
  readonly key: string;
  readonly severity: Severity;
  readonly title: string;
  /** What happened and why it matters, with the numbers. */
  readonly text: string;
  /** The workflow to open in the Temporal UI, when the alert concerns one. */
  readonly workflowId?: string;
  readonly runId?: string;
  /** Operator commands to act on it (pause, liquidate...). */
  readonly actions?: readonly string[];
  readonly fields?: Readonly<Record<string, string>>;
}

/** Link to a workflow in the Temporal Web UI: http://<ui>/namespaces/<ns>/workflows/<id>[/<runId>]. */
export function temporalWorkflowUrl(
  uiBaseUrl: string,
  namespace: string,
  workflowId: string,
  runId?: string,
): string {
  const base = uiBaseUrl.replace(/\/+$/, '');
  const path = `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${path}/${encodeURIComponent(runId)}` : path;
}

/** The operator commands for a trading session, exactly as the CLI takes them (each control needs a reason). */
export function sessionActions(workflowId: string): string[] {
  return [
    `npm run trader -- session status ${workflowId}`,
    `npm run trader -- session pause ${workflowId} --reason "<why>"`,
    `npm run trader -- session liquidate ${workflowId} --reason "<why>"`,
    'npm run trader -- shutdown --emergency --reason "<why>"',
  ];
}

/** Plain-text rendering (the log and Slack's notification fallback). */
export function renderAlertText(alert: Alert, workflowUrl?: string): string {
  const lines = [`[${alert.severity.toUpperCase()}] ${alert.title}`, alert.text];
  for (const [k, v] of Object.entries(alert.fields ?? {})) lines.push(`${k}: ${v}`);
  if (workflowUrl) lines.push(`Workflow: ${workflowUrl}`);
  if (alert.actions?.length) lines.push(`Act: ${alert.actions.join(' | ')}`);
  return lines.join('\n');
}

/** A workflow ended failed: warning (critical for trading sessions, whose failure leaves positions unmanaged). */
export function workflowFailedAlert(a: {
  workflowType: string;
  workflowId: string;
  runId?: string;
  error: string;
  critical?: boolean;
}): Alert {
  return {
    key: `workflow-failed:${a.workflowId}:${a.runId ?? ''}`,
    severity: a.critical ? 'critical' : 'warning',
    title: `Workflow ${a.workflowType} failed`,
    text: `${a.workflowId} failed: ${a.error}`,
    workflowId: a.workflowId,
    runId: a.runId,
    actions: a.critical
      ? sessionActions(a.workflowId)
      : [`temporal workflow show --workflow-id ${a.workflowId}`],
  };
}
