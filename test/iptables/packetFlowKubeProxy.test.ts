/**
 * Packet-flow tables taken from kube-proxy's own tests (kubernetes pkg/proxy/iptables/proxier_test.go:
 * TestTracePacket, TestOverallIPTablesRules, TestClusterIPGeneral, TestLoadBalancer, TestNoEndpointsReject,
 * TestNodePorts, TestSyncProxyRulesLargeClusterMode, and session affinity as in TestOverallIPTablesRules). The
 * fixtures hold the rules those tests expect kube-proxy to write, plus the jumps from the built-in chains a node
 * has, and the node addresses the tests treat as local (192.168.0.2, 192.168.1.2, 192.168.99.11, loopback).
 * test/fixtures/iptables-overall keeps kube-proxy's test-fixture form (unquoted multi-word comments, `-` as the
 * policy of built-in chains, which iptables-restore accepts and which leaves the chain at its default, ACCEPT);
 * the other folders are what iptables-save printed after loading those rules into a network namespace.
 *
 * kube-proxy's test tracer simplifies the kernel, and these rows follow the kernel where the two differ:
 * - It runs nat PREROUTING for every packet, then the filter chains KUBE-SERVICES, KUBE-EXTERNAL-SERVICES,
 *   KUBE-NODEPORTS and KUBE-PROXY-FIREWALL directly, whatever the path. The kernel enters at OUTPUT for a packet
 *   from the node itself and runs only the filter chains hooked into INPUT, FORWARD or OUTPUT on the packet's
 *   path; KUBE-EXTERNAL-SERVICES is not hooked into OUTPUT, so a node's own packet to a LoadBalancer IP without
 *   endpoints is not rejected here (row "node to LoadBalancer IP with no endpoints").
 * - It treats every `-m mark`, `-m conntrack` and `-m recent` test as not matching and tracks masquerading as a
 *   flag. The kernel keeps the 0x4000 mark on the packet: KUBE-POSTROUTING masquerades because of it, and
 *   KUBE-FORWARD accepts forwarded packets that carry it. The first packet of a connection is NEW, so the hooks
 *   guarded by `--ctstate NEW` are taken; `--rcheck` finds no affinity entry yet.
 * - It rewrites the destination after PREROUTING but never routes. The kernel routes the rewritten destination:
 *   a NodePort packet DNATed to a pod is forwarded, not delivered locally, and only packets left addressed to the
 *   node reach INPUT (where the health-check ACCEPT and the NodePort REJECT/DROP rules live).
 * - It lists endpoints; these rows also state each endpoint's share (kube-proxy's cascaded probabilities).
 */

import { endpoints, packetFlowTable, untouched, verdict } from '../helpers/packetFlow';

const fixture = (name: string): string => `test/fixtures/${name}`;

// kube-proxy's test conventions: pods 10.0.0.0/8, services 172.30.0.0/16, node 192.168.0.2 (also 192.168.1.2 and
// 192.168.99.11), external clients 203.0.113.0/24 of which 203.0.113.0/25 is inside the LB source range.
const nodeIP = '192.168.0.2';
const nodeIPAlt = '192.168.1.2';
const pod = '10.0.0.2';
const externalClient = '203.0.113.2';
const externalClientBlocked = '203.0.113.130';

