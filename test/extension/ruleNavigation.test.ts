import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIptablesSave, readRulesOnce } from '../../src/core/iptables/parseIptablesSave';
import { chainAt, chainDefinition, chainReferences, outline, serviceChainLines } from '../../src/extension/language/ruleNavigation';
import { SHOP } from './helpers';

const text = readFileSync(join(SHOP, 'iptables-save.txt'), 'utf8');
const lines = text.split('\n');
const ruleset = parseIptablesSave(text).value;
const lineText = (line: number) => lines[line - 1];
const lineOf = (needle: string) => lines.findIndex((line) => line.includes(needle)) + 1;

test('a jump target resolves to its declaration', () => {
  const line = lineOf('"shop/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC');
  const column = lines[line - 1]!.indexOf('KUBE-SVC-7EJNTS7AENER2WX5') + 3;
  const chain = chainAt(ruleset, lines[line - 1]!, line, column);
  assert.deepEqual(chain && { table: chain.table, chain: chain.chain }, { table: 'nat', chain: 'KUBE-SVC-7EJNTS7AENER2WX5' });
  const definition = chainDefinition(ruleset, 'nat', chain!.chain, lineText)!;
  assert.equal(definition.line, lineOf(':KUBE-SVC-7EJNTS7AENER2WX5'));
  assert.equal(lines[definition.line - 1]!.slice(definition.start, definition.end), 'KUBE-SVC-7EJNTS7AENER2WX5');
});

test('chains with the same name in two tables resolve within the line\'s table', () => {
  const filterLine = lineOf('-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  const chain = chainAt(ruleset, lines[filterLine - 1]!, filterLine, lines[filterLine - 1]!.lastIndexOf('KUBE-SERVICES') + 1)!;
  assert.equal(chain.table, 'filter');
  assert.ok(chainDefinition(ruleset, 'filter', 'KUBE-SERVICES', lineText)!.line < lineOf('*nat'));
});

test('references are every jump to the chain, pointing at the name', () => {
  const references = chainReferences(ruleset, 'nat', 'KUBE-SVC-7EJNTS7AENER2WX5', lineText);
  const expected = lines.flatMap((line, index) => (/ -[jg] KUBE-SVC-7EJNTS7AENER2WX5$/.test(line) && lineOf('*nat') < index + 1 ? [index + 1] : []));
  assert.deepEqual(references.map((reference) => reference.line).sort((a, b) => a - b), expected);
  for (const reference of references) assert.equal(lines[reference.line - 1]!.slice(reference.start, reference.end), 'KUBE-SVC-7EJNTS7AENER2WX5');
});

test('words that are not chains, and chains of no table, resolve to nothing', () => {
  const line = lineOf('--probability 0.50000000000');
  assert.equal(chainAt(ruleset, lines[line - 1]!, line, lines[line - 1]!.indexOf('statistic') + 1), undefined);
  assert.equal(chainAt(ruleset, '-A NOPE -j ALSO-NOPE', line, 15), undefined);
});

test('the outline lists tables in file order with their chains', () => {
  const tables = outline(ruleset, lines.length);
  assert.deepEqual(tables.map((table) => table.name), ['mangle', 'filter', 'nat']);
  const nat = tables[2]!;
  const svc = nat.chains.find((chain) => chain.name === 'KUBE-SVC-7EJNTS7AENER2WX5')!;
  assert.equal(svc.rules, 4);
  assert.ok(svc.endLine >= svc.line && svc.endLine <= nat.endLine);
  assert.deepEqual(serviceChainLines(ruleset).map((entry) => entry.chain).sort(), ['KUBE-SVC-7EJNTS7AENER2WX5', 'KUBE-SVC-ERIFXISQEP7F7OF4', 'KUBE-SVC-NPX46M4PTMTKRN6Y', 'KUBE-SVC-TCOU7JCQXEZGVUNU']);
});

test('the outline reads chain ends from the parser, the same as from the rules, and keeps no Rule objects', () => {
  const fresh = parseIptablesSave(text).value;
  const tables = outline(fresh, lines.length);
  for (const table of tables) {
    for (const entry of table.chains) {
      const chain = fresh.tables.get(table.name)!.chains.get(entry.name)!;
      assert.ok(readRulesOnce(chain) !== readRulesOnce(chain), `${entry.name}: its rules were not made and kept by the outline`);
      const rules = readRulesOnce(chain);
      const last = rules.reduce((max, rule) => Math.max(max, rule.line), chain.line);
      assert.equal(entry.endLine, Math.min(last, table.endLine), entry.name);
      assert.equal(entry.rules, rules.length, entry.name);
    }
  }
});
