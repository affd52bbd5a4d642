import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIptablesSave } from '../../src/core/iptables/parseIptablesSave';
import { explainIptablesAt, cascadeShare, ruleAtLine } from '../../src/core/explain/explainIptables';
import type { ServiceTree } from '../../src/core/services/model';

const text = readFileSync(join(import.meta.dirname, 'fixtures/iptables-shop/iptables-save.txt'), 'utf8');
const lines = text.split('\n');
const ruleset = parseIptablesSave(text).value;

/** Hover at the first occurrence of `needle` on the first line that contains `lineNeedle`. */
function hover(lineNeedle: string, needle: string, services?: ServiceTree) {
  const index = lines.findIndex((line) => line.includes(lineNeedle));
  assert.ok(index >= 0, `fixture has a line with ${lineNeedle}`);
  const column = lines[index]!.indexOf(needle);
  assert.ok(column >= 0);
  return explainIptablesAt(lines[index]!, index + 1, column + 1, { ruleset, services });
}

const webService: ServiceTree = {
  mode: 'iptables',
  warnings: [],
  services: [
    {
      id: 'shop/web:http', namespace: 'shop', name: 'web', portName: 'http', protocol: 'tcp',
      clusterIP: { ip: '10.96.120.15', port: 80 }, nodePort: 30080, externalIPs: [], loadBalancerIPs: [], sourceRanges: [],
      externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', sessionAffinitySeconds: null,
      endpoints: [{ ip: '10.244.1.5', port: 8080, share: 1 / 3, chain: 'KUBE-SEP-2ZXBGXPVPCHSVMRK' }],
      path: [{ label: 'KUBE-SVC-7EJNTS7AENER2WX5', kind: 'service-chain', children: [] }],
      warnings: [],
    },
  ],
};

test('the cascade 0.333, 0.5, rest gives each endpoint a third', () => {
  const chain = ruleset.tables.get('nat')!.chains.get('KUBE-SVC-7EJNTS7AENER2WX5')!;
  const shares = chain.rules.map((rule) => cascadeShare(chain, rule));
  assert.equal(shares[0], undefined, 'the KUBE-MARK-MASQ rule takes no packets');
  for (const share of shares.slice(1)) assert.ok(Math.abs(share! - 1 / 3) < 1e-6, `share ${share}`);
});

test('a probability explains the real share of the endpoint it leads to', () => {
  const explanation = hover('--probability 0.50000000000', '0.5');
  assert.ok(explanation);
  assert.match(explanation.markdown, /matches 50% of what reaches it/);
  assert.match(explanation.markdown, /\*\*33\.3%\*\*/);
  assert.match(explanation.markdown, /10\\\.244\\\.2\\\.6:8080/);
});

test('a KUBE-SVC chain names its Service, ClusterIP and endpoints', () => {
  const explanation = hover(':KUBE-SVC-7EJNTS7AENER2WX5', 'KUBE-SVC', webService);
  assert.ok(explanation);
  assert.match(explanation.markdown, /shop\/web:http/);
  assert.match(explanation.markdown, /ClusterIP 10\\\.96\\\.120\\\.15:80/);
  assert.match(explanation.markdown, /33\.3% of new connections/);
  assert.match(explanation.markdown, /rules in nat jump here/);
  assert.equal(explanation.start, 0);
});

test('a KUBE-SVC chain no Service uses is called stale', () => {
  const explanation = hover(':KUBE-SVC-TCOU7JCQXEZGVUNU', 'KUBE-SVC', webService);
  assert.match(explanation!.markdown, /stale chain/);
});

test('0x4000 and KUBE-MARK-MASQ explain masquerade', () => {
  assert.match(hover('-A KUBE-MARK-MASQ -j MARK', '0x4000')!.markdown, /masquerade mark/);
  assert.match(hover('-A KUBE-EXT-7EJNTS7AENER2WX5 -m comment', 'KUBE-MARK-MASQ')!.markdown, /0x4000/);
});

test('match modules say what they test', () => {
  assert.match(hover('--dst-type LOCAL', 'LOCAL')!.markdown, /address of this node/);
  const ctstate = hover('! --ctstate RELATED,ESTABLISHED,DNAT', 'RELATED')!.markdown;
  assert.match(ctstate, /Negated/);
  assert.match(ctstate, /ESTABLISHED/);
});

test('a hostile comment is escaped in the Markdown', () => {
  const line = lines.findIndex((each) => each.includes('onerror'));
  const rule = ruleAtLine(ruleset, line + 1, lines[line]!);
  assert.equal(rule?.chain, 'KUBE-SVC-7EJNTS7AENER2WX5');
  const explanation = hover('onerror', '<img');
  assert.ok(explanation);
  assert.doesNotMatch(explanation.markdown, /<img/);
});

test('white space explains nothing', () => {
  assert.equal(explainIptablesAt('-A KUBE-SERVICES  -j X', 1, 17, { ruleset }), undefined);
});

test('a kube-proxy ipset named in a rule is explained from the IPVS vocabulary, with the set it is', () => {
  const line = '-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ';
  const onOption = explainIptablesAt(line, 1, line.indexOf('--match-set') + 3, { ruleset })!.markdown;
  assert.match(onOption, /`KUBE-CLUSTER-IP`, a kube-proxy ipset: Every Service ClusterIP/);
  assert.match(onOption, /`dst,dst`/);
  const onName = explainIptablesAt(line, 1, line.indexOf('KUBE-CLUSTER-IP') + 3, { ruleset })!.markdown;
  assert.match(onName, /`KUBE-CLUSTER-IP`, a kube-proxy ipset: Every Service ClusterIP/);
  const ownSet = '-A X -m set --match-set MY-OWN-SET src -j ACCEPT';
  assert.doesNotMatch(explainIptablesAt(ownSet, 1, ownSet.indexOf('MY-OWN') + 2, { ruleset })!.markdown, /kube-proxy ipset/);
});
