import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as I from '../../../src/indicators';
import { generatedBars } from './data';

test('when kernels write into reused output arrays holding garbage, then the results equal fresh ones', () => {
  const d = generatedBars(2000, 5);
  const garbage = () => new Float64Array(d.close.length).fill(123.456);
  const g3 = () => [garbage(), garbage(), garbage()] as const;
  const same = (a: Float64Array[], b: Float64Array[], name: string) =>
    a.forEach((x, k) => assert.deepEqual(Array.from(x), Array.from(b[k]!), `${name} output ${k}`));
  same([I.smaBatch(d.close, 20, garbage())], [I.smaBatch(d.close, 20)], 'SMA');
  same([I.emaBatch(d.close, 20, undefined, garbage())], [I.emaBatch(d.close, 20)], 'EMA');
  same([I.wmaBatch(d.close, 20, garbage())], [I.wmaBatch(d.close, 20)], 'WMA');
  same([I.rsiBatch(d.close, 14, garbage())], [I.rsiBatch(d.close, 14)], 'RSI');
  same(I.macdBatch(d.close, 12, 26, 9, g3()), I.macdBatch(d.close, 12, 26, 9), 'MACD');
  same([I.rocBatch(d.close, 10, garbage())], [I.rocBatch(d.close, 10)], 'ROC');
  same([I.atrBatch(d.high, d.low, d.close, 14, garbage())], [I.atrBatch(d.high, d.low, d.close, 14)], 'ATR');
  same(I.bbandsBatch(d.close, 20, 2, 2, g3()), I.bbandsBatch(d.close, 20, 2, 2), 'BBANDS');
  same(I.adxBatch(d.high, d.low, d.close, 14, g3()), I.adxBatch(d.high, d.low, d.close, 14), 'ADX');
  same(
    I.stochBatch(d.high, d.low, d.close, 5, 3, 3, [garbage(), garbage()]),
    I.stochBatch(d.high, d.low, d.close, 5, 3, 3),
    'STOCH',
  );
  same([I.cciBatch(d.high, d.low, d.close, 14, garbage())], [I.cciBatch(d.high, d.low, d.close, 14)], 'CCI');
  same(
    [I.willrBatch(d.high, d.low, d.close, 14, garbage())],
    [I.willrBatch(d.high, d.low, d.close, 14)],
    'WILLR',
  );
  same(
    [I.mfiBatch(d.high, d.low, d.close, d.volume, 14, garbage())],
    [I.mfiBatch(d.high, d.low, d.close, d.volume, 14)],
    'MFI',
  );
  same([I.obvBatch(d.close, d.volume, garbage())], [I.obvBatch(d.close, d.volume)], 'OBV');
  assert.throws(() => I.smaBatch(d.close, 20, new Float64Array(3)), /length 3/);
});
