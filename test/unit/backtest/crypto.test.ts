import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadSharedBars } from '../../../src/backtest/data';
import { runBacktestPipeline } from '../../../src/backtest/pipeline';
import { ALPACA_CRYPTO_FEES, instrumentFor } from '../../../src/model/instrument';
import { sharedDataOrSkip } from '../../support/shared-data';

/**
 * Crypto is first class (issue 13, acceptance 3): BTCUSDT minutes of June 2024 (binance_spot), traded with
 * $100k by the reference strategy on 1m/5m/15m. A $100k account buys fractions of a bitcoin (whole-coin sizing
 * would round every order to 0), the 24/7 calendar gives 288 5-minute and 96 15-minute bars a day, the report
 * annualises on 365 days, and every fill pays Alpaca's crypto taker fee (bps of notional, no SEC/FINRA fees).
 */
describe('a month of BTCUSDT minutes', () => {
  const FROM = '2024-06-01';
  const TO = '2024-07-01';
  const DAYS = 30;

  test('when the 1m file is aggregated on the CSV path, then every day has 288 5m bars and 96 15m bars (24/7, no session cut)', (t) => {
    const dir = sharedDataOrSkip(t);
    if (!dir) return;
    const range = { from: Date.parse(`${FROM}T00:00:00Z`), to: Date.parse(`${TO}T00:00:00Z`) };
    const five = loadSharedBars(dir, 'binance_spot', 'BTCUSDT', '5m', range);
    const fifteen = loadSharedBars(dir, 'binance_spot', 'BTCUSDT', '15m', range);
    const perDay = (ts: Float64Array) => {
      const m = new Map<string, number>();
      for (const x of ts) {
        const d = new Date(x).toISOString().slice(0, 10);
        m.set(d, (m.get(d) ?? 0) + 1);
      }
      return m;
    };
    const p5 = perDay(five.ts);
    const p15 = perDay(fifteen.ts);
    assert.equal(p5.size, DAYS);
    assert.ok(
      [...p5.values()].every((n) => n === 288),
      `5m bars per day: ${[...new Set(p5.values())]}`,
    );
    assert.ok(
      [...p15.values()].every((n) => n === 96),
      `15m bars per day: ${[...new Set(p15.values())]}`,
    );
  });

  test('when $100k trades it on 1m/5m/15m, then quantities are fractional, the report annualises on 365 days and fills pay the crypto fee schedule', async (t) => {
    const dir = sharedDataOrSkip(t);
    if (!dir) return;
    const out = mkdtempSync(join(tmpdir(), 'btc-'));
    const r = await runBacktestPipeline({
      symbols: ['BTCUSDT'],
      from: FROM,
      to: TO,
      timeframes: ['1m', '5m', '15m'],
      cash: 100_000,
      seed: 1,
      db: false,
      dataDir: dir,
      source: 'binance_spot',
      mcRuns: 20,
      json: join(out, 'report.json'),
    });
    const fills = r.result.fills;
    assert.ok(r.result.trades.length >= 5, `it traded (${r.result.trades.length} round trips)`);
    assert.ok(
      fills.every((f) => f.qty > 0 && f.qty < 1),
      'a $100k account trades fractions of a coin (5% of equity is ~0.07 BTC)',
    );
    assert.ok(
      fills.some((f) => !Number.isInteger(f.qty * 1000)),
      'quantities are not rounded to lots',
    );
    const inst = instrumentFor('BTCUSDT');
    assert.equal(inst.annualizationDays, 365);
    assert.equal(r.metrics.annualizationDays, 365, 'Sharpe, Sortino and volatility on 365 days a year');
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      metrics: { annualizationDays: number };
      header: { costModelText: Array<[string, string]> };
    };
    assert.equal(json.metrics.annualizationDays, 365, 'the JSON report says so');
    const costs = Object.fromEntries(json.header.costModelText);
    assert.match(
      costs['crypto fees'] ?? '',
      /25 bp .* taking liquidity.*15 bp resting/,
      'the header names the schedule',
    );
    assert.equal(costs.commission, undefined, 'no per-share commission line for a crypto-only run');
    for (const f of fills) {
      // market orders and stops take liquidity: the taker rate, on notional; crypto pays no SEC/FINRA fees
      assert.ok(
        Math.abs(f.commission - (f.qty * f.price * ALPACA_CRYPTO_FEES.takerBps) / 10_000) < 1e-9,
        `fill ${f.clientOrderId}: commission ${f.commission} is 25 bps of ${f.qty * f.price}`,
      );
      assert.equal(f.regulatoryFees, 0);
    }
    assert.ok(
      r.result.finalAccount.commissions > 0 && r.result.finalAccount.regulatoryFees === 0,
      'the account paid the fees',
    );
  });
});
