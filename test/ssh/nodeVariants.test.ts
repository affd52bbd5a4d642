// Nodes that differ from this machine, simulated in the sshd's ForceCommand wrapper: a distribution that ships
// only iptables-nft, an old iptables with only the plain iptables-save, a user without root privileges, and a
// backend whose save fails.
// The collector must pick the right file, keep meta.json honest and say what the user can do.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCollect } from '../../src/cli/collectCommand';
import type { CollectionMeta } from '../../src/node/collect/collectSnapshot';
import { notInstalledPrelude, sshdSkipReason, startSshd } from '../helpers/sshd';
import { createClientHome, recordingIo } from './sshClient';

const skip = sshdSkipReason() ?? false;
let work: string;

before(async () => {
  if (!skip) work = await mkdtemp(join(tmpdir(), 'npssh-variants-'));
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Collects from an sshd whose wrapper runs `prelude` first; returns meta.json and what was printed. */
async function collectWith(prelude: string, name: string): Promise<{ meta: CollectionMeta; err: string; out: string }> {
  // ipvsadm is made absent whatever this machine has, so `missingTools` is the same everywhere.
  const sshd = await startSshd({ wrapperPrelude: `${notInstalledPrelude('ipvsadm*')}\n${prelude}` });
  const client = await createClientHome(sshd, 'trusted');
  try {
    const out = join(work, name);
    const io = recordingIo(false);
    assert.equal(await runCollect(['testnode', '--out', out], io, { resolveContext: client.context }), 0, io.err.join(''));
    return { meta: JSON.parse(await readFile(join(out, 'meta.json'), 'utf8')) as CollectionMeta, err: io.err.join(''), out: io.out.join('') };
  } finally {
    await client.remove();
    await sshd.stop();
  }
}

test('a node with only iptables-nft: the legacy saves are recorded but not reported as missing tools', { skip }, async () => {
  const { meta, out } = await collectWith(notInstalledPrelude('*-legacy-save'), 'nft-only');
  assert.equal(meta.commands['iptables-legacy-save']!.status, 'missing');
  assert.equal(meta.commands['ip6tables-legacy-save']!.status, 'missing');
  assert.equal(meta.iptablesBackend, 'nft');
  assert.equal(meta.files['iptables-save.txt'], 'iptables-nft-save');
  assert.deepEqual(meta.missingTools, ['ipvsadm']);
  assert.match(out, /not installed on the node: ipvsadm\)/);
});

test('an old iptables without -nft/-legacy variants: the plain iptables-save is run instead', { skip }, async () => {
  const { meta } = await collectWith(notInstalledPrelude('*-legacy-save|*-nft-save'), 'old-iptables');
  assert.equal(meta.commands['iptables-save']!.status, 'ok');
  assert.equal(meta.commands['ip6tables-save']!.status, 'ok');
  assert.equal(meta.iptablesBackend, 'default');
  assert.equal(meta.files['iptables-save.txt'], 'iptables-save');
  assert.equal(meta.files['ip6tables-save.txt'], 'ip6tables-save');
  assert.deepEqual(meta.missingTools, ['ipvsadm']);
});

test('commands refused for lack of privileges are warned about with what to do', { skip }, async () => {
  const refuse =
    'case "$SSH_ORIGINAL_COMMAND" in iptables-*|ip6tables-*|nft*|ipset*) ' +
    'echo "$SSH_ORIGINAL_COMMAND: Could not fetch rule set generation id: Permission denied (you must be root)" >&2; exit 4 ;; esac';
  const { meta, err } = await collectWith(refuse, 'not-root');
  assert.equal(meta.commands['iptables-nft-save']!.status, 'failed');
  assert.equal(meta.commands['iptables-nft-save']!.exitCode, 4);
  assert.equal(meta.files['iptables-save.txt'], undefined);
  assert.equal(meta.iptablesBackend, null);
  assert.match(err, /warning: iptables-nft-save exited with status 4: iptables-nft-save: Could not fetch rule set generation id/);
  assert.match(err, /warning: Some commands were refused for lack of privileges; connect as root or add --sudo\./);
  // What did not need root was still collected.
  assert.equal(meta.files['route-local.txt'], 'ip route show table local');
});

test('when one backend fails, the other becomes iptables-save.txt only if it shows KUBE-* chains', { skip }, async () => {
  const nftFails = 'iptables-nft-save) echo "iptables-nft-save: netlink: Resource busy" >&2; exit 1 ;;';
  const emptyLegacy = await collectWith(`case "$SSH_ORIGINAL_COMMAND" in ${nftFails} iptables-legacy-save) exit 0 ;; esac`, 'nft-failed-empty');
  assert.equal(emptyLegacy.meta.files['iptables-save.txt'], undefined);
  assert.equal(emptyLegacy.meta.iptablesBackend, null);
  assert.match(emptyLegacy.err, /iptables-save\.txt was not written: iptables-nft-save did not complete/);

  const kubeLegacy = await collectWith(
    `case "$SSH_ORIGINAL_COMMAND" in ${nftFails} iptables-legacy-save) printf '*nat\\n:KUBE-SERVICES - [0:0]\\nCOMMIT\\n'; exit 0 ;; esac`,
    'nft-failed-kube-legacy',
  );
  assert.equal(kubeLegacy.meta.files['iptables-save.txt'], 'iptables-legacy-save');
  assert.equal(kubeLegacy.meta.iptablesBackend, 'legacy');
  assert.match(kubeLegacy.err, /warning: iptables-nft-save exited with status 1: iptables-nft-save: netlink: Resource busy/);
});

test('terminal escapes in the node name and in command stderr are printed inert', { skip }, async () => {
  const hostile =
    'case "$SSH_ORIGINAL_COMMAND" in "uname -n") printf "evil\\033[2Jnode\\n"; exit 0 ;; ' +
    'ipset*) printf "ipset: \\033]0;owned\\007 failed\\n" >&2; exit 1 ;; esac';
  const { meta, err, out } = await collectWith(hostile, 'hostile');
  assert.equal(meta.node, 'evil\u001b[2Jnode');
  assert.equal(/[\u001b\u0007]/.test(out + err), false, JSON.stringify(out + err));
  assert.ok(out.includes('Snapshot of evil\\u001b[2Jnode'), out);
  assert.ok(err.includes('ipset: \\u001b]0;owned\\u0007 failed'), err);
});
