/**
 * The order Services are listed in, in every mode: by id, then protocol, comparing code units. It does not
 * depend on the machine's locale (a CLI listing diffs the same everywhere) and is far cheaper than a collator
 * on a tree of 10,000 Services.
 */

import type { ServiceInfo } from './model';

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Sorts `items` by their Service's id, then protocol. Ids are usually cut out of the dump's text, and V8 compares
 * such sliced strings several times slower than flat ones, so each id is compared through a flat copy made once:
 * the id followed by a NUL, which sorts before every other character and so keeps the ids' order exactly (an id
 * that is a prefix of another still comes first).
 */
export function sortByService<T>(items: readonly T[], serviceOf: (item: T) => Pick<ServiceInfo, 'id' | 'protocol'>): T[] {
  const keyed = items.map((item) => {
    const service = serviceOf(item);
    return { key: `${service.id}\u0000`, protocol: service.protocol, item };
  });
  keyed.sort((a, b) => compareText(a.key, b.key) || compareText(a.protocol, b.protocol));
  return keyed.map((entry) => entry.item);
}
