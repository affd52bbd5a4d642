import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseIpvsadm } from '../../src/core/ipvs/parseIpvsadm';
import type { VirtualServer } from '../../src/core/ipvs/model';

const summary = (servers: VirtualServer[]): string[] =>
  servers.map((vs) => {
    const target = vs.protocol === 'FWM' ? `FWM ${vs.fwmark}` : `${vs.protocol} ${vs.address}:${vs.port}`;
    const reals = vs.realServers.map((rs) => `${rs.address}:${rs.port}/${rs.forward}/${rs.weight}`).join(' ');
    return `${target} ${vs.scheduler}${reals ? ` -> ${reals}` : ''}`;
  });

test('reads the sample node listing: 17 virtual servers with their real servers, lines and raw text', () => {
  const text = readFileSync('samples/ipvs-seed003/ipvsadm.txt', 'utf8');
  const { value, diagnostics } = parseIpvsadm(text);
  assert.deepEqual(diagnostics, []);
  assert.equal(value.form, 'list');
  assert.equal(value.version, 'IP Virtual Server version 1.2.1 (size=4096)');
  assert.equal(value.virtualServers.length, 17);
  const cluster = value.virtualServers.find((vs) => vs.address === '172.18.13.113')!;
  assert.equal(cluster.port, 8082);
  assert.equal(cluster.scheduler, 'rr');
  assert.equal(cluster.line, 19);
  assert.equal(cluster.raw, 'TCP  172.18.13.113:8082 rr');
  assert.deepEqual(cluster.realServers.map((rs) => [rs.address, rs.port, rs.forward, rs.weight, rs.activeConn, rs.inactiveConn, rs.line]), [
    ['10.0.3.5', 8080, 'Masq', 1, 0, 0, 20],
    ['10.0.3.7', 8080, 'Masq', 1, 0, 0, 21],
  ]);
  assert.equal(cluster.realServers[0]!.raw, '  -> 10.0.3.5:8080                Masq    1      0          0');
  const lines = text.split('\n');
  for (const vs of value.virtualServers) {
    assert.equal(lines[vs.line - 1]!.trimEnd(), vs.raw);
    for (const rs of vs.realServers) assert.equal(lines[rs.line - 1]!.trimEnd(), rs.raw);
  }
});

test('reads seed 003 as the web page folded it: servers run together after the scheduler and after each other', () => {
  const folded = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags-> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    'TCP  127.0.0.1:30001 rr',
    'TCP  127.0.0.1:30002 rr-> 10.0.3.5:8080                Masq    1      0          0         -> 10.0.3.7:8080                Masq    1      0          0         ',
    'TCP  172.18.13.1:443 rr-> 192.168.204.142:6443         Masq    1      0          0         ',
  ].join('\n');
  const { value, diagnostics } = parseIpvsadm(folded);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(summary(value.virtualServers), [
    'TCP 127.0.0.1:30001 rr',
    'TCP 127.0.0.1:30002 rr -> 10.0.3.5:8080/Masq/1 10.0.3.7:8080/Masq/1',
    'TCP 172.18.13.1:443 rr -> 192.168.204.142:6443/Masq/1',
  ]);
  const second = value.virtualServers[1]!;
  assert.equal(second.line, 4);
  assert.deepEqual(second.realServers.map((rs) => rs.line), [4, 4]);
  assert.equal(second.realServers[1]!.raw, '-> 10.0.3.7:8080 Masq 1 0 0');
});

test('reads seed 001\'s copy, where "->" lost its ">" and prose follows on the same line, and reports the prose', () => {
  const line =
    'Prot LocalAddress:Port Scheduler Flags - RemoteAddress:Port Forward Weight ActiveConn InActConn TCP 10.101.57.97:80 rr - 10.244.0.27:80 Masq 1 0 0 - 10.244.0.28:80 Masq 1 0 0 - 10.244.0.30:80 Masq 1 0 0 UDP 10.96.0.10:53 rr 这个的意思是到10.101.57.97:80 的 tcp';
  const { value, diagnostics } = parseIpvsadm(`sudo ipvsadm -Ln\n${line}`);
  assert.deepEqual(summary(value.virtualServers), [
    'TCP 10.101.57.97:80 rr -> 10.244.0.27:80/Masq/1 10.244.0.28:80/Masq/1 10.244.0.30:80/Masq/1',
    'UDP 10.96.0.10:53 rr',
  ]);
  assert.deepEqual(diagnostics.map((d) => [d.line, d.severity]), [[1, 'warning'], [2, 'warning']]);
  assert.match(diagnostics[1]!.message, /这个的意思是到/);
});

