/**
 * A ServiceInfo whose chain-derived fields (endpoints, path, policies, affinity, warnings) are computed the first
 * time any of them is read. The first level of the tree (ids, addresses, ports) is plain data; on a node with
 * 10,000 Services only the Services someone looks at pay for reading their chains. The lazy fields are own,
 * enumerable accessors, so JSON.stringify, spread and deep equality see an ordinary ServiceInfo.
 */

import type { ServiceInfo } from './model';

const LAZY_FIELDS = [
  'sourceRanges',
  'externalTrafficPolicy',
  'internalTrafficPolicy',
  'sessionAffinitySeconds',
  'endpoints',
  'path',
  'warnings',
] as const satisfies readonly (keyof ServiceInfo)[];

type LazyField = (typeof LAZY_FIELDS)[number];

const PENDING = Symbol('pending Service details');

interface Pending {
  draft: ServiceInfo;
  complete: ((draft: ServiceInfo) => void) | undefined;
}

function completed(info: object): ServiceInfo {
  const pending = (info as { [PENDING]: Pending })[PENDING];
  if (pending.complete) {
    const complete = pending.complete;
    // Cleared first, so a failure or a re-entrant read cannot run the completion twice.
    pending.complete = undefined;
    complete(pending.draft);
  }
  return pending.draft;
}

/** One shared getter per field: a Service costs one small object, not a closure per field. */
const DESCRIPTORS: PropertyDescriptorMap = Object.fromEntries(
  LAZY_FIELDS.map((field: LazyField) => [
    field,
    {
      enumerable: true,
      configurable: false,
      get(this: object) {
        return completed(this)[field];
      },
    },
  ]),
);

/**
 * Wraps a draft whose first-level fields are final. `complete` fills in the lazy fields of the same draft and runs
 * at most once, on the first read of any of them.
 */
export function lazyService(draft: ServiceInfo, complete: (draft: ServiceInfo) => void): ServiceInfo {
  const info = {
    id: draft.id,
    namespace: draft.namespace,
    name: draft.name,
    portName: draft.portName,
    protocol: draft.protocol,
    clusterIP: draft.clusterIP,
    nodePort: draft.nodePort,
    externalIPs: draft.externalIPs,
    loadBalancerIPs: draft.loadBalancerIPs,
  };
  Object.defineProperty(info, PENDING, { value: { draft, complete } satisfies Pending, enumerable: false });
  Object.defineProperties(info, DESCRIPTORS);
  const service = info as ServiceInfo;
  if (draft.source) service.source = draft.source;
  return service;
}
