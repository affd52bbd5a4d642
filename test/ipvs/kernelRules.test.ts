/**
 * The iptables and ipset half of IPVS mode, checked against the kernel. The seed 003 sample's ipsets, rules and
 * addresses (kube-ipvs0 and the node address) are loaded into a network namespace, a client namespace sends one
 * new connection at a time, and the rule counters (`iptables-save -c`) say which rules of nat PREROUTING and
 * filter INPUT matched. The trace must list exactly those rules before its IPVS step. This kernel has no IPVS,
 * so what happens after LOCAL_IN is not compared here. Needs root and ip netns; skipped otherwise.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { analyzeSnapshot } from '../../src/core/analyze';
import type { Packet } from '../../src/core/trace/result';
import { tracePacket } from '../../src/core/trace/tracePacket';
import { loadSnapshotFolder } from '../helpers/packetFlow';

const sample = 'samples/ipvs-seed003';
const node = `ipvsw${process.pid}n`;
const client = `ipvsw${process.pid}c`;
const nodeIP = '192.168.204.142';
const clientIP = '192.168.204.10';

function run(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(args[0]!, args.slice(1), { input, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function must(args: string[], input?: string): string {
  const result = run(args, input);
  assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

const at = (namespace: string, command: string, input?: string): string => must(['ip', 'netns', 'exec', namespace, 'sh', '-c', command], input);

function available(): boolean {
  if (process.getuid?.() !== 0) return false;
  if (run(['ip', 'netns', 'add', `${node}x`]).status !== 0) return false;
  run(['ip', 'netns', 'del', `${node}x`]);
  return ['ipset', 'iptables-restore', 'iptables-save'].every((tool) => run(['which', tool]).status === 0);
}

/** Chains a new connection from outside walks before IPVS: nat PREROUTING and filter INPUT with their callees. */
const COMPARED = new Set(['nat PREROUTING', 'nat KUBE-SERVICES', 'nat KUBE-NODE-PORT', 'nat KUBE-MARK-MASQ', 'nat DOCKER', 'nat KUBE-LOAD-BALANCER',
  'filter INPUT', 'filter KUBE-IPVS-FILTER', 'filter KUBE-PROXY-FIREWALL', 'filter KUBE-NODE-PORT', 'filter KUBE-FIREWALL', 'filter KUBE-SOURCE-RANGES-FIREWALL']);

/** Rules with a non-zero packet counter, as `table rule-text`. */
function matchedRules(saved: string): Set<string> {
  const matched = new Set<string>();
  let table = '';
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    const rule = /^\[(\d+):\d+\] (-A (\S+) .*)$/.exec(line);
    if (rule && Number(rule[1]) > 0 && COMPARED.has(`${table} ${rule[3]}`)) matched.add(`${table} ${rule[2]}`);
  }
  return matched;
}

interface Probe {
  name: string;
  packet: Packet;
  /** A rule the kernel must have counted, so the probe cannot pass by sending nothing. */
  mustMatch: RegExp;
}

const probes: Probe[] = [
  {
    name: 'ClusterIP on its Service port from outside (marked, accepted, on to IPVS)',
    packet: { src: clientIP, dst: '172.18.13.113', proto: 'tcp', sport: 41001, dport: 8082 },
    mustMatch: /^nat -A KUBE-SERVICES ! -s 10\.0\.0\.0\/16 .*KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ$/,
  },
  {
    name: 'ClusterIP on a port no Service uses (KUBE-IPVS-FILTER rejects)',
    packet: { src: clientIP, dst: '172.18.13.113', proto: 'tcp', sport: 41002, dport: 22 },
    mustMatch: /^filter -A KUBE-IPVS-FILTER .*KUBE-IPVS-IPS dst -j REJECT/,
  },
  {
    name: 'a TCP ClusterIP over UDP (KUBE-IPVS-FILTER rejects)',
    packet: { src: clientIP, dst: '172.18.13.1', proto: 'udp', sport: 41003, dport: 443 },
    mustMatch: /^filter -A KUBE-IPVS-FILTER .*KUBE-IPVS-IPS dst -j REJECT/,
  },
  {
    name: 'NodePort on the node address (KUBE-NODE-PORT marks)',
    packet: { src: clientIP, dst: nodeIP, proto: 'tcp', sport: 41004, dport: 30002 },
    mustMatch: /^nat -A KUBE-NODE-PORT -p tcp .*KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ$/,
  },
  {
    name: 'a node port no Service uses (nothing of kube-proxy marks it)',
    packet: { src: clientIP, dst: nodeIP, proto: 'tcp', sport: 41005, dport: 30999 },
    mustMatch: /^nat -A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT$/,
  },
];

