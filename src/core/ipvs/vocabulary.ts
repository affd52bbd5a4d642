/**
 * kube-proxy's IPVS-mode names: the ipsets it creates (with their types, the comment it writes on the
 * iptables rules that test them, and how those rules use them), the iptables chains it owns in that mode,
 * and the kube-ipvs0 dummy device. Checked against kube-proxy's pkg/proxy/ipvs/proxier.go and ipset.go.
 * Each entry carries one sentence for hovers and the CLI. Scheduler and forwarding words live in the glossary.
 */

export const KUBE_IPVS_DEVICE = 'kube-ipvs0';

export const KUBE_IPVS_DEVICE_EXPLANATION =
  'kube-proxy\'s dummy interface: every ClusterIP, external IP and load-balancer IP is bound to it, so the kernel treats them as local addresses and delivers their packets to INPUT, where IPVS picks a real server.';

export interface IpvsIpsetTerm {
  /** The IPv4 name; the IPv6 twin is ipv6IpsetName(name). */
  readonly name: string;
  /** The set type kube-proxy creates. */
  readonly type: string;
  /** The comment kube-proxy writes on iptables rules that test this set (`-m comment --comment "…"`). */
  readonly ruleComment: string;
  /** Where the set is tested: table, chain, `--match-set` directions and target. */
  readonly usedBy: string;
  readonly explanation: string;
  /** kube-proxy no longer creates it, but older versions left it behind. */
  readonly legacy?: boolean;
}

