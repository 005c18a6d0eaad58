import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_OPERATOR_LIMITS, type AlgoInFlight, type SessionState } from '../../../contracts/session';
import {
  ALGO_SLICE_SEQ_BASE,
  makeClientOrderId,
  parseClientOrderId,
} from '../../../src/model/client-order-id';
import {
  expireAlgos,
  initialSessionState,
  sliceIds,
  stopAlgos,
  type CycleOps,
  type StateCell,
} from '../../../src/session/cycle';

const AT = 1_710_250_000_000;
const algo = (symbol: string, seq: number): AlgoInFlight => ({
  workflowId: `s/algo/${symbol}`,
  parentId: makeClientOrderId({ session: 's', barTs: AT, symbol, seq }),
  symbol,
  side: 'buy',
  qty: 90,
  startQty: 0,
  slices: 3,
  until: AT + 60_000,
});

/** The cycle's view of Temporal and the broker, recorded: `confirm` decides whether a stopped algorithm answers. */
function harness(algos: AlgoInFlight[], confirm: boolean) {
  let state: SessionState = { ...initialSessionState(DEFAULT_OPERATOR_LIMITS), algos };
  const cell: StateCell = { get: () => state, set: (s) => (state = s) };
  const calls: string[] = [];
  const canceled: string[][] = [];
  const ops: CycleOps = {
    io: { decide: () => Promise.reject(new Error('not used')) },
    venue: {
      untilClose: () => Promise.reject(new Error('not used')),
      account: () => Promise.reject(new Error('not used')),
      execute: () => Promise.reject(new Error('not used')),
      finalAccount: () => Promise.reject(new Error('not used')),
    },
    exec: {
      async cancelOpenOrders(input) {
        calls.push('cancel');
        canceled.push([...(input.clientOrderIds ?? [])]);
        return 0;
      },
    },
    algos: {
      async start() {},
      async stop(workflowId) {
        calls.push(`stop ${workflowId}`);
        // the algorithm's algoDone signal, as the workflow's handler applies it
        if (confirm) state = { ...state, algos: state.algos.filter((a) => a.workflowId !== workflowId) };
      },
      async waitFor(done) {
        calls.push(`wait ${done()}`);
        return done();
      },
      now: () => AT,
    },
  };
  return { cell, ops, calls, canceled };
}

describe('stopping execution algorithms', () => {
  test('when a symbol is flattened, then its algorithm is stopped, confirmed, and its working slices canceled; others go on', async () => {
    const h = harness([algo('AAA', 4), algo('BBB', 5)], true);
    assert.equal(await stopAlgos(h.ops, h.cell, 's', ['AAA'], 'flatten'), 1);
    assert.deepEqual(h.calls, ['stop s/algo/AAA', 'wait true', 'cancel']);
    assert.deepEqual(h.canceled[0], sliceIds('s', algo('AAA', 4)));
    assert.deepEqual(
      h.canceled[0]!.map((id) => parseClientOrderId(id)!.seq),
      [0, 1, 2].map((i) => ALGO_SLICE_SEQ_BASE + 4 * 1000 + i),
    );
    assert.deepEqual(
      h.cell.get().algos.map((a) => a.symbol),
      ['BBB'],
    );
  });

  test('when an algorithm does not confirm in time, then it is dropped anyway and its slices are still canceled', async () => {
    const h = harness([algo('AAA', 4), algo('BBB', 5)], false);
    assert.equal(await stopAlgos(h.ops, h.cell, 's', null, 'kill'), 2);
    assert.deepEqual(h.calls, ['stop s/algo/AAA', 'stop s/algo/BBB', 'wait false', 'cancel']);
    assert.equal(h.canceled[0]!.length, 6);
    assert.deepEqual(h.cell.get().algos, []);
  });

  test('when no algorithm works the symbols, then nothing is signaled or canceled', async () => {
    const h = harness([algo('BBB', 5)], true);
    assert.equal(await stopAlgos(h.ops, h.cell, 's', ['AAA'], 'flatten'), 0);
    assert.deepEqual(h.calls, []);
  });

  test('when an algorithm is past its deadline without confirming, then it is told to stop, forgotten, and its slices canceled', async () => {
    const late = { ...algo('AAA', 4), until: AT - 1 };
    const h = harness([late, algo('BBB', 5)], false);
    assert.equal(await expireAlgos(h.ops, h.cell, 's'), 1);
    assert.deepEqual(h.calls, ['stop s/algo/AAA', 'cancel']);
    assert.deepEqual(h.canceled[0], sliceIds('s', late));
    assert.deepEqual(
      h.cell.get().algos.map((a) => a.symbol),
      ['BBB'],
    );
    assert.equal(await expireAlgos(h.ops, h.cell, 's'), 0, 'nothing else is due');
  });
});
