import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { SkeletonActivities } from '../contracts/skeleton';

export function createSkeletonActivities(deps: { pool: Pool }): SkeletonActivities {
  return {
    async recordPing({ workflowId, message }) {
      if (!message) throw ApplicationFailure.nonRetryable('message: must not be empty', 'ValidationError');
      // Idempotent: a retried activity finds the row its first attempt wrote.
      const { rows } = await deps.pool.query<{ id: string }>(
        `insert into skeleton_pings (workflow_id, message) values ($1, $2)
         on conflict (workflow_id) do update set message = excluded.message
         returning id`,
        [workflowId, message],
      );
      const count = await deps.pool.query<{ n: string }>(
        'select count(*) as n from skeleton_pings where workflow_id = $1',
        [workflowId],
      );
      return { pingId: Number(rows[0]!.id), rowsForWorkflow: Number(count.rows[0]!.n) };
    },
  };
}
