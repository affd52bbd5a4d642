// End to end: a network namespace holding kube-proxy's iptables rules and an ipset plays the node, a real
// OpenSSH sshd runs every command inside it, and `netpath collect` gathers the snapshot. Each file must equal
// what the same command prints in the namespace, meta.json must record the missing ipvsadm, and the core
// tracer must answer on the collected folder.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCollect } from '../../src/cli/collectCommand';
import { analyzeSnapshot } from '../../src/core/analyze';
import { SNAPSHOT_FILES } from '../../src/core/snapshot';
import type { Snapshot } from '../../src/core/snapshot';
import { tracePacket } from '../../src/core/trace/tracePacket';
import type { CollectionMeta } from '../../src/node/collect/collectSnapshot';
import { notInstalledPrelude, sshdSkipReason, startSshd } from '../helpers/sshd';
import type { Sshd } from '../helpers/sshd';
import { createNodeNamespace, NODE_IP, namespaceSkipReason, withoutComments } from './nodeNamespace';
import type { NodeNamespace } from './nodeNamespace';
import { createClientHome, recordingIo } from './sshClient';

const run = promisify(execFile);
const skipReason = sshdSkipReason() ?? namespaceSkipReason();

let ns: NodeNamespace | undefined;
let sshd: Sshd | undefined;
let work: string;

before(async () => {
  if (skipReason) return;
  work = await mkdtemp(join(tmpdir(), 'npssh-e2e-'));
  ns = await createNodeNamespace({ legacyRule: true });
  // The node has no ipvsadm (iptables mode), whatever this machine has installed.
  sshd = await startSshd({ netns: ns.name, wrapperPrelude: notInstalledPrelude('ipvsadm*') });
});

after(async () => {
  await sshd?.stop();
  await ns?.remove();
  if (work) await rm(work, { recursive: true, force: true });
});

async function readSnapshot(dir: string): Promise<Snapshot> {
  const files: Snapshot['files'] = {};
  for (const name of SNAPSHOT_FILES) {
    try {
      files[name] = await readFile(join(dir, name), 'utf8');
    } catch {
      // Not collected.
    }
  }
  return { name: dir, files };
}

