/**
 * Bad input against the import and the backfill activities, on PostgreSQL: each case is one a tester
 * found (a 2099 row, a corrupt gzip in a parallel import, absurd prices, a value PostgreSQL refuses,
 * `csv:../..`), plus MANIFEST.csv symbols and synthetic data next to real bars.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { createDataActivities } from '../../../activities/data.activities';
import type { BackfillChunk, BackfillInput } from '../../../contracts/backfill';
import { importSharedData, csvFileFor } from '../../../src/data/shared-data';
import { syntheticMinuteBars } from '../../../src/data/synthetic';
import { MarketDataRepository, RowRefusedError } from '../../../src/storage/market-data-repo';
import { createTestDatabase, type TestDatabase } from '../../support/db';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../..');
const MIN = 60_000;
const DAY1 = Date.UTC(2013, 9, 7); // Monday
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const HEADER = 'ts,open,high,low,close,volume';

/** n regular-session minute rows of a day from 13:30Z (09:30 New York), prices around `p`. */
function minutes(day: number, n: number, p = 100): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const q = (p + (i % 7) * 0.01).toFixed(2);
    out.push(
      `${iso(day + 13.5 * 3_600_000 + i * MIN)},${q},${(Number(q) + 0.05).toFixed(2)},${(Number(q) - 0.05).toFixed(2)},${q},${100 + i}`,
    );
  }
  return out;
}

/** A data folder: files (rel → text or raw bytes) and a MANIFEST.csv listing them with their symbol. */
function dataDir(files: Array<{ rel: string; symbol: string; body: string | Buffer }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ingest-safety-'));
  const rows = ['path,source,timeframe,symbol,rows'];
  for (const f of files) {
    mkdirSync(dirname(join(dir, f.rel)), { recursive: true });
    writeFileSync(join(dir, f.rel), typeof f.body === 'string' ? gzipSync(f.body) : f.body);
    const [set, tf] = f.rel.split('/');
    rows.push(`${f.rel},${set},${tf},${f.symbol},0`);
  }
  writeFileSync(join(dir, 'MANIFEST.csv'), rows.join('\n') + '\n');
  return dir;
}

async function partitions(db: TestDatabase): Promise<string[]> {
  const r = await db.pool.query<{ name: string }>(
    "select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'bars'::regclass and c.relname <> 'bars_default' order by 1",
  );
  return r.rows.map((x) => x.name);
}

