import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  ServerFailure,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';

/** One link of a failure's cause chain, outermost first. */
export interface FailureLink {
  /** ApplicationFailure's own type (e.g. ValidationError), else the failure class. */
  readonly type: string;
  readonly message: string;
  /** What the link is about: the activity or child workflow, the timeout kind, non-retryable... */
  readonly detail?: string;
}

/** Retry states that say nothing about why a run failed. */
const UNINFORMATIVE_RETRY = new Set(['IN_PROGRESS', 'RETRY_POLICY_NOT_SET', undefined]);

/** The cause chain of an error as Temporal reports it: WorkflowFailedError → ActivityFailure → ApplicationFailure. */
export function failureChain(err: unknown): FailureLink[] {
  const out: FailureLink[] = [];
  const seen = new Set<unknown>();
  for (let e = err; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    const details: string[] = [];
    let type = e.name;
    if (e instanceof ApplicationFailure) {
      type = e.type ?? 'ApplicationFailure';
      if (e.nonRetryable) details.push('non-retryable');
    } else if (e instanceof ActivityFailure) {
      details.push(`activity ${e.activityType}`);
      if (!UNINFORMATIVE_RETRY.has(e.retryState)) details.push(`retry state ${e.retryState}`);
    } else if (e instanceof ChildWorkflowFailure) {
      details.push(`child workflow ${e.workflowType} ${e.execution.workflowId}`);
    } else if (e instanceof TimeoutFailure) {
      if (e.timeoutType) details.push(e.timeoutType);
    } else if (e instanceof WorkflowFailedError) {
      if (!UNINFORMATIVE_RETRY.has(e.retryState)) details.push(`retry state ${e.retryState}`);
    } else if (e instanceof TerminatedFailure || e instanceof ServerFailure) {
      type = e.constructor.name;
    }
    out.push({ type, message: e.message, ...(details.length ? { detail: details.join(', ') } : {}) });
  }
  return out;
}

/** A workflow that failed, with the cause chain in its message (what the CLI prints). */
export class WorkflowRunError extends Error {
  constructor(
    readonly workflowId: string,
    readonly chain: readonly FailureLink[],
  ) {
    super(formatWorkflowFailure(workflowId, chain));
    this.name = 'WorkflowRunError';
  }
}

/**
 * `workflow <id> failed: <root message> (<root type>)` then every link of the chain, so the reason (a
 * ValidationError naming the field, a broker's refusal, a timeout) is on screen, not only "Workflow
 * execution failed".
 */
export function formatWorkflowFailure(workflowId: string, chain: readonly FailureLink[]): string {
  const root = chain[chain.length - 1];
  const head = `workflow ${workflowId} failed${root ? `: ${root.message} (${root.type})` : ''}`;
  const lines = chain.map(
    (l, i) =>
      `  ${i === 0 ? 'failure' : 'caused by'}: ${l.type}${l.detail ? ` [${l.detail}]` : ''}: ${l.message}`,
  );
  return [head, ...lines].join('\n');
}

/**
 * The one way a CLI command waits for a workflow: its result, or a WorkflowRunError carrying the cause
 * chain. Every command that waits on a workflow goes through here.
 */
export async function waitForWorkflow<T = unknown>(handle: WorkflowHandle): Promise<T> {
  try {
    return (await handle.result()) as T;
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new WorkflowRunError(handle.workflowId, failureChain(err));
    throw err;
  }
}

/** Starts a workflow and waits for it through waitForWorkflow. */
export async function executeWorkflow<T = unknown>(
  client: Client,
  workflowType: string,
  options: WorkflowStartOptions,
): Promise<T> {
  const handle = await client.workflow.start(workflowType, options);
  return waitForWorkflow<T>(handle);
}
