/**
 * Issue #16, acceptance 5 (report part): the report of a 30-year daily backtest, opened in headless Chromium,
 * draws the whole date range — the first label on the equity chart's time axis is 1988 — and shows the header,
 * the benchmark, the monthly returns, the open positions and both Monte Carlo methods. The time-axis labels
 * are read from what the page actually paints (fillText on the chart canvases), not from the chart's data.
 * The screenshot is kept under REPORT_SCREENSHOT_DIR when set (else a temp folder) and its path printed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { runBacktestCommand } from '../../cli/commands/backtest';
import { sharedDataOrSkip } from '../support/shared-data';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Records every text painted on a canvas inside a chart container, per paint of that canvas. */
const PAINT_RECORDER = `(() => {
  const paints = new WeakMap();
  window.__painted = [];
  const begin = (canvas) => paints.set(canvas, (paints.get(canvas) || 0) + 1);
  // a paint starts by clearing or filling the whole canvas (in device pixels)
  for (const name of ['clearRect', 'fillRect']) {
    const orig = CanvasRenderingContext2D.prototype[name];
    CanvasRenderingContext2D.prototype[name] = function (x, y, w, h) {
      const m = this.getTransform();
      if (m.a * x + m.e <= 0 && m.d * y + m.f <= 0 && m.a * w >= this.canvas.width && m.d * h >= this.canvas.height)
        begin(this.canvas);
      return orig.apply(this, arguments);
    };
  }
  const fill = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, x, y) {
    const chart = this.canvas.closest('.chart');
    if (chart) {
      const m = this.getTransform();
      window.__painted.push({ chart: chart.id, canvas: this.canvas, paint: paints.get(this.canvas) || 0, text: String(text), x: m.a * x + m.e, width: this.canvas.width });
    }
    return fill.apply(this, arguments);
  };
})()`;

/** The four-digit labels of a chart's latest paint of its time axis, left to right. */
const yearLabels = (id: string) => `(() => {
  const mine = window.__painted.filter((p) => p.chart === ${JSON.stringify(id)} && /^\\d{4}$/.test(p.text));
  if (!mine.length) return [];
  const canvas = mine[mine.length - 1].canvas;
  const latest = Math.max(...mine.filter((p) => p.canvas === canvas).map((p) => p.paint));
  return mine
    .filter((p) => p.canvas === canvas && p.paint === latest)
    .sort((a, b) => a.x - b.x)
    .map((p) => ({ text: p.text, x: p.x, width: p.width }));
})()`;

