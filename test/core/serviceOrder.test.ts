import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { sortByService } from '../../src/core/services/serviceOrder';
import type { Protocol } from '../../src/core/trace/result';

/** The order the tree promises, written the plain way: code units of the id, then of the protocol. */
function reference(a: { id: string; protocol: string }, b: { id: string; protocol: string }): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0;
}

test('Services sort by id then protocol in code units, prefixes and NUL characters included', () => {
  const id = fc.stringOf(fc.constantFrom('a', 'b', 'B', '/', ':', '-', '\u0000', '\u00e9', '1'), { maxLength: 6 });
  const protocol = fc.constantFrom<Protocol>('tcp', 'udp', 'sctp');
  fc.assert(
    fc.property(fc.array(fc.record({ id, protocol }), { maxLength: 40 }), (services) => {
      // Ids cut from a longer text, as the parsers make them.
      const text = services.map((service) => service.id).join('|');
      let at = 0;
      const cut = services.map((service) => {
        const sliced = { id: text.slice(at, at + service.id.length), protocol: service.protocol };
        at += service.id.length + 1;
        return sliced;
      });
      assert.deepEqual(sortByService(cut, (service) => service), [...services].sort(reference));
    }),
    { numRuns: 300 },
  );
});

test('the items sorted are the ones given, looked up through the accessor', () => {
  const items = [{ draft: { id: 'b/x:http', protocol: 'tcp' as const } }, { draft: { id: 'a/y:dns', protocol: 'udp' as const } }];
  assert.deepEqual(sortByService(items, (item) => item.draft), [items[1], items[0]]);
});
