// The netpath CLI as users and other tools run it: the built dist/cli.js in a child process, on the shipped samples.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';

const root = resolve(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const calico = join(root, 'samples', 'calico-seed002');
let scratch = '';

before(() => {
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  scratch = mkdtempSync(join(tmpdir(), 'netpath-cli-'));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

function netpath(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

test('trace --json follows the contract: one object, outcomes summing to 1, steps with lines', () => {
  const run = netpath('trace', calico, '--dst', '10.96.0.10', '--dport', '53', '--proto', 'udp', '--src', '192.168.0.9', '--json');
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.deepEqual(Object.keys(result).sort(), ['assumptions', 'hook', 'mode', 'outcomes', 'packet', 'service', 'warnings']);
  assert.equal(result.mode, 'iptables');
  assert.deepEqual(result.packet, { src: '192.168.0.9', dst: '10.96.0.10', proto: 'udp', sport: 40000, dport: 53 });
  assert.equal(result.hook, 'PREROUTING');
  assert.equal(result.service, 'kube-system/kube-dns:dns');
  const total = result.outcomes.reduce((sum: number, outcome: { probability: number }) => sum + outcome.probability, 0);
  assert.ok(Math.abs(total - 1) < 1e-9);
  const endpoints = result.outcomes.map((outcome: { dnat: { ip: string } }) => outcome.dnat.ip).sort();
  assert.deepEqual(endpoints, ['192.168.0.6', '192.168.1.2']);
  for (const outcome of result.outcomes) {
    assert.deepEqual(Object.keys(outcome).sort(), ['decidedBy', 'delivery', 'dnat', 'masquerade', 'probability', 'steps', 'verdict']);
    assert.equal(outcome.verdict, 'ACCEPT');
    assert.equal(outcome.masquerade, false, 'a pod source in 192.168.0.0/16 is not masqueraded');
    for (const step of outcome.steps) {
      assert.ok(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'].includes(step.hook));
      assert.equal(typeof step.line, 'number');
      assert.equal(typeof step.explanation, 'string');
    }
    const dnatStep = outcome.steps.find((step: { rule: string }) => step.rule.includes('DNAT'));
    assert.match(dnatStep.rule, /^-A KUBE-SEP-/);
  }
});

test('the readable trace shows shares as percentages and each step with table, chain and line', () => {
  const run = netpath('trace', calico, '--dst', '10.105.250.129', '--dport', '80');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /33\.3%\s+ACCEPT\s+→ 192\.168\.0\.7:80/);
  assert.match(run.stdout, /PREROUTING\s+nat KUBE-SERVICES\s+\(line \d+\)/);
  assert.match(run.stdout, /Masqueraded by nat KUBE-POSTROUTING line \d+/);
  assert.match(run.stdout, /the source is 203\.0\.113\.10/);
});

test('services --json lists Service ports with endpoints and shares', () => {
  const run = netpath('services', calico, '--json');
  assert.equal(run.status, 0, run.stderr);
  const { services, mode } = JSON.parse(run.stdout);
  assert.equal(mode, 'iptables');
  const nginx = services.find((service: { id: string }) => service.id === 'default/nginx-basic:http');
  assert.deepEqual(nginx.clusterIP, { ip: '10.105.250.129', port: 80 });
  assert.equal(nginx.endpoints.length, 3);
  for (const endpoint of nginx.endpoints) assert.ok(Math.abs(endpoint.share - 1 / 3) < 1e-6);
});

test('bad usage and unreadable input exit 2 with one sentence and no stack trace', () => {
  const cases: [string[], RegExp][] = [
    [['trace', calico, '--dport', '80'], /trace needs --dst/],
    [['trace', calico, '--dst', '10.0.0.1', '--dport', '99999'], /not a port between 1 and 65535/],
    [['trace', calico, '--dst', 'fd00::1', '--dport', '80'], /IPv6 tracing is not supported yet/],
    [['trace', calico, '--dst', '10.0.0.1', '--dport', '80', '--proto', 'icmp'], /use tcp, udp or sctp/],
    [['trace', join(scratch, 'missing'), '--dst', '10.0.0.1', '--dport', '80'], /no such snapshot folder/],
    [['services'], /exactly one snapshot folder/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ];
  for (const [args, message] of cases) {
    const run = netpath(...args);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  }
});

test('a snapshot whose iptables-save.txt holds no table names the file and line', () => {
  const folder = join(scratch, 'garbage');
  mkdirSync(folder);
  writeFileSync(join(folder, 'iptables-save.txt'), 'hello\n-A INPUT -j ACCEPT\n');
  writeFileSync(join(folder, 'route-local.txt'), 'local 10.0.0.1 dev eth0\n');
  const run = netpath('trace', folder, '--dst', '10.0.0.1', '--dport', '80');
  assert.equal(run.status, 2);
  assert.match(run.stderr, /iptables-save\.txt line 2: rule outside any table/);
});

test('control characters in node-sourced comments are shown escaped, never sent to the terminal', () => {
  const folder = join(scratch, 'escape');
  mkdirSync(folder);
  writeFileSync(
    join(folder, 'iptables-save.txt'),
    '*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m comment --comment "\u001b[31mred\u001b[0m" -j DROP\nCOMMIT\n',
  );
  writeFileSync(join(folder, 'route-local.txt'), 'local 10.0.0.1 dev eth0\n');
  const run = netpath('trace', folder, '--dst', '10.9.9.9', '--dport', '80');
  assert.equal(run.status, 0, run.stderr);
  assert.ok(!run.stdout.includes('\u001b'), 'no raw escape character reaches the terminal');
  assert.match(run.stdout, /\\u001b\[31mred/);
});

test('--json escapes C1 controls and bidirectional overrides, and still parses back to the same text', () => {
  const folder = join(scratch, 'bidi');
  mkdirSync(folder);
  const comment = 'ns/a:b has no endpoints \u009b31m \u202eevil';
  writeFileSync(join(folder, 'iptables-save.txt'), `*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m comment --comment "${comment}" -j DROP\nCOMMIT\n`);
  writeFileSync(join(folder, 'route-local.txt'), 'local 10.0.0.1 dev eth0\n');
  const run = netpath('trace', folder, '--dst', '10.9.9.9', '--dport', '80', '--json');
  assert.equal(run.status, 0, run.stderr);
  assert.ok(!/[\u0080-\u009f\u202a-\u202e]/.test(run.stdout), 'no raw C1 or bidi character in the output');
  assert.match(run.stdout, /\\u009b31m \\u202eevil/);
  assert.ok(JSON.parse(run.stdout).outcomes[0].steps.at(-1).rule.includes(comment));
});

test('a reader that closes the pipe early ends the command quietly, with exit code 0', () => {
  // `true` exits without reading, long before node has started: every write netpath makes meets a closed pipe.
  const sample = resolve(root, 'samples', 'minikube-seed001');
  const piped = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${cli}" services "${sample}" --json | true`], { encoding: 'utf8' });
  assert.equal(piped.stderr, '');
  assert.equal(piped.status, 0);
});