packetFlowTable(fixture('iptables-overall'), [
  { name: 'no match', src: '10.0.0.2', dst: '10.0.0.3', dport: 80, expect: untouched(), service: null },
  {
    name: 'single endpoint',
    src: '10.0.0.2',
    dst: '172.30.0.41',
    dport: 80,
    service: 'ns1/svc1:p80',
    expect: endpoints(['10.180.0.1:80']),
  },
  {
    name: 'multiple endpoints',
    src: '10.0.0.2',
    dst: '172.30.0.44',
    dport: 80,
    expect: endpoints(['10.180.0.4:80', '10.180.0.5:80']),
  },
  {
    name: 'LOCAL, KUBE-MARK-MASQ',
    src: nodeIP,
    dst: '192.168.99.22',
    dport: 80,
    hook: 'OUTPUT',
    expect: endpoints(['10.180.0.2:80'], { masquerade: true }),
    kernelNote: 'the node is the source, so the packet enters at OUTPUT; EXT routes LOCAL sources to the SVC chain',
  },
  {
    name: 'DROP',
    src: externalClient,
    dst: '192.168.99.22',
    dport: 80,
    expect: verdict('DROP', 'KUBE-EXTERNAL-SERVICES'),
    kernelNote: '192.168.99.22 is not a node address: the undNATed packet is forwarded and FORWARD reaches KUBE-EXTERNAL-SERVICES',
  },
  {
    name: 'ACCEPT (NodePortHealthCheck)',
    src: nodeIP,
    dst: nodeIP,
    dport: 30000,
    hook: 'OUTPUT',
    expect: verdict('ACCEPT', 'KUBE-NODEPORTS', { delivery: 'local' }),
    kernelNote: 'local-to-local: OUTPUT and POSTROUTING, then INPUT, where filter KUBE-NODEPORTS accepts the port',
  },
  {
    name: 'REJECT',
    src: '10.0.0.2',
    dst: '172.30.0.46',
    dport: 80,
    service: 'ns6/svc6:p80',
    expect: verdict('REJECT', 'KUBE-SERVICES'),
  },
  {
    name: 'external to LoadBalancer IP inside the source range, session affinity not yet recorded',
    src: externalClient,
    dst: '5.6.7.8',
    dport: 80,
    expect: endpoints(['10.180.0.3:80'], { masquerade: true }),
    kernelNote: 'the `--rcheck` affinity rule finds no entry for a first packet; the next rule picks the endpoint',
  },
  {
    name: 'external to LoadBalancer IP outside the source range',
    src: externalClientBlocked,
    dst: '5.6.7.8',
    dport: 80,
    expect: verdict('DROP', 'KUBE-PROXY-FIREWALL'),
    kernelNote: 'KUBE-FW falls through without DNAT; the packet is forwarded and FORWARD jumps to KUBE-PROXY-FIREWALL',
  },
  {
    name: 'node to LoadBalancer IP whose source range excludes the node',
    src: nodeIP,
    dst: '5.6.7.8',
    dport: 80,
    hook: 'OUTPUT',
    expect: verdict('DROP', 'KUBE-PROXY-FIREWALL'),
    kernelNote: 'filter OUTPUT jumps to KUBE-PROXY-FIREWALL for NEW connections',
  },
  {
    name: 'external to NodePort of a Cluster-policy service',
    src: externalClient,
    dst: nodeIP,
    dport: 3003,
    service: 'ns3/svc3:p80',
    expect: endpoints(['10.180.0.3:80'], { masquerade: true }),
    kernelNote: 'after DNAT the destination is a pod, so the packet is forwarded rather than delivered locally',
  },
  {
    name: 'external to NodePort of a Local-policy service without local endpoints',
    src: externalClient,
    dst: nodeIP,
    dport: 3001,
    expect: verdict('DROP', 'KUBE-EXTERNAL-SERVICES', { delivery: 'local' }),
    kernelNote: 'KUBE-EXT falls through, the node address stays the destination, and INPUT drops it',
  },
  {
    name: 'pod to NodePort of a Local-policy service without local endpoints',
    src: pod,
    dst: nodeIP,
    dport: 3001,
    expect: endpoints(['10.180.0.2:80']),
  },
  {
    name: 'localhost to NodePort',
    src: '127.0.0.1',
    dst: '127.0.0.1',
    dport: 3003,
    hook: 'OUTPUT',
    expect: endpoints(['10.180.0.3:80'], { masquerade: true }),
    kernelNote: '`-m nfacct` only counts and always matches; routing 127.0.0.1-sourced packets off the node needs route_localnet=1, which kube-proxy sets',
  },
  {
    name: 'external to external IP of a Cluster-policy service',
    src: externalClient,
    dst: '192.168.99.33',
    dport: 80,
    expect: endpoints(['10.180.0.4:80', '10.180.0.5:80'], { masquerade: true }),
  },
  {
    name: 'external to LoadBalancer IP of a Local-policy service without local endpoints',
    src: externalClient,
    dst: '1.2.3.4',
    dport: 80,
    expect: verdict('DROP', 'KUBE-EXTERNAL-SERVICES'),
  },
  {
    name: 'pod to LoadBalancer IP of a Local-policy service is short-circuited to the cluster',
    src: pod,
    dst: '1.2.3.4',
    dport: 80,
    expect: endpoints(['10.180.0.2:80']),
  },
  {
    name: 'node to cluster IP with no endpoints',
    src: nodeIP,
    dst: '172.30.0.46',
    dport: 80,
    hook: 'OUTPUT',
    expect: verdict('REJECT', 'KUBE-SERVICES'),
    kernelNote: 'filter OUTPUT jumps to KUBE-SERVICES for NEW connections',
  },
  {
    name: 'hairpin: endpoint to its own service',
    src: '10.180.0.1',
    dst: '172.30.0.41',
    dport: 80,
    expect: endpoints(['10.180.0.1:80'], { masquerade: true }),
  },
]);

