/**
 * Acceptance 3 of continuous learning (issue 17), the parts the kernel and the registry own: a challenger in
 * shadow is scored beside the champion at every decision and journaled with role 'shadow', but no order comes
 * from it (the simulated broker's fills all trace back to the traded model); `trader models rollback` reinstates
 * the previous champion at once, audited, and the next decision scores with it. The session's side (resolving
 * `champion:<name>` at every cycle, the simulator's placement log) is the kernel owner's model-port wiring.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { RetrainInput, RetrainResult } from '../../contracts/retrain';
import { runBacktestAsync } from '../../src/backtest/engine';
import { COMPACT_FEATURE_SET } from '../../src/features';
import { ModelRegistry } from '../../src/models/registry/registry';
import { OnlineModelPort, type ScoredRow } from '../../src/models/serving/model-port';
import { loadServedModel } from '../../src/models/serving/served-model';
import { ModelSignalStrategy } from '../../src/strategy/model-signal';
import { upsertBars } from '../../src/storage/bar-store';
import { TEST_TEMPORAL_ADDRESS } from '../support/temporal';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { flipBars } from '../support/flip-bars';
import { barColumns, learningWorkers } from '../support/learning-harness';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);

describe('shadow challengers never trade; rollback reinstates the previous champion (acceptance 3)', () => {
  let db: TestDatabase;
  let t: TemporalTestContext;
  let artifactDir: string;
  before(async () => {
    db = await createTestDatabase();
    t = await connectTemporal();
    artifactDir = mkdtempSync(join(tmpdir(), 'learning-shadow-'));
  });
  after(async () => {
    await t.close();
    await db.drop();
    rmSync(artifactDir, { recursive: true, force: true });
  });

  test('when a challenger is in shadow, then it is scored and journaled but every fill comes from the champion; after `models rollback` the next decision trades the restored champion', async () => {
    const name = `shadow-${randomBytes(3).toString('hex')}`;
    // two regimes, so champion and challenger disagree often: a shadow order would show
    const data = flipBars({
      symbol: 'SHDW',
      from: '2024-04-01',
      days: 14,
      flipDay: 7,
      phi: 0.3,
      sigma: 0.002,
      seed: 3,
    });
    await upsertBars(db.pool, data.bars, 'synthetic-shadow', true);
    const registry = new ModelRegistry(db.pool, artifactDir);
    const w = await learningWorkers(t, db.pool, artifactDir);
    const ids = await w.run(async () => {
      const train = async (tag: string, fromDay: number, toDay: number) =>
        t.client.workflow.execute<(i: RetrainInput) => Promise<RetrainResult>>('retrainWorkflow', {
          taskQueue: w.ioQueue,
          workflowId: `retrain-${name}-${tag}`,
          args: [
            {
              name,
              source: {
                kind: 'db',
                symbol: 'SHDW',
                fromMs: data.days[fromDay]!.openMs,
                toMs: data.days[toDay]!.closeMs,
              },
              spec: {
                kind: 'xgboost',
                objective: 'squared_error',
                rounds: 30,
                params: { max_depth: 2, eta: 0.1, nthread: 1, seed: 1 },
                costRate: 0.0001,
                positionPenalty: 0,
              },
              featureSet: 'compact',
              folds: 2,
              embargoMinutes: 10,
              promotion: 'shadow',
              taskQueues: { io: w.ioQueue, training: w.trainingQueue },
            },
          ],
        });
      const first = await train('a', 0, 5); // momentum
      const second = await train('b', 7, 11); // mean reversion
      return { first: first.modelId, second: second.modelId };
    });
    // the first becomes champion, then the second is promoted over it; a third model stays in shadow
    await registry.promote(ids.first, { actor: 'test:operator', reason: 'first champion' });
    await registry.promote(ids.second, { actor: 'test:operator', reason: 'second champion' });
    await registry.setStatus(ids.first, 'shadow', {
      actor: 'test:operator',
      reason: 'the old champion in shadow',
    });
    assert.equal((await registry.champion(name))!.id, ids.second);

    // a day traded through the kernel with the champion, the shadow scored beside it
    const journal: ScoredRow[] = [];
    const day = data.days[12]!;
    const from = day.openMs - 5 * 86_400_000;
    const series = [
      barColumns(
        'SHDW',
        data.bars.filter((b) => b.ts >= from && b.ts < day.closeMs),
      ),
    ];
    const champion = await loadServedModel(registry, `champion:${name}`);
    const shadow = await loadServedModel(registry, ids.first);
    const port = new OnlineModelPort({
      set: COMPACT_FEATURE_SET,
      traded: champion,
      shadows: [shadow],
      sink: (rows) => void journal.push(...rows),
    });
    const strategy = new ModelSignalStrategy({ weight: 0.05 }, '5m');
    const r = await runBacktestAsync({
      strategy,
      series,
      from: day.openMs,
      to: day.closeMs,
      predictions: port,
      startingCash: 100_000,
      seed: 1,
    });
    await champion.close();
    await shadow.close();
    const traded = journal.filter((x) => x.role === 'traded');
    const shadowRows = journal.filter((x) => x.role === 'shadow');
    assert.ok(traded.length > 50 && shadowRows.length === traded.length, 'both scored at every decision');
    assert.ok(shadowRows.every((x) => x.modelId === ids.first));
    const disagree = traded.filter(
      (x, i) => Math.sign(x.expectedReturn) !== Math.sign(shadowRows[i]!.expectedReturn),
    ).length;
    assert.ok(
      disagree > 10,
      `champion and shadow disagree on ${disagree} decisions: a shadow order would show`,
    );
    assert.ok(r.trades.length > 0, 'the champion traded');
    assert.ok(
      r.trades.every((x) => x.model === ids.second),
      `every trade comes from the champion: ${[...new Set(r.trades.map((x) => x.model))].join(', ')}`,
    );

    // the operator rolls back: the previous champion (now in shadow) is reinstated, audited
    const cli = await run(
      'npx',
      [
        'tsx',
        'cli/main.ts',
        'models',
        'rollback',
        '--name',
        name,
        '--reason',
        'bad fills',
        '--operator',
        'alice',
        '--json',
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          TRADER_ARTIFACT_DIR: artifactDir,
          TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
        },
      },
    );
    assert.deepEqual(JSON.parse(cli.stdout.trim().split('\n').pop()!), { from: ids.second, to: ids.first });
    assert.equal((await registry.champion(name))!.id, ids.first);
    const audit = await db.pool.query<{ actor: string; operator: string; subject: string; reason: string }>(
      `select actor, operator, subject, reason from audit_log where action = 'model.rolled_back'`,
    );
    assert.deepEqual(audit.rows, [
      { actor: 'cli:alice', operator: 'cli:alice', subject: ids.first, reason: 'bad fills' },
    ]);
    // the next decision resolves champion:<name> again and scores with the restored model
    const restored = await loadServedModel(registry, `champion:${name}`);
    try {
      assert.equal(restored.id, ids.first);
    } finally {
      await restored.close();
    }
    // rolling back from the first has nothing earlier than it; the CLI names the problem
    await assert.rejects(
      run('npx', ['tsx', 'cli/main.ts', 'models', 'rollback', '--name', 'nope', '--reason', 'x'], {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          TRADER_ARTIFACT_DIR: artifactDir,
          TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
        },
      }),
      /no champion to roll back/,
    );
  });
});
