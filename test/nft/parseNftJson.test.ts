import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseNft } from '../../src/core/nft/parseNft';
import { traceNft } from '../../src/core/nft/traceNft';
import { parseRouteLocal } from '../../src/core/routes/localRoutes';
import { buildNftServiceTree, parseDuration } from '../../src/core/services/nftServiceTree';

// Each nft-json-* fixture is `nft -j list ruleset` of the same ruleset as a text fixture, both printed by nft.
const pairs = [
  { json: 'test/fixtures/nft-json-kind', text: 'samples/nftables-kind' },
  { json: 'test/fixtures/nft-json-foreign-tables', text: 'test/fixtures/nft-foreign-tables' },
  { json: 'test/fixtures/nft-json-traffic-policy', text: 'test/fixtures/nft-traffic-policy' },
];
const load = (folder: string) => parseNft(readFileSync(`${folder}/nft.txt`, 'utf8'));

for (const pair of pairs) {
  test(`${pair.json}: JSON gives the same tables, chains, rules and elements as the text`, () => {
    const json = load(pair.json);
    const text = load(pair.text);
    assert.deepEqual(json.diagnostics, []);
    assert.deepEqual(json.value.tables.map((table) => `${table.family} ${table.name}`), text.value.tables.map((table) => `${table.family} ${table.name}`));
    for (const [index, table] of text.value.tables.entries()) {
      const other = json.value.tables[index];
      assert.deepEqual(other.chains.map((chain) => chain.name).sort(), table.chains.map((chain) => chain.name).sort());
      for (const chain of table.chains) {
        const twin = other.chains.find((candidate) => candidate.name === chain.name)!;
        assert.equal(twin.base?.priority, chain.base?.priority, chain.name);
        assert.equal(twin.base?.policy, chain.base?.policy, chain.name);
        assert.deepEqual(twin.rules.map((rule) => rule.text), chain.rules.map((rule) => rule.text), chain.name);
        assert.deepEqual(twin.rules.map((rule) => rule.exprs), chain.rules.map((rule) => rule.exprs), chain.name);
        assert.ok(twin.rules.every((rule) => rule.line === 1 && rule.handle !== undefined));
      }
      for (const set of table.sets) {
        const twin = other.sets.find((candidate) => candidate.name === set.name)!;
        assert.deepEqual([twin.kind, twin.keyType, twin.dataType, twin.comment], [set.kind, set.keyType, set.dataType, set.comment], set.name);
        assert.equal(parseDuration(twin.timeout ?? '0s'), parseDuration(set.timeout ?? '0s'));
        const strip = (elements: typeof set.elements) => elements.map(({ line: _line, ...rest }) => rest);
        assert.deepEqual(strip(twin.elements), strip(set.elements), set.name);
      }
    }
  });
}

test('JSON and text trace alike and build the same Service tree', () => {
  const routes = parseRouteLocal(readFileSync('test/fixtures/nft-traffic-policy/route-local.txt', 'utf8')).value;
  const json = load('test/fixtures/nft-json-traffic-policy').value;
  const text = load('test/fixtures/nft-traffic-policy').value;
  const packets = [
    { src: '203.0.113.2', dst: '1.2.3.4', dport: 80 },
    { src: '10.0.0.2', dst: '192.168.0.2', dport: 3002 },
    { src: '192.168.0.2', dst: '9.10.11.12', dport: 80 },
    { src: '10.0.0.2', dst: '172.30.0.44', dport: 80 },
    { src: '10.0.0.2', dst: '172.30.0.99', dport: 80 },
  ];
  const essence = (result: ReturnType<typeof traceNft>) =>
    result.outcomes.map((outcome) => [outcome.probability, outcome.verdict, outcome.dnat, outcome.masquerade, outcome.decidedBy?.rule ?? null, outcome.steps.map((step) => `${step.chain}: ${step.rule}`)]);
  for (const packet of packets) {
    const entry = routes.isLocal(packet.src) ? 'OUTPUT' : 'PREROUTING';
    const full = { ...packet, proto: 'tcp' as const, sport: 40000 };
    const fromJson = traceNft({ nft: json, routes }, full, entry);
    const fromText = traceNft({ nft: text, routes }, full, entry);
    assert.deepEqual(essence(fromJson), essence(fromText), JSON.stringify(packet));
    assert.equal(fromJson.service, fromText.service);
  }
  // Everything but line numbers (JSON has one line) is the same.
  const strip = (tree: ReturnType<typeof buildNftServiceTree>) =>
    JSON.stringify(tree, (key, value) => (key === 'source' ? undefined : value)).replace(/\(line \d+\)/g, '(line)');
  assert.ok(strip(buildNftServiceTree(json, routes)) === strip(buildNftServiceTree(text, routes)), 'the trees differ');
});

test('JSON that is broken or not nft\'s gives diagnostics, never an exception', () => {
  assert.equal(parseNft('{"nftables": [').diagnostics[0].severity, 'error');
  assert.match(parseNft('{"something": []}').diagnostics[0].message, /not `nft -j list ruleset` output/);
  const odd = parseNft('{"nftables": [{"table": {"family": "ip", "name": "t"}}, {"chain": {"family": "ip", "table": "t", "name": "c"}}, {"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [{"match": {"op": "==", "left": {"osf": {"key": "name"}}, "right": "Linux"}}, {"accept": null}]}}, {"rule": {"family": "ip", "table": "t", "chain": "nope", "expr": []}}]}');
  assert.deepEqual(odd.value.tables[0].chains[0].rules[0].exprs[1], { kind: 'verdict', verdict: { kind: 'accept' } });
  assert.equal(odd.value.tables[0].chains[0].rules[0].exprs[0].kind, 'unknown');
  assert.equal(odd.diagnostics.length, 1);
  const deep = `${'{"&": ['.repeat(50000)}{"meta": {"key": "mark"}}${', 1]}'.repeat(50000)}`;
  const nested = parseNft(
    `{"nftables": [{"table": {"family": "ip", "name": "t"}}, {"chain": {"family": "ip", "table": "t", "name": "c"}}, {"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [{"match": {"op": "==", "left": ${deep}, "right": 1}}]}}]}`,
  );
  assert.ok(nested.diagnostics.length > 0 || nested.value.tables[0].chains[0].rules[0].exprs[0].kind === 'unknown');
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      parseNft(JSON.stringify({ nftables: Array.isArray(value) ? value : [value] }));
    }),
    { numRuns: 300 },
  );
});
