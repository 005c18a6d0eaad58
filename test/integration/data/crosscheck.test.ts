import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { crossCheckSharedData, type CrossCheckPair } from '../../../src/data/crosscheck';
import { sharedDataDir } from '../../support/shared-data';

const dir = sharedDataDir();

void describe(
  'daily/hourly bars built from minute sets vs the daily/hourly sets',
  { skip: dir ? false : 'SKIPPED: ../shared/data not found' },
  () => {
    let pairs: CrossCheckPair[] = [];
    const pair = (symbol: string, tf: string, minuteSet: string, referenceSet: string) =>
      pairs.find(
        (p) =>
          p.symbol === symbol &&
          p.timeframe === tf &&
          p.minuteSet === minuteSet &&
          p.referenceSet === referenceSet,
      )!;
    before(async () => {
      pairs = await crossCheckSharedData(dir!);
    });

    void test("when Lean minutes are aggregated to hours, then every hour bar volume equals Lean's own (09:00 holds 09:30-10:00)", () => {
      for (const s of ['SPY', 'BAC', 'AAPL']) {
        const p = pair(s, '1h', 'lean_equity_usa', 'lean_equity_usa');
        assert.ok(p.compared >= 21, s);
        assert.equal(p.volumeAgree, p.compared, s);
      }
    });

    void test('when Lean minutes are aggregated to days, then BAC matches the Lean daily set exactly and others differ by a tick at most', () => {
      const bac = pair('BAC', '1d', 'lean_equity_usa', 'lean_equity_usa');
      assert.equal(bac.compared, 6);
      assert.equal(bac.pricesAgree, 6);
      for (const p of pairs.filter(
        (x) =>
          x.minuteSet === 'lean_equity_usa' && x.referenceSet === 'lean_equity_usa' && x.timeframe === '1d',
      )) {
        for (const d of p.diffs.filter((x) => x.field !== 'volume' && x.field !== 'missing'))
          assert.ok(Math.abs(d.relDiff) < 0.001, `${p.symbol} ${d.field} ${d.relDiff}`);
      }
    });

    void test('when raw minutes meet an adjusted daily set, then the difference is reported (AAPL ≈ 7:1 split factor), not hidden', () => {
      const p = pair('AAPL', '1d', 'lean_equity_usa', 'kaggle_sandp500_5yr');
      assert.equal(p.pricesAgree, 0);
      const close = p.diffs.find((d) => d.field === 'close')!;
      assert.ok(Math.abs(close.derived / close.stored - 7) < 0.01);
      const spy = pair('SPY', '1d', 'pyalgotrade_ninjatrader', 'lean_equity_usa');
      assert.ok(spy.compared >= 40);
      assert.ok(spy.diffs.length > 0, 'two vendors of the same days disagree and that is listed');
      assert.ok(
        pairs.some((x) => x.diffs.some((d) => d.field === 'missing')),
        'days present only in the minute set are listed too',
      );
    });
  },
);
