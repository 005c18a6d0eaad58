/** The walking skeleton: one workflow, one activity that writes to Postgres. */
export interface SkeletonInput {
  readonly message: string;
}
export interface SkeletonResult {
  readonly pingId: number;
  readonly stored: string;
  readonly rowsForWorkflow: number;
}
export interface SkeletonActivities {
  recordPing(input: {
    workflowId: string;
    message: string;
  }): Promise<{ pingId: number; rowsForWorkflow: number }>;
}
