/**
 * Cases of kube-proxy's own IPVS tests (kubernetes pkg/proxy/ipvs/proxier_test.go), rendered as snapshot
 * folders in test/fixtures/ipvs-kp-*: the virtual and real servers each test expects (expectedIPVS), the
 * ipset entries (expectedIPSets) and the iptables jumps (expectedIptablesChains). Each row restates what the
 * kube-proxy test specifies and checks that the parsers read it from the folder and the tree groups it so.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseIptablesSave } from '../../src/core/iptables/parseIptablesSave';
import { parseIpset } from '../../src/core/ipset/parseIpset';
import { lookupVirtualServer } from '../../src/core/ipvs/lookupVirtualServer';
import { parseIpvsadm } from '../../src/core/ipvs/parseIpvsadm';
import type { Protocol } from '../../src/core/trace/result';
import { folderTree } from './loadTree';

interface ExpectedService {
  clusterIP: string;
  protocol: Protocol;
  nodePort: number | null;
  externalIPs?: string[];
  loadBalancerIPs?: string[];
  sourceRanges?: string[];
  externalTrafficPolicy: 'Cluster' | 'Local' | null;
  /** `ip:port` of the ClusterIP's real servers, with whether kube-proxy treats them as local (KUBE-LOOP-BACK). */
  endpoints: [string, boolean][];
}

interface Case {
  test: string;
  fixture: string;
  /** expectedIPVS: virtual server `proto ip:port` → real servers `ip:port`. */
  ipvs: Record<string, string[]>;
  /** expectedIPSets: set → entries. */
  ipsets: Record<string, string[]>;
  /** expectedIptablesChains: `table chain` → [target, match-set or source] in order. */
  chains?: Record<string, [string, string][]>;
  services: ExpectedService[];
}

