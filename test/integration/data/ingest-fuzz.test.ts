/**
 * Fuzz over real files: 10,000 generated malformed rows are mixed into real ../shared/data files and the
 * files are imported through `importSharedData` (what `trader data import` runs) into PostgreSQL, over the
 * clean data and into an empty table. No bad row may be stored, no good row lost or replaced, and every
 * rejection names its file, line and field. A row that passes validation but fails in PostgreSQL leaves
 * the stored symbol exactly as it was (checksum), and is named by file, line and field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { IngestError, ingestCsvFile } from '../../../src/data/ingest';
import { importSharedData, readManifest, type ManifestEntry } from '../../../src/data/shared-data';
import { isCryptoSymbol } from '../../../src/market/calendar';
import { MarketDataRepository } from '../../../src/storage/market-data-repo';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { sharedDataDir } from '../../support/shared-data';

const shared = sharedDataDir();
/**
 * Real bar files: equity minutes with extended hours, crypto minutes around the clock, and daily files
 * with real rejections of their own (AOS high < low, LNT's bad close, empty fields in the set). Daily sets
 * of decades are left out only because each of their months becomes a partition, which is slow to create.
 */
const FILES = [
  'lean_equity_usa/1min/IBM.csv.gz',
  'lean_crypto_coinbase/1min/ETHUSD.csv.gz',
  'kaggle_sandp500_5yr/1day/AAPL.csv.gz',
  'kaggle_sandp500_5yr/1day/AOS.csv.gz',
  'kaggle_sandp500_5yr/1day/LNT.csv.gz',
];
const RUNS = 4;
const BAD_PER_RUN = 2_500;
const COLS = ['ts', 'open', 'high', 'low', 'close', 'volume'] as const;

const KINDS = [
  'columns',
  'bad_ts',
  'future_ts',
  'past_ts',
  'bad_number',
  'non_positive',
  'absurd_price',
  'absurd_volume',
  'ohlc',
  'dup',
  'back',
  'garbage',
  'header',
] as const;
type Kind = (typeof KINDS)[number];

interface Mutation {
  readonly file: number;
  /** Where in the file, 0..1 of its data lines. */
  readonly at: number;
  readonly kind: Kind;
  /** Picks a variant (column, value, distance). */
  readonly pick: number;
  readonly text: string;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  file: fc.integer({ min: 0, max: FILES.length - 1 }),
  at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  kind: fc.constantFrom(...KINDS),
  pick: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  text: fc.string({ maxLength: 60 }),
});

const choose = <T>(xs: readonly T[], pick: number): T => xs[Math.floor(pick * xs.length)]!;

/**
 * One malformed line and the field its rejection must name (undefined: any field). `next` is an accepted
 * row near the insertion point (the template), `prev` the last accepted row before it, `earlier` one
 * further back.
 */
