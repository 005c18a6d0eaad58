/**
 * bench/ingest: our streaming CSV.gz ingest (gunzip + strict parse + validation + findings + COPY into
 * the partitioned `bars` table, idempotent) against `psql \copy` of the same rows, in the same run:
 *  - peer (the ratio's): `\copy` into a table of the same shape as `bars` (LIKE bars: same columns,
 *    defaults, constraints and primary key; symbol/timeframe/source filled by column defaults);
 *  - also reported: `\copy` into a narrow table (ts primary key + OHLCV), for what the schema costs.
 * And the time to read one symbol-year of 1m bars back into Float64Arrays.
 *
 *   npm run bench -- ingest [path/to/file.csv.gz] [runs]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ingestCsvFile } from '../src/data/ingest';
import { MarketDataRepository } from '../src/storage/market-data-repo';
import { createTestDatabase } from '../test/support/db';
import { sharedDataDir } from '../test/support/shared-data';
import { median, writeResults } from './lib';

const PSQL = process.env.PSQL ?? '/usr/bin/psql';
const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;

export async function main(args: string[] = []): Promise<void> {
  const dir = sharedDataDir();
  const file = args[0] || (dir ? join(dir, 'binance_spot/1min/BTCUSDT.csv.gz') : undefined);
  if (!file) throw new Error('bench/ingest: no input; pass a bars .csv.gz path or provide ../shared/data');
  const runs = Number(args[1] ?? process.env.INGEST_RUNS ?? 3);
  const ours: number[] = [];
  const peer: number[] = [];
  const narrow: number[] = [];
  const reads: number[] = [];
  let rows = 0;
  let readRows = 0;
  for (let run = 0; run < runs; run++) {
    const db = await createTestDatabase('tt_bench_ingest');
    try {
      const repo = new MarketDataRepository(db.pool);
      const t0 = process.hrtime.bigint();
      const s = await ingestCsvFile({ path: file, repo, batchLines: 250_000, locationBase: dir });
      ours.push(Number(process.hrtime.bigint() - t0) / 1e9);
      rows = s.linesRead;
      console.log(
        `run ${run + 1}: ours ${rows} rows in ${ours.at(-1)!.toFixed(2)} s (${s.rowsStored} stored, ${s.rejected} rejected)`,
      );

      const { rows: meta } = await db.pool.query<{ symbol: string; timeframe: string; source: string }>(
        'select symbol, timeframe, source from bars limit 1',
      );
      const m = meta[0]!;
      await db.pool.query(
        'create table copy_peer (like bars including defaults including constraints including indexes)',
      );
      await db.pool.query(
        `alter table copy_peer alter symbol set default ${lit(m.symbol)}, alter timeframe set default ${lit(m.timeframe)}, alter source set default ${lit(m.source)}`,
      );
      await db.pool.query(
        'create table copy_narrow (ts timestamptz primary key, open float8 not null, high float8 not null, low float8 not null, close float8 not null, volume float8 not null)',
      );
      const program = `gzip -dc ${file.replace(/'/g, "''")}`;
      const t1 = process.hrtime.bigint();
      execFileSync(
        PSQL,
        [
          db.url,
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          `\\copy copy_peer (ts, open, high, low, close, volume) from program '${program}' with (format csv, header)`,
        ],
        { stdio: 'pipe' },
      );
      peer.push(Number(process.hrtime.bigint() - t1) / 1e9);
      const t3 = process.hrtime.bigint();
      execFileSync(
        PSQL,
        [
          db.url,
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          `\\copy copy_narrow from program '${program}' with (format csv, header)`,
        ],
        { stdio: 'pipe' },
      );
      narrow.push(Number(process.hrtime.bigint() - t3) / 1e9);
      console.log(
        `run ${run + 1}: psql \\copy same-shape table ${peer.at(-1)!.toFixed(2)} s, narrow table ${narrow.at(-1)!.toFixed(2)} s`,
      );

      // One symbol-year: the calendar year with the most stored 1m bars.
      const { rows: yr } = await db.pool.query<{ y: number; symbol: string }>(
        `select extract(year from ts)::int as y, symbol from bars where timeframe = '1m' group by 1, 2 order by count(*) desc limit 1`,
      );
      if (yr[0]) {
        for (let i = 0; i < 3; i++) {
          const t2 = process.hrtime.bigint();
          const cols = await repo.readBarColumns(
            yr[0].symbol,
            '1m',
            Date.UTC(yr[0].y, 0, 1),
            Date.UTC(yr[0].y + 1, 0, 1),
          );
          reads.push(Number(process.hrtime.bigint() - t2) / 1e6);
          readRows = cols.ts.length;
        }
      }
    } finally {
      await db.drop();
    }
  }
  const oursRate = rows / median(ours);
  const peerRate = rows / median(peer);
  const narrowRate = rows / median(narrow);
  writeResults(
    'ingest',
    [
      {
        metric: 'ingest_ratio_vs_psql_copy',
        value: oursRate / peerRate,
        unit: 'x',
        peer: { name: 'psql \\copy into a LIKE-bars table, rows/s', value: peerRate },
        ratio: oursRate / peerRate,
        target: { op: '>=', value: 0.5 },
        note: 'ours includes gunzip, strict parsing, validation and findings, COPY into partitioned bars (upsert path when rows exist)',
      },
      {
        metric: 'ingest_ratio_vs_psql_copy_narrow_table',
        value: oursRate / narrowRate,
        unit: 'x',
        peer: { name: 'psql \\copy into (ts pk, ohlcv), rows/s', value: narrowRate },
        ratio: oursRate / narrowRate,
        note: 'informational: what the wide bars schema (text key columns, source, ingest time) costs',
      },
      {
        metric: 'ingest_rows_per_s',
        value: oursRate,
        unit: 'rows/s',
        peer: { name: 'psql \\copy', value: peerRate },
        ratio: oursRate / peerRate,
        target: { op: '>=', value: 50_000 },
      },
      {
        metric: 'read_symbol_year_ms',
        value: median(reads),
        unit: 'ms',
        target: { op: '<=', value: 3_000 },
        note: `${readRows} 1m bars into Float64Arrays`,
      },
    ],
    { input: file, rows, runs, oursSeconds: ours, psqlSameShapeSeconds: peer, psqlNarrowSeconds: narrow },
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
