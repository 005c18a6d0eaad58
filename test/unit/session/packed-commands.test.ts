import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Command } from '../../../src/model/command';
import { packCommands, unpackCommands } from '../../../src/session/packed-commands';

const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
/** drop undefined keys, as the JSON payload converter does */
const plain = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

const price = fc.double({ min: 0.01, max: 5000, noNaN: true });
const idSuffix = fc.stringMatching(/^[A-Z]{1,5}:[0-9]{1,3}$/);

const submit = (prefix: string): fc.Arbitrary<Command> =>
  fc
    .record({
      suffix: idSuffix,
      symbol: fc.stringMatching(/^[A-Z]{1,5}$/),
      side: fc.constantFrom('buy' as const, 'sell' as const),
      qty: fc.integer({ min: 1, max: 100_000 }),
      type: fc.constantFrom('market' as const, 'limit' as const, 'stop' as const, 'trailing_stop' as const),
      timeInForce: fc.constantFrom('day' as const, 'gtc' as const, 'ioc' as const),
      limitPrice: opt(price),
      orderClass: opt(fc.constantFrom('simple' as const, 'bracket' as const)),
      stopLoss: opt(fc.record({ stopPrice: price })),
      tag: opt(
        fc.record(
          {
            intent: fc.constantFrom('entry' as const, 'exit' as const),
            reason: fc.string(),
            tier: fc.constantFrom(1 as const, 2 as const, 3 as const),
            model: fc.string(),
          },
          { requiredKeys: [] },
        ),
      ),
      refPrice: price,
      riskStopPrice: opt(price),
      sector: opt(fc.string()),
      correlationGroup: opt(fc.string()),
    })
    .map((r): Command =>
      plain({
        kind: 'submit',
        order: {
          clientOrderId: prefix + r.suffix,
          symbol: r.symbol,
          side: r.side,
          qty: r.qty,
          type: r.type,
          timeInForce: r.timeInForce,
          limitPrice: r.limitPrice,
          orderClass: r.orderClass,
          stopLoss: r.stopLoss,
          tag: r.tag,
        },
        refPrice: r.refPrice,
        riskStopPrice: r.riskStopPrice,
        sector: r.sector,
        correlationGroup: r.correlationGroup,
      }),
    );

const command = (prefix: string): fc.Arbitrary<Command> =>
  fc.oneof(
    { weight: 6, arbitrary: submit(prefix) },
    idSuffix.map((s): Command => ({ kind: 'cancel', clientOrderId: prefix + s })),
    fc
      .record({ s: idSuffix, symbol: fc.stringMatching(/^[A-Z]{1,5}$/), reason: fc.string() })
      .map((r): Command => ({
        kind: 'flatten',
        clientOrderId: prefix + r.s,
        symbol: r.symbol,
        reason: r.reason,
      })),
  );

describe('packed decide commands (history wire form)', () => {
  test('when any batch of commands is packed and sent through JSON, then unpacking gives the same commands in the same order', () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom('', 'sess-1:1710252480000:', 'x')
          .chain((p) => fc.array(command(p), { maxLength: 30 })),
        (commands) => {
          const wire = plain(packCommands(commands));
          assert.deepEqual(unpackCommands(wire), commands);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('when a 500-symbol bar of plain market entries is packed, then it is at least 3× smaller than the plain JSON', () => {
    const commands: Command[] = Array.from({ length: 500 }, (_, i) => {
      const symbol = `S${String(i).padStart(3, '0')}`;
      return {
        kind: 'submit',
        order: {
          clientOrderId: `sess-49419c33:1710252480000:${symbol}:${i}`,
          symbol,
          side: i % 2 ? 'buy' : 'sell',
          qty: 10 + i,
          type: 'market',
          timeInForce: 'day',
          tag: { intent: 'entry', reason: `sma 2/4 target ${10 + i}` },
        },
        refPrice: 19.7479 + i,
      };
    });
    const packed = JSON.stringify(packCommands(commands)).length;
    const full = JSON.stringify(commands).length;
    assert.ok(full / packed >= 3, `packed ${packed} B vs ${full} B`);
    assert.deepEqual(unpackCommands(plain(packCommands(commands))), commands);
  });

  test('when a decide result from before packing holds a plain command array, then it is taken as it is', () => {
    const legacy: Command[] = [
      { kind: 'cancel', clientOrderId: 'a:1' },
      { kind: 'flatten', clientOrderId: 'a:2', symbol: 'SPY', reason: 'r' },
    ];
    assert.deepEqual(unpackCommands(plain(legacy)), legacy);
  });

  test('when the batch is empty, then it packs to an empty batch', () => {
    assert.deepEqual(packCommands([]), { idPrefix: '', rows: [] });
    assert.deepEqual(unpackCommands({ idPrefix: '', rows: [] }), []);
  });
});
