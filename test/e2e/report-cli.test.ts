import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backtestDemoStep, runBacktestCommand } from '../../cli/commands/backtest';
import { sharedDataOrSkip } from '../support/shared-data';

describe('trader backtest (CLI)', () => {
  test('when run on real daily bars with a grid, walk-forward and a benchmark, then it writes a self-contained report and JSON with the same sections', async (t) => {
    const dataDir = sharedDataOrSkip(t);
    if (!dataDir) return;
    const dir = mkdtempSync(join(tmpdir(), 'bt-cli-'));
    try {
      const lines: string[] = [];
      const out = await runBacktestCommand(
        {
          symbols: ['AAPL', 'MSFT', 'JPM'],
          from: '2014-01-01',
          to: '2017-01-01',
          timeframes: ['1d'],
          report: join(dir, 'r.html'),
          json: join(dir, 'r.json'),
          cash: 100_000,
          seed: 1,
          dataDir,
          source: 'kaggle_sandp500_5yr',
          db: false,
          grid: 'stopAtr=1,2',
          walkForward: 2,
          mcRuns: 100,
          mcBlockLength: 10,
          ruinLoss: 0.2,
          benchmark: 'SPY',
          progress: false,
        },
        (s) => lines.push(s),
      );
      assert.equal(out.reportPath, join(dir, 'r.html'));
      const html = readFileSync(out.reportPath, 'utf8');
      assert.match(html, /LightweightCharts/);
      assert.match(html, /Walk-forward \(out of sample\)/);
      assert.match(html, /Parameter sensitivity/);
      assert.ok(!/https?:\/\/[^"'\s]*\.js/.test(html.replace(/\/\*[\s\S]*?\*\//g, '')), 'no remote scripts');
      assert.match(html, /Monthly returns/);
      assert.match(html, /Open positions at the end/);
      const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as {
        metrics: { trades: number; ruin: { level: number } };
        walkForward: unknown[];
        orderHash: string;
        header: { dataSource: string; startingCash: number; annualizationDays: number; costModel: object };
        benchmark: { label: string; metrics: { totalReturn: number } };
        monteCarlo: {
          blockBootstrap: { blockLength: number; ruinLevel: number };
          tradeResample: { ruinLevel: number; finalEquity: { p5: number; p95: number } };
        };
        monthlyReturns: Array<{ year: number; months: Array<number | null> }>;
        openPositions: unknown[];
      };
      assert.equal(json.walkForward.length, 2);
      assert.match(json.header.dataSource, /kaggle_sandp500_5yr/);
      assert.equal(json.header.startingCash, 100_000);
      assert.equal(json.header.annualizationDays, 252);
      assert.ok(json.header.costModel);
      // SPY is not in the run's source: the benchmark comes from the first source that has it, and says so
      assert.match(json.benchmark.label, /buy-and-hold SPY \(kaggle_huge_us_stocks_etfs, 1d\)/);
      assert.equal(json.metrics.ruin.level, 80_000);
      assert.equal(json.monteCarlo.blockBootstrap.ruinLevel, 80_000);
      assert.equal(json.monteCarlo.tradeResample.ruinLevel, 80_000);
      assert.equal(json.monteCarlo.blockBootstrap.blockLength, 10);
      assert.ok(json.monteCarlo.tradeResample.finalEquity.p5 < json.monteCarlo.tradeResample.finalEquity.p95);
      assert.deepEqual(
        json.monthlyReturns.map((r) => r.year),
        [2014, 2015, 2016],
      );
      assert.ok(Array.isArray(json.openPositions));
      assert.match(json.orderHash, /^[0-9a-f]{16}$/);
      assert.ok(lines.some((l) => l.startsWith('report: ')));
      assert.ok(existsSync(join(dir, 'r.json')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('when a symbol has no data file, then the error names the flag and the symbols', async (t) => {
    const dataDir = sharedDataOrSkip(t);
    if (!dataDir) return;
    await assert.rejects(
      runBacktestCommand(
        {
          symbols: ['NOPE_X'],
          timeframes: ['1d'],
          cash: 1e5,
          seed: 1,
          dataDir,
          db: false,
          mcRuns: 10,
          progress: false,
        },
        () => undefined,
      ),
      /--symbols: no source .* NOPE_X/,
    );
  });

  test('when the demo step runs, then it writes the report under the data dir and prints its path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bt-demo-'));
    const prev = process.env.TRADER_DATA_DIR;
    process.env.TRADER_DATA_DIR = dir;
    try {
      const line = await backtestDemoStep.run();
      const m = /report: (\S+\.html)$/.exec(line);
      assert.ok(m, line);
      assert.ok(m[1]!.startsWith(dir) && existsSync(m[1]!));
      assert.match(line, /^\d+ trades/);
    } finally {
      if (prev === undefined) delete process.env.TRADER_DATA_DIR;
      else process.env.TRADER_DATA_DIR = prev;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
