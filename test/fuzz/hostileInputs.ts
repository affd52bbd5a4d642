/**
 * Hand-built hostile inputs too large or too structured for random mutation to reach: 10 MB single lines,
 * 100,000 chains each jumping to the next, jump loops, a chain that jumps to itself, unknown tables and match
 * modules, in both iptables-save and nft syntax. Each builder returns snapshot files; the tests decide what
 * must hold for them.
 */

import type { SnapshotFileName } from '../../src/core/snapshot';
import type { ParsedFile } from './fuzzCalls';

export type SnapshotFiles = Partial<Record<SnapshotFileName, string>>;

export const TEN_MB = 10 * 1024 * 1024;

/** A node's local table: its own address, loopback, and a kube-ipvs0 address, as `ip route show table local` prints. */
export const ROUTE_LOCAL = [
  'local 10.0.0.10 dev eth0 proto kernel scope host src 10.0.0.10',
  'broadcast 10.0.0.255 dev eth0 proto kernel scope link src 10.0.0.10',
  'local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1',
  'local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1',
  '',
].join('\n');

/** One line of `size` characters made of `unit` repeated, after `prefix`. */
export function longLine(prefix: string, unit: string, size = TEN_MB): string {
  return prefix + unit.repeat(Math.ceil((size - prefix.length) / unit.length)).slice(0, size - prefix.length);
}

/** For each parsed file: a 10 MB line that starts like a real line of that file, and one of pure junk (plus a 1 MB brace run). */
export function tenMegabyteLines(): { name: string; file: ParsedFile; text: string }[] {
  const cases: { name: string; file: ParsedFile; text: string }[] = [
    {
      name: 'a 10 MB rule with an unclosed comment quote',
      file: 'iptables-save.txt',
      text: `*nat\n:PREROUTING ACCEPT [0:0]\n${longLine('-A PREROUTING -m comment --comment "', 'x ')}\nCOMMIT\n`,
    },
    { name: 'a 10 MB table name', file: 'iptables-save.txt', text: `${longLine('*', 'nat')}\nCOMMIT\n` },
    { name: 'a 10 MB route', file: 'route-local.txt', text: `${longLine('local 10.0.0.1 dev ', 'eth0 ')}\n` },
    { name: 'a 10 MB route with no line end', file: 'route-main.txt', text: longLine('default via 10.0.0.1 ', 'dev eth0 ') },
    {
      name: 'a 10 MB virtual server line',
      file: 'ipvsadm.txt',
      text: `IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n${longLine('TCP  10.96.0.1:443 rr ', 'persistent 1 ')}\n`,
    },
    { name: 'a 10 MB set name', file: 'ipset.txt', text: `${longLine('Name: ', 'KUBE-')}\nType: hash:ip\nMembers:\n10.0.0.1\n` },
    { name: 'a 10 MB members line', file: 'ipset.txt', text: `Name: S\nType: hash:ip,port\nMembers:\n${longLine('', '10.96.0.1,tcp:443 ')}\n` },
    {
      name: 'a 10 MB nft rule with an unbalanced quote',
      file: 'nft.txt',
      text: `table ip kube-proxy {\n\tchain services {\n${longLine('\t\tip daddr 10.96.0.1 comment "', 'ip daddr { ')}\n\t}\n}\n`,
    },
    // 1 MB, not 10: parseNft takes about a microsecond per brace (linear), and 10 MB cost 15 s on a busy machine.
    { name: 'a 1 MB nft line of opening braces', file: 'nft.txt', text: longLine('table ip t ', '{ ', 1024 * 1024) },
  ];
  for (const file of ['iptables-save.txt', 'route-local.txt', 'ipvsadm.txt', 'ipset.txt', 'nft.txt'] as const) {
    // Control, printable and Latin-1 characters in a scrambled order, but no line end: one 10 MB line of noise.
    let junk = '';
    for (let i = 0; junk.length < 4096; i++) junk += String.fromCharCode(1 + ((i * 7919) % 255));
    cases.push({ name: 'a 10 MB line of junk', file, text: longLine('', junk.replace(/\n/g, ' ')) });
  }
  return cases;
}

