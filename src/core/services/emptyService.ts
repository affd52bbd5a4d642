/**
 * A Service port with nothing known about it yet: the starting point every mode's tree builder fills in.
 */

import { splitServiceId } from '../iptables/vocabulary';
import type { Protocol } from '../trace/result';
import type { ServiceInfo } from './model';

/** `id` is `ns/name:port` (or `ns/name`) when kube-proxy wrote a name; otherwise a label such as `10.96.0.10:53/udp`. */
export function emptyService(id: string, protocol: Protocol, named = true): ServiceInfo {
  const parts = named ? splitServiceId(id) : { namespace: '', name: '', portName: '' };
  return {
    id,
    ...parts,
    protocol,
    clusterIP: null,
    nodePort: null,
    externalIPs: [],
    loadBalancerIPs: [],
    sourceRanges: [],
    externalTrafficPolicy: null,
    internalTrafficPolicy: null,
    sessionAffinitySeconds: null,
    endpoints: [],
    path: [],
    warnings: [],
  };
}