test('reads IPv6 virtual and real servers, persistence, ops and firewall-mark services', () => {
  const text = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    'TCP  [2001:DB8::1]:443 sh persistent 10800 mask 255.255.255.0',
    '  -> [fd00:10:244::5]:8443        Masq    2      7          1         ',
    'UDP  10.96.0.10:53 rr ops',
    'FWM  100 wrr',
    '  -> 10.0.0.5:0                   Route   1      0          0         ',
    'FWM  200 IPv6 rr',
  ].join('\n');
  const { value, diagnostics } = parseIpvsadm(text);
  assert.deepEqual(diagnostics, []);
  const [v6, udp, fwm, fwm6] = value.virtualServers;
  assert.equal(v6!.address, '2001:db8::1');
  assert.equal(v6!.persistentSeconds, 10800);
  assert.deepEqual(v6!.flags, ['persistent', '10800', 'mask', '255.255.255.0']);
  assert.deepEqual([v6!.realServers[0]!.address, v6!.realServers[0]!.port, v6!.realServers[0]!.weight, v6!.realServers[0]!.activeConn], ['fd00:10:244::5', 8443, 2, 7]);
  assert.deepEqual(udp!.flags, ['ops']);
  assert.equal(udp!.persistentSeconds, undefined);
  assert.deepEqual([fwm!.protocol, fwm!.fwmark, fwm!.scheduler, fwm!.realServers[0]!.forward], ['FWM', 100, 'wrr', 'Route']);
  assert.deepEqual([fwm6!.fwmark, fwm6!.scheduler], [200, 'rr']);
});

test('reads the --stats and --rate listings, expanding K/M suffixes; they carry no scheduler or weights', () => {
  const stats = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes',
    '  -> RemoteAddress:Port',
    'TCP  10.96.0.1:443                      12      360      300    3260K    9802K',
    '  -> 172.18.0.3:6443                    12      360      300    3260K    9802K',
    'UDP  10.96.0.10:53                     150      150      150     9600    2M',
  ].join('\n');
  const parsed = parseIpvsadm(stats);
  assert.deepEqual(parsed.diagnostics, []);
  assert.equal(parsed.value.form, 'stats');
  const [api, dns] = parsed.value.virtualServers;
  assert.equal(api!.scheduler, '');
  assert.deepEqual(api!.counters, { columns: ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'], values: [12, 360, 300, 3_260_000, 9_802_000] });
  assert.equal(api!.realServers[0]!.weight, undefined);
  assert.deepEqual(api!.realServers[0]!.counters?.values, [12, 360, 300, 3_260_000, 9_802_000]);
  assert.deepEqual(dns!.counters?.values, [150, 150, 150, 9600, 2_000_000]);

  const rate = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS',
    '  -> RemoteAddress:Port',
    'TCP  10.96.0.1:443                       1        4        3      320     1200',
    '  -> 172.18.0.3:6443                     1        4        3      320     1200',
  ].join('\n');
  const rated = parseIpvsadm(rate);
  assert.equal(rated.value.form, 'rate');
  assert.deepEqual(rated.value.virtualServers[0]!.counters?.columns, ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS']);
  assert.equal(rated.value.virtualServers[0]!.realServers.length, 1);
});

test('reads the -S -n save form, attaching -a lines to their -A service by key', () => {
  const save = [
    '-A -t 10.96.0.1:443 -s rr',
    '-A -u 10.96.0.10:53 -s wrr -p 10800',
    '-a -t 10.96.0.1:443 -r 172.18.0.3:6443 -m -w 1',
    '-a -u 10.96.0.10:53 -r 10.244.0.2:53 -m -w 3',
    '-a -u 10.96.0.10:53 -r 10.244.0.3:53 -g -w 0',
    '-A --sctp-service [fd00::10]:3868 -s mh -b mh-fallback',
    '-a --sctp-service [fd00::10]:3868 -r [fd00::20]:3868 -i -w 2',
    '-A -f 7 -s rr',
  ].join('\n');
  const { value, diagnostics } = parseIpvsadm(save);
  assert.deepEqual(diagnostics, []);
  assert.equal(value.form, 'save');
  assert.deepEqual(summary(value.virtualServers), [
    'TCP 10.96.0.1:443 rr -> 172.18.0.3:6443/Masq/1',
    'UDP 10.96.0.10:53 wrr -> 10.244.0.2:53/Masq/3 10.244.0.3:53/Route/0',
    'SCTP fd00::10:3868 mh -> fd00::20:3868/Tunnel/2',
    'FWM 7 rr',
  ]);
  assert.equal(value.virtualServers[1]!.persistentSeconds, 10800);
  assert.deepEqual(value.virtualServers[2]!.flags, ['(mh-fallback)']);
  assert.equal(value.virtualServers[0]!.realServers[0]!.line, 3);
});

test('garbage lines become warnings with their line numbers; records around them survive', () => {
  const text = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    'TCP  10.96.0.1:443 rr',
    'this is not ipvsadm output',
    '  -> 172.18.0.3:6443              Masq    1      0          0         ',
    'TCP  10.96.0.99:99999 rr',
    '  -> 10.0.0.1:80                  Masq    x      0          0         ',
    '-a -t 10.1.1.1:80 -r 10.2.2.2:80 -m',
    '-A -x',
  ].join('\n');
  const { value, diagnostics } = parseIpvsadm(text);
  assert.deepEqual(summary(value.virtualServers), ['TCP 10.96.0.1:443 rr -> 172.18.0.3:6443/Masq/1 10.0.0.1:80/Masq/undefined', 'TCP 10.1.1.1:80  -> 10.2.2.2:80/Masq/1']);
  const lines = new Set(diagnostics.map((d) => d.line));
  for (const line of [5, 7, 8, 9, 10]) assert.ok(lines.has(line), `expected a diagnostic on line ${line}: ${JSON.stringify(diagnostics)}`);
  assert.ok(!lines.has(4) && !lines.has(6));
});

