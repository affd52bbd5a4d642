/**
 * Writes the files of a node whose kube-proxy runs in IPVS mode: ipvsadm.txt (`ipvsadm -Ln`), ipset.txt
 * (`ipset -L`) and the small, Service-count-independent iptables-save.txt that mode keeps (ipset matches
 * in KUBE-SERVICES, KUBE-NODE-PORT, KUBE-POSTROUTING and the filter chains). route-local.txt comes from
 * routeLocal.ts with every Service IP bound to kube-ipvs0.
 */

import type { GeneratedCluster } from './cluster';
import { comment, TableBuilder } from './iptablesText';
import { createRandom, type Random } from './random';
import { MASQ_MARK, writeFlannelRules, writeKubeletChains, writeKubeletJumps } from './nodeBaseline';


function ipNumber(ip: string): number {
  const [a = 0, b = 0, c = 0, d = 0] = ip.split('.').map(Number);
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** The addresses NodePorts are served on: every node address outside kube-ipvs0. */
function nodePortAddresses(cluster: GeneratedCluster): string[] {
  return [cluster.node.ip, cluster.node.flannelIP, cluster.node.bridgeIP];
}

/** Every address kube-proxy binds to kube-ipvs0: ClusterIPs, external IPs and load-balancer IPs. */
export function ipvsBoundAddresses(cluster: GeneratedCluster): string[] {
  const addresses: string[] = [];
  for (const service of cluster.services) addresses.push(service.clusterIP, ...service.externalIPs, ...service.loadBalancerIPs);
  return [...new Set(addresses)];
}

interface VirtualServer {
  protocol: 'TCP' | 'UDP';
  ip: string;
  port: number;
  persistent: number | null;
  reals: { ip: string; port: number }[];
}

function virtualServers(cluster: GeneratedCluster): VirtualServer[] {
  const servers: VirtualServer[] = [];
  for (const service of cluster.services) {
    const protocol = service.protocol === 'udp' ? 'UDP' : 'TCP';
    const all = service.endpoints.map(({ ip, port }) => ({ ip, port }));
    const external =
      service.externalTrafficPolicy === 'Local' ? service.endpoints.filter((e) => e.local).map(({ ip, port }) => ({ ip, port })) : all;
    const add = (ip: string, port: number, reals: VirtualServer['reals']): void => {
      servers.push({ protocol, ip, port, persistent: service.affinitySeconds, reals });
    };
    add(service.clusterIP, service.port, all);
    for (const ip of service.externalIPs) add(ip, service.port, external);
    for (const ip of service.loadBalancerIPs) add(ip, service.port, external);
    if (service.nodePort !== null) for (const ip of nodePortAddresses(cluster)) add(ip, service.nodePort, external);
  }
  return servers;
}

/** `ipvsadm -Ln`: virtual servers sorted by protocol, address, port; real servers by address, port. */
export function renderIpvsadm(cluster: GeneratedCluster): string {
  const random = createRandom(cluster.seed ^ 0x1b5);
  const protocolOrder = { TCP: 6, UDP: 17 } as const;
  const servers = virtualServers(cluster).sort(
    (a, b) => protocolOrder[a.protocol] - protocolOrder[b.protocol] || ipNumber(a.ip) - ipNumber(b.ip) || a.port - b.port,
  );
  const out = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  ];
  for (const server of servers) {
    const flags = server.persistent === null ? '' : ` persistent ${server.persistent}`;
    out.push(`${server.protocol}  ${server.ip}:${server.port} rr${flags}`);
    const reals = [...server.reals].sort((a, b) => ipNumber(a.ip) - ipNumber(b.ip) || a.port - b.port);
    for (const real of reals) {
      const active = random.chance(0.2) ? random.int(1, 40) : 0;
      const inactive = random.chance(0.5) ? random.int(1, 200) : 0;
      out.push(
        `  -> ${`${real.ip}:${real.port}`.padEnd(28)} ${'Masq'.padEnd(7)} ${'1'.padEnd(6)} ${String(active).padEnd(10)} ${String(inactive).padEnd(10)}`,
      );
    }
  }
  return out.join('\n') + '\n';
}

