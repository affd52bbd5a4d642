import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipsetMatch, type IpsetDirection, type IpsetPacket } from '../../src/core/ipset/ipsetMatch';
import type { IpsetSet } from '../../src/core/ipset/model';
import { parseIpset } from '../../src/core/ipset/parseIpset';

/** One set in save form: `create NAME TYPE OPTIONS` and one `add` per member. */
function set(type: string, members: string[], options = 'family inet hashsize 1024 maxelem 65536'): IpsetSet {
  const lines = [`create S ${type} ${options}`, ...members.map((member) => `add S ${member}`)];
  const { value, diagnostics } = parseIpset(lines.join('\n'));
  assert.deepEqual(diagnostics.filter((d) => d.severity !== 'info'), []);
  return value.get('S')!;
}

const packet = (src: string, dst: string, proto: string, sport: number, dport: number): IpsetPacket => ({ src, dst, proto, sport, dport });
const match = (s: IpsetSet, directions: IpsetDirection[], p: IpsetPacket) => ipsetMatch(s, directions, p);

test('hash:ip,port (KUBE-CLUSTER-IP) matches address and protocol:port in the given directions', () => {
  const clusterIPs = set('hash:ip,port', ['10.96.0.10,udp:53', '10.96.0.10,tcp:53', '10.96.0.1,tcp:443', '10.96.0.2,8080']);
  const toDns = packet('10.244.1.5', '10.96.0.10', 'udp', 40000, 53);
  assert.equal(match(clusterIPs, ['dst', 'dst'], toDns), true);
  assert.equal(match(clusterIPs, ['dst', 'dst'], { ...toDns, proto: 'sctp' }), false);
  assert.equal(match(clusterIPs, ['dst', 'dst'], { ...toDns, dport: 54 }), false);
  assert.equal(match(clusterIPs, ['src', 'dst'], toDns), false);
  // src,dst: kube-proxy's rule for nodes without a local-traffic detector tests the source address.
  assert.equal(match(clusterIPs, ['src', 'dst'], packet('10.96.0.1', '10.96.0.99', 'tcp', 5555, 443)), true);
  // A member written without a protocol is TCP.
  assert.equal(match(clusterIPs, ['dst', 'dst'], packet('1.1.1.1', '10.96.0.2', 'tcp', 1, 8080)), true);
  assert.equal(match(clusterIPs, ['dst', 'dst'], packet('1.1.1.1', '10.96.0.2', 'udp', 1, 8080)), false);
});

test('hash:ip,port,ip (KUBE-LOOP-BACK) with dst,dst,src matches only a pod reaching itself', () => {
  const loopBack = set('hash:ip,port,ip', ['10.244.0.28,tcp:80,10.244.0.28', '10.244.0.29,udp:53,10.244.0.29']);
  const hairpin = packet('10.244.0.28', '10.244.0.28', 'tcp', 41000, 80);
  assert.equal(match(loopBack, ['dst', 'dst', 'src'], hairpin), true);
  assert.equal(match(loopBack, ['dst', 'dst', 'src'], { ...hairpin, src: '10.244.0.30' }), false);
  assert.equal(match(loopBack, ['dst', 'dst', 'src'], { ...hairpin, proto: 'udp' }), false);
});

test('fewer directions than the set has dimensions never match, as in the kernel', () => {
  const loopBack = set('hash:ip,port,ip', ['10.244.0.28,tcp:80,10.244.0.28']);
  const hairpin = packet('10.244.0.28', '10.244.0.28', 'tcp', 41000, 80);
  assert.equal(match(loopBack, ['dst', 'dst'], hairpin), false);
  // Extra directions are ignored.
  const ips = set('hash:ip', ['10.244.0.28']);
  assert.equal(match(ips, ['dst', 'dst', 'src'], hairpin), true);
});

test('hash:ip,port,net (KUBE-LOAD-BALANCER-SOURCE-CIDR) tests the source against each prefix length present', () => {
  const sourceRanges = set('hash:ip,port,net', ['1.2.3.4,tcp:80,203.0.113.0/25', '1.2.3.4,tcp:80,198.51.100.7/32', '5.6.7.8,tcp:443,10.0.0.0/8']);
  const lb = (src: string, dst = '1.2.3.4', dport = 80) => packet(src, dst, 'tcp', 50000, dport);
  assert.equal(match(sourceRanges, ['dst', 'dst', 'src'], lb('203.0.113.2')), true);
  assert.equal(match(sourceRanges, ['dst', 'dst', 'src'], lb('203.0.113.130')), false);
  assert.equal(match(sourceRanges, ['dst', 'dst', 'src'], lb('198.51.100.7')), true);
  assert.equal(match(sourceRanges, ['dst', 'dst', 'src'], lb('198.51.100.8')), false);
  assert.equal(match(sourceRanges, ['dst', 'dst', 'src'], lb('10.200.0.1', '5.6.7.8', 443)), true);
  assert.equal(match(sourceRanges, ['dst', 'dst', 'src'], lb('10.200.0.1', '1.2.3.4', 80)), false);
});