/** Sends one new connection (TCP SYN or one UDP datagram) from the client namespace, from a fixed source port. */
function send(packet: Packet): void {
  const script = packet.proto === 'udp'
    ? `const s=require('dgram').createSocket('udp4');s.bind(${packet.sport},()=>s.send('x',${packet.dport},'${packet.dst}',()=>setTimeout(()=>process.exit(0),300)));`
    : `const c=require('net').connect({host:'${packet.dst}',port:${packet.dport},localPort:${packet.sport}});c.on('error',()=>process.exit(0));c.on('connect',()=>process.exit(0));setTimeout(()=>process.exit(0),1500);`;
  at(client, `${JSON.stringify(process.execPath)} -e ${JSON.stringify(script)}`);
}

describe('seed 003 rules in a kernel: the rules each new connection matches before IPVS', { skip: !available() && 'needs root, ip netns, ipset and iptables' }, () => {
  const analysis = analyzeSnapshot(loadSnapshotFolder(sample));

  for (const probe of probes) {
    test(probe.name, () => {
      must(['ip', 'netns', 'add', node]);
      must(['ip', 'netns', 'add', client]);
      try {
        must(['ip', 'link', 'add', 'ens33', 'netns', node, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client]);
        at(node, `ip link set lo up && ip addr add ${nodeIP}/24 dev ens33 && ip link set ens33 up`);
        at(node, 'ip link add docker0 type bridge && ip addr add 172.17.0.1/16 dev docker0 && ip link set docker0 up');
        at(node, 'ip link add flannel.1 type bridge && ip addr add 10.0.1.0/32 dev flannel.1 && ip link set flannel.1 up');
        at(node, 'ip link add kube-ipvs0 type bridge && for a in 172.18.13.1 172.18.13.31 172.18.13.113 172.18.13.187 172.18.13.222; do ip addr add $a/32 dev kube-ipvs0; done');
        at(client, `ip link set lo up && ip addr add ${clientIP}/24 dev eth0 && ip link set eth0 up && ip route add 172.18.13.0/24 via ${nodeIP}`);
        // The sets as the sample lists them, written back as restore input; then the sample's rules.
        const sets = readFileSync(`${sample}/ipset.txt`, 'utf8');
        const restore: string[] = [];
        let name = '';
        for (const line of sets.split('\n')) {
          const field = /^(Name|Type|Header): (.*)$/.exec(line);
          if (field?.[1] === 'Name') name = field[2]!;
          else if (field?.[1] === 'Type') restore.push(`create ${name} ${field[2]}`);
          else if (field?.[1] === 'Header') restore[restore.length - 1] += ` ${field[2]}`;
          else if (/^[0-9]/.test(line)) restore.push(`add ${name} ${line}`);
        }
        at(node, 'ipset restore', `${restore.join('\n')}\n`);
        at(node, 'iptables-restore', readFileSync(`${sample}/iptables-save.txt`, 'utf8'));
        at(node, 'iptables -t nat -Z && iptables -t filter -Z');

        send(probe.packet);
        const kernel = matchedRules(at(node, 'iptables-save -c'));
        assert.ok([...kernel].some((rule) => probe.mustMatch.test(rule)), `the kernel counted ${probe.mustMatch}: ${[...kernel].join(' | ')}`);

        const result = tracePacket(analysis, probe.packet);
        assert.equal(result.outcomes.length > 0, true);
        for (const outcome of result.outcomes) {
          const beforeIpvs = outcome.steps.slice(0, outcome.steps.findIndex((step) => step.table === 'ipvs') >>> 0);
          const traced = new Set(beforeIpvs.filter((step) => COMPARED.has(`${step.table} ${step.chain}`)).map((step) => `${step.table} ${step.rule}`));
          assert.deepEqual([...traced].sort(), [...kernel].sort(), `rules the trace passes through before IPVS vs rules the kernel counted`);
        }
      } finally {
        run(['ip', 'netns', 'del', client]);
        run(['ip', 'netns', 'del', node]);
      }
    });
  }
});
