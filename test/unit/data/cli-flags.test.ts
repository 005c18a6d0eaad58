import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BackfillFlagsSchema,
  DataBarsFlagsSchema,
  DataImportFlagsSchema,
  DataQualityFlagsSchema,
  demoBackfillInput,
  parseFlags,
} from '../../../cli/commands/data';
import { BackfillInputSchema } from '../../../contracts/backfill';

/** What commander hands the backfill action for `-s SPY,AAPL --from … --to … --source …`. */
const flags = (o: Record<string, unknown> = {}) => ({
  symbols: 'SPY,AAPL',
  tf: '1m',
  from: '2013-10-01',
  to: '2013-11-01',
  source: 'csv:lean_equity_usa',
  parallel: '4',
  ...o,
});

void describe('data command flags (one strict schema per command)', () => {
  void test('when backfill flags are valid, then they become the workflow input', () => {
    assert.deepEqual(parseFlags(BackfillFlagsSchema, flags({ gapFill: true, tf: '1m,1d' }), 'backfill'), {
      symbols: ['SPY', 'AAPL'],
      timeframes: ['1m', '1d'],
      fromMs: Date.UTC(2013, 9, 1),
      toMs: Date.UTC(2013, 10, 1),
      source: { kind: 'csv', dataset: 'lean_equity_usa' },
      mode: 'gap-fill',
      maxParallel: 4,
    });
  });

  void test('when a backfill flag is bad, then the error names the flag and the problem', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ from: '2013-13-45' }, /^backfill: --from: "2013-13-45" is not a real calendar date$/],
      [
        { from: 'tomorrow' },
        /^backfill: --from: "tomorrow" is not a date \(YYYY-MM-DD\) or an ISO timestamp/,
      ],
      [{ to: '10/07/2013' }, /--to: "10\/07\/2013" is not a date/],
      [{ from: '2013-10-07T25:00:00Z' }, /--from: "2013-10-07T25:00:00Z" is not a date/],
      [{ to: '2013-09-01' }, /--to: must be after the start/],
      [{ from: '2099-01-01', to: '2099-02-01' }, /--from: is in the future/],
      [
        { source: undefined },
        /--source: is required: csv:<dataset>, alpaca\[:iex\|sip\] or polygon; synthetic data only with an explicit synthetic\[:seed\]/,
      ],
      [{ source: 'csv:../../etc' }, /--source \(dataset\): a set is a folder name inside the data directory/],
      [{ source: 'csv:/etc' }, /--source \(dataset\): a set is a folder name/],
      [{ source: 'ftp' }, /--source: "ftp" is not a source/],
      [{ source: 'synthetic:x' }, /--source: synthetic seed "x" is not a whole number/],
      [{ parallel: '0' }, /--parallel: "0" is not a whole number in 1\.\.32/],
      [{ parallel: 'many' }, /--parallel: "many" is not a whole number/],
      [{ symbols: 'SPY,,QQQ' }, /--symbols: "SPY,,QQQ" has an empty item/],
      [{ symbols: 'SPY;rm' }, /--symbols: "SPY;rm" is not a valid ticker symbol/],
      [{ symbols: 'A/B', source: 'csv:lean_equity_usa' }, /--symbols \(0\): "A\/B" cannot name a csv file/],
      [{ tf: '2m' }, /--tf: "2m" is not a timeframe/],
      [{ colour: 'red' }, /Unrecognized key: "colour"/],
    ];
    for (const [patch, re] of cases) {
      assert.throws(
        () => parseFlags(BackfillFlagsSchema, flags(patch), 'backfill'),
        (e: Error) => re.test(e.message) || assert.fail(`${JSON.stringify(patch)}: ${e.message}`),
      );
    }
  });

  void test('when synthetic data is asked for explicitly, then it is accepted; the demo chooses it only without real data', () => {
    assert.deepEqual(parseFlags(BackfillFlagsSchema, flags({ source: 'synthetic:7' }), 'backfill').source, {
      kind: 'synthetic',
      seed: 7,
    });
    assert.equal(demoBackfillInput('/nonexistent').source.kind, 'synthetic');
    assert.ok(BackfillInputSchema.safeParse(demoBackfillInput('/nonexistent')).success);
  });

  void test('when data bars, import and quality flags are bad, then each names its flag', () => {
    assert.throws(
      () =>
        parseFlags(
          DataBarsFlagsSchema,
          { symbol: 'SPY', tf: '1m', from: '2013-13-45', to: '2013-10-08' },
          'data bars',
        ),
      /data bars: --from: "2013-13-45" is not a real calendar date$/,
    );
    assert.throws(
      () =>
        parseFlags(
          DataBarsFlagsSchema,
          { symbol: 'SPY', tf: '1m', from: '2013-10-08', to: '2013-10-07' },
          'data bars',
        ),
      /--to: must be after --from/,
    );
    assert.throws(
      () =>
        parseFlags(
          DataBarsFlagsSchema,
          { symbol: 'SPY', tf: '7m', from: '2013-10-07', to: '2013-10-08' },
          'data bars',
        ),
      /--tf: "7m" is not a timeframe/,
    );
    assert.throws(
      () => parseFlags(DataImportFlagsSchema, { parallel: '0' }, 'data import'),
      /--parallel: "0"/,
    );
    assert.throws(
      () => parseFlags(DataImportFlagsSchema, { parallel: '2', dataset: '../x' }, 'data import'),
      /--dataset: a set is a folder name/,
    );
    assert.throws(
      () => parseFlags(DataQualityFlagsSchema, { symbol: '$$' }, 'data quality'),
      /--symbol: "\$\$"/,
    );
    assert.deepEqual(
      parseFlags(
        DataBarsFlagsSchema,
        { symbol: 'spy', tf: '5min', from: '2013-10-07', to: '2013-10-08T13:30:00Z' },
        'data bars',
      ),
      { symbol: 'SPY', tf: '5m', from: Date.UTC(2013, 9, 7), to: Date.UTC(2013, 9, 8, 13, 30) },
    );
  });
});
