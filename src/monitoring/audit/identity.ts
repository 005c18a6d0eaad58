import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/**
 * Who is behind an action, as Temporal recorded it. Every client that starts, signals or updates a workflow
 * sends an `identity`, and the server writes it into the history event (WorkflowExecutionStarted, …Signaled,
 * …UpdateAccepted). The `trader` CLI sends `trader-cli:<user>@<host>`; the `temporal` CLI
 * `temporal-cli:<user>@<host>`; the Web UI its own (the signed-in user where auth is on). An audit activity reads
 * the identity back through the client, so an action taken outside our CLI is still attributed.
 */

/** The identity the `trader` CLI's Temporal client sends; `operatorFromIdentity` maps it back to `cli:<user>`. */
export function traderCliIdentity(operator: string, host: string): string {
  return `${TRADER_CLI}${operator}@${host}`;
}
const TRADER_CLI = 'trader-cli:';

/** The operator an identity stands for: `cli:<user>` for the trader CLI, else `temporal:<identity>`. */
export function operatorFromIdentity(identity: string): string {
  if (identity.startsWith(TRADER_CLI)) {
    const rest = identity.slice(TRADER_CLI.length);
    const at = rest.lastIndexOf('@');
    return `cli:${at > 0 ? rest.slice(0, at) : rest}`;
  }
  return `temporal:${identity}`;
}

/** The operator named explicitly in a control's arguments (`--operator`, or the CLI user). */
export function operatorFromName(name: string): string {
  return name.includes(':') ? name : `cli:${name}`;
}

/** Which event of a workflow run carries the identity of a control. */
export type ControlRef =
  | { readonly updateId: string }
  /** the `ordinal`-th (1-based) signal called `signal` in the run's history */
  | { readonly signal: string; readonly ordinal: number };

export interface OperatorResolver {
  /**
   * The operator who started the workflow: the identity of its first run's start (across continue-as-new), or,
   * for a child workflow, of its parent's. null when the history cannot be read.
   */
  startedBy(workflowId: string, runId?: string): Promise<string | null>;
  /** The operator who sent a control to a run (the identity on its accepted-update or signaled event). */
  sentBy(workflowId: string, runId: string, ref: ControlRef): Promise<string | null>;
}

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Reads identities from workflow histories through a Temporal client; start identities are cached per run. */
export function temporalOperatorResolver(
  client: Client,
  opts: { cacheSize?: number } = {},
): OperatorResolver {
  const cache = new Map<string, Promise<string | null>>();
  const cacheSize = opts.cacheSize ?? 1_000;
  const namespace = client.options.namespace;

  async function* events(workflowId: string, runId: string | undefined, pageSize = 0) {
    let nextPageToken: Uint8Array | undefined;
    do {
      const res = await client.workflowService.getWorkflowExecutionHistory({
        namespace,
        execution: { workflowId, runId: runId ?? '' },
        maximumPageSize: pageSize,
        ...(nextPageToken?.length ? { nextPageToken } : {}),
      });
      for (const e of res.history?.events ?? []) yield e;
      nextPageToken = res.nextPageToken ?? undefined;
    } while (nextPageToken?.length);
  }

  async function firstEvent(workflowId: string, runId?: string): Promise<HistoryEvent | undefined> {
    for await (const e of events(workflowId, runId, 1)) return e;
    return undefined;
  }

  async function startedBy(workflowId: string, runId?: string, depth = 0): Promise<string | null> {
    const first = await firstEvent(workflowId, runId);
    const a = first?.workflowExecutionStartedEventAttributes;
    if (!a) return null;
    // A continued run was started by the previous run's worker: the person is on the first run's start.
    if (a.firstExecutionRunId && runId !== a.firstExecutionRunId && a.continuedExecutionRunId)
      return cached(workflowId, a.firstExecutionRunId, depth);
    // A child (an execution algorithm) acts for whoever started its parent.
    if (a.parentWorkflowExecution?.workflowId && depth < 5)
      return cached(
        a.parentWorkflowExecution.workflowId,
        a.parentWorkflowExecution.runId ?? undefined,
        depth + 1,
      );
    return a.identity ? operatorFromIdentity(a.identity) : null;
  }

  function cached(workflowId: string, runId: string | undefined, depth: number): Promise<string | null> {
    const key = `${workflowId}\u0000${runId ?? ''}`;
    let hit = cache.get(key);
    if (!hit) {
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
      hit = startedBy(workflowId, runId, depth).catch((e: unknown) => {
        cache.delete(key);
        throw e;
      });
      cache.set(key, hit);
    }
    return hit;
  }

  return {
    startedBy: (workflowId, runId) => cached(workflowId, runId, 0),

    async sentBy(workflowId, runId, ref) {
      let seen = 0;
      for await (const e of events(workflowId, runId)) {
        if ('updateId' in ref) {
          if (e.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) continue;
          const meta = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta;
          if (meta?.updateId === ref.updateId)
            return meta.identity ? operatorFromIdentity(meta.identity) : null;
        } else {
          if (e.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) continue;
          const s = e.workflowExecutionSignaledEventAttributes;
          if (s?.signalName !== ref.signal || ++seen !== ref.ordinal) continue;
          return s.identity ? operatorFromIdentity(s.identity) : null;
        }
      }
      return null;
    },
  };
}
