import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeSnapshot, type Analysis } from '../../src/core/analyze';
import { jumpCount, jumpsTo, prepareJumpIndex, ruleAtLine } from '../../src/core/explain/explainIptables';
import { prepareEndpointLookup, servicesAtAddress, servicesOfChain, servicesWithEndpoint } from '../../src/core/explain/serviceLookup';
import { ipvsServicesWithEndpointAddress } from '../../src/core/services/ipvsServiceTree';
import type { PathNode, ServiceInfo } from '../../src/core/services/model';
import { DocumentRulesets, explainIptablesDocumentAt, type RuleDocument } from '../../src/extension/language/iptablesDocuments';
import { editorIndexSteps } from '../../src/extension/snapshots/editorIndexes';
import { readSnapshotFolder } from '../../src/node/snapshotFolder';
import { SHOP, loadShop } from './helpers';

/** A document as the extension host holds one: its lines, joined on getText(). */
function documentOf(path: string, text: string, version = 1): RuleDocument {
  const lines = text.split(/\r\n|\r|\n/);
  return {
    uri: { path, toString: () => `file://${path}` },
    version,
    getText: () => lines.join('\n'),
    lineAt: (line) => ({ text: lines[line] ?? '' }),
  };
}

const PATH = join(SHOP, 'iptables-save.txt');

function lineWith(text: string, needle: string): number {
  const line = text.split('\n').findIndex((each) => each.includes(needle));
  assert.ok(line >= 0, `the fixture has a line with ${needle}`);
  return line;
}

test('an unchanged iptables-save.txt uses the analysis\'s Ruleset instead of a second parse', async () => {
  const analysis = await loadShop();
  const text = analysis.snapshot.files['iptables-save.txt']!;
  const rulesets = new DocumentRulesets();
  assert.equal(rulesets.get(documentOf(PATH, text), analysis), analysis.iptables);
  assert.notEqual(rulesets.get(documentOf(join(SHOP, 'ip6tables-save.txt'), text), analysis), analysis.iptables, 'another file is parsed on its own');
  assert.notEqual(rulesets.get(documentOf(PATH, text), undefined), analysis.iptables, 'without an analysis the document is parsed');
});

test('an edited document is parsed on its own, and hovers explain the edited rules', async () => {
  const analysis = await loadShop();
  const text = analysis.snapshot.files['iptables-save.txt']!;
  const edited = text.replace('--probability 0.33333333349', '--probability 0.10000000000');
  assert.notEqual(edited, text);
  const rulesets = new DocumentRulesets();
  const line = lineWith(text, '--probability 0.33333333349');
  const column = text.split('\n')[line]!.indexOf('0.33333333349') + 1;
  const original = explainIptablesDocumentAt(rulesets, documentOf(PATH, text, 1), analysis, line, column)!;
  assert.match(original.markdown, /\*\*33\.3+%\*\*/);
  const changed = documentOf(PATH, edited, 2);
  assert.notEqual(rulesets.get(changed, analysis), analysis.iptables);
  assert.match(explainIptablesDocumentAt(rulesets, changed, analysis, line, column)!.markdown, /\*\*10%\*\*/);
  // Going back to the analysed text (an undo) uses the analysis again.
  assert.equal(rulesets.get(documentOf(PATH, text, 3), analysis), analysis.iptables);
});

test('a reloaded snapshot is compared again, even at the same document version', async () => {
  const first = await loadShop();
  const second = await loadShop();
  const text = first.snapshot.files['iptables-save.txt']!;
  const rulesets = new DocumentRulesets();
  const document = documentOf(PATH, text);
  assert.equal(rulesets.get(document, first), first.iptables);
  assert.equal(rulesets.get(document, second), second.iptables);
});

/** Every snapshot fixture folder whose name starts with one of the prefixes, analysed (the editor's shop first). */
async function fixtures(...prefixes: string[]): Promise<{ name: string; analysis: Analysis }[]> {
  const root = join(import.meta.dirname, '../fixtures');
  const isSnapshot = (name: string) => readdirSync(join(root, name)).some((file) => ['iptables-save.txt', 'ipvsadm.txt', 'nft.txt'].includes(file));
  const folders = readdirSync(root).filter((name) => prefixes.some((prefix) => name.startsWith(prefix)) && isSnapshot(name));
  assert.ok(folders.length > 5);
  return Promise.all(
    [SHOP, ...folders.map((name) => join(root, name))].map(async (folder) => ({ name: folder, analysis: analyzeSnapshot(await readSnapshotFolder(folder)) })),
  );
}

test('ruleAtLine finds every rule from its own line, and nothing on other lines', async () => {
  for (const { name, analysis } of await fixtures('iptables-')) {
    const ruleset = analysis.iptables!;
    const lines = analysis.snapshot.files['iptables-save.txt']!.split('\n');
    const byLine = new Map<number, unknown>();
    for (const table of ruleset.tables.values()) for (const chain of table.chains.values()) for (const rule of chain.rules) byLine.set(rule.line, rule);
    lines.forEach((text, index) => {
      assert.equal(ruleAtLine(ruleset, index + 1, text), byLine.get(index + 1), `${name} line ${index + 1}`);
    });
  }
});

test('ruleAtLine reads `[packets:bytes] -A CHAIN`, as iptables-save -c writes it', async () => {
  const analysis = await loadShop();
  const lines = analysis.snapshot.files['iptables-save.txt']!.split('\n');
  const line = lineWith(lines.join('\n'), '--probability 0.50000000000');
  const rule = ruleAtLine(analysis.iptables!, line + 1, lines[line]!);
  assert.ok(rule);
  assert.equal(ruleAtLine(analysis.iptables!, line + 1, `[12:720] ${lines[line]}`), rule);
});