void describe('ingest safety on bad input', () => {
  let db: TestDatabase;
  let repo: MarketDataRepository;
  const dirs: string[] = [];
  const keep = (d: string) => (dirs.push(d), d);
  // IBM: 2 days of minutes with a 2099 row after the first 1000 lines' worth (here: after 100 rows).
  const good = [...minutes(DAY1, 390), ...minutes(DAY1 + 86_400_000, 390)];
  const with2099 = [
    HEADER,
    ...good.slice(0, 100),
    '2099-03-10T14:30:00Z,100,101,99,100,10',
    ...good.slice(100),
  ];
  let ibmDir: string;

  before(async () => {
    db = await createTestDatabase('tt_ingest_safety');
    repo = new MarketDataRepository(db.pool);
    ibmDir = keep(
      dataDir([{ rel: 'lean_equity_usa/1min/IBM.csv.gz', symbol: 'IBM', body: with2099.join('\n') }]),
    );
  });
  after(async () => {
    await db?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  void test('when `data import` reads a file with one 2099 row, then every valid row after it is stored, the row is a finding naming file, line and field, and only the month of accepted rows gets a partition', async () => {
    const [r] = await importSharedData({ dir: ibmDir, repo });
    assert.equal(r!.error, undefined);
    assert.equal(r!.summary!.rowsStored, good.length);
    assert.deepEqual(r!.summary!.rejectedByRule, { implausible_ts: 1 });
    const { rows } = await db.pool.query(
      "select location, field, rule from data_quality where severity = 'reject' and symbol = 'IBM'",
    );
    assert.deepEqual(rows, [
      { location: 'lean_equity_usa/1min/IBM.csv.gz:102', field: 'ts', rule: 'implausible_ts' },
    ]);
    assert.deepEqual(await partitions(db), ['bars_p201310']);
  });

  void test('when a backfill chunk reads the same file, then it stores the rows after the 2099 row too and reports the finding', async () => {
    const acts = createDataActivities({ repo, sharedDataDir: ibmDir });
    const input: BackfillInput = {
      symbols: ['IBM'],
      timeframes: ['1m'],
      fromMs: Date.UTC(2013, 9, 1),
      toMs: Date.UTC(2013, 10, 1),
      source: { kind: 'csv', dataset: 'lean_equity_usa' },
    };
    const [chunk] = await acts.planBackfill(input);
    const r = await acts.ingestChunk(chunk!);
    assert.equal(r.rowsStored, good.length);
    assert.deepEqual(r.rejectedByRule, { implausible_ts: 1 });
    const { rows } = await db.pool.query('select location, field from data_quality where chunk_key = $1', [
      chunk!.key,
    ]);
    assert.deepEqual(rows, [{ location: 'lean_equity_usa/1min/IBM.csv.gz:102', field: 'ts' }]);
  });

  void test('when a corrupt gzip is imported beside a good file in parallel, then the corrupt one is named and skipped, nothing of it replaces stored data, and the good one is stored whole', async () => {
    // SPY is stored already; the corrupt new version of it must change nothing.
    const spyOld = [HEADER, ...minutes(DAY1, 390, 170)].join('\n');
    await importSharedData({
      dir: keep(dataDir([{ rel: 'lean_equity_usa/1min/SPY.csv.gz', symbol: 'SPY', body: spyOld }])),
      repo,
    });
    const spyBefore = await repo.barChecksum({ symbol: 'SPY' });
    const bigSpy = gzipSync(
      [HEADER, ...minutes(DAY1, 390, 171), ...minutes(DAY1 + 86_400_000, 390, 171)].join('\n'),
    );
    const dir = keep(
      dataDir([
        {
          rel: 'lean_equity_usa/1min/SPY.csv.gz',
          symbol: 'SPY',
          body: bigSpy.subarray(0, Math.floor(bigSpy.length * 0.6)),
        },
        {
          rel: 'lean_equity_usa/1min/BAC.csv.gz',
          symbol: 'BAC',
          body: [HEADER, ...minutes(DAY1, 390, 15)].join('\n'),
        },
      ]),
    );
    const results = await importSharedData({ dir, repo, concurrency: 2 });
    const spy = results.find((r) => r.entry.symbol === 'SPY')!;
    const bac = results.find((r) => r.entry.symbol === 'BAC')!;
    assert.match(
      spy.error ?? '',
      /^lean_equity_usa\/1min\/SPY\.csv\.gz:\d+: file: cannot be read \(unexpected end of file\); the file was skipped and nothing of it was stored$/,
    );
    assert.equal(bac.summary!.rowsStored, 390);
    assert.equal((await repo.barChecksum({ symbol: 'BAC' })).count, 390);
    assert.deepEqual(await repo.barChecksum({ symbol: 'SPY' }), spyBefore);
    const { rows } = await db.pool.query(
      "select location, field from data_quality where rule = 'file_error'",
    );
    assert.equal(rows.length, 1);
    assert.match(rows[0].location, /^lean_equity_usa\/1min\/SPY\.csv\.gz:\d+$/);
    assert.equal(rows[0].field, 'file');

    // The CLI reports the failed file, finishes the others and exits 1.
    const cli = await run('npx', ['tsx', 'cli/main.ts', 'data', 'import', '--dir', dir], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: db.url },
    }).then(
      () => assert.fail('data import must exit 1 when a file failed'),
      (e: { code: number; stdout: string }) => e,
    );
    assert.equal(cli.code, 1);
    assert.match(
      cli.stdout,
      /2 files: 390 rows stored, 0 rejected; 1 file\(s\) FAILED, nothing of them stored/,
    );
    assert.match(cli.stdout, /FAILED lean_equity_usa\/1min\/SPY\.csv\.gz:\d+: file: cannot be read/);
  });

  void test('when prices are absurd (1e308, 1e-310) or a volume underflows (1e-400), then those rows are rejected naming the field and the others are stored', async () => {
    const rows = minutes(DAY1, 5, 40);
    const lines = [
      HEADER,
      rows[0]!,
      `${iso(DAY1 + 13.5 * 3_600_000 + MIN)},1e308,1e308,1e308,1e308,10`,
      `${iso(DAY1 + 13.5 * 3_600_000 + 2 * MIN)},1e-310,1e-310,1e-310,1e-310,10`,
      `${iso(DAY1 + 13.5 * 3_600_000 + 3 * MIN)},40,40.1,39.9,40,1e-400`,
      rows[4]!,
    ];
    const dir = keep(
      dataDir([{ rel: 'lean_equity_usa/1min/AIG.csv.gz', symbol: 'AIG', body: lines.join('\n') }]),
    );
    const [r] = await importSharedData({ dir, repo });
    assert.equal(r!.summary!.rowsStored, 2);
    const { rows: found } = await db.pool.query(
      "select location, rule, field from data_quality where symbol = 'AIG' and severity = 'reject' order by location, field",
    );
    assert.deepEqual(
      found.map(
        (f: { location: string; rule: string; field: string }) => `${f.location} ${f.rule} ${f.field}`,
      ),
      [
        'lean_equity_usa/1min/AIG.csv.gz:3 implausible_value close',
        'lean_equity_usa/1min/AIG.csv.gz:3 implausible_value high',
        'lean_equity_usa/1min/AIG.csv.gz:3 implausible_value low',
        'lean_equity_usa/1min/AIG.csv.gz:3 implausible_value open',
        'lean_equity_usa/1min/AIG.csv.gz:4 implausible_value close',
        'lean_equity_usa/1min/AIG.csv.gz:4 implausible_value high',
        'lean_equity_usa/1min/AIG.csv.gz:4 implausible_value low',
        'lean_equity_usa/1min/AIG.csv.gz:4 implausible_value open',
        'lean_equity_usa/1min/AIG.csv.gz:5 parse_error volume',
      ],
    );
  });

  void test('when PostgreSQL refuses a staged value, then the error names the staged line and the column, and nothing is stored', async () => {
    const w = await repo.beginStaged({
      kind: 'bars',
      symbol: 'ZZZ',
      timeframe: '1m',
      source: 't',
      synthetic: false,
      ctx: { source: 't' },
    });
    const t = (i: number) => new Date(DAY1 + 14 * 3_600_000 + i * MIN).toISOString();
    await assert.rejects(
      w.stage({
        copyText: `${t(0)}\t1\t1\t1\t1\t5\t\\N\t\\N\t11\n${t(1)}\t1\t1\t1\t1\t1e-400\t\\N\t\\N\t12\n${t(2)}\t1\t1\t1\t1\t5\t\\N\t\\N\t13\n`,
        count: 3,
        minTs: DAY1,
        maxTs: DAY1 + 3 * MIN,
      }),
      (e: unknown) => e instanceof RowRefusedError && e.line === 12 && e.field === 'volume',
    );
    await w.abort();
    assert.equal((await repo.barChecksum({ symbol: 'ZZZ' })).count, 0);
  });

  void test("when MANIFEST.csv gives a symbol that differs from the file name, then import and backfill store the manifest's symbol on its calendar", async () => {
    // Sunday 02:00Z minutes: outside any NYSE session, a normal crypto minute.
    const sunday = Date.UTC(2018, 3, 8, 2);
    const lines = [HEADER];
    for (let i = 0; i < 30; i++) lines.push(`${iso(sunday + i * MIN)},6900,6901,6899,6900,0.5`);
    const dir = keep(
      dataDir([{ rel: 'coinbase_x/1min/btc-usd.csv.gz', symbol: 'BTCUSD', body: lines.join('\n') }]),
    );
    const [r] = await importSharedData({ dir, repo });
    assert.equal(r!.summary!.symbol, 'BTCUSD');
    assert.equal(r!.summary!.rowsStored, 30);
    assert.equal((await repo.barChecksum({ symbol: 'BTCUSD' })).count, 30);
    assert.equal((await repo.barChecksum({ symbol: 'BTC-USD' })).count, 0);

    assert.equal(csvFileFor(dir, 'coinbase_x', '1m', 'BTCUSD').rel, 'coinbase_x/1min/btc-usd.csv.gz');
    const acts = createDataActivities({ repo, sharedDataDir: dir });
    const chunks = await acts.planBackfill({
      symbols: ['BTCUSD'],
      timeframes: ['1m'],
      fromMs: Date.UTC(2018, 3, 1),
      toMs: Date.UTC(2018, 4, 1),
      source: { kind: 'csv', dataset: 'coinbase_x' },
    });
    const res = await acts.ingestChunk(chunks[0]!);
    assert.equal(res.rowsStored, 30);
    assert.equal(res.rowsChanged, 0);
  });

  void test('when a synthetic backfill covers stored real bars, then the real bars are kept and the skipped rows are a finding; real data later replaces synthetic rows', async () => {
    const realBefore = await repo.barChecksum({ symbol: 'IBM', timeframe: '1m' });
    const acts = createDataActivities({ repo });
    const chunk: BackfillChunk = {
      key: 'synthetic:1:IBM:1m:2013-10',
      symbol: 'IBM',
      timeframe: '1m',
      fromMs: DAY1,
      toMs: DAY1 + 3 * 86_400_000,
      source: { kind: 'synthetic', seed: 1 },
      ownsLeading: true,
    };
    const r = await acts.ingestChunk(chunk);
    const real = await db.pool.query<{ n: string }>(
      "select count(*)::text as n from bars where symbol = 'IBM' and timeframe = '1m' and not synthetic",
    );
    assert.equal(Number(real.rows[0]!.n), realBefore.count, 'every real bar is still real');
    const generated = syntheticMinuteBars('IBM', DAY1, DAY1 + 3 * 86_400_000, 1).length;
    const overlap = r.rejectedByRule.synthetic_over_real ?? 0;
    assert.ok(overlap > 0);
    assert.equal(r.rowsStored, generated - overlap);
    const { rows } = await db.pool.query(
      "select value, field from data_quality where chunk_key = $1 and rule = 'synthetic_over_real'",
      [chunk.key],
    );
    assert.deepEqual(rows, [{ value: String(overlap), field: 'ts' }]);
    // The real rows' content is unchanged: the real file again changes nothing.
    const [again] = await importSharedData({ dir: ibmDir, repo });
    assert.equal(again!.summary!.rowsChanged, 0);

    // Real over synthetic: a real file for the third day replaces that day's synthetic minutes.
    const day3 = DAY1 + 2 * 86_400_000;
    const dir = keep(
      dataDir([
        {
          rel: 'lean_equity_usa/1min/IBM.csv.gz',
          symbol: 'IBM',
          body: [HEADER, ...minutes(day3, 60, 180)].join('\n'),
        },
      ]),
    );
    const [real3] = await importSharedData({ dir, repo });
    assert.equal(real3!.summary!.rowsChanged, 60);
    const s = await db.pool.query<{ n: string }>(
      "select count(*)::text as n from bars where symbol = 'IBM' and ts >= $1 and ts < $2 and not synthetic",
      [new Date(day3), new Date(day3 + 86_400_000)],
    );
    assert.equal(Number(s.rows[0]!.n), 60);
  });

  void test('when a csv source leads outside the data directory (.., an absolute path, a symlink), then it is refused naming the field, and no file content reaches the error', async () => {
    const outside = keep(mkdtempSync(join(tmpdir(), 'outside-')));
    mkdirSync(join(outside, '1min'), { recursive: true });
    writeFileSync(join(outside, '1min', 'SPY.csv.gz'), gzipSync('TOPSECRET-LINE,a,b\n1,2,3\n'));
    const dir = keep(
      dataDir([{ rel: 'lean_equity_usa/1min/IBM.csv.gz', symbol: 'IBM', body: with2099.join('\n') }]),
    );
    symlinkSync(outside, join(dir, 'evil'));
    const acts = createDataActivities({ repo, sharedDataDir: dir });
    const base: BackfillInput = {
      symbols: ['SPY'],
      timeframes: ['1m'],
      fromMs: Date.UTC(2013, 9, 1),
      toMs: Date.UTC(2013, 10, 1),
      source: { kind: 'csv', dataset: 'x' },
    };
    for (const dataset of ['../../../tmp', outside, 'evil']) {
      const err = await acts.planBackfill({ ...base, source: { kind: 'csv', dataset } }).then(
        () => assert.fail(`${dataset} must be refused`),
        (e: Error & { type?: string; nonRetryable?: boolean }) => e,
      );
      assert.equal(err.nonRetryable, true, dataset);
      assert.match(err.message, /source\.dataset: /, dataset);
      assert.doesNotMatch(err.message, /TOPSECRET/i);
    }
    // A chunk handed straight to the activity is confined too.
    const err = await acts
      .ingestChunk({
        key: 'k',
        symbol: 'SPY',
        timeframe: '1m',
        fromMs: base.fromMs,
        toMs: base.toMs,
        source: { kind: 'csv', dataset: 'evil' },
        ownsLeading: true,
      })
      .then(
        () => assert.fail('must be refused'),
        (e: Error) => e,
      );
    assert.match(err.message, /source\.dataset: "evil\/1min\/SPY\.csv\.gz" leads outside the data directory/);
    assert.doesNotMatch(err.message, /TOPSECRET|outside-/i);
    // A file inside with a foreign first line: the error names the header column, not the line.
    mkdirSync(join(dir, 'odd', '1min'), { recursive: true });
    writeFileSync(join(dir, 'odd', '1min', 'SPY.csv.gz'), gzipSync('TOPSECRET-LINE,a,b\n1,2,3\n'));
    const [chunk] = await acts.planBackfill({ ...base, source: { kind: 'csv', dataset: 'odd' } });
    const headerErr = await acts.ingestChunk(chunk!).then(
      () => assert.fail('must be refused'),
      (e: Error) => e,
    );
    assert.match(headerErr.message, /^odd\/1min\/SPY\.csv\.gz:1: header column 1: expected "ts"/);
    assert.doesNotMatch(headerErr.message, /TOPSECRET/i);
  });
});
