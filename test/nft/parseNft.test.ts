import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseNft, resolvePriority } from '../../src/core/nft/parseNft';
import { chainsByName, findChain, findSet, type NftExpr } from '../../src/core/nft/model';

// nft.txt files below are what `nft list ruleset` printed after the ruleset was loaded into a network
// namespace (test/fixtures/nft-sources/capture.sh), so their format is nft's own.
const sample = readFileSync('samples/nftables-kind/nft.txt', 'utf8');
const foreign = readFileSync('test/fixtures/nft-foreign-tables/nft.txt', 'utf8');

test('parses the kind sample without diagnostics: one table, its base chains, sets and maps', () => {
  const { value, diagnostics } = parseNft(sample);
  assert.deepEqual(diagnostics, []);
  assert.equal(value.tables.length, 1);
  const table = value.tables[0];
  assert.equal(table.family, 'ip');
  assert.equal(table.name, 'kube-proxy');
  assert.equal(table.comment, 'rules for kube-proxy');
  const base = Object.fromEntries(table.chains.filter((chain) => chain.base).map((chain) => [chain.name, chain.base!]));
  assert.deepEqual(Object.keys(base).sort(), [
    'filter-forward', 'filter-input', 'filter-output', 'filter-output-post-dnat', 'filter-prerouting',
    'nat-output', 'nat-postrouting', 'nat-prerouting',
  ]);
  assert.deepEqual(base['filter-prerouting'], { type: 'filter', hook: 'prerouting', priority: -110, priorityText: 'dstnat - 10', policy: 'accept' });
  assert.equal(base['nat-prerouting'].priority, -100);
  assert.equal(base['nat-postrouting'].priority, 100);
  assert.equal(base['filter-output-post-dnat'].priority, -90);
  assert.equal(findChain(table, 'reject-chain')?.comment, 'helper for @no-endpoint-services / @no-endpoint-nodeports');
});

test('every rule keeps its own line number and the text printed on that line', () => {
  const { value } = parseNft(sample);
  const lines = sample.split('\n');
  let rules = 0;
  for (const chain of value.tables[0].chains) {
    assert.match(lines[chain.line - 1], new RegExp(`^\\tchain ${escape(chain.name)} \\{$`));
    assert.equal(lines[chain.endLine - 1], '\t}');
    for (const rule of chain.rules) {
      assert.equal(lines[rule.line - 1].trim(), rule.text);
      rules++;
    }
  }
  assert.equal(rules, lines.filter((line) => /^\t\t[a-z@]/.test(line) && !/^\t\t(type|comment|elements|flags|size|timeout) /.test(line) && !/^\t\t\t/.test(line)).length);
});

test('concatenated verdict maps keep keys, element comments, verdicts and the line of each element', () => {
  const { value } = parseNft(sample);
  const table = value.tables[0];
  const serviceIps = findSet(table, 'service-ips')!;
  assert.equal(serviceIps.kind, 'map');
  assert.deepEqual(serviceIps.keyType, ['ipv4_addr', 'inet_proto', 'inet_service']);
  assert.equal(serviceIps.dataType, 'verdict');
  assert.equal(serviceIps.elements.length, 8);
  const lines = sample.split('\n');
  for (const element of serviceIps.elements) {
    assert.ok(lines[element.line - 1].includes(`${element.key.join(' . ')} : goto ${element.verdict!.target}`), `line ${element.line}`);
  }
  const dns = serviceIps.elements.find((element) => element.key.join(' . ') === '10.96.0.10 . udp . 53');
  assert.deepEqual(dns?.verdict, { kind: 'goto', target: 'service-FY5PMXPG-kube-system/kube-dns/udp/dns' });

  const noEndpoints = findSet(table, 'no-endpoint-services')!;
  assert.deepEqual(noEndpoints.elements, [
    { key: ['10.96.50.50', 'tcp', '80'], comment: 'default/empty:http', verdict: { kind: 'goto', target: 'reject-chain' }, line: noEndpoints.elements[0].line },
  ]);
  const clusterIps = findSet(table, 'cluster-ips')!;
  assert.deepEqual(clusterIps.elements.map((element) => element.key[0]), ['10.96.0.1', '10.96.0.10', '10.96.30.30', '10.96.50.50', '10.96.100.10', '10.96.200.20']);
  assert.deepEqual(clusterIps.elements.map((element) => element.line), [6, 6, 7, 7, 8, 8]);
});