interface IpSet {
  name: string;
  type: 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'hash:ip' | 'bitmap:port';
  members: string[];
  references: number;
}

const REVISION: Record<IpSet['type'], number> = {
  'hash:ip,port': 7,
  'hash:ip,port,ip': 6,
  'hash:ip,port,net': 7,
  'hash:ip': 6,
  'bitmap:port': 3,
};

function ipSets(cluster: GeneratedCluster): IpSet[] {
  const set = (name: string, type: IpSet['type'], references: number): IpSet => ({ name, type, members: [], references });
  const loopBack = set('KUBE-LOOP-BACK', 'hash:ip,port,ip', 1);
  const clusterIP = set('KUBE-CLUSTER-IP', 'hash:ip,port', 3);
  const externalIP = set('KUBE-EXTERNAL-IP', 'hash:ip,port', 2);
  const externalIPLocal = set('KUBE-EXTERNAL-IP-LOCAL', 'hash:ip,port', 1);
  const loadBalancer = set('KUBE-LOAD-BALANCER', 'hash:ip,port', 3);
  const loadBalancerLocal = set('KUBE-LOAD-BALANCER-LOCAL', 'hash:ip,port', 1);
  const loadBalancerFW = set('KUBE-LOAD-BALANCER-FW', 'hash:ip,port', 1);
  const sourceIP = set('KUBE-LOAD-BALANCER-SOURCE-IP', 'hash:ip,port,ip', 1);
  const sourceCIDR = set('KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net', 1);
  const nodePortTCP = set('KUBE-NODE-PORT-TCP', 'bitmap:port', 1);
  const nodePortLocalTCP = set('KUBE-NODE-PORT-LOCAL-TCP', 'bitmap:port', 1);
  const nodePortUDP = set('KUBE-NODE-PORT-UDP', 'bitmap:port', 1);
  const nodePortLocalUDP = set('KUBE-NODE-PORT-LOCAL-UDP', 'bitmap:port', 1);
  const nodePortSCTP = set('KUBE-NODE-PORT-SCTP-HASH', 'hash:ip,port', 0);
  const nodePortLocalSCTP = set('KUBE-NODE-PORT-LOCAL-SCTP-HASH', 'hash:ip,port', 0);
  const healthCheck = set('KUBE-HEALTH-CHECK-NODE-PORT', 'bitmap:port', 2);
  const ipvsIPs = set('KUBE-IPVS-IPS', 'hash:ip', 1);

  for (const service of cluster.services) {
    const entry = (ip: string): string => `${ip},${service.protocol}:${service.port}`;
    const local = service.externalTrafficPolicy === 'Local';
    clusterIP.members.push(entry(service.clusterIP));
    ipvsIPs.members.push(service.clusterIP);
    for (const endpoint of service.endpoints) {
      if (endpoint.local) loopBack.members.push(`${endpoint.ip},${service.protocol}:${endpoint.port},${endpoint.ip}`);
    }
    for (const ip of service.externalIPs) {
      (local ? externalIPLocal : externalIP).members.push(entry(ip));
      ipvsIPs.members.push(ip);
    }
    for (const ip of service.loadBalancerIPs) {
      loadBalancer.members.push(entry(ip));
      if (local) loadBalancerLocal.members.push(entry(ip));
      ipvsIPs.members.push(ip);
      if (service.loadBalancerSourceRanges.length > 0) {
        loadBalancerFW.members.push(entry(ip));
        for (const range of service.loadBalancerSourceRanges) sourceCIDR.members.push(`${entry(ip)},${range}`);
      }
    }
    if (service.nodePort !== null) {
      const tcp = service.protocol === 'tcp';
      (tcp ? nodePortTCP : nodePortUDP).members.push(String(service.nodePort));
      if (local) (tcp ? nodePortLocalTCP : nodePortLocalUDP).members.push(String(service.nodePort));
    }
    if (service.healthCheckNodePort !== null) healthCheck.members.push(String(service.healthCheckNodePort));
  }
  return [
    loopBack, clusterIP, externalIP, externalIPLocal, loadBalancer, loadBalancerLocal, loadBalancerFW, sourceIP, sourceCIDR,
    nodePortTCP, nodePortLocalTCP, nodePortUDP, nodePortLocalUDP, nodePortSCTP, nodePortLocalSCTP, healthCheck, ipvsIPs,
  ];
}

