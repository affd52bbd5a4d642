import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeSnapshot } from '../../src/core/analyze';
import { explainIpsetAt } from '../../src/core/explain/explainIpset';
import { explainIpvsadmAt } from '../../src/core/explain/explainIpvsadm';
import { explainRouteAt } from '../../src/core/explain/explainRoutes';
import { traceToMarkdown } from '../../src/core/explain/traceMarkdown';
import { tracePacket } from '../../src/core/trace/tracePacket';
import { readSnapshotFolder } from '../../src/node/snapshotFolder';
import { loadShop } from './helpers';

const IPVS_SAMPLE = join(import.meta.dirname, '../../samples/ipvs-seed003');

const weighted = [
  'IP Virtual Server version 1.2.1 (size=4096)',
  'Prot LocalAddress:Port Scheduler Flags',
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  'TCP  10.96.5.5:80 wrr persistent 10800',
  '  -> 10.244.1.5:8080              Masq    3      2          0',
  '  -> 10.244.2.6:8080              Masq    1      0          1',
  '  -> 10.244.3.7:8080              Masq    0      0          0',
  'UDP  10.96.0.10:53 rr',
];

function at(lines: string[], line: number, word: string) {
  return explainIpvsadmAt((index) => lines[index], line, lines[line - 1]!.indexOf(word));
}

test('a real server\'s share comes from its weight among the virtual server\'s', () => {
  assert.match(at(weighted, 5, '10.244.1.5')!.markdown, /\*\*75%\*\*/);
  assert.match(at(weighted, 6, '10.244.2.6')!.markdown, /\*\*25%\*\*/);
  assert.match(at(weighted, 7, '10.244.3.7')!.markdown, /\*\*0%\*\*/);
  assert.match(at(weighted, 7, '0      0')!.markdown, /weight 0 takes no new connections/i);
});

test('under rr every real server with weight above 0 gets an equal share, whatever its weight', () => {
  const roundRobin = weighted.map((text) => text.replace(' wrr', ' rr'));
  assert.match(at(roundRobin, 5, '10.244.1.5')!.markdown, /\*\*50%\*\*/);
  assert.match(at(roundRobin, 6, '10.244.2.6')!.markdown, /\*\*50%\*\*/);
  assert.match(at(roundRobin, 7, '10.244.3.7')!.markdown, /\*\*0%\*\*/);
});

test('schedulers, forwarding and persistence say what they do', () => {
  assert.match(at(weighted, 4, 'wrr')!.markdown, /weighted round robin/);
  assert.match(at(weighted, 5, 'Masq')!.markdown, /masquerading/);
  assert.match(at(weighted, 4, 'persistent')!.markdown, /10800 seconds/);
  assert.match(at(weighted, 8, 'rr')!.markdown, /round robin/);
});

test('a virtual server without real servers is called out', () => {
  assert.match(at(weighted, 8, '10.96.0.10:53')!.markdown, /no real servers/);
  assert.doesNotMatch(at(weighted, 4, '10.96.5.5:80')!.markdown, /no real servers/);
});

test('in an IPVS snapshot, kube-ipvs0 and its addresses are explained', async () => {
  const analysis = analyzeSnapshot(await readSnapshotFolder(IPVS_SAMPLE));
  const routes = readFileSync(join(IPVS_SAMPLE, 'route-local.txt'), 'utf8').split('\n');
  const line = routes.find((each) => each.includes('dev kube-ipvs0'))!;
  assert.match(explainRouteAt(line, line.indexOf('kube-ipvs0') + 2, analysis.services)!.markdown, /LOCAL_IN/);
  const address = explainRouteAt(line, line.indexOf(' ') + 2, analysis.services)!.markdown;
  assert.match(address, /bound to kube-ipvs0 because it is a Service IP/);
  assert.match(explainRouteAt(line, 1, analysis.services)!.markdown, /belongs to this node/);
});

test('ipset names, types and members are explained', async () => {
  const analysis = analyzeSnapshot(await readSnapshotFolder(IPVS_SAMPLE));
  assert.match(explainIpsetAt('Name: KUBE-CLUSTER-IP', 8)!.markdown, /kube-proxy ipset \(hash:ip,port\)\. Every Service ClusterIP/);
  assert.match(explainIpsetAt('Name: KUBE-6-LOOP-BACK', 8)!.markdown, /hairpin/, 'the IPv6 twin of a set is explained too');
  assert.equal(explainIpsetAt('Name: MY-OWN-SET', 8), undefined);
  assert.match(explainIpsetAt('Type: hash:ip,port', 8)!.markdown, /set type/);
  const ipset = readFileSync(join(IPVS_SAMPLE, 'ipset.txt'), 'utf8').split('\n');
  const member = ipset.find((line) => /^172\.18\.13\.1,tcp:443/.test(line))!;
  assert.ok(member, 'the sample lists the kubernetes Service ClusterIP');
  const explanation = explainIpsetAt(member, 2, analysis.services)!.markdown;
  assert.match(explanation, /tcp port 443/);
});

test('a trace copied as Markdown has one row per outcome and keeps node text inert', async () => {
  const analysis = await loadShop();
  const result = tracePacket(analysis, { src: '10.0.0.11', dst: '10.96.120.15', proto: 'tcp', sport: 40000, dport: 80 });
  const markdown = traceToMarkdown(result, 'worker-1');
  const rows = markdown.split('\n').filter((line) => /^\| 33\.3% \| ACCEPT \|/.test(line));
  assert.equal(rows.length, 3);
  for (const ip of ['10.244.1.5', '10.244.2.6', '10.244.3.7']) assert.ok(markdown.includes(ip.replace(/\./g, '\\.')), ip);
  assert.match(markdown, /`-A KUBE-SVC-7EJNTS7AENER2WX5 .*<img src=x onerror=alert\(1\)>.*`/, 'the hostile rule stays inside a code span');
  assert.doesNotMatch(markdown.replace(/`[^`\n]*`/g, ''), /<img/, 'no raw markup outside code spans');
});
