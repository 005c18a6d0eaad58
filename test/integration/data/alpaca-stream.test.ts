import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AlpacaMarketStream } from '../../../src/data/alpaca-stream';
import { startSimulatorServer, type SimulatorServer } from '../../../src/execution/simulator/server';
import type { Bar } from '../../../src/model/bar';
import { sessionOpenMs } from '../../../src/market/calendar';

const KEY = 'PKSTREAM';
const SECRET = 'stream-secret';

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

void describe('Alpaca real-time bar stream (SDK) against the local simulator', () => {
  let sim: SimulatorServer;
  const open = sessionOpenMs('2024-01-03');
  const bars: Bar[] = [];
  for (let i = 0; i < 5; i++) {
    for (const symbol of ['AAPL', 'MSFT']) {
      const p = 100 + i;
      // The third AAPL minute is inconsistent (high below the low): the stream must not pass it on.
      const high = symbol === 'AAPL' && i === 2 ? p - 1 : p + 0.5;
      bars.push({
        symbol,
        timeframe: '1m',
        ts: open + i * 60_000,
        open: p,
        high,
        low: p - 0.5,
        close: p + 0.1,
        volume: 1000 + i,
      });
    }
  }
  before(async () => {
    sim = await startSimulatorServer({ bars, keyId: KEY, secretKey: SECRET, startingCash: 100_000 });
    sim.replay.advanceTo(open - 60_000);
  });
  after(async () => sim?.close());

  void test('when minutes close, then subscribed bars arrive validated and a bad bar becomes a finding', async () => {
    const stream = new AlpacaMarketStream({
      keyId: KEY,
      secret: SECRET,
      url: sim.marketDataStreamUrl('iex'),
    });
    const got: Bar[] = [];
    const findings: string[] = [];
    await stream.start(
      { bars: ['AAPL'] },
      { onBar: (b) => got.push(b), onFinding: (f) => findings.push(`${f.rule}:${f.field}`) },
    );
    try {
      await new Promise((r) => setTimeout(r, 100));
      sim.replay.advanceTo(open + 4 * 60_000);
      await waitFor(() => got.length + findings.length >= 5);
      assert.ok(got.every((b) => b.symbol === 'AAPL'));
      assert.deepEqual(
        got.map((b) => (b.ts - open) / 60_000),
        [0, 1, 3, 4],
      );
      assert.deepEqual(findings, ['ohlc_inconsistent:high']);
    } finally {
      stream.stop();
    }
  });
});