test('collect through sshd: every file equals the command run in the node namespace', { skip: skipReason ?? false }, async (t) => {
  const client = await createClientHome(sshd!, 'trusted');
  try {
    const out = join(work, 'snapshot');
    const io = recordingIo(true);
    const code = await runCollect(['testnode', '--out', out], io, { resolveContext: client.context });
    assert.equal(code, 0, io.err.join(''));

    const listed = (await readdir(out)).sort();
    const legacy = ns!.hasLegacyRule;
    if (!legacy) t.diagnostic('iptables-legacy took no rule in this kernel: the two-backend case is not checked here');
    assert.deepEqual(listed, [
      'addr.txt',
      'ip6tables-save.txt',
      'ipset.txt',
      ...(legacy ? ['iptables-legacy-save.txt'] : []),
      'iptables-save.txt',
      'meta.json',
      'nft.txt',
      'route-local.txt',
      'route-main.txt',
    ]);
    const file = (name: string) => readFile(join(out, name), 'utf8');

    // iptables-save's `#` lines carry the time of the save; everything else must match byte for byte.
    assert.equal(withoutComments(await file('iptables-save.txt')), withoutComments(await ns!.exec(['iptables-save'])));
    if (legacy) assert.equal(withoutComments(await file('iptables-legacy-save.txt')), withoutComments(await ns!.exec(['iptables-legacy-save'])));
    assert.match(await file('iptables-save.txt'), /:KUBE-SVC-WEBHTTP7QK2M4Z5X/);
    assert.equal(await file('ipset.txt'), await ns!.exec(['ipset', '-L']));
    assert.equal(await file('route-local.txt'), await ns!.exec(['ip', 'route', 'show', 'table', 'local']));
    assert.equal(await file('route-main.txt'), await ns!.exec(['ip', 'route', 'show', 'table', 'main']));
    assert.equal(await file('addr.txt'), await ns!.exec(['ip', '-o', 'addr', 'show']));
    assert.equal(await file('nft.txt'), await ns!.exec(['nft', 'list', 'ruleset']));
    assert.match(await file('route-local.txt'), new RegExp(`local ${NODE_IP.replace(/\./g, '\\.')} dev eth0`));

    const meta = JSON.parse(await file('meta.json')) as CollectionMeta;
    assert.equal(meta.complete, true);
    assert.equal(meta.node, (await ns!.exec(['uname', '-n'])).trim());
    assert.equal(meta.address, `127.0.0.1:${sshd!.port}`);
    assert.equal(meta.iptablesBackend, 'nft');
    assert.equal(meta.files['iptables-save.txt'], 'iptables-nft-save');
    if (legacy) {
      // Both backends hold rules: both kept, with a warning.
      assert.equal(meta.files['iptables-legacy-save.txt'], 'iptables-legacy-save');
      assert.ok(meta.warnings.some((warning) => warning.includes('Both iptables backends')), meta.warnings.join('\n'));
    }
    // ipvsadm is not installed on the node: recorded, not fatal.
    assert.deepEqual(meta.missingTools, ['ipvsadm']);
    assert.equal(meta.commands['ipvsadm -Ln']!.status, 'missing');
    assert.equal(meta.commands['ipvsadm -Ln']!.exitCode, 127);
    assert.equal(meta.commands['ipvsadm -Ln']!.file, null);
    for (const [id, record] of Object.entries(meta.commands)) {
      assert.ok(Array.isArray(record.argv) && record.argv.length > 0, id);
      assert.equal(typeof record.milliseconds, 'number', id);
      if (record.file) assert.equal((await stat(join(out, record.file))).size, record.bytes, `${id} bytes`);
    }

    // A progress line per command on a terminal, then the summary.
    const printed = io.out.join('');
    for (const id of ['iptables-nft-save', 'ipset -L', 'ipvsadm -Ln', 'ip route show table local']) assert.ok(printed.includes(`  ${id} `), printed);
    assert.match(printed, /not installed/);
    assert.match(printed, /Snapshot of .* written to /);

    // The tracer answers on the collected folder: a pod on another node reaching the ClusterIP, and an
    // outside client reaching the NodePort (masqueraded, as kube-proxy's KUBE-EXT chain marks it).
    const analysis = analyzeSnapshot(await readSnapshot(out));
    assert.equal(analysis.mode, 'iptables');
    const clusterIp = tracePacket(analysis, { src: '10.244.3.7', dst: '10.96.100.10', proto: 'tcp', sport: 40000, dport: 80 });
    assert.equal(clusterIp.service, 'default/web:http');
    assert.deepEqual(
      clusterIp.outcomes.map((o) => [o.dnat, o.probability, o.verdict, o.masquerade]).sort(),
      [
        [{ ip: '10.244.1.5', port: 8080 }, 0.5, 'ACCEPT', false],
        [{ ip: '10.244.2.6', port: 8080 }, 0.5, 'ACCEPT', false],
      ],
    );
    const nodePort = tracePacket(analysis, { src: '192.168.50.99', dst: NODE_IP, proto: 'tcp', sport: 40000, dport: 30080 });
    assert.equal(nodePort.outcomes.length, 2);
    assert.ok(nodePort.outcomes.every((o) => o.masquerade && o.delivery === 'forward'), JSON.stringify(nodePort.outcomes));
  } finally {
    await client.remove();
  }
});

test('kube-proxy rules in the legacy backend: iptables-save.txt comes from iptables-legacy-save', { skip: skipReason ?? false }, async (t) => {
  let legacyNs: NodeNamespace;
  try {
    legacyNs = await createNodeNamespace({ backend: 'legacy', suffix: 'legacy' });
  } catch (error) {
    t.skip(`iptables-legacy-restore is not usable here: ${(error as Error).message.split('\n')[0]}`);
    return;
  }
  const legacySshd = await startSshd({ netns: legacyNs.name });
  const client = await createClientHome(legacySshd, 'trusted');
  try {
    const out = join(work, 'legacy');
    const io = recordingIo(false);
    assert.equal(await runCollect(['testnode', '--out', out], io, { resolveContext: client.context }), 0, io.err.join(''));
    const saved = await readFile(join(out, 'iptables-save.txt'), 'utf8');
    assert.equal(withoutComments(saved), withoutComments(await legacyNs.exec(['iptables-legacy-save'])));
    assert.match(saved, /:KUBE-SVC-WEBHTTP7QK2M4Z5X/);
    const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8')) as CollectionMeta;
    assert.equal(meta.iptablesBackend, 'legacy');
    assert.equal(meta.files['iptables-save.txt'], 'iptables-legacy-save');
    // The nft backend holds no rules here, so it is not kept and nothing warns about two backends.
    assert.equal(existsSync(join(out, 'iptables-nft-save.txt')), false);
    assert.equal(meta.warnings.some((warning) => warning.includes('Both iptables backends')), false);
  } finally {
    await client.remove();
    await legacySshd.stop();
    await legacyNs.remove();
  }
});