/**
 * For each parsed file: 2 MB of two-character junk lines, a diagnostic's worth of trouble every two bytes. A parser
 * that keeps one diagnostic per line holds ~66 bytes per input byte; 2 MB shows that as well as 10 MB, faster.
 */
export function manyJunkLines(): { name: string; file: ParsedFile; text: string }[] {
  const text = 'x\n'.repeat(1024 * 1024);
  return (['iptables-save.txt', 'route-local.txt', 'route-main.txt', 'ipvsadm.txt', 'ipset.txt', 'nft.txt'] as const).map((file) => ({
    name: 'a million junk lines',
    file,
    text,
  }));
}

/** `count` chains in the nat table, PREROUTING → C0 → C1 → … → C(count-1), the last one accepting. */
export function nestedIptablesJumps(count: number): SnapshotFiles {
  const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]'];
  for (let i = 0; i < count; i++) lines.push(`:C${i} - [0:0]`);
  lines.push('-A PREROUTING -j KUBE-SERVICES', '-A KUBE-SERVICES -j C0');
  for (let i = 0; i + 1 < count; i++) lines.push(`-A C${i} -j C${i + 1}`);
  lines.push(`-A C${count - 1} -j ACCEPT`, 'COMMIT', '');
  return { 'iptables-save.txt': lines.join('\n'), 'route-local.txt': ROUTE_LOCAL };
}

/** kube-proxy's nat table with a loop spliced into KUBE-SERVICES: A → B → A by jumps or by gotos, or a chain jumping to itself. */
export function iptablesJumpLoop(kind: 'two-chain' | 'self' | 'goto'): SnapshotFiles {
  const loop =
    kind === 'self'
      ? [':KUBE-LOOP - [0:0]', '-A KUBE-SERVICES -j KUBE-LOOP', '-A KUBE-LOOP -j KUBE-LOOP']
      : kind === 'goto'
        ? [':KUBE-A - [0:0]', ':KUBE-B - [0:0]', '-A KUBE-SERVICES -j KUBE-A', '-A KUBE-A -g KUBE-B', '-A KUBE-B -g KUBE-A']
        : [':KUBE-A - [0:0]', ':KUBE-B - [0:0]', '-A KUBE-SERVICES -j KUBE-A', '-A KUBE-A -j KUBE-B', '-A KUBE-B -j KUBE-A'];
  const declarations = loop.filter((line) => line.startsWith(':'));
  const rules = loop.filter((line) => line.startsWith('-A'));
  const text = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SVC-LOOPTEST - [0:0]',
    ...declarations,
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    ...rules,
    '-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/loop:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-LOOPTEST',
    '-A KUBE-SVC-LOOPTEST -m comment --comment "default/loop:http -> 10.244.1.5:80" -j DNAT --to-destination 10.244.1.5:80',
    'COMMIT',
    '',
  ].join('\n');
  return { 'iptables-save.txt': text, 'route-local.txt': ROUTE_LOCAL };
}

/** An unknown table, and a rule with an unknown match module in front of a Service's DROP, in a kube-proxy nat table. */
export function unknownTableAndModule(): SnapshotFiles {
  const text = [
    '*frobnicate',
    ':PREROUTING ACCEPT [0:0]',
    ':WIBBLE - [0:0]',
    '-A PREROUTING -m wobble --wobble 3 -j WIBBLE',
    '-A WIBBLE -j FROB --frob-level 11',
    'COMMIT',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    '-A FORWARD -d 10.244.1.5/32 -m frobnicate --frob 1 -j DROP',
    'COMMIT',
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SVC-UNKNOWNMOD - [0:0]',
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-UNKNOWNMOD',
    '-A KUBE-SVC-UNKNOWNMOD -m comment --comment "default/web:http -> 10.244.1.5:80" -j DNAT --to-destination 10.244.1.5:80',
    'COMMIT',
    '',
  ].join('\n');
  return { 'iptables-save.txt': text, 'route-local.txt': ROUTE_LOCAL };
}

/** kube-proxy's nftables table with `body` chains reached from its nat prerouting base chain. */
function nftKubeProxy(entry: string, chains: string[]): SnapshotFiles {
  const text = [
    'table ip kube-proxy {',
    '\tchain nat-prerouting {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    `\t\tjump ${entry}`,
    '\t}',
    ...chains,
    '}',
    '',
  ].join('\n');
  return { 'nft.txt': text, 'route-local.txt': ROUTE_LOCAL };
}

