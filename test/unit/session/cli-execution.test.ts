import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { executionRoutingFrom } from '../../../cli/commands/session';

describe('session start: execution flags', () => {
  test('when algorithm flags are given, then they become the session input, and a wrong one names its flag', () => {
    assert.deepEqual(executionRoutingFrom({}), {});
    assert.deepEqual(
      executionRoutingFrom({ algoMinNotional: '20000', algo: 'vwap', algoSlices: '6', algoUrgency: 'low' }),
      { algoMinNotional: 20_000, algo: 'vwap', slices: 6, urgency: 'low' },
    );
    assert.deepEqual(executionRoutingFrom({ algoMinNotional: 'off' }), { algoMinNotional: null });
    assert.deepEqual(executionRoutingFrom({ algoMaxParticipation: '0.05' }), { algoMaxParticipation: 0.05 });
    assert.throws(
      () => executionRoutingFrom({ algoMaxParticipation: '2' }),
      /--algo-max-participation: 2 must be a fraction in \(0, 1\]/,
    );
    assert.throws(() => executionRoutingFrom({ algoSlices: '0' }), /^ConfigError: --algo-slices: 0 must be/);
    assert.throws(() => executionRoutingFrom({ algo: 'pov' }), /--algo: "pov" must be twap or vwap/);
    assert.throws(
      () => executionRoutingFrom({ algoMinNotional: 'lots' }),
      /--algo-min-notional: lots must be a positive dollar amount/,
    );
    assert.throws(
      () => executionRoutingFrom({ algoIntervalMs: '5' }),
      /--algo-interval-ms: 5 must be at least 1000/,
    );
  });
});