packetFlowTable(fixture('iptables-clusterip'), [
  { name: 'simple clusterIP', src: '10.180.0.2', dst: '172.30.0.41', dport: 80, expect: endpoints(['10.180.0.1:80']) },
  {
    name: 'hairpin to cluster IP',
    src: '10.180.0.1',
    dst: '172.30.0.41',
    dport: 80,
    expect: endpoints(['10.180.0.1:80'], { masquerade: true }),
  },
  {
    name: 'clusterIP with multiple endpoints',
    src: '10.180.0.2',
    dst: '172.30.0.42',
    dport: 80,
    service: 'ns2/svc2:http',
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80']),
  },
  {
    name: 'clusterIP with TargetPort',
    src: '10.180.0.2',
    dst: '172.30.0.42',
    dport: 443,
    service: 'ns2/svc2:https',
    expect: endpoints(['10.180.0.1:8443', '10.180.2.1:8443']),
  },
  {
    name: 'clusterIP with TCP, UDP, and SCTP on same port (TCP)',
    src: '10.180.0.2',
    dst: '172.30.0.42',
    dport: 53,
    proto: 'tcp',
    expect: endpoints(['10.180.0.1:5353', '10.180.2.1:5353']),
  },
  {
    name: 'clusterIP with TCP, UDP, and SCTP on same port (UDP)',
    src: '10.180.0.2',
    dst: '172.30.0.42',
    dport: 53,
    proto: 'udp',
    service: 'ns2/svc2:dns-udp',
    expect: endpoints(['10.180.0.1:53', '10.180.2.1:53']),
  },
  {
    name: 'clusterIP with TCP, UDP, and SCTP on same port (SCTP)',
    src: '10.180.0.2',
    dst: '172.30.0.42',
    dport: 53,
    proto: 'sctp',
    expect: endpoints(['10.180.0.1:53', '10.180.2.1:53']),
  },
  {
    name: 'TCP-only port does not match UDP traffic',
    src: '10.180.0.2',
    dst: '172.30.0.42',
    dport: 80,
    proto: 'udp',
    expect: untouched(),
  },
  { name: "svc1 does not accept svc2's ports", src: '10.180.0.2', dst: '172.30.0.41', dport: 443, expect: untouched() },
  {
    name: 'node to cluster IP is masqueraded',
    src: nodeIP,
    dst: '172.30.0.41',
    dport: 80,
    hook: 'OUTPUT',
    expect: endpoints(['10.180.0.1:80'], { masquerade: true }),
    kernelNote: 'the node address is outside the pod CIDR, so `! -s 10.0.0.0/8` marks it for masquerade',
  },
]);

packetFlowTable(fixture('iptables-loadbalancer'), [
  { name: 'pod to cluster IP', src: pod, dst: '172.30.0.41', dport: 80, expect: endpoints(['10.180.0.1:80']) },
  {
    name: 'external to nodePort',
    src: externalClient,
    dst: nodeIP,
    dport: 3001,
    expect: endpoints(['10.180.0.1:80'], { masquerade: true }),
  },
  {
    name: 'nodePort bypasses LoadBalancerSourceRanges',
    src: externalClientBlocked,
    dst: nodeIP,
    dport: 3001,
    expect: endpoints(['10.180.0.1:80'], { masquerade: true }),
  },
  {
    name: 'accepted external to LB1',
    src: externalClient,
    dst: '1.2.3.4',
    dport: 80,
    expect: endpoints(['10.180.0.1:80'], { masquerade: true }),
  },
  {
    name: 'accepted external to LB2',
    src: externalClient,
    dst: '5.6.7.8',
    dport: 80,
    expect: endpoints(['10.180.0.1:80'], { masquerade: true }),
  },
  {
    name: 'blocked external to LB1',
    src: externalClientBlocked,
    dst: '1.2.3.4',
    dport: 80,
    expect: verdict('DROP', 'KUBE-PROXY-FIREWALL'),
  },
  {
    name: 'blocked external to LB2',
    src: externalClientBlocked,
    dst: '5.6.7.8',
    dport: 80,
    expect: verdict('DROP', 'KUBE-PROXY-FIREWALL'),
  },
  {
    name: 'pod to LB1 (blocked by LoadBalancerSourceRanges)',
    src: pod,
    dst: '1.2.3.4',
    dport: 80,
    expect: verdict('DROP', 'KUBE-PROXY-FIREWALL'),
  },
  {
    name: 'pod to LB2 (blocked by LoadBalancerSourceRanges)',
    src: pod,
    dst: '5.6.7.8',
    dport: 80,
    expect: verdict('DROP', 'KUBE-PROXY-FIREWALL'),
  },
  {
    name: 'node to LB1 (allowed by LoadBalancerSourceRanges)',
    src: nodeIP,
    dst: '1.2.3.4',
    dport: 80,
    hook: 'OUTPUT',
    expect: endpoints(['10.180.0.1:80'], { masquerade: true }),
    kernelNote: 'filter OUTPUT runs KUBE-PROXY-FIREWALL after nat OUTPUT rewrote the destination, so its DROP no longer matches',
  },
  {
    name: 'node to LB2 (allowed by LoadBalancerSourceRanges)',
    src: nodeIP,
    dst: '5.6.7.8',
    dport: 80,
    hook: 'OUTPUT',
    expect: endpoints(['10.180.0.1:80'], { masquerade: true }),
  },
  {
    name: 'same node to LB1, SNATted to LB1 (implicitly allowed)',
    src: '1.2.3.4',
    dst: '1.2.3.4',
    dport: 80,
    expect: endpoints(['10.180.0.1:80'], { masquerade: true }),
    kernelNote: 'this snapshot does not hold 1.2.3.4 as a local address, so the packet is traced as arriving at PREROUTING',
  },
  {
    name: 'same node to LB2, SNATted to LB2 (implicitly allowed)',
    src: '5.6.7.8',
    dst: '5.6.7.8',
    dport: 80,
    expect: endpoints(['10.180.0.1:80'], { masquerade: true }),
  },
]);

