/**
 * Finds the virtual server IPVS would match for a packet's (protocol, destination address, port), as the
 * kernel's service hash does. The index is built once per table on first use and kept beside it, so each
 * lookup is a single map access. Firewall-mark services are not indexed: they match on marks, not addresses.
 */

import { normalizeIp } from '../ipset/ipAddress';
import type { IpvsTable, VirtualServer } from './model';

const indexes = new WeakMap<IpvsTable, Map<string, VirtualServer>>();

function keyOf(protocol: string, ip: string, port: number): string | undefined {
  const address = normalizeIp(ip);
  return address === undefined ? undefined : `${protocol.toUpperCase()}|${address}|${port}`;
}

function indexOf(table: IpvsTable): Map<string, VirtualServer> {
  let index = indexes.get(table);
  if (!index) {
    index = new Map();
    for (const server of table.virtualServers) {
      if (server.protocol === 'FWM') continue;
      const key = keyOf(server.protocol, server.address, server.port);
      // The first of duplicate entries wins, as the parser reports the duplicate.
      if (key !== undefined && !index.has(key)) index.set(key, server);
    }
    indexes.set(table, index);
  }
  return index;
}

export function lookupVirtualServer(
  table: IpvsTable,
  proto: 'tcp' | 'udp' | 'sctp',
  ip: string,
  port: number,
): VirtualServer | undefined {
  const key = keyOf(proto, ip, port);
  return key === undefined ? undefined : indexOf(table).get(key);
}