export const IPVS_IPSETS: readonly IpvsIpsetTerm[] = [
  {
    name: 'KUBE-LOOP-BACK', type: 'hash:ip,port,ip',
    ruleComment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose',
    usedBy: 'nat KUBE-POSTROUTING: dst,dst,src -j MASQUERADE',
    explanation: 'Each local endpoint as endpoint IP, protocol:port and the same IP again: a pod that reaches itself through its Service (hairpin) is masqueraded so the reply comes back through IPVS.',
  },
  {
    name: 'KUBE-CLUSTER-IP', type: 'hash:ip,port',
    ruleComment: 'Kubernetes service cluster ip + port for masquerade purpose',
    usedBy: 'nat KUBE-SERVICES: dst,dst -j KUBE-MARK-MASQ (for sources outside the pod network) and -j ACCEPT; filter KUBE-IPVS-FILTER: dst,dst -j RETURN',
    explanation: 'Every Service ClusterIP with protocol:port; traffic to them from outside the cluster network is marked for masquerade, and the address is exempt from the KUBE-IPVS-FILTER reject.',
  },
  {
    name: 'KUBE-EXTERNAL-IP', type: 'hash:ip,port',
    ruleComment: 'Kubernetes service external ip + port for masquerade and filter purpose',
    usedBy: 'nat KUBE-SERVICES: dst,dst -j KUBE-MARK-MASQ, then -j ACCEPT for traffic from off the node or to a local address',
    explanation: 'Service externalIPs with protocol:port (externalTrafficPolicy Cluster); packets to them are always marked for masquerade.',
  },
  {
    name: 'KUBE-EXTERNAL-IP-LOCAL', type: 'hash:ip,port',
    ruleComment: 'Kubernetes service external ip + port with externalTrafficPolicy=local',
    usedBy: 'nat KUBE-SERVICES: dst,dst -j ACCEPT without a masquerade mark',
    explanation: 'Service externalIPs of Services with externalTrafficPolicy Local: not masqueraded, so the client address is kept, and only local endpoints serve them.',
  },
  {
    name: 'KUBE-LOAD-BALANCER', type: 'hash:ip,port',
    ruleComment: 'Kubernetes service lb portal',
    usedBy: 'nat KUBE-SERVICES: dst,dst -j KUBE-LOAD-BALANCER and -j ACCEPT; filter KUBE-IPVS-FILTER: dst,dst -j RETURN',
    explanation: 'Every load-balancer ingress IP with protocol:port; packets to them go through the KUBE-LOAD-BALANCER chain, which marks them for masquerade unless the Service is externalTrafficPolicy Local.',
  },
  {
    name: 'KUBE-LOAD-BALANCER-LOCAL', type: 'hash:ip,port',
    ruleComment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local',
    usedBy: 'nat KUBE-LOAD-BALANCER: dst,dst -j RETURN (before the masquerade mark)',
    explanation: 'Load-balancer IPs of Services with externalTrafficPolicy Local: they skip the masquerade mark, keeping the client address.',
  },
  {
    name: 'KUBE-LOAD-BALANCER-FW', type: 'hash:ip,port',
    ruleComment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange',
    usedBy: 'filter KUBE-PROXY-FIREWALL: dst,dst -j KUBE-SOURCE-RANGES-FIREWALL',
    explanation: 'Load-balancer IPs of Services with loadBalancerSourceRanges: their packets are checked against the allowed sources and dropped otherwise.',
  },
  {
    name: 'KUBE-LOAD-BALANCER-SOURCE-IP', type: 'hash:ip,port,ip',
    ruleComment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose',
    usedBy: 'filter KUBE-SOURCE-RANGES-FIREWALL: dst,dst,src -j RETURN',
    explanation: 'Load-balancer IP, protocol:port and an allowed source address (the load-balancer IP itself when a source range covers the node).',
  },
  {
    name: 'KUBE-LOAD-BALANCER-SOURCE-CIDR', type: 'hash:ip,port,net',
    ruleComment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose',
    usedBy: 'filter KUBE-SOURCE-RANGES-FIREWALL: dst,dst,src -j RETURN',
    explanation: 'Load-balancer IP, protocol:port and one allowed source range from loadBalancerSourceRanges.',
  },
  {
    name: 'KUBE-NODE-PORT-TCP', type: 'bitmap:port',
    ruleComment: 'Kubernetes nodeport TCP port for masquerade purpose',
    usedBy: 'nat KUBE-NODE-PORT: -p tcp, dst -j KUBE-MARK-MASQ',
    explanation: 'TCP NodePorts; packets to them are marked for masquerade (unless the port is also in KUBE-NODE-PORT-LOCAL-TCP).',
  },
  {
    name: 'KUBE-NODE-PORT-LOCAL-TCP', type: 'bitmap:port',
    ruleComment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local',
    usedBy: 'nat KUBE-NODE-PORT: -p tcp, dst -j RETURN (before the masquerade rule)',
    explanation: 'TCP NodePorts of Services with externalTrafficPolicy Local: not masqueraded, served only by local endpoints.',
  },
  {
    name: 'KUBE-NODE-PORT-UDP', type: 'bitmap:port',
    ruleComment: 'Kubernetes nodeport UDP port for masquerade purpose',
    usedBy: 'nat KUBE-NODE-PORT: -p udp, dst -j KUBE-MARK-MASQ',
    explanation: 'UDP NodePorts; packets to them are marked for masquerade (unless the port is also in KUBE-NODE-PORT-LOCAL-UDP).',
  },
  {
    name: 'KUBE-NODE-PORT-LOCAL-UDP', type: 'bitmap:port',
    ruleComment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local',
    usedBy: 'nat KUBE-NODE-PORT: -p udp, dst -j RETURN (before the masquerade rule)',
    explanation: 'UDP NodePorts of Services with externalTrafficPolicy Local: not masqueraded, served only by local endpoints.',
  },
  {
    name: 'KUBE-NODE-PORT-SCTP-HASH', type: 'hash:ip,port',
    ruleComment: 'Kubernetes nodeport SCTP port for masquerade purpose with type \'hash ip:port\'',
    usedBy: 'nat KUBE-NODE-PORT: -p sctp, dst,dst -j KUBE-MARK-MASQ',
    explanation: 'SCTP NodePorts as node IP with sctp:port, one entry per node IP; packets to them are marked for masquerade.',
  },
  {
    name: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH', type: 'hash:ip,port',
    ruleComment: 'Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type \'hash ip:port\'',
    usedBy: 'nat KUBE-NODE-PORT: -p sctp, dst,dst -j RETURN (before the masquerade rule)',
    explanation: 'SCTP NodePorts of Services with externalTrafficPolicy Local, per node IP: not masqueraded.',
  },
  {
    name: 'KUBE-HEALTH-CHECK-NODE-PORT', type: 'bitmap:port',
    ruleComment: 'Kubernetes health check node port',
    usedBy: 'filter KUBE-NODE-PORT: dst -j ACCEPT; filter KUBE-IPVS-FILTER: dst -j RETURN',
    explanation: 'The healthCheckNodePorts of externalTrafficPolicy Local Services, which kube-proxy itself answers; filter INPUT accepts them.',
  },
  {
    name: 'KUBE-IPVS-IPS', type: 'hash:ip',
    ruleComment: 'Addresses on the ipvs interface',
    usedBy: 'filter KUBE-IPVS-FILTER: ctstate NEW, dst -j REJECT (after the RETURN rules for Service ports)',
    explanation: 'Every address bound to kube-ipvs0: a new connection to one of them on a port no Service uses is rejected instead of reaching a process on the node.',
  },
  {
    name: 'KUBE-NODE-PORT-SCTP', type: 'bitmap:port', legacy: true,
    ruleComment: 'Kubernetes nodeport SCTP port for masquerade purpose',
    usedBy: 'older kube-proxy versions only',
    explanation: 'SCTP NodePorts as older kube-proxy versions stored them; current versions use KUBE-NODE-PORT-SCTP-HASH and leave this set unused.',
  },
  {
    name: 'KUBE-NODE-PORT-LOCAL-SCTP', type: 'bitmap:port', legacy: true,
    ruleComment: 'Kubernetes nodeport SCTP port with externalTrafficPolicy=local',
    usedBy: 'older kube-proxy versions only',
    explanation: 'SCTP externalTrafficPolicy Local NodePorts as older kube-proxy versions stored them; current versions use KUBE-NODE-PORT-LOCAL-SCTP-HASH.',
  },
];

