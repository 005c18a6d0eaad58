import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ingestCsvFile } from '../../../src/data/ingest';
import type { CsvLine } from '../../../src/data/csv';
import { RecordingRepo } from '../../support/recording-repo';

const MIN = 60_000;
const BASE = Date.UTC(2018, 3, 4, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Mutations that always make a bar line invalid, each with the field it breaks. */
const BAD: Array<[string, (f: string[]) => string]> = [
  ['row', (f) => f.slice(0, 4).join(',')],
  ['row', (f) => [...f, '1'].join(',')],
  ['ts', (f) => ['2018-13-01T00:00:00Z', ...f.slice(1)].join(',')],
  ['ts', (f) => [f[0]!.replace('T', ' '), ...f.slice(1)].join(',')],
  ['ts', (f) => ['1522800000000', ...f.slice(1)].join(',')],
  ['ts', (f) => ['2018-02-30T00:00:00Z', ...f.slice(1)].join(',')],
  ['open', (f) => [f[0], 'abc', ...f.slice(2)].join(',')],
  ['open', (f) => [f[0], '', ...f.slice(2)].join(',')],
  ['high', (f) => [f[0], f[1], 'NaN', ...f.slice(3)].join(',')],
  ['low', (f) => [f[0], f[1], f[2], 'Infinity', ...f.slice(4)].join(',')],
  ['close', (f) => [...f.slice(0, 4), '"1.5"', f[5]].join(',')],
  ['volume', (f) => [...f.slice(0, 5), ' 12'].join(',')],
  ['volume', (f) => [...f.slice(0, 5), '1e999'].join(',')],
  ['open', (f) => [f[0], '-1', ...f.slice(2)].join(',')],
  ['close', (f) => [...f.slice(0, 4), '0', f[5]].join(',')],
  ['high', (f) => [f[0], f[1], String(Number(f[3]) - 1), ...f.slice(3)].join(',')],
  ['volume', (f) => [...f.slice(0, 5), '-5'].join(',')],
  ['row', () => '\u0000\u00ff,\u2028'],
];

type Spec =
  | { kind: 'good' }
  | { kind: 'bad'; mutation: number }
  | { kind: 'dup' }
  | { kind: 'back' }
  | { kind: 'garbage'; text: string };

const specArb: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Spec>({ kind: 'good' }) },
  {
    weight: 4,
    arbitrary: fc
      .integer({ min: 0, max: BAD.length - 1 })
      .map<Spec>((mutation) => ({ kind: 'bad', mutation })),
  },
  { weight: 1, arbitrary: fc.constant<Spec>({ kind: 'dup' }) },
  { weight: 1, arbitrary: fc.constant<Spec>({ kind: 'back' }) },
  {
    weight: 1,
    arbitrary: fc
      .string({ maxLength: 40 })
      .map<Spec>((text) => ({ kind: 'garbage', text: text.replace(/[\r\n]/g, '') || ',' })),
  },
);

async function* linesOf(texts: string[]): AsyncGenerator<CsvLine[]> {
  yield texts.map((text, i) => ({ lineNo: i + 1, text }));
}

