import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { importSharedData, readManifest, type SharedImportResult } from '../../../src/data/shared-data';
import { MarketDataRepository, type QualityReportRow } from '../../../src/storage/market-data-repo';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { sharedDataDir } from '../../support/shared-data';

const dir = sharedDataDir();
/** The 3.8M-row Binance file is sampled here; `trader data import` and bench/ingest read it whole. */
const BINANCE_SAMPLE = 200_000;

void describe(
  'every set in ../shared/data',
  { skip: dir ? false : 'SKIPPED: ../shared/data not found' },
  () => {
    let db: TestDatabase;
    let repo: MarketDataRepository;
    let results: SharedImportResult[] = [];
    let report: QualityReportRow[] = [];
    const find = (dataset: string, symbol: string, rule: string) =>
      report.filter((r) => r.dataset === dataset && r.symbol === symbol && r.rule === rule);

    before(async () => {
      db = await createTestDatabase('tt_shared');
      repo = new MarketDataRepository(db.pool);
      results = await importSharedData({
        dir: dir!,
        repo,
        concurrency: 3,
        maxDataLines: (e) => (e.rows > 1_000_000 ? BINANCE_SAMPLE : undefined),
      });
      report = await repo.qualityReport();
    });
    after(async () => db?.drop());

    void test('when every file is imported, then each data line is stored or reported, and stored counts match the database', async () => {
      const manifest = readManifest(dir!);
      assert.equal(results.length, manifest.length);
      let stored = 0;
      for (const { entry, summary, error } of results) {
        assert.equal(error, undefined, entry.path);
        if (!summary) continue;
        const expected = entry.rows > 1_000_000 ? BINANCE_SAMPLE : entry.rows;
        assert.equal(summary.linesRead, expected, entry.path);
        assert.equal(summary.rowsStored + summary.rejected, expected, entry.path);
        if (entry.kind === 'bars') stored += summary.rowsStored;
      }
      // Files of one symbol+timeframe from different sets share keys (the upsert keeps one row per key).
      const { count } = await repo.barChecksum();
      assert.ok(count > 0 && count <= stored);
      const datasets = new Set(report.map((r) => r.dataset));
      for (const d of [
        'lean_equity_usa',
        'lean_crypto_coinbase',
        'pyalgotrade_ninjatrader',
        'binance_spot',
        'kaggle_sandp500_5yr',
        'kaggle_huge_us_stocks_etfs',
      ]) {
        assert.ok(datasets.has(d), `the report has findings for ${d}`);
      }
    });

    void test('when the report is read, then the anomalies the sets document are found where they are', () => {
      // kaggle_sandp500_5yr: AOS 2014-05-19 high < low; empty OHLC fields (11 rows); LNT's bad close.
      const aos = find('kaggle_sandp500_5yr', 'AOS', 'ohlc_inconsistent');
      assert.equal(aos.length, 1);
      assert.equal(new Date(aos[0]!.firstTs!).toISOString().slice(0, 10), '2014-05-19');
      const empty = report
        .filter((r) => r.dataset === 'kaggle_sandp500_5yr' && r.rule === 'parse_error')
        .reduce((s, r) => s + r.count, 0);
      assert.equal(empty, 11);
      assert.equal(find('kaggle_sandp500_5yr', 'LNT', 'ohlc_inconsistent').length, 1);
      // The README's 12 rows with open/close outside [low, high]; AOS's high < low row is one of them (its
      // open is outside the inverted range as well), so the total is 12, each reported once.
      const ohlc = report
        .filter((r) => r.dataset === 'kaggle_sandp500_5yr' && r.rule === 'ohlc_inconsistent')
        .reduce((s, r) => s + r.count, 0);
      assert.equal(ohlc, 12);
      // lean_equity_usa: SPY 2000-12-18 bad open; AAPL 7:1 split; one-sided quotes FOXA 4, NWSA 3, TWX 5; GDVD zero volume.
      const spy = find('lean_equity_usa', 'SPY', 'return_outlier').filter((r) => r.timeframe === '1d');
      assert.equal(new Date(spy[0]!.firstTs!).toISOString().slice(0, 10), '2000-12-18');
      assert.equal(find('lean_equity_usa', 'FOXA', 'one_sided_quote')[0]!.count, 4);
      assert.equal(find('lean_equity_usa', 'NWSA', 'one_sided_quote')[0]!.count, 3);
      assert.equal(find('lean_equity_usa', 'TWX', 'one_sided_quote')[0]!.count, 5);
      assert.equal(find('lean_equity_usa', 'GDVD', 'zero_volume')[0]!.count, 3);
      assert.equal(find('lean_equity_usa', 'SPY', 'locked_quote')[0]!.count, 114);
      assert.ok(
        find('lean_equity_usa', 'SPY', 'gap').some((r) => r.timeframe === '1m'),
        'SPY minute file jumps 2013 → 2023',
      );
      // kaggle_huge_us_stocks_etfs: 2010-04-26 has volume 0 in 57 files.
      const zero0426 = report.filter(
        (r) => r.dataset === 'kaggle_huge_us_stocks_etfs' && r.rule === 'zero_volume',
      ).length;
      assert.ok(zero0426 >= 57);
      // binance (sampled): zero-volume minutes in 2017 and gaps.
      assert.ok(find('binance_spot', 'BTCUSDT', 'zero_volume')[0]!.count > 0);
      assert.ok(find('binance_spot', 'BTCUSDT', 'gap')[0]!.count > 0);
      // pyalgotrade: February 2011 is absent, and one bar is stamped 20:00 New York (after the window).
      const febGap = find('pyalgotrade_ninjatrader', 'SPY', 'gap');
      assert.ok(febGap.length > 0);
      assert.equal(find('pyalgotrade_ninjatrader', 'SPY', 'outside_session')[0]!.count, 1);
      // Every finding names a file:line.
      for (const r of report) assert.match(r.example, /\.csv\.gz:\d+/);
    });

    void test('when a set is imported again, then bars and findings are unchanged (idempotent)', async () => {
      const entries = readManifest(dir!).filter(
        (e) => e.dataset === 'kaggle_sandp500_5yr' && ['AOS', 'DHR', 'LNT'].includes(e.symbol),
      );
      const before = {
        bars: await repo.barChecksum(),
        report: await repo.qualityReport({ dataset: 'kaggle_sandp500_5yr' }),
      };
      const again = await importSharedData({ dir: dir!, repo, entries });
      assert.equal(
        again.reduce((s, r) => s + (r.summary?.rowsChanged ?? NaN), 0),
        0,
      );
      assert.deepEqual(
        {
          bars: await repo.barChecksum(),
          report: await repo.qualityReport({ dataset: 'kaggle_sandp500_5yr' }),
        },
        before,
      );
    });
  },
);