const cases: Case[] = [
  {
    test: 'TestNodePortIPv4 "1 service with node port, has 2 endpoints"',
    fixture: 'ipvs-kp-nodeport-tcp',
    ipvs: { 'TCP 10.20.30.41:80': ['10.180.0.1:80'], 'TCP 100.101.102.103:3001': ['10.180.0.1:80'] },
    ipsets: { 'KUBE-CLUSTER-IP': ['10.20.30.41,tcp:80'], 'KUBE-NODE-PORT-TCP': ['3001'] },
    services: [{ clusterIP: '10.20.30.41:80', protocol: 'tcp', nodePort: 3001, externalTrafficPolicy: 'Cluster', endpoints: [['10.180.0.1:80', false]] }],
  },
  {
    test: 'TestNodePortIPv4 "1 UDP service with node port, has endpoints"',
    fixture: 'ipvs-kp-nodeport-udp',
    ipvs: { 'UDP 10.20.30.41:80': ['10.180.0.1:80'], 'UDP 100.101.102.103:3001': ['10.180.0.1:80'] },
    ipsets: { 'KUBE-NODE-PORT-UDP': ['3001'] },
    chains: {
      'nat KUBE-NODE-PORT': [['KUBE-MARK-MASQ', 'KUBE-NODE-PORT-UDP']],
      'filter KUBE-NODE-PORT': [['ACCEPT', 'KUBE-HEALTH-CHECK-NODE-PORT']],
      'nat KUBE-SERVICES': [['RETURN', '127.0.0.0/8'], ['KUBE-MARK-MASQ', 'KUBE-CLUSTER-IP'], ['KUBE-NODE-PORT', ''], ['ACCEPT', 'KUBE-CLUSTER-IP']],
    },
    services: [{ clusterIP: '10.20.30.41:80', protocol: 'udp', nodePort: 3001, externalTrafficPolicy: 'Cluster', endpoints: [['10.180.0.1:80', false]] }],
  },
  {
    test: 'TestNodePortIPv4 "service has node port but no endpoints"',
    fixture: 'ipvs-kp-nodeport-no-endpoints',
    ipvs: { 'TCP 10.20.30.41:80': [], 'TCP 100.101.102.103:3001': [] },
    ipsets: {},
    services: [{ clusterIP: '10.20.30.41:80', protocol: 'tcp', nodePort: 3001, externalTrafficPolicy: 'Cluster', endpoints: [] }],
  },
  {
    test: 'TestNodePortIPv4 "node port service with protocol sctp on a node with multiple nodeIPs"',
    fixture: 'ipvs-kp-nodeport-sctp-multi',
    ipvs: {
      'SCTP 10.20.30.41:80': ['10.180.0.1:80'],
      'SCTP 100.101.102.103:3001': ['10.180.0.1:80'],
      'SCTP 100.101.102.104:3001': ['10.180.0.1:80'],
      'SCTP 100.101.102.105:3001': ['10.180.0.1:80'],
    },
    ipsets: { 'KUBE-NODE-PORT-SCTP-HASH': ['100.101.102.103,sctp:3001', '100.101.102.104,sctp:3001', '100.101.102.105,sctp:3001'] },
    services: [{ clusterIP: '10.20.30.41:80', protocol: 'sctp', nodePort: 3001, externalTrafficPolicy: 'Cluster', endpoints: [['10.180.0.1:80', false]] }],
  },
  {
    test: 'TestNodePortIPv4 "node port service with protocol sctp and externalTrafficPolicy local"',
    fixture: 'ipvs-kp-nodeport-sctp-local',
    ipvs: { 'SCTP 10.20.30.41:80': ['10.180.0.1:80', '10.180.1.1:80'], 'SCTP 100.101.102.103:3001': ['10.180.0.1:80'] },
    ipsets: { 'KUBE-NODE-PORT-SCTP-HASH': ['100.101.102.103,sctp:3001'], 'KUBE-NODE-PORT-LOCAL-SCTP-HASH': ['100.101.102.103,sctp:3001'] },
    chains: { 'nat KUBE-NODE-PORT': [['RETURN', 'KUBE-NODE-PORT-LOCAL-SCTP-HASH'], ['KUBE-MARK-MASQ', 'KUBE-NODE-PORT-SCTP-HASH']] },
    services: [{ clusterIP: '10.20.30.41:80', protocol: 'sctp', nodePort: 3001, externalTrafficPolicy: 'Local', endpoints: [['10.180.0.1:80', true], ['10.180.1.1:80', false]] }],
  },
  {
    test: 'TestClusterIP "cluster IP service with no endpoints"',
    fixture: 'ipvs-kp-clusterip-no-endpoints',
    ipvs: { 'TCP 10.20.30.41:80': [] },
    ipsets: { 'KUBE-CLUSTER-IP': ['10.20.30.41,tcp:80'] },
    services: [{ clusterIP: '10.20.30.41:80', protocol: 'tcp', nodePort: null, externalTrafficPolicy: null, endpoints: [] }],
  },
  {
    test: 'TestOnlyLocalExternalIPs',
    fixture: 'ipvs-kp-onlylocal-externalips',
    // "Expect 3 ipvs services" and, for the external IPs, "Expect only 1 local endpoint".
    ipvs: { 'TCP 10.20.30.41:80': ['10.180.0.1:80', '10.180.1.1:80'], 'TCP 50.60.70.81:80': ['10.180.0.1:80'], 'TCP 127.0.0.1:80': ['10.180.0.1:80'] },
    ipsets: { 'KUBE-EXTERNAL-IP-LOCAL': ['50.60.70.81,tcp:80', '127.0.0.1,tcp:80'], 'KUBE-LOOP-BACK': ['10.180.0.1,tcp:80,10.180.0.1'] },
    services: [{
      clusterIP: '10.20.30.41:80', protocol: 'tcp', nodePort: null, externalIPs: ['50.60.70.81:80', '127.0.0.1:80'],
      externalTrafficPolicy: 'Local', endpoints: [['10.180.0.1:80', true], ['10.180.1.1:80', false]],
    }],
  },
  {
    test: 'TestLoadBalancerSourceRanges',
    fixture: 'ipvs-kp-loadbalancer-sourceranges',
    ipvs: { 'TCP 10.20.30.41:80': ['10.180.0.1:80'], 'TCP 1.2.3.4:80': ['10.180.0.1:80'] },
    ipsets: { 'KUBE-LOAD-BALANCER': ['1.2.3.4,tcp:80'], 'KUBE-LOAD-BALANCER-FW': ['1.2.3.4,tcp:80'], 'KUBE-LOAD-BALANCER-SOURCE-CIDR': ['1.2.3.4,tcp:80,10.0.0.0/8'] },
    chains: {
      'nat KUBE-SERVICES': [['RETURN', '127.0.0.0/8'], ['KUBE-LOAD-BALANCER', 'KUBE-LOAD-BALANCER'], ['KUBE-MARK-MASQ', 'KUBE-CLUSTER-IP'], ['KUBE-NODE-PORT', ''], ['ACCEPT', 'KUBE-CLUSTER-IP'], ['ACCEPT', 'KUBE-LOAD-BALANCER']],
      'filter KUBE-PROXY-FIREWALL': [['KUBE-SOURCE-RANGES-FIREWALL', 'KUBE-LOAD-BALANCER-FW']],
      // The test lists the SOURCE-CIDR return and the DROP; the node being inside the range adds the SOURCE-IP return.
      'filter KUBE-SOURCE-RANGES-FIREWALL': [['RETURN', 'KUBE-LOAD-BALANCER-SOURCE-CIDR'], ['RETURN', 'KUBE-LOAD-BALANCER-SOURCE-IP'], ['DROP', '']],
    },
    services: [{
      clusterIP: '10.20.30.41:80', protocol: 'tcp', nodePort: null, loadBalancerIPs: ['1.2.3.4:80'], sourceRanges: ['10.0.0.0/8'],
      externalTrafficPolicy: 'Cluster', endpoints: [['10.180.0.1:80', false]],
    }],
  },
  {
    test: 'TestOnlyLocalLoadBalancing',
    fixture: 'ipvs-kp-onlylocal-loadbalancer',
    ipvs: { 'TCP 10.20.30.41:80': ['10.180.0.1:80', '10.180.1.1:80'], 'TCP 1.2.3.4:80': ['10.180.0.1:80'], 'TCP 100.101.102.103:3001': ['10.180.0.1:80'] },
    ipsets: { 'KUBE-LOAD-BALANCER': ['1.2.3.4,tcp:80'], 'KUBE-LOAD-BALANCER-LOCAL': ['1.2.3.4,tcp:80'] },
    chains: {
      'nat KUBE-SERVICES': [['RETURN', '127.0.0.0/8'], ['KUBE-LOAD-BALANCER', 'KUBE-LOAD-BALANCER'], ['KUBE-MARK-MASQ', 'KUBE-CLUSTER-IP'], ['KUBE-NODE-PORT', ''], ['ACCEPT', 'KUBE-CLUSTER-IP'], ['ACCEPT', 'KUBE-LOAD-BALANCER']],
      'nat KUBE-LOAD-BALANCER': [['RETURN', 'KUBE-LOAD-BALANCER-LOCAL'], ['KUBE-MARK-MASQ', '']],
    },
    services: [{
      clusterIP: '10.20.30.41:80', protocol: 'tcp', nodePort: 3001, loadBalancerIPs: ['1.2.3.4:80'],
      externalTrafficPolicy: 'Local', endpoints: [['10.180.0.1:80', true], ['10.180.1.1:80', false]],
    }],
  },
  {
    test: 'TestNodePortIPv6 "1 service with node port, has 2 endpoints"',
    fixture: 'ipvs-kp-nodeport-ipv6',
    ipvs: { 'TCP [2020::1]:80': ['1002:ab8::2:10:80'], 'TCP [2001:db8::1:1]:3001': ['1002:ab8::2:10:80'] },
    ipsets: { 'KUBE-6-CLUSTER-IP': ['2020::1,tcp:80'], 'KUBE-6-NODE-PORT-TCP': ['3001'], 'KUBE-6-LOAD-BALANCER-SOURCE-CID': [] },
    services: [{ clusterIP: '2020::1:80', protocol: 'tcp', nodePort: 3001, externalTrafficPolicy: 'Cluster', endpoints: [['1002:ab8::2:10:80', false]] }],
  },
];