function renderIpSet(ipset: IpSet, random: Random): string {
  const members = [...new Set(ipset.members)];
  let header: string;
  let size: number;
  if (ipset.type === 'bitmap:port') {
    header = 'range 0-65535';
    size = 532552;
    members.sort((a, b) => Number(a) - Number(b));
  } else {
    let hashsize = 1024;
    while (hashsize * 4 < members.length) hashsize *= 2;
    const initval = `0x${random.int(0, 0xffffffff).toString(16).padStart(8, '0')}`;
    header = `family inet hashsize ${hashsize} maxelem 65536 bucketsize 12 initval ${initval}`;
    size = 200 + hashsize * 8 + members.length * 24;
    // Hash sets list members in hash-bucket order, which looks random.
    random.shuffle(members);
  }
  return [
    `Name: ${ipset.name}`,
    `Type: ${ipset.type}`,
    `Revision: ${REVISION[ipset.type]}`,
    `Header: ${header}`,
    `Size in memory: ${size}`,
    `References: ${ipset.references}`,
    `Number of entries: ${members.length}`,
    'Members:',
    ...members,
  ].join('\n');
}

/** `ipset -L`: the sets in kube-proxy's creation order, a blank line between sets. */
export function renderIpset(cluster: GeneratedCluster): string {
  const random = createRandom(cluster.seed ^ 0x1be7);
  return ipSets(cluster).map((ipset) => renderIpSet(ipset, random)).join('\n\n') + '\n';
}