export interface IpvsChainTerm {
  readonly name: string;
  readonly table: 'nat' | 'filter';
  /** The built-in chain that jumps here, with the comment kube-proxy writes on that jump. */
  readonly jumpFrom?: string;
  readonly explanation: string;
}

export const IPVS_CHAINS: readonly IpvsChainTerm[] = [
  { name: 'KUBE-SERVICES', table: 'nat', jumpFrom: 'PREROUTING and OUTPUT ("kubernetes service portals")', explanation: 'IPVS mode: tests the packet against the Service ipsets, marks what must be masqueraded and accepts Service traffic; the destination is not rewritten here, IPVS does that later at INPUT.' },
  { name: 'KUBE-POSTROUTING', table: 'nat', jumpFrom: 'POSTROUTING ("kubernetes postrouting rules")', explanation: 'Masquerades hairpin traffic found in KUBE-LOOP-BACK and every packet carrying the masquerade mark (0x4000), clearing the mark first.' },
  { name: 'KUBE-MARK-MASQ', table: 'nat', explanation: 'Sets the masquerade bit (0x4000) of the packet mark; KUBE-POSTROUTING masquerades marked packets.' },
  { name: 'KUBE-NODE-PORT', table: 'nat', explanation: 'IPVS mode, nat table: reached for local destinations; marks NodePort packets for masquerade unless their port is in a KUBE-NODE-PORT-LOCAL-* set (externalTrafficPolicy Local).' },
  { name: 'KUBE-LOAD-BALANCER', table: 'nat', explanation: 'IPVS mode: packets to load-balancer IPs; returns early for KUBE-LOAD-BALANCER-LOCAL entries, otherwise marks them for masquerade.' },
  { name: 'KUBE-FORWARD', table: 'filter', jumpFrom: 'FORWARD ("kubernetes forwarding rules")', explanation: 'Accepts forwarded packets that carry the masquerade mark and packets of established connections, so Service traffic is forwarded even under a DROP policy.' },
  { name: 'KUBE-PROXY-FIREWALL', table: 'filter', jumpFrom: 'INPUT and FORWARD ("kube-proxy firewall rules")', explanation: 'Sends packets to load-balancer IPs with source ranges (KUBE-LOAD-BALANCER-FW) to KUBE-SOURCE-RANGES-FIREWALL.' },
  { name: 'KUBE-SOURCE-RANGES-FIREWALL', table: 'filter', explanation: 'Returns packets whose source is allowed by KUBE-LOAD-BALANCER-SOURCE-IP or -SOURCE-CIDR and drops the rest.' },
  { name: 'KUBE-IPVS-FILTER', table: 'filter', jumpFrom: 'INPUT ("kubernetes ipvs access filter")', explanation: 'Lets Service addresses and ports through (ClusterIP, load-balancer, external IP and health-check sets) and rejects new connections to any other port of an address bound to kube-ipvs0.' },
  { name: 'KUBE-IPVS-OUT-FILTER', table: 'filter', jumpFrom: 'OUTPUT ("kubernetes ipvs access filter")', explanation: 'Drops connections from the node itself to load-balancer IPs whose loadBalancerSourceRanges do not include the node.' },
];

