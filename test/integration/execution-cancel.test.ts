import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { packActions } from '../../src/trading/packed-actions';
import { createExecutionActivities } from '../../activities/execution.activities';
import { AlpacaBroker } from '../../src/execution/alpaca/adapter';
import { startSimulatorServer, type SimulatorServer } from '../../src/execution/simulator/server';
import { syntheticDayBars } from '../support/sim-bars';

describe('execution activity cancelOpenOrders (real SDK over HTTP against the simulator)', () => {
  let sim: SimulatorServer;
  let broker: AlpacaBroker;
  before(async () => {
    sim = await startSimulatorServer({
      bars: syntheticDayBars({ date: '2024-03-12', symbols: ['AAA', 'BBB'], minutes: 30 }),
      keyId: 'PKCANCEL',
      secretKey: 'cancel-secret',
      startingCash: 100_000,
    });
    sim.replay.advanceTo(sim.replay.barTimes()[0]!);
    broker = new AlpacaBroker({
      keyId: 'PKCANCEL',
      secret: 'cancel-secret',
      baseUrl: sim.url,
      dataBaseUrl: sim.dataUrl,
      timeoutMs: 3_000,
    });
  });
  after(async () => {
    await broker.close();
    await sim.close();
  });

  test('when orders are canceled by client order id, then only those go; by symbol, that symbol’s; with neither, all', async () => {
    const acts = createExecutionActivities({ broker });
    // limit buys far below the market: they stay open
    const order = (clientOrderId: string, symbol: string) => ({
      kind: 'submit' as const,
      order: {
        clientOrderId,
        symbol,
        side: 'buy' as const,
        qty: 1,
        type: 'limit' as const,
        limitPrice: 1,
        timeInForce: 'day' as const,
      },
      refPrice: 1,
      entry: true,
    });
    await acts.execute({
      sessionId: 's',
      actions: packActions([
        order('s:1:AAA:0', 'AAA'),
        order('s:1:AAA:1', 'AAA'),
        order('s:1:BBB:2', 'BBB'),
        order('s:1:BBB:3', 'BBB'),
      ]),
    });
    const open = async () => (await broker.listOrders({ status: 'open' })).map((o) => o.clientOrderId).sort();
    assert.equal(await acts.cancelOpenOrders({ reason: 't', clientOrderIds: ['s:1:AAA:1', 'gone'] }), 1);
    assert.deepEqual(await open(), ['s:1:AAA:0', 's:1:BBB:2', 's:1:BBB:3']);
    assert.equal(await acts.cancelOpenOrders({ reason: 't', symbols: ['BBB'] }), 2);
    assert.deepEqual(await open(), ['s:1:AAA:0']);
    assert.equal(await acts.cancelOpenOrders({ reason: 't' }), 1);
    assert.deepEqual(await open(), []);
  });
});