test('the built netpath binary collects with ~/.ssh/config from HOME, and netpath trace answers on the folder', {
  skip: skipReason ?? (existsSync('dist/cli.js') ? false : 'dist/cli.js is not built (npm run build)'),
}, async () => {
  const client = await createClientHome(sshd!, 'trusted');
  try {
    const out = join(work, 'via-binary');
    const env = { ...process.env, HOME: client.home, SSH_AUTH_SOCK: '' };
    const collected = await run(process.execPath, ['dist/cli.js', 'collect', 'testnode', '--out', out], { env });
    assert.match(collected.stdout, /Snapshot of .* written to /);
    const traced = await run(process.execPath, [
      'dist/cli.js', 'trace', out, '--src', '10.244.3.7', '--dst', '10.96.100.10', '--dport', '80', '--proto', 'tcp', '--json',
    ]);
    const result = JSON.parse(traced.stdout) as { mode: string; service: string; outcomes: { probability: number; dnat: { ip: string; port: number } }[] };
    assert.equal(result.mode, 'iptables');
    assert.equal(result.service, 'default/web:http');
    assert.deepEqual(
      result.outcomes.map((o) => `${o.dnat.ip}:${o.dnat.port} ${o.probability}`).sort(),
      ['10.244.1.5:8080 0.5', '10.244.2.6:8080 0.5'],
    );
  } finally {
    await client.remove();
  }
});

test('collection time compared with one plain ssh iptables-save on the same sshd', { skip: skipReason ?? false }, async (t) => {
  const client = await createClientHome(sshd!, 'trusted');
  try {
    const rounds = 5;
    const plain: number[] = [];
    const collected: number[] = [];
    const binary: number[] = [];
    const haveBinary = existsSync('dist/cli.js');
    for (let round = 0; round < rounds; round++) {
      let started = performance.now();
      await run('ssh', [
        '-p', String(sshd!.port),
        '-i', sshd!.clientKeyPath,
        '-o', 'BatchMode=yes',
        '-o', 'StrictHostKeyChecking=yes',
        '-o', `UserKnownHostsFile=${client.knownHosts}`,
        '-o', 'GlobalKnownHostsFile=/dev/null',
        '-F', '/dev/null',
        'root@127.0.0.1',
        'iptables-save',
      ]);
      plain.push(performance.now() - started);
      started = performance.now();
      const io = recordingIo(false);
      const code = await runCollect(['testnode', '--out', join(work, `timed-${round}`)], io, { resolveContext: client.context });
      collected.push(performance.now() - started);
      assert.equal(code, 0, io.err.join(''));
      if (haveBinary) {
        // The whole command as a user runs it: Node start-up, ~/.ssh/config, connection, collection.
        started = performance.now();
        await run(process.execPath, ['dist/cli.js', 'collect', 'testnode', '--out', join(work, `timed-bin-${round}`)], {
          env: { ...process.env, HOME: client.home, SSH_AUTH_SOCK: '' },
        });
        binary.push(performance.now() - started);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const list = (values: number[]) => values.map((v) => v.toFixed(0)).join(' ');
    const report =
      `median of ${rounds}: plain \`ssh iptables-save\` ${median(plain).toFixed(0)} ms [${list(plain)}], ` +
      `collectSnapshot in-process (11 commands, snapshot folder) ${median(collected).toFixed(0)} ms [${list(collected)}]` +
      (haveBinary ? `, \`node dist/cli.js collect\` ${median(binary).toFixed(0)} ms [${list(binary)}]` : '');
    t.diagnostic(report);
  } finally {
    await client.remove();
  }
});
