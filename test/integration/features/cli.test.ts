import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { SYNTHETIC_SOURCE, syntheticMinuteBars } from '../../../src/data/synthetic';
import { COMPACT_FEATURE_SET } from '../../../src/features';
import { MarketDataRepository, barCopyBatch } from '../../../src/storage/market-data-repo';
import { createTestDatabase, type TestDatabase } from '../../support/db';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../..');
let db: TestDatabase;

before(async () => {
  db = await createTestDatabase('tt_feat_cli');
  const bars = syntheticMinuteBars('CLIX', Date.UTC(2024, 6, 1), Date.UTC(2024, 6, 13), 2);
  await new MarketDataRepository(db.pool).writeBars(barCopyBatch(bars, SYNTHETIC_SOURCE, true), [], {
    source: SYNTHETIC_SOURCE,
  });
});
after(async () => {
  await db.drop();
});

test('when `trader features compute` runs, then it writes the offline store and reports per symbol', async () => {
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      'cli/main.ts',
      'features',
      'compute',
      '--symbols',
      'CLIX,NONE',
      '--from',
      '2024-07-08',
      '--to',
      '2024-07-13',
      '--set',
      'compact',
      '--threads',
      '1',
      '--warm-up-days',
      '7',
      '--no-progress',
      '--no-online',
    ],
    { cwd: ROOT, env: { ...process.env, DATABASE_URL: db.url }, timeout: 120_000 },
  );
  assert.match(stdout, new RegExp(`compact@${COMPACT_FEATURE_SET.version}`));
  assert.match(stdout, /no 1m bars stored for: NONE/);
  const r = await db.pool.query<{ n: string; first: Date }>(
    "select count(*) as n, min(ts) as first from feature_vectors where symbol = 'CLIX' and version = $1",
    [COMPACT_FEATURE_SET.version],
  );
  assert.ok(Number(r.rows[0]!.n) > 300, `rows ${r.rows[0]!.n}`);
  assert.ok(r.rows[0]!.first.getTime() >= Date.UTC(2024, 6, 8), 'nothing before --from is written');
});
