/**
 * Plain-language sentences for the fixed words of kube-proxy's dataplane: netfilter hooks and tables,
 * kube-proxy's IPVS-mode chains and ipsets, iptables targets and match modules, IPVS schedulers and forwarding
 * methods. Only fixed vocabulary lives here; explanations that depend on a snapshot are built in explain*.ts.
 */

import { classifyChain } from '../iptables/vocabulary';
import { IPVS_CHAINS } from '../ipvs/vocabulary';

export const HOOKS: Record<string, string> = {
  PREROUTING: 'netfilter hook every packet arriving from outside passes first, before the routing decision; destination NAT (Service DNAT) happens here.',
  INPUT: 'netfilter hook for packets the routing decision delivers to this node itself (a local address).',
  FORWARD: 'netfilter hook for packets the routing decision sends on to another host, such as a pod.',
  OUTPUT: 'netfilter hook for packets that processes on this node send; destination NAT for them happens here.',
  POSTROUTING: 'netfilter hook every packet passes last, on its way out; source NAT (masquerade) happens here.',
};

export const TABLES: Record<string, string> = {
  raw: 'the raw table: consulted first, before connection tracking.',
  mangle: 'the mangle table: changes packet marks and headers; kube-proxy only keeps canary chains here.',
  nat: 'the nat table: consulted only for the first packet of a connection; kube-proxy does Service DNAT and masquerade here.',
  filter: 'the filter table: accepts, drops or rejects packets; kube-proxy rejects Services without endpoints and guards forwarding here.',
  security: 'the security table: SELinux marks; kube-proxy does not use it.',
};

/**
 * Chains kube-proxy writes only in IPVS mode, with the IPVS vocabulary's sentences; iptables-mode chains (and the
 * names both modes share) are described by classifyChain in src/core/iptables/vocabulary.ts.
 */
export const IPVS_MODE_CHAINS: Record<string, string> = Object.fromEntries(
  IPVS_CHAINS.filter((term) => classifyChain(term.name).kind === 'other-kube').map((term) => [term.name, term.explanation]),
);

export const TARGETS: Record<string, string> = {
  ACCEPT: 'lets the packet through this chain\'s hook; the rest of this table is skipped.',
  DROP: 'discards the packet silently; the client sees a timeout.',
  REJECT: 'discards the packet and answers with an ICMP error (or TCP reset); the client sees "connection refused".',
  RETURN: 'leaves this chain and continues after the rule that jumped here (or applies the policy of a built-in chain).',
  DNAT: 'rewrites the destination address and port (here: to a Service endpoint); replies are rewritten back automatically.',
  SNAT: 'rewrites the source address to a fixed one.',
  MASQUERADE: 'rewrites the source address to the address of the interface the packet leaves by, so replies come back through this node.',
  MARK: 'sets or clears bits of the packet\'s firewall mark; later rules test them with -m mark.',
  LOG: 'logs the packet to the kernel log and continues.',
  CT: 'sets connection-tracking options for the packet.',
  NOTRACK: 'exempts the packet from connection tracking.',
};

export const MODULES: Record<string, string> = {
  comment: 'a comment only; it never affects matching. kube-proxy writes the Service name here.',
  conntrack: 'tests the packet\'s connection-tracking state.',
  state: 'tests the packet\'s connection-tracking state (older form of -m conntrack).',
  addrtype: 'tests the type of an address in the local routing table (LOCAL = an address of this node).',
  statistic: 'matches a fraction of packets: kube-proxy\'s way of spreading connections over endpoints.',
  recent: 'remembers source addresses in a list: kube-proxy\'s session affinity (ClientIP).',
  set: 'tests whether packet fields are members of an ipset.',
  mark: 'tests bits of the packet\'s firewall mark.',
  tcp: 'TCP port matching.',
  udp: 'UDP port matching.',
  sctp: 'SCTP port matching.',
  multiport: 'matches any of several ports.',
  physdev: 'tests bridge ports the packet came in or goes out by.',
};

export const CTSTATES: Record<string, string> = {
  NEW: 'the first packet of a connection conntrack has not seen before',
  ESTABLISHED: 'a packet of a connection that has seen traffic both ways',
  RELATED: 'a packet that starts a connection related to an existing one (such as an ICMP error)',
  INVALID: 'a packet conntrack cannot assign to any connection',
  UNTRACKED: 'a packet exempted from connection tracking',
  DNAT: 'a packet of a connection whose destination was rewritten',
  SNAT: 'a packet of a connection whose source was rewritten',
};

export const IPVS_SCHEDULERS: Record<string, string> = {
  rr: 'round robin: each real server in turn, ignoring weights except that weight 0 gets nothing.',
  wrr: 'weighted round robin: real servers in turn, in proportion to their weights.',
  lc: 'least connection: the real server with the fewest active connections.',
  wlc: 'weighted least connection: fewest connections relative to weight.',
  lblc: 'locality-based least connection: the same server for the same destination while it is not overloaded.',
  lblcr: 'locality-based least connection with replication.',
  dh: 'destination hashing: a hash of the destination address picks the server.',
  sh: 'source hashing: a hash of the client address picks the server, so a client sticks to one server.',
  sed: 'shortest expected delay.',
  nq: 'never queue: an idle server if there is one, otherwise shortest expected delay.',
  mh: 'Maglev hashing: consistent hashing of the connection.',
};

export const IPVS_FORWARDING: Record<string, string> = {
  Masq: 'masquerading (NAT): IPVS rewrites the destination to the real server; replies pass back through this node. kube-proxy always uses it.',
  Route: 'direct routing: the packet is sent to the real server unchanged; it must own the virtual address.',
  Tunnel: 'IP-in-IP tunnelling to the real server.',
  Local: 'the real server is this node itself.',
};