describe(
  'report of a 30-year daily backtest in headless Chromium',
  { skip: existsSync(CHROMIUM) ? false : `SKIPPED: no Chromium at ${CHROMIUM}` },
  () => {
    let browser: Browser;
    let dir: string;
    before(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      dir = mkdtempSync(join(tmpdir(), 'report-long-'));
    });
    after(async () => {
      await browser?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('when 1988-2017 is backtested on daily bars, then the equity chart starts at 1988 and the report lists every section', async (t) => {
      const dataDir = sharedDataOrSkip(t);
      if (!dataDir) return;
      // the longest daily series in the shared data (kaggle_huge_us_stocks_etfs) reach back to 1962; these four
      // names have bars over the whole window, which ends with the data set on 2017-11-10
      const out = await runBacktestCommand(
        {
          symbols: ['IBM', 'KO', 'XOM', 'GE'],
          from: '1988-01-01',
          to: '2018-01-01',
          timeframes: ['1d'],
          report: join(dir, 'long.html'),
          json: join(dir, 'long.json'),
          cash: 100_000,
          seed: 1,
          dataDir,
          source: 'kaggle_huge_us_stocks_etfs',
          db: false,
          mcRuns: 300,
          benchmark: 'SPY',
          progress: false,
        },
        () => undefined,
      );
      assert.ok(out.result.equityTs.length > 7000, 'thirty years of daily equity points');

      const page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
      await page.route('**/*', (route) =>
        route.request().url().startsWith('file:') ? route.continue() : route.abort(),
      );
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.addInitScript(PAINT_RECORDER);
      await page.goto(`file://${out.reportPath}`);
      await page.waitForFunction('window.__reportCharts === 5', undefined, { timeout: 15_000 });
      // paints happen on animation frames: wait (bounded) until the equity axis has painted its years
      await page
        .waitForFunction(`${yearLabels('equity')}.length >= 3`, undefined, { timeout: 15_000, polling: 100 })
        .catch(() => undefined);
      assert.deepEqual(errors, []);

      const labels = (await page.evaluate(yearLabels('equity'))) as Array<{
        text: string;
        x: number;
        width: number;
      }>;
      assert.ok(labels.length >= 3, `year labels painted on the equity axis: ${JSON.stringify(labels)}`);
      assert.equal(labels[0]!.text, '1988', `first tick: ${labels.map((l) => l.text).join(' ')}`);
      assert.ok(
        labels[0]!.x >= 0 && labels[0]!.x < labels[0]!.width / 4,
        'the 1988 label sits at the left edge',
      );
      assert.equal(labels[labels.length - 1]!.text.slice(0, 3), '201', 'and the axis reaches the 2010s');
      const range = (await page.evaluate(
        'window.__reportChartApis.equity.timeScale().getVisibleLogicalRange()',
      )) as { from: number; to: number };
      const points = (await page.evaluate(
        'JSON.parse(document.getElementById("report-data").textContent).equity.length',
      )) as number;
      assert.ok(
        range.from <= 0 && range.to >= points - 1,
        `all ${points} points visible: ${JSON.stringify(range)}`,
      );

      const header = await page.locator('#report-header').innerText();
      assert.match(header, /Date range\s+1988-01-04 → 2017-11-10/);
      assert.match(header, /Data source\s+CSV files in .*kaggle_huge_us_stocks_etfs/);
      assert.match(header, /Starting cash\s+\$100,000\.00/);
      assert.match(header, /Cost: commission\s+\$0\.005\/share/);
      assert.match(header, /Annualisation\s+252 trading days per year/);
      assert.match(header, /Benchmark\s+buy-and-hold SPY/);
      const monthly = await page.locator('table.monthly tbody tr').allInnerTexts();
      assert.equal(monthly[0]!.split('\t')[0], '1988');
      assert.equal(monthly[monthly.length - 1]!.split('\t')[0], '2017');
      assert.equal(await page.locator('#monte-carlo tbody tr').count(), 4, 'two methods, two rows each');
      assert.ok(
        (await page.getByText(/^flat: no position open at the end|^total$/).count()) > 0,
        'the open positions at the end are listed (or the book is flat)',
      );

      const shots = process.env.REPORT_SCREENSHOT_DIR ?? dir;
      mkdirSync(shots, { recursive: true });
      const shot = join(shots, 'report-30y.png');
      await page.screenshot({ path: shot, fullPage: false });
      t.diagnostic(`screenshot: ${shot}`);
      await page.close();

      const json = JSON.parse(readFileSync(join(dir, 'long.json'), 'utf8')) as {
        header: { firstTs: number; annualizationDays: number; ruin: { level: number } };
        monteCarlo: { blockBootstrap: { probabilityOfRuin: number; ruinLevel: number } };
        monthlyReturns: Array<{ year: number }>;
        openPositions: unknown[];
        benchmark: { label: string };
      };
      assert.equal(new Date(json.header.firstTs).getUTCFullYear(), 1988);
      assert.equal(json.monteCarlo.blockBootstrap.ruinLevel, json.header.ruin.level);
      assert.equal(json.monthlyReturns.length, 30);
      assert.ok(Array.isArray(json.openPositions));
      assert.match(json.benchmark.label, /SPY/);
    });
  },
);
