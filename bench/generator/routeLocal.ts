/**
 * Writes route-local.txt (`ip route show table local`) for the generated node: its own addresses,
 * loopback, the flannel and bridge addresses, and in IPVS mode every Service IP bound to kube-ipvs0.
 * The kernel dumps the local table ordered by address (checked against `ip route show table local` in a
 * network namespace with the same addresses).
 */

import type { GeneratedCluster } from './cluster';

function toNumber(ip: string): number {
  const [a = 0, b = 0, c = 0, d = 0] = ip.split('.').map(Number);
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function toIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

interface LocalRoute {
  key: number;
  /** Ties on the key: a /8 prefix route sorts before the host route at the same address. */
  prefixLength: number;
  text: string;
}

function interfaceRoutes(ip: string, prefixLength: number, device: string): LocalRoute[] {
  const address = toNumber(ip);
  const routes: LocalRoute[] = [
    { key: address, prefixLength: 32, text: `local ${ip} dev ${device} proto kernel scope host src ${ip}` },
  ];
  if (prefixLength < 31) {
    const broadcast = (address | (0xffffffff >>> prefixLength)) >>> 0;
    routes.push({
      key: broadcast,
      prefixLength: 32,
      text: `broadcast ${toIp(broadcast)} dev ${device} proto kernel scope link src ${ip}`,
    });
  }
  return routes;
}

/** `serviceIPs` are bound to kube-ipvs0 (IPVS mode); pass none in iptables mode. */
export function renderRouteLocal(cluster: GeneratedCluster, serviceIPs: Iterable<string> = []): string {
  const { node } = cluster;
  const routes: LocalRoute[] = [
    ...interfaceRoutes(node.ip, node.nodeNetworkPrefix, 'eth0'),
    ...interfaceRoutes(node.flannelIP, 32, 'flannel.1'),
    ...interfaceRoutes(node.bridgeIP, 24, 'cni0'),
    { key: toNumber('127.0.0.0'), prefixLength: 8, text: 'local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1' },
    ...interfaceRoutes('127.0.0.1', 8, 'lo'),
  ];
  for (const ip of new Set(serviceIPs)) {
    routes.push({ key: toNumber(ip), prefixLength: 32, text: `local ${ip} dev kube-ipvs0 proto kernel scope host src ${ip}` });
  }
  routes.sort((a, b) => a.key - b.key || a.prefixLength - b.prefixLength);
  // iproute2 ends every route line with a space.
  return routes.map((route) => `${route.text} \n`).join('');
}
