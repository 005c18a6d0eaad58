import { Context } from '@temporalio/activity';
import type { OperatorResolver } from './identity';
import type { OrderAudit, OrderAuditContext } from './order-audit';

/**
 * The audit context of the running activity: its workflow (`workflow:<type>`, id, run) and the person behind
 * that workflow (its starter, read from the history), or `explicitOperator` when the caller names one. Outside
 * an activity (a tool calling the activity function directly) the actor is `fallbackActor`.
 */
export async function activityAuditContext(
  operators: OperatorResolver | undefined,
  explicitOperator?: string | null,
  fallbackActor = 'execution',
): Promise<OrderAuditContext> {
  let info: Context['info'];
  try {
    info = Context.current().info;
  } catch {
    return { actor: fallbackActor, operator: explicitOperator ?? null };
  }
  if (!info.workflowExecution) return { actor: fallbackActor, operator: explicitOperator ?? null };
  const { workflowId, runId } = info.workflowExecution;
  let operator = explicitOperator ?? null;
  // who the workflow acts for; a history that cannot be read leaves it unknown rather than stopping trading
  if (!operator && operators) operator = await operators.startedBy(workflowId, runId).catch(() => null);
  return { actor: `workflow:${info.workflowType ?? 'unknown'}`, operator, workflowId, runId };
}

/** What the execution activities need to audit orders: the writer and, to name operators, the resolver. */
export interface ExecutionAudit {
  readonly orders: OrderAudit;
  readonly operators?: OperatorResolver;
}