function badLine(
  m: Mutation,
  next: string[],
  prev: string[] | undefined,
  earlier: string[] | undefined,
  crypto: boolean,
): { text: string; field?: string } {
  const f = [...next];
  const col = 1 + Math.floor(m.pick * 4); // a price column
  switch (m.kind) {
    case 'columns':
      return { text: (m.pick < 0.5 ? f.slice(0, 5) : [...f, '1']).join(','), field: 'row' };
    case 'bad_ts':
      f[0] = choose(
        [
          '2013-13-45T00:00:00Z',
          'tomorrow',
          '1381152600000',
          f[0]!.replace('T', ' '),
          '2018-02-30T00:00:00Z',
          '',
        ],
        m.pick,
      );
      return { text: f.join(','), field: 'ts' };
    case 'future_ts':
      f[0] = `${2100 + Math.floor(m.pick * 800)}-06-15T14:30:00Z`;
      return { text: f.join(','), field: 'ts' };
    case 'past_ts':
      f[0] = crypto
        ? `200${Math.floor(m.pick * 8)}-03-10T14:30:00Z`
        : `191${Math.floor(m.pick * 9)}-03-10T00:00:00Z`;
      return { text: f.join(','), field: 'ts' };
    case 'bad_number': {
      const c = 1 + Math.floor(m.pick * 5);
      f[c] = choose(
        ['abc', '', 'NaN', 'Infinity', '-Infinity', '1e999', '1e-400', '0x10', ' 12', '"1.5"', '.', '1e'],
        (m.pick * 5) % 1,
      );
      return { text: f.join(','), field: COLS[c] };
    }
    case 'non_positive':
      f[col] = m.pick < 0.5 ? '0' : `-${f[col]}`;
      return { text: f.join(','), field: COLS[col] };
    case 'absurd_price':
      f[col] = choose(['1e308', '1e-310', '5e9', '1e-13'], (m.pick * 4) % 1);
      return { text: f.join(','), field: COLS[col] };
    case 'absurd_volume':
      f[5] = choose(['1e300', '1e-300', '2e15', '-5', '1e-400'], m.pick);
      return { text: f.join(','), field: 'volume' };
    case 'ohlc':
      f[2] = String(Number(f[3]) / 2); // high below low
      return { text: f.join(','), field: 'high' };
    case 'dup':
      if (!prev) break;
      return {
        text: [prev[0], prev[1], prev[2], prev[3], prev[4], String(Number(prev[5]) + 1)].join(','),
        field: 'ts',
      };
    case 'back':
      if (!earlier) break;
      return {
        text: [
          earlier[0],
          earlier[1],
          earlier[2],
          earlier[3],
          earlier[4],
          String(Number(earlier[5]) + 7),
        ].join(','),
        field: 'ts',
      };
    case 'header':
      return { text: 'ts,open,high,low,close,volume', field: 'ts' };
    case 'garbage':
      break;
  }
  // Random text: never a valid bar (and never empty: an empty line is skipped, not rejected).
  const t = m.text.replace(/[\r\n]/g, ' ');
  return { text: t.trim() === '' ? `${t},` : t };
}

interface Original {
  readonly entry: ManifestEntry;
  readonly header: string;
  readonly data: string[];
  /** Indexes into `data` of the rows the clean import accepted, ascending. */
  accepted: number[];
}

/** Writes `files` (rel path → text) and a MANIFEST.csv for them under a fresh folder. */
function writeSet(root: string, files: Map<string, { entry: ManifestEntry; text: string }>): string {
  const dir = mkdtempSync(join(root, 'set-'));
  const rows = ['path,source,timeframe,symbol,rows'];
  for (const [rel, { entry, text }] of files) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), gzipSync(text, { level: 1 }));
    rows.push(`${rel},${entry.dataset},${entry.timeframeDir},${entry.symbol},${entry.rows}`);
  }
  writeFileSync(join(dir, 'MANIFEST.csv'), rows.join('\n') + '\n');
  return dir;
}

type FindingRow = {
  location: string;
  rule: string;
  severity: string;
  field: string | null;
  value: string | null;
};

async function findingsOf(db: TestDatabase, rel: string): Promise<FindingRow[]> {
  const r = await db.pool.query<FindingRow>(
    'select location, rule, severity, field, value from data_quality where chunk_key = $1 order by id',
    [`import:${rel}`],
  );
  return r.rows;
}

const lineOf = (location: string) => Number(location.slice(location.lastIndexOf(':') + 1));

