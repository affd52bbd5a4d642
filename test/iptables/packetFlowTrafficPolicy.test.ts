/**
 * Packet-flow tables for traffic policies and terminating endpoints, taken from kube-proxy's own tests
 * (kubernetes pkg/proxy/iptables/proxier_test.go: TestExternalTrafficPolicyLocal, TestExternalTrafficPolicyCluster,
 * TestHealthCheckNodePort, TestInternalTrafficPolicy, TestTerminatingEndpointsTrafficPolicyLocal and
 * TestTerminatingEndpointsTrafficPolicyCluster). Where kube-proxy's tests build one service per case, the fixtures
 * hold the cases side by side as separate services (ns1/svc1, ns2/svc2, ...) with their own cluster and LB IPs.
 *
 * The kernel differs from kube-proxy's test tracer as described in packetFlowKubeProxy.test.ts (entry hook by
 * source, filter chains only where hooked, marks and routing after DNAT); rows whose result depends on that
 * say so in their kernel note. Shares are the kernel's: an SVL chain spreads only over the local endpoints.
 */

import { endpoints, packetFlowTable, verdict } from '../helpers/packetFlow';

const fixture = (name: string): string => `test/fixtures/${name}`;

const nodeIP = '192.168.0.2';
const pod = '10.0.0.2';
const externalClient = '203.0.113.2';

// One ns1/svc1:p80 LoadBalancer with externalTrafficPolicy Local: 10.180.0.1 runs elsewhere, 10.180.2.1 here.
packetFlowTable(fixture('iptables-etp-local'), [
  {
    name: 'pod to cluster IP hits both endpoints, unmasqueraded',
    src: pod,
    dst: '172.30.0.41',
    dport: 80,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80']),
  },
  {
    name: 'pod to external IP hits both endpoints, unmasqueraded',
    src: pod,
    dst: '192.168.99.11',
    dport: 80,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80']),
    kernelNote: 'KUBE-EXT sends pod sources to the Cluster chain; after DNAT the pod destination is forwarded',
  },
  {
    name: 'external to external IP hits only local endpoint, unmasqueraded',
    src: externalClient,
    dst: '192.168.99.11',
    dport: 80,
    expect: endpoints(['10.180.2.1:80']),
  },
  {
    name: 'pod to LB IP hits only both endpoints, unmasqueraded',
    src: pod,
    dst: '1.2.3.4',
    dport: 80,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80']),
  },
  {
    name: 'external to LB IP hits only local endpoint, unmasqueraded',
    src: externalClient,
    dst: '1.2.3.4',
    dport: 80,
    expect: endpoints(['10.180.2.1:80']),
  },
  {
    name: 'pod to NodePort hits both endpoints, unmasqueraded',
    src: pod,
    dst: nodeIP,
    dport: 3001,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80']),
  },
  {
    name: 'external to NodePort hits only local endpoint, unmasqueraded',
    src: externalClient,
    dst: nodeIP,
    dport: 3001,
    expect: endpoints(['10.180.2.1:80']),
  },
  {
    name: 'node to NodePort hits both endpoints, masqueraded',
    src: nodeIP,
    dst: nodeIP,
    dport: 3001,
    hook: 'OUTPUT',
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
    kernelNote: 'KUBE-EXT marks and routes LOCAL sources through the Cluster chain',
  },
  {
    name: 'firewall accepts HealthCheckNodePort',
    src: '1.2.3.4',
    dst: nodeIP,
    dport: 30000,
    expect: verdict('ACCEPT', 'KUBE-NODEPORTS', { delivery: 'local' }),
    kernelNote: 'no nat rule matches, the node address stays the destination, and filter INPUT accepts the port in KUBE-NODEPORTS',
  },
]);

// The same service with externalTrafficPolicy Cluster.
packetFlowTable(fixture('iptables-etp-cluster'), [
  {
    name: 'pod to cluster IP hits both endpoints, unmasqueraded',
    src: pod,
    dst: '172.30.0.41',
    dport: 80,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80']),
  },
  {
    name: 'pod to external IP hits both endpoints, masqueraded',
    src: pod,
    dst: '192.168.99.11',
    dport: 80,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
  },
  {
    name: 'external to external IP hits both endpoints, masqueraded',
    src: externalClient,
    dst: '192.168.99.11',
    dport: 80,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
  },
  {
    name: 'pod to LB IP hits both endpoints, masqueraded',
    src: pod,
    dst: '1.2.3.4',
    dport: 80,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
  },
  {
    name: 'external to LB IP hits both endpoints, masqueraded',
    src: externalClient,
    dst: '1.2.3.4',
    dport: 80,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
  },
  {
    name: 'pod to NodePort hits both endpoints, masqueraded',
    src: pod,
    dst: nodeIP,
    dport: 3001,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
  },
  {
    name: 'external to NodePort hits both endpoints, masqueraded',
    src: externalClient,
    dst: nodeIP,
    dport: 3001,
    expect: endpoints(['10.180.0.1:80', '10.180.2.1:80'], { masquerade: true }),
  },
]);

