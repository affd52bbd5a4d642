/**
 * The ipset and iptables halves of every IPVS snapshot folder (the seed 003 sample and the fixtures) load into a
 * real kernel: the parsed sets are written back as `ipset restore` input, loaded into a network namespace and
 * listed again, and iptables-save.txt is fed to iptables-restore there and saved again. This proves the files
 * are what the kernel accepts and prints, and that the ipset parser loses nothing. IPVS itself is not in this
 * kernel, so ipvsadm.txt is checked against kube-proxy's tests instead (kubeProxyCases.test.ts). Needs root.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { IpsetCollection } from '../../src/core/ipset/model';
import { parseIpset } from '../../src/core/ipset/parseIpset';

const namespace = `ipvsw${process.pid}l`;

function run(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(args[0]!, args.slice(1), { input, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

const inNamespace = (args: string[], input?: string) => run(['ip', 'netns', 'exec', namespace, ...args], input);

function available(): boolean {
  if (process.getuid?.() !== 0) return false;
  if (run(['ip', 'netns', 'add', namespace]).status !== 0) return false;
  run(['ip', 'netns', 'del', namespace]);
  return run(['which', 'ipset']).status === 0 && run(['which', 'iptables-restore']).status === 0;
}

/** `ipset restore` input for a parsed collection: one create line with the listed header, one add per member. */
function restoreScript(sets: IpsetCollection): string {
  const lines: string[] = [];
  for (const set of sets.sets) {
    const header = Object.entries(set.header).flatMap(([key, value]) => (value === '' ? [key] : [key, value]));
    lines.push(`create ${set.name} ${set.type} ${header.join(' ')}`.trim());
    for (const member of set.members) lines.push(`add ${set.name} ${member.element}`);
  }
  return `${lines.join('\n')}\n`;
}

const summary = (sets: IpsetCollection): string[] =>
  sets.sets.map((set) => `${set.name} ${set.type} ${set.family ?? ''} [${set.members.map((member) => member.element).sort().join(' ')}]`).sort();

/** Rule and chain lines without comments and without chain counters, which count packets seen while capturing. */
const rulesOf = (text: string): string[] =>
  text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => line.replace(/ \[\d+:\d+\]$/, ''));

const folders = ['samples/ipvs-seed003', ...readdirSync('test/fixtures').filter((name) => name.startsWith('ipvs-')).sort().map((name) => `test/fixtures/${name}`)];

describe('IPVS snapshot folders load into the kernel', { skip: !available() && 'needs root, ip netns, ipset and iptables-restore' }, () => {
  for (const folder of folders) {
    test(folder, () => {
      const original = parseIpset(readFileSync(`${folder}/ipset.txt`, 'utf8'));
      assert.deepEqual(original.diagnostics, []);
      assert.equal(run(['ip', 'netns', 'add', namespace]).status, 0);
      try {
        const restored = inNamespace(['ipset', 'restore'], restoreScript(original.value));
        assert.equal(restored.status, 0, restored.stderr);
        const listed = parseIpset(inNamespace(['ipset', '-L']).stdout);
        assert.deepEqual(summary(listed.value), summary(original.value));

        // An IPv6 node's rules are in ip6tables-save.txt.
        const v6 = existsSync(`${folder}/ip6tables-save.txt`) && !existsSync(`${folder}/iptables-save.txt`);
        const rules = readFileSync(`${folder}/${v6 ? 'ip6tables-save.txt' : 'iptables-save.txt'}`, 'utf8');
        const loaded = inNamespace([v6 ? 'ip6tables-restore' : 'iptables-restore'], rules);
        assert.equal(loaded.status, 0, loaded.stderr);
        assert.deepEqual(rulesOf(inNamespace([v6 ? 'ip6tables-save' : 'iptables-save']).stdout), rulesOf(rules));
      } finally {
        run(['ip', 'netns', 'del', namespace]);
      }
    });
  }
});