const read = (fixture: string, file: string): string => readFileSync(`test/fixtures/${fixture}/${file}`, 'utf8');

describe('kube-proxy IPVS test cases rendered as snapshot folders', () => {
  for (const each of cases) {
    test(each.test, () => {
      const ipvs = parseIpvsadm(read(each.fixture, 'ipvsadm.txt'));
      assert.deepEqual(ipvs.diagnostics, []);
      assert.equal(ipvs.value.virtualServers.length, Object.keys(each.ipvs).length, 'number of virtual servers');
      for (const [key, reals] of Object.entries(each.ipvs)) {
        const [protocol, target] = key.split(' ') as [string, string];
        const colon = target.lastIndexOf(':');
        const address = target.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
        const vs = lookupVirtualServer(ipvs.value, protocol.toLowerCase() as Protocol, address, Number(target.slice(colon + 1)));
        assert.ok(vs, `virtual server ${key}`);
        assert.equal(vs.scheduler, 'rr');
        assert.deepEqual(vs.realServers.map((rs) => `${rs.address}:${rs.port}`).sort(), [...reals].sort(), `real servers of ${key}`);
        assert.ok(vs.realServers.every((rs) => rs.weight === 1 && rs.forward === 'Masq'));
      }

      const ipsets = parseIpset(read(each.fixture, 'ipset.txt'));
      assert.deepEqual(ipsets.diagnostics, []);
      for (const [name, entries] of Object.entries(each.ipsets)) {
        assert.deepEqual(ipsets.value.get(name)?.members.map((member) => member.element).sort(), [...entries].sort(), name);
      }

      if (each.chains) {
        const tables = parseIptablesSave(read(each.fixture, 'iptables-save.txt')).value.tables;
        for (const [key, expected] of Object.entries(each.chains)) {
          const [table, chain] = key.split(' ') as [string, string];
          const rules = tables.get(table)!.chains.get(chain)!.rules.map((rule) => {
            const set = rule.matches.flatMap((match) => match.options).find((option) => option.name === 'match-set')?.args[0];
            return [rule.target?.name ?? '', set ?? rule.source?.value ?? ''] as [string, string];
          });
          assert.deepEqual(rules, expected, key);
        }
      }

      const { services } = folderTree(`test/fixtures/${each.fixture}`);
      assert.equal(services.length, each.services.length, 'number of Services');
      each.services.forEach((expected, index) => {
        const service = services[index]!;
        assert.equal(`${service.clusterIP?.ip}:${service.clusterIP?.port}`, expected.clusterIP);
        assert.equal(service.protocol, expected.protocol);
        assert.equal(service.nodePort, expected.nodePort);
        assert.deepEqual(service.externalIPs.map((address) => `${address.ip}:${address.port}`), expected.externalIPs ?? []);
        assert.deepEqual(service.loadBalancerIPs.map((address) => `${address.ip}:${address.port}`), expected.loadBalancerIPs ?? []);
        assert.deepEqual(service.sourceRanges, expected.sourceRanges ?? []);
        assert.equal(service.externalTrafficPolicy, expected.externalTrafficPolicy);
        assert.deepEqual(service.endpoints.map((ep) => [`${ep.ip}:${ep.port}`, ep.local]), expected.endpoints);
        const share = expected.endpoints.length > 0 ? 1 / expected.endpoints.length : 0;
        for (const ep of service.endpoints) assert.equal(ep.share, share);
        if (expected.endpoints.length === 0) assert.ok(service.warnings.some((warning) => /has no endpoints/.test(warning)));
      });
    });
  }
});
