import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseIpset } from '../../src/core/ipset/parseIpset';
import {
  IPVS_CHAINS,
  IPVS_IPSETS,
  ipv6IpsetName,
  lookupIpvsName,
  nodePortSetName,
} from '../../src/core/ipvs/vocabulary';

test('IPv6 twins get the KUBE-6- prefix and are cut to the 31 characters an ipset name may have', () => {
  assert.equal(ipv6IpsetName('KUBE-CLUSTER-IP'), 'KUBE-6-CLUSTER-IP');
  assert.equal(ipv6IpsetName('KUBE-LOAD-BALANCER-SOURCE-CIDR'), 'KUBE-6-LOAD-BALANCER-SOURCE-CID');
  assert.equal(ipv6IpsetName('KUBE-NODE-PORT-LOCAL-SCTP-HASH'), 'KUBE-6-NODE-PORT-LOCAL-SCTP-HAS');
  assert.equal(ipv6IpsetName('KUBE-HEALTH-CHECK-NODE-PORT'), 'KUBE-6-HEALTH-CHECK-NODE-PORT');
  for (const term of IPVS_IPSETS) assert.ok(ipv6IpsetName(term.name).length <= 31, term.name);
});

test('every name is explained in one sentence, and IPv4 and IPv6 names are distinct', () => {
  const names = new Set<string>();
  for (const term of IPVS_IPSETS) {
    for (const name of [term.name, ipv6IpsetName(term.name)]) {
      assert.ok(!names.has(name), `${name} appears twice`);
      names.add(name);
    }
    assert.match(term.explanation, /^[A-Z].*\.$/);
    assert.ok(!term.explanation.slice(0, -1).includes('. '), `${term.name}: one sentence`);
    assert.match(term.type, /^(hash|bitmap):/);
  }
  for (const chain of IPVS_CHAINS) assert.match(chain.explanation, /^[A-Z].*\.$/);
});

test('looks up ipsets by either family\'s name, chains by name, and kube-ipvs0', () => {
  const v6 = lookupIpvsName('KUBE-6-LOAD-BALANCER-SOURCE-CID');
  assert.equal(v6?.kind, 'ipset');
  assert.equal(v6?.kind === 'ipset' && v6.family, 'inet6');
  assert.equal(v6?.kind === 'ipset' && v6.term.name, 'KUBE-LOAD-BALANCER-SOURCE-CIDR');
  assert.equal(lookupIpvsName('KUBE-IPVS-FILTER')?.kind, 'chain');
  assert.equal(lookupIpvsName('kube-ipvs0')?.kind, 'device');
  // KUBE-LOAD-BALANCER names both a set and a nat chain; the context picks one.
  assert.equal(lookupIpvsName('KUBE-LOAD-BALANCER', 'ipset')?.kind, 'ipset');
  assert.equal(lookupIpvsName('KUBE-LOAD-BALANCER', 'chain')?.kind, 'chain');
  assert.equal(lookupIpvsName('KUBE-SVC-ABCDEF'), undefined);
  assert.equal(nodePortSetName('tcp', true), 'KUBE-NODE-PORT-LOCAL-TCP');
  assert.equal(nodePortSetName('sctp', false, 'inet6'), 'KUBE-6-NODE-PORT-SCTP-HASH');
});

test('the sets kube-proxy created on the sample node and fixtures are all known, with the types the vocabulary gives', () => {
  const folders = ['samples/ipvs-seed003', ...readdirSync('test/fixtures').filter((name) => name.startsWith('ipvs-')).map((name) => `test/fixtures/${name}`)];
  for (const folder of folders) {
    const { value } = parseIpset(readFileSync(`${folder}/ipset.txt`, 'utf8'));
    for (const set of value.sets) {
      const known = lookupIpvsName(set.name, 'ipset');
      assert.equal(known?.kind, 'ipset', `${folder}: ${set.name}`);
      assert.equal(known?.kind === 'ipset' && known.term.type, set.type, `${folder}: ${set.name}`);
    }
  }
});

test('the chains and rule comments in the sample\'s iptables-save are the vocabulary\'s', () => {
  const text = readFileSync('samples/ipvs-seed003/iptables-save.txt', 'utf8');
  for (const chain of ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', 'KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER', 'KUBE-FORWARD', 'KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL', 'KUBE-IPVS-FILTER', 'KUBE-IPVS-OUT-FILTER']) {
    assert.ok(IPVS_CHAINS.some((term) => term.name === chain), chain);
    assert.match(text, new RegExp(`^:${chain} `, 'm'));
  }
  const comments = [...text.matchAll(/--comment "([^"]+)" -m set --match-set (\S+)/g)];
  assert.ok(comments.length >= 2);
  for (const [, comment, set] of comments) {
    const term = IPVS_IPSETS.find((each) => each.name === set);
    assert.equal(term?.ruleComment, comment);
  }
});