test('hash:net picks the most specific prefix, and a nomatch entry there makes the test fail', () => {
  const nets = set('hash:net', ['10.0.0.0/8', '10.1.0.0/16 nomatch', '10.1.2.0/24', '192.168.0.0/16']);
  const from = (src: string) => packet(src, '1.1.1.1', 'tcp', 1, 1);
  assert.equal(match(nets, ['src'], from('10.9.9.9')), true);
  assert.equal(match(nets, ['src'], from('10.1.9.9')), false);
  assert.equal(match(nets, ['src'], from('10.1.2.9')), true);
  assert.equal(match(nets, ['src'], from('11.0.0.1')), false);
  assert.equal(match(nets, ['dst'], from('10.9.9.9')), false);
});

test('bitmap:port (KUBE-NODE-PORT-TCP) matches the port of TCP and UDP packets alike; kube-proxy adds -p to its rules', () => {
  const nodePorts = set('bitmap:port', ['30001', '30002'], 'range 0-65535');
  assert.equal(match(nodePorts, ['dst'], packet('1.1.1.1', '192.168.0.2', 'tcp', 1234, 30001)), true);
  assert.equal(match(nodePorts, ['dst'], packet('1.1.1.1', '192.168.0.2', 'udp', 1234, 30002)), true);
  assert.equal(match(nodePorts, ['dst'], packet('1.1.1.1', '192.168.0.2', 'tcp', 1234, 30003)), false);
  assert.equal(match(nodePorts, ['src'], packet('1.1.1.1', '192.168.0.2', 'tcp', 30001, 80)), true);
  // The kernel reads no port from SCTP packets for bitmap:port (hence KUBE-NODE-PORT-SCTP-HASH).
  assert.equal(match(nodePorts, ['dst'], packet('1.1.1.1', '192.168.0.2', 'sctp', 1234, 30001)), false);
  // bitmap:port has no family, so an IPv6 packet is tested too.
  assert.equal(match(nodePorts, ['dst'], packet('fd00::1', 'fd00::2', 'tcp', 1, 30001)), true);
});

test('hash:ip honours the netmask option', () => {
  const masked = set('hash:ip', ['10.1.2.0'], 'family inet hashsize 1024 maxelem 65536 netmask 24');
  assert.equal(match(masked, ['src'], packet('10.1.2.200', '1.1.1.1', 'tcp', 1, 1)), true);
  assert.equal(match(masked, ['src'], packet('10.1.3.1', '1.1.1.1', 'tcp', 1, 1)), false);
});

test('IPv6 sets match IPv6 packets written in any form, and never IPv4 packets', () => {
  const v6 = set('hash:ip,port', ['fd00:10:96::a,udp:53'], 'family inet6 hashsize 1024 maxelem 65536');
  assert.equal(match(v6, ['dst', 'dst'], packet('fd00::5', 'FD00:10:96:0:0:0:0:A', 'udp', 1, 53)), true);
  assert.equal(match(v6, ['dst', 'dst'], packet('10.0.0.1', '10.96.0.10', 'udp', 1, 53)), false);
  const v4 = set('hash:ip', ['10.96.0.10']);
  assert.equal(match(v4, ['dst'], packet('fd00::5', 'fd00::a', 'udp', 1, 53)), false);
});

test('types with parts it cannot test, and unreadable members, give undefined instead of a guess', () => {
  assert.equal(match(set('hash:ip,mac', ['10.0.0.1,00:11:22:33:44:55']), ['src', 'src'], packet('10.0.0.1', '1.1.1.1', 'tcp', 1, 1)), undefined);
  const lists = parseIpset('create L list:set size 8\nadd L KUBE-CLUSTER-IP').value.get('L')!;
  assert.equal(match(lists, ['dst', 'dst'], packet('10.0.0.1', '1.1.1.1', 'tcp', 1, 1)), undefined);
  const ranged = set('hash:ip,port', ['10.0.0.1,tcp:80-90', '10.0.0.2,tcp:80']);
  assert.equal(match(ranged, ['dst', 'dst'], packet('1.1.1.1', '10.0.0.2', 'tcp', 1, 80)), true);
  assert.equal(match(ranged, ['dst', 'dst'], packet('1.1.1.1', '10.0.0.1', 'tcp', 1, 85)), undefined);
  assert.equal(match(set('hash:ip', ['10.0.0.1']), ['dst'], packet('1.1.1.1', 'not-an-ip', 'tcp', 1, 1)), undefined);
});

test('membership in a set of 100,000 members answers for each of them', () => {
  const members: string[] = [];
  for (let i = 0; i < 100_000; i++) members.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},tcp:${1000 + (i % 7)}`);
  const big = set('hash:ip,port', members, 'family inet hashsize 65536 maxelem 262144');
  for (let i = 0; i < 100_000; i += 1009) {
    const dst = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    assert.equal(match(big, ['dst', 'dst'], packet('1.1.1.1', dst, 'tcp', 1, 1000 + (i % 7))), true);
    assert.equal(match(big, ['dst', 'dst'], packet('1.1.1.1', dst, 'tcp', 1, 999)), false);
  }
});
