/**
 * The demo backtest (5 S&P 500 names, daily 2013-2018) used to stop trading for good in mid-2014: the
 * reference strategy's Kelly statistics turned negative, sizing gave zero shares, no trade closed any more
 * and the statistics could never change again. The strategy must keep measuring its edge while it does not
 * trade, and trade again when the edge comes back.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSharedBars, runBacktest } from '../../../src/backtest';
import { ReferenceAiStrategy } from '../../../src/strategy/reference-ai';
import { sharedDataOrSkip } from '../../support/shared-data';

describe('reference strategy edge recovery on real data', () => {
  test('when it trades AAPL, MSFT, JPM, XOM and JNJ daily from 2013-02 to 2018-02, then it enters in every calendar year', (t) => {
    const dir = sharedDataOrSkip(t);
    if (!dir) return;
    const range = { from: Date.UTC(2013, 1, 8), to: Date.UTC(2018, 1, 8) };
    const series = ['AAPL', 'MSFT', 'JPM', 'XOM', 'JNJ'].map((s) =>
      loadSharedBars(dir, 'kaggle_sandp500_5yr', s, '1d', range),
    );
    const r = runBacktest({
      strategy: new ReferenceAiStrategy(['1d']),
      series,
      startingCash: 100_000,
      seed: 1,
    });
    const perYear = new Map<number, number>();
    for (const tr of r.trades) {
      const y = new Date(tr.entryTs).getUTCFullYear();
      perYear.set(y, (perYear.get(y) ?? 0) + 1);
    }
    for (let y = 2013; y <= 2018; y++)
      assert.ok(
        (perYear.get(y) ?? 0) > 0,
        `no entries in ${y}; entries per year: ${JSON.stringify(Object.fromEntries(perYear))}`,
      );
  });
});