packetFlowTable(fixture('iptables-no-endpoints'), [
  {
    name: 'pod to cluster IP with no endpoints',
    src: pod,
    dst: '172.30.0.41',
    dport: 80,
    expect: verdict('REJECT', 'KUBE-SERVICES'),
  },
  {
    name: 'external to external IP with no endpoints',
    src: externalClient,
    dst: '192.168.99.11',
    dport: 80,
    expect: verdict('REJECT', 'KUBE-EXTERNAL-SERVICES', { delivery: 'local' }),
    kernelNote: '192.168.99.11 is a node address here, so the packet is delivered locally and INPUT rejects it',
  },
  {
    name: 'pod to NodePort with no endpoints',
    src: pod,
    dst: nodeIP,
    dport: 3001,
    expect: verdict('REJECT', 'KUBE-EXTERNAL-SERVICES', { delivery: 'local' }),
  },
  {
    name: 'external to NodePort with no endpoints',
    src: externalClient,
    dst: nodeIP,
    dport: 3001,
    expect: verdict('REJECT', 'KUBE-EXTERNAL-SERVICES', { delivery: 'local' }),
  },
  {
    name: 'pod to LoadBalancer IP with no endpoints',
    src: pod,
    dst: '1.2.3.4',
    dport: 80,
    expect: verdict('REJECT', 'KUBE-EXTERNAL-SERVICES'),
  },
  {
    name: 'external to LoadBalancer IP with no endpoints',
    src: externalClient,
    dst: '1.2.3.4',
    dport: 80,
    expect: verdict('REJECT', 'KUBE-EXTERNAL-SERVICES'),
  },
  {
    name: 'node to LoadBalancer IP with no endpoints',
    src: nodeIP,
    dst: '1.2.3.4',
    dport: 80,
    hook: 'OUTPUT',
    expect: untouched(),
    kernelNote:
      'kube-proxy writes this REJECT into KUBE-EXTERNAL-SERVICES, which only INPUT and FORWARD jump to; a packet from the node leaves through OUTPUT untouched (kube-proxy\'s tracer says REJECT). Loaded into a network namespace, a connect() from the node to 1.2.3.4:80 sent its SYN out and timed out, while the same from a peer was refused',
  },
  {
    name: 'node to its own NodePort with no endpoints',
    src: nodeIP,
    dst: nodeIP,
    dport: 3001,
    hook: 'OUTPUT',
    expect: verdict('REJECT', 'KUBE-EXTERNAL-SERVICES', { delivery: 'local' }),
    kernelNote: 'local-to-local: the packet comes back in through INPUT, which reaches KUBE-EXTERNAL-SERVICES',
  },
]);