/** IPv6 ipsets get a `KUBE-6-` prefix and are cut to the 31 characters an ipset name may have. */
export function ipv6IpsetName(name: string): string {
  if (!name.startsWith('KUBE-')) return name;
  return `KUBE-6-${name.slice('KUBE-'.length)}`.slice(0, 31);
}

export type IpvsNameLookup =
  | { kind: 'ipset'; family: 'inet' | 'inet6'; term: IpvsIpsetTerm }
  | { kind: 'chain'; term: IpvsChainTerm }
  | { kind: 'device'; explanation: string };

const BY_NAME = new Map<string, IpvsNameLookup>();
for (const term of IPVS_IPSETS) {
  BY_NAME.set(term.name, { kind: 'ipset', family: 'inet', term });
  BY_NAME.set(ipv6IpsetName(term.name), { kind: 'ipset', family: 'inet6', term });
}
/** KUBE-LOAD-BALANCER and KUBE-NODE-PORT name both a set or table chain and a chain; chains are looked up separately. */
const CHAINS_BY_NAME = new Map<string, IpvsNameLookup>(IPVS_CHAINS.map((term) => [term.name, { kind: 'chain', term }]));

/** The kube-proxy ipset of this name (IPv4 or IPv6), in any mode's hovers. */
export function kubeIpsetTerm(name: string): IpvsIpsetTerm | undefined {
  const found = BY_NAME.get(name);
  return found?.kind === 'ipset' ? found.term : undefined;
}

/** What an IPVS-mode name is, for hovers: an ipset (IPv4 or IPv6 name), a chain, or the dummy device. */
export function lookupIpvsName(name: string, context: 'ipset' | 'chain' | 'any' = 'any'): IpvsNameLookup | undefined {
  if (name === KUBE_IPVS_DEVICE) return { kind: 'device', explanation: KUBE_IPVS_DEVICE_EXPLANATION };
  if (context !== 'chain' && BY_NAME.has(name)) return BY_NAME.get(name);
  if (context !== 'ipset') return CHAINS_BY_NAME.get(name);
  return undefined;
}

/** The ipset kube-proxy uses for NodePorts of a protocol, by family, optionally the externalTrafficPolicy Local one. */
export function nodePortSetName(protocol: 'tcp' | 'udp' | 'sctp', local: boolean, family: 'inet' | 'inet6' = 'inet'): string {
  const base = protocol === 'sctp'
    ? local ? 'KUBE-NODE-PORT-LOCAL-SCTP-HASH' : 'KUBE-NODE-PORT-SCTP-HASH'
    : `KUBE-NODE-PORT-${local ? 'LOCAL-' : ''}${protocol.toUpperCase()}`;
  return family === 'inet6' ? ipv6IpsetName(base) : base;
}

/** The name of a kube-proxy set in the given family (the IPv4 name is the base). */
export function ipsetNameFor(name: string, family: 'inet' | 'inet6'): string {
  return family === 'inet6' ? ipv6IpsetName(name) : name;
}