describe('CSV importer under fuzzed malformed input', () => {
  test('when 10,000 fuzzed files are imported, then nothing crashes, no bad row is stored, and every problem names file:line and field', async () => {
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(specArb, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 5 }),
        async (specs, batchLines) => {
          cases++;
          const texts = ['ts,open,high,low,close,volume'];
          const badLines = new Set<number>();
          const expectField = new Map<number, string>();
          let t = BASE;
          let lastGood = -1;
          for (const s of specs) {
            t += MIN;
            const p = 100 + (t % 7);
            const fields = [iso(t), String(p), String(p + 1), String(p - 1), String(p + 0.5), '10'];
            const lineNo = texts.length + 1;
            if (s.kind === 'good') {
              texts.push(fields.join(','));
              lastGood = t;
            } else if (s.kind === 'bad') {
              const [field, mutate] = BAD[s.mutation]!;
              texts.push(mutate(fields));
              badLines.add(lineNo);
              expectField.set(lineNo, field);
            } else if (s.kind === 'dup' && lastGood > 0) {
              texts.push([iso(lastGood), ...fields.slice(1)].join(','));
              badLines.add(lineNo);
              expectField.set(lineNo, 'ts');
            } else if (s.kind === 'back' && lastGood > 0) {
              texts.push([iso(lastGood - 30 * MIN), ...fields.slice(1)].join(','));
              badLines.add(lineNo);
              expectField.set(lineNo, 'ts');
            } else if (s.kind === 'garbage') {
              texts.push(s.text);
              badLines.add(lineNo);
            } else {
              texts.push(fields.join(','));
              lastGood = t;
            }
          }
          const repo = new RecordingRepo();
          const summary = await ingestCsvFile({
            path: 'fuzz/1min/BTCUSD.csv',
            repo,
            lines: linesOf(texts),
            batchLines,
          });

          // Every stored row is a sound bar, ascending, and came from a line we did not break.
          const storedTs = repo.barRows.map((r) => Number(r[0]));
          for (let i = 0; i < repo.barRows.length; i++) {
            const [ts, o, h, l, c, v] = repo.barRows[i]!.map(Number) as [
              number,
              number,
              number,
              number,
              number,
              number,
            ];
            assert.ok(o > 0 && h > 0 && l > 0 && c > 0, 'stored prices are positive');
            assert.ok(l <= Math.min(o, c) && h >= Math.max(o, c), 'stored OHLC is consistent');
            assert.ok(v >= 0 && Number.isFinite(v), 'stored volume is finite and >= 0');
            if (i > 0) assert.ok(ts > storedTs[i - 1]!, 'stored ts strictly ascending');
          }
          const rejectedAt = new Set(
            repo.findings.filter((f) => f.severity !== 'warn').map((f) => f.location),
          );
          for (const lineNo of badLines) {
            assert.ok(
              rejectedAt.has(`fuzz/1min/BTCUSD.csv:${lineNo}`),
              `line ${lineNo} "${texts[lineNo - 1]}" must be reported`,
            );
            const field = expectField.get(lineNo);
            if (field) {
              const f = repo.findings.find(
                (x) => x.location === `fuzz/1min/BTCUSD.csv:${lineNo}` && x.severity !== 'warn',
              )!;
              assert.equal(f.field, field, `line ${lineNo} "${texts[lineNo - 1]}": ${f.detail}`);
            }
          }
          // Every data line is either stored or rejected, never both, never neither.
          assert.equal(summary.rowsStored + summary.rejected, texts.length - 1);
          assert.equal(repo.barRows.length, summary.rowsStored);
          for (const f of repo.findings) assert.match(f.location, /^fuzz\/1min\/BTCUSD\.csv:\d+$/);
        },
      ),
      { numRuns: 10_000, seed: 20261121 },
    );
    assert.equal(cases, 10_000);
  });

  test('when quote lines are fuzzed, then crossed, negative and malformed quotes are rejected with their field', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.option(fc.double({ min: -5, max: 200, noNaN: true }), { nil: undefined }),
            fc.option(fc.double({ min: -5, max: 200, noNaN: true }), { nil: undefined }),
            fc.integer({ min: -3, max: 500 }),
          ),
          { minLength: 1, maxLength: 10 },
        ),
        async (rows) => {
          const texts = ['ts,bid,ask,bid_size,ask_size'];
          rows.forEach(([bid, ask, size], i) =>
            texts.push(`${iso(BASE + i * MIN)},${bid ?? ''},${ask ?? ''},${size},100`),
          );
          const repo = new RecordingRepo();
          const s = await ingestCsvFile({ path: 'fuzz/1min_quote/BTCUSD.csv', repo, lines: linesOf(texts) });
          for (const r of repo.quoteRows) {
            const bid = r[1] === '\\N' ? NaN : Number(r[1]);
            const ask = r[2] === '\\N' ? NaN : Number(r[2]);
            assert.ok(!(bid > ask), 'never a crossed quote');
            assert.ok(Number.isNaN(bid) || bid > 0);
            assert.ok(Number.isNaN(ask) || ask > 0);
            assert.ok(!(Number.isNaN(bid) && Number.isNaN(ask)));
            assert.ok(Number(r[3]) >= 0);
          }
          assert.equal(s.rowsStored + s.rejected, rows.length);
        },
      ),
      { numRuns: 500, seed: 7 },
    );
  });
});
