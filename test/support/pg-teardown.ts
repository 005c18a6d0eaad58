import type { TestDatabase } from './db';

/**
 * `drop database … with (force)` at teardown terminates any connection still open to the test database,
 * and pg then emits 'error' on the pool ("terminating connection due to administrator command"). With no
 * listener that is an uncaught exception after the test has passed; after teardown it means nothing.
 */
export function quietOnTeardown(...dbs: TestDatabase[]): void {
  for (const db of dbs) db.pool.on('error', () => undefined);
}
