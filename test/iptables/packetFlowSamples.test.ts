/**
 * Packet-flow tables on the shipped sample snapshots (samples/README.md says where they come from). Unlike the
 * kube-proxy fixtures these nodes carry other programs' rules beside kube-proxy's: Docker's chains, the bridge
 * CNI plugin's per-pod masquerade chains on minikube, and flannel's and Calico's chains on the canal node, so the
 * rows check that kube-proxy's decisions survive the full kernel path (raw, mangle, nat, filter in hook order,
 * interfaces from the route tables, marks shared between tables, goto chains).
 */

import { endpoints, packetFlowTable, untouched, verdict, type ExpectedFate } from '../helpers/packetFlow';

/** A hairpin: the endpoint that is also the client is masqueraded (its KUBE-SEP `-s` rule), the others are not. */
function hairpin(self: string, others: string[]): ExpectedFate[] {
  const share = 1 / (others.length + 1);
  return [
    ...endpoints([self], { masquerade: true }).map((fate) => ({ ...fate, share })),
    ...endpoints(others).map((fate) => ({ ...fate, share })),
  ];
}

const nginx = ['10.244.0.27:80', '10.244.0.28:80', '10.244.0.30:80'];

packetFlowTable('samples/minikube-seed001', [
  {
    name: 'CoreDNS pod to nginx-service: a third to each endpoint, source kept',
    src: '10.244.0.29',
    dst: '10.101.57.97',
    dport: 80,
    service: 'default/nginx-service',
    expect: endpoints(nginx),
    kernelNote: 'the bridge CNI chain in nat POSTROUTING accepts pod-to-pod traffic (-d 10.244.0.0/16) before its MASQUERADE',
  },
  {
    name: 'nginx pod to its own service: masqueraded only when it picks itself',
    src: '10.244.0.27',
    dst: '10.101.57.97',
    dport: 80,
    expect: hairpin('10.244.0.27:80', ['10.244.0.28:80', '10.244.0.30:80']),
  },
  {
    name: 'the node to kube-dns over UDP is masqueraded',
    src: '192.168.49.2',
    dst: '10.96.0.10',
    dport: 53,
    proto: 'udp',
    hook: 'OUTPUT',
    service: 'kube-system/kube-dns:dns',
    expect: endpoints(['10.244.0.29:53'], { masquerade: true }),
  },
  {
    name: 'the docker host to nginx-service through the node is masqueraded',
    src: '192.168.49.1',
    dst: '10.101.57.97',
    dport: 80,
    expect: endpoints(nginx, { masquerade: true }),
    kernelNote: 'the source is outside 10.244.0.0/16, so the KUBE-SVC rule marks it; KUBE-FORWARD accepts marked packets',
  },
  {
    name: 'pod to the API server is DNATed to the node itself and delivered locally',
    src: '10.244.0.28',
    dst: '10.96.0.1',
    dport: 443,
    service: 'default/kubernetes:https',
    expect: endpoints(['192.168.49.2:8443'], { delivery: 'local' }),
    kernelNote: 'routing after DNAT finds 192.168.49.2 in the local table, so the packet goes to INPUT, not FORWARD',
  },
  {
    name: 'pod to the internet is masqueraded by the bridge CNI plugin, not by kube-proxy',
    src: '10.244.0.28',
    dst: '1.1.1.1',
    dport: 443,
    service: null,
    expect: [{ to: null, share: 1, verdict: 'ACCEPT', masquerade: true, delivery: 'forward' }],
  },
  {
    name: "the node's resolver address is DNATed to Docker's embedded DNS on loopback",
    src: '192.168.49.2',
    dst: '192.168.49.1',
    dport: 53,
    proto: 'udp',
    hook: 'OUTPUT',
    expect: endpoints(['127.0.0.11:49231'], { delivery: 'local' }),
    kernelNote: 'KUBE-FIREWALL drops non-loopback sources to 127.0.0.0/8 only when conntrack did not DNAT them',
  },
  {
    name: 'a port nothing forwards is delivered to the node untouched',
    src: '192.168.49.1',
    dst: '192.168.49.2',
    dport: 22,
    expect: untouched('local'),
  },
]);