export function nestedNftJumps(count: number): SnapshotFiles {
  const chains: string[] = [];
  for (let i = 0; i < count; i++) {
    chains.push(`\tchain c${i} {`, i + 1 < count ? `\t\tjump c${i + 1}` : '\t\tdrop', '\t}');
  }
  return nftKubeProxy('c0', chains);
}

export function nftJumpLoop(kind: 'two-chain' | 'self'): SnapshotFiles {
  const chains =
    kind === 'self'
      ? ['\tchain services {', '\t\tjump services', '\t}']
      : ['\tchain services {', '\t\tjump service-b', '\t}', '\tchain service-b {', '\t\tjump services', '\t}'];
  return nftKubeProxy('services', chains);
}

/**
 * `count` random halvings in a row, each to a chain that sets its own mark bit: 2^count distinct paths, so the
 * tracer's split budget, not the input's size, has to stop the walk.
 */
export function iptablesSplitExplosion(count: number): SnapshotFiles {
  const declarations: string[] = [];
  const rules: string[] = [];
  for (let i = 0; i < count; i++) {
    declarations.push(`:KUBE-HALF-${i} - [0:0]`);
    rules.push(`-A KUBE-SVC-SPLIT -m statistic --mode random --probability 0.5000000000 -j KUBE-HALF-${i}`);
    rules.push(`-A KUBE-HALF-${i} -j MARK --or-mark 0x${(1 << i % 31).toString(16)}`);
  }
  const text = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SVC-SPLIT - [0:0]',
    ...declarations,
    '-A PREROUTING -j KUBE-SERVICES',
    '-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/split:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-SPLIT',
    ...rules,
    '-A KUBE-SVC-SPLIT -j DNAT --to-destination 10.244.1.5:80',
    'COMMIT',
    '',
  ].join('\n');
  return { 'iptables-save.txt': text, 'route-local.txt': ROUTE_LOCAL };
}

/** `count` `numgen random mod 2` splits in a row, both halves jumping to the same chain: 2^count paths. */
export function nftSplitExplosion(count: number): SnapshotFiles {
  const splits = Array.from({ length: count }, () => '\t\tnumgen random mod 2 vmap { 0 : jump half, 1 : jump half }');
  return nftKubeProxy('splits', ['\tchain splits {', ...splits, '\t}', '\tchain half {', '\t\tmeta mark set 0x1', '\t}']);
}

/**
 * `logs` LOG rules that every packet passes, then `halvings` random halvings: every split copies a path that is
 * already `logs` steps long, so the cost of a split grows with the path, not only with the number of splits.
 */
export function iptablesLongPathSplits(logs: number, halvings: number): SnapshotFiles {
  const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]'];
  for (let i = 0; i < halvings; i++) lines.push(`:KUBE-HALF-${i} - [0:0]`);
  lines.push('-A PREROUTING -j KUBE-SERVICES');
  for (let i = 0; i < logs; i++) lines.push(`-A KUBE-SERVICES -j LOG --log-prefix "seen-${i} "`);
  for (let i = 0; i < halvings; i++) {
    lines.push(`-A KUBE-SERVICES -m statistic --mode random --probability 0.5000000000 -j KUBE-HALF-${i}`);
    lines.push(`-A KUBE-HALF-${i} -j MARK --or-mark 0x${(1 << i % 31).toString(16)}`);
  }
  lines.push('COMMIT', '');
  return { 'iptables-save.txt': lines.join('\n'), 'route-local.txt': ROUTE_LOCAL };
}

/** The nftables form of iptablesLongPathSplits: `jumps` jumps to an empty chain, then `halvings` numgen halvings. */
export function nftLongPathSplits(jumps: number, halvings: number): SnapshotFiles {
  const path = Array.from({ length: jumps }, () => '\t\tip daddr 10.96.0.10 jump noop');
  const splits = Array.from({ length: halvings }, () => '\t\tnumgen random mod 2 vmap { 0 : jump half, 1 : jump half }');
  return nftKubeProxy('long', ['\tchain long {', ...path, ...splits, '\t}', '\tchain noop {', '\t}', '\tchain half {', '\t\tmeta mark set 0x1', '\t}']);
}