test('dynamic affinity sets keep flags, timeout and size', () => {
  const { value } = parseNft(sample);
  const affinity = value.tables[0].sets.filter((set) => set.name.startsWith('affinity-'));
  assert.equal(affinity.length, 2);
  for (const set of affinity) {
    assert.deepEqual(set.flags, ['dynamic', 'timeout']);
    assert.equal(set.timeout, '3h');
    assert.equal(set.size, 65535);
    assert.deepEqual(set.keyType, ['ipv4_addr']);
  }
});

test('kube-proxy rules become typed expressions', () => {
  const table = parseNft(sample).value.tables[0];
  const exprs = (chain: string, index = 0): NftExpr[] => findChain(table, chain)!.rules[index].exprs;
  assert.deepEqual(exprs('services'), [
    { kind: 'vmap', left: [{ name: 'ip daddr' }, { name: 'meta l4proto' }, { name: 'th dport' }], map: { kind: 'ref', name: 'service-ips' } },
  ]);
  assert.deepEqual(exprs('services', 1), [
    { kind: 'match', left: [{ name: 'ip daddr' }], op: '==', right: { kind: 'ref', name: 'nodeport-ips' } },
    { kind: 'vmap', left: [{ name: 'meta l4proto' }, { name: 'th dport' }], map: { kind: 'ref', name: 'service-nodeports' } },
  ]);
  assert.deepEqual(exprs('masquerading'), [
    { kind: 'match', left: [{ name: 'meta mark', mask: { op: '&', value: '0x00004000' } }], op: '==', right: { kind: 'values', keys: [['0x00000000']] } },
    { kind: 'verdict', verdict: { kind: 'return' } },
  ]);
  assert.deepEqual(exprs('mark-for-masquerade'), [{ kind: 'markSet', target: 'meta mark', op: '|', value: '0x00004000' }]);
  assert.deepEqual(exprs('masquerading', 2), [{ kind: 'nat', type: 'masquerade', flags: ['fully-random'] }]);
  assert.deepEqual(exprs('cluster-ips-check', 1), [
    { kind: 'match', left: [{ name: 'ip daddr' }], op: '==', right: { kind: 'values', keys: [['10.96.0.0/16']] } },
    { kind: 'verdict', verdict: { kind: 'drop' } },
    { kind: 'comment', text: 'Drop traffic to unallocated ClusterIPs' },
  ]);
  assert.equal(findChain(table, 'cluster-ips-check')!.rules[1].comment, 'Drop traffic to unallocated ClusterIPs');
  const web = findChain(table, 'service-SUSTUHLJ-default/web/tcp/http')!;
  assert.deepEqual(web.rules[0].exprs, [
    { kind: 'match', left: [{ name: 'ip daddr' }], op: '==', right: { kind: 'values', keys: [['10.96.100.10']] } },
    { kind: 'match', left: [{ name: 'tcp dport' }], op: '==', right: { kind: 'values', keys: [['80']] } },
    { kind: 'match', left: [{ name: 'ip saddr' }], op: '!=', right: { kind: 'values', keys: [['10.244.0.0/16']] } },
    { kind: 'verdict', verdict: { kind: 'jump', target: 'mark-for-masquerade' } },
  ]);
  const numgen = web.rules[1].exprs[0];
  assert.equal(numgen.kind, 'vmap');
  if (numgen.kind === 'vmap') {
    assert.deepEqual(numgen.left, [{ name: 'numgen', numgen: { mode: 'random', mod: 3, offset: 0 } }]);
    assert.equal(numgen.map.kind === 'inline' && numgen.map.entries.length, 3);
  }
  const shopEndpoint = findChain(table, 'endpoint-UWR7Z5V4-default/shop/tcp/http__10.244.1.6/8080')!;
  assert.deepEqual(shopEndpoint.rules[1].exprs, [
    { kind: 'setUpdate', op: 'update', set: 'affinity-UWR7Z5V4-default/shop/tcp/http__10.244.1.6/8080', key: [{ name: 'ip saddr' }] },
  ]);
  assert.deepEqual(shopEndpoint.rules[2].exprs, [
    { kind: 'match', left: [{ name: 'meta l4proto' }], op: '==', right: { kind: 'values', keys: [['tcp']] } },
    { kind: 'nat', type: 'dnat', address: '10.244.1.6', port: 8080, flags: [] },
  ]);
  assert.deepEqual(findChain(table, 'external-E2IH552V-default/shop/tcp/http')!.rules[1].exprs.slice(0, 1), [
    { kind: 'match', left: [{ name: 'fib saddr type' }], op: '==', right: { kind: 'values', keys: [['local']] } },
  ]);
});

