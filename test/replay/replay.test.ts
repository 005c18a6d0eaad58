import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { HISTORIES_DIR, WORKFLOWS_PATH } from '../support/temporal';

/**
 * Every recorded history under test/replay/histories replays against today's workflow code. A change that
 * makes a workflow non-deterministic fails here, in CI, before it can break running workflows.
 */
const files = readdirSync(HISTORIES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

function load(file: string) {
  return {
    workflowId: file.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8'))),
  };
}

describe('replay of recorded histories', () => {
  test('when the recorded histories are replayed, then every one is deterministic', async () => {
    assert.ok(files.length >= 1, 'at least the skeleton history is recorded');
    const results = Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, files.map(load));
    const failures: string[] = [];
    for await (const r of results) if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
    assert.deepEqual(failures, []);
  });

  test('when the workflow code changes non-deterministically, then replay fails', async () => {
    await assert.rejects(
      Worker.runReplayHistory(
        { workflowsPath: resolve(__dirname, '../fixtures/nondeterministic/workflows.ts') },
        load('skeleton.json').history,
      ),
      (err: Error) =>
        err instanceof DeterminismViolationError || /[Nn]ondeterminism|determinism/.test(err.message),
    );
  });
});