// Four cluster-IP services: svc1 internalTrafficPolicy Local with one local endpoint, svc2 Local with two,
// svc3 Local with none, svc4 Cluster (three endpoints, one local).
packetFlowTable(fixture('iptables-internal-traffic-policy'), [
  {
    name: 'internalTrafficPolicy is cluster: pod to ClusterIP hits all endpoints',
    src: pod,
    dst: '172.30.1.4',
    dport: 80,
    service: 'ns4/svc4',
    expect: endpoints(['10.0.4.1:80', '10.0.4.2:80', '10.0.4.3:80']),
  },
  {
    name: 'internalTrafficPolicy is local and there is one local endpoint',
    src: pod,
    dst: '172.30.1.1',
    dport: 80,
    expect: endpoints(['10.0.1.1:80']),
  },
  {
    name: 'internalTrafficPolicy is local and there are multiple local endpoints',
    src: pod,
    dst: '172.30.1.2',
    dport: 80,
    expect: endpoints(['10.0.2.1:80', '10.0.2.2:80']),
  },
  {
    name: 'internalTrafficPolicy is local and there are no local endpoints',
    src: pod,
    dst: '172.30.1.3',
    dport: 80,
    expect: verdict('DROP', 'KUBE-SERVICES'),
  },
  {
    name: 'node to a Local-policy ClusterIP without local endpoints is dropped too',
    src: nodeIP,
    dst: '172.30.1.3',
    dport: 80,
    hook: 'OUTPUT',
    expect: verdict('DROP', 'KUBE-SERVICES'),
    kernelNote: 'filter OUTPUT jumps to KUBE-SERVICES for NEW connections',
  },
  {
    name: 'node to a Local-policy ClusterIP is masqueraded',
    src: nodeIP,
    dst: '172.30.1.1',
    dport: 80,
    hook: 'OUTPUT',
    expect: endpoints(['10.0.1.1:80'], { masquerade: true }),
  },
]);

// svc1: externalTrafficPolicy Local, local endpoints only serving-and-terminating, one ready remote endpoint.
// svc2: Local, the only endpoint is remote and terminating. svc3: Cluster, only terminating endpoints.
// svc4: Local, no usable endpoint anywhere. svc5: Local, ready local endpoints beside terminating ones.
packetFlowTable(fixture('iptables-terminating-endpoints'), [
  {
    name: 'ready endpoints exist: pod to clusterIP uses every ready endpoint',
    src: pod,
    dst: '172.30.1.5',
    dport: 80,
    expect: endpoints(['10.0.5.1:80', '10.0.5.2:80', '10.0.5.5:80']),
  },
  {
    name: 'ready endpoints exist: external to LB uses only the ready local ones',
    src: externalClient,
    dst: '5.6.7.9',
    dport: 80,
    expect: endpoints(['10.0.5.1:80', '10.0.5.2:80']),
  },
  {
    name: 'only terminating local endpoints: pod to clusterIP uses the ready remote endpoint',
    src: pod,
    dst: '172.30.1.1',
    dport: 80,
    expect: endpoints(['10.0.1.5:80']),
  },
  {
    name: 'only terminating local endpoints: external to LB uses the serving terminating local ones',
    src: externalClient,
    dst: '1.2.3.4',
    dport: 80,
    expect: endpoints(['10.0.1.2:80', '10.0.1.3:80']),
  },
  {
    name: 'terminating endpoints on remote node: pod to clusterIP',
    src: pod,
    dst: '172.30.1.2',
    dport: 80,
    expect: endpoints(['10.0.2.5:80']),
  },
  {
    name: 'terminating endpoints on remote node: external to LB, no locally-usable endpoints',
    src: externalClient,
    dst: '5.6.7.8',
    dport: 80,
    expect: verdict('DROP', 'KUBE-EXTERNAL-SERVICES'),
  },
  {
    name: 'Cluster policy, only terminating endpoints: pod to clusterIP',
    src: pod,
    dst: '172.30.1.3',
    dport: 80,
    expect: endpoints(['10.0.3.2:80', '10.0.3.3:80', '10.0.3.5:80']),
  },
  {
    name: 'Cluster policy, only terminating endpoints: external to LB',
    src: externalClient,
    dst: '9.10.11.12',
    dport: 80,
    expect: endpoints(['10.0.3.2:80', '10.0.3.3:80', '10.0.3.5:80'], { masquerade: true }),
  },
  {
    name: 'no usable endpoints on any node: pod to clusterIP',
    src: pod,
    dst: '172.30.1.4',
    dport: 80,
    expect: verdict('REJECT', 'KUBE-SERVICES'),
  },
  {
    name: 'no usable endpoints on any node: external to LB',
    src: externalClient,
    dst: '1.2.3.5',
    dport: 80,
    expect: verdict('REJECT', 'KUBE-EXTERNAL-SERVICES'),
  },
]);