test('a listing made with names instead of numbers is reported with a hint to use -n', () => {
  const { value, diagnostics } = parseIpvsadm('TCP  kubernetes.default:https rr\n  -> master:6443 Masq 1 0 0\n');
  assert.equal(value.virtualServers.length, 0);
  assert.ok(diagnostics.some((d) => /-Ln/.test(d.message)));
});

test('an empty table parses to no virtual servers without errors', () => {
  const { value, diagnostics } = parseIpvsadm('IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n');
  assert.equal(value.virtualServers.length, 0);
  assert.ok(diagnostics.every((d) => d.severity !== 'error'));
});

test('never throws, and every diagnostic points at a line of the input', () => {
  const pieces = fc.constantFrom('TCP', 'UDP', 'SCTP', 'FWM', '->', '-', 'rr', 'wrr', 'persistent', 'Masq', '1', '0', '10.0.0.1:80', '[fd00::1]:53', '-A', '-a', '-t', '-r', 'Prot', 'LocalAddress:Port', '\n', ' ', 'K', '999999', 'IPv6');
  fc.assert(
    fc.property(fc.array(fc.oneof(pieces, fc.string()), { maxLength: 60 }), (parts) => {
      const text = parts.join(' ');
      const { value, diagnostics } = parseIpvsadm(text);
      const lineCount = text.split(/\r?\n/).length;
      for (const d of diagnostics) assert.ok(d.line >= 0 && d.line <= lineCount);
      for (const vs of value.virtualServers) {
        assert.ok(vs.line >= 1 && vs.line <= lineCount);
        assert.ok(vs.port >= 0 && vs.port <= 65535);
      }
    }),
    { numRuns: 400 },
  );
});

test('reads real-server columns from the header, as --persistent-conn and --thresholds change them', () => {
  const text = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight PersistConn ActiveConn InActConn',
    'TCP  10.96.0.1:443 rr persistent 10800',
    '  -> 172.18.0.3:6443              Masq    2      5           7          9         ',
  ].join('\n');
  const { value, diagnostics } = parseIpvsadm(text);
  assert.deepEqual(diagnostics, []);
  const rs = value.virtualServers[0]!.realServers[0]!;
  assert.deepEqual([rs.forward, rs.weight, rs.activeConn, rs.inactiveConn], ['Masq', 2, 7, 9]);
});

test('a huge line is quoted briefly in its diagnostic', () => {
  const huge = 'y'.repeat(1_000_000);
  const { diagnostics } = parseIpvsadm(`TCP  10.0.0.1:80 ${huge}\n${huge}\n-A -t 10.0.0.2:80 -s ${huge} ${huge}\n-a -t 10.0.0.2:80 -r ${huge}`);
  assert.ok(diagnostics.length >= 3);
  for (const d of diagnostics) assert.ok(d.message.length < 400, d.message.slice(0, 100));
});
