/**
 * Checks ipsetMatch against the kernel: sets of every type kube-proxy uses are loaded into a network namespace
 * with `ipset restore`, listed back with `ipset -L` (so the parser reads the kernel's own output), and for many
 * packets the element their fields form in the given directions is tested with `ipset test`. Needs root and
 * `ip netns`; skipped otherwise. The namespace is named after this process and deleted afterwards.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ipsetMatch, type IpsetDirection, type IpsetPacket } from '../../src/core/ipset/ipsetMatch';
import { parseIpset } from '../../src/core/ipset/parseIpset';

const namespace = `ipvsw${process.pid}`;

function run(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(args[0]!, args.slice(1), { input, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function canUseNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = run(['ip', 'netns', 'add', `${namespace}probe`]);
  if (probe.status !== 0) return false;
  run(['ip', 'netns', 'del', `${namespace}probe`]);
  return run(['which', 'ipset']).status === 0;
}

/** A small deterministic generator, so a failure names a reproducible case. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

interface SetCase {
  name: string;
  create: string;
  members: string[];
  directions: IpsetDirection[];
  /** The element `ipset test` checks for a packet, built the way the kernel reads the packet. */
  element: (packet: IpsetPacket) => string;
}

test('ipsetMatch agrees with the kernel\'s ipset test for every type kube-proxy uses', { skip: !canUseNamespaces() && 'needs root, ip netns and ipset' }, () => {
  const random = generator(20261125);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const hosts = ['10.96.0.1', '10.96.0.10', '10.96.0.11', '10.244.1.5', '10.244.1.6', '203.0.113.2', '203.0.113.130', '198.51.100.7'];
  const protocols = ['tcp', 'udp', 'sctp'] as const;
  const ports = [53, 80, 443, 8080, 30001];
  const member2 = () => `${pick(hosts)},${pick(protocols)}:${pick(ports)}`;

  const cases: SetCase[] = [
    {
      name: 'KUBE-CLUSTER-IP', create: 'hash:ip,port family inet hashsize 1024 maxelem 65536',
      members: Array.from({ length: 12 }, member2), directions: ['dst', 'dst'],
      element: (p) => `${p.dst},${p.proto}:${p.dport}`,
    },
    {
      name: 'KUBE-LOOP-BACK', create: 'hash:ip,port,ip family inet hashsize 1024 maxelem 65536',
      members: Array.from({ length: 8 }, () => { const ip = pick(hosts); return `${ip},${pick(protocols)}:${pick(ports)},${random() < 0.8 ? ip : pick(hosts)}`; }),
      directions: ['dst', 'dst', 'src'],
      element: (p) => `${p.dst},${p.proto}:${p.dport},${p.src}`,
    },
    {
      name: 'KUBE-LOAD-BALANCER-SOURCE-CIDR', create: 'hash:ip,port,net family inet hashsize 1024 maxelem 65536',
      members: ['203.0.113.2,tcp:80,203.0.113.0/25', '203.0.113.2,tcp:80,198.51.100.0/24', '10.96.0.1,tcp:443,10.0.0.0/8', '10.96.0.10,udp:53,10.244.1.6/32'],
      directions: ['dst', 'dst', 'src'],
      element: (p) => `${p.dst},${p.proto}:${p.dport},${p.src}`,
    },
    {
      name: 'NETS', create: 'hash:net family inet hashsize 1024 maxelem 65536',
      members: ['10.0.0.0/8', '10.244.0.0/16 nomatch', '10.244.1.5/32', '203.0.113.0/25'],
      directions: ['src'],
      element: (p) => p.src,
    },
    {
      name: 'KUBE-NODE-PORT-TCP', create: 'bitmap:port range 0-65535',
      members: ['80', '30001'], directions: ['dst'],
      // `ipset test` refuses an sctp: port for bitmap:port, which reads as "not in the set": what the kernel's
      // match does with SCTP packets too, since bitmap:port takes ports from TCP and UDP only.
      element: (p) => `${p.proto}:${p.dport}`,
    },
    {
      name: 'KUBE-IPVS-IPS', create: 'hash:ip family inet hashsize 1024 maxelem 65536',
      members: ['10.96.0.1', '10.96.0.10'], directions: ['dst'],
      element: (p) => p.dst,
    },
    {
      name: 'MASKED', create: 'hash:ip family inet hashsize 1024 maxelem 65536 netmask 24',
      members: ['10.244.1.0', '203.0.113.0'], directions: ['src'],
      element: (p) => p.src,
    },
  ];

  const restore = cases.flatMap((each) => [`create ${each.name} ${each.create}`, ...each.members.map((member) => `add ${each.name} ${member} -exist`)]).join('\n');
  assert.equal(run(['ip', 'netns', 'add', namespace]).status, 0);
  try {
    const loaded = run(['ip', 'netns', 'exec', namespace, 'ipset', 'restore'], `${restore}\n`);
    assert.equal(loaded.status, 0, loaded.stderr);
    const listing = run(['ip', 'netns', 'exec', namespace, 'ipset', '-L']);
    const { value: sets, diagnostics } = parseIpset(listing.stdout);
    assert.deepEqual(diagnostics, []);

    const probes: { set: SetCase; packet: IpsetPacket; ours: boolean | undefined }[] = [];
    for (const each of cases) {
      const parsed = sets.get(each.name);
      assert.ok(parsed, `${each.name} listed back`);
      for (let i = 0; i < 40; i++) {
        const packet: IpsetPacket = { src: pick(hosts), dst: pick(hosts), proto: pick(protocols), sport: pick(ports), dport: pick(ports) };
        // Bias towards members, so both answers are exercised.
        if (i % 2 === 0 && each.name === 'KUBE-LOOP-BACK') packet.src = packet.dst;
        probes.push({ set: each, packet, ours: ipsetMatch(parsed, each.directions, packet) });
      }
    }
    // One shell for all `ipset test` calls: each prints its exit status (0 = in the set).
    const script = probes.map((probe) => `ipset test ${probe.set.name} ${probe.set.element(probe.packet)} >/dev/null 2>&1; echo $?`).join('\n');
    const kernel = run(['ip', 'netns', 'exec', namespace, 'sh', '-s'], script).stdout.trim().split('\n');
    assert.equal(kernel.length, probes.length);
    let members = 0;
    probes.forEach((probe, index) => {
      const inKernel = kernel[index] === '0';
      if (inKernel) members++;
      assert.equal(probe.ours, inKernel, `${probe.set.name} ${probe.set.directions.join(',')}: ${probe.set.element(probe.packet)} is ${inKernel ? '' : 'not '}in the kernel's set`);
    });
    assert.ok(members > 20 && members < probes.length - 20, `both answers exercised (${members} of ${probes.length} were members)`);
  } finally {
    run(['ip', 'netns', 'del', namespace]);
  }
});
