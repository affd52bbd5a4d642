import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseIpset } from '../../src/core/ipset/parseIpset';

test('reads every set of the sample node\'s ipset -L with type, header, references and members', () => {
  const { value, diagnostics } = parseIpset(readFileSync('samples/ipvs-seed003/ipset.txt', 'utf8'));
  assert.deepEqual(diagnostics, []);
  assert.equal(value.sets.length, 17);
  const cluster = value.get('KUBE-CLUSTER-IP')!;
  assert.equal(cluster.type, 'hash:ip,port');
  assert.deepEqual(cluster.dimensions, ['ip', 'port']);
  assert.equal(cluster.family, 'inet');
  assert.equal(cluster.header['hashsize'], '1024');
  assert.equal(cluster.references, 3);
  assert.equal(cluster.declaredEntries, 5);
  assert.deepEqual(cluster.members.map((m) => m.element).sort(), [
    '172.18.13.1,tcp:443', '172.18.13.113,tcp:8082', '172.18.13.187,tcp:3306', '172.18.13.222,tcp:80', '172.18.13.31,tcp:80',
  ]);
  const nodePorts = value.get('KUBE-NODE-PORT-TCP')!;
  assert.equal(nodePorts.type, 'bitmap:port');
  assert.equal(nodePorts.family, undefined);
  assert.equal(nodePorts.header['range'], '0-65535');
  assert.deepEqual(nodePorts.members.map((m) => m.element), ['30001', '30002', '30094']);
  assert.equal(value.get('KUBE-LOOP-BACK')!.members.length, 0);
  assert.equal(value.get('KUBE-IPVS-IPS')!.dimensions.join(), 'ip');
  assert.equal(value.get('NO-SUCH-SET'), undefined);
});

test('member lines keep their line numbers and raw text', () => {
  const text = readFileSync('samples/ipvs-seed003/ipset.txt', 'utf8');
  const lines = text.split('\n');
  const { value } = parseIpset(text);
  for (const set of value.sets) {
    assert.match(lines[set.line - 1]!, new RegExp(`^Name: ${set.name}$`));
    for (const member of set.members) assert.equal(lines[member.line - 1], member.raw);
  }
});

test('reads the ipset save form with the same content as the list form', () => {
  const save = [
    'create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0xe4e21451',
    'add KUBE-LOOP-BACK 10.244.0.28,tcp:80,10.244.0.28',
    'add KUBE-LOOP-BACK 10.244.0.29,udp:53,10.244.0.29',
    'create KUBE-NODE-PORT-TCP bitmap:port range 0-65535',
    'add KUBE-NODE-PORT-TCP 30001',
    'create KUBE-6-CLUSTER-IP hash:ip,port family inet6 hashsize 1024 maxelem 65536',
    'add KUBE-6-CLUSTER-IP fd00:10:96::a,udp:53',
  ].join('\n');
  const { value, diagnostics } = parseIpset(save);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(value.sets.map((set) => [set.name, set.type, set.members.length, set.line]), [
    ['KUBE-LOOP-BACK', 'hash:ip,port,ip', 2, 1],
    ['KUBE-NODE-PORT-TCP', 'bitmap:port', 1, 4],
    ['KUBE-6-CLUSTER-IP', 'hash:ip,port', 1, 6],
  ]);
  assert.equal(value.get('KUBE-6-CLUSTER-IP')!.family, 'inet6');
  assert.equal(value.get('KUBE-LOOP-BACK')!.members[1]!.line, 3);
});

test('reads member comments (quoted, with spaces), timeouts, counters and nomatch', () => {
  const text = [
    'Name: allow',
    'Type: hash:net',
    'Revision: 7',
    'Header: family inet hashsize 1024 maxelem 65536 timeout 600 counters comment bucketsize 12 initval 0x1',
    'Size in memory: 900',
    'References: 1',
    'Number of entries: 2',
    'Members:',
    '10.0.0.0/8 timeout 598 packets 12 bytes 720 comment "kube-system/kube-dns:dns office range"',
    '10.1.0.0/16 timeout 12 packets 0 bytes 0 nomatch',
  ].join('\n');
  const { value, diagnostics } = parseIpset(text);
  assert.deepEqual(diagnostics, []);
  const set = value.get('allow')!;
  assert.deepEqual(set.header, { family: 'inet', hashsize: '1024', maxelem: '65536', timeout: '600', counters: '', comment: '', bucketsize: '12', initval: '0x1' });
  const [first, second] = set.members;
  assert.deepEqual([first!.element, first!.timeout, first!.comment, first!.nomatch, first!.options], ['10.0.0.0/8', 598, 'kube-system/kube-dns:dns office range', false, ['packets', '12', 'bytes', '720']]);
  assert.deepEqual([second!.element, second!.timeout, second!.comment, second!.nomatch], ['10.1.0.0/16', 12, undefined, true]);
});

