import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { fnv1a64Hex, fnv1a64HexBytes } from '../../../src/model/client-order-id';

describe('FNV-1a 64 over bytes', () => {
  test('when any bytes are hashed, then the limb arithmetic equals the BigInt hash of the same char codes', () => {
    assert.equal(fnv1a64HexBytes(new Uint8Array(0)), 'cbf29ce484222325');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        let s = '';
        for (const b of bytes) s += String.fromCharCode(b);
        assert.equal(fnv1a64HexBytes(bytes), fnv1a64Hex(s));
      }),
      { numRuns: 500 },
    );
  });
});