test('tables of other families and programs: inet, named priorities, flag lists, and expressions kept as unknown', () => {
  const { value, diagnostics } = parseNft(foreign);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(value.tables.map((table) => `${table.family} ${table.name}`), ['ip kube-proxy', 'inet host-firewall', 'ip early-nat']);
  const firewall = value.tables[1].chains[0];
  assert.deepEqual(firewall.base, { type: 'filter', hook: 'forward', priority: 0, priorityText: 'filter', policy: 'drop' });
  assert.deepEqual(firewall.rules[0].exprs, [
    { kind: 'match', left: [{ name: 'ct state' }], op: '==', right: { kind: 'values', keys: [['established'], ['related']] } },
    { kind: 'verdict', verdict: { kind: 'accept' } },
  ]);
  assert.deepEqual(firewall.rules[2].exprs.slice(0, 1), [
    { kind: 'match', left: [{ name: 'meta iifname' }], op: '==', right: { kind: 'values', keys: [['eth0']] } },
  ]);
  const early = value.tables[2];
  assert.equal(early.chains[0].base?.priority, -150);
  assert.equal(early.chains[0].base?.priorityText, 'mangle');
  assert.equal(early.chains[1].base?.priority, -300);
  assert.deepEqual(early.chains[1].rules[0].exprs, [
    { kind: 'match', left: [{ name: 'ip saddr' }], op: '==', right: { kind: 'values', keys: [['198.51.100.0/24']] } },
    { kind: 'unknown', text: 'limit rate 10/second' },
    { kind: 'verdict', verdict: { kind: 'accept' } },
  ]);
});

test('handles, multi-line rules, other objects and broken input become data or diagnostics', () => {
  const text = [
    'table inet filter { # handle 7',
    '\tflowtable ft { # handle 2',
    '\t\thook ingress priority filter',
    '\t\tdevices = { eth0 }',
    '\t}',
    '',
    '\tchain input { # handle 1',
    '\t\ttype filter hook input priority filter; policy drop;',
    '\t\ttcp dport { 22, 80,',
    '\t\t\t     443 } accept # handle 4',
    '\t\tmeta mark set 0x00000010 counter packets 12 bytes 3400 # handle 5',
    '\t}',
    '\tset allowed {',
    '\t\ttype ipv4_addr',
    '\t\tflags interval',
    '\t\telements = { 10.0.0.0/8, 192.168.1.1-192.168.1.9 }',
    '\t}',
    '}',
    'table ip broken {',
    '\tchain c {',
    '\t\ttype nat hook prerouting priority sideways; policy accept;',
    '\t}',
    '}',
    '}',
    'table ip unclosed {',
  ].join('\n');
  const { value, diagnostics } = parseNft(text, 'x.txt');
  const filter = value.tables[0];
  assert.deepEqual(filter.objects, [{ kind: 'flowtable', name: 'ft', line: 2 }]);
  const input = filter.chains[0];
  assert.equal(input.base?.policy, 'drop');
  assert.deepEqual(input.rules.map((rule) => [rule.line, rule.handle, rule.text]), [
    [9, 4, 'tcp dport { 22, 80, 443 } accept'],
    [11, 5, 'meta mark set 0x00000010 counter packets 12 bytes 3400'],
  ]);
  assert.deepEqual(input.rules[0].exprs[0], { kind: 'match', left: [{ name: 'tcp dport' }], op: '==', right: { kind: 'values', keys: [['22'], ['80'], ['443']] } });
  assert.deepEqual(input.rules[1].exprs, [
    { kind: 'markSet', target: 'meta mark', op: '=', value: '0x00000010' },
    { kind: 'counter', packets: 12, bytes: 3400 },
  ]);
  assert.deepEqual(filter.sets[0].elements.map((element) => element.key[0]), ['10.0.0.0/8', '192.168.1.1-192.168.1.9']);
  assert.deepEqual(
    diagnostics.map((diagnostic) => [diagnostic.line, diagnostic.severity]),
    [[21, 'error'], [24, 'warning'], [25, 'error']],
  );
  assert.ok(diagnostics.every((diagnostic) => diagnostic.file === 'x.txt'));
});