test('jumpsTo and jumpCount list exactly the rules whose target is the chain', async () => {
  for (const { name, analysis } of await fixtures('iptables-')) {
    const ruleset = analysis.iptables!;
    // The same rules indexed in slices of one rule, as the background steps do it in bigger slices.
    const sliced = analyzeSnapshot(analysis.snapshot).iptables!;
    for (const table of sliced.tables.keys()) {
      let turns = 0;
      while (!prepareJumpIndex(sliced, table, 1)) turns++;
      assert.ok(turns <= sliced.tables.get(table)!.chains.size);
    }
    for (const table of ruleset.tables.values()) {
      const all = [...table.chains.values()].flatMap((chain) => chain.rules);
      for (const chain of table.chains.keys()) {
        const expected = all.filter((rule) => rule.target?.name === chain);
        assert.deepEqual(jumpsTo(ruleset, table.name, chain), expected, `${name} ${table.name} ${chain}`);
        assert.equal(jumpCount(ruleset, table.name, chain), expected.length);
        assert.deepEqual(jumpsTo(sliced, table.name, chain), expected, `${name} ${table.name} ${chain}, indexed a rule at a time`);
      }
    }
  }
});

function pathLabels(nodes: PathNode[]): string[] {
  return nodes.flatMap((node) => [node.label, ...pathLabels(node.children)]);
}

test('Service lookups by chain, address and endpoint agree with a scan of every Service', async () => {
  for (const { name, analysis } of await fixtures('iptables-', 'ipvs-', 'nft-')) {
    const tree = analysis.services;
    const scan = (keep: (service: ServiceInfo) => boolean) => tree.services.filter(keep);
    for (const service of tree.services) {
      for (const chain of [...pathLabels(service.path), ...service.endpoints.flatMap((endpoint) => (endpoint.chain ? [endpoint.chain] : []))]) {
        if (/^KUBE-(SVC|SVL|EXT|FW|SEP)-[A-Z0-9]+$/.test(chain)) {
          assert.deepEqual(servicesOfChain(tree, chain), [service], `${name}: ${chain} belongs to ${service.id}`);
        }
      }
      for (const address of [service.clusterIP, ...service.externalIPs, ...service.loadBalancerIPs]) {
        if (!address) continue;
        const at = (each: { ip: string; port: number }) => each.ip === address.ip;
        assert.deepEqual(
          servicesAtAddress(tree, address.ip, undefined),
          scan((each) => (each.clusterIP !== null && at(each.clusterIP)) || each.externalIPs.some(at) || each.loadBalancerIPs.some(at)),
          `${name}: Services at ${address.ip}`,
        );
        assert.ok(servicesAtAddress(tree, address.ip, address.port).includes(service));
      }
      for (const endpoint of service.endpoints) {
        assert.deepEqual(
          servicesWithEndpoint(tree, endpoint.ip, endpoint.port),
          scan((each) => each.endpoints.some((other) => other.ip === endpoint.ip && other.port === endpoint.port)),
          `${name}: Services with endpoint ${endpoint.ip}:${endpoint.port}`,
        );
      }
    }
    // The endpoint lookup built a Service at a time, as the background steps build it in bigger slices; an IPVS
    // tree answers from its real servers and needs no slices.
    const sliced = analyzeSnapshot(analysis.snapshot).services;
    let turns = 0;
    while (!prepareEndpointLookup(sliced, 1)) turns++;
    const direct = ipvsServicesWithEndpointAddress(sliced, '') !== undefined;
    assert.equal(turns, direct ? 0 : Math.max(0, sliced.services.length - 1));
    for (const [index, service] of sliced.services.entries()) {
      for (const endpoint of service.endpoints) {
        assert.deepEqual(
          servicesWithEndpoint(sliced, endpoint.ip).map((each) => each.id),
          sliced.services.filter((each) => each.endpoints.some((other) => other.ip === endpoint.ip)).map((each) => each.id),
          `${name}: Services with endpoint ${endpoint.ip}, Service ${index}`,
        );
      }
    }
    assert.deepEqual(servicesOfChain(tree, 'KUBE-SVC-NOTACHAIN0000000'), []);
    assert.deepEqual(servicesAtAddress(tree, '192.0.2.254', undefined), []);
  }
});

test('Services are indexed by endpoint ahead of time only in the modes whose hovers ask for it', async () => {
  for (const { name, analysis } of await fixtures('iptables-', 'ipvs-', 'nft-')) {
    const steps = editorIndexSteps(analysis).map((step) => step.name);
    assert.equal(steps.includes('Service endpoints'), analysis.mode === 'ipvs' || analysis.mode === 'nftables', `${name} (${analysis.mode})`);
  }
});

test('the background index steps cover every table and leave the answers unchanged', async () => {
  const analysis = await loadShop();
  const text = analysis.snapshot.files['iptables-save.txt']!;
  const line = lineWith(text, ':KUBE-SVC-7EJNTS7AENER2WX5');
  const before = explainIptablesDocumentAt(new DocumentRulesets(), documentOf(PATH, text), analysis, line, 3);
  const fresh = await loadShop();
  const steps = editorIndexSteps(fresh);
  for (const table of fresh.iptables!.tables.keys()) assert.ok(steps.some((step) => step.name === `${table} jumps`), table);
  for (const step of steps) while (!step.run());
  const after = explainIptablesDocumentAt(new DocumentRulesets(), documentOf(PATH, text), fresh, line, 3);
  assert.ok(before);
  assert.deepEqual(after, before);
  assert.match(before.markdown, /shop\/web:http/);
});
