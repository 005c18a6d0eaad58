import { after, before, describe, test } from 'node:test';
import { allocBarColumns } from '../../src/model/bar';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { analyse, mulberry32, renderReport, runBacktest } from '../../src/backtest';
import type { BarColumns } from '../../src/model/bar';
import { ReferenceAiStrategy } from '../../src/strategy/reference-ai';

/** Counts coloured pixels (every 7th sampled) in each chart's canvases: a drawn series is coloured, the background and grid are not. */
const INK_PROBE = `(() => {
  const out = {};
  for (const id of ['equity', 'drawdown', 'price', 'fan-bootstrap', 'fan-trades']) {
    let count = 0;
    for (const c of document.querySelectorAll('#' + id + ' canvas')) {
      if (c.width === 0 || c.height === 0) continue;
      const ctx = c.getContext('2d');
      if (!ctx) continue;
      const px = ctx.getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < px.length; i += 4 * 7) {
        if (px[i + 3] > 0 && Math.max(px[i], px[i + 1], px[i + 2]) - Math.min(px[i], px[i + 1], px[i + 2]) > 40) count++;
      }
    }
    out[id] = count;
  }
  return out;
})()`;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Seeded random-walk daily bars with volume bursts, so the reference strategy trades. */
function walk(symbol: string, seed: number, n: number): BarColumns {
  const rnd = mulberry32(seed);
  const cols = allocBarColumns(symbol, '1d', n);
  let px = 50 + rnd() * 100;
  let drift = 0;
  for (let i = 0; i < n; i++) {
    if (i % 40 === 0) drift = (rnd() - 0.5) * 0.006;
    const o = px;
    const c = o * (1 + drift + (rnd() - 0.5) * 0.03);
    cols.ts[i] = Date.UTC(2020, 0, 1) + i * 86_400_000;
    cols.open[i] = o;
    cols.close[i] = c;
    cols.high[i] = Math.max(o, c) * (1 + rnd() * 0.01);
    cols.low[i] = Math.min(o, c) * (1 - rnd() * 0.01);
    cols.volume[i] = 1e6 * (0.5 + rnd() * (rnd() < 0.2 ? 4 : 1));
    px = c;
  }
  return cols;
}

describe(
  'HTML report in headless Chromium',
  { skip: existsSync(CHROMIUM) ? false : `SKIPPED: no Chromium at ${CHROMIUM}` },
  () => {
    let browser: Browser;
    let dir: string;
    before(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      dir = mkdtempSync(join(tmpdir(), 'report-'));
    });
    after(async () => {
      await browser?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('when a backtest report is opened offline, then all five charts draw non-empty canvases', async () => {
      const series = ['AAA', 'BBB', 'CCC'].map((s, i) => walk(s, 11 + i, 500));
      const result = runBacktest({ strategy: new ReferenceAiStrategy(['1d']), series, seed: 3 });
      assert.ok(result.trades.length > 2, `the fixture should trade (got ${result.trades.length} trades)`);
      const a = analyse(result, { runs: 200 });
      const html = renderReport({ title: 'Report e2e', result, ...a, price: series[0] });
      assert.ok(!/<script[^>]+src=/i.test(html), 'no external scripts: the chart library is inlined');
      const file = join(dir, 'report.html');
      writeFileSync(file, html);

      const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
      // the report must not need the network: block every request that is not the file itself
      await page.route('**/*', (route) =>
        route.request().url().startsWith('file:') ? route.continue() : route.abort(),
      );
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${file}`);
      await page.waitForFunction('window.__reportCharts === 5', undefined, { timeout: 15_000 });
      // charts paint on animation frames: wait (bounded) until every chart has ink, then measure
      await page
        .waitForFunction(`Object.values(${INK_PROBE}).every((n) => n > 50)`, undefined, {
          timeout: 15_000,
          polling: 100,
        })
        .catch(() => undefined);
      assert.deepEqual(errors, []);
      // runs in the page (the project compiles without DOM types, so the probe is a string)
      const inked = (await page.evaluate(INK_PROBE)) as Record<string, number>;
      for (const [id, n] of Object.entries(inked))
        assert.ok(n > 50, `chart ${id} looks empty (${n} coloured pixels sampled)`);
      const shot = join(process.env.REPORT_SCREENSHOT_DIR ?? dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: false });
      await page.close();
    });
  },
);