test('rules read on demand are plain data: the same array on every read, copied by spread and JSON, replaceable', () => {
  const text = [
    'table ip t {',
    '\tchain c {',
    '\t\ttype filter hook input priority filter; policy accept;',
    '\t\tip saddr 10.0.0.1 drop # handle 7',
    '',
    '\t\tip daddr 10.96.0.10 counter packets 1 bytes 60 comment "dns" accept',
    '\t\tip daddr . tcp dport { 10.0.0.2 . 80,',
    '\t\t\t10.0.0.3 . 443 } jump d',
    '\t\tnumgen random mod 2 vmap { 0 : goto d, 1 : goto d }',
    '\t\tcomment',
    '\t}',
    '\tchain d {',
    '\t}',
    '}',
  ].join('\n');
  const { value, diagnostics } = parseNft(text);
  assert.deepEqual(diagnostics, []);
  const [c, d] = value.tables[0].chains;
  assert.equal(c.base?.hook, 'input');
  assert.deepEqual(c.rules.map((rule) => [rule.line, rule.text, rule.handle, rule.comment]), [
    [4, 'ip saddr 10.0.0.1 drop', 7, undefined],
    [6, 'ip daddr 10.96.0.10 counter packets 1 bytes 60 comment "dns" accept', undefined, 'dns'],
    [7, 'ip daddr . tcp dport { 10.0.0.2 . 80, 10.0.0.3 . 443 } jump d', undefined, undefined],
    [9, 'numgen random mod 2 vmap { 0 : goto d, 1 : goto d }', undefined, undefined],
    [10, 'comment', undefined, undefined],
  ]);
  assert.deepEqual(c.rules[0].exprs, [
    { kind: 'match', left: [{ name: 'ip saddr' }], op: '==', right: { kind: 'values', keys: [['10.0.0.1']] } },
    { kind: 'verdict', verdict: { kind: 'drop' } },
  ]);
  assert.deepEqual(c.rules[3].exprs, [
    {
      kind: 'vmap',
      left: [{ name: 'numgen', numgen: { mode: 'random', mod: 2, offset: 0 } }],
      map: { kind: 'inline', entries: [{ key: ['0'], verdict: { kind: 'goto', target: 'd' } }, { key: ['1'], verdict: { kind: 'goto', target: 'd' } }] },
    },
  ]);
  assert.equal(c.rules[4].exprs[0].kind, 'unknown');
  assert.equal(c.rules, c.rules);
  assert.deepEqual({ ...c }.rules, c.rules);
  assert.deepEqual(JSON.parse(JSON.stringify(value)).tables[0].chains[0].rules, JSON.parse(JSON.stringify(c.rules)));
  assert.deepEqual(Object.keys(d).sort(), ['endLine', 'line', 'name', 'rules']);
  assert.deepEqual(d.rules, []);
  d.rules = [c.rules[0]];
  assert.deepEqual(d.rules, [c.rules[0]]);
});

test('lines read in place give the same ruleset and diagnostics as the tokenizer gives for the same lines', () => {
  // A quote after a `#` changes nothing nft reads, but sends the line down the tokenizer path.
  const throughTokenizer = (line: string) => (line.includes('#') ? `${line} "` : `${line} # "`);
  const pieces = [
    'table ip t {', 'table ip6 u {', '}', '\t}', '', '   ', '\t\t', '\tchain c {', 'chain\td {', '\tchain e{', '\tchain two words {',
    '\t\ttype filter hook input priority 0; policy drop;', '\t\tpolicy accept', '\t\tcomment', '\t\ttype#x', '\t\tdevices = { eth0 }',
    '\t\tip saddr 10.0.0.1 drop', '\t\tdrop # handle 9', '\t\t# handle 3', '\t\tnumgen random mod 2 vmap { 0 : goto d, 1 : goto d }',
    '\t\ttcp dport { 22,', '\t\t\t80 } accept', '\t\t}}', '\t\t{', '\u00a0}', '\t\tjump x;', '\t\tmeta mark set 0x4000 \u00a0',
    '\tset s {', '\t\telements = { 1, 2 }', '\t\ttype ipv4_addr', '\tflowtable f {', 'chain', '\t\ttypes are words',
  ];
  fc.assert(
    // The first line opens a table: text that starts with `{` would be read as `nft -j` JSON.
    fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((rest) => ['table ip t {', ...rest]), (lines) => {
      const inPlace = parseNft(lines.join('\n'));
      const tokenized = parseNft(lines.map(throughTokenizer).join('\n'));
      assert.deepEqual(JSON.parse(JSON.stringify(inPlace.value)), JSON.parse(JSON.stringify(tokenized.value)));
      assert.deepEqual(inPlace.diagnostics, tokenized.diagnostics);
    }),
    { numRuns: 500 },
  );
});