const nginxBasic = ['192.168.0.7:80', '192.168.1.3:80', '192.168.1.4:80'];

packetFlowTable('samples/calico-seed002', [
  {
    name: 'nginx pod to its own service: masqueraded only when it picks itself',
    src: '192.168.0.7',
    dst: '10.105.250.129',
    dport: 80,
    service: 'default/nginx-basic:http',
    expect: hairpin('192.168.0.7:80', ['192.168.1.3:80', '192.168.1.4:80']),
    kernelNote: 'Calico marks the workload packet accepted (0x10000) and the FORWARD accept rules let it through the DROP policy',
  },
  {
    name: 'node01 to nginx-basic through this node is masqueraded',
    src: '172.30.2.2',
    dst: '10.105.250.129',
    dport: 80,
    expect: endpoints(nginxBasic, { masquerade: true }),
  },
  {
    name: 'outside client to the nginx-basic NodePort: a third to each endpoint, masqueraded',
    src: '203.0.113.9',
    dst: '172.30.1.2',
    dport: 31372,
    service: 'default/nginx-basic:http',
    expect: endpoints(nginxBasic, { masquerade: true }),
    kernelNote: 'KUBE-EXT marks it; after DNAT the pods are forwarded to (cali veth or flannel.1), and KUBE-FORWARD accepts the marked packet',
  },
  {
    name: 'the node to its own NodePort is masqueraded',
    src: '172.30.1.2',
    dst: '172.30.1.2',
    dport: 31372,
    hook: 'OUTPUT',
    expect: endpoints(nginxBasic, { masquerade: true }),
  },
  {
    name: 'the node to kube-dns over UDP: half to each CoreDNS pod, masqueraded',
    src: '172.30.1.2',
    dst: '10.96.0.10',
    dport: 53,
    proto: 'udp',
    hook: 'OUTPUT',
    service: 'kube-system/kube-dns:dns',
    expect: endpoints(['192.168.0.6:53', '192.168.1.2:53'], { masquerade: true }),
  },
  {
    name: 'CoreDNS pod to kube-dns metrics over TCP',
    src: '192.168.0.6',
    dst: '10.96.0.10',
    dport: 9153,
    expect: hairpin('192.168.0.6:9153', ['192.168.1.2:9153']),
  },
  {
    name: 'pod to the API server is DNATed to the node and accepted by Calico for workloads',
    src: '192.168.0.7',
    dst: '10.96.0.1',
    dport: 443,
    expect: [{ ...endpoints(['172.30.1.2:6443'], { delivery: 'local' })[0], decidedIn: 'cali-wl-to-host' }],
    kernelNote: 'cali-INPUT jumps with goto, so cali-fw-* returns into cali-wl-to-host, whose DefaultEndpointToHostAction accepts',
  },
  {
    name: 'pod to the internet is masqueraded by Calico outgoing NAT',
    src: '192.168.0.6',
    dst: '1.1.1.1',
    dport: 443,
    service: null,
    expect: [{ to: null, share: 1, verdict: 'ACCEPT', masquerade: true, delivery: 'forward' }],
    kernelNote: 'cali-nat-outgoing matches the ipset cali40masq-ipam-pools by source and not cali40all-ipam-pools by destination',
  },
  {
    name: "a pod-to-pod packet across nodes is not NATed and passes the DROP policy on flannel's accept",
    src: '192.168.0.6',
    dst: '192.168.1.3',
    dport: 80,
    expect: verdict('ACCEPT', 'FORWARD'),
    kernelNote: 'FORWARD\'s policy is DROP (Docker); `-s 192.168.0.0/16 -j ACCEPT` decides first',
  },
  {
    name: "a Docker container to a pod is accepted by Docker's FORWARD rule and masqueraded",
    src: '172.17.0.2',
    dst: '192.168.1.3',
    dport: 80,
    expect: verdict('ACCEPT', 'FORWARD', { masquerade: true }),
    kernelNote: "`-i docker0 ! -o docker0 -j ACCEPT` decides before the DROP policy; Docker's POSTROUTING rule masquerades",
  },
]);
