import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachRuleTarget, forEachTargetChain, isJumpedTo, parseIptablesSave, readRulesOnce, ruleCountOf } from '../../src/core/iptables/parseIptablesSave';

const DUMP = [
  '*nat',
  ':PREROUTING ACCEPT [0:0]',
  ':KUBE-SERVICES - [0:0]',
  ':KUBE-SVC-A - [0:0]',
  ':KUBE-SEP-A1 - [0:0]',
  '-A PREROUTING -j KUBE-SERVICES',
  '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/a:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-A',
  '-A KUBE-SVC-A -m comment --comment "default/a:https -> 10.0.0.1:6443" -j KUBE-SEP-A1',
  '-A KUBE-SEP-A1 -s 10.0.0.1/32 -j KUBE-MARK-MASQ',
  '   -A KUBE-SEP-A1 -p tcp -m tcp -j DNAT --to-destination 10.0.0.1:6443',
  '-A KUBE-SERVICES -m comment --comment "a rule of KUBE-SERVICES after other chains"',
  '-A KUBE-SVC-A -m comment --comment "folded',
  '   rule" -g KUBE-SEP-A1',
  'COMMIT',
  '',
].join('\n');

test('rules stored as offsets read back as written: lines, positions, raw text, targets, and chains interleaved in the file', () => {
  const { value, diagnostics } = parseIptablesSave(DUMP);
  const nat = value.tables.get('nat')!;
  const services = nat.chains.get('KUBE-SERVICES')!;
  assert.equal(ruleCountOf(services), 2);
  assert.deepEqual(
    services.rules.map((rule) => [rule.line, rule.position, rule.target?.name]),
    [
      [7, 1, 'KUBE-SVC-A'],
      [11, 2, undefined],
    ],
  );
  const sep = nat.chains.get('KUBE-SEP-A1')!;
  assert.equal(sep.rules[1]!.raw, '-A KUBE-SEP-A1 -p tcp -m tcp -j DNAT --to-destination 10.0.0.1:6443', 'an indented line is trimmed');
  assert.equal(sep.rules[1]!.target?.options[0]?.args[0], '10.0.0.1:6443');
  const svc = nat.chains.get('KUBE-SVC-A')!;
  assert.equal(svc.rules[1]!.raw, '-A KUBE-SVC-A -m comment --comment "folded rule" -g KUBE-SEP-A1', 'a folded rule is joined');
  assert.equal(svc.rules[1]!.target?.kind, 'goto');
  assert.ok(diagnostics.some((diagnostic) => diagnostic.line === 13 && diagnostic.message.includes('folded')));
});

test('passes over targets see every target, or the chains they name as the parser resolved them, without building rules', () => {
  const nat = parseIptablesSave(DUMP).value.tables.get('nat')!;
  const all: (string | undefined)[] = [];
  const chains: string[] = [];
  const unresolved: string[] = [];
  for (const chain of nat.chains.values()) {
    forEachRuleTarget(chain, (target) => all.push(target));
    forEachTargetChain(chain, nat, (target) => chains.push(target.name), ['KUBE-'], (name) => unresolved.push(name));
  }
  assert.deepEqual(all, ['KUBE-SERVICES', 'KUBE-SVC-A', undefined, 'KUBE-SEP-A1', 'KUBE-SEP-A1', 'KUBE-MARK-MASQ', 'DNAT']);
  assert.deepEqual(chains, ['KUBE-SERVICES', 'KUBE-SVC-A', 'KUBE-SEP-A1', 'KUBE-SEP-A1']);
  assert.deepEqual(unresolved, ['KUBE-MARK-MASQ'], 'KUBE-MARK-MASQ is not declared in this dump; DNAT does not start with KUBE-');
});

test('readRulesOnce hands out rules the chain does not keep, and the kept ones once they exist', () => {
  const chain = parseIptablesSave(DUMP).value.tables.get('nat')!.chains.get('KUBE-SEP-A1')!;
  const once = readRulesOnce(chain);
  assert.notEqual(readRulesOnce(chain), once, 'a second one-off read builds new objects');
  assert.deepEqual(once.map((rule) => rule.raw), chain.rules.map((rule) => rule.raw));
  assert.equal(readRulesOnce(chain), chain.rules, 'after rules were read, the kept array is handed out');
});

test('the parser records which chains are jumped to, also when the chain is declared after the jump', () => {
  const dump = [
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SEP-OLD - [0:0]',
    '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SVC-LATE',
    ':KUBE-SVC-LATE - [0:0]',
    '-A KUBE-SVC-LATE -j KUBE-SEP-OLD',
    ':KUBE-SVC-NOBODY - [0:0]',
    'COMMIT',
  ].join('\n');
  const nat = parseIptablesSave(dump).value.tables.get('nat')!;
  const jumped = [...nat.chains.values()].filter((chain) => isJumpedTo(chain, nat)).map((chain) => chain.name);
  assert.deepEqual(jumped.sort(), ['KUBE-SEP-OLD', 'KUBE-SVC-LATE']);
});

test('jumps are recorded per table, and a chain named like a built-in target is still a chain', () => {
  const dump = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    ':KUBE-FORWARD - [0:0]',
    ':DNAT - [0:0]',
    '-A INPUT -j KUBE-FORWARD',
    '-A KUBE-FORWARD -j DNAT',
    'COMMIT',
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    ':KUBE-SEP-A - [0:0]',
    ':KUBE-SEP-B - [0:0]',
    '-A PREROUTING -j KUBE-SEP-A',
    '-A PREROUTING -j KUBE-SEP-B',
    '-A KUBE-SEP-A -s 10.0.0.1/32 -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-A -p tcp -m tcp -j DNAT --to-destination 10.0.0.1:80',
    '-A KUBE-SEP-B -s 10.0.0.2/32 -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-B -p tcp -m tcp -j DNAT --to-destination 10.0.0.2:80',
    'COMMIT',
    '*mangle',
    ':KUBE-MARK-MASQ - [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    '-A OUTPUT -j KUBE-MARK-MASQ',
    'COMMIT',
  ].join('\n');
  const { tables } = parseIptablesSave(dump).value;
  const jumped = (name: string) => {
    const table = tables.get(name)!;
    return [...table.chains.values()].filter((chain) => isJumpedTo(chain, table)).map((chain) => chain.name).sort();
  };
  assert.deepEqual(jumped('filter'), ['DNAT', 'KUBE-FORWARD'], 'the filter KUBE-MARK-MASQ is not jumped to, whatever nat does');
  assert.deepEqual(jumped('nat'), ['KUBE-MARK-MASQ', 'KUBE-SEP-A', 'KUBE-SEP-B']);
  assert.deepEqual(jumped('mangle'), ['KUBE-MARK-MASQ'], 'the last chain marked in nat is marked again in mangle');
});