test('an element list read line by line gives the elements and diagnostics of the list read whole', () => {
  const items = [
    '10.96.0.10 . udp . 53 : goto service-a', '10.96.0.1 . tcp . 443 : goto service-b', 'tcp . 30080 : goto external-c',
    '10.0.0.1 comment "ns/svc:port" : goto reject-chain', '10.0.0.2 . tcp . 80 : drop', '10.0.0.0/8', '1.2.3.4-1.2.3.9',
    'a :', '{', '}', ';', '"q"', 'x . y', '10.0.0.3 timeout 10s expires 9s', '"unclosed',
  ];
  const separators = [', ', ',\n\t\t\t', ' ', '\n\t\t\t', ',\n'];
  const body = fc.array(fc.tuple(fc.constantFrom(...items), fc.constantFrom(...separators)), { maxLength: 20 }).map((parts) => parts.map(([item, separator]) => item + separator).join(''));
  const ending = fc.constantFrom(' }', ' }\n', ' } ;', ' } extra', '\n\t\t}', '');
  fc.assert(
    fc.property(body, ending, (elements, end) => {
      const text = (keyword: string) =>
        ['table ip t {', '\tmap m {', '\t\ttype ipv4_addr . inet_proto . inet_service : verdict', `\t\t${keyword} = { ${elements}${end}`, '\t}', '}'].join('\n');
      // A quoted keyword reads the same for nft's grammar here, but keeps the list whole until it closes.
      const streamed = parseNft(text('elements'));
      const whole = parseNft(text('"elements"'));
      assert.deepEqual(streamed.value, whole.value);
      assert.deepEqual(streamed.diagnostics, whole.diagnostics);
    }),
    { numRuns: 3000 },
  );
  const big = ['table ip t {', '\tmap m {', '\t\ttype ipv4_addr . inet_proto . inet_service : verdict'];
  big.push(`\t\telements = { ${Array.from({ length: 200_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} . tcp . 80 : goto s`).join(',\n\t\t\t')} }`, '\t}', '}');
  const { value } = parseNft(big.join('\n'));
  assert.equal(value.tables[0].sets[0].elements.length, 200_000, 'a list longer than the argument limit of push(...list)');
});

test('chains by name: the map the parser fills is the one lookups get, the later of two same-named chains wins', () => {
  const { value, diagnostics } = parseNft('table ip t {\n\tchain a {\n\t\tdrop\n\t}\n\tchain b {\n\t}\n\tchain a {\n\t\taccept\n\t}\n}\n');
  const [table] = value.tables;
  const map = chainsByName(table);
  assert.equal(chainsByName(table), map);
  assert.deepEqual([...map.keys()], ['a', 'b']);
  assert.equal(map.get('a'), table.chains[2]);
  assert.equal(map.get('a')!.rules[0].text, 'accept');
  assert.deepEqual(diagnostics.map((diagnostic) => [diagnostic.line, diagnostic.message]), [[7, 'chain a appears twice in the table']]);
  const copy = { ...table, chains: table.chains.slice(0, 2) };
  assert.equal(chainsByName(copy).get('a'), table.chains[0], 'a table the parser did not fill gets its own map');
});

test('priority names resolve per family', () => {
  assert.equal(resolvePriority('dstnat - 10', 'ip'), -110);
  assert.equal(resolvePriority('srcnat + 5', 'inet'), 105);
  assert.equal(resolvePriority('filter', 'bridge'), -200);
  assert.equal(resolvePriority('-90', 'ip'), -90);
  assert.equal(resolvePriority('sideways', 'ip'), undefined);
});

test('never throws on arbitrary or mangled input', () => {
  const lines = sample.split('\n');
  const pieces = ['{', '}', ';', ',', '"', ' . ', ':', '@', 'chain x {', 'table ip t {', 'elements = {', 'vmap', 'numgen random mod', 'goto', '#'];
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constantFrom(...lines), fc.constantFrom(...pieces), fc.string()), { maxLength: 60 }),
      (parts) => {
        const { value, diagnostics } = parseNft(parts.join('\n'));
        assert.ok(Array.isArray(value.tables));
        // Rules are parsed when first read, so read them all: that parse must not throw either.
        for (const table of value.tables) for (const chain of table.chains) for (const rule of chain.rules) assert.ok(Array.isArray(rule.exprs));
        for (const diagnostic of diagnostics) assert.ok(diagnostic.line >= 0 && diagnostic.line <= parts.length + 1);
      },
    ),
    { numRuns: 300 },
  );
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