void describe(
  'ingest fuzz over real files',
  { skip: shared ? false : 'SKIPPED: real data not found' },
  () => {
    let db: TestDatabase;
    let repo: MarketDataRepository;
    let root: string;
    const originals: Original[] = [];
    /** Per file: stored checksum and the clean import's findings keyed by original line. */
    const clean = new Map<
      string,
      { sum: { count: number; md5: string }; stored: number; findings: Set<string> }
    >();

    before(async () => {
      db = await createTestDatabase('tt_ingest_fuzz');
      repo = new MarketDataRepository(db.pool);
      root = mkdtempSync(join(tmpdir(), 'ingest-fuzz-'));
      const manifest = readManifest(shared!);
      for (const rel of FILES) {
        const entry = manifest.find((e) => e.path === rel)!;
        const lines = gunzipSync(readFileSync(join(shared!, rel)))
          .toString('utf8')
          .split('\n');
        if (lines.at(-1) === '') lines.pop();
        originals.push({ entry, header: lines[0]!, data: lines.slice(1), accepted: [] });
      }
      const dir = writeSet(
        root,
        new Map(
          originals.map((o) => [
            o.entry.path,
            { entry: o.entry, text: [o.header, ...o.data].join('\n') + '\n' },
          ]),
        ),
      );
      const results = await importSharedData({ dir, repo, concurrency: 2 });
      for (const r of results) {
        assert.equal(r.error, undefined, r.entry.path);
        const e = r.entry;
        const findings = await findingsOf(db, e.path);
        const refused = new Set(
          findings.filter((f) => f.severity !== 'warn').map((f) => lineOf(f.location) - 2),
        );
        const o = originals.find((x) => x.entry.path === e.path)!;
        o.accepted = o.data.map((_, i) => i).filter((i) => !refused.has(i));
        clean.set(e.path, {
          sum: await repo.barChecksum({ symbol: e.symbol, timeframe: e.timeframe! }),
          stored: r.summary!.rowsStored,
          findings: new Set(findings.map((f) => `${lineOf(f.location)}|${f.rule}|${f.field}|${f.value}`)),
        });
      }
    });
    after(async () => {
      await db?.drop();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    void test('when 10,000 malformed rows are mixed into real files, then none is stored, no good row is lost or replaced, and every rejection names file, line and field', async () => {
      let badRows = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(mutationArb, { minLength: BAD_PER_RUN, maxLength: BAD_PER_RUN }),
          async (muts) => {
            // Arrange: insert the malformed lines; remember what each output line is.
            const files = new Map<string, { entry: ManifestEntry; text: string }>();
            const expected = new Map<string, Map<number, string | undefined>>(); // rel → bad line → field
            const origLine = new Map<string, Map<number, number>>(); // rel → output line → original line
            originals.forEach((o, fi) => {
              const here = muts.filter((m) => m.file === fi);
              const byPos = new Map<number, Mutation[]>();
              for (const m of here) {
                const k = Math.floor(m.at * (o.data.length + 1));
                byPos.set(k, [...(byPos.get(k) ?? []), m]);
              }
              const out = [o.header];
              const bad = new Map<number, string | undefined>();
              const orig = new Map<number, number>();
              const crypto = isCryptoSymbol(o.entry.symbol);
              let nBefore = 0;
              for (let k = 0; k <= o.data.length; k++) {
                // Accepted rows before position k: o.accepted[0 .. nBefore).
                while (nBefore < o.accepted.length && o.accepted[nBefore]! < k) nBefore++;
                for (const m of byPos.get(k) ?? []) {
                  const row = (i: number | undefined) =>
                    i === undefined ? undefined : o.data[i]!.split(',');
                  const next = row(o.accepted[Math.min(nBefore, o.accepted.length - 1)])!;
                  const prev = row(nBefore >= 1 ? o.accepted[nBefore - 1] : undefined);
                  const earlier = row(
                    nBefore >= 2 ? o.accepted[Math.max(0, nBefore - 2 - Math.floor(m.pick * 20))] : undefined,
                  );
                  const b = badLine(m, next, prev, earlier, crypto);
                  out.push(b.text);
                  bad.set(out.length, b.field);
                }
                if (k < o.data.length) {
                  out.push(o.data[k]!);
                  orig.set(out.length, k + 2);
                }
              }
              badRows += bad.size;
              expected.set(o.entry.path, bad);
              origLine.set(o.entry.path, orig);
              files.set(o.entry.path, { entry: o.entry, text: out.join('\n') + '\n' });
            });
            const dir = writeSet(root, files);
            try {
              // Act 1: over the clean data. Act 2: into an empty table.
              const over = await importSharedData({ dir, repo, concurrency: 2 });
              for (const r of over) {
                assert.equal(r.error, undefined, `${r.entry.path}: ${r.error}`);
                assert.equal(r.summary!.rowsChanged, 0, `${r.entry.path}: no stored row was replaced`);
              }
              await db.pool.query('truncate bars');
              const fresh = await importSharedData({ dir, repo, concurrency: 2 });

              // Assert, per file.
              for (const r of fresh) {
                const e = r.entry;
                const c = clean.get(e.path)!;
                assert.equal(r.error, undefined, `${e.path}: ${r.error}`);
                assert.equal(r.summary!.rowsStored, c.stored, `${e.path}: every good row stored`);
                assert.deepEqual(
                  await repo.barChecksum({ symbol: e.symbol, timeframe: e.timeframe! }),
                  c.sum,
                  `${e.path}: stored rows equal the clean import (no bad row, no good row lost or changed)`,
                );
                const bad = expected.get(e.path)!;
                const orig = origLine.get(e.path)!;
                const findings = await findingsOf(db, e.path);
                const atGood = new Set<string>();
                const rejectedAt = new Map<number, FindingRow[]>();
                for (const f of findings) {
                  assert.match(f.location, new RegExp(`^${e.path.replace(/\./g, '\\.')}:\\d+$`), 'file:line');
                  const line = lineOf(f.location);
                  if (bad.has(line)) {
                    rejectedAt.set(line, [...(rejectedAt.get(line) ?? []), f]);
                    continue;
                  }
                  assert.ok(orig.has(line), `${f.location} is a line of the file`);
                  atGood.add(`${orig.get(line)}|${f.rule}|${f.field}|${f.value}`);
                }
                // Good lines have exactly the findings of the clean import (its real rejections and warnings).
                assert.deepEqual(atGood, c.findings, `${e.path}: findings on good lines unchanged`);
                for (const [line, field] of bad) {
                  const fs = (rejectedAt.get(line) ?? []).filter((f) => f.severity !== 'warn');
                  assert.ok(fs.length > 0, `${e.path}:${line} must be rejected`);
                  for (const f of fs) assert.ok(f.field, `${f.location} ${f.rule} names its field`);
                  if (field)
                    assert.ok(
                      fs.some((f) => f.field === field),
                      `${e.path}:${line} names ${field} (got ${fs.map((f) => `${f.rule}/${f.field}`).join(', ')})`,
                    );
                }
              }
            } finally {
              rmSync(dir, { recursive: true, force: true });
            }
          },
        ),
        // A failing case is printed, not shrunk: every try is two imports.
        { numRuns: RUNS, endOnFailure: true },
      );
      assert.equal(badRows, RUNS * BAD_PER_RUN);
    });

    void test('when a row that passes validation fails in PostgreSQL, then the import is rolled back whole, the stored symbol is exactly as before, and the error names file, line and field', async () => {
      const o = originals[0]!; // IBM 1m
      const e = o.entry;
      await db.pool.query('alter table bars add constraint fuzz_poison check (volume <> 123456.789)');
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 1, max: o.data.length - 1 }),
            fc.integer({ min: 100, max: 1_000 }),
            async (poisonAt, batchLines) => {
              const before = await repo.barChecksum({ symbol: e.symbol, timeframe: e.timeframe! });
              // A new version of the file: every volume differs, so a partial import would change rows.
              const data = o.data.map((l, i) => {
                const f = l.split(',');
                f[5] = i === poisonAt ? '123456.789' : String(Number(f[5]) + 1);
                return f.join(',');
              });
              const dir = writeSet(
                root,
                new Map([[e.path, { entry: e, text: [o.header, ...data].join('\n') + '\n' }]]),
              );
              try {
                await assert.rejects(
                  ingestCsvFile({
                    path: join(dir, e.path),
                    repo,
                    symbol: e.symbol,
                    locationBase: dir,
                    chunkKey: `import:${e.path}`,
                    batchLines,
                  }),
                  (err: unknown) => {
                    assert.ok(err instanceof IngestError, String(err));
                    assert.equal(err.rule, 'db_error');
                    assert.equal(err.file, e.path);
                    assert.equal(err.line, poisonAt + 2);
                    assert.equal(err.field, 'volume');
                    assert.match(
                      err.message,
                      new RegExp(`^${e.path.replace(/\./g, '\\.')}:${poisonAt + 2}: volume: `),
                    );
                    assert.match(err.message, /fuzz_poison/);
                    return true;
                  },
                );
                assert.deepEqual(
                  await repo.barChecksum({ symbol: e.symbol, timeframe: e.timeframe! }),
                  before,
                  'the stored symbol is exactly as before',
                );
                const { rows } = await db.pool.query<{ location: string; field: string }>(
                  "select location, field from data_quality where chunk_key = $1 and rule = 'db_error'",
                  [`import:${e.path}`],
                );
                assert.deepEqual(rows.at(-1), { location: `${e.path}:${poisonAt + 2}`, field: 'volume' });
              } finally {
                rmSync(dir, { recursive: true, force: true });
              }
            },
          ),
          { numRuns: 3, endOnFailure: true },
        );
      } finally {
        await db.pool.query('alter table bars drop constraint fuzz_poison');
      }
    });
  },
);