packetFlowTable(fixture('iptables-nodeports'), [
  {
    name: 'pod to cluster IP',
    src: pod,
    dst: '172.30.0.41',
    dport: 80,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80']),
  },
  {
    name: 'external to nodePort',
    src: externalClient,
    dst: nodeIP,
    dport: 3001,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
  },
  {
    name: 'node to nodePort',
    src: nodeIP,
    dst: nodeIP,
    dport: 3001,
    hook: 'OUTPUT',
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
  },
  {
    name: 'localhost to nodePort gets masqueraded',
    src: '127.0.0.1',
    dst: '127.0.0.1',
    dport: 3001,
    hook: 'OUTPUT',
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
    kernelNote: 'needs route_localnet=1 to route a 127.0.0.1 source off the node; kube-proxy sets it when localhost NodePorts are on',
  },
  {
    name: 'external to nodePort on secondary IP',
    src: externalClient,
    dst: nodeIPAlt,
    dport: 3001,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
  },
  {
    name: 'external to a port that is no NodePort is delivered to the node untouched',
    src: externalClient,
    dst: nodeIP,
    dport: 3002,
    expect: untouched('local'),
  },
]);

// ClientIP session affinity (as ns5/svc5 in TestOverallIPTablesRules) over three endpoints: each `--rcheck` rule
// finds no entry for a first packet, so the cascade of probabilities decides, and the trace must say it assumed so.
packetFlowTable(fixture('iptables-session-affinity'), [
  {
    name: 'first packet of a client with ClientIP affinity: a third to each endpoint',
    src: pod,
    dst: '172.30.0.41',
    dport: 80,
    expect: endpoints(['10.180.0.1:80', '10.180.0.2:80', '10.180.0.3:80']),
    assumption: /affinity|recent/i,
    kernelNote: 'kube-proxy\'s tracer treats `-m recent` as not matching too; the kernel would match it for a client it has seen',
  },
]);

// Large-cluster mode (TestSyncProxyRulesLargeClusterMode): above 1000 endpoints kube-proxy drops the comments from
// the rules to and in KUBE-SEP chains, so endpoints are known only by chain structure.
const largeClusterEndpoints = (count: number, octet: number, port: number): string[] =>
  Array.from({ length: count }, (_, i) => `10.${octet}.${i % 256}.${Math.floor(i / 256)}:${port}`);

packetFlowTable(fixture('iptables-large-cluster'), [
  {
    name: 'pod to a service with 600 uncommented endpoints: 1/600 each',
    src: '10.2.0.5',
    dst: '172.30.0.41',
    dport: 80,
    service: 'ns1/svc1:p80',
    expect: endpoints(largeClusterEndpoints(600, 0, 80)),
  },
  {
    name: 'node to a service with 401 uncommented endpoints: 1/401 each, masqueraded',
    src: nodeIP,
    dst: '172.30.0.42',
    dport: 8080,
    hook: 'OUTPUT',
    service: 'ns2/svc2:p8080',
    expect: endpoints(largeClusterEndpoints(401, 1, 8080), { masquerade: true }),
  },
]);

// TestNodePorts with localhost NodePorts disabled: no KUBE-FIREWALL rule, and `! -d 127.0.0.0/8` on the jump to
// KUBE-NODEPORTS, so a localhost connection to the NodePort stays on the node untouched.
packetFlowTable(fixture('iptables-nodeports-no-localhost'), [
  {
    name: 'external to nodePort',
    src: externalClient,
    dst: nodeIP,
    dport: 3001,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
  },
  {
    name: 'node to nodePort',
    src: nodeIP,
    dst: nodeIP,
    dport: 3001,
    hook: 'OUTPUT',
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
  },
  {
    name: 'localhost to nodePort is ignored',
    src: '127.0.0.1',
    dst: '127.0.0.1',
    dport: 3001,
    hook: 'OUTPUT',
    expect: untouched('local'),
    kernelNote: 'kube-proxy leaves it alone; the kernel delivers it to whatever listens on 127.0.0.1:3001',
  },
  {
    name: 'external to nodePort on secondary IP',
    src: externalClient,
    dst: nodeIPAlt,
    dport: 3001,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
  },
]);

// TestNodePorts with --nodeport-addresses 192.168.0.0/24,127.0.0.1/32 and localhost NodePorts disabled: only
// 192.168.0.2 gets a jump to KUBE-NODEPORTS.
packetFlowTable(fixture('iptables-nodeport-addresses'), [
  {
    name: 'external to nodePort',
    src: externalClient,
    dst: nodeIP,
    dport: 3001,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
  },
  {
    name: 'localhost to nodePort is ignored',
    src: '127.0.0.1',
    dst: '127.0.0.1',
    dport: 3001,
    hook: 'OUTPUT',
    expect: untouched('local'),
  },
  {
    name: 'secondary nodeIP ignores NodePorts',
    src: externalClient,
    dst: nodeIPAlt,
    dport: 3001,
    expect: untouched('local'),
    kernelNote: '192.168.1.2 is still a local address, so the untranslated packet is delivered to the node',
  },
]);