/** The iptables-save of an IPVS-mode node: a fixed set of rules, independent of the Service count. */
export function renderIpvsIptables(cluster: GeneratedCluster): string {
  const mangle = new TableBuilder('mangle');
  const filter = new TableBuilder('filter');
  const nat = new TableBuilder('nat');
  writeKubeletChains(mangle, filter, nat);
  filter.add('INPUT', `${comment('kubernetes ipvs access filter')} -j KUBE-IPVS-FILTER`);
  filter.add('INPUT', `${comment('kube-proxy firewall rules')} -j KUBE-PROXY-FIREWALL`);
  filter.add('INPUT', `${comment('kubernetes health check rules')} -j KUBE-NODE-PORT`);
  filter.add('FORWARD', `${comment('kube-proxy firewall rules')} -j KUBE-PROXY-FIREWALL`);
  filter.add('FORWARD', `${comment('kubernetes forwarding rules')} -j KUBE-FORWARD`);
  filter.add('OUTPUT', `${comment('kubernetes ipvs access filter')} -j KUBE-IPVS-OUT-FILTER`);
  writeKubeletJumps(filter);
  nat.add('PREROUTING', `${comment('kubernetes service portals')} -j KUBE-SERVICES`);
  nat.add('OUTPUT', `${comment('kubernetes service portals')} -j KUBE-SERVICES`);
  nat.add('POSTROUTING', `${comment('kubernetes postrouting rules')} -j KUBE-POSTROUTING`);
  writeFlannelRules(cluster, filter, nat);
  filter.add('KUBE-FORWARD', `${comment('kubernetes forwarding rules')} -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`);
  filter.add('KUBE-FORWARD', `${comment('kubernetes forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  for (const set of ['KUBE-LOAD-BALANCER', 'KUBE-CLUSTER-IP', 'KUBE-EXTERNAL-IP', 'KUBE-EXTERNAL-IP-LOCAL']) {
    filter.add('KUBE-IPVS-FILTER', `-m set --match-set ${set} dst,dst -j RETURN`);
  }
  filter.add('KUBE-IPVS-FILTER', '-m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN');
  filter.add(
    'KUBE-IPVS-FILTER',
    '-m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable',
  );
  filter.declare('KUBE-IPVS-OUT-FILTER');
  filter.add('KUBE-NODE-PORT', `${comment('Kubernetes health check node port')} -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT`);
  filter.add(
    'KUBE-PROXY-FIREWALL',
    `${comment('Kubernetes service load balancer ip + port for load balancer with sourceRange')} -m set --match-set KUBE-LOAD-BALANCER-FW dst,dst -j KUBE-SOURCE-RANGES-FIREWALL`,
  );
  filter.add('KUBE-SOURCE-RANGES-FIREWALL', '-m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN');
  filter.add('KUBE-SOURCE-RANGES-FIREWALL', '-m set --match-set KUBE-LOAD-BALANCER-SOURCE-IP dst,dst,src -j RETURN');
  filter.add('KUBE-SOURCE-RANGES-FIREWALL', '-j DROP');

  nat.add(
    'KUBE-LOAD-BALANCER',
    `${comment('Kubernetes service load balancer ip + port with externalTrafficPolicy=local')} -m set --match-set KUBE-LOAD-BALANCER-LOCAL dst,dst -j RETURN`,
  );
  nat.add('KUBE-LOAD-BALANCER', '-j KUBE-MARK-MASQ');
  nat.add('KUBE-MARK-MASQ', `-j MARK --set-xmark ${MASQ_MARK}/${MASQ_MARK}`);
  for (const [proto, upper] of [['tcp', 'TCP'], ['udp', 'UDP']] as const) {
    nat.add(
      'KUBE-NODE-PORT',
      `-p ${proto} ${comment(`Kubernetes nodeport ${upper} port with externalTrafficPolicy=local`)} -m set --match-set KUBE-NODE-PORT-LOCAL-${upper} dst -j RETURN`,
    );
    nat.add(
      'KUBE-NODE-PORT',
      `-p ${proto} ${comment(`Kubernetes nodeport ${upper} port for masquerade purpose`)} -m set --match-set KUBE-NODE-PORT-${upper} dst -j KUBE-MARK-MASQ`,
    );
  }
  nat.add(
    'KUBE-POSTROUTING',
    `${comment('Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose')} -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE`,
  );
  nat.add('KUBE-POSTROUTING', `-m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`);
  nat.add('KUBE-POSTROUTING', `-j MARK --set-xmark ${MASQ_MARK}/0x0`);
  nat.add('KUBE-POSTROUTING', `${comment('kubernetes service traffic requiring SNAT')} -j MASQUERADE --random-fully`);
  nat.add('KUBE-SERVICES', `${comment('Kubernetes service lb portal')} -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER`);
  nat.add(
    'KUBE-SERVICES',
    `! -s ${cluster.clusterCIDR} ${comment('Kubernetes service cluster ip + port for masquerade purpose')} -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ`,
  );
  nat.add(
    'KUBE-SERVICES',
    `${comment('Kubernetes service external ip + port for masquerade and filter purpose')} -m set --match-set KUBE-EXTERNAL-IP dst,dst -j KUBE-MARK-MASQ`,
  );
  nat.add('KUBE-SERVICES', '-m addrtype --dst-type LOCAL -j KUBE-NODE-PORT');
  nat.add('KUBE-SERVICES', '-m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT');
  nat.add('KUBE-SERVICES', '-m set --match-set KUBE-LOAD-BALANCER dst,dst -j ACCEPT');

  const counters = createRandom(cluster.seed ^ 0xc0de);
  return mangle.render(counters) + filter.render(counters) + nat.render(counters);
}