test('garbage and inconsistent lines become warnings with their line numbers', () => {
  const text = [
    'Type: hash:ip',
    'Name: A',
    'Type: hash:ip,port',
    'Number of entries: 3',
    'Members:',
    '10.0.0.1,tcp:80',
    '10.0.0.2',
    '',
    'random words here',
    'add MISSING 10.0.0.1',
    'Name: B',
    'Type: hash:strange',
    'Members:',
    'whatever',
  ].join('\n');
  const { value, diagnostics } = parseIpset(text);
  const byLine = new Map(diagnostics.map((d) => [d.line, d]));
  for (const line of [1, 2, 7, 9, 10, 12]) assert.ok(byLine.has(line), `expected a diagnostic on line ${line}: ${JSON.stringify(diagnostics)}`);
  assert.match(byLine.get(2)!.message, /declares 3 entries but lists 2/);
  assert.equal(value.get('A')!.members.length, 2);
  assert.deepEqual(value.get('B')!.dimensions, []);
});

test('never throws, and diagnostics stay within the input', () => {
  const pieces = fc.constantFrom('Name: X', 'Type: hash:ip,port', 'Type: bitmap:port', 'Header: family inet', 'Members:', 'create X hash:ip', 'add X 1.2.3.4', 'comment "a b', '"', '10.0.0.1,tcp:80', '\n', '', 'timeout');
  fc.assert(
    fc.property(fc.array(fc.oneof(pieces, fc.string()), { maxLength: 40 }), (parts) => {
      const text = parts.join('\n');
      const { value, diagnostics } = parseIpset(text);
      const lineCount = text.split(/\r?\n/).length;
      for (const d of diagnostics) assert.ok(d.line >= 0 && d.line <= lineCount);
      for (const set of value.sets) for (const member of set.members) assert.ok(member.line >= 1 && member.line <= lineCount);
    }),
    { numRuns: 400 },
  );
});

test('reads seed 001\'s KUBE-LOOP-BACK listing, which the web page folded onto one line', () => {
  const folded =
    'Name: KUBE-LOOP-BACK Type: hash:ip,port,ip Revision: 6 Header: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0xe4e21451 Size in memory: 544 References: 1 Number of entries: 6 Members: 10.244.0.28,tcp:80,10.244.0.28 10.244.0.30,tcp:80,10.244.0.30 10.244.0.29,tcp:9153,10.244.0.29 10.244.0.29,tcp:53,10.244.0.29 10.244.0.27,tcp:80,10.244.0.27 10.244.0.29,udp:53,10.244.0.29';
  const { value, diagnostics } = parseIpset(`rootminikube:/etc/apt# ipset -L|grep -A 15 KUBE-LOOP-BACK\n${folded}`);
  assert.deepEqual(diagnostics.map((d) => d.line), [1]);
  const set = value.get('KUBE-LOOP-BACK')!;
  assert.deepEqual([set.type, set.revision, set.family, set.references, set.declaredEntries, set.header['initval']], ['hash:ip,port,ip', 6, 'inet', 1, 6, '0xe4e21451']);
  assert.equal(set.members.length, 6);
  assert.ok(set.members.every((member) => member.line === 2));
  assert.equal(set.members[5]!.element, '10.244.0.29,udp:53,10.244.0.29');
});

test('folded members keep their options', () => {
  const { value } = parseIpset('Name: S Type: hash:net Header: family inet comment timeout 60 Members: 10.0.0.0/8 timeout 50 comment "a b" 10.1.0.0/16 nomatch timeout 3 11.0.0.0/8');
  assert.deepEqual(value.get('S')!.members.map((m) => [m.element, m.timeout, m.comment, m.nomatch]), [
    ['10.0.0.0/8', 50, 'a b', false],
    ['10.1.0.0/16', 3, undefined, true],
    ['11.0.0.0/8', undefined, undefined, false],
  ]);
});

test('a huge line is quoted briefly in its diagnostic', () => {
  const huge = 'x'.repeat(1_000_000);
  const { diagnostics } = parseIpset(`Name: ${huge}\nType: hash:ip,port\nMembers:\n${huge}\n${huge} ${huge}`);
  assert.ok(diagnostics.length > 0);
  for (const d of diagnostics) assert.ok(d.message.length < 400, d.message.slice(0, 100));
});
